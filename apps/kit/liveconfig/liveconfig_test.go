package liveconfig_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/govern/kit/httpx"
	"github.com/govern/kit/liveconfig"
)

const appToken = "a-sidecar-token-of-at-least-32-bytes!"

// watched mounts a watcher's configuration route on the engine every service
// uses, and returns how to post to it as the sidecar does.
func watched(t *testing.T) (post func(body string) int, l *liveconfig.Value[limits], name *liveconfig.Value[string]) {
	t.Helper()
	s, l, name := newLimits()
	r := httpx.NewEngine(slog.New(slog.DiscardHandler), appToken, func(context.Context) error { return nil })
	w := &liveconfig.Watcher{Store: "svc-config", Settings: s, Log: slog.New(slog.DiscardHandler)}
	w.Register(r)
	return func(body string) int {
		req := httptest.NewRequest(http.MethodPost, "/configuration/svc-config/limits", strings.NewReader(body))
		req.Header.Set("dapr-api-token", appToken)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec.Code
	}, l, name
}

// update is the body the sidecar posts for one changed key.
func update(key, value, version string) string {
	return `{"id":"sub-1","items":{"` + key + `":{"value":` + quote(value) + `,"version":"` + version + `"}}}`
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func TestConfigurationRouteAppliesOnlyNewerVersions(t *testing.T) {
	t.Parallel()
	post, l, _ := watched(t)
	for _, step := range []struct {
		value, version string
		want           limits
	}{
		{`{"max":6,"open":2}`, "3", limits{6, 2}},
		{`{"max":7,"open":2}`, "2", limits{6, 2}}, // older: ignored
		{`{"max":8,"open":2}`, "3", limits{6, 2}}, // same version again: ignored
		{`{"max":9,"open":2}`, "12", limits{9, 2}},
	} {
		if code := post(update("limits", step.value, step.version)); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		if got := l.Get(); got != step.want {
			t.Fatalf("after version %s: %+v, want %+v", step.version, got, step.want)
		}
	}
	if l.Current().Version != 12 {
		t.Fatalf("version %d", l.Current().Version)
	}
}

func TestConfigurationRouteIgnoresWhatItCannotApply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body string }{
		{"body not JSON", `{"items":`},
		{"items of the wrong type", `{"items":[1,2]}`},
		{"value not JSON", update("limits", `{"max":`, "5")},
		{"value refused by the service", update("limits", `{"max":1,"open":5}`, "5")},
		{"version not a number", update("limits", `{"max":5,"open":1}`, "latest")},
		{"empty version", update("limits", `{"max":5,"open":1}`, "")},
		{"unknown key", update("colour", `{"max":5,"open":1}`, "5")},
		{"no items", `{"id":"sub-1"}`},
		{"empty body", ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			post, l, _ := watched(t)
			// 200 even so: the sidecar cannot fix the value by posting it again.
			if code := post(tc.body); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			if got := l.Current(); got.Value != (limits{Max: 10, Open: 2}) || got.Version != 0 {
				t.Fatalf("limits changed to %+v", got)
			}
		})
	}
}

func TestOneUpdateMayCarrySeveralKeys(t *testing.T) {
	t.Parallel()
	post, l, name := watched(t)
	body := `{"items":{"limits":{"value":"{\"max\":3,\"open\":3}","version":"2"},` +
		`"name":{"value":"\"b\"","version":"5"},"colour":{"value":"1","version":"9"}}}`
	if code := post(body); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if l.Get() != (limits{3, 3}) || name.Get() != "b" {
		t.Fatalf("limits %+v, name %q", l.Get(), name.Get())
	}
}

func TestConfigurationRouteAnswersOnlyTheSidecar(t *testing.T) {
	t.Parallel()
	s, l, _ := newLimits()
	r := httpx.NewEngine(slog.New(slog.DiscardHandler), appToken, func(context.Context) error { return nil })
	(&liveconfig.Watcher{Store: "svc-config", Settings: s, Log: slog.New(slog.DiscardHandler)}).Register(r)
	req := httptest.NewRequest(http.MethodPost, "/configuration/svc-config/limits",
		strings.NewReader(update("limits", `{"max":5,"open":1}`, "9")))
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || l.Current().Version != 0 {
		t.Fatalf("status %d, limits %+v", rec.Code, l.Current())
	}
}
