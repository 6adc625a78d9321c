package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/govern/report/domain"
)

// MoreRequest asks for Count more jurors for an adaptive round whose votes
// are not yet confident enough; Seq (the number of seats drawn so far)
// makes the draw idempotent.
type MoreRequest struct {
	CaseID  string   `json:"case_id"`
	Seq     int      `json:"seq"`
	Count   int      `json:"count"`
	Exclude []string `json:"exclude"`
}

// DrawMore draws req.Count more jurors for an adaptive case, excluding
// everyone already drawn and its reporters, and records them as ordinary
// seats (not substitutes). The reliabilities it returns are the ones
// recorded, so that the round weighs votes exactly as CloseCase will.
func (s *Service) DrawMore(ctx context.Context, req MoreRequest) (Draw, error) {
	if req.Count < 1 || req.Count > domain.MaxJurySize {
		return Draw{}, fmt.Errorf("draw more for case %s: %w: count %d", req.CaseID, ErrRefused, req.Count)
	}
	c, err := s.Repo.Case(ctx, req.CaseID)
	if err != nil {
		return Draw{}, fmt.Errorf("load case %s: %w", req.CaseID, err)
	}
	if domain.Closed(c.Status) {
		return Draw{CaseClosed: true}, nil
	}
	if !c.Policy.IsAdaptive() {
		return Draw{}, fmt.Errorf("draw more for case %s: %w: its policy is not adaptive", req.CaseID, ErrRefused)
	}
	exclude, err := s.exclusions(ctx, req.CaseID, append(roundExclusions(c), req.Exclude...))
	if err != nil {
		return Draw{}, err
	}
	now := s.Now()
	// As for substitutes: until SaveJury records the seats, a vote from a
	// new juror is "not ready", not "not drawn".
	if err := s.Repo.MarkDrawing(ctx, req.CaseID, now.Add(substituteDrawWindow)); err != nil {
		return Draw{}, fmt.Errorf("mark draw of case %s: %w", req.CaseID, err)
	}
	jurors, rel, err := s.draw(ctx, c, drawID(c, fmt.Sprintf("more-%d", req.Seq)), req.Count, exclude, now)
	if errors.Is(err, ErrPoolTooSmall) {
		return Draw{PoolTooSmall: true}, s.Repo.MarkDrawing(ctx, req.CaseID, time.Time{})
	}
	if err != nil {
		return Draw{}, err
	}
	recused, err := s.Repo.SaveJury(ctx, req.CaseID, jurors, rel, seatTimes(c, now), false)
	if err != nil {
		return Draw{}, fmt.Errorf("save more jurors for case %s: %w", req.CaseID, err)
	}
	st, err := s.Repo.RoundState(ctx, req.CaseID)
	if err != nil {
		return Draw{}, fmt.Errorf("load round of case %s: %w", req.CaseID, err)
	}
	stored := make(map[string]domain.Reliability, len(jurors))
	drawnAt := now
	for _, seat := range st.Seats {
		for _, j := range jurors {
			if seat.JurorID == j {
				stored[j] = domain.ReliabilityOf(seat)
				drawnAt = seat.DrawnAt // the first attempt's, when this one repeated it
			}
		}
	}
	s.Log.InfoContext(ctx, "more jurors drawn", "case_id", req.CaseID, "jurors", len(jurors), "seats", req.Seq+len(jurors), "recused", len(recused))
	s.wakeIf(len(recused) > 0)
	return Draw{Jurors: jurors, DrawnAt: drawnAt, Recused: recused, Reliability: stored}, nil
}
