// Package loop is the one way a service runs a background pass over and
// over (a sweep, a repair, a gauge refresh): at once, then every interval
// and whenever it is woken, until its context ends. A failed pass is logged
// and the next one runs on schedule: the pass itself must be safe to repeat.
package loop

import (
	"context"
	"log/slog"
	"time"
)

// Every runs pass now, then every interval and whenever wake delivers (nil
// never does), until ctx ends. A pass's error is logged as a warning under
// what, unless ctx ended.
func Every(ctx context.Context, log *slog.Logger, what string, interval time.Duration, wake <-chan struct{}, pass func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := pass(ctx); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, what, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}
