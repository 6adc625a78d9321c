package app

import (
	"context"
	"fmt"

	"github.com/govern/reviewer/domain"
)

// DrawJury serves a jury request from the report service. Repeating a draw id
// returns the jurors drawn the first time.
func (s *Service) DrawJury(ctx context.Context, req domain.DrawRequest) (domain.Draw, error) {
	if err := req.Validate(); err != nil {
		return domain.Draw{}, err
	}
	rng := s.newRand()
	excluded := req.Excluded()
	pick := func(eligible []string) ([]string, error) {
		return domain.SelectJury(eligible, excluded, req.Size, rng)
	}
	d, created, err := s.repo.DrawJury(ctx, req, pick)
	if err != nil {
		return domain.Draw{}, fmt.Errorf("draw jury %s for case %s: %w", req.DrawID, req.CaseID, err)
	}
	if d.CaseID != req.CaseID {
		return domain.Draw{}, fmt.Errorf("draw %s for case %s: served case %s: %w", req.DrawID, req.CaseID, d.CaseID, domain.ErrDrawIDReused)
	}
	if created {
		// The tasks are committed; a lost announcement must not undo the
		// draw, so failures are logged, and the request is not cancelled
		// midway by a departing caller.
		ctx = context.WithoutCancel(ctx)
		for _, j := range d.Jurors {
			e := TaskAssigned{CaseID: d.CaseID, JurorID: j, Deadline: req.Deadline.UTC()}
			if err := s.pub.TaskAssigned(ctx, e); err != nil {
				s.log.ErrorContext(ctx, "publish task-assigned failed", "case_id", d.CaseID, "juror_id", j, "err", err)
			}
		}
		s.log.InfoContext(ctx, "jury drawn", "draw_id", d.DrawID, "case_id", d.CaseID, "size", len(d.Jurors))
	}
	return d, nil
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

// CaseDecided closes every task still open in the decided case.
func (s *Service) CaseDecided(ctx context.Context, caseID string) error {
	if err := domain.ValidateCaseID(caseID); err != nil {
		return err
	}
	n, err := s.repo.CloseCaseTasks(ctx, caseID, domain.ClosedDecided)
	if err != nil {
		return fmt.Errorf("close tasks of decided case %s: %w", caseID, err)
	}
	if n > 0 {
		s.log.InfoContext(ctx, "tasks closed by decision", "case_id", caseID, "closed", n)
	}
	return nil
}
