package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/govern/kit/loop"
)

// The report service's business metrics (manifests/observability/README.md
// lists them; the rules and dashboards read them).
var (
	reportsFiled = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "govern_reports_total", Help: "Reports filed, by target kind and channel (http, topic).",
	}, []string{"kind", "channel"})
	decisions = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "govern_decisions_total", Help: "Cases decided, by outcome.",
	}, []string{"outcome"})
	substitutes = promauto.NewCounter(prometheus.CounterOpts{
		Name: "govern_substitutes_total", Help: "Substitute jurors drawn.",
	})
	jurorTimeouts = promauto.NewCounter(prometheus.CounterOpts{
		Name: "govern_juror_timeouts_total", Help: "Jurors whose vote timed out.",
	})
	roundAge = promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "govern_round_age_at_decision_seconds", Help: "Time from a case's opening to its decision.",
		Buckets: []float64{1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600},
	})
	casesOpen = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "govern_cases_open", Help: "Open cases by status (pending, voting).",
	}, []string{"status"})
	roundsPastDeadline = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "govern_rounds_past_deadline", Help: "Open cases whose round's deadline has passed.",
	})
	roundWakes = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "govern_round_wakes_total", Help: "Wake events raised to rounds with something due, by result (ok, failed).",
	}, []string{"result"})
	pendingOldest = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "govern_cases_pending_oldest_seconds", Help: "Age of the oldest case still waiting for a jury.",
	})
)

// Report channels (govern_reports_total's channel label).
const (
	ChannelHTTP  = "http"
	ChannelTopic = "topic"
)

// ReportFiled counts a report filed (not a replay) through channel.
func ReportFiled(kind, channel string) { reportsFiled.WithLabelValues(kind, channel).Inc() }

// CaseGauges is what the report database says of its open cases.
type CaseGauges struct {
	Open             map[string]int // by status
	PastDeadline     int
	OldestPendingAge time.Duration
}

// CaseGauger reads CaseGauges.
type CaseGauger interface {
	CaseGauges(ctx context.Context) (CaseGauges, error)
}

// RunGauges refreshes the open-case gauges from db every interval until ctx ends.
func (s *Service) RunGauges(ctx context.Context, db CaseGauger, interval time.Duration) {
	loop.Every(ctx, s.Log, "read case gauges", interval, nil, func(ctx context.Context) error {
		g, err := db.CaseGauges(ctx)
		if err != nil {
			return err
		}
		for _, status := range []string{"pending", "voting"} {
			casesOpen.WithLabelValues(status).Set(float64(g.Open[status]))
		}
		roundsPastDeadline.Set(float64(g.PastDeadline))
		pendingOldest.Set(g.OldestPendingAge.Seconds())
		return nil
	})
}
