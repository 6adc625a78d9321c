package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/govern/reviewer/domain"
)

// DrawJury serves a jury request from the report service. Repeating a draw id
// returns the jurors drawn the first time.
func (s *Service) DrawJury(ctx context.Context, req domain.DrawRequest) (domain.Draw, error) {
	if err := req.Validate(); err != nil {
		return domain.Draw{}, err
	}
	sel := Selection{Rule: s.Settings.PoolRule(), Fatigue: s.Settings.Fatigue(), Rand: s.newRand()}
	d, created, err := s.repo.DrawJury(ctx, req, sel)
	if err != nil {
		return domain.Draw{}, fmt.Errorf("draw jury %s for case %s: %w", req.DrawID, req.CaseID, err)
	}
	if d.CaseID != req.CaseID {
		return domain.Draw{}, fmt.Errorf("draw %s for case %s: served case %s: %w", req.DrawID, req.CaseID, d.CaseID, domain.ErrDrawIDReused)
	}
	if created {
		s.announce(ctx, d, req)
	}
	return d, nil
}

// announce publishes task-assigned for every drawn juror, in parallel. The
// tasks are committed; a lost announcement must not undo the draw, so
// failures are logged, and a departing caller does not cancel them midway.
func (s *Service) announce(ctx context.Context, d domain.Draw, req domain.DrawRequest) {
	ctx = context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for _, j := range d.Jurors {
		wg.Go(func() {
			e := TaskAssigned{CaseID: d.CaseID, JurorID: j, Deadline: req.Deadline.UTC()}
			if err := s.pub.TaskAssigned(ctx, e); err != nil {
				s.log.ErrorContext(ctx, "publish task-assigned failed", "case_id", d.CaseID, "juror_id", j, "err", err)
			}
		})
	}
	wg.Wait()
	s.log.InfoContext(ctx, "jury drawn", "draw_id", d.DrawID, "case_id", d.CaseID, "size", len(d.Jurors))
}

// CloseTask closes one juror's task after a vote or release.
func (s *Service) CloseTask(ctx context.Context, caseID, jurorID, reason string) error {
	if err := domain.ValidateCaseID(caseID); err != nil {
		return err
	}
	if err := domain.ValidateUserID(jurorID); err != nil {
		return err
	}
	r, err := domain.ParseJurorCloseReason(reason)
	if err != nil {
		return err
	}
	if err := s.repo.CloseTask(ctx, caseID, jurorID, r); err != nil {
		return fmt.Errorf("close task of %s in case %s: %w", jurorID, caseID, err)
	}
	return nil
}

// CaseDecided settles the decided case's tasks: open ones close, and each
// juror's record learns whether their vote agreed with the decision. A
// redelivered decision changes nothing.
func (s *Service) CaseDecided(ctx context.Context, r domain.CaseResult) error {
	applied, err := s.repo.RecordDecision(ctx, r)
	if err != nil {
		return fmt.Errorf("record decision of case %s: %w", r.CaseID, err)
	}
	if applied {
		s.log.InfoContext(ctx, "decision recorded", "case_id", r.CaseID, "decision", r.Decision, "votes", len(r.Votes))
	}
	return nil
}
