package app

import (
	"testing"
	"time"

	"github.com/govern/report/domain"
)

func TestAppealRoundsHaveTheirOwnKeysAndDraws(t *testing.T) {
	t.Parallel()
	one, two := DecisionRef{CaseID: "c1"}, DecisionRef{CaseID: "c1", Round: 2}
	if one.Key() != "decision:c1" || (DecisionRef{CaseID: "c1", Round: 1}).Key() != one.Key() {
		t.Errorf("the first round keeps the key it had before appeals: %q", one.Key())
	}
	if keys := map[string]bool{one.Key(): true, two.Key(): true, one.StaffKey(): true, two.StaffKey(): true}; len(keys) != 4 {
		t.Errorf("two decisions share an outbox key: %v", keys)
	}
	first, appeal := CaseView{ID: "c1", Round: 1}, CaseView{ID: "c1", Round: 2}
	if drawID(first, "jury") != "c1/jury" || drawID(first, "substitute-3") != "c1/substitute-3" {
		t.Errorf("first round draws: %q", drawID(first, "jury"))
	}
	if drawID(appeal, "jury") == drawID(first, "jury") || drawID(appeal, "substitute-3") == drawID(first, "substitute-3") {
		t.Errorf("the appeal round reuses the first round's draw ids: %q", drawID(appeal, "jury"))
	}
	appeal.Rounds = []RoundView{{Round: 1, Jurors: []string{"b", "a", "b"}}}
	if ex := roundExclusions(appeal); len(ex) != 2 || ex[0] != "a" || ex[1] != "b" {
		t.Errorf("appeal exclusions %v", ex)
	}
}

func TestAppealUntilIsForFirstRoundDecisionsOnly(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	p := domain.DefaultPolicy("post")
	p.AppealWindow = domain.Duration(time.Hour)
	c := CaseView{ID: "c1", Round: 1, Status: domain.StatusUpheld, DecidedAt: &at, Policy: p}
	if u := AppealUntil(c); u == nil || !u.Equal(at.Add(time.Hour)) {
		t.Fatalf("appeal_until %v", u)
	}
	ref := OutcomeRef{CaseID: "c1", Round: 1, By: domain.DecidedByJury, Decision: domain.StatusUpheld}
	if u := noticeAppealUntil(c, ref, &at); u == nil || !u.Equal(at.Add(time.Hour)) {
		t.Errorf("round 1 notice: %v", u)
	}
	for name, r := range map[string]OutcomeRef{
		"round 2":    {CaseID: "c1", Round: 2, By: domain.DecidedByJury, Decision: domain.StatusRejected},
		"undecided":  {CaseID: "c1", Round: 1, By: domain.DecidedByJury, Decision: domain.StatusUndecided},
		"withdrawal": {CaseID: "c1", Round: 1, By: OutcomeByWithdrawal, Decision: domain.StatusWithdrawn},
	} {
		if u := noticeAppealUntil(c, r, &at); u != nil {
			t.Errorf("%s notice carries appeal_until %v", name, u)
		}
	}
	appealed := c
	appealed.Appeal = &AppealView{ID: "a1"}
	final := c
	final.Round = 2
	undecided := c
	undecided.Status = domain.StatusUndecided
	for name, v := range map[string]CaseView{"appealed": appealed, "final round": final, "undecided": undecided} {
		if u := AppealUntil(v); u != nil {
			t.Errorf("%s case shows appeal_until %v", name, u)
		}
	}
	earlier := at.Add(-time.Hour)
	final.Rounds = []RoundView{{Round: 1, DecidedAt: &earlier}}
	if d := roundDecidedAt(final, 1); d == nil || !d.Equal(earlier) {
		t.Errorf("round 1's decided_at in round 2: %v", d)
	}
	if d := roundDecidedAt(final, 2); d != final.DecidedAt {
		t.Errorf("round 2's decided_at: %v", d)
	}
}
