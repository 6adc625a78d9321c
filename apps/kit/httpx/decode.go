package httpx

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// MaxBody bounds every request body (1 MiB); larger bodies are a 413.
const MaxBody = 1 << 20

// ReadBody reads the whole body, at most MaxBody bytes: a larger one is a
// 413, an unreadable one a 400.
func ReadBody(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, TooLarge()
	case err != nil:
		return nil, BadRequest("request body unreadable")
	}
	return body, nil
}

// DecodeJSON reads the body strictly into v: one JSON object, no unknown fields,
// no trailing data, at most MaxBody bytes (else 413). Every other failure is a 400.
func DecodeJSON(c *gin.Context, v any) error {
	body, err := ReadBody(c)
	if err != nil {
		return err
	}
	return Unmarshal(body, v)
}

// Unmarshal decodes data strictly into v (see DecodeJSON). A string holding
// NUL (\u0000) is refused here for every body and message: no field may
// carry one to PostgreSQL, which cannot store it.
func Unmarshal(data []byte, v any) error {
	if hasEscapedNUL(data) {
		return BadRequest("malformed JSON: strings may not contain NUL (\\u0000)")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return BadRequest(fmt.Sprintf("field %q has the wrong type", typeErr.Field))
		}
		return BadRequest("malformed JSON: " + err.Error())
	}
	// Only white space may follow. (dec.More alone lets a stray "]" or "}"
	// through.)
	if _, err := dec.Token(); err != io.EOF {
		return BadRequest("malformed JSON: trailing data after the object")
	}
	return nil
}

// hasEscapedNUL reports whether data holds the JSON escape \u0000 (a raw NUL
// byte is already invalid JSON). An escaped backslash before "u0000" is not
// an escape, so backslashes are counted.
func hasEscapedNUL(data []byte) bool {
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte(`u0000`))
		if j < 0 {
			return false
		}
		at := i + j
		slashes := 0
		for k := at - 1; k >= 0 && data[k] == '\\'; k-- {
			slashes++
		}
		if slashes%2 == 1 {
			return true
		}
		i = at + 1
	}
}

// Limit reads the contract's list limit: default 50, clamped to 1..500.
func Limit(c *gin.Context) (int, error) {
	s := c.Query("limit")
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, BadRequest("limit must be an integer")
	}
	return min(max(n, 1), 500), nil
}

// EncodeCursor turns the position of a list's last item into the opaque
// next_cursor every list of the platform hands out.
func EncodeCursor(position any) string {
	b, err := json.Marshal(position)
	if err != nil {
		panic(fmt.Sprintf("httpx: cursor position %T is not JSON: %v", position, err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor EncodeCursor made into position. An empty
// cursor (the first page) returns false; anything this service did not issue
// is a 400.
func DecodeCursor(cursor string, position any) (bool, error) {
	if cursor == "" {
		return false, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	// A position is compared with database rows: one holding NUL would make
	// PostgreSQL fail the query.
	if err != nil || hasEscapedNUL(raw) || json.Unmarshal(raw, position) != nil {
		return false, BadRequest("cursor is not one this service issued")
	}
	return true, nil
}
