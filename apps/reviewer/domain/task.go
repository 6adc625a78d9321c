package domain

import (
	"time"

	"github.com/govern/kit/text"
)

// CloseReason says why a task closed.
type CloseReason string

const (
	ClosedVoted    CloseReason = "voted"    // the juror voted
	ClosedReleased CloseReason = "released" // the juror timed out and was released
	ClosedRecused  CloseReason = "recused"  // the juror reported the target: a conflict, not a timeout
	ClosedDecided  CloseReason = "decided"  // the case was decided first
	// ClosedWithdrawn: the case was withdrawn before the juror voted, which
	// counts neither as a vote nor as a timeout.
	ClosedWithdrawn CloseReason = "withdrawn"
)

// ParseJurorCloseReason accepts the reasons the report service may give for
// closing one juror's task.
func ParseJurorCloseReason(s string) (CloseReason, error) {
	switch r := CloseReason(s); r {
	case ClosedVoted, ClosedReleased, ClosedRecused, ClosedWithdrawn:
		return r, nil
	}
	return "", invalid("reason must be %q, %q, %q or %q", ClosedVoted, ClosedReleased, ClosedRecused, ClosedWithdrawn)
}

// Task is one juror's assignment to one case.
type Task struct {
	CaseID    string
	JurorID   string
	Target    Target
	Reason    string
	Deadline  time.Time
	CreatedAt time.Time
}

// ValidateCaseID checks a case id from a request or event.
func ValidateCaseID(caseID string) error { return checked(text.ID("case_id", caseID)) }
