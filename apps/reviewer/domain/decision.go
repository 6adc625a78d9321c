package domain

import (
	"slices"
	"time"
)

// Case decisions as published on case-decided.
const (
	DecisionUpheld    = "upheld"
	DecisionRejected  = "rejected"
	DecisionUndecided = "undecided"
	DecisionEscalated = "escalated"
)

// Votes a juror may cast.
const (
	VoteUphold = "uphold"
	VoteReject = "reject"
)

// CaseResult is a decided case as far as the jurors' records go.
type CaseResult struct {
	CaseID    string
	Decision  string
	DecidedAt time.Time
	Votes     map[string]string // juror id -> uphold | reject
	// Round is the decided round: 1, or 2 for an appeal's decision, which
	// is final and replaces the first.
	Round int
}

// NewCaseResult validates a case-decided event.
func NewCaseResult(caseID, decision string, decidedAt time.Time, votes map[string]string) (CaseResult, error) {
	if err := ValidateCaseID(caseID); err != nil {
		return CaseResult{}, err
	}
	if !slices.Contains([]string{DecisionUpheld, DecisionRejected, DecisionUndecided, DecisionEscalated}, decision) {
		return CaseResult{}, invalid("decision must be upheld, rejected, undecided or escalated")
	}
	for j, v := range votes {
		if err := ValidateUserID(j); err != nil {
			return CaseResult{}, err
		}
		if v != VoteUphold && v != VoteReject {
			return CaseResult{}, invalid("vote of %s must be uphold or reject", j)
		}
	}
	return CaseResult{CaseID: caseID, Decision: decision, DecidedAt: decidedAt, Votes: votes, Round: 1}, nil
}

// Agrees reports whether vote matched decision: uphold agrees with upheld and
// reject with rejected; undecided and escalated cases agree with nobody.
func Agrees(vote, decision string) bool {
	return vote == VoteUphold && decision == DecisionUpheld || vote == VoteReject && decision == DecisionRejected
}

// Decisive reports whether decision can agree with a vote.
func Decisive(decision string) bool {
	return decision == DecisionUpheld || decision == DecisionRejected
}

// TaskOutcome is how the decision settles one juror's task.
type TaskOutcome struct {
	JurorID     string
	Vote        string // "" when the juror did not vote
	Agreed      bool
	CloseReason CloseReason
	// NewlyVoted is a vote this service learns of from the decision (the
	// vote's own close never arrived): it counts as voted now.
	NewlyVoted  bool
	NewlyClosed bool
}

// OpenTask is the part of a task the decision needs.
type OpenTask struct {
	JurorID     string
	Open        bool
	CloseReason CloseReason // when closed
}

// Settle computes every task's outcome once the case is decided.
func (r CaseResult) Settle(tasks []OpenTask) []TaskOutcome {
	out := make([]TaskOutcome, 0, len(tasks))
	for _, t := range tasks {
		o := TaskOutcome{JurorID: t.JurorID, Vote: r.Votes[t.JurorID], CloseReason: t.CloseReason, NewlyClosed: t.Open}
		switch {
		case o.Vote != "":
			o.Agreed = Agrees(o.Vote, r.Decision)
			o.NewlyVoted = t.Open || t.CloseReason != ClosedVoted
			o.CloseReason = ClosedVoted
		case t.Open:
			o.CloseReason = ClosedDecided
		}
		out = append(out, o)
	}
	return out
}
