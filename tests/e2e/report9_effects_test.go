package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The crash between the decision's two writes: the case is closed in the
// report database while the broker is down (so the decision cannot reach
// Dapr's outbox yet), then the round is terminated and forgotten and the
// report sidecar killed -9. The case reads closed, and case-decided still
// arrives once the broker is back: every voter is credited exactly once.
func TestDecisionIsPublishedAfterTheRoundDiesBetweenTheTwoWrites(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "chat", 3, 2, "1h", "2h", 1, "undecided")
	rc, _ := fileReport(t, ctx, "chat")
	jurors := jurorsOf(t, ctx, rc.CaseID, 3)
	stopRedis(t)
	for _, j := range jurors[:2] {
		resp, err := vote(ctx, rc.CaseID, j, "uphold")
		must(t, resp, err, 202)
	}
	if c := waitClosed(t, ctx, rc.CaseID, 30*time.Second); c["status"] != "upheld" {
		t.Fatalf("case %v, want upheld", c)
	}
	endRound(t, ctx, rc.CaseID)
	if err := plat.Kill("report-dapr"); err != nil {
		t.Fatal(err)
	}
	startRedis(t)
	start(t, ctx, "report-dapr")

	for _, j := range jurors[:2] {
		eventually(t, "credit for "+j, 60*time.Second, func() (bool, string) {
			n, _ := accountOf(t, ctx, j).creditsFor(rc.CaseID)
			return n == 1, fmt.Sprintf("%d credits", n)
		})
	}
	waitDrained(t, "case-decided")
	for _, j := range jurors[:2] {
		if n, _ := accountOf(t, ctx, j).creditsFor(rc.CaseID); n != 1 {
			t.Fatalf("juror %s credited %d times", j, n)
		}
	}
	if n := count(t, ctx, "report", `SELECT count(*) FROM cases WHERE id = $1 AND decision_published_at IS NOT NULL`, rc.CaseID); n != 1 {
		t.Fatal("decision not marked published")
	}
}

// The quorum vote decides the case in its own transaction while the report
// sidecar is down, so the vote's event (which tells the round the case is
// decided) cannot reach the round. The case reads decided at once; once the
// sidecar is back, the outbox hands the event over and the round ends then,
// not at its deadline an hour later.
func TestTheRoundOfACaseDecidedWhileItsSidecarWasDownEndsOnceItIsBack(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "chat", 3, 2, "1h", "1h", 1, "undecided")
	rc, _ := fileReport(t, ctx, "chat")
	jurors := jurorsOf(t, ctx, rc.CaseID, 3)
	resp, err := vote(ctx, rc.CaseID, jurors[0], "uphold")
	must(t, resp, err, 202)
	back := kill(t, ctx, "report-dapr")
	resp, err = vote(ctx, rc.CaseID, jurors[1], "uphold")
	must(t, resp, err, 202)
	if c := caseOf(t, ctx, rc.CaseID); c["status"] != "upheld" {
		t.Fatalf("case right after the quorum vote: %v, want upheld", c["status"])
	}
	// The relay tries the hand-over (held back for VoteHandOverDelay, 3 s)
	// while the sidecar is still down.
	time.Sleep(6 * time.Second)
	back()
	eventually(t, "the round ended", 60*time.Second, func() (bool, string) {
		s := roundStatus(t, ctx, rc.CaseID)
		return s == "COMPLETED", s
	})
	if c := caseOf(t, ctx, rc.CaseID); c["status"] != "upheld" {
		t.Fatalf("case %v after the round ended, want upheld", c["status"])
	}
}

// endRound terminates the round if it still runs, then purges it.
func endRound(t *testing.T, ctx context.Context, caseID string) {
	t.Helper()
	switch roundStatus(t, ctx, caseID) {
	case "":
		return
	case "RUNNING", "PENDING", "SUSPENDED":
		if status, m, err := roundCall(ctx, caseID, "terminate"); err != nil || status/100 != 2 {
			t.Fatalf("terminate round of %s: %d %v %v", caseID, status, m, err)
		}
		eventually(t, "round ended", 20*time.Second, func() (bool, string) {
			s := roundStatus(t, ctx, caseID)
			return s != "RUNNING" && s != "PENDING" && s != "SUSPENDED", s
		})
	}
	if status, m, err := roundCall(ctx, caseID, "purge"); err != nil || status/100 != 2 {
		t.Fatalf("purge round of %s: %d %v %v", caseID, status, m, err)
	}
}

// The reviewer app is down when a juror votes and when two others are
// released: their tasks close once it is back, while the case is still open
// (not at its decision, which closes every task anyway).
func TestTasksCloseOnceTheReviewerIsBack(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "item", 3, 3, "4s", "2m", 0, "undecided")
	rc, _ := fileReport(t, ctx, "item")
	jurors := jurorsOf(t, ctx, rc.CaseID, 3)
	back := kill(t, ctx, "reviewer")
	resp, err := vote(ctx, rc.CaseID, jurors[0], "uphold")
	must(t, resp, err, 202)
	eventually(t, "two jurors released", 30*time.Second, func() (bool, string) {
		c := caseOf(t, ctx, rc.CaseID)
		return timelineKinds(c)["timed_out"] == 2, fmt.Sprint(c["timeline"])
	})
	back()
	eventually(t, "every task closed", 60*time.Second, func() (bool, string) {
		open := openTasks(t, ctx, rc.CaseID, jurors)
		return len(open) == 0, fmt.Sprint("open: ", open)
	})
	if s := caseOf(t, ctx, rc.CaseID)["status"]; s != "voting" {
		t.Fatalf("case %s: tasks must close on the vote and the releases, not at the decision", s)
	}
}

// Redis is down when jurors are reminded: the timeline says reminded, and
// juror-reminded is published once the broker is back.
func TestReminderIsPublishedAfterThePubsubOutage(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "review", 3, 2, "6s", "40s", 0, "undecided")
	rc, _ := fileReport(t, ctx, "review")
	jurors := jurorsOf(t, ctx, rc.CaseID, 3)
	stopRedis(t)
	eventually(t, "jurors reminded", 20*time.Second, func() (bool, string) {
		c := caseOf(t, ctx, rc.CaseID)
		return timelineKinds(c)["reminded"] == 3, fmt.Sprint(c["timeline"])
	})
	startRedis(t)
	eventually(t, "reminders published", 60*time.Second, func() (bool, string) {
		n := 0
		for _, j := range jurors {
			for _, entry := range strings.Split(redis(t, "XRANGE", "juror-reminded", "-", "+"), "\n") {
				if strings.Contains(entry, rc.CaseID) && strings.Contains(entry, j) {
					n++
					break
				}
			}
		}
		return n == 3, fmt.Sprintf("%d of 3 jurors' reminders on the stream", n)
	})
}

// One vote that cannot reach its round (the workflow is gone) does not hold
// back another vote that missed its round while the sidecar was down.
func TestOneUndeliverableVoteDoesNotHoldBackTheOthers(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "comment", 1, 1, "1h", "2h", 0, "undecided")
	a, _ := fileReport(t, ctx, "comment")
	ja := jurorsOf(t, ctx, a.CaseID, 1)
	killRound(t, ctx, a.CaseID)
	resp, err := vote(ctx, a.CaseID, ja[0], "uphold")
	must(t, resp, err, 202)

	b, _ := fileReport(t, ctx, "comment")
	jb := jurorsOf(t, ctx, b.CaseID, 1)
	if err := plat.Kill("report-dapr"); err != nil {
		t.Fatal(err)
	}
	resp, err = vote(ctx, b.CaseID, jb[0], "reject")
	must(t, resp, err, 202)
	start(t, ctx, "report-dapr")
	if c := waitClosed(t, ctx, b.CaseID, 60*time.Second); c["status"] != "rejected" {
		t.Fatalf("case %v, want rejected", c)
	}
}
