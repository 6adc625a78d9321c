package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/govern/reward/domain"
)

func TestJurorWhoVotedWithDecisionGetsBonus(t *testing.T) {
	t.Parallel()
	rules := domain.DefaultRules()
	tests := []struct {
		decision domain.Decision
		vote     domain.Vote
		want     int64
	}{
		{domain.DecisionUpheld, domain.VoteUphold, 15},
		{domain.DecisionRejected, domain.VoteReject, 15},
	}
	for _, tt := range tests {
		if got := rules.VoteCredit(tt.decision, tt.vote); got != tt.want {
			t.Errorf("VoteCredit(%s, %s) = %d, want %d", tt.decision, tt.vote, got, tt.want)
		}
	}
}

func TestJurorWhoVotedAgainstDecisionGetsOnlyPointsPerVote(t *testing.T) {
	t.Parallel()
	rules := domain.DefaultRules()
	tests := []struct {
		decision domain.Decision
		vote     domain.Vote
	}{
		{domain.DecisionUpheld, domain.VoteReject},
		{domain.DecisionRejected, domain.VoteUphold},
	}
	for _, tt := range tests {
		if got := rules.VoteCredit(tt.decision, tt.vote); got != rules.PointsPerVote {
			t.Errorf("VoteCredit(%s, %s) = %d, want %d", tt.decision, tt.vote, got, rules.PointsPerVote)
		}
	}
}

func TestUndecidedOrEscalatedCaseGivesNoBonus(t *testing.T) {
	t.Parallel()
	rules := domain.DefaultRules()
	for _, d := range []domain.Decision{domain.DecisionUndecided, domain.DecisionEscalated} {
		for _, v := range []domain.Vote{domain.VoteUphold, domain.VoteReject} {
			if got := rules.VoteCredit(d, v); got != rules.PointsPerVote {
				t.Errorf("VoteCredit(%s, %s) = %d, want %d", d, v, got, rules.PointsPerVote)
			}
		}
	}
}

func TestDailyCapClipsCredit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		cap           int64
		credit        int64
		creditedToday int64
		want          int64
	}{
		{"well under the cap", 1000, 15, 0, 15},
		{"exactly reaching the cap", 1000, 15, 985, 15},
		{"crossing the cap is clipped", 1000, 15, 990, 10},
		{"at the cap earns nothing", 1000, 15, 1000, 0},
		{"over a lowered cap earns nothing", 100, 15, 400, 0},
		{"zero cap earns nothing", 0, 15, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rules := domain.Rules{PointsPerVote: 10, MajorityBonus: 5, DailyCap: tt.cap}
			if got := rules.ClipToDailyCap(tt.credit, tt.creditedToday); got != tt.want {
				t.Fatalf("ClipToDailyCap(%d, %d) with cap %d = %d, want %d", tt.credit, tt.creditedToday, tt.cap, got, tt.want)
			}
		})
	}
}

func TestCreditCountsAgainstTheUTCDayOfTheDecision(t *testing.T) {
	t.Parallel()
	tokyo := time.FixedZone("JST", 9*3600)
	tests := []struct {
		decidedAt time.Time
		want      string
	}{
		{time.Date(2025, 3, 1, 23, 59, 59, 0, time.UTC), "2025-03-01"},
		{time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC), "2025-03-02"},
		{time.Date(2025, 3, 2, 8, 0, 0, 0, tokyo), "2025-03-01"},
	}
	for _, tt := range tests {
		if got := domain.CreditDay(tt.decidedAt).Format(time.DateOnly); got != tt.want {
			t.Errorf("CreditDay(%s) = %s, want %s", tt.decidedAt, got, tt.want)
		}
	}
}

func TestCreditForRecordsClippedAmountRuleVersionAndDay(t *testing.T) {
	t.Parallel()
	rules := domain.VersionedRules{Rules: domain.Rules{PointsPerVote: 10, MajorityBonus: 5, DailyCap: 100}, Version: 7}
	decidedAt := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	decision, err := domain.NewCaseDecision("case-1", "upheld", decidedAt, []domain.JurorVote{{JurorID: "u1", Vote: domain.VoteUphold}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		creditedToday int64
		wantAmount    int64
	}{
		{"full credit", 0, 15},
		{"clipped credit", 92, 8},
		{"clipped to zero is still a credit", 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := domain.CreditFor(rules, decision, decision.Votes[0], tt.creditedToday)
			want := domain.Credit{UserID: "u1", CaseID: "case-1", Amount: tt.wantAmount, RuleVersion: 7,
				Day: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}
			if got != want {
				t.Fatalf("CreditFor() = %+v, want %+v", got, want)
			}
		})
	}
}

func TestOnlyKnownDecisionsAndVotesParse(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"upheld", "rejected", "undecided", "escalated"} {
		if _, err := domain.ParseDecision(s); err != nil {
			t.Errorf("ParseDecision(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "voting", "pending", "UPHELD", "uphold"} {
		if _, err := domain.ParseDecision(s); !errors.Is(err, domain.ErrUnknownDecision) {
			t.Errorf("ParseDecision(%q) = %v, want ErrUnknownDecision", s, err)
		}
	}
	for _, s := range []string{"uphold", "reject"} {
		if _, err := domain.ParseVote(s); err != nil {
			t.Errorf("ParseVote(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "upheld", "abstain", "Reject"} {
		if _, err := domain.ParseVote(s); !errors.Is(err, domain.ErrUnknownVote) {
			t.Errorf("ParseVote(%q) = %v, want ErrUnknownVote", s, err)
		}
	}
}
