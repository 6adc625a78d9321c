package domain

import (
	"errors"
	"fmt"
	"time"
)

// ErrUnknownDecision and ErrUnknownVote are returned for values outside the
// contract's vocabulary.
var (
	ErrUnknownDecision = errors.New("unknown case decision")
	ErrUnknownVote     = errors.New("unknown vote")
)

// Decision is the status a case closed with.
type Decision string

const (
	DecisionUpheld    Decision = "upheld"
	DecisionRejected  Decision = "rejected"
	DecisionUndecided Decision = "undecided"
	DecisionEscalated Decision = "escalated"
)

// ParseDecision accepts only the closing statuses of a case.
func ParseDecision(s string) (Decision, error) {
	switch d := Decision(s); d {
	case DecisionUpheld, DecisionRejected, DecisionUndecided, DecisionEscalated:
		return d, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownDecision, s)
}

// Vote is one juror's ballot.
type Vote string

const (
	VoteUphold Vote = "uphold"
	VoteReject Vote = "reject"
)

// ParseVote accepts only the two ballots a juror can cast.
func ParseVote(s string) (Vote, error) {
	switch v := Vote(s); v {
	case VoteUphold, VoteReject:
		return v, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownVote, s)
}

// SidesWith reports whether v agrees with the decision. Undecided and escalated
// cases have no majority side, so no vote agrees with them.
func (d Decision) SidesWith(v Vote) bool {
	return (d == DecisionUpheld && v == VoteUphold) || (d == DecisionRejected && v == VoteReject)
}

// VoteCredit is what a juror earns for v on a case closed with d, before the
// daily cap.
func (r Rules) VoteCredit(d Decision, v Vote) int64 {
	if d.SidesWith(v) {
		return r.PointsPerVote + r.MajorityBonus
	}
	return r.PointsPerVote
}

// ClipToDailyCap returns the part of credit that still fits under the daily cap
// for a user already credited creditedToday on that day. It is never negative:
// a user at or over the cap (for example after the cap was lowered) gets 0.
func (r Rules) ClipToDailyCap(credit, creditedToday int64) int64 {
	remaining := max(r.DailyCap-creditedToday, 0)
	return max(min(credit, remaining), 0)
}

// CreditDay is the UTC calendar day whose cap a decision counts against: the
// day the case was decided, not the day the event happened to be processed, so
// a redelivered or delayed event lands on the same day every time.
func CreditDay(decidedAt time.Time) time.Time {
	y, m, d := decidedAt.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
