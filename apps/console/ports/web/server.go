// Package web is the ops console: server-rendered HTML pages over the apps'
// public APIs, the sidecars' metadata and the trace store. An operator signs
// in with an ops token, kept in an HttpOnly, SameSite=Strict cookie that
// every page but /login and /healthz requires; state-changing forms are POST
// with a CSRF token derived from the session.
package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/console/adapters/apis"
	"github.com/govern/console/adapters/jaeger"
	"github.com/govern/console/adapters/sidecars"
	"github.com/govern/console/adapters/store"
	"github.com/govern/kit/auth"
	"github.com/govern/kit/httpx"
)

const (
	cookieName = "govern_console"
	csrfField  = "csrf"
	sessionKey = "console.session"
)

//go:embed templates/*.html
var templateFS embed.FS

// Server holds what the pages read from.
type Server struct {
	Verify   func(raw string) (auth.Identity, error)
	APIs     *apis.Client
	Sidecars *sidecars.Client
	Traces   *jaeger.Client
	Store    *store.Store
	Log      *slog.Logger
	// SecureCookie marks the session cookie Secure (behind TLS, in the cluster).
	SecureCookie bool

	csrfKey []byte
	pages   map[string]*template.Template
}

type session struct {
	token string
	who   auth.Identity
	csrf  string
}

// Handler returns the console's routes.
func (s *Server) Handler() (http.Handler, error) {
	s.csrfKey = make([]byte, 32)
	if _, err := rand.Read(s.csrfKey); err != nil {
		return nil, fmt.Errorf("csrf key: %w", err)
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(gin.CustomRecovery(func(c *gin.Context, err any) {
		s.Log.ErrorContext(c.Request.Context(), "panic", "err", err, "path", c.Request.URL.Path)
		c.AbortWithStatus(http.StatusInternalServerError)
	}), s.accessLog, httpx.LimitBody, cleanURL)
	r.NoMethod(func(c *gin.Context) { c.String(http.StatusMethodNotAllowed, "method not allowed") })
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/login", s.loginPage)
	r.POST("/login", s.login)

	in := r.Group("/", s.requireSession)
	in.POST("/logout", s.requireCSRF, s.logout)
	in.GET("/", s.overview)
	in.GET("/cases", s.cases)
	in.GET("/cases/:id", s.casePage)
	in.GET("/escalated", s.escalated)
	in.GET("/settings", s.settings)
	in.POST("/settings/:key", s.requireCSRF, s.saveSetting)
	in.GET("/jurors", s.jurors)
	in.GET("/jurors/:id", s.juror)
	in.GET("/catalog", s.catalog)
	in.POST("/catalog", s.requireCSRF, s.addItem)
	in.POST("/catalog/:sku/stock", s.requireCSRF, s.setStock)
	in.GET("/dead-letters", s.deadLetters)
	// Unknown paths also need the session: without it they look like any other page.
	r.NoRoute(s.requireSession, func(c *gin.Context) { s.fail(c, http.StatusNotFound, "no such page") })
	return r, nil
}

// Routes lists the console's routes (method and path) for the tests.
func Routes(h http.Handler) [][2]string {
	var out [][2]string
	if e, ok := h.(*gin.Engine); ok {
		for _, ri := range e.Routes() {
			out = append(out, [2]string{ri.Method, ri.Path})
		}
	}
	return out
}

func cleanURL(c *gin.Context) {
	httpx.CleanURL(c)
	if c.IsAborted() {
		c.Abort()
	}
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "/healthz" {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{slog.String("method", c.Request.Method), slog.String("route", route),
		slog.Int("status", c.Writer.Status()), slog.Duration("elapsed", time.Since(start))}
	if v, ok := c.Get(sessionKey); ok {
		attrs = append(attrs, slog.String("user_id", v.(session).who.UserID))
	}
	s.Log.LogAttrs(c.Request.Context(), level, "http request", attrs...)
}

// checkToken accepts a token only if kit/auth verifies it and it carries the
// ops role.
func (s *Server) checkToken(raw string) (auth.Identity, int, string) {
	who, err := s.Verify(raw)
	if err != nil {
		var he *httpx.Error
		if errors.As(err, &he) {
			return who, http.StatusUnauthorized, he.Message
		}
		return who, http.StatusUnauthorized, "invalid token"
	}
	if !who.IsOps() {
		return who, http.StatusForbidden, "the token of " + who.UserID + " does not carry the ops role: the console is for operators only"
	}
	return who, http.StatusOK, ""
}

func (s *Server) csrfFor(token string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// requireSession sends a browser without a valid ops session to /login (a
// GET) or answers 401 (anything else).
func (s *Server) requireSession(c *gin.Context) {
	raw, err := c.Cookie(cookieName)
	msg := "sign in with an ops token"
	if err == nil && raw != "" {
		who, code, why := s.checkToken(raw)
		if code == http.StatusOK {
			c.Set(sessionKey, session{token: raw, who: who, csrf: s.csrfFor(raw)})
			c.Next()
			return
		}
		msg = why
		s.clearCookie(c)
	}
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Redirect(http.StatusSeeOther, "/login?reason="+urlQueryEscape(msg))
		c.Abort()
		return
	}
	c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": gin.H{"code": "unauthenticated", "message": msg}})
}

func (s *Server) requireCSRF(c *gin.Context) {
	sess := sessionOf(c)
	got := c.PostForm(csrfField)
	if !hmac.Equal([]byte(got), []byte(sess.csrf)) {
		s.fail(c, http.StatusForbidden, "the form's CSRF token is missing or stale: reload the page and try again")
		return
	}
	c.Next()
}

func sessionOf(c *gin.Context) session {
	v, _ := c.Get(sessionKey)
	sess, _ := v.(session)
	return sess
}

func (s *Server) setCookie(c *gin.Context, token string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: cookieName, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.SecureCookie, SameSite: http.SameSiteStrictMode})
}

func (s *Server) clearCookie(c *gin.Context) { s.setCookie(c, "", -1) }

func (s *Server) loginPage(c *gin.Context) {
	s.render(c, http.StatusOK, "login", "Sign in", gin.H{"Reason": c.Query("reason")})
}

func (s *Server) login(c *gin.Context) {
	raw := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c.PostForm("token")), "Bearer "))
	if raw == "" {
		s.render(c, http.StatusBadRequest, "login", "Sign in", gin.H{"Error": "paste an ops token (make -s token SUB=you ROLES=ops)"})
		return
	}
	who, code, why := s.checkToken(raw)
	if code != http.StatusOK {
		s.render(c, code, "login", "Sign in", gin.H{"Error": why})
		return
	}
	s.setCookie(c, raw, 0)
	s.Log.InfoContext(c.Request.Context(), "operator signed in", "user_id", who.UserID)
	c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) logout(c *gin.Context) {
	s.clearCookie(c)
	c.Redirect(http.StatusSeeOther, "/login")
}

// view is what every page template gets.
type view struct {
	Title string
	Page  string
	User  string
	CSRF  string
	Data  any
}

func (s *Server) render(c *gin.Context, status int, page, title string, data any) {
	t, ok := s.pages[page]
	if !ok {
		panic("no template for page " + page)
	}
	sess := sessionOf(c)
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Header("X-Frame-Options", "DENY")
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	c.Status(status)
	if err := t.ExecuteTemplate(c.Writer, "layout", view{Title: title, Page: page, User: sess.who.UserID, CSRF: sess.csrf, Data: data}); err != nil {
		s.Log.ErrorContext(c.Request.Context(), "render page", "page", page, "err", err)
	}
	c.Abort()
}

// fail shows an error page with status.
func (s *Server) fail(c *gin.Context, status int, msg string) {
	s.render(c, status, "error", http.StatusText(status), gin.H{"Status": status, "Message": msg})
}

// failErr maps an error to its page: bad input 400, an app's 4xx as it was
// answered, an unreachable or failing backend 502.
func (s *Server) failErr(c *gin.Context, err error) {
	var in *InputError
	if errors.As(err, &in) {
		s.fail(c, http.StatusBadRequest, in.Message)
		return
	}
	if e, ok := apis.AsError(err); ok && e.Status/100 == 4 {
		s.fail(c, e.Status, fmt.Sprintf("%s: %s", e.App, e.Message))
		return
	}
	s.Log.WarnContext(c.Request.Context(), "backend call failed", "path", c.Request.URL.Path, "err", err)
	s.fail(c, http.StatusBadGateway, err.Error())
}
