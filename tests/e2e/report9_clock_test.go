package e2e

import (
	"testing"
	"time"
)

// A vote after the juror's own deadline is refused by the clock (the
// deadline the database recorded when the juror was drawn), even while the
// round lags behind: here its sidecar is down, so nothing has released the
// juror yet. The refused vote never counts.
func TestVoteAfterTheJurorsDeadlineIsRefusedEvenWhileTheRoundLags(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "post", 1, 1, "3s", "8s", 0, "undecided")
	rc, _ := fileReport(t, ctx, "post")
	juror := jurorsOf(t, ctx, rc.CaseID, 1)[0]
	var deadline time.Time
	if err := reportDB(t, ctx).QueryRow(ctx, `SELECT deadline FROM case_jurors WHERE case_id = $1 AND juror_id = $2`,
		rc.CaseID, juror).Scan(&deadline); err != nil {
		t.Fatal(err)
	}
	back := kill(t, ctx, "report-dapr")
	time.Sleep(time.Until(deadline) + 200*time.Millisecond)
	resp, err := vote(ctx, rc.CaseID, juror, "uphold")
	if must(t, resp, err, 409); resp.ErrorCode() != "juror_released" {
		t.Fatalf("late vote: %s", resp)
	}
	back()
	c := waitClosed(t, ctx, rc.CaseID, 60*time.Second)
	if c["status"] != "undecided" || c["tally"].(map[string]any)["uphold"] != float64(0) {
		t.Fatalf("case %v: the late vote must not count", c)
	}
}
