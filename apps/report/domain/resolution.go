package domain

import (
	"errors"
	"fmt"

	"github.com/govern/kit/text"
)

// Who made a case's current decision.
const (
	DecidedByJury  = "jury"
	DecidedByStaff = "staff"
)

// Errors of the staff queue.
var (
	ErrInvalidResolution = errors.New("invalid resolution")
	// ErrNotResolvable: only an escalated or undecided case goes to staff.
	ErrNotResolvable = errors.New("only an escalated or undecided case can be resolved by staff")
)

// MaxNoteLen bounds a staff note.
const MaxNoteLen = text.MaxTextLen

// Resolution is a staff member's decision on a case the jury left open.
type Resolution struct {
	Decision string `json:"decision"`
	Note     string `json:"note"`
}

// Validate checks the decision (uphold or reject) and the note.
func (r Resolution) Validate() error {
	if r.Decision != VoteUphold && r.Decision != VoteReject {
		return fmt.Errorf("%w: decision must be %q or %q", ErrInvalidResolution, VoteUphold, VoteReject)
	}
	if err := text.Free("note", r.Note, MaxNoteLen, false); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidResolution, err)
	}
	return nil
}

// Status is the closing status the resolution gives a case.
func (r Resolution) Status() string {
	if r.Decision == VoteUphold {
		return StatusUpheld
	}
	return StatusRejected
}

// MayResolve says whether a case with status goes to the staff queue.
func MayResolve(status string) error {
	if status == StatusEscalated || status == StatusUndecided {
		return nil
	}
	return fmt.Errorf("%w: the case is %s", ErrNotResolvable, status)
}
