package app

import (
	"strings"
	"testing"

	"github.com/govern/report/domain"
)

func TestEachDecisionHasItsOwnNoticesAndReason(t *testing.T) {
	t.Parallel()
	jury := OutcomeRef{CaseID: "c1", Round: 1, By: domain.DecidedByJury, Decision: domain.StatusUndecided}
	staff := OutcomeRef{CaseID: "c1", Round: 1, By: domain.DecidedByStaff, Decision: domain.StatusUpheld}
	gone := OutcomeRef{CaseID: "c1", Round: 1, By: OutcomeByWithdrawal, Decision: domain.StatusWithdrawn}
	if jury.Key() == staff.Key() || staff.Key() == gone.Key() || jury.Key() == (OutcomeRef{CaseID: "c1", Round: 2, By: domain.DecidedByJury}).Key() {
		t.Fatal("two decisions of a case share an outbox key: one would absorb the other")
	}
	c := CaseView{ID: "c1", Status: domain.StatusUpheld, Tally: domain.Tally{Uphold: 1, Reject: 1}, Reason: "fake",
		DecidedBy: domain.DecidedByStaff, Note: "serial does not exist", WithdrawalReason: "listing deleted"}
	if r := outcomeReason(c, jury); !strings.Contains(r, "undecided by the jury: 1 to uphold, 1 to reject") {
		t.Errorf("jury reason %q: the jury's own decision and tally", r)
	}
	if r := outcomeReason(c, staff); !strings.Contains(r, "serial does not exist") {
		t.Errorf("staff reason %q: the note", r)
	}
	if r := outcomeReason(c, gone); !strings.Contains(r, "listing deleted") {
		t.Errorf("withdrawal reason %q", r)
	}
}

func TestTheWithdrawalEventHasOneKeyPerCase(t *testing.T) {
	t.Parallel()
	w := RoundEvent{CaseID: "c1", Withdrawn: true}
	if w.Key() == (RoundEvent{CaseID: "c1", JurorID: "", Decision: "uphold"}).Key() || w.Key() != (RoundEvent{CaseID: "c1", Withdrawn: true}).Key() {
		t.Fatalf("withdrawal key %q", w.Key())
	}
}
