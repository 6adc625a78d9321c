package domain_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govern/kit/text"
	"github.com/govern/reward/domain"
)

var decidedAt = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestMalformedCaseDecisionIsRejected(t *testing.T) {
	t.Parallel()
	good := []domain.JurorVote{{JurorID: "u1", Vote: domain.VoteUphold}}
	tests := []struct {
		name      string
		caseID    string
		decision  string
		decidedAt time.Time
		votes     []domain.JurorVote
	}{
		{"missing case id", "", "upheld", decidedAt, good},
		{"case id with control characters", "case\x00", "upheld", decidedAt, good},
		{"case id with a trailing space", "case-1 ", "upheld", decidedAt, good},
		{"case id too long", strings.Repeat("c", 129), "upheld", decidedAt, good},
		{"juror id with a leading space", "case-1", "upheld", decidedAt, []domain.JurorVote{{JurorID: " u1", Vote: domain.VoteUphold}}},
		{"juror id too long", "case-1", "upheld", decidedAt, []domain.JurorVote{{JurorID: strings.Repeat("u", 129), Vote: domain.VoteUphold}}},
		{"unknown decision", "case-1", "voting", decidedAt, good},
		{"missing decision time", "case-1", "upheld", time.Time{}, good},
		{"empty juror id", "case-1", "upheld", decidedAt, []domain.JurorVote{{JurorID: "", Vote: domain.VoteUphold}}},
		{"juror id that is not UTF-8", "case-1", "upheld", decidedAt, []domain.JurorVote{{JurorID: "u\xff", Vote: domain.VoteUphold}}},
		{"unknown vote", "case-1", "upheld", decidedAt, []domain.JurorVote{{JurorID: "u1", Vote: "abstain"}}},
		{"juror with two different votes", "case-1", "upheld", decidedAt, []domain.JurorVote{
			{JurorID: "u1", Vote: domain.VoteUphold}, {JurorID: "u1", Vote: domain.VoteReject},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := domain.NewCaseDecision(tt.caseID, tt.decision, tt.decidedAt, tt.votes)
			if !errors.Is(err, domain.ErrMalformedDecision) {
				t.Fatalf("NewCaseDecision() = %v, want ErrMalformedDecision", err)
			}
		})
	}
}

func TestCaseDecisionListsEachJurorOnceInIDOrder(t *testing.T) {
	t.Parallel()
	d, err := domain.NewCaseDecision("case-1", "rejected", decidedAt, []domain.JurorVote{
		{JurorID: "carol", Vote: domain.VoteReject},
		{JurorID: "alice", Vote: domain.VoteUphold},
		{JurorID: "bob", Vote: domain.VoteReject},
		{JurorID: "alice", Vote: domain.VoteUphold},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.JurorVote{
		{JurorID: "alice", Vote: domain.VoteUphold},
		{JurorID: "bob", Vote: domain.VoteReject},
		{JurorID: "carol", Vote: domain.VoteReject},
	}
	if !slices.Equal(d.Votes, want) {
		t.Fatalf("Votes = %+v, want %+v", d.Votes, want)
	}
}

func TestCaseDecisionWithoutVotesIsValid(t *testing.T) {
	t.Parallel()
	d, err := domain.NewCaseDecision("case-1", "undecided", decidedAt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Votes) != 0 {
		t.Fatalf("Votes = %+v, want none", d.Votes)
	}
}

func TestUserIDsAreTheIDsEveryServiceAccepts(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"u1", "user@example.com", "用户"} {
		if err := domain.ValidateUserID(id); err != nil {
			t.Errorf("ValidateUserID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", "a\x00b", "tab\there", "\xff", " lead", "trail ", strings.Repeat("u", 129)} {
		if err := domain.ValidateUserID(id); !errors.Is(err, domain.ErrInvalidUserID) || !errors.Is(err, text.ErrInvalid) {
			t.Errorf("ValidateUserID(%q) = %v, want ErrInvalidUserID from kit/text", id, err)
		}
	}
}

func TestCaseDecisionRound(t *testing.T) {
	t.Parallel()
	d, err := domain.NewCaseDecision("c1", "upheld", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[int]int{0: 1, 1: 1, 2: 2} {
		if got, err := d.WithRound(in); err != nil || got.Round != want {
			t.Errorf("round %d: %+v %v", in, got, err)
		}
	}
	for _, bad := range []int{-1, 3} {
		if _, err := d.WithRound(bad); !errors.Is(err, domain.ErrMalformedDecision) {
			t.Errorf("round %d: %v", bad, err)
		}
	}
	two, _ := d.WithRound(2)
	if c := domain.CreditFor(domain.VersionedRules{}, two, domain.JurorVote{JurorID: "u1", Vote: domain.VoteUphold}, 0); c.Round != 2 {
		t.Errorf("credit of round 2: %+v", c)
	}
}
