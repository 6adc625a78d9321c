// Package text is the one validation of user text for every service: ids,
// short labels and free text. Every string a client sends passes through one
// of these before it reaches a database, so that nothing PostgreSQL refuses
// (NUL, invalid UTF-8) or nothing a reader could be fooled by (control
// characters in ids) gets past the API as a 500 or a poison message.
// It imports only the standard library, so domain packages may use it.
package text

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits shared by every service.
const (
	MaxIDLen   = 128  // bytes: user, target, case, draw ids
	MaxKeyLen  = 200  // bytes: idempotency keys
	MaxTextLen = 2000 // characters: reasons, evidence, comments, notes
	MaxTagLen  = 64   // characters: profile tags and similar labels
)

// ErrInvalid is matched by every error of this package.
var ErrInvalid = errors.New("invalid text")

// Error names the field and says what is wrong with it.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string        { return e.Field + " " + e.Message }
func (e *Error) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, a ...any) error {
	return &Error{Field: field, Message: fmt.Sprintf(format, a...)}
}

// ID accepts 1 to MaxIDLen bytes of valid UTF-8 with no control characters
// and no surrounding white space.
func ID(field, v string) error {
	switch {
	case v == "":
		return invalid(field, "is required")
	case len(v) > MaxIDLen:
		return invalid(field, "is at most %d bytes", MaxIDLen)
	case !utf8.ValidString(v):
		return invalid(field, "is not valid UTF-8")
	case strings.ContainsFunc(v, unicode.IsControl):
		return invalid(field, "contains control characters")
	case strings.TrimSpace(v) != v:
		return invalid(field, "has leading or trailing white space")
	}
	return nil
}

// OptionalID accepts "" or an ID.
func OptionalID(field, v string) error {
	if v == "" {
		return nil
	}
	return ID(field, v)
}

// Key accepts an idempotency key: 1 to MaxKeyLen printable ASCII characters
// without spaces, which every HTTP client can send in a header.
func Key(field, v string) error {
	if v == "" {
		return invalid(field, "is required")
	}
	if len(v) > MaxKeyLen || strings.ContainsFunc(v, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return invalid(field, "must be 1 to %d printable ASCII characters without spaces", MaxKeyLen)
	}
	return nil
}

// Label accepts 1 to max characters of valid UTF-8 with no control
// characters (names, tags).
func Label(field, v string, max int) error {
	switch {
	case strings.TrimSpace(v) == "":
		return invalid(field, "is required")
	case !utf8.ValidString(v):
		return invalid(field, "is not valid UTF-8")
	case utf8.RuneCountInString(v) > max:
		return invalid(field, "is at most %d characters", max)
	case strings.ContainsFunc(v, unicode.IsControl):
		return invalid(field, "contains control characters")
	}
	return nil
}

// Free accepts free text of at most max characters: valid UTF-8, no NUL and
// no control characters but tab and line breaks. required refuses text that
// is empty or only white space.
func Free(field, v string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return invalid(field, "is required")
	case !utf8.ValidString(v):
		return invalid(field, "is not valid UTF-8")
	case utf8.RuneCountInString(v) > max:
		return invalid(field, "is at most %d characters", max)
	case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' }):
		return invalid(field, "contains control characters")
	}
	return nil
}

// Clean reports whether s can be stored and shown as is: valid UTF-8
// without NUL. It is the floor under every string from outside (paths,
// queries, headers), whatever its meaning.
func Clean(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
