package domain

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/govern/kit/text"
)

// ErrMalformedDecision is returned for a case decision that cannot be credited
// however often it is retried.
var ErrMalformedDecision = errors.New("malformed case decision")

// JurorVote is the ballot one juror cast on a case.
type JurorVote struct {
	JurorID string
	Vote    Vote
}

// CaseDecision is a closed case as far as rewards are concerned.
type CaseDecision struct {
	CaseID    string
	Decision  Decision
	DecidedAt time.Time
	// Votes holds one ballot per juror, sorted by juror id so that accounts
	// are always locked in the same order.
	Votes []JurorVote
	// Round is the decided round: 1, or 2 for an appeal's, whose jurors
	// never sat in round 1 (so one credit per case and juror is one per
	// case, round and juror).
	Round int
}

// MaxRound is the last round a case can have: its appeal's.
const MaxRound = 2

// WithRound sets the decision's round: absent (0) is the first.
func (d CaseDecision) WithRound(round int) (CaseDecision, error) {
	if round == 0 {
		round = 1
	}
	if round < 1 || round > MaxRound {
		return CaseDecision{}, fmt.Errorf("%w: case %s: round must be between 1 and %d", ErrMalformedDecision, d.CaseID, MaxRound)
	}
	d.Round = round
	return d, nil
}

// EarliestDecision is the floor for a decision's time: nothing was decided
// before the platform existed, so an earlier decided_at (the Unix epoch of an
// unset field, say) is a malformed event, not a credit on a day long gone.
var EarliestDecision = time.Date(2020, time.January, 1, 0, 0, 0, 0, time.UTC)

// NewCaseDecision validates a decision and its ballots. A juror listed twice
// with the same ballot counts once; listed with two different ballots, the
// decision is malformed.
func NewCaseDecision(caseID, decision string, decidedAt time.Time, votes []JurorVote) (CaseDecision, error) {
	if err := text.ID("case_id", caseID); err != nil {
		return CaseDecision{}, fmt.Errorf("%w: %w", ErrMalformedDecision, err)
	}
	d, err := ParseDecision(decision)
	if err != nil {
		return CaseDecision{}, fmt.Errorf("%w: case %s: %w", ErrMalformedDecision, caseID, err)
	}
	if decidedAt.IsZero() {
		return CaseDecision{}, fmt.Errorf("%w: case %s: decided_at is missing", ErrMalformedDecision, caseID)
	}
	if decidedAt.Before(EarliestDecision) {
		return CaseDecision{}, fmt.Errorf("%w: case %s: decided_at %s is before the platform existed", ErrMalformedDecision, caseID, decidedAt.UTC().Format(time.RFC3339))
	}
	sorted := make([]JurorVote, 0, len(votes))
	for i, v := range votes {
		if err := ValidateUserID(v.JurorID); err != nil {
			return CaseDecision{}, fmt.Errorf("%w: case %s: vote %d: juror_id: %w", ErrMalformedDecision, caseID, i, err)
		}
		if _, err := ParseVote(string(v.Vote)); err != nil {
			return CaseDecision{}, fmt.Errorf("%w: case %s: juror %s: %w", ErrMalformedDecision, caseID, v.JurorID, err)
		}
		sorted = append(sorted, v)
	}
	slices.SortStableFunc(sorted, func(a, b JurorVote) int { return cmp.Compare(a.JurorID, b.JurorID) })
	unique := sorted[:0]
	for _, v := range sorted {
		if n := len(unique); n > 0 && unique[n-1].JurorID == v.JurorID {
			if unique[n-1].Vote != v.Vote {
				return CaseDecision{}, fmt.Errorf("%w: case %s: juror %s cast two different votes", ErrMalformedDecision, caseID, v.JurorID)
			}
			continue
		}
		unique = append(unique, v)
	}
	return CaseDecision{CaseID: caseID, Decision: d, DecidedAt: decidedAt.UTC(), Votes: unique}, nil
}
