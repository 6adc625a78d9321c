package httpx_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/govern/kit/httpx"
	"github.com/govern/kit/telemetry"
)

// A request with a traceparent is served in a server span of that trace,
// named for the route template and tagged with the path's business ids; the
// handler's context carries the span (so its outgoing calls and logs do).
func TestARequestIsServedInASpanOfTheCallersTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	if _, err := telemetry.Setup(context.Background(), "report"); err != nil {
		t.Fatal(err) // installs the W3C propagator; no endpoint, so no exporter
	}
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))

	r := httpx.NewEngine(slog.New(slog.DiscardHandler), appToken, func(context.Context) error { return nil })
	var inHandler trace.SpanContext
	r.GET("/v1/cases/:id", func(c *gin.Context) {
		inHandler = trace.SpanContextFromContext(c.Request.Context())
		c.Status(http.StatusOK)
	})
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req := httptest.NewRequest(http.MethodGet, "/v1/cases/c_42", nil)
	req.Header.Set("traceparent", parent)
	r.ServeHTTP(httptest.NewRecorder(), req)
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))

	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1 (probes are not traced)", len(spans))
	}
	s := spans[0]
	if s.Name() != "GET /v1/cases/:id" || s.SpanKind() != trace.SpanKindServer {
		t.Fatalf("span %q kind %v", s.Name(), s.SpanKind())
	}
	if s.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || s.Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Fatalf("span not in the caller's trace: %v parent %v", s.SpanContext().TraceID(), s.Parent().SpanID())
	}
	if inHandler.SpanID() != s.SpanContext().SpanID() {
		t.Fatal("the handler's context does not carry the request's span")
	}
	attrs := map[string]string{}
	for _, kv := range s.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	if attrs["case.id"] != "c_42" || attrs["http.response.status_code"] != "200" {
		t.Fatalf("attributes %v", attrs)
	}
	if got := telemetry.Traceparent(trace.ContextWithSpanContext(context.Background(), inHandler)); got == "" || got[3:35] != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("traceparent passed on: %q", got)
	}
}
