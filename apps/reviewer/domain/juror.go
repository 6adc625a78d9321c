package domain

import (
	"errors"
	"time"

	"github.com/govern/kit/text"
)

// JurorState is where a user stands as a juror.
type JurorState string

// Stored states are active, paused, suspended and retired. Candidate is
// derived: an active user whose profile does not (yet) match the pool rule.
const (
	JurorCandidate JurorState = "candidate"
	JurorActive    JurorState = "active"
	JurorPaused    JurorState = "paused"
	JurorSuspended JurorState = "suspended"
	JurorRetired   JurorState = "retired"
)

// MaxReasonLen bounds a transition's reason.
const MaxReasonLen = 500

var (
	// ErrStateLocked means a user tried to leave a state only an operator
	// (or the end of a suspension) may lift.
	ErrStateLocked = errors.New("state can only be changed by an operator")
)

// Stats counts a juror's history.
type Stats struct {
	Assigned int // tasks drawn
	Voted    int // tasks closed by the juror's vote
	Agreed   int // votes that matched the final decision
	TimedOut int // tasks released because the juror did not answer
	// DecisiveVotes are votes in cases decided upheld or rejected: the
	// denominator of the agreement rate.
	DecisiveVotes int
	// AvgResponse is the mean time from draw to vote (nil before a vote).
	AvgResponse *time.Duration
}

// AgreementRate is agreed over decisive votes; nil before any.
func (s Stats) AgreementRate() *float64 {
	if s.DecisiveVotes == 0 {
		return nil
	}
	r := float64(s.Agreed) / float64(s.DecisiveVotes)
	return &r
}

// ResponseRate is votes over tasks that ended in a vote or a timeout.
func (s Stats) ResponseRate() *float64 {
	if s.Voted+s.TimedOut == 0 {
		return nil
	}
	r := float64(s.Voted) / float64(s.Voted+s.TimedOut)
	return &r
}

// Transition is one recorded change of a juror's state.
type Transition struct {
	From   JurorState
	To     JurorState
	Reason string
	Actor  string
	At     time.Time
}

// Reviewer is a user as a juror.
type Reviewer struct {
	UserID         string
	State          JurorState // stored state
	Profile        Profile
	SuspendedUntil *time.Time
	Stats          Stats
	Transitions    []Transition // newest first
}

// ShownState is the state a client sees: candidate for an active user whose
// profile does not match rule at now.
func (r Reviewer) ShownState(rule PoolRule, now time.Time) JurorState {
	if r.State == JurorActive && !rule.Matches(r.Profile, now) {
		return JurorCandidate
	}
	return r.State
}

// Eligible reports whether a juror in state with profile p may be drawn under
// rule at now. The postgres adapter applies the same filter in SQL.
func Eligible(state JurorState, p Profile, rule PoolRule, now time.Time) bool {
	return state == JurorActive && rule.Matches(p, now)
}

// StateChange is a request to move a juror to another state.
type StateChange struct {
	UserID string
	To     JurorState
	Reason string
	Actor  string // the user id of whoever asks
	ByOps  bool
}

// ParseStoredState accepts the states that can be set; candidate is derived
// from the pool rule, so it cannot be set.
func ParseStoredState(s string) (JurorState, error) {
	switch st := JurorState(s); st {
	case JurorActive, JurorPaused, JurorSuspended, JurorRetired:
		return st, nil
	case JurorCandidate:
		return "", invalid("candidate follows from the pool rule and cannot be set")
	}
	return "", invalid("state must be one of active, paused, suspended, retired")
}

// Validate checks the request without the current state.
func (c StateChange) Validate() error {
	if err := ValidateUserID(c.UserID); err != nil {
		return err
	}
	if err := text.Free("reason", c.Reason, MaxReasonLen, false); err != nil {
		return checked(err)
	}
	if err := text.ID("actor", c.Actor); err != nil { // the token's subject, stored with the transition
		return checked(err)
	}
	if !c.ByOps && c.To != JurorActive && c.To != JurorPaused {
		return invalid("a user may only set their own state to active or paused")
	}
	return nil
}

// Allowed decides whether the change may apply to a juror now in from. A
// user may pause and resume themselves, but never lift a suspension or a
// retirement; an operator may set any state.
func (c StateChange) Allowed(from JurorState) error {
	if c.ByOps {
		return nil
	}
	if from == JurorSuspended || from == JurorRetired {
		return ErrStateLocked
	}
	return nil
}
