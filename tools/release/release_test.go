package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fixture copies testdata/manifests (a small prod overlay with blue and green
// Deployments of report and reviewer) into a temporary folder.
func fixture(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := os.CopyFS(dst, os.DirFS("testdata/manifests"))
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func releasePath(root, app string) string {
	return filepath.Join(root, "overlays", "prod", "release", app+".yaml")
}

type traffic struct {
	stable, canary             string // colours
	stableWeight, canaryWeight int
}

func readTraffic(t *testing.T, root, app string) traffic {
	t.Helper()
	src, err := os.ReadFile(releasePath(root, app))
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseRelease(app, src)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := r.subset(stable)
	ca, _ := r.subset(canary)
	atoi := func(s string) int {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("weight %q: %v", s, err)
		}
		return n
	}
	return traffic{st.colour(), ca.colour(), atoi(r.weightOf(stable).Value), atoi(r.weightOf(canary).Value)}
}

func runRelease(t *testing.T, root string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(append([]string{"-root", root}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// snapshot returns every file under root, to prove a refusal wrote nothing.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestAReleaseMovesTrafficThroughCanaryPromoteRollbackAndSwitch(t *testing.T) {
	root := fixture(t)
	steps := []struct {
		args []string
		want traffic
	}{
		{[]string{"canary", "10"}, traffic{"blue", "green", 90, 10}},
		{[]string{"canary", "50"}, traffic{"blue", "green", 50, 50}},
		{[]string{"promote"}, traffic{"green", "blue", 100, 0}},
		{[]string{"canary", "25"}, traffic{"green", "blue", 75, 25}},
		{[]string{"rollback"}, traffic{"green", "blue", 100, 0}},
		{[]string{"switch", "blue"}, traffic{"blue", "green", 100, 0}},
		{[]string{"canary", "100"}, traffic{"blue", "green", 0, 100}},
		{[]string{"switch", "green"}, traffic{"green", "blue", 100, 0}},
		{[]string{"switch", "green"}, traffic{"green", "blue", 100, 0}},
		{[]string{"canary", "0"}, traffic{"green", "blue", 100, 0}},
	}
	for _, s := range steps {
		code, _, stderr := runRelease(t, root, s.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", s.args, code, stderr)
		}
		for _, app := range []string{"report", "reviewer"} {
			if got := readTraffic(t, root, app); got != s.want {
				t.Fatalf("after %v, %s: got %+v, want %+v", s.args, app, got, s.want)
			}
		}
	}
}

func TestARewriteKeepsCommentsLayoutAndQuotingAndPrintsTheDiff(t *testing.T) {
	root := fixture(t)
	before, _ := os.ReadFile(releasePath(root, "report"))
	code, stdout, stderr := runRelease(t, root, "-app", "report", "promote")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	after, _ := os.ReadFile(releasePath(root, "report"))
	// The fixture has stable on "blue" (double-quoted) and green plain: the
	// swap keeps each scalar's own style, and the trailing comment stays.
	want := strings.NewReplacer(`version: "blue"`, `version: "green"`, "version: green", "version: blue").Replace(string(before))
	if string(after) != want {
		t.Fatalf("promote rewrote more than the two colours:\n%s", after)
	}
	for _, line := range []string{`-        version: "blue"`, `+        version: "green"`, "-        version: green", "+        version: blue"} {
		if !strings.Contains(stdout, line+"\n") {
			t.Errorf("diff lacks %q:\n%s", line, stdout)
		}
	}
	if !strings.Contains(string(after), "weight: 100 # stable share") {
		t.Errorf("comment lost:\n%s", after)
	}
}

func TestAppRewritesOnlyThatApp(t *testing.T) {
	root := fixture(t)
	if code, _, stderr := runRelease(t, root, "-app", "reviewer", "canary", "30"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := readTraffic(t, root, "reviewer"); got != (traffic{"blue", "green", 70, 30}) {
		t.Errorf("reviewer: %+v", got)
	}
	if got := readTraffic(t, root, "report"); got != (traffic{"blue", "green", 100, 0}) {
		t.Errorf("report changed: %+v", got)
	}
}

func TestInvalidStatesAreRefusedAndChangeNothing(t *testing.T) {
	cases := []struct {
		name  string
		spoil func(t *testing.T, root string) // makes the overlay invalid first
		args  []string
		code  int
		says  string
	}{
		{name: "weight above 100", args: []string{"canary", "101"}, code: 1, says: "outside 0-100"},
		{name: "negative weight", args: []string{"canary", "-1"}, code: 1, says: "outside 0-100"},
		{name: "weight not a number", args: []string{"canary", "10%"}, code: 1, says: "not a whole number"},
		{name: "unknown colour", args: []string{"switch", "red"}, code: 1, says: "colours are blue and green"},
		{name: "unknown command", args: []string{"deploy"}, code: 2, says: "unknown command"},
		{name: "missing weight", args: []string{"canary"}, code: 2, says: "takes 1 argument"},
		{name: "unknown app", args: []string{"-app", "ledger", "rollback"}, code: 1, says: `unknown app "ledger"`},
		{
			name: "subset whose colour has no Deployment",
			spoil: func(t *testing.T, root string) {
				replaceIn(t, filepath.Join(root, "overlays/prod/colours.yaml"), "{app: reviewer, version: green}", "{app: reviewer, version: grey}")
			},
			args: []string{"canary", "10"}, code: 1, says: "no Deployment in the prod overlay has pods labelled app=reviewer,version=green",
		},
		{
			name: "weights in the file do not sum to 100",
			spoil: func(t *testing.T, root string) {
				replaceIn(t, releasePath(root, "reviewer"), "weight: 100 # stable share", "weight: 90")
			},
			args: []string{"promote"}, code: 1, says: "weights sum to 90, not 100",
		},
		{
			name: "a route to a subset the DestinationRule lacks",
			spoil: func(t *testing.T, root string) {
				replaceIn(t, releasePath(root, "report"), "subset: canary\n          weight: 100", "subset: beta\n          weight: 100")
			},
			args: []string{"rollback"}, code: 1, says: "x-canary",
		},
		{
			name: "stable and canary on one colour",
			spoil: func(t *testing.T, root string) {
				replaceIn(t, releasePath(root, "report"), "version: green", `version: blue`)
			},
			args: []string{"canary", "5"}, code: 1, says: "both select version blue",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := fixture(t)
			if c.spoil != nil {
				c.spoil(t, root)
			}
			before := snapshot(t, root)
			code, _, stderr := runRelease(t, root, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d (stderr: %s)", code, c.code, stderr)
			}
			if !strings.Contains(stderr, c.says) {
				t.Errorf("stderr %q does not say %q", stderr, c.says)
			}
			after := snapshot(t, root)
			if len(after) != len(before) {
				t.Fatalf("files added or removed: %d -> %d", len(before), len(after))
			}
			for path, b := range before {
				if after[path] != b {
					t.Errorf("%s changed", path)
				}
			}
		})
	}
}

func replaceIn(t *testing.T, path string, oldNew ...string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(oldNew); i += 2 {
		if !bytes.Contains(b, []byte(oldNew[i])) {
			t.Fatalf("%s lacks %q", path, oldNew[i])
		}
		b = bytes.ReplaceAll(b, []byte(oldNew[i]), []byte(oldNew[i+1]))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
