package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/govern/kit/auth"
	"github.com/govern/kit/text"
)

func me(authorization string) (int, string) {
	req := httptest.NewRequest(http.MethodGet, "/me", nil)
	req.Header.Set("Authorization", authorization)
	rec := httptest.NewRecorder()
	engine().ServeHTTP(rec, req)
	var out struct {
		Sub string `json:"sub"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out.Sub
}

// Any Authorization header is a 401 unless it carries a token signed with
// the secret; it never panics or answers anything else.
func FuzzBearer(f *testing.F) {
	good := fixedToken(f)
	for _, s := range []string{"Bearer " + good, "Bearer " + good + "x", "Bearer", "Bearer ", "bearer " + good, "Basic b3Bz",
		"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.", "Bearer a.b.c", "Bearer ..", strings.Repeat("A", 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		if strings.ContainsAny(header, "\r\n\x00") {
			return // no HTTP client can send these in a header
		}
		code, sub := me(header)
		switch code {
		case http.StatusUnauthorized:
		case http.StatusOK:
			if header != "Bearer "+good || sub != "alice" {
				t.Fatalf("accepted %q as %q", header, sub)
			}
		default:
			t.Fatalf("status %d for %q", code, header)
		}
	})
}

// fixedToken is a token for alice (ops) that every process of a fuzz run
// mints alike: its times are fixed, not the minute it was made (go's fuzz
// workers run FuzzBearer again, a second or more after the seeds were
// taken, and a token minted then would differ from the seed's).
func fixedToken(f *testing.F) string {
	f.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "alice", "roles": []string{"ops"},
		"iat": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix(),
		"exp": time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).Unix(),
	}).SignedString([]byte(secret))
	if err != nil {
		f.Fatal(err)
	}
	return tok
}

// A token the issuer signed is still input: the caller it names becomes a
// user id in queries, so it must be text PostgreSQL can compare, or 401.
func FuzzTokenSubject(f *testing.F) {
	for _, s := range []string{"alice", "用户-1", "", "\xff", " ", "a\tb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sub string) {
		tok, err := auth.Mint(secret, sub, nil, time.Hour)
		if err != nil {
			return
		}
		code, got := me("Bearer " + tok)
		switch code {
		case http.StatusUnauthorized:
		case http.StatusOK:
			if !text.Clean(got) || got == "" {
				t.Fatalf("token subject %q accepted as %q", sub, got)
			}
		default:
			t.Fatalf("status %d for subject %q", code, sub)
		}
	})
}
