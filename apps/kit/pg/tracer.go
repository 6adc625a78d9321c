package pg

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/govern/kit/telemetry"
)

// tracer makes a span of every query run inside a traced operation. Queries
// without a span in their context (the relay's and the sweepers' polling)
// start no trace of their own: they would bury the rounds' traces.
type tracer struct{}

func (tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	sql := strings.TrimSpace(data.SQL)
	ctx, _ = telemetry.Start(ctx, "pg "+Operation(sql), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", "postgresql"),
			attribute.String("db.query.text", sql[:min(len(sql), 2000)])))
	return ctx
}

func (tracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.Int64("db.response.returned_rows", data.CommandTag.RowsAffected()))
	telemetry.End(span, data.Err)
}

// Operation is a statement's first keyword (SELECT, INSERT, WITH, ...), the
// low-cardinality part of a query's span name.
func Operation(sql string) string {
	verb, _, _ := strings.Cut(strings.TrimSpace(sql), " ")
	verb, _, _ = strings.Cut(verb, "\n")
	verb, _, _ = strings.Cut(verb, "\t")
	return strings.ToUpper(verb)
}
