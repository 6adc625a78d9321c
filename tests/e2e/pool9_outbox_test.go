package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/govern/tests/platform"
)

// A draw made while the reviewer's sidecar is down still announces every
// drawn juror on task-assigned once the sidecar is back: the announcement is
// committed with the draw (outbox) and the relay keeps trying.
func TestTaskAssignedArrivesOnceTheReviewerSidecarIsBack(t *testing.T) {
	ctx := ctxT(t)
	db := reviewerDB(t, ctx)
	tag := unique("announce")
	newJurors(t, ctx, 3, tag)
	usePoolTagged(t, ctx, tag)

	back := kill(t, ctx, "reviewer-dapr")

	caseID := unique("announce-case")
	resp, jurors, err := drawJury(ctx, drawAsk{CaseID: caseID, Size: 3})
	must(t, resp, err, 200)
	// Let the relay try (and fail) a few times while the sidecar is down.
	key := "task-assigned/" + caseID + "/jury"
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var attempts int
		err := db.QueryRow(ctx, `SELECT attempts FROM outbox WHERE dedup_key = $1 AND dead_at IS NULL AND last_error <> ''`, key).
			Scan(&attempts)
		if err == nil && attempts >= 2 {
			break
		}
	}
	if n := messagesMentioning(t, "task-assigned", caseID); n != 0 {
		t.Fatalf("%d task-assigned messages while the sidecar was down", n)
	}

	back()
	eventually(t, "task-assigned for every juror", 45*time.Second, func() (bool, string) {
		stream := redis(t, "XRANGE", "task-assigned", "-", "+")
		for _, j := range jurors {
			if !mentionsBoth(stream, caseID, j) {
				return false, "no message for " + j
			}
		}
		return true, ""
	})
	eventually(t, "outbox row done", 10*time.Second, func() (bool, string) {
		var n int
		err := db.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE dedup_key = $1`, key).Scan(&n)
		return err == nil && n == 0, fmt.Sprint(n, err)
	})
}

// mentionsBoth reports whether one line of a redis-cli listing holds a and b.
func mentionsBoth(listing, a, b string) bool {
	for _, line := range strings.Split(listing, "\n") {
		if strings.Contains(line, a) && strings.Contains(line, b) {
			return true
		}
	}
	return false
}

// The report service closes tasks through its outbox, so a close arrives at
// least once: repeating it, at once or later, or following a vote's close
// with a release, changes nothing after the first, and each answer is the
// same 200. A task that never existed is a 404 (permanent for the caller).
func TestClosingATaskAgainChangesNothing(t *testing.T) {
	ctx := ctxT(t)
	tag := unique("close")
	newJurors(t, ctx, 2, tag)
	usePoolTagged(t, ctx, tag)
	caseID := unique("close-case")
	resp, jurors, err := drawJury(ctx, drawAsk{CaseID: caseID, Size: 2})
	must(t, resp, err, 200)
	voter, idle := jurors[0], jurors[1]

	internal := plat.AsSidecar("reviewer")
	closeBody := func(juror, reason string) map[string]any {
		return map[string]any{"case_id": caseID, "juror_id": juror, "reason": reason}
	}
	answers := concurrently(t, 8, func(int) (platform.Response, error) {
		return internal.Do(ctx, "POST", "/internal/tasks/close", closeBody(voter, "voted"))
	})
	for _, a := range answers {
		if a.Status != 200 {
			t.Fatalf("concurrent close: %s", a)
		}
	}
	for _, c := range []struct{ juror, reason string }{{voter, "voted"}, {voter, "released"}, {idle, "released"}, {idle, "released"}} {
		closeTask(t, ctx, caseID, c.juror, c.reason)
	}
	for j, want := range map[string][2]int{voter: {1, 0}, idle: {0, 1}} {
		s := reviewerOf(t, ctx, j).Stats
		if got := [2]int{s.Voted, s.TimedOut}; got != want {
			t.Errorf("%s voted, timed out = %v, want %v", j, got, want)
		}
	}
	for name, c := range map[string]struct {
		body   map[string]any
		status int
	}{
		"never drawn":    {closeBody(unique("stranger"), "voted"), 404},
		"unknown reason": {closeBody(voter, "bored"), 400},
	} {
		resp, err := internal.Do(ctx, "POST", "/internal/tasks/close", c.body)
		if err != nil || resp.Status != c.status {
			t.Errorf("%s: %v %v, want %d", name, resp, err, c.status)
		}
	}
}
