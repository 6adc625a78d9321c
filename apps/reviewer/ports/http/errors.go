package http

import (
	"errors"
	"net/http"

	"github.com/govern/kit/httpx"
	"github.com/govern/reviewer/app"
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
	case errors.Is(err, app.ErrStreamsPerUser), errors.Is(err, app.ErrStreamsPerReplica):
		return &httpx.Error{Status: http.StatusTooManyRequests, Code: "too_many_streams", Message: err.Error()}
	case errors.Is(err, app.ErrStreamsClosed):
		return &httpx.Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: err.Error()}
	}
	return nil
}

// retryAfter is the Retry-After (seconds) of a refused stream: a user at
// their cap must close one first; a full or departing replica may have room
// soon, or another replica has.
func retryAfter(err error) string {
	if errors.Is(err, app.ErrStreamsPerUser) {
		return "30"
	}
	if errors.Is(err, app.ErrStreamsPerReplica) {
		return "5"
	}
	return "1"
}

var mapper httpx.Mapper = mapError
