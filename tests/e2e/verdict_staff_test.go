package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// An undecided case goes to the staff queue: an operator's resolution
// decides it, case-decided is published again with decided_by "staff", and
// the jurors keep exactly what their own round earned (no second credit, no
// majority bonus from staff's side, no agreement counted against it).
// Only operators may resolve, a bad body is a 400 that changes nothing, and
// a case that is not escalated or undecided is a 409.
func TestStaffResolvesAnUndecidedCaseAndJurorsKeepTheirRoundsCredit(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "comment", 3, 2, "1h", "10s", 0, "undecided")
	rc, reporter := fileReport(t, ctx, "comment")
	jurors := jurorsOf(t, ctx, rc.CaseID, 3)
	path := "/v1/cases/" + rc.CaseID + "/resolution"
	staff := unique("staff")
	ops := plat.As("report", staff, "ops")

	resp, err := ops.Do(ctx, "POST", path, map[string]any{"decision": "uphold", "note": "too early"})
	must(t, resp, err, 409)
	if code := resp.Map()["error"].(map[string]any)["code"]; code != "not_resolvable" {
		t.Fatalf("resolving an open case: %s", resp)
	}
	resp, err = vote(ctx, rc.CaseID, jurors[0], "uphold")
	must(t, resp, err, 202)
	resp, err = vote(ctx, rc.CaseID, jurors[1], "reject")
	must(t, resp, err, 202)
	c := waitClosed(t, ctx, rc.CaseID, 40*time.Second)
	if c["status"] != "undecided" || c["decided_by"] != "jury" {
		t.Fatalf("case %v, want undecided by the jury", c)
	}
	waitDrained(t, "case-decided")
	credit := map[string]int64{}
	agreed := map[string]int{}
	for _, j := range jurors[:2] {
		eventually(t, "credit for "+j, 30*time.Second, func() (bool, string) {
			n, sum := accountOf(t, ctx, j).creditsFor(rc.CaseID)
			credit[j] = sum
			return n == 1, fmt.Sprintf("%d credits", n)
		})
		agreed[j] = reviewerOf(t, ctx, j).Stats.Agreed
	}

	for _, tc := range []struct {
		who    string
		body   any
		status int
	}{
		{"juror", map[string]any{"decision": "uphold"}, 403},
		{"reporter", map[string]any{"decision": "uphold"}, 403},
		{"ops", map[string]any{"decision": "upheld"}, 400},
		{"ops", map[string]any{"decision": "uphold", "extra": 1}, 400},
		{"ops", map[string]any{"decision": "uphold", "note": "bad\u0007note"}, 400},
		{"ops", "not an object", 400},
	} {
		caller := ops
		switch tc.who {
		case "juror":
			caller = plat.As("report", jurors[0])
		case "reporter":
			caller = plat.As("report", reporter)
		}
		resp, err := caller.Do(ctx, "POST", path, tc.body)
		must(t, resp, err, tc.status)
	}
	if c := caseOf(t, ctx, rc.CaseID); c["status"] != "undecided" {
		t.Fatalf("refused resolutions changed the case: %v", c)
	}
	resp, err = ops.Do(ctx, "POST", "/v1/cases/c_no_such_case/resolution", map[string]any{"decision": "reject"})
	must(t, resp, err, 404)

	note := unique("serial number does not exist")
	resp, err = ops.Do(ctx, "POST", path, map[string]any{"decision": "uphold", "note": note})
	must(t, resp, err, 200)
	got := resp.Map()
	if got["status"] != "upheld" || got["decision"] != "upheld" || got["decided_by"] != "staff" ||
		got["resolved_by"] != staff || got["note"] != note {
		t.Fatalf("resolved case %v", got)
	}
	tally, _ := got["tally"].(map[string]any)
	if tally["uphold"] != 1.0 || tally["reject"] != 1.0 {
		t.Fatalf("the case keeps its jury's tally, got %v", got["tally"])
	}
	if c := caseOf(t, ctx, rc.CaseID); c["status"] != "upheld" || c["note"] != note || !timelineHas(c, "resolved", "was undecided") {
		t.Fatalf("case after resolution %v", c)
	}
	resp, err = ops.Do(ctx, "POST", path, map[string]any{"decision": "reject"})
	must(t, resp, err, 409)

	eventually(t, "staff decision published", 30*time.Second, func() (bool, string) {
		n := messagesMentioning(t, "case-decided", `"note":"`+note+`"`)
		return n >= 1, fmt.Sprintf("%d messages", n)
	})
	for _, msg := range strings.Split(redis(t, "XRANGE", "case-decided", "-", "+"), "\n") {
		if strings.Contains(msg, note) && (!strings.Contains(msg, `"decided_by":"staff"`) || !strings.Contains(msg, `"resolved_by":"`+staff+`"`) ||
			!strings.Contains(msg, `"round":1`)) {
			t.Fatalf("the staff decision's message does not say round 1, decided_by staff and who: %s", msg)
		}
	}
	owner := ownerOf(c)
	for who, n := range waitNotices(t, rc.CaseID, "staff", map[string]string{reporter: "reporter", owner: "owner"}) {
		if n.Decision != "upheld" || !strings.Contains(n.Reason, note) {
			t.Errorf("staff notice to %s: %+v, want upheld with the note", who, n)
		}
	}
	for who, n := range waitNotices(t, rc.CaseID, "jury", map[string]string{reporter: "reporter", owner: "owner"}) {
		if n.Decision != "undecided" || !strings.Contains(n.Reason, "1 to uphold, 1 to reject") {
			t.Errorf("jury notice to %s: %+v", who, n)
		}
	}
	waitDrained(t, "case-decided")
	for _, j := range jurors[:2] {
		n, sum := accountOf(t, ctx, j).creditsFor(rc.CaseID)
		if n != 1 || sum != credit[j] {
			t.Errorf("juror %s: %d credits worth %d after the staff decision, want 1 worth %d", j, n, sum, credit[j])
		}
		if a := reviewerOf(t, ctx, j).Stats.Agreed; a != agreed[j] {
			t.Errorf("juror %s: agreed %d after the staff decision, was %d", j, a, agreed[j])
		}
	}
	if credit[jurors[0]] != credit[jurors[1]] {
		t.Errorf("an undecided round pays both sides alike: %v", credit)
	}
}
