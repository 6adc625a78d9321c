package http

import (
	"errors"

	"github.com/govern/kit/httpx"
	"github.com/govern/reviewer/domain"
)

// mapError is the one place domain errors become HTTP answers.
func mapError(err error) *httpx.Error {
	var invalid *domain.ValidationError
	switch {
	case errors.As(err, &invalid):
		return httpx.BadRequest(invalid.Message)
	case errors.Is(err, domain.ErrReviewerNotFound):
		return httpx.NotFound("reviewer not found")
	case errors.Is(err, domain.ErrTaskNotFound):
		return httpx.NotFound("task not found")
	case errors.Is(err, domain.ErrPoolTooSmall):
		return httpx.Conflict("pool_too_small", "not enough eligible jurors for this jury")
	case errors.Is(err, domain.ErrStateLocked):
		return httpx.Conflict("state_locked", "only an operator may change this juror's state now")
	case errors.Is(err, domain.ErrDrawIDReused):
		return httpx.Conflict("draw_id_reused", "draw_id was already used for another case")
	}
	return nil
}

var mapper httpx.Mapper = mapError
