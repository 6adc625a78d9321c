package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/govern/kit/loop"
)

// The reviewer service's business metrics (manifests/observability/README.md).
var (
	drawsRefused = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "govern_draws_refused_total", Help: "Jury draws refused, by reason (pool_too_small).",
	}, []string{"reason"})
	poolSize = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "govern_pool_size", Help: "Jurors a draw could seat now (pool rule and fatigue limits); estimated from random keys in pools over 20,000 keys.",
	})
)

// PoolCounter counts the jurors a draw could seat.
type PoolCounter interface {
	PoolSize(ctx context.Context, sel Selection) (int, error)
}

// RunPoolGauge refreshes govern_pool_size every interval until ctx ends, but
// spends at most about a tenth of the time counting (gaugePause): a count
// reads the whole pool, seconds at a million jurors, and a gauge must not
// keep a database core busy beside the draws.
func (s *Service) RunPoolGauge(ctx context.Context, db PoolCounter, interval time.Duration) {
	var next time.Time
	loop.Every(ctx, s.log, "count the juror pool", interval, nil, func(ctx context.Context) error {
		start := time.Now()
		if start.Before(next) {
			return nil
		}
		n, err := db.PoolSize(ctx, Selection{Rule: s.Settings.PoolRule(), Fatigue: s.Settings.Fatigue()})
		if err == nil {
			poolSize.Set(float64(n))
		}
		next = start.Add(gaugePause(interval, time.Since(start)))
		return err
	})
}

// gaugePause is how long after the start of a count that took took the next
// may start: the interval, or ten times took when the count is
// slow, so that counting takes at most a tenth of the time.
func gaugePause(interval, took time.Duration) time.Duration {
	return max(interval, 10*took)
}
