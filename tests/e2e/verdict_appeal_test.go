package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// setAppealPolicy sets kind's policy to a jury of one (quorum one, no
// substitutes) with the given appeal window ("" leaves the default), and
// restores the default after the test.
func setAppealPolicy(t *testing.T, ctx context.Context, kind, window string) {
	t.Helper()
	setPolicy(t, ctx, kind, 1, 1, "1h", "2h", 0, "undecided")
	if window == "" {
		return
	}
	p := map[string]any{"jury_size": 1, "quorum": 1, "juror_timeout": "1h", "max_duration": "2h",
		"max_substitutes": 0, "on_timeout": "undecided", "appeal_window": window}
	resp, err := plat.As("report", "ops-policy", "ops").Do(ctx, "PUT", "/v1/policies/"+kind, p)
	must(t, resp, err, 200)
	if resp.Map()["appeal_window"] != window {
		t.Fatalf("policy %s: appeal_window not stored", resp)
	}
}

func appeal(ctx context.Context, caseID, who string, body any) (int, map[string]any, error) {
	resp, err := plat.As("report", who).Do(ctx, "POST", "/v1/cases/"+caseID+"/appeals", body)
	if err != nil {
		return 0, nil, err
	}
	return resp.Status, resp.Map(), nil
}

func errorCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// decideFirstRound files a report on a fresh target of kind and has its
// one juror vote decision; it returns the closed case, the reporter and the juror.
func decideFirstRound(t *testing.T, ctx context.Context, kind, decision string) (map[string]any, string, string) {
	t.Helper()
	rc, reporter := fileReport(t, ctx, kind)
	juror := jurorsOf(t, ctx, rc.CaseID, 1)[0]
	resp, err := vote(ctx, rc.CaseID, juror, decision)
	must(t, resp, err, 202)
	return waitClosed(t, ctx, rc.CaseID, 40*time.Second), reporter, juror
}

// caseDecidedOf returns the case-decided messages of caseID, by round.
func caseDecidedOf(t *testing.T, caseID string) map[int]map[string]any {
	t.Helper()
	out := map[int]map[string]any{}
	for _, d := range topicData[map[string]any](t, "case-decided", caseID) {
		if d["decided_by"] == "jury" {
			round, _ := d["round"].(float64)
			out[int(round)] = d
		}
	}
	return out
}

// outcomeNotices returns the jury's case-outcome notices of caseID in round, by recipient.
func outcomeNotices(t *testing.T, caseID string, round int) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, d := range topicData[map[string]any](t, "case-outcome", caseID) {
		if r, _ := d["round"].(float64); d["decided_by"] == "jury" && int(r) == round {
			id, _ := d["recipient_id"].(string)
			out[id] = d
		}
	}
	return out
}

// The owner of an upheld target appeals: strangers and the reporter (the
// winning side) are refused with 403, a bad body is a 400 that changes
// nothing, the appeal is 202 and a second one 409. The appeal round draws
// appeal_jury_size (2*1+1 = 3) jurors, none from round 1 (whose juror may
// no longer vote), and its rejection replaces the decision: the case shows
// both rounds with their tallies, case-decided is published for round 2,
// the round-2 voters are credited once, the first-round juror keeps their
// one credit and loses the agreement the first decision gave them, and
// the round-1 notices say until when an appeal was possible while the
// final round's do not.
func TestAnOwnerAppealsAnUpheldCaseAndALargerJuryReplacesTheDecision(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	setAppealPolicy(t, ctx, "item", "")
	c, reporter, first := decideFirstRound(t, ctx, "item", "uphold")
	id, owner := c["case_id"].(string), ownerOf(c)
	if c["status"] != "upheld" || c["round"] != 1.0 {
		t.Fatalf("first round: %v", c)
	}
	decidedAt, _ := time.Parse(time.RFC3339Nano, c["decided_at"].(string))
	if until, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(c["appeal_until"])); !until.Equal(decidedAt.Add(72 * time.Hour)) {
		t.Fatalf("appeal_until %v, want decided_at %v + 72h", c["appeal_until"], decidedAt)
	}
	if rounds, _ := c["rounds"].([]any); len(rounds) != 1 {
		t.Fatalf("rounds of a first decision: %v", c["rounds"])
	}
	waitDrained(t, "case-decided")
	eventually(t, "first-round credit", 30*time.Second, func() (bool, string) {
		n, _ := accountOf(t, ctx, first).creditsFor(id)
		return n == 1, fmt.Sprintf("%d credits", n)
	})
	agreedBefore := reviewerOf(t, ctx, first).Stats.Agreed
	for who, n := range outcomeNotices(t, id, 1) {
		if until, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(n["appeal_until"])); !until.Equal(decidedAt.Add(72 * time.Hour)) {
			t.Errorf("round-1 notice to %s: appeal_until %v", who, n["appeal_until"])
		}
	}

	reason := map[string]any{"reason": "the listing is genuine; the jury misread the photos"}
	for _, tc := range []struct {
		who  string
		body any
		want int
	}{
		{reporter, reason, 403},
		{unique("stranger"), reason, 403},
		{first, reason, 403},
		{owner, map[string]any{"reason": ""}, 400},
		{owner, map[string]any{"reason": "ok", "extra": 1}, 400},
		{owner, map[string]any{"reason": "bad\u0007reason"}, 400},
		{owner, "not an object", 400},
	} {
		status, body, err := appeal(ctx, id, tc.who, tc.body)
		if err != nil || status != tc.want {
			t.Fatalf("appeal by %s with %v: %d %v %v, want %d", tc.who, tc.body, status, body, err, tc.want)
		}
	}
	if status, _, _ := appeal(ctx, "c_no_such_case", owner, reason); status != 404 {
		t.Fatalf("appeal of an unknown case: %d", status)
	}
	if got := caseOf(t, ctx, id); got["status"] != "upheld" || got["round"] != 1.0 || got["appeal"] != nil {
		t.Fatalf("refused appeals changed the case: %v", got)
	}

	appealsBefore := metricSum(t, ctx, "report", "govern_appeals_total", `kind="item"`)
	status, body, err := appeal(ctx, id, owner, reason)
	if err != nil || status != 202 || body["case_id"] != id || !strings.HasPrefix(fmt.Sprint(body["appeal_id"]), "a_") {
		t.Fatalf("appeal: %d %v %v", status, body, err)
	}
	appealID := body["appeal_id"]
	if n := metricSum(t, ctx, "report", "govern_appeals_total", `kind="item"`) - appealsBefore; n != 1 {
		t.Errorf("govern_appeals_total{kind=item} moved by %v, want 1", n)
	}
	if status, body, _ := appeal(ctx, id, owner, reason); status != 409 || errorCode(body) != "already_appealed" {
		t.Fatalf("second appeal: %d %v", status, body)
	}

	jurors := jurorsOf(t, ctx, id, 3)
	if slices.Contains(jurors, first) {
		t.Fatalf("the appeal jury %v includes the first round's juror %s", jurors, first)
	}
	open := caseOf(t, ctx, id)
	if open["status"] != "voting" || open["round"] != 2.0 || open["jurors_needed"] != 3.0 || open["tally"] != nil {
		t.Fatalf("appeal round: %v", open)
	}
	if resp, err := vote(ctx, id, first, "uphold"); err != nil || resp.Status != 403 {
		t.Fatalf("the first round's juror votes in the appeal round: %v %v", resp, err)
	}
	for _, j := range jurors[:2] {
		resp, err := vote(ctx, id, j, "reject")
		must(t, resp, err, 202)
	}
	final := waitClosed(t, ctx, id, 40*time.Second)
	if final["status"] != "rejected" || final["round"] != 2.0 || final["decided_by"] != "jury" || final["appeal_until"] != nil {
		t.Fatalf("final decision: %v", final)
	}
	if a, _ := final["appeal"].(map[string]any); a["appeal_id"] != appealID || a["by"] != owner || a["reason"] != reason["reason"] || a["at"] == nil {
		t.Fatalf("appeal shown as %v", final["appeal"])
	}
	rounds, _ := final["rounds"].([]any)
	if len(rounds) != 2 {
		t.Fatalf("rounds %v", final["rounds"])
	}
	for i, want := range []struct {
		round, size, quorum, uphold, reject float64
		decision                            string
	}{{1, 1, 1, 1, 0, "upheld"}, {2, 3, 2, 0, 2, "rejected"}} {
		r := rounds[i].(map[string]any)
		tally, _ := r["tally"].(map[string]any)
		if r["round"] != want.round || r["jury_size"] != want.size || r["quorum"] != want.quorum || r["decision"] != want.decision ||
			tally["uphold"] != want.uphold || tally["reject"] != want.reject || r["decided_at"] == nil || r["decided_by"] != "jury" {
			t.Errorf("round %d: %v, want %+v", i+1, r, want)
		}
	}

	eventually(t, "case-decided of round 2", 30*time.Second, func() (bool, string) {
		msgs := caseDecidedOf(t, id)
		return msgs[2] != nil, fmt.Sprintf("rounds published: %d", len(msgs))
	})
	msgs := caseDecidedOf(t, id)
	if msgs[1]["decision"] != "upheld" || msgs[2]["decision"] != "rejected" {
		t.Fatalf("case-decided: %v", msgs)
	}
	if votes, _ := msgs[2]["votes"].([]any); len(votes) != 2 {
		t.Fatalf("round 2's case-decided votes: %v", msgs[2]["votes"])
	}
	waitDrained(t, "case-decided")
	for _, j := range jurors[:2] {
		eventually(t, "credit for appeal juror "+j, 30*time.Second, func() (bool, string) {
			n, sum := accountOf(t, ctx, j).creditsFor(id)
			return n == 1 && sum > 0, fmt.Sprintf("%d credits worth %d", n, sum)
		})
	}
	if n, _ := accountOf(t, ctx, first).creditsFor(id); n != 1 {
		t.Errorf("the first round's juror has %d credits for the case, want 1", n)
	}
	eventually(t, "first-round agreement regraded", 30*time.Second, func() (bool, string) {
		a := reviewerOf(t, ctx, first).Stats.Agreed
		return a == agreedBefore-1, fmt.Sprintf("agreed %d, was %d", a, agreedBefore)
	})
	for _, j := range jurors[:2] {
		if reviewerOf(t, ctx, j).Stats.Agreed < 1 {
			t.Errorf("appeal juror %s: no agreement counted", j)
		}
	}
	eventually(t, "round-2 notices", 30*time.Second, func() (bool, string) {
		n := outcomeNotices(t, id, 2)
		return n[owner] != nil && n[reporter] != nil, fmt.Sprintf("%d notices", len(n))
	})
	for who, n := range outcomeNotices(t, id, 2) {
		if n["decision"] != "rejected" || n["appeal_until"] != nil {
			t.Errorf("final notice to %s: %v", who, n)
		}
	}
	if status, body, _ := appeal(ctx, id, reporter, reason); status != 409 {
		t.Fatalf("appeal of the final decision: %d %v", status, body)
	}
}

// On a rejected case the reporters are the losing side: the owner's
// appeal is 403, a reporter's is heard (and its round can be withdrawn
// like any open round); once appeal_window has passed, an appeal is 409.
func TestAReporterAppealsARejectedCaseWithinTheWindowOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	setAppealPolicy(t, ctx, "review", "15s")
	heard, reporter, _ := decideFirstRound(t, ctx, "review", "reject")
	late, lateReporter, _ := decideFirstRound(t, ctx, "review", "reject")
	reason := map[string]any{"reason": "the item was counterfeit; here is the serial"}
	if status, body, _ := appeal(ctx, heard["case_id"].(string), ownerOf(heard), reason); status != 403 {
		t.Fatalf("the owner appeals a rejected case: %d %v", status, body)
	}
	id := heard["case_id"].(string)
	if status, body, err := appeal(ctx, id, reporter, reason); err != nil || status != 202 || body["case_id"] != id {
		t.Fatalf("reporter's appeal: %d %v %v", status, body, err)
	}
	jurorsOf(t, ctx, id, 3)
	resp, err := plat.As("report", "ops-withdraw", "ops").Do(ctx, "POST", "/v1/cases/"+id+"/withdrawal",
		map[string]any{"reason": "the listing was removed"})
	must(t, resp, err, 200)
	if c := waitClosed(t, ctx, id, 30*time.Second); c["status"] != "withdrawn" || c["round"] != 2.0 {
		t.Fatalf("withdrawn appeal round: %v", c)
	}

	lateID := late["case_id"].(string)
	until, err := time.Parse(time.RFC3339Nano, fmt.Sprint(caseOf(t, ctx, lateID)["appeal_until"]))
	if err != nil {
		t.Fatalf("appeal_until of %v: %v", late, err)
	}
	time.Sleep(time.Until(until) + time.Second)
	status, body, err := appeal(ctx, lateID, lateReporter, reason)
	if err != nil || status != 409 || errorCode(body) != "appeal_window_ended" {
		t.Fatalf("late appeal: %d %v %v", status, body, err)
	}
	if c := caseOf(t, ctx, lateID); c["status"] != "rejected" || c["round"] != 1.0 {
		t.Fatalf("a late appeal changed the case: %v", c)
	}
}

// An appeal round is a workflow instance of its own ("round-<case>-2"),
// which the repair loop knows: lost while its jury sits, it is started
// again, rebuilds itself from the database (round 2's seats and votes
// only) and ends when the next vote decides round 2; the first round's
// instance stays completed.
func TestTheRepairLoopRestartsALostAppealRound(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	reportAppWith(t, ctx, map[string]string{"REPAIR_INTERVAL": "1s"})
	setAppealPolicy(t, ctx, "comment", "")
	c, _, _ := decideFirstRound(t, ctx, "comment", "uphold")
	id := c["case_id"].(string)
	if status, body, err := appeal(ctx, id, ownerOf(c), map[string]any{"reason": "context was missing"}); err != nil || status != 202 {
		t.Fatalf("appeal: %d %v %v", status, body, err)
	}
	jurors := jurorsOf(t, ctx, id, 3)
	if s := roundStatus(t, ctx, id+"-2"); s != "RUNNING" {
		t.Fatalf("appeal round instance round-%s-2: %q", id, s)
	}
	killRound(t, ctx, id+"-2")
	resp, err := vote(ctx, id, jurors[0], "reject")
	must(t, resp, err, 202)
	waitRestarted(t, ctx, id, id+"-2")
	resp, err = vote(ctx, id, jurors[1], "reject")
	must(t, resp, err, 202)
	final := caseOf(t, ctx, id)
	if final["status"] != "rejected" || final["round"] != 2.0 {
		t.Fatalf("final %v, want rejected in round 2", final)
	}
	restarted := 0
	for _, e := range final["timeline"].([]any) {
		if m := e.(map[string]any); m["event"] == "round_restarted" {
			if m["round"] != 2.0 {
				t.Errorf("restart recorded in round %v", m["round"])
			}
			restarted++
		}
	}
	if restarted != 1 {
		t.Fatalf("%d restarts on the timeline %v", restarted, final["timeline"])
	}
	if s := roundStatus(t, ctx, id); s != "COMPLETED" {
		t.Errorf("first round's instance: %q", s)
	}
	eventually(t, "the restarted appeal round ended", 30*time.Second, func() (bool, string) {
		s := roundStatus(t, ctx, id+"-2")
		return s == "COMPLETED", s
	})
}
