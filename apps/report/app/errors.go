package app

import (
	"errors"

	"github.com/govern/kit/text"
	"github.com/govern/report/domain"
)

// ErrRefused means another service refused a request as invalid (a 4xx
// answer other than 408, 409 pool_too_small and 429): asking again cannot help.
var ErrRefused = errors.New("refused by the other service")

// ErrJurorNotFound means the case has no such juror.
var ErrJurorNotFound = errors.New("no such juror in this case")

// ErrNotClosed means a closed case was expected.
var ErrNotClosed = errors.New("case is not closed")

// Permanent reports whether err can never be cured by retrying: invalid
// input, a refusal, or something that does not exist. Every other error
// (a database, sidecar or service that is down or slow) is transient.
func Permanent(err error) bool {
	for _, target := range []error{
		text.ErrInvalid, ErrRefused, ErrJurorNotFound, ErrNotClosed,
		domain.ErrInvalidReport, domain.ErrInvalidVote, domain.ErrInvalidPolicy,
		domain.ErrAlreadyReported, domain.ErrIdempotencyKeyReused, domain.ErrDailyCapReached,
		domain.ErrCaseNotFound, domain.ErrReportNotFound, domain.ErrNotJuror,
		domain.ErrInvalidAppeal,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
