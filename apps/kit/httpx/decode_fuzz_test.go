package httpx_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/govern/kit/httpx"
)

// isBadRequest reports whether err is the 400 every refused input must be.
func isBadRequest(err error) bool {
	var he *httpx.Error
	return errors.As(err, &he) && he.Status == http.StatusBadRequest
}

// noNUL walks a decoded JSON value and reports a key or string holding NUL.
func noNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return !strings.ContainsRune(x, 0)
	case []any:
		for _, e := range x {
			if !noNUL(e) {
				return false
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, 0) || !noNUL(e) {
				return false
			}
		}
	}
	return true
}

// Whatever Unmarshal accepts is one valid JSON value without NUL in any
// string, and decodes to the same value again once re-encoded; whatever it
// refuses is a 400.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"b","n":[1,2.5,-3e2],"o":{"t":true,"z":null}}`, `{"a":"\u0000"}`,
		`{"a":"\\u0000"}`, `{"a":"\\\u0000"}`, `{"k\u0000":1}`, `{} {}`, `{}]`, `{"a":1}}`, `0}`, `[[[[[[[[[[]]]]]]]]]]`,
		`{"n":1e400}`, `{"n":-0}`, `"x"`, `12345678901234567890123`, ` {"a" : "\ud800"} `, "{\"a\":\"\xff\"}", ``, `nul`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		err := httpx.Unmarshal(data, &v)
		if err != nil {
			if !isBadRequest(err) {
				t.Fatalf("refusal %v is not a 400", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted %q, which is not one valid JSON value", data)
		}
		if !noNUL(v) {
			t.Fatalf("accepted a NUL in %q", data)
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted value does not encode: %v", err)
		}
		var w any
		if err := httpx.Unmarshal(again, &w); err != nil || !reflect.DeepEqual(v, w) {
			t.Fatalf("%q decoded to %#v, re-encoded as %s, decoded again to %#v (%v)", data, v, again, w, err)
		}
	})
}

// body is a request body as the services declare them: unknown fields refused.
type body struct {
	Name  string             `json:"name"`
	Count *int64             `json:"count"`
	Tags  []string           `json:"tags"`
	Inner *struct{ OK bool } `json:"inner"`
}

// Into a struct, only the struct's fields are accepted, with their types.
func FuzzUnmarshalIntoStruct(f *testing.F) {
	for _, s := range []string{`{"name":"a","count":3,"tags":["x"],"inner":{"OK":true}}`, `{"name":1}`, `{"other":1}`,
		`{"count":9223372036854775808}`, `{"count":1.5}`, `{"NAME":"a"}`, `{"tags":"x"}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b body
		err := httpx.Unmarshal(data, &b)
		if err != nil {
			if !isBadRequest(err) {
				t.Fatalf("refusal %v is not a 400", err)
			}
			return
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(data, &fields) != nil {
			t.Fatalf("accepted %q, which is not an object", data)
		}
		for k := range fields {
			known := false
			for _, name := range []string{"name", "count", "tags", "inner"} {
				known = known || strings.EqualFold(k, name)
			}
			if !known {
				t.Fatalf("accepted unknown field %q", k)
			}
		}
		if !utf8.ValidString(b.Name) || strings.ContainsRune(b.Name, 0) {
			t.Fatalf("accepted name %q", b.Name)
		}
	})
}

// taskCursor is a list position as the services encode them.
type taskCursor struct {
	CreatedAt time.Time `json:"created_at"`
	CaseID    string    `json:"case_id"`
}

// A cursor the service did not issue is a 400, never a panic or a 500; one it
// decoded is the cursor of that same position.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(httpx.EncodeCursor(taskCursor{CreatedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), CaseID: "c1"}))
	f.Add(httpx.EncodeCursor(int64(42)))
	f.Add(httpx.EncodeCursor("sku-1"))
	for _, s := range []string{"", "!!!", "e30", "bnVsbA", "W10", "AA", "eyJjcmVhdGVkX2F0IjoieCJ9", strings.Repeat("A", 4000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cursor string) {
		for _, pos := range []any{new(taskCursor), new(int64), new(string)} {
			ok, err := httpx.DecodeCursor(cursor, pos)
			switch {
			case err != nil:
				if !isBadRequest(err) {
					t.Fatalf("refusal %v is not a 400", err)
				}
				continue
			case !ok:
				if cursor != "" {
					t.Fatalf("%q read as the first page", cursor)
				}
				continue
			}
			// A position is a key of a database row: nothing in it may be
			// what PostgreSQL refuses to compare (NUL, invalid UTF-8).
			if b, _ := json.Marshal(pos); bytes.Contains(b, []byte(`\u0000`)) {
				t.Fatalf("%q decoded to a position holding NUL: %s", cursor, b)
			}
			again := reflect.New(reflect.TypeOf(pos).Elem()).Interface()
			if ok, err := httpx.DecodeCursor(httpx.EncodeCursor(pos), again); !ok || err != nil ||
				!reflect.DeepEqual(normal(pos), normal(again)) {
				t.Fatalf("%q decoded to %#v, which re-encodes to %#v (%v)", cursor, pos, again, err)
			}
		}
	})
}

// normal compares times by instant, not by location.
func normal(v any) any {
	if c, ok := v.(*taskCursor); ok {
		return taskCursor{CreatedAt: c.CreatedAt.UTC(), CaseID: c.CaseID}
	}
	return v
}

// Every position a service hands out comes back as it went.
func FuzzCursorRoundTrip(f *testing.F) {
	f.Add(int64(1), "c1", int64(0))
	f.Add(int64(-1), "", int64(1<<62))
	f.Fuzz(func(t *testing.T, seq int64, id string, nanos int64) {
		if !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
			return // positions are ids the service stored: no NUL, valid UTF-8
		}
		pos := taskCursor{CreatedAt: time.Unix(0, nanos).UTC(), CaseID: id}
		if pos.CreatedAt.Year() > 9999 || pos.CreatedAt.Year() < 0 {
			return // not representable in RFC 3339, and no database row holds it
		}
		cursor := httpx.EncodeCursor(pos)
		if strings.ContainsFunc(cursor, func(r rune) bool {
			return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) {
			t.Fatalf("cursor %q needs escaping in a query", cursor)
		}
		var got taskCursor
		if ok, err := httpx.DecodeCursor(cursor, &got); !ok || err != nil || !got.CreatedAt.Equal(pos.CreatedAt) || got.CaseID != id {
			t.Fatalf("%+v came back as %+v (%v)", pos, got, err)
		}
		var n int64
		if ok, err := httpx.DecodeCursor(httpx.EncodeCursor(seq), &n); !ok || err != nil || n != seq {
			t.Fatalf("%d came back as %d (%v)", seq, n, err)
		}
	})
}
