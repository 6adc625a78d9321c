package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/govern/kit/loop"
	"github.com/govern/kit/telemetry"
	"github.com/govern/report/domain"
)

// Repairs is what the repair loop needs from the report database.
type Repairs interface {
	// WithRepairLock runs f unless another replica holds the repair lock
	// (ran is false then); the lock is released when f returns or the
	// replica dies.
	WithRepairLock(ctx context.Context, f func(context.Context) error) (ran bool, err error)
	// OpenRounds lists up to limit open cases whose round started before
	// startedBefore, those checked longest ago first.
	OpenRounds(ctx context.Context, startedBefore time.Time, limit int) ([]OpenRound, error)
	MarkRoundChecked(ctx context.Context, caseID string, now time.Time) error
	// NoteRoundRestart counts a restart of the case's round and records it
	// on the timeline.
	NoteRoundRestart(ctx context.Context, caseID string, now time.Time) error
	// UnpublishedDecisions lists up to limit closed cases with neither a
	// published decision nor its publication pending in the outbox.
	UnpublishedDecisions(ctx context.Context, limit int) ([]string, error)
	// EnqueueDecision enqueues the publication of a closed case's decision.
	EnqueueDecision(ctx context.Context, caseID string) error
}

// OpenRound is an open case's round as the repair loop checks it.
type OpenRound struct {
	RoundInput
	Restarts int
}

// Repair settings.
const (
	// MaxRoundRestarts is how often the repair loop starts a round again;
	// a case whose round keeps ending without closing it closes as
	// escalated instead.
	MaxRoundRestarts = 3
	// OverdueMargin is how long past its deadline an open case may stay
	// open with its round alive: after it the repair loop closes the case
	// itself, from its recorded votes, as the round would have. (A workflow
	// can sit RUNNING with an activity that never runs again, e.g. after
	// its state store failed mid-commit; chaos runs found such rounds.)
	OverdueMargin = 30 * time.Second
	repairBatch   = 100
)

// RunRepair runs Repair every interval until ctx ends.
func (s *Service) RunRepair(ctx context.Context, interval time.Duration) {
	loop.Every(ctx, s.Log, "repair", interval, nil, func(ctx context.Context) error {
		return s.Repair(ctx, interval)
	})
}

// Repair mends what a crash, a lost workflow or a bug can leave behind,
// on one replica at a time: an open case whose round is missing or ended
// gets its round started again (the round rebuilds itself from the
// database), or closes as escalated after MaxRoundRestarts; a closed case
// whose decision is neither published nor pending in the outbox gets its
// publication enqueued. Each pass looks at a bounded batch; rounds started
// less than grace ago are left alone (one pass later, they are checked).
func (s *Service) Repair(ctx context.Context, grace time.Duration) error {
	_, err := s.Repo.WithRepairLock(ctx, func(ctx context.Context) error {
		return errors.Join(s.repairRounds(ctx, grace), s.republishDecisions(ctx))
	})
	return err
}

func (s *Service) repairRounds(ctx context.Context, grace time.Duration) error {
	now := s.Now()
	open, err := s.Repo.OpenRounds(ctx, now.Add(-grace), repairBatch)
	if err != nil {
		return fmt.Errorf("list open rounds: %w", err)
	}
	var errs []error
	for _, r := range open {
		if err := s.repairRound(ctx, r, now); err != nil {
			errs = append(errs, fmt.Errorf("repair round of case %s: %w", r.CaseID, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) repairRound(ctx context.Context, r OpenRound, now time.Time) error {
	overdue := s.OverdueAfter
	if overdue <= 0 {
		overdue = OverdueMargin
	}
	if now.After(r.Deadline.Add(overdue)) {
		// Whatever the workflow says: every round ends by its deadline. A
		// round that wakes later finds the case closed and only reads the
		// decision (closing is idempotent).
		d, err := s.CloseCase(ctx, r.CaseID, "")
		if err != nil {
			return err
		}
		s.Log.WarnContext(ctx, "case open past its deadline; closed by the repair loop", "case_id", r.CaseID,
			"decision", d.Decision, "deadline", r.Deadline)
		return s.Repo.MarkRoundChecked(ctx, r.CaseID, now)
	}
	status, err := s.Rounds.Status(ctx, r.CaseID, r.Round)
	if err != nil {
		return err
	}
	if status != RoundAlive {
		// The round may have closed the case since it was listed.
		c, err := s.Repo.Case(ctx, r.CaseID)
		if err != nil {
			return err
		}
		if !domain.Closed(c.Status) {
			if err := s.restartRound(ctx, r, now); err != nil {
				return err
			}
		}
	}
	return s.Repo.MarkRoundChecked(ctx, r.CaseID, now)
}

func (s *Service) restartRound(ctx context.Context, r OpenRound, now time.Time) error {
	if r.Restarts >= MaxRoundRestarts {
		reason := fmt.Sprintf("the round ended %d times without closing the case", r.Restarts+1)
		s.Log.ErrorContext(ctx, "round cannot go on; closing the case as escalated", "case_id", r.CaseID, "reason", reason)
		_, err := s.CloseCase(ctx, r.CaseID, reason)
		return err
	}
	if err := s.Repo.NoteRoundRestart(ctx, r.CaseID, now); err != nil {
		return err
	}
	in := r.RoundInput
	ctx, span := telemetry.Start(telemetry.WithTraceparent(ctx, in.Traceparent), "restart round",
		trace.WithAttributes(telemetry.CaseID.String(in.CaseID)))
	defer span.End()
	in.PoolRetry, in.PoolWaits, in.Traceparent = s.poolRetry(), 0, telemetry.Traceparent(ctx)
	if err := s.Rounds.Start(ctx, in); err != nil {
		telemetry.Fail(span, err)
		return fmt.Errorf("start round again: %w", err)
	}
	s.Log.WarnContext(ctx, "round was missing or had ended with the case open; started again", "case_id", r.CaseID,
		"round", max(r.Round, 1), "restarts", r.Restarts+1)
	return nil
}

func (s *Service) republishDecisions(ctx context.Context) error {
	ids, err := s.Repo.UnpublishedDecisions(ctx, repairBatch)
	if err != nil {
		return fmt.Errorf("list unpublished decisions: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if err := s.Repo.EnqueueDecision(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("enqueue decision of case %s: %w", id, err))
			continue
		}
		s.Log.WarnContext(ctx, "closed case had no published decision and none pending; publication enqueued", "case_id", id)
	}
	s.wakeIf(len(ids) > 0)
	return errors.Join(errs...)
}
