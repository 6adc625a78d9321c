package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// notice is one case-outcome message as the marketplace reads it.
type notice struct {
	CaseID      string `json:"case_id"`
	RecipientID string `json:"recipient_id"`
	Role        string `json:"role"`
	Decision    string `json:"decision"`
	Reason      string `json:"reason"`
	Round       int    `json:"round"`
	DecidedBy   string `json:"decided_by"`
}

// noticesOf reads the case-outcome notices of caseID published with
// decidedBy (jury, staff or withdrawal), keyed by recipient.
func noticesOf(t *testing.T, caseID, decidedBy string) map[string]notice {
	t.Helper()
	out := map[string]notice{}
	for _, n := range topicData[notice](t, "case-outcome", caseID) {
		if n.DecidedBy == decidedBy {
			out[n.RecipientID] = n
		}
	}
	return out
}

// waitNotices waits until every recipient has the case's notice for decidedBy.
func waitNotices(t *testing.T, caseID, decidedBy string, recipients map[string]string) map[string]notice {
	t.Helper()
	var got map[string]notice
	eventually(t, "case-outcome notices of "+caseID, 30*time.Second, func() (bool, string) {
		got = noticesOf(t, caseID, decidedBy)
		for r := range recipients {
			if _, ok := got[r]; !ok {
				return false, fmt.Sprintf("%d notices, none for %s", len(got), r)
			}
		}
		return true, ""
	})
	if len(got) != len(recipients) {
		t.Fatalf("notices %v, want one for each of %v", got, recipients)
	}
	for r, role := range recipients {
		if got[r].Role != role || got[r].Round != 1 {
			t.Fatalf("notice to %s: %+v, want role %s in round 1", r, got[r], role)
		}
	}
	return got
}

// joinReport files a second report on the case's target.
func joinReport(t *testing.T, ctx context.Context, c map[string]any) string {
	t.Helper()
	reporter := unique("reporter2")
	body := map[string]any{"reporter_id": reporter, "target": c["target"], "reason": "counterfeit goods"}
	resp, err := plat.As("report", reporter).Do(ctx, "POST", "/v1/reports", body)
	must(t, resp, err, 202)
	if resp.Map()["case_id"] != c["case_id"] {
		t.Fatalf("second report %s did not join case %v", resp, c["case_id"])
	}
	return reporter
}

func ownerOf(c map[string]any) string {
	target, _ := c["target"].(map[string]any)
	owner, _ := target["owner_id"].(string)
	return owner
}

// The marketplace withdraws a case whose round is in progress (one vote
// in, two jurors still to answer): the case closes as withdrawn, the round
// ends, the open tasks are released, no case-decided is published so the
// juror who voted is paid nothing, and every reporter and the owner get a
// case-outcome notice with the reason. Only ops or the marketplace may
// withdraw; a bad body is a 400 that changes nothing; a closed case is 409.
func TestWithdrawalEndsARoundInProgressReleasesItsTasksAndPaysNobody(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "comment", 3, 2, "1h", "2h", 0, "undecided")
	rc, reporter := fileReport(t, ctx, "comment")
	jurors := jurorsOf(t, ctx, rc.CaseID, 3)
	c := caseOf(t, ctx, rc.CaseID)
	reporter2, owner := joinReport(t, ctx, c), ownerOf(c)
	resp, err := vote(ctx, rc.CaseID, jurors[0], "uphold")
	must(t, resp, err, 202)
	eventually(t, "round running", 20*time.Second, func() (bool, string) {
		s := roundStatus(t, ctx, rc.CaseID)
		return s == "RUNNING", s
	})

	path := "/v1/cases/" + rc.CaseID + "/withdrawal"
	market := unique("marketplace")
	marketplace := plat.As("report", market, "marketplace")
	for _, tc := range []struct {
		who    string
		body   any
		status int
	}{
		{"juror", map[string]any{"reason": "gone"}, 403},
		{"reporter", map[string]any{"reason": "gone"}, 403},
		{"owner", map[string]any{"reason": "gone"}, 403},
		{"marketplace", map[string]any{}, 400},
		{"marketplace", map[string]any{"reason": "  "}, 400},
		{"marketplace", map[string]any{"reason": "gone", "extra": 1}, 400},
		{"marketplace", map[string]any{"reason": "bad\u0007reason"}, 400},
		{"marketplace", []any{"gone"}, 400},
	} {
		caller := marketplace
		switch tc.who {
		case "juror":
			caller = plat.As("report", jurors[1])
		case "reporter":
			caller = plat.As("report", reporter)
		case "owner":
			caller = plat.As("report", owner)
		}
		resp, err := caller.Do(ctx, "POST", path, tc.body)
		must(t, resp, err, tc.status)
	}
	if c := caseOf(t, ctx, rc.CaseID); c["status"] != "voting" {
		t.Fatalf("refused withdrawals changed the case: %v", c)
	}
	if open := openTasks(t, ctx, rc.CaseID, jurors); len(open) != 2 {
		t.Fatalf("open tasks before the withdrawal: %v, want the two jurors who have not voted", open)
	}
	resp, err = marketplace.Do(ctx, "POST", "/v1/cases/c_no_such_case/withdrawal", map[string]any{"reason": "gone"})
	must(t, resp, err, 404)

	timedOut := map[string]int{}
	for _, j := range jurors[1:] {
		timedOut[j] = reviewerOf(t, ctx, j).Stats.TimedOut
	}

	reason := unique("listing deleted by the seller")
	resp, err = marketplace.Do(ctx, "POST", path, map[string]any{"reason": reason})
	must(t, resp, err, 200)
	got := resp.Map()
	if got["status"] != "withdrawn" || got["decision"] != "withdrawn" || got["withdrawn_by"] != market ||
		got["withdrawal_reason"] != reason {
		t.Fatalf("withdrawn case %v", got)
	}
	resp, err = plat.As("report", "ops-withdraw", "ops").Do(ctx, "POST", path, map[string]any{"reason": "again"})
	must(t, resp, err, 409)
	if code := resp.Map()["error"].(map[string]any)["code"]; code != "not_withdrawable" {
		t.Fatalf("withdrawing a closed case: %s", resp)
	}
	resp, err = vote(ctx, rc.CaseID, jurors[1], "reject")
	must(t, resp, err, 409)

	eventually(t, "round ended", 30*time.Second, func() (bool, string) {
		s := roundStatus(t, ctx, rc.CaseID)
		return s == "COMPLETED", s
	})
	eventually(t, "open tasks released", 30*time.Second, func() (bool, string) {
		open := openTasks(t, ctx, rc.CaseID, jurors)
		return len(open) == 0, fmt.Sprintf("open: %v", open)
	})
	for j, before := range timedOut {
		if s := reviewerOf(t, ctx, j).Stats; s.TimedOut != before {
			t.Errorf("juror %s: timed_out %d after the withdrawal, was %d: a withdrawal is nobody's timeout", j, s.TimedOut, before)
		}
	}
	if c := caseOf(t, ctx, rc.CaseID); c["status"] != "withdrawn" || !timelineHas(c, "withdrawn", reason) {
		t.Fatalf("case after the withdrawal %v", c)
	}

	notices := waitNotices(t, rc.CaseID, "withdrawal", map[string]string{reporter: "reporter", reporter2: "reporter", owner: "owner"})
	for r, n := range notices {
		if n.Decision != "withdrawn" || !strings.Contains(n.Reason, reason) {
			t.Errorf("notice to %s: %+v, want decision withdrawn with the reason", r, n)
		}
	}
	waitDrained(t, "case-decided")
	if n := messagesMentioning(t, "case-decided", `"case_id":"`+rc.CaseID+`"`); n != 0 {
		t.Fatalf("a withdrawn case published %d case-decided messages", n)
	}
	for _, j := range jurors {
		if n, sum := accountOf(t, ctx, j).creditsFor(rc.CaseID); n != 0 {
			t.Errorf("juror %s: %d credits worth %d for a withdrawn case", j, n, sum)
		}
	}
	if c := caseOf(t, ctx, rc.CaseID); c["status"] != "withdrawn" {
		t.Fatalf("the ended round changed the withdrawn case: %v", c)
	}
}

// A jury's decision sends every reporter and the owner a case-outcome
// notice: the decision, the round, who decided, and a statement of reasons.
func TestAJuryDecisionNotifiesEveryReporterAndTheOwner(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "comment", 3, 2, "1h", "2h", 0, "undecided")
	rc, reporter := fileReport(t, ctx, "comment")
	jurors := jurorsOf(t, ctx, rc.CaseID, 3)
	c := caseOf(t, ctx, rc.CaseID)
	reporter2, owner := joinReport(t, ctx, c), ownerOf(c)
	for _, j := range jurors[:2] {
		resp, err := vote(ctx, rc.CaseID, j, "uphold")
		must(t, resp, err, 202)
	}
	if c := waitClosed(t, ctx, rc.CaseID, 40*time.Second); c["status"] != "upheld" {
		t.Fatalf("case %v, want upheld", c)
	}
	notices := waitNotices(t, rc.CaseID, "jury", map[string]string{reporter: "reporter", reporter2: "reporter", owner: "owner"})
	for r, n := range notices {
		if n.Decision != "upheld" || !strings.Contains(n.Reason, "2 to uphold") {
			t.Errorf("notice to %s: %+v, want upheld with the tally as reason", r, n)
		}
	}
}
