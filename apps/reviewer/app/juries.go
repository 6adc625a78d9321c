package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/govern/kit/outbox"
	"github.com/govern/kit/telemetry"

	"github.com/govern/reviewer/domain"
)

// DrawJury serves a jury request from the report service. Repeating a draw id
// returns the jurors drawn the first time. The draw's task-assigned events
// are committed with it (in the outbox) and published by the relay after.
func (s *Service) DrawJury(ctx context.Context, req domain.DrawRequest) (domain.Draw, error) {
	if err := req.Validate(); err != nil {
		return domain.Draw{}, err
	}
	telemetry.Tag(ctx, telemetry.CaseID.String(req.CaseID))
	sel := Selection{Rule: s.Settings.PoolRule(), Fatigue: s.Settings.Fatigue(), Rand: s.newRand()}
	d, created, err := s.repo.DrawJury(ctx, req, sel)
	if errors.Is(err, domain.ErrPoolTooSmall) {
		drawsRefused.WithLabelValues("pool_too_small").Inc()
	}
	if err != nil {
		return domain.Draw{}, fmt.Errorf("draw jury %s for case %s: %w", req.DrawID, req.CaseID, err)
	}
	if d.CaseID != req.CaseID {
		return domain.Draw{}, fmt.Errorf("draw %s for case %s: served case %s: %w", req.DrawID, req.CaseID, d.CaseID, domain.ErrDrawIDReused)
	}
	if created {
		s.wake()
		s.log.InfoContext(ctx, "jury drawn", "draw_id", d.DrawID, "case_id", d.CaseID, "size", len(d.Jurors))
		s.offerGold(ctx, d, req, sel)
	}
	return d, nil
}

// OutboxTaskAssigned is the outbox kind of a draw's announcement: the
// repository enqueues an Announcement with every draw it records.
const OutboxTaskAssigned = "task-assigned"

// Announcement is the outbox payload that publishes one draw's
// task-assigned events.
type Announcement struct {
	DrawID   string    `json:"draw_id"`
	CaseID   string    `json:"case_id"`
	Jurors   []string  `json:"jurors"`
	Deadline time.Time `json:"deadline"`
}

// AnnouncementFor is what announces draw d of req.
func AnnouncementFor(d domain.Draw, req domain.DrawRequest) Announcement {
	return Announcement{DrawID: d.DrawID, CaseID: d.CaseID, Jurors: d.Jurors, Deadline: req.Deadline.UTC()}
}

// Announce is the outbox handler of OutboxTaskAssigned: it publishes
// task-assigned for every juror of the draw, in parallel, and fails when any
// publish failed, so that the relay tries again later. Consumers may thus
// see an event more than once and deduplicate by (case_id, juror_id).
func (s *Service) Announce(ctx context.Context, payload json.RawMessage) error {
	var a Announcement
	if err := json.Unmarshal(payload, &a); err != nil || a.CaseID == "" {
		return outbox.Permanent(fmt.Errorf("task-assigned payload %s: %v", payload, err))
	}
	errs := make([]error, len(a.Jurors))
	var wg sync.WaitGroup
	for i, j := range a.Jurors {
		wg.Go(func() {
			errs[i] = s.pub.TaskAssigned(ctx, TaskAssigned{CaseID: a.CaseID, JurorID: j, Deadline: a.Deadline})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("publish task-assigned of draw %s: %w", a.DrawID, err)
	}
	return nil
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
