// Package auth verifies the bearer JWT every public endpoint requires and
// exposes the caller's identity to handlers.
package auth

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"go.opentelemetry.io/otel/attribute"

	"github.com/govern/kit/httpx"
	"github.com/govern/kit/telemetry"
	"github.com/govern/kit/text"
)

// Identity is the authenticated caller.
type Identity struct {
	UserID string
	Roles  []string
}

// IsOps reports whether the caller is an operator.
func (i Identity) IsOps() bool { return slices.Contains(i.Roles, "ops") }

// Is reports whether the caller is userID or an operator.
func (i Identity) Is(userID string) bool { return i.UserID == userID || i.IsOps() }

type claims struct {
	Roles []string `json:"roles"`
	jwt.RegisteredClaims
}

const identityKey = "auth.identity"

// Middleware rejects requests without a valid HS256 token signed with secret
// (401) and stores the identity for From.
func Middleware(secret string) gin.HandlerFunc {
	verify := Verifier(secret)
	return func(c *gin.Context) {
		raw, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok || raw == "" {
			httpx.Write(c, httpx.Unauthorized("missing bearer token"))
			return
		}
		ident, err := verify(raw)
		if err != nil {
			httpx.Write(c, err)
			return
		}
		c.Set(identityKey, ident)
		telemetry.Tag(c.Request.Context(), attribute.String("enduser.id", ident.UserID))
		c.Next()
	}
}

// Verifier returns the check Middleware applies to a raw token: an HS256
// signature by secret, not expired, with a clean subject. Its errors are
// 401 *httpx.Error values. The ops console uses it on its session cookie.
func Verifier(secret string) func(raw string) (Identity, error) {
	key := []byte(secret)
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}))
	return func(raw string) (Identity, error) {
		var cl claims
		_, err := parser.ParseWithClaims(raw, &cl, func(*jwt.Token) (any, error) { return key, nil })
		if err != nil {
			msg := "invalid token"
			if errors.Is(err, jwt.ErrTokenExpired) {
				msg = "token expired"
			}
			return Identity{}, httpx.Unauthorized(msg)
		}
		if cl.Subject == "" {
			return Identity{}, httpx.Unauthorized("token has no subject")
		}
		// The subject becomes a user id in queries: even a signed token may
		// not carry what PostgreSQL cannot compare (a NUL made a vote answer
		// 500). Whether it is a well-formed user id is the service's call,
		// answered 400 like any other bad id.
		if !text.Clean(cl.Subject) {
			return Identity{}, httpx.Unauthorized("token subject holds NUL or invalid UTF-8")
		}
		return Identity{UserID: cl.Subject, Roles: cl.Roles}, nil
	}
}

// From returns the identity Middleware stored.
func From(c *gin.Context) Identity {
	id, _ := c.Get(identityKey)
	ident, _ := id.(Identity)
	return ident
}

// RequireOps answers 403 unless the caller is an operator.
func RequireOps(c *gin.Context) {
	if !From(c).IsOps() {
		httpx.Write(c, httpx.Forbidden("operators only"))
		return
	}
	c.Next()
}

// Mint signs a token for sub with roles, valid for ttl.
func Mint(secret, sub string, roles []string, ttl time.Duration) (string, error) {
	now := time.Now()
	cl := claims{Roles: roles, RegisteredClaims: jwt.RegisteredClaims{
		Subject: sub, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, cl).SignedString([]byte(secret))
}

// Has reports whether the caller holds role.
func (i Identity) Has(role string) bool { return slices.Contains(i.Roles, role) }

// RequireAnyRole answers 403 unless the caller holds one of roles.
func RequireAnyRole(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := From(c)
		for _, r := range roles {
			if id.Has(r) {
				c.Next()
				return
			}
		}
		httpx.Write(c, httpx.Forbidden("only "+strings.Join(roles, " or ")+" may call this"))
	}
}
