package e2e

import (
	"testing"
	"time"
)

// A case-decided message delivered again (at-least-once delivery) credits no
// one a second time.
func TestRedeliveredCaseDecidedCreditsNothingTwice(t *testing.T) {
	ctx := ctxT(t)
	rc, _ := fileReport(t, ctx, "review")
	jurors := jurorsOf(t, ctx, rc.CaseID, 5)
	for _, j := range jurors[:3] {
		resp, err := vote(ctx, rc.CaseID, j, "uphold")
		must(t, resp, err, 202)
	}
	c := waitClosed(t, ctx, rc.CaseID, 20*time.Second)
	for _, j := range jurors[:3] {
		eventually(t, "first credit", 20*time.Second, func() (bool, string) {
			n, _ := accountOf(t, ctx, j).creditsFor(rc.CaseID)
			return n == 1, "no credit yet"
		})
	}
	before := map[string]int64{}
	for _, j := range jurors[:3] {
		before[j] = accountOf(t, ctx, j).Balance
	}

	event := map[string]any{
		"case_id": rc.CaseID, "target": c["target"], "decision": "upheld", "decided_at": c["decided_at"],
		"tally": c["tally"], "jurors": c["jurors"],
		"votes": []map[string]string{
			{"juror_id": jurors[0], "decision": "uphold"},
			{"juror_id": jurors[1], "decision": "uphold"},
			{"juror_id": jurors[2], "decision": "uphold"},
		},
	}
	sidecar := plat.Sidecar("report")
	for range 3 {
		if err := sidecar.Publish(ctx, "pubsub", "case-decided", event); err != nil {
			t.Fatal(err)
		}
	}
	// A marker event published after the copies: once its credit lands, the
	// copies before it on the same stream have been processed.
	marker := unique("marker-juror")
	markerCase := unique("c_marker")
	if err := sidecar.Publish(ctx, "pubsub", "case-decided", map[string]any{
		"case_id": markerCase, "target": c["target"], "decision": "rejected", "decided_at": c["decided_at"],
		"tally": map[string]int{"uphold": 0, "reject": 1}, "jurors": []string{marker},
		"votes": []map[string]string{{"juror_id": marker, "decision": "reject"}},
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "marker credited", 20*time.Second, func() (bool, string) {
		n, _ := accountOf(t, ctx, marker).creditsFor(markerCase)
		return n == 1, "marker not yet credited"
	})
	for _, j := range jurors[:3] {
		a := accountOf(t, ctx, j)
		if n, _ := a.creditsFor(rc.CaseID); n != 1 || a.Balance != before[j] {
			t.Fatalf("juror %s: %d credits for the case, balance %d (was %d) after redelivery", j, n, a.Balance, before[j])
		}
	}
}

// kill -9 of the report app (or its sidecar) while a round is open: after a
// restart, the round takes the remaining votes and decides.
func TestRoundSurvivesKillOfReportApp(t *testing.T) {
	testRoundSurvivesKill(t, "report")
}

func TestRoundSurvivesKillOfReportSidecar(t *testing.T) {
	testRoundSurvivesKill(t, "report-dapr")
}

func testRoundSurvivesKill(t *testing.T, process string) {
	ctx := ctxT(t)
	rc, _ := fileReport(t, ctx, "chat")
	jurors := jurorsOf(t, ctx, rc.CaseID, 5)
	resp, err := vote(ctx, rc.CaseID, jurors[0], "reject")
	must(t, resp, err, 202)

	if err := plat.Kill(process); err != nil {
		t.Fatal(err)
	}
	var start func(string) error = plat.StartApp
	if process == "report-dapr" {
		start = plat.StartSidecar
	}
	if err := start("report"); err != nil {
		t.Fatal(err)
	}
	if err := plat.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	for _, j := range jurors[1:3] {
		eventually(t, "vote accepted after restart", 30*time.Second, func() (bool, string) {
			resp, err := vote(ctx, rc.CaseID, j, "reject")
			if err != nil {
				return false, err.Error()
			}
			return resp.Status == 202 || resp.Status == 409, resp.String()
		})
	}
	c := waitClosed(t, ctx, rc.CaseID, 60*time.Second)
	if c["status"] != "rejected" {
		t.Fatalf("case %v, want rejected", c)
	}
	eventually(t, "credits after restart", 30*time.Second, func() (bool, string) {
		n, _ := accountOf(t, ctx, jurors[2]).creditsFor(rc.CaseID)
		return n == 1, "not yet credited"
	})
}
