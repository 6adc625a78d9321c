// Package telemetry is the one way the services join a distributed trace:
// an OpenTelemetry tracer provider exporting over OTLP (the endpoint from the
// standard OTEL_EXPORTER_OTLP_ENDPOINT variable), the W3C trace-context
// propagator, and the helpers that carry a trace where no header does (the
// outbox table, the workflow's inputs, a CloudEvent's traceparent).
//
// Without an endpoint nothing is exported, but trace context still flows:
// an app in a unit test or on a laptop without Jaeger passes on the
// traceparent it was given.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// EndpointEnv names the OTLP endpoint variable (e.g. http://127.0.0.1:4317).
const EndpointEnv = "OTEL_EXPORTER_OTLP_ENDPOINT"

// Business ids as span attributes: a case's trace is found by its id.
const (
	CaseID   = attribute.Key("case.id")
	ReportID = attribute.Key("report.id")
	UserID   = attribute.Key("user.id")
)

var propagator = propagation.TraceContext{}

// Setup installs the global tracer provider for service (its Dapr app id is
// the span's service.name) and the W3C propagator. The returned function
// flushes and stops the exporter.
func Setup(ctx context.Context, service string) (func(context.Context) error, error) {
	otel.SetTextMapPropagator(propagator)
	res := resource.NewSchemaless(semconv.ServiceName(service))
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample()))}
	if os.Getenv(EndpointEnv) != "" {
		exp, err := otlptracegrpc.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTLP trace exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	otel.SetTracerProvider(tp)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) // an absent collector must not flood the logs
	return tp.Shutdown, nil
}

// Tracer is the tracer every kit and app span comes from.
func Tracer() trace.Tracer { return otel.Tracer("github.com/govern/kit") }

// Start begins a span named name as a child of ctx's span.
func Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return Tracer().Start(ctx, name, opts...)
}

// End records err (if any) on span and ends it.
func End(span trace.Span, err error) {
	Fail(span, err)
	span.End()
}

// Fail records err, when not nil, as span's error.
func Fail(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
}

// Tag sets business ids (or any attributes) on ctx's current span.
func Tag(ctx context.Context, attrs ...attribute.KeyValue) {
	trace.SpanFromContext(ctx).SetAttributes(attrs...)
}

// Traceparent is the W3C traceparent of ctx's span, or "" without one.
func Traceparent(ctx context.Context) string {
	c := propagation.MapCarrier{}
	propagator.Inject(ctx, c)
	return c["traceparent"]
}

// WithTraceparent returns ctx continuing the trace of traceparent tp (as a
// remote parent). An empty or malformed tp leaves ctx as it is.
func WithTraceparent(ctx context.Context, tp string) context.Context {
	if tp == "" {
		return ctx
	}
	return propagator.Extract(ctx, propagation.MapCarrier{"traceparent": tp})
}

// Remote is the span context tp names, when it is well formed.
func Remote(tp string) (trace.SpanContext, error) {
	sc := trace.SpanContextFromContext(WithTraceparent(context.Background(), tp))
	if !sc.IsValid() {
		return sc, errors.New("not a W3C traceparent")
	}
	return sc, nil
}

// Inject writes ctx's trace context into carrier (e.g. HTTP headers).
func Inject(ctx context.Context, carrier propagation.TextMapCarrier) { propagator.Inject(ctx, carrier) }

// Extract returns ctx continuing the trace carrier holds.
func Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	return propagator.Extract(ctx, carrier)
}
