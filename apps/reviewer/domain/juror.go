package domain

import "time"

// JurorState is where a user stands as a juror.
type JurorState string

const (
	JurorActive    JurorState = "active"
	JurorPaused    JurorState = "paused"
	JurorSuspended JurorState = "suspended"
	JurorRetired   JurorState = "retired"
)

// Stats counts a juror's history.
type Stats struct {
	Assigned int // tasks drawn
	Voted    int // tasks closed by the juror's vote
	Agreed   int // votes that matched the final decision
	TimedOut int // tasks released because the juror did not answer
}

// Reviewer is a user as a juror.
type Reviewer struct {
	UserID string
	State  JurorState
	Stats  Stats
}

// Eligible reports whether a juror in state with profile p may be drawn under
// rule at now. The postgres adapter applies the same filter in SQL.
func Eligible(state JurorState, p Profile, rule PoolRule, now time.Time) bool {
	return state == JurorActive && rule.Matches(p, now)
}
