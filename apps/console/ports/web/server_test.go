package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/govern/console/adapters/apis"
	"github.com/govern/console/adapters/jaeger"
	"github.com/govern/console/adapters/sidecars"
	"github.com/govern/console/adapters/store"
	"github.com/govern/kit/auth"
)

const testSecret = "console-test-secret"

// newTestServer serves the console with backends nobody listens on: every
// request below must be answered before any of them is called.
func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	st, err := store.Open(map[string]string{}, "")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Verify: auth.Verifier(testSecret), APIs: apis.New(map[string]string{}),
		Sidecars: sidecars.New(map[string]sidecars.Sidecar{}), Traces: jaeger.New("http://127.0.0.1:1"),
		Store: st, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	h, err := s.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func mint(t *testing.T, sub string, roles ...string) string {
	tok, err := auth.Mint(testSecret, sub, roles, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestEveryRouteButLoginAndHealthzNeedsTheSession(t *testing.T) {
	srv := newTestServer(t)
	st, _ := store.Open(map[string]string{}, "")
	s := &Server{Verify: auth.Verifier(testSecret), Store: st, APIs: apis.New(nil), Log: slog.Default()}
	h, err := s.Handler()
	if err != nil {
		t.Fatal(err)
	}
	routes := Routes(h)
	if len(routes) < 10 {
		t.Fatalf("only %d routes found", len(routes))
	}
	routes = append(routes, [2]string{"GET", "/no/such/page"})
	badCookies := map[string]string{"none": "", "garbage": "not-a-jwt", "no ops role": mint(t, "alice"),
		"other secret": func() string { tok, _ := auth.Mint("another-secret", "ops", []string{"ops"}, time.Hour); return tok }()}
	for _, r := range routes {
		method, path := r[0], strings.NewReplacer(":id", "x", ":key", "fatigue", ":sku", "s").Replace(r[1])
		open := path == "/healthz" || path == "/login"
		for name, cookie := range badCookies {
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if cookie != "" {
				req.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
			}
			resp, err := noRedirect().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			switch {
			case open:
				if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") != "/" {
					t.Errorf("%s %s (%s cookie) is open but answered %d", method, path, name, resp.StatusCode)
				}
			case method == http.MethodGet:
				if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
					t.Errorf("%s %s with %s cookie: %d %q, want a redirect to /login", method, path, name, resp.StatusCode, resp.Header.Get("Location"))
				}
			default:
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s %s with %s cookie: %d, want 401", method, path, name, resp.StatusCode)
				}
			}
		}
	}
}

func TestLoginRefusesTokensWithoutTheOpsRole(t *testing.T) {
	srv := newTestServer(t)
	for name, c := range map[string]struct {
		token string
		want  int
	}{
		"empty":       {"", http.StatusBadRequest},
		"not a token": {"hello", http.StatusUnauthorized},
		"a user":      {mint(t, "alice"), http.StatusForbidden},
		"expired": {func() string {
			tok, _ := auth.Mint(testSecret, "ops", []string{"ops"}, -time.Minute)
			return tok
		}(), http.StatusUnauthorized},
	} {
		resp, err := noRedirect().PostForm(srv.URL+"/login", url.Values{"token": {c.token}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want || len(resp.Cookies()) != 0 {
			t.Errorf("%s: %d with cookies %v, want %d and no cookie", name, resp.StatusCode, resp.Cookies(), c.want)
		}
	}
	resp, err := noRedirect().PostForm(srv.URL+"/login", url.Values{"token": {mint(t, "ops", "ops")}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("ops login: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	ck := resp.Cookies()[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/", ck)
	}
}

func TestStateChangingFormsNeedTheCSRFToken(t *testing.T) {
	srv := newTestServer(t)
	for _, path := range []string{"/settings/fatigue", "/catalog", "/catalog/s/stock", "/logout"} {
		for name, csrf := range map[string]string{"missing": "", "forged": "abc"} {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(url.Values{"csrf": {csrf}, "max_open": {"1"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: cookieName, Value: mint(t, "ops", "ops")})
			resp, err := noRedirect().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with %s CSRF token: %d, want 403", path, name, resp.StatusCode)
			}
		}
	}
}

func TestBadQueriesAre400BeforeAnyCall(t *testing.T) {
	srv := newTestServer(t)
	for _, path := range []string{"/cases?status=closed", "/cases?created_after=soon", "/cases?limit=0",
		"/escalated?limit=9999", "/jurors?state=sleeping", "/jurors?id=%20x", "/cases/%20padded", "/cases?status=%00"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: cookieName, Value: mint(t, "ops", "ops")})
		resp, err := noRedirect().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400\n%s", path, resp.StatusCode, body)
		}
	}
}

func TestSettingTypeErrorsAre400AndNamedOnThePage(t *testing.T) {
	srv := newTestServer(t)
	tok := mint(t, "ops", "ops")
	// The CSRF token is on every page of the session; read it from one.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/no/such/page", nil)
	req.AddCookie(&http.Cookie{Name: cookieName, Value: tok})
	resp, err := noRedirect().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_, after, ok := strings.Cut(string(page), `name="csrf" value="`)
	if !ok {
		t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	csrf, _, _ := strings.Cut(after, `"`)
	form := url.Values{"csrf": {csrf}, "max_per_day": {"lots"}, "max_open": {"1"}, "cooldown": {"0s"}}
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/settings/fatigue", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: cookieName, Value: tok})
	resp, err = noRedirect().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "max_per_day must be a whole number") {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
}
