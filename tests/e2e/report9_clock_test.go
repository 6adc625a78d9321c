package e2e

import (
	"fmt"
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

// A round waits for its votes without a timer: the report app wakes it
// when its database says something is due (here a silent juror's
// deadline). A wake that cannot reach the round, because the report
// sidecar is down at that moment, is sent again once the sidecar is back,
// long before the round's own deadline: the juror is released and replaced,
// and the substitute's vote decides.
func TestAJurorsDeadlineLostWhileTheSidecarWasDownWakesTheRoundOnceItIsBack(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "post", 1, 1, "3s", "5m", 1, "undecided")
	rc, _ := fileReport(t, ctx, "post")
	juror := jurorsOf(t, ctx, rc.CaseID, 1)[0]
	db := reportDB(t, ctx)
	var deadline time.Time
	if err := db.QueryRow(ctx, `SELECT deadline FROM case_jurors WHERE case_id = $1 AND juror_id = $2`,
		rc.CaseID, juror).Scan(&deadline); err != nil {
		t.Fatal(err)
	}
	back := kill(t, ctx, "report-dapr")
	// The round's wakes (its juror's reminder, then again Rewake later) are
	// tried, and fail, while the sidecar is down, until one past the deadline.
	eventually(t, "a wake tried past the deadline", 20*time.Second, func() (bool, string) {
		var woken *time.Time
		if err := db.QueryRow(ctx, `SELECT woken_at FROM cases WHERE id = $1`, rc.CaseID).Scan(&woken); err != nil {
			return false, err.Error()
		}
		return woken != nil && !woken.Before(deadline), fmt.Sprintf("woken_at %v, deadline %v", woken, deadline)
	})
	back()
	substitute := substituteOf(t, ctx, rc.CaseID, 45*time.Second, juror)
	eventually(t, "substitute's vote accepted", 10*time.Second, func() (bool, string) {
		resp, err := vote(ctx, rc.CaseID, substitute, "uphold")
		if err == nil && resp.Status == 409 && resp.ErrorCode() == "jury_not_ready" {
			return false, resp.String()
		}
		must(t, resp, err, 202)
		return true, ""
	})
	if c := waitClosed(t, ctx, rc.CaseID, 20*time.Second); c["status"] != "upheld" {
		t.Fatalf("case %v, want upheld by the substitute", c)
	}
}
