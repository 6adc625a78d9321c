package domain

import (
	"errors"
	"fmt"
	"time"

	"github.com/govern/kit/text"
)

// ErrInvalidUserID is returned for a user id no account can have.
var ErrInvalidUserID = errors.New("invalid user id")

// ValidateUserID accepts the user ids every service accepts (kit/text).
func ValidateUserID(id string) error {
	if err := text.ID("user_id", id); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidUserID, err)
	}
	return nil
}

// Reason says why a ledger entry exists.
type Reason string

// ReasonJuryVote credits a juror for a vote on a decided case; one such entry
// exists per (case, juror).
const ReasonJuryVote Reason = "jury_vote"

// Entry is one append-only line of a user's ledger. Credits are positive,
// redemptions negative; CaseID or RedemptionID says what it belongs to.
type Entry struct {
	ID           int64
	UserID       string
	Amount       int64
	Reason       Reason
	CaseID       string // empty when the entry is not about a case
	RedemptionID string // empty when the entry is not a redemption
	RuleVersion  int64  // rules version a vote credit was computed with; 0 otherwise
	At           time.Time
}

// Credit is the entry a juror is due for a vote on a decided case. An amount
// of 0 (clipped by the daily cap) is still recorded, so the (case, juror) pair
// is marked done and a later delivery cannot credit it under a higher cap.
type Credit struct {
	UserID      string
	CaseID      string
	Amount      int64
	RuleVersion int64
	Day         time.Time // the UTC day whose cap the credit counts against
	Round       int       // the case's round the ballot was cast in
}

// CreditFor computes the credit for one ballot on decision under rules, given
// what the juror was already credited on the decision's day.
func CreditFor(rules VersionedRules, decision CaseDecision, vote JurorVote, creditedToday int64) Credit {
	return Credit{
		UserID:      vote.JurorID,
		CaseID:      decision.CaseID,
		Amount:      rules.ClipToDailyCap(rules.VoteCredit(decision.Decision, vote.Vote), creditedToday),
		RuleVersion: rules.Version,
		Day:         CreditDay(decision.DecidedAt),
		Round:       decision.Round,
	}
}
