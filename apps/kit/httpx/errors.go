// Package httpx holds the HTTP conventions every service shares: the error
// envelope and its mapping to status codes, strict JSON decoding, list paging,
// and the gin engine with health, metrics and access logs.
package httpx

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Error is an error with the HTTP status and machine-readable code a client sees.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Constructors for the statuses the contract uses.
func BadRequest(msg string) *Error   { return &Error{http.StatusBadRequest, "invalid_argument", msg} }
func Unauthorized(msg string) *Error { return &Error{http.StatusUnauthorized, "unauthenticated", msg} }
func Forbidden(msg string) *Error    { return &Error{http.StatusForbidden, "forbidden", msg} }
func NotFound(msg string) *Error     { return &Error{http.StatusNotFound, "not_found", msg} }
func Conflict(code, msg string) *Error {
	return &Error{http.StatusConflict, code, msg}
}
func TooLarge() *Error {
	return &Error{http.StatusRequestEntityTooLarge, "payload_too_large", "request body is larger than 1 MiB"}
}

// Mapper turns a domain error into an *Error; it returns nil for errors it does
// not know. Each service registers one for its own domain errors.
type Mapper func(error) *Error

// Write sends err as the contract's error envelope. Errors that no mapper knows
// are logged and answered 500 without leaking their text.
func Write(c *gin.Context, err error, mappers ...Mapper) {
	var he *Error
	if !errors.As(err, &he) {
		for _, m := range mappers {
			if he = m(err); he != nil {
				break
			}
		}
	}
	if he == nil {
		slog.ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method, "path", c.FullPath(), "err", err)
		he = &Error{http.StatusInternalServerError, "internal", "internal error"}
	}
	c.AbortWithStatusJSON(he.Status, gin.H{"error": gin.H{"code": he.Code, "message": he.Message}})
}
