package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/govern/report/domain"
)

// Draw is a jury or substitute draw's outcome as the round workflow sees it.
type Draw struct {
	Jurors       []string  `json:"jurors"`
	DrawnAt      time.Time `json:"drawn_at"`
	PoolTooSmall bool      `json:"pool_too_small"`
}

// DrawJury asks the reviewer service for the case's whole jury and records
// it. A pool too small for a whole jury is not an error: the round retries.
func (s *Service) DrawJury(ctx context.Context, caseID string) (Draw, error) {
	c, err := s.Repo.Case(ctx, caseID)
	if err != nil {
		return Draw{}, fmt.Errorf("load case %s: %w", caseID, err)
	}
	if c.Status != domain.StatusPending {
		return s.recordedDraw(c), nil // drawn before a retry of this step
	}
	exclude, err := s.Repo.Reporters(ctx, caseID)
	if err != nil {
		return Draw{}, fmt.Errorf("load reporters of case %s: %w", caseID, err)
	}
	now := s.Now()
	jurors, err := s.draw(ctx, c, caseID+"/jury", c.Policy.JurySize, exclude, now)
	if errors.Is(err, ErrPoolTooSmall) {
		_ = s.Repo.RecordEvent(ctx, Event{CaseID: caseID, At: now, Kind: EventPoolTooSmall})
		return Draw{PoolTooSmall: true}, nil
	}
	if err != nil {
		return Draw{}, err
	}
	if err := s.Repo.SaveJury(ctx, caseID, jurors, now, jurorDeadline(c, now), false); err != nil {
		return Draw{}, fmt.Errorf("save jury for case %s: %w", caseID, err)
	}
	s.Log.Info("jury drawn", "case_id", caseID, "jurors", len(jurors))
	return Draw{Jurors: jurors, DrawnAt: now}, nil
}

// recordedDraw rebuilds a draw already stored (the activity ran twice).
func (s *Service) recordedDraw(c CaseView) Draw {
	d := Draw{Jurors: c.Jurors}
	for _, e := range c.Timeline {
		if e.Kind == EventDrawn {
			d.DrawnAt = e.At
			break
		}
	}
	return d
}

// SubstituteRequest asks for the seq-th substitute of a case.
type SubstituteRequest struct {
	CaseID   string   `json:"case_id"`
	Seq      int      `json:"seq"`
	Replaces string   `json:"replaces"`
	Exclude  []string `json:"exclude"`
}

// DrawSubstitute draws one juror to replace a released one, excluding
// everyone already drawn for the case and its reporters.
func (s *Service) DrawSubstitute(ctx context.Context, req SubstituteRequest) (Draw, error) {
	c, err := s.Repo.Case(ctx, req.CaseID)
	if err != nil {
		return Draw{}, fmt.Errorf("load case %s: %w", req.CaseID, err)
	}
	reporters, err := s.Repo.Reporters(ctx, req.CaseID)
	if err != nil {
		return Draw{}, fmt.Errorf("load reporters of case %s: %w", req.CaseID, err)
	}
	now := s.Now()
	exclude := append(append([]string{}, req.Exclude...), reporters...)
	jurors, err := s.draw(ctx, c, fmt.Sprintf("%s/substitute-%d", req.CaseID, req.Seq), 1, exclude, now)
	if errors.Is(err, ErrPoolTooSmall) {
		return Draw{PoolTooSmall: true}, nil
	}
	if err != nil {
		return Draw{}, err
	}
	if err := s.Repo.SaveJury(ctx, req.CaseID, jurors, now, jurorDeadline(c, now), true); err != nil {
		return Draw{}, fmt.Errorf("save substitute for case %s: %w", req.CaseID, err)
	}
	s.Log.Info("substitute drawn", "case_id", req.CaseID, "juror_id", jurors[0], "replaces", req.Replaces)
	return Draw{Jurors: jurors, DrawnAt: now}, nil
}

func (s *Service) draw(ctx context.Context, c CaseView, drawID string, size int, exclude []string, now time.Time) ([]string, error) {
	req := JuryRequest{
		DrawID: drawID, CaseID: c.ID, Size: size, Exclude: exclude,
		Target: c.Target, Reason: c.Reason, Deadline: jurorDeadline(c, now),
	}
	jurors, err := s.Reviewer.DrawJury(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("draw %s: %w", drawID, err)
	}
	if len(jurors) != size {
		return nil, fmt.Errorf("draw %s: reviewer returned %d jurors, want %d", drawID, len(jurors), size)
	}
	return jurors, nil
}

// jurorDeadline is when a juror drawn at now must have answered.
func jurorDeadline(c CaseView, now time.Time) time.Time {
	d := now.Add(time.Duration(c.Policy.JurorTimeout))
	if d.After(c.Deadline) {
		return c.Deadline
	}
	return d
}

// ReleaseJuror releases a juror whose time ran out and closes their task. If
// they voted after all (the vote raced the timeout), it returns the vote.
func (s *Service) ReleaseJuror(ctx context.Context, caseID, jurorID string) (string, error) {
	vote, err := s.Repo.ReleaseJuror(ctx, caseID, jurorID, s.Now())
	if err != nil {
		return "", fmt.Errorf("release juror %s of case %s: %w", jurorID, caseID, err)
	}
	if vote != "" {
		return vote, nil
	}
	s.Log.Info("juror timed out", "case_id", caseID, "juror_id", jurorID)
	s.Effects.Wake() // close their task now
	return "", nil
}

// RemindJuror records a reminder and, in the same transaction, its
// announcement for push notification.
func (s *Service) RemindJuror(ctx context.Context, caseID, jurorID string, deadline time.Time) error {
	r := Reminder{CaseID: caseID, JurorID: jurorID, Deadline: deadline.UTC()}
	if err := s.Repo.RemindJuror(ctx, r, s.Now()); err != nil {
		return fmt.Errorf("remind juror %s of case %s: %w", jurorID, caseID, err)
	}
	s.Effects.Wake()
	return nil
}

// CloseCase closes the case from its recorded votes; the outbox publishes
// the decision (case-decided) once the close has committed, however the
// round fares afterwards.
func (s *Service) CloseCase(ctx context.Context, caseID string) (Decision, error) {
	d, err := s.Repo.CloseCase(ctx, caseID, s.Now())
	if err != nil {
		return Decision{}, fmt.Errorf("close case %s: %w", caseID, err)
	}
	s.Effects.Wake()
	s.Log.Info("case decided", "case_id", caseID, "decision", d.Decision,
		"uphold", d.Tally.Uphold, "reject", d.Tally.Reject)
	return d, nil
}
