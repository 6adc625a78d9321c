// Package daprpubsub publishes the report service's events through the
// sidecar's pub/sub API: decisions, reminders and dead letters.
package daprpubsub

import (
	"context"
	"time"

	"github.com/govern/kit/daprx"
	"github.com/govern/report/app"
)

// Topics this service publishes (each through kit/outbox, but dead letters).
const (
	TopicCaseDecided      = "case-decided"
	TopicJurorReminded    = "juror-reminded"
	TopicReportDeadLetter = "reports-dead-letter"
)

// Publisher implements app.Notifier and the intake's dead-letter sink.
type Publisher struct {
	Sidecar *daprx.Client
	PubSub  string
}

var (
	_ app.Notifier          = Publisher{}
	_ app.DecisionPublisher = Publisher{}
)

// PublishDecision publishes case-decided keyed by case, so that on Kafka a
// case's decisions stay in order. Consumers deduplicate by case: the relay
// publishes at least once.
func (p Publisher) PublishDecision(ctx context.Context, d app.Decision) error {
	return p.Sidecar.PublishKeyed(ctx, p.PubSub, TopicCaseDecided, d.CaseID, d)
}

func (p Publisher) Reminded(ctx context.Context, caseID, jurorID string, deadline time.Time) error {
	return p.Sidecar.Publish(ctx, p.PubSub, TopicJurorReminded,
		map[string]any{"case_id": caseID, "juror_id": jurorID, "deadline": deadline.UTC()})
}

// DeadLetter is what a refused intake message becomes on the dead-letter topic.
type DeadLetter struct {
	Reason  string `json:"reason"`
	EventID string `json:"event_id"`
	Message string `json:"message"`
}

// Reject sends a message that can never be processed to the dead-letter topic.
func (p Publisher) Reject(ctx context.Context, d DeadLetter) error {
	return p.Sidecar.Publish(ctx, p.PubSub, TopicReportDeadLetter, d)
}

// TopicCaseOutcome carries the notices of every decision (through kit/outbox).
const TopicCaseOutcome = "case-outcome"

// Outcome publishes one notice keyed by case, so that on Kafka a case's
// notices stay in order.
func (p Publisher) Outcome(ctx context.Context, n app.Notice) error {
	return p.Sidecar.PublishKeyed(ctx, p.PubSub, TopicCaseOutcome, n.CaseID, n)
}
