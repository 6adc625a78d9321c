package main

// The samples in testdata/harness are the logs of one end-to-end run (the
// README walkthrough's round, case c_0c1937bfe3c92efcd323, then a second
// round, case c_b93dff0b2a1b45782773) as the test harness wrote them, with
// PostgreSQL's and Jaeger's logs beside them.

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	walkthroughCase   = "c_0c1937bfe3c92efcd323"
	walkthroughReport = "r_fae5870caf0e8d4d1050"
	secondCase        = "c_b93dff0b2a1b45782773"
	secondReport      = "r_3320ec41a46efd69234f"
)

var sampleNow = time.Date(2026, 12, 1, 22, 12, 0, 0, time.UTC)

// search runs the command on dir and returns its output lines.
func search(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(append([]string{"-dir", dir}, args...), &out, &errOut, sampleNow); err != nil {
		t.Fatalf("logs %v: %v\n%s", args, err, errOut.String())
	}
	if out.Len() == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
}

// column i (0 time, 1 service, 2 level) of an output line.
func column(line string, i int) string { return strings.Fields(line)[i] }

// message is an output line's message start: what follows the level.
func message(line string) string {
	f := strings.Fields(line)
	return strings.Join(f[3:], " ")
}

func TestACaseStoryIsMergedAcrossTheServicesInTimeOrder(t *testing.T) {
	lines := search(t, "testdata/harness", "-case", walkthroughCase)
	want := []struct{ service, msg string }{
		{"report", "report filed"},
		{"report-dapr", "round-" + walkthroughCase + ": starting new 'Round' instance"},
		{"report", "round started"},
		{"reviewer", "jury drawn"},
		{"report", "jury drawn"},
		{"report", "vote recorded case_id=" + walkthroughCase + " juror_id=alice"},
		{"report", "vote recorded case_id=" + walkthroughCase + " juror_id=bob"},
		{"report", "case decided"},
		{"report-dapr", "round-" + walkthroughCase + ": 'Round' completed"},
		{"report-dapr", "Workflow Actor 'round-" + walkthroughCase + "': workflow completed"},
		{"reviewer", "decision recorded"},
		{"reward", "jurors credited"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), strings.Join(lines, "\n"))
	}
	var last time.Time
	for i, w := range want {
		l := lines[i]
		if column(l, 1) != w.service || !strings.HasPrefix(message(l), w.msg) {
			t.Errorf("line %d: %s\nwant %s: %s...", i+1, l, w.service, w.msg)
		}
		at, err := time.Parse(time.RFC3339, column(l, 0))
		if err != nil || at.Before(last) {
			t.Errorf("line %d: time %s out of order (after %s) or unreadable: %v", i+1, column(l, 0), last, err)
		}
		last = at
		if strings.Contains(l, secondCase) {
			t.Errorf("line %d is the other case's: %s", i+1, l)
		}
	}
}

func TestAReportBringsTheCaseItOpened(t *testing.T) {
	lines := search(t, "testdata/harness", "-report", walkthroughReport)
	if len(lines) == 0 || !strings.Contains(lines[0], "report_id="+walkthroughReport) {
		t.Fatalf("first line should be the report's own: %v", lines)
	}
	// Nothing but the report's line names it; the rest is its case's story.
	if got := column(lines[len(lines)-1], 1); got != "reward" || !strings.Contains(lines[len(lines)-1], "jurors credited") {
		t.Errorf("the story should end with the reward service crediting: %s", lines[len(lines)-1])
	}
	if other := search(t, "testdata/harness", "-report", secondReport); slices.ContainsFunc(other, func(l string) bool {
		return strings.Contains(l, walkthroughCase)
	}) {
		t.Error("the second report's story holds the first case's lines")
	}
}

func TestAUserIsFoundAsAJurorButNotInsideLongerIDs(t *testing.T) {
	lines := search(t, "testdata/harness", "-user", "bob")
	if len(lines) != 2 {
		t.Fatalf("bob voted in both rounds; got %d lines:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if !strings.Contains(l, "vote recorded") || !strings.Contains(l, "juror_id=bob") {
			t.Errorf("unexpected line for bob: %s", l)
		}
	}
	seeded := search(t, "testdata/harness", "-user", "juror-1796163080315402460-0")
	if len(seeded) != 1 {
		t.Errorf("a seeded juror's one vote: got %v", seeded)
	}
	if got := search(t, "testdata/harness", "-user", "juror-1796163080315402460"); len(got) != 0 {
		t.Errorf("a prefix of a user id matched: %v", got)
	}
}

func TestIdsMatchWholeTokensOnly(t *testing.T) {
	for _, c := range []struct {
		s, id string
		want  bool
	}{
		{"round-c_1: started", "c_1", true},
		{"c_1/jury", "c_1", true},
		{"'round-c_1'", "c_1", true},
		{"c_12", "c_1", false},
		{"xc_1", "c_1", false},
		{"c_1", "c_1", true},
		{"c_12 and c_1", "c_1", true},
		{"anything", "", false},
	} {
		if got := containsToken(c.s, c.id); got != c.want {
			t.Errorf("containsToken(%q, %q) = %v", c.s, c.id, got)
		}
	}
	if got := search(t, "testdata/harness", "-case", walkthroughCase[:10]); len(got) != 0 {
		t.Errorf("a prefix of a case id matched %d lines", len(got))
	}
}

func TestServiceAndLevelNarrowTheLines(t *testing.T) {
	all := search(t, "testdata/harness", "-service", "report")
	sidecar := search(t, "testdata/harness", "-service", "report-dapr")
	if len(sidecar) == 0 || len(sidecar) >= len(all) {
		t.Fatalf("report: %d lines, its sidecar alone: %d", len(all), len(sidecar))
	}
	for _, l := range all {
		if s := column(l, 1); s != "report" && s != "report-dapr" {
			t.Errorf("SERVICE=report printed %s", l)
		}
	}
	for _, l := range sidecar {
		if column(l, 1) != "report-dapr" {
			t.Errorf("SERVICE=report-dapr printed %s", l)
		}
	}
	warn := search(t, "testdata/harness", "-level", "warn")
	if len(warn) == 0 {
		t.Fatal("the samples hold warnings (daprd's), none found")
	}
	for _, l := range warn {
		if lv := column(l, 2); lv != "WARN" && lv != "ERROR" && lv != "FATAL" {
			t.Errorf("LEVEL=warn printed %s", l)
		}
	}
	both := search(t, "testdata/harness", "-service", "reviewer,reward", "-level", "warn")
	for _, l := range both {
		if s := column(l, 1); !strings.HasPrefix(s, "reviewer") && !strings.HasPrefix(s, "reward") {
			t.Errorf("SERVICE=reviewer,reward printed %s", l)
		}
	}
}

func TestTimeRangeAndDurations(t *testing.T) {
	lines := search(t, "testdata/harness", "-case", walkthroughCase,
		"-since", "2026-12-01T22:11:14Z", "-until", "2026-12-01T22:11:15Z")
	var msgs []string
	for _, l := range lines {
		msgs = append(msgs, strings.SplitN(message(l), " case_id", 2)[0])
	}
	want := []string{"vote recorded", "vote recorded", "case decided"}
	if len(msgs) < len(want) || !slices.Equal(msgs[:3], want) {
		t.Errorf("22:11:14 to 22:11:15: %q", msgs)
	}
	// sampleNow is 22:12:00: 40 s back is 22:11:20, after the first round.
	if got := search(t, "testdata/harness", "-case", walkthroughCase, "-since", "40s"); len(got) != 0 {
		t.Errorf("SINCE=40s still shows the first round: %v", got)
	}
	if got := search(t, "testdata/harness", "-case", secondCase, "-since", "40s"); len(got) == 0 {
		t.Error("SINCE=40s lost the second round")
	}
	if _, err := ParseTime("yesterday", sampleNow); err == nil {
		t.Error("ParseTime accepted yesterday")
	}
}

func TestATraceIsFoundByItsTraceparent(t *testing.T) {
	lines := search(t, "testdata/harness", "-trace", "FDC3C7B2CD040633F681103840D4C626")
	if len(lines) != 1 || !strings.Contains(lines[0], "route=/internal/juries") || column(lines[0], 1) != "reviewer" {
		t.Errorf("the jury draw's request: %v", lines)
	}
}

func TestOnlyThePlatformsLinesAreShown(t *testing.T) {
	lines := search(t, "testdata/harness")
	services := map[string]int{}
	for _, l := range lines {
		services[column(l, 1)]++
	}
	for s := range services {
		if !slices.Contains([]string{"report", "reviewer", "reward", "report-dapr", "reviewer-dapr", "reward-dapr"}, s) {
			t.Errorf("service %s (%d lines) is not an app or a sidecar", s, services[s])
		}
	}
	// Jaeger's JSON lines and PostgreSQL's lines are left out; an app's
	// plain lines (the workflow client's) are kept, in place.
	if slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, "ui assets") || strings.Contains(l, "database system") }) {
		t.Error("a line of Jaeger or PostgreSQL was printed")
	}
	i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "connecting work item listener stream") })
	if i < 0 || column(lines[i], 1) != "report" {
		t.Fatalf("the report app's plain line is missing or misnamed")
	}
	if got := search(t, "testdata/harness", "-case", walkthroughCase); slices.ContainsFunc(got, func(l string) bool { return strings.Contains(l, "work item") }) {
		t.Error("a plain line matched a case")
	}
}

// make run's dapr CLI names the files <app>_app_<time>.log and
// <app>_daprd_<time>.log beside each app; the same lines give the same story.
func TestTheDaprCLIsLayoutReadsTheSame(t *testing.T) {
	root := t.TempDir()
	for _, app := range []string{"report", "reviewer", "reward"} {
		dir := filepath.Join(root, "apps", app, ".dapr", "logs")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for from, to := range map[string]string{app + ".log": app + "_app_20261201221110.log", app + "-dapr.log": app + "_daprd_20261201221110.log"} {
			raw, err := os.ReadFile(filepath.Join("testdata/harness", from))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, to), raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"-root", root, "-profile", "run", "-case", walkthroughCase}, &out, &errOut, sampleNow); err != nil {
		t.Fatal(err, errOut.String())
	}
	want := strings.Join(search(t, "testdata/harness", "-case", walkthroughCase), "\n") + "\n"
	if out.String() != want {
		t.Errorf("make run layout:\n%s\nharness layout:\n%s", out.String(), want)
	}
	if FileService("report_daprd_20261201221110.log") != "report-dapr" || FileService("reward-2.log") != "reward" ||
		FileService("report-2-dapr.log") != "report-dapr" || FileService("postgres.log") != "" {
		t.Error("FileService names files wrongly")
	}
}

func TestNoLogsIsAnErrorThatSaysWhy(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run([]string{"-root", t.TempDir(), "-profile", "run"}, &out, &errOut, sampleNow)
	if err == nil || !strings.Contains(err.Error(), "make run") {
		t.Errorf("no log files: %v", err)
	}
}

func TestFormatPutsTheIdsFirst(t *testing.T) {
	recs, err := Read(strings.NewReader(
		`{"time":"2026-12-01T22:11:12.23670371Z","level":"INFO","msg":"http request","service":"reviewer","method":"POST","route":"/internal/juries","status":200,"elapsed":8632085,"case_id":"c_1","note":"two words"}`),
		"reviewer.log")
	if err != nil || len(recs) != 1 {
		t.Fatal(recs, err)
	}
	want := `2026-12-01T22:11:12.236Z reviewer      INFO  http request case_id=c_1 elapsed=8.632085ms method=POST note="two words" route=/internal/juries status=200`
	if got := Format(recs[0]); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
