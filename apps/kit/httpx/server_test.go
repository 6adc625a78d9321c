package httpx_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/httpx"
)

const appToken = "a-sidecar-token-of-at-least-32-bytes!"

// newEngine mounts one route of each kind: a public one, and sidecar-only
// ones whose handler records that it ran.
func newEngine(t *testing.T) (*gin.Engine, *[]string) {
	t.Helper()
	ran := &[]string{}
	r := httpx.NewEngine(slog.New(slog.DiscardHandler), appToken, func(context.Context) error { return nil })
	record := func(c *gin.Context) {
		*ran = append(*ran, c.FullPath())
		var v map[string]any
		if err := httpx.DecodeJSON(c, &v); err != nil {
			httpx.Write(c, err)
			return
		}
		c.JSON(http.StatusOK, v)
	}
	r.POST("/v1/things", record)
	r.POST("/events/things", record)
	r.POST("/internal/juries", record)
	r.POST("/configuration/store/:key", record)
	return r, ran
}

func send(h http.Handler, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestSidecarOnlyRoutesRefuseCallsWithoutTheAppToken(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/events/things", "/internal/juries", "/configuration/store/k", "/dapr/subscribe",
		"//internal/juries", "/internal/unknown", "/dapr/config"} {
		for _, tok := range []string{"", "wrong", appToken[:len(appToken)-1], appToken + "x"} {
			r, ran := newEngine(t)
			method := http.MethodPost
			if strings.HasPrefix(path, "/dapr/") {
				method = http.MethodGet
			}
			rec := send(r, method, path, `{"a":1}`, "dapr-api-token", tok)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s with token %q: status %d, want 401", path, tok, rec.Code)
			}
			if len(*ran) != 0 {
				t.Errorf("%s with token %q ran its handler", path, tok)
			}
		}
	}
}

func TestSidecarOnlyRoutesAnswerTheSidecar(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/events/things", "/internal/juries", "/configuration/store/k"} {
		r, ran := newEngine(t)
		rec := send(r, http.MethodPost, path, `{"a":1}`, "dapr-api-token", appToken)
		if rec.Code != http.StatusOK || len(*ran) != 1 {
			t.Errorf("%s: status %d, handler runs %d; want 200 and 1", path, rec.Code, len(*ran))
		}
	}
	r, _ := newEngine(t)
	if rec := send(r, http.MethodGet, "/dapr/subscribe", "", "dapr-api-token", appToken); rec.Code != http.StatusOK {
		t.Errorf("/dapr/subscribe: status %d", rec.Code)
	}
}

func TestAnEmptyAppTokenRefusesEverySidecarCall(t *testing.T) {
	t.Parallel()
	r := httpx.NewEngine(slog.New(slog.DiscardHandler), "", func(context.Context) error { return nil })
	r.POST("/events/x", func(c *gin.Context) { c.Status(http.StatusOK) })
	if rec := send(r, http.MethodPost, "/events/x", "{}"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", rec.Code)
	}
}

func TestPublicRoutesNeedNoAppToken(t *testing.T) {
	t.Parallel()
	r, ran := newEngine(t)
	if rec := send(r, http.MethodPost, "/v1/things", `{"a":1}`); rec.Code != http.StatusOK || len(*ran) != 1 {
		t.Fatalf("status %d, runs %d", rec.Code, len(*ran))
	}
	for _, path := range []string{"/healthz", "/livez", "/metrics"} {
		if rec := send(r, http.MethodGet, path, ""); rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", path, rec.Code)
		}
	}
}

func TestBodiesAboveOneMebibyteAreRefusedWith413(t *testing.T) {
	t.Parallel()
	big := `{"a":"` + strings.Repeat("x", httpx.MaxBody) + `"}`
	r, ran := newEngine(t)
	rec := send(r, http.MethodPost, "/v1/things", big)
	if rec.Code != http.StatusRequestEntityTooLarge || len(*ran) != 0 {
		t.Fatalf("declared length: status %d, handler runs %d; want 413 before the handler", rec.Code, len(*ran))
	}
	if !strings.Contains(rec.Body.String(), "payload_too_large") {
		t.Fatalf("body %s", rec.Body)
	}
	// Without a declared length (chunked), the handler's read stops at the limit.
	req := httptest.NewRequest(http.MethodPost, "/v1/things", io.NopCloser(strings.NewReader(big)))
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: status %d, want 413", rec.Code)
	}
	// Exactly at the limit is fine.
	atLimit := `{"a":"` + strings.Repeat("x", httpx.MaxBody-8) + `"}`
	if rec := send(r, http.MethodPost, "/v1/things", atLimit); rec.Code != http.StatusOK {
		t.Fatalf("body of %d bytes: status %d, want 200", len(atLimit), rec.Code)
	}
}

func TestSidecarDeliveriesAboveTheLimitAreCappedNotRefused(t *testing.T) {
	t.Parallel()
	// A pub/sub delivery answered 413 would be redelivered forever; the
	// subscription sees a capped body and drops it instead.
	r, ran := newEngine(t)
	big := `{"a":"` + strings.Repeat("x", httpx.MaxBody) + `"}`
	rec := send(r, http.MethodPost, "/events/things", big, "dapr-api-token", appToken)
	if len(*ran) != 1 || rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, runs %d; want the handler to run and see the limit", rec.Code, len(*ran))
	}
}

func TestSidecarRoute(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{
		"/events/reports": true, "/internal/juries": true, "/configuration/x/y": true, "/dapr/subscribe": true,
		"/events": true, "//events/x": true, "/v1/events": false, "/eventsx": false, "/healthz": false, "/": false,
	} {
		if got := httpx.SidecarRoute(path); got != want {
			t.Errorf("SidecarRoute(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestNULInPathQueryOrJSONIsA400(t *testing.T) {
	t.Parallel()
	r, ran := newEngine(t)
	for _, target := range []string{"/v1/things%00", "/v1/things?x=%00", "/v1/things?x=%ff", "/v1/things?%00=1"} {
		if rec := send(r, http.MethodPost, target, `{"a":1}`); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", target, rec.Code)
		}
	}
	for body, want := range map[string]int{
		`{"a":"x\u0000y"}`:   http.StatusBadRequest,
		`{"a\u0000":1}`:      http.StatusBadRequest,
		`{"a":"\\u0000"}`:    http.StatusOK, // an escaped backslash, then the text u0000
		`{"a":"\\\u0000"}`:   http.StatusBadRequest,
		`{"a":"u0000"}`:      http.StatusOK,
		"{\"a\":\"x\x00y\"}": http.StatusBadRequest, // raw NUL: invalid JSON
	} {
		if rec := send(r, http.MethodPost, "/v1/things", body); rec.Code != want {
			t.Errorf("%s: status %d, want %d", body, rec.Code, want)
		}
	}
	if len(*ran) != 6 {
		t.Errorf("handler ran %d times, want 6 (never for the bad URLs)", len(*ran))
	}
}
