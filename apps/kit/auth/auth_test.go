package auth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/govern/kit/auth"
)

const secret = "unit-test-secret"

func engine() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	g := r.Group("/", auth.Middleware(secret))
	g.GET("/me", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"sub": auth.From(c).UserID, "ops": auth.From(c).IsOps()})
	})
	g.GET("/ops", auth.RequireOps, func(c *gin.Context) { c.Status(http.StatusOK) })
	return r
}

func status(t *testing.T, path, authorization string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	engine().ServeHTTP(rec, req)
	return rec.Code
}

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokensThatAreNotValidHS256WithASubjectAreRefused(t *testing.T) {
	t.Parallel()
	future := time.Now().Add(time.Hour).Unix()
	good, err := auth.Mint(secret, "alice", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"no header":         "",
		"not bearer":        "Basic " + good,
		"empty bearer":      "Bearer ",
		"garbage":           "Bearer not.a.jwt",
		"other secret":      "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("other"), jwt.MapClaims{"sub": "alice", "exp": future}),
		"expired":           "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(-time.Minute).Unix()}),
		"no subject":        "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"exp": future}),
		"alg none":          "Bearer " + sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": "alice"}),
		"HS512 not allowed": "Bearer " + sign(t, jwt.SigningMethodHS512, []byte(secret), jwt.MapClaims{"sub": "alice", "exp": future}),
	}
	for name, h := range cases {
		if got := status(t, "/me", h); got != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, got)
		}
	}
	if got := status(t, "/me", "Bearer "+good); got != http.StatusOK {
		t.Fatalf("valid token: status %d", got)
	}
}

func TestOnlyOperatorsPassRequireOps(t *testing.T) {
	t.Parallel()
	user, _ := auth.Mint(secret, "alice", []string{"juror"}, time.Hour)
	ops, _ := auth.Mint(secret, "root", []string{"ops"}, time.Hour)
	if got := status(t, "/ops", "Bearer "+user); got != http.StatusForbidden {
		t.Errorf("user: %d, want 403", got)
	}
	if got := status(t, "/ops", "Bearer "+ops); got != http.StatusOK {
		t.Errorf("ops: %d, want 200", got)
	}
}

func TestATokenWithoutExpiryIsAccepted(t *testing.T) {
	t.Parallel()
	// API.md: exp is honoured when present; no other claim but sub is required.
	tok := sign(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"sub": "alice"})
	if got := status(t, "/me", "Bearer "+tok); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
}
