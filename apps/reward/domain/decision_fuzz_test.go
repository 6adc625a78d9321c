package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/govern/kit/text"
	"github.com/govern/reward/domain"
)

// A case-decided event is credited only when it names a storable case and
// storable jurors with contract ballots, each juror once; anything else is
// malformed (dropped, never retried).
func FuzzCaseDecision(f *testing.F) {
	f.Add("case-1", "upheld", "alice", "uphold", "bob", "reject", int64(1))
	f.Add("case-1", "rejected", "alice", "uphold", "alice", "uphold", int64(1))
	f.Add("case-1", "undecided", "alice", "uphold", "alice", "reject", int64(1))
	f.Add("", "maybe", "", "abstain", "b", "x", int64(0))
	f.Add("case-1", "upheld", "alice", "uphold", "bob", "reject", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	f.Fuzz(func(t *testing.T, caseID, decision, juror1, vote1, juror2, vote2 string, decidedAt int64) {
		votes := []domain.JurorVote{{JurorID: juror1, Vote: domain.Vote(vote1)}, {JurorID: juror2, Vote: domain.Vote(vote2)}}
		d, err := domain.NewCaseDecision(caseID, decision, time.Unix(0, decidedAt), votes)
		if err != nil {
			if !errors.Is(err, domain.ErrMalformedDecision) {
				t.Fatalf("refusal %v is not ErrMalformedDecision", err)
			}
			return
		}
		if err := text.ID("case_id", d.CaseID); err != nil {
			t.Fatalf("accepted decision: %v", err)
		}
		if d.DecidedAt.Before(domain.EarliestDecision) || d.DecidedAt.Location() != time.UTC {
			t.Fatalf("accepted decided_at %s", d.DecidedAt)
		}
		seen := map[string]bool{}
		for _, v := range d.Votes {
			if err := text.ID("juror_id", v.JurorID); err != nil {
				t.Fatalf("accepted decision: %v", err)
			}
			if seen[v.JurorID] || v.Vote != domain.VoteUphold && v.Vote != domain.VoteReject {
				t.Fatalf("accepted votes %+v", d.Votes)
			}
			seen[v.JurorID] = true
		}
		if juror1 == juror2 && vote1 != vote2 {
			t.Fatalf("juror %s credited for two different votes", juror1)
		}
	})
}
