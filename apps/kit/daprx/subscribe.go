package daprx

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/govern/kit/httpx"
	"github.com/govern/kit/telemetry"
)

var deadLetters = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "govern_dead_letters_total",
	Help: "Messages set aside on a dead-letter topic, by topic and reason (malformed, rejected).",
}, []string{"topic", "reason"})

// DeadLettered counts a message of topic set aside for reason (malformed:
// not a CloudEvent with data; rejected: the handler refused it for good).
func DeadLettered(topic, reason string) {
	if topic == "" {
		topic = "unknown"
	}
	deadLetters.WithLabelValues(topic, reason).Inc()
}

// Event is a pub/sub delivery: the CloudEvent id and its JSON data.
type Event struct {
	ID    string
	Topic string
	Data  json.RawMessage
}

// Outcome tells the sidecar what to do with a delivered message.
type Outcome string

const (
	Success Outcome = "SUCCESS" // processed (or a duplicate): acknowledge
	Retry   Outcome = "RETRY"   // transient failure: deliver again later
	Drop    Outcome = "DROP"    // malformed: never retry; goes to the dead-letter topic
)

// Handler processes one event and says what became of it.
type Handler func(*gin.Context, Event) Outcome

// Subscription adapts h to a gin route that the sidecar posts CloudEvents to.
// An envelope that is not a CloudEvent with data, or larger than
// httpx.MaxBody, is dropped (to the dead-letter topic), never retried.
// The handler runs in a consumer span continuing the trace of the
// CloudEvent's traceparent (the publisher's), linked to the delivery's own
// span when the sidecar delivered it in another trace.
func Subscription(log *slog.Logger, h Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := httpx.ReadBody(c)
		var ce struct {
			ID    string          `json:"id"`
			Topic string          `json:"topic"`
			Data  json.RawMessage `json:"data"`
			// Traceparent is the publisher's trace context (CloudEvents
			// distributed tracing extension, set by Dapr).
			Traceparent string `json:"traceparent"`
		}
		if err != nil || json.Unmarshal(body, &ce) != nil || len(ce.Data) == 0 {
			reason := "not a CloudEvent with data"
			if err != nil {
				reason = err.Error()
			}
			log.WarnContext(c.Request.Context(), "dropping malformed delivery", "path", c.FullPath(), "reason", reason)
			DeadLettered(ce.Topic, "malformed")
			c.JSON(http.StatusOK, gin.H{"status": Drop})
			return
		}
		ctx, span := consumerSpan(c, ce.Topic, ce.ID, ce.Traceparent)
		c.Request = c.Request.WithContext(ctx)
		out := h(c, Event{ID: ce.ID, Topic: ce.Topic, Data: ce.Data})
		span.SetAttributes(attribute.String("messaging.outcome", string(out)))
		if out == Drop {
			DeadLettered(ce.Topic, "rejected")
		}
		span.End()
		c.JSON(http.StatusOK, gin.H{"status": out})
	}
}

func consumerSpan(c *gin.Context, topic, id, traceparent string) (context.Context, trace.Span) {
	ctx := c.Request.Context()
	delivery := trace.SpanContextFromContext(ctx)
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(
		attribute.String("messaging.destination.name", topic), attribute.String("messaging.message.id", id))}
	if pub, err := telemetry.Remote(traceparent); err == nil && pub.TraceID() != delivery.TraceID() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, pub)
		if delivery.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: delivery}))
		}
	}
	return telemetry.Start(ctx, "consume "+topic, opts...)
}
