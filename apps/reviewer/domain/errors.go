// Package domain holds the reviewer service's rules: who may sit on a jury,
// the operator's pool rule, and how a jury is drawn. It is pure Go.
package domain

import (
	"errors"
	"fmt"

	"github.com/govern/kit/text"
)

var (
	// ErrInvalidArgument is wrapped by every validation failure.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrPoolTooSmall means fewer eligible jurors exist than the jury needs;
	// no jury is drawn at all.
	ErrPoolTooSmall = errors.New("not enough eligible jurors")
	// ErrReviewerNotFound means the user has never been seen by this service.
	ErrReviewerNotFound = errors.New("reviewer not found")
	// ErrTaskNotFound means the juror was never drawn for the case.
	ErrTaskNotFound = errors.New("task not found")
	// ErrDrawIDReused means a draw id already served another case.
	ErrDrawIDReused = errors.New("draw id already used for another case")
)

// ValidationError explains which input is wrong; it matches
// ErrInvalidArgument and kit's text.ErrInvalid.
type ValidationError struct {
	Message string
}

func (e *ValidationError) Error() string { return "invalid argument: " + e.Message }
func (e *ValidationError) Is(target error) bool {
	return target == ErrInvalidArgument || target == text.ErrInvalid
}

func invalid(format string, args ...any) error {
	return &ValidationError{Message: fmt.Sprintf(format, args...)}
}

// checked turns a kit/text verdict into this package's validation error.
func checked(err error) error {
	if err == nil {
		return nil
	}
	return &ValidationError{Message: err.Error()}
}
