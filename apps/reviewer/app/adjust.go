package app

import (
	"context"
	"time"

	"github.com/govern/kit/loop"
)

// settleMargin covers transactions that settled a task with an earlier
// timestamp but committed after an adjustment read the tasks.
const settleMargin = time.Minute

// RunAdjustment applies the adjustment rule every rule.Interval until ctx
// ends. It checks every tick whether an interval has passed, so a shorter
// interval set live takes effect at once.
func (s *Service) RunAdjustment(ctx context.Context, tick time.Duration) {
	var last, since time.Time
	loop.Every(ctx, s.log, "adjust juror pool", tick, nil, func(ctx context.Context) error {
		now := s.now()
		if now.Sub(last) < s.Settings.Adjustment().Interval {
			return nil
		}
		last = now
		ran, err := s.Adjust(ctx, since)
		if ran && err == nil {
			since = now.Add(-settleMargin)
		}
		return err
	})
}

// Adjust restores jurors whose suspension ended and suspends those whose
// recent record (with a task settled after since) fails the rule in force;
// each change is logged and recorded as a transition.
func (s *Service) Adjust(ctx context.Context, since time.Time) (bool, error) {
	done, ran, err := s.repo.Adjust(ctx, s.Settings.Adjustment(), since)
	for _, a := range done {
		s.log.InfoContext(ctx, "juror adjusted", "user_id", a.UserID, "from", a.From, "to", a.To, "reason", a.Reason)
	}
	return ran, err
}
