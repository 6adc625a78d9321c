package e2e

import (
	"strconv"
	"testing"
	"time"
)

// A full round: report, jury drawn, three of five uphold, the case is upheld,
// and each voter is credited once (with the majority bonus for the winners).
func TestRoundUpheldCreditsEveryVoterOnce(t *testing.T) {
	ctx := ctxT(t)
	rc, _ := fileReport(t, ctx, "post")
	jurors := jurorsOf(t, ctx, rc.CaseID, 5)

	c := caseOf(t, ctx, rc.CaseID)
	if c["status"] != "voting" || c["tally"] != nil || c["jurors"] != nil {
		t.Fatalf("open case must be voting with tally and jurors hidden: %v", c)
	}
	for _, j := range jurors[:2] {
		resp, err := vote(ctx, rc.CaseID, j, "uphold")
		must(t, resp, err, 202)
	}
	resp, err := vote(ctx, rc.CaseID, jurors[2], "reject")
	must(t, resp, err, 202)
	if got := caseOf(t, ctx, rc.CaseID)["votes_cast"]; got != float64(3) {
		t.Fatalf("votes_cast = %v, want 3", got)
	}
	resp, err = vote(ctx, rc.CaseID, jurors[3], "uphold")
	must(t, resp, err, 202)

	// The quorum vote decides the case in its own transaction: the case
	// reads upheld as soon as that vote is answered, not when the round
	// gets round to it.
	c = caseOf(t, ctx, rc.CaseID)
	if c["status"] != "upheld" || c["decision"] != "upheld" {
		t.Fatalf("case right after the quorum vote's 202: %v, want upheld", c)
	}
	tally := c["tally"].(map[string]any)
	if tally["uphold"] != float64(3) || tally["reject"] != float64(1) {
		t.Fatalf("tally %v, want 3 uphold / 1 reject", tally)
	}
	if js, _ := c["jurors"].([]any); len(js) != 5 {
		t.Fatalf("closed case lists jurors %v, want 5", c["jurors"])
	}

	want := map[string]int64{jurors[0]: 15, jurors[1]: 15, jurors[2]: 10, jurors[3]: 15}
	for juror, amount := range want {
		eventually(t, "credit for "+juror, 20*time.Second, func() (bool, string) {
			n, sum := accountOf(t, ctx, juror).creditsFor(rc.CaseID)
			return n == 1 && sum == amount, "entries and sum so far: " + strconv.Itoa(n) + " " + strconv.Itoa(int(sum))
		})
	}
	if n, _ := accountOf(t, ctx, jurors[4]).creditsFor(rc.CaseID); n != 0 {
		t.Fatalf("juror %s never voted but was credited", jurors[4])
	}

	// A late vote after the decision is refused and changes nothing.
	resp, err = vote(ctx, rc.CaseID, jurors[4], "reject")
	if must(t, resp, err, 409); resp.ErrorCode() != "case_closed" {
		t.Fatalf("vote after the quorum: %s, want case_closed", resp)
	}
	if tally := caseOf(t, ctx, rc.CaseID)["tally"].(map[string]any); tally["reject"] != float64(1) {
		t.Fatalf("tally %v after the refused late vote, want 1 reject", tally)
	}
}

func TestRoundRejected(t *testing.T) {
	ctx := ctxT(t)
	rc, _ := fileReport(t, ctx, "comment")
	jurors := jurorsOf(t, ctx, rc.CaseID, 5)
	for i, d := range []string{"uphold", "reject", "reject", "reject"} {
		resp, err := vote(ctx, rc.CaseID, jurors[i], d)
		must(t, resp, err, 202)
	}
	c := waitClosed(t, ctx, rc.CaseID, 20*time.Second)
	if c["status"] != "rejected" {
		t.Fatalf("case %v, want rejected", c)
	}
	eventually(t, "credit for the minority voter", 20*time.Second, func() (bool, string) {
		n, sum := accountOf(t, ctx, jurors[0]).creditsFor(rc.CaseID)
		return n == 1 && sum == 10, strconv.Itoa(n) + " entries, sum " + strconv.Itoa(int(sum))
	})
}

func TestVoteFromNonJurorIsForbiddenAndSecondVoteConflicts(t *testing.T) {
	ctx := ctxT(t)
	rc, reporter := fileReport(t, ctx, "post")
	jurors := jurorsOf(t, ctx, rc.CaseID, 5)

	for _, outsider := range []string{reporter, unique("stranger")} {
		resp, err := vote(ctx, rc.CaseID, outsider, "uphold")
		must(t, resp, err, 403)
	}
	resp, err := vote(ctx, rc.CaseID, jurors[0], "uphold")
	must(t, resp, err, 202)
	resp, err = vote(ctx, rc.CaseID, jurors[0], "reject")
	if must(t, resp, err, 409); resp.ErrorCode() != "already_voted" {
		t.Fatalf("second vote: %s", resp)
	}
	// Bad input from a juror is a 400 and records nothing.
	resp, err = vote(ctx, rc.CaseID, jurors[1], "maybe")
	must(t, resp, err, 400)
	resp, err = plat.As("report", jurors[1]).Do(ctx, "POST", "/v1/cases/"+rc.CaseID+"/votes", []byte(`{"decision":`))
	must(t, resp, err, 400)
	if got := caseOf(t, ctx, rc.CaseID)["votes_cast"]; got != float64(1) {
		t.Fatalf("votes_cast = %v after refused votes, want 1", got)
	}
	resp, err = vote(ctx, "c_does_not_exist", jurors[1], "uphold")
	must(t, resp, err, 404)
}
