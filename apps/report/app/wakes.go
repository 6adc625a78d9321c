package app

import (
	"context"
	"fmt"
	"time"

	"github.com/govern/kit/loop"
)

// Wake settings. A round (workflow shape 2) waits for its votes without a
// durable timer: each timer was a scheduler job created and deleted for
// every wait, most of them for a vote that came long before it fired. The
// report database knows when each round next needs to act (a seat's
// reminder or deadline, the round's deadline), so RunWakes raises a wake
// event at that time and the round looks at its clock and acts.
const (
	// Rewake is how long after a wake the round is woken again while the
	// database still says something is due (the wake was lost, the sidecar
	// was down, or the round's clock was behind the database's).
	Rewake = 10 * time.Second
	// wakeBatch bounds one pass; a full batch is followed by another pass.
	wakeBatch = 200
	// wakeTimeout bounds one wake; wakeFailuresInARow ends a pass.
	wakeTimeout        = 3 * time.Second
	wakeFailuresInARow = 5
)

// RunWakes wakes the rounds with something due every interval until ctx
// ends. It is safe on every replica: a case is picked by one of them, and a
// wake the round finds early or repeated changes nothing.
func (s *Service) RunWakes(ctx context.Context, interval time.Duration) {
	loop.Every(ctx, s.Log, "wake rounds", interval, nil, s.WakeDueRounds)
}

// WakeDueRounds raises a wake for every round with something due now.
func (s *Service) WakeDueRounds(ctx context.Context) error {
	for {
		due, err := s.Repo.DueWakes(ctx, s.Now(), Rewake, wakeBatch)
		if err != nil {
			return fmt.Errorf("list rounds due a wake: %w", err)
		}
		failed, inARow, first := 0, 0, error(nil)
		for _, e := range due {
			rctx, cancel := context.WithTimeout(ctx, wakeTimeout)
			err := s.Rounds.Raise(rctx, e)
			cancel()
			if err == nil {
				roundWakes.WithLabelValues("ok").Inc()
				inARow = 0
				continue
			}
			roundWakes.WithLabelValues("failed").Inc()
			// Woken again after Rewake; a round that is gone is the repair
			// loop's (and an overdue case closes by itself).
			if failed++; first == nil {
				first = fmt.Errorf("wake the round of case %s: %w", e.CaseID, err)
			}
			if inARow++; inARow == wakeFailuresInARow {
				break // the sidecar is down: the rest after Rewake too
			}
		}
		if failed > 0 {
			return fmt.Errorf("%d of %d wakes failed, the first: %w", failed, len(due), first)
		}
		if len(due) < wakeBatch {
			return nil
		}
	}
}
