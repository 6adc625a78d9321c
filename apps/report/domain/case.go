package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/govern/kit/text"
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
	case StatusPending, StatusVoting, StatusUpheld, StatusRejected, StatusUndecided, StatusEscalated, StatusWithdrawn:
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
	// ErrIdempotencyKeyReused: the reporter sent this idempotency key before
	// with a different report.
	ErrIdempotencyKeyReused = errors.New("idempotency key was already used with a different report")
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

// Field limits for reports: kit/text's, shared by every service.
const (
	MaxIDLen       = text.MaxIDLen
	MaxReasonLen   = text.MaxTextLen
	MaxEvidence    = 20
	MaxEvidenceLen = text.MaxTextLen
	MaxCommentLen  = text.MaxTextLen
)

// Validate checks a report's fields. Every string goes through kit/text, so
// nothing PostgreSQL refuses (NUL, invalid UTF-8) or that could fool a
// reader (control characters in ids) is ever stored.
func (r Report) Validate() error {
	bad := func(err error) error { return fmt.Errorf("%w: %w", ErrInvalidReport, err) }
	for _, f := range []struct{ name, v string }{
		{"reporter_id", r.ReporterID}, {"target.id", r.Target.ID}, {"target.owner_id", r.Target.OwnerID},
	} {
		if err := text.ID(f.name, f.v); err != nil {
			return bad(err)
		}
	}
	if !ValidKind(r.Target.Kind) {
		return bad(fmt.Errorf("target.kind must be one of %s", strings.Join(Kinds, ", ")))
	}
	if r.Target.OwnerID == r.ReporterID {
		return bad(errors.New("a user cannot report their own content"))
	}
	if err := text.Free("reason", r.Reason, MaxReasonLen, true); err != nil {
		return bad(err)
	}
	if len(r.Evidence) > MaxEvidence {
		return bad(fmt.Errorf("at most %d evidence entries", MaxEvidence))
	}
	for i, e := range r.Evidence {
		if err := text.Free(fmt.Sprintf("evidence[%d]", i), e, MaxEvidenceLen, true); err != nil {
			return bad(err)
		}
	}
	return nil
}

// ValidateVote checks a vote's decision and comment.
func ValidateVote(decision, comment string) error {
	if decision != VoteUphold && decision != VoteReject {
		return fmt.Errorf("%w: decision must be %q or %q", ErrInvalidVote, VoteUphold, VoteReject)
	}
	if err := text.Free("comment", comment, MaxCommentLen, false); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidVote, err)
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

// Fingerprint identifies the report's content: the SHA-256 of its canonical
// JSON (fields in a fixed order, no evidence and empty evidence alike). A
// replayed idempotency key must come with the same fingerprint.
func (r Report) Fingerprint() string {
	if len(r.Evidence) == 0 {
		r.Evidence = nil
	}
	b, _ := json.Marshal(r) // a struct of strings always encodes
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
