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

// MaxBody bounds every request body; larger bodies are a 400, never a crash.
const MaxBody = 1 << 20

// DecodeJSON reads the body strictly into v: one JSON object, no unknown fields,
// no trailing data, at most MaxBody bytes. Every failure is a 400.
func DecodeJSON(c *gin.Context, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody))
	if err != nil {
		return BadRequest("request body too large or unreadable")
	}
	return Unmarshal(body, v)
}

// Unmarshal decodes data strictly into v (see DecodeJSON).
func Unmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return BadRequest(fmt.Sprintf("field %q has the wrong type", typeErr.Field))
		}
		return BadRequest("malformed JSON: " + err.Error())
	}
	if dec.More() {
		return BadRequest("malformed JSON: trailing data after the object")
	}
	return nil
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
	if err != nil || json.Unmarshal(raw, position) != nil {
		return false, BadRequest("cursor is not one this service issued")
	}
	return true, nil
}
