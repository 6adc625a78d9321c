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

// RunPoolGauge refreshes govern_pool_size every interval until ctx ends.
func (s *Service) RunPoolGauge(ctx context.Context, db PoolCounter, interval time.Duration) {
	loop.Every(ctx, s.log, "count the juror pool", interval, nil, func(ctx context.Context) error {
		n, err := db.PoolSize(ctx, Selection{Rule: s.Settings.PoolRule(), Fatigue: s.Settings.Fatigue()})
		if err == nil {
			poolSize.Set(float64(n))
		}
		return err
	})
}
