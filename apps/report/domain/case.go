package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Case statuses. A case is open while pending or voting; the rest are final.
const (
	StatusPending   = "pending"
	StatusVoting    = "voting"
	StatusUpheld    = "upheld"
	StatusRejected  = "rejected"
	StatusUndecided = "undecided"
	StatusEscalated = "escalated"
)

// Closed reports whether status is final.
func Closed(status string) bool { return status != StatusPending && status != StatusVoting }

// ValidStatus reports whether s is a case status.
func ValidStatus(s string) bool {
	switch s {
	case StatusPending, StatusVoting, StatusUpheld, StatusRejected, StatusUndecided, StatusEscalated:
		return true
	}
	return false
}

// Votes a juror may cast.
const (
	VoteUphold = "uphold"
	VoteReject = "reject"
)

// Errors of report intake and voting.
var (
	ErrInvalidReport   = errors.New("invalid report")
	ErrInvalidVote     = errors.New("invalid vote")
	ErrAlreadyReported = errors.New("reporter already reported this target")
	ErrNotJuror        = errors.New("caller was not drawn for this case")
	ErrAlreadyVoted    = errors.New("juror already voted")
	ErrJurorReleased   = errors.New("juror was released from this case")
	ErrCaseClosed      = errors.New("case is closed")
	ErrJuryNotReady    = errors.New("the jury is still being drawn; retry shortly")
	ErrCaseNotFound    = errors.New("case not found")
	ErrReportNotFound  = errors.New("report not found")
)

// Target is the reported content and its owner (the reported user).
type Target struct {
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	OwnerID string `json:"owner_id"`
}

// Report is a user's complaint about a target.
type Report struct {
	ReporterID string   `json:"reporter_id"`
	Target     Target   `json:"target"`
	Reason     string   `json:"reason"`
	Evidence   []string `json:"evidence,omitempty"`
}

// Field limits for reports.
const (
	MaxIDLen       = 128
	MaxReasonLen   = 2000
	MaxEvidence    = 20
	MaxEvidenceLen = 2000
	MaxCommentLen  = 2000
)

// Validate checks a report's fields.
func (r Report) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidReport, fmt.Sprintf(format, a...))
	}
	if err := validID("reporter_id", r.ReporterID); err != nil {
		return bad("%s", err)
	}
	if !ValidKind(r.Target.Kind) {
		return bad("target.kind must be one of %s", strings.Join(Kinds, ", "))
	}
	if err := validID("target.id", r.Target.ID); err != nil {
		return bad("%s", err)
	}
	if err := validID("target.owner_id", r.Target.OwnerID); err != nil {
		return bad("%s", err)
	}
	if r.Target.OwnerID == r.ReporterID {
		return bad("a user cannot report their own content")
	}
	if strings.TrimSpace(r.Reason) == "" || utf8.RuneCountInString(r.Reason) > MaxReasonLen {
		return bad("reason is required, at most %d characters", MaxReasonLen)
	}
	if len(r.Evidence) > MaxEvidence {
		return bad("at most %d evidence entries", MaxEvidence)
	}
	for _, e := range r.Evidence {
		if strings.TrimSpace(e) == "" || utf8.RuneCountInString(e) > MaxEvidenceLen {
			return bad("evidence entries must be non-empty, at most %d characters", MaxEvidenceLen)
		}
	}
	return nil
}

func validID(field, v string) error {
	if strings.TrimSpace(v) == "" || len(v) > MaxIDLen || !utf8.ValidString(v) {
		return fmt.Errorf("%s is required, at most %d bytes", field, MaxIDLen)
	}
	return nil
}

// ValidateVote checks a vote's decision and comment.
func ValidateVote(decision, comment string) error {
	if decision != VoteUphold && decision != VoteReject {
		return fmt.Errorf("%w: decision must be %q or %q", ErrInvalidVote, VoteUphold, VoteReject)
	}
	if utf8.RuneCountInString(comment) > MaxCommentLen {
		return fmt.Errorf("%w: comment is at most %d characters", ErrInvalidVote, MaxCommentLen)
	}
	return nil
}

// Tally counts the votes of a case.
type Tally struct {
	Uphold int `json:"uphold"`
	Reject int `json:"reject"`
}

// Add counts one vote.
func (t *Tally) Add(decision string) {
	switch decision {
	case VoteUphold:
		t.Uphold++
	case VoteReject:
		t.Reject++
	}
}

// Decided returns the closing status once one side has quorum votes.
func (t Tally) Decided(quorum int) (string, bool) {
	switch {
	case t.Uphold >= quorum:
		return StatusUpheld, true
	case t.Reject >= quorum:
		return StatusRejected, true
	}
	return "", false
}

// Outcome is the closing status of a case with tally under p: the side with a
// quorum wins; without one the round ends as the policy's on_timeout says.
func Outcome(t Tally, p Policy) string {
	if s, ok := t.Decided(p.Quorum); ok {
		return s
	}
	if p.OnTimeout == OnTimeoutEscalate {
		return StatusEscalated
	}
	return StatusUndecided
}

// Deadline is when a round created at created closes without a quorum.
func Deadline(created time.Time, p Policy) time.Time {
	return created.Add(time.Duration(p.MaxDuration))
}
