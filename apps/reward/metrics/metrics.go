// Package metrics holds the reward service's business metrics; the HTTP
// request metrics come with the kit's engine.
package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/govern/reward/domain"
)

var (
	redemptions = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "govern_redemptions_total",
		Help: "Redemption requests answered, by outcome (redeemed, a refusal code, replayed, error).",
	}, []string{"outcome"})
	redemptionGroups = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "govern_redemption_groups_total",
		Help: "Group commits of two or more redemptions in one transaction, by outcome: committed, or rolled_back (each redemption of the group was then tried alone).",
	}, []string{"outcome"})
	credits = promauto.NewCounter(prometheus.CounterOpts{
		Name: "govern_credits_total",
		Help: "Juror credits recorded from case-decided events (a redelivery's duplicates not counted).",
	})
	pointsCredited = promauto.NewCounter(prometheus.CounterOpts{
		Name: "govern_points_credited_total",
		Help: "Points added to balances by vote credits.",
	})
)

// Redemption counts one answered redemption request.
func Redemption(refusal *domain.Refusal, replayed bool, err error) {
	outcome := "redeemed"
	switch {
	case errors.Is(err, domain.ErrUnknownSKU):
		outcome = "unknown_sku"
	case err != nil:
		outcome = "error"
	case replayed:
		outcome = "replayed"
	case refusal != nil:
		outcome = string(refusal.Code)
	}
	redemptions.WithLabelValues(outcome).Inc()
}

// Credits counts one crediting of a case's jurors: the credits recorded and
// the points they added (duplicates add neither).
func Credits(recorded int, points int64) {
	credits.Add(float64(recorded))
	pointsCredited.Add(float64(points))
}

// RedemptionGroup counts one group commit of redemptions: rolled back when
// err is not nil. Groups that keep rolling back (a reused key, an unknown
// item, a lost connection in each) cost every redemption in them a second
// transaction.
func RedemptionGroup(err error) {
	outcome := "committed"
	if err != nil {
		outcome = "rolled_back"
	}
	redemptionGroups.WithLabelValues(outcome).Inc()
}
