// Package daprstate records decisions in the Dapr state store configured for
// the transactional outbox (Dapr's own), so that storing a decision there and
// publishing case-decided happen in one state transaction. The report
// database's outbox (kit/outbox) hands each decision over to it.
package daprstate

import (
	"context"

	"github.com/govern/kit/daprx"
	"github.com/govern/report/app"
)

// Publisher implements app.DecisionPublisher.
type Publisher struct {
	Sidecar *daprx.Client
	Store   string
}

var _ app.DecisionPublisher = Publisher{}

// PublishDecision upserts the decision under a key derived from the case, so a
// retried activity rewrites the same record (and consumers deduplicate the
// repeated event by case).
func (p Publisher) PublishDecision(ctx context.Context, d app.Decision) error {
	return p.Sidecar.Transact(ctx, p.Store, daprx.Upsert{Key: "decision-" + d.CaseID, Value: d})
}
