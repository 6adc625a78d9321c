package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/govern/kit/loop"
	"github.com/govern/kit/outbox"
	"github.com/govern/reviewer/domain"
)

// Gold cases (issue 12 §3). The report service announces each gold case
// (POST /internal/gold-cases). When a draw seats a juror on a real case,
// GoldMix.Next, at the live gold_rate, decides whether the juror also gets
// a gold task: an unseen gold case, preferably with the answer Next asks
// for. The task is a row of tasks like any other (same inbox, stream,
// announcement and fatigue), and its seat reaches the report service
// through the outbox (OutboxGoldSeat) so that the juror's vote is let in
// there. The vote comes back (POST /internal/gold-votes): the task closes,
// the answer is measured, and the accuracy rule (min_gold,
// min_gold_accuracy) judges the juror on their record since their last
// restoration, gold and agreement together; a failing juror is suspended
// with the adjustment rule's suspension. Gold tasks never settle: they stay
// out of the agreement statistics and the adjustment rule's window.

// KeyGold is the key of the gold settings.
const KeyGold = "gold"

// OutboxGoldSeat is the outbox kind that seats a juror on a gold case in
// the report service.
const OutboxGoldSeat = "gold-seat"

// GoldSettings are the operator's gold settings.
type GoldSettings struct {
	// Rate is gold_rate: the share of a known juror's tasks that are gold
	// (new jurors get more: domain.DefaultGoldMix). 0 turns gold off.
	Rate float64
	Rule domain.AccuracyRule
}

// DefaultGoldSettings applies until an operator sets them.
func DefaultGoldSettings() GoldSettings {
	return GoldSettings{Rate: domain.DefaultGoldRate, Rule: domain.DefaultAccuracyRule()}
}

// GoldJSON is the wire form of the gold settings.
type GoldJSON struct {
	GoldRate        *float64 `json:"gold_rate"`
	MinGold         *int     `json:"min_gold"`
	MinGoldAccuracy *float64 `json:"min_gold_accuracy"`
}

// GoldToJSON writes g in its wire form.
func GoldToJSON(g GoldSettings) GoldJSON {
	return GoldJSON{GoldRate: &g.Rate, MinGold: &g.Rule.MinGold, MinGoldAccuracy: &g.Rule.MinGoldAccuracy}
}

// ParseGold validates wire-form gold settings; every field is required.
func ParseGold(j GoldJSON) (GoldSettings, error) {
	switch {
	case j.GoldRate == nil:
		return GoldSettings{}, &domain.ValidationError{Message: "gold_rate is required"}
	case j.MinGold == nil:
		return GoldSettings{}, &domain.ValidationError{Message: "min_gold is required"}
	case j.MinGoldAccuracy == nil:
		return GoldSettings{}, &domain.ValidationError{Message: "min_gold_accuracy is required"}
	}
	if err := domain.ValidateGoldRate(*j.GoldRate); err != nil {
		return GoldSettings{}, err
	}
	rule, err := domain.NewAccuracyRule(*j.MinGold, *j.MinGoldAccuracy)
	if err != nil {
		return GoldSettings{}, err
	}
	return GoldSettings{Rate: *j.GoldRate, Rule: rule}, nil
}

// Gold returns the gold settings in force.
func (s *Service) Gold() GoldSettings { return s.Settings.Gold() }

// SetGold validates, stores and applies the operator's gold settings.
func (s *Service) SetGold(ctx context.Context, j GoldJSON) (GoldSettings, error) {
	g, err := ParseGold(j)
	if err != nil {
		return GoldSettings{}, err
	}
	return g, s.saveSetting(ctx, KeyGold, GoldToJSON(g))
}

// JurorAccuracy is what the platform measured of a juror: their answers on
// gold cases, and their agreement with decided cases (a vote that agreed
// with the decision counts as correct on the decision's side).
type JurorAccuracy struct {
	Gold      domain.AccuracyRecord
	Agreement domain.AccuracyRecord
}

// Judged is the record the accuracy rule and estimates use: both together.
func (a JurorAccuracy) Judged() domain.AccuracyRecord { return a.Gold.Merge(a.Agreement) }

// GoldOffer is one gold task to open for a juror drawn on a real case.
type GoldOffer struct {
	DrawID   string
	JurorID  string
	Answer   string // the answer GoldMix.Next asked for
	Deadline time.Time
	// Selection is the draw's: the gold task is a task like any other, so
	// the repository checks the juror against its pool rule and fatigue
	// limits again, under the juror's lock, before opening it (the draw
	// has just given the juror a task, which may have used their last
	// open slot or their last one of the day).
	Selection Selection
}

// GoldSeat is the outbox payload of OutboxGoldSeat.
type GoldSeat struct {
	CaseID   string    `json:"case_id"`
	JurorID  string    `json:"juror_id"`
	Deadline time.Time `json:"deadline"`
}

// GoldAnswer is what recording a gold vote did.
type GoldAnswer struct {
	Answer   string
	Correct  bool
	Repeated bool // the vote was recorded before: nothing changed
	// Suspended is the juror's suspension when the vote made them fail the
	// accuracy rule.
	Suspended *domain.Transition
}

// GoldRepository stores gold cases, gold tasks and measured answers.
type GoldRepository interface {
	// AddGoldCase stores g; a repeat changes nothing.
	AddGoldCase(ctx context.Context, g domain.GoldCase) error
	// HasGoldCases says whether any gold case exists.
	HasGoldCases(ctx context.Context) (bool, error)
	// Accuracy returns the measured record of each juror (jurors without
	// any answer are absent). sinceRestored counts only tasks drawn since
	// each juror's last restoration, as the rules judge them.
	Accuracy(ctx context.Context, jurorIDs []string, sinceRestored bool) (map[string]JurorAccuracy, error)
	// OpenGoldTask opens, for o.JurorID, a task on a gold case they were
	// never given (with o.Answer if one is left: domain.GoldOn), with its
	// announcement (OutboxTaskAssigned) and its seat (OutboxGoldSeat) in
	// the same transaction; caseID is "" when there was none to give or
	// when the juror may not take one more task under o.Selection.
	OpenGoldTask(ctx context.Context, o GoldOffer) (caseID string, err error)
	// RecordGoldVote closes the juror's gold task with vote, measures it,
	// and suspends the juror (until now+suspension) when their record since
	// their last restoration then fails rule. domain.ErrTaskNotFound when
	// the juror was never given that gold case.
	RecordGoldVote(ctx context.Context, caseID, jurorID, vote string, rule domain.AccuracyRule, suspension time.Duration) (GoldAnswer, error)
	// ExpireGoldTasks closes the open gold tasks whose deadline passed.
	ExpireGoldTasks(ctx context.Context) (int, error)
	// RetireGoldCase stops offering a gold case and closes its open tasks
	// (as withdrawn: nobody's fault).
	RetireGoldCase(ctx context.Context, caseID string) (int, error)
}

// ErrSeatRefused is the report service refusing a gold seat for good (it
// knows no such gold case).
var ErrSeatRefused = errors.New("gold seat refused")

// GoldSeats seats jurors on gold cases in the report service.
type GoldSeats interface {
	// SeatGold returns ErrSeatRefused for an answer no retry can change.
	SeatGold(ctx context.Context, seat GoldSeat) error
}

// AddGoldCase stores a gold case the report service announced.
func (s *Service) AddGoldCase(ctx context.Context, g domain.GoldCase) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if err := s.GoldRepo.AddGoldCase(ctx, g); err != nil {
		return fmt.Errorf("store gold case %s: %w", g.CaseID, err)
	}
	s.log.InfoContext(ctx, "gold case added", "case_id", g.CaseID, "answer", g.Answer)
	return nil
}

// AccuracyOf is the one place a juror's measured accuracy is built: their
// gold answers and their agreement with decided cases, per side, over
// their whole record. Estimates (domain.AccuracyPrior.Estimate of
// JurorAccuracy.Judged) and the gold mix start from it.
func (s *Service) AccuracyOf(ctx context.Context, jurorIDs ...string) (map[string]JurorAccuracy, error) {
	if s.GoldRepo == nil {
		return map[string]JurorAccuracy{}, nil
	}
	return s.GoldRepo.Accuracy(ctx, jurorIDs, false)
}

// offerGold mixes gold into a new draw: each drawn juror whom GoldMix.Next
// picks gets a gold task too, when they may still take one more task under
// the draw's selection (the repository checks it under the juror's lock).
// Gold is a measurement, never a reason to fail a draw: errors are logged,
// and a juror left without gold this time is offered some at a later draw.
func (s *Service) offerGold(ctx context.Context, d domain.Draw, req domain.DrawRequest, sel Selection) {
	g := s.Settings.Gold()
	if s.GoldRepo == nil || g.Rate <= 0 || len(d.Jurors) == 0 {
		return
	}
	if exists, err := s.GoldRepo.HasGoldCases(ctx); err != nil || !exists {
		if err != nil {
			s.log.WarnContext(ctx, "gold not offered", "draw_id", d.DrawID, "case_id", d.CaseID, "err", err)
		}
		return
	}
	recs, err := s.AccuracyOf(ctx, d.Jurors...)
	if err != nil {
		s.log.WarnContext(ctx, "gold not offered", "draw_id", d.DrawID, "case_id", d.CaseID, "err", err)
		return
	}
	mix, rng, opened := domain.DefaultGoldMix(g.Rate), s.newRand(), 0
	for _, j := range d.Jurors {
		offer, answer := mix.Next(recs[j].Gold, recs[j].Agreement, rng)
		if !offer {
			continue
		}
		caseID, err := s.GoldRepo.OpenGoldTask(ctx, GoldOffer{DrawID: d.DrawID, JurorID: j, Answer: answer,
			Deadline: req.Deadline.UTC(), Selection: sel})
		if err != nil {
			s.log.WarnContext(ctx, "gold task not opened", "draw_id", d.DrawID, "juror_id", j, "err", err)
			continue
		}
		if caseID != "" {
			opened++
			s.log.InfoContext(ctx, "gold task opened", "draw_id", d.DrawID, "gold_case_id", caseID, "juror_id", j)
		}
	}
	if opened > 0 {
		s.wake()
	}
}

// SeatGold is the outbox handler of OutboxGoldSeat.
func (s *Service) SeatGold(ctx context.Context, payload json.RawMessage) error {
	var seat GoldSeat
	if err := json.Unmarshal(payload, &seat); err != nil || seat.CaseID == "" {
		return outbox.Permanent(fmt.Errorf("gold-seat payload %s: %v", payload, err))
	}
	err := s.GoldSeats.SeatGold(ctx, seat)
	if errors.Is(err, ErrSeatRefused) {
		// A gold case the report service does not know (announced here by
		// hand, say) can never be voted on: it is retired and its tasks
		// close, so that no juror holds a task they cannot answer.
		n, rerr := s.GoldRepo.RetireGoldCase(ctx, seat.CaseID)
		if rerr != nil {
			return fmt.Errorf("retire gold case %s: %w", seat.CaseID, rerr)
		}
		s.log.WarnContext(ctx, "gold case retired: the report service refused its seat", "gold_case_id", seat.CaseID,
			"juror_id", seat.JurorID, "tasks_closed", n, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("seat %s on gold case %s: %w", seat.JurorID, seat.CaseID, err)
	}
	return nil
}

// RecordGoldVote measures a juror's vote on a gold case (the report
// service's outbox hands it over, at least once) and applies the accuracy
// rule in force.
func (s *Service) RecordGoldVote(ctx context.Context, caseID, jurorID, vote string) (GoldAnswer, error) {
	if err := domain.ValidateCaseID(caseID); err != nil {
		return GoldAnswer{}, err
	}
	if err := domain.ValidateUserID(jurorID); err != nil {
		return GoldAnswer{}, err
	}
	if err := domain.ValidateAnswer("vote", vote); err != nil {
		return GoldAnswer{}, err
	}
	a, err := s.GoldRepo.RecordGoldVote(ctx, caseID, jurorID, vote, s.Settings.Gold().Rule, s.Settings.Adjustment().Suspension)
	if err != nil {
		return GoldAnswer{}, fmt.Errorf("record gold vote of %s on %s: %w", jurorID, caseID, err)
	}
	if !a.Repeated {
		s.log.InfoContext(ctx, "gold answer measured", "gold_case_id", caseID, "juror_id", jurorID, "correct", a.Correct)
	}
	if a.Suspended != nil {
		s.log.InfoContext(ctx, "juror adjusted", "user_id", jurorID, "from", a.Suspended.From, "to", a.Suspended.To,
			"reason", a.Suspended.Reason)
	}
	return a, nil
}

// RunGoldExpiry closes, every interval until ctx ends, the gold tasks whose
// deadline passed unanswered (no round does it for them).
func (s *Service) RunGoldExpiry(ctx context.Context, interval time.Duration) {
	loop.Every(ctx, s.log, "expire gold tasks", interval, nil, func(ctx context.Context) error {
		if s.GoldRepo == nil {
			return nil
		}
		n, err := s.GoldRepo.ExpireGoldTasks(ctx)
		if n > 0 {
			s.log.InfoContext(ctx, "gold tasks expired", "count", n)
		}
		return err
	})
}
