package daprx_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/daprx"
	"github.com/govern/kit/httpx"
)

// deliver posts body to a subscription route as the sidecar does and returns
// the answer and the event the handler saw, if it ran.
func deliver(body []byte) (int, string, *daprx.Event) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	var seen *daprx.Event
	r.POST("/events/topic", daprx.Subscription(slog.New(slog.DiscardHandler), func(c *gin.Context, ev daprx.Event) daprx.Outcome {
		seen = &ev
		return daprx.Success
	}))
	req := httptest.NewRequest(http.MethodPost, "/events/topic", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/cloudevents+json")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	var out struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out.Status, seen
}

// Every delivery gets 200 with an outcome the sidecar understands: an
// envelope that is not a CloudEvent with JSON data is dropped (to the dead
// letter topic), never retried and never handed to the handler; one that is
// reaches the handler with its id, topic and data intact.
func FuzzSubscription(f *testing.F) {
	for _, s := range []string{
		`{"id":"e1","topic":"reports","data":{"a":1},"specversion":"1.0"}`,
		`{"id":"e1","topic":"reports","data":"text"}`,
		`{"id":"e1","data":null}`, `{"id":"e1"}`, `{"data":[]}`, `{"id":1,"data":{}}`, `[]`, `null`, ``, `{`,
		`{"id":"e1","data":{"s":"\u0000"}}`, `{"id":"e1","data":{}}garbage`, `{"data":{}}}`,
		`{"id":"` + strings.Repeat("x", 1000) + `","data":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, status, seen := deliver(body)
		if code != http.StatusOK {
			t.Fatalf("status %d for %q", code, body)
		}
		if status != string(daprx.Success) && status != string(daprx.Drop) {
			t.Fatalf("outcome %q for %q", status, body)
		}
		var ce struct {
			ID    string          `json:"id"`
			Topic string          `json:"topic"`
			Data  json.RawMessage `json:"data"`
		}
		wellFormed := json.Unmarshal(body, &ce) == nil && len(ce.Data) > 0
		switch {
		case seen == nil && status != string(daprx.Drop):
			t.Fatalf("%q neither handled nor dropped", body)
		case seen != nil && !wellFormed:
			t.Fatalf("handler got %q, which is not a CloudEvent with data", body)
		case seen == nil && wellFormed:
			t.Fatalf("CloudEvent %q dropped", body)
		case seen != nil && (seen.ID != ce.ID || seen.Topic != ce.Topic || !bytes.Equal(seen.Data, ce.Data) || !json.Valid(seen.Data)):
			t.Fatalf("handler got %+v from %q", *seen, body)
		}
	})
}

// A delivery above the body limit is dropped, not retried forever.
func TestOversizedDeliveryIsDropped(t *testing.T) {
	t.Parallel()
	body := append([]byte(`{"id":"e1","data":"`), bytes.Repeat([]byte("x"), httpx.MaxBody)...)
	body = append(body, `"}`...)
	if code, status, seen := deliver(body); code != http.StatusOK || status != string(daprx.Drop) || seen != nil {
		t.Fatalf("%d %q handled=%v", code, status, seen != nil)
	}
}
