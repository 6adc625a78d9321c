package domain

import (
	"testing"
	"time"
)

func TestRoundsOfCaseDecided(t *testing.T) {
	t.Parallel()
	for in, want := range map[int]int{0: 1, 1: 1, 2: 2} {
		if got, err := ParseRound(in); err != nil || got != want {
			t.Errorf("round %d: %d %v, want %d", in, got, err, want)
		}
	}
	for _, bad := range []int{-1, 3, 100} {
		if _, err := ParseRound(bad); err == nil {
			t.Errorf("round %d accepted", bad)
		}
	}
}

func TestAnAppealRegradesTheFirstRoundsVotes(t *testing.T) {
	t.Parallel()
	first := []SettledVote{
		{JurorID: "a", Vote: VoteUphold, Agreed: true},  // sided with upheld
		{JurorID: "b", Vote: VoteReject, Agreed: false}, // lost with reject
	}
	got := RegradeAgainst(first, DecisionRejected)
	want := []Regrade{{JurorID: "a", Agreed: false, Delta: -1}, {JurorID: "b", Agreed: true, Delta: 1}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("vote %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// Applied once, the records now agree with the final decision: again, nothing moves.
	again := []SettledVote{{JurorID: "a", Vote: VoteUphold, Agreed: false}, {JurorID: "b", Vote: VoteReject, Agreed: true}}
	for _, r := range RegradeAgainst(again, DecisionRejected) {
		if r.Delta != 0 {
			t.Errorf("regraded twice: %+v", r)
		}
	}
	// An appeal that ends undecided agrees with nobody.
	for _, r := range RegradeAgainst(first, DecisionUndecided) {
		if r.Agreed || (r.JurorID == "a" && r.Delta != -1) || (r.JurorID == "b" && r.Delta != 0) {
			t.Errorf("undecided appeal: %+v", r)
		}
	}
}

func TestDrawRequestRound(t *testing.T) {
	t.Parallel()
	for round, ok := range map[int]bool{0: true, 1: true, 2: true, 3: false, -1: false} {
		r := DrawRequest{DrawID: "c1/r2/jury", CaseID: "c1", Size: 3, Target: Target{Kind: "post", ID: "p"}, Deadline: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Round: round}
		if err := r.Validate(); (err == nil) != ok {
			t.Errorf("round %d: %v", round, err)
		}
	}
}
