package app

import (
	"context"
	"fmt"
	"time"

	"github.com/govern/report/domain"
)

// Gold cases (issue 12 §3). An operator writes one (POST /v1/gold-cases);
// the outbox hands it to the reviewer service (EffectGoldCase), which mixes
// it into jurors' inboxes at gold_rate and seats each juror it gave one on
// this service (POST /internal/gold-seats). The juror reads and votes on it
// through the case routes, as on any case; the vote goes, through the
// outbox, to the reviewer service (EffectGoldVote: the task closes and the
// juror's accuracy is measured) and to the reward service (EffectGoldCredit:
// the juror earns what a vote on a case decided as the answer earns). A gold
// case has no round and no decision: nothing is ever published on
// case-decided for it.
const (
	EffectGoldCase   = "report.gold-case"
	EffectGoldVote   = "report.gold-vote"
	EffectGoldCredit = "report.gold-credit"
)

// GoldCaseView is a stored gold case.
type GoldCaseView struct {
	ID string `json:"gold_case_id"`
	domain.GoldCase
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// GoldSeat is a juror's seat on a gold case.
type GoldSeat struct {
	JurorID  string
	Deadline time.Time
	SeatedAt time.Time
	Vote     string
}

// GoldNotice tells the reviewer service about a gold case.
type GoldNotice struct {
	CaseID string        `json:"case_id"`
	Target domain.Target `json:"target"`
	Reason string        `json:"reason"`
	Answer string        `json:"answer"`
}

// Key identifies the effect among the outbox's pending effects.
func (n GoldNotice) Key() string { return "gold-case:" + n.CaseID }

// GoldVote is a juror's vote on a gold case, for the reviewer service.
type GoldVote struct {
	CaseID  string `json:"case_id"`
	JurorID string `json:"juror_id"`
	Vote    string `json:"vote"`
}

// Key identifies the effect among the outbox's pending effects.
func (v GoldVote) Key() string { return "gold-vote:" + v.CaseID + ":" + v.JurorID }

// GoldCredit is what the reward service credits for a gold vote: the vote
// on a case decided as the gold answer, at the time of the vote.
type GoldCredit struct {
	CaseID    string    `json:"case_id"`
	JurorID   string    `json:"juror_id"`
	Vote      string    `json:"vote"`
	Decision  string    `json:"decision"`
	DecidedAt time.Time `json:"decided_at"`
}

// Key identifies the effect among the outbox's pending effects.
func (c GoldCredit) Key() string { return "gold-credit:" + c.CaseID + ":" + c.JurorID }

// GoldRepository stores gold cases and their seats.
type GoldRepository interface {
	// CreateGoldCase stores g and, in the same transaction, its notice to
	// the reviewer service (EffectGoldCase).
	CreateGoldCase(ctx context.Context, g domain.GoldCase, by string, now time.Time) (GoldCaseView, error)
	// GoldCases lists gold cases, the newest first, after the cursor.
	GoldCases(ctx context.Context, limit int, cursor string) (items []GoldCaseView, next string, err error)
	// GoldSeat returns the gold case and jurorID's seat on it (found false
	// without one); domain.ErrCaseNotFound when caseID is no gold case.
	GoldSeat(ctx context.Context, caseID, jurorID string) (g GoldCaseView, seat GoldSeat, found bool, err error)
	// SeatGoldJuror records a seat (once: a repeat changes nothing);
	// domain.ErrCaseNotFound when caseID is no gold case.
	SeatGoldJuror(ctx context.Context, caseID, jurorID string, deadline time.Time) error
	// RecordGoldVote stores the vote on the juror's seat and, in the same
	// transaction, its effects (EffectGoldVote, EffectGoldCredit), the
	// first held back for VoteHandOverDelay. Errors as RecordVote's.
	RecordGoldVote(ctx context.Context, caseID, jurorID, decision, comment string, now time.Time) error
}

// GoldPeers are the services a gold case's effects reach.
type GoldPeers interface {
	GoldCase(ctx context.Context, n GoldNotice) error
	GoldVote(ctx context.Context, v GoldVote) error
	GoldCredit(ctx context.Context, c GoldCredit) error
}

// RegisterGoldEffects registers the gold effects' handlers with s.Effects.
func (s *Service) RegisterGoldEffects() {
	s.Effects.Handle(EffectGoldCase, effect(func(ctx context.Context, n GoldNotice) error {
		return s.GoldPeers.GoldCase(ctx, n)
	}))
	s.Effects.Handle(EffectGoldVote, effect(func(ctx context.Context, v GoldVote) error {
		return s.GoldPeers.GoldVote(ctx, v)
	}))
	s.Effects.Handle(EffectGoldCredit, effect(func(ctx context.Context, c GoldCredit) error {
		return s.GoldPeers.GoldCredit(ctx, c)
	}))
}

// CreateGoldCase validates and stores an operator's gold case.
func (s *Service) CreateGoldCase(ctx context.Context, g domain.GoldCase, by string) (GoldCaseView, error) {
	if err := g.Validate(by); err != nil {
		return GoldCaseView{}, err
	}
	v, err := s.Gold.CreateGoldCase(ctx, g, by, s.Now().UTC())
	if err != nil {
		return GoldCaseView{}, fmt.Errorf("store gold case: %w", err)
	}
	s.Effects.Wake()
	s.Log.InfoContext(ctx, "gold case created", "case_id", v.ID, "kind", g.Target.Kind, "answer", g.Answer, "by", by)
	return v, nil
}

// GoldCases lists gold cases for operators.
func (s *Service) GoldCases(ctx context.Context, limit int, cursor string) ([]GoldCaseView, string, error) {
	return s.Gold.GoldCases(ctx, limit, cursor)
}

// SeatGoldJuror records the seat the reviewer service gave a juror.
func (s *Service) SeatGoldJuror(ctx context.Context, caseID, jurorID string, deadline time.Time) error {
	if err := s.Gold.SeatGoldJuror(ctx, caseID, jurorID, deadline); err != nil {
		return err
	}
	s.Log.InfoContext(ctx, "gold seat recorded", "case_id", caseID, "juror_id", jurorID)
	return nil
}

// GoldCaseFor is the gold case caseID as its seated juror reads it: the
// shape of an open case in voting, so that the juror cannot tell it from
// one (ErrCaseNotFound for anyone else, or when caseID is no gold case).
// Operators (ops) see it too, with its answer.
func (s *Service) GoldCaseFor(ctx context.Context, caseID, caller string, ops bool) (CaseView, *GoldCaseView, error) {
	if s.Gold == nil {
		return CaseView{}, nil, domain.ErrCaseNotFound
	}
	g, seat, found, err := s.Gold.GoldSeat(ctx, caseID, caller)
	if err != nil {
		return CaseView{}, nil, err
	}
	if !found && !ops {
		return CaseView{}, nil, domain.ErrCaseNotFound
	}
	policy := s.Policies.Get(g.Target.Kind)
	v := CaseView{ID: g.ID, Target: g.Target, Reason: g.Reason, Status: domain.StatusVoting, Policy: policy,
		ReportCount: 1, Round: 1, CreatedAt: g.CreatedAt, Deadline: g.CreatedAt.Add(time.Duration(policy.MaxDuration))}
	if found {
		v.CreatedAt, v.Deadline = seat.SeatedAt, seat.SeatedAt.Add(time.Duration(policy.MaxDuration))
		for range policy.JurySize {
			v.Timeline = append(v.Timeline, Event{CaseID: g.ID, At: seat.SeatedAt, Kind: EventDrawn})
		}
		if seat.Vote != "" {
			v.VotesCast = 1
			v.Timeline = append(v.Timeline, Event{CaseID: g.ID, At: seat.SeatedAt, Kind: EventVoted})
		}
	}
	if v.Timeline == nil {
		v.Timeline = []Event{}
	}
	if ops {
		return v, &g, nil
	}
	return v, nil, nil
}

// checkGoldVoter is CheckVoter for a case id that is no case: nil when
// jurorID holds a seat on the gold case caseID, ErrNotJuror when the gold
// case exists without their seat (the reviewer service opens the task a
// moment before the seat arrives here), ErrCaseNotFound when caseID is no
// gold case either.
func (s *Service) checkGoldVoter(ctx context.Context, caseID, jurorID string) error {
	if s.Gold == nil {
		return domain.ErrCaseNotFound
	}
	_, _, found, err := s.Gold.GoldSeat(ctx, caseID, jurorID)
	switch {
	case err != nil:
		return err
	case !found:
		return domain.ErrNotJuror
	}
	return nil
}

// castGoldVote is CastVote on a gold case: the vote's effects are carried
// out at once and left to the outbox when that fails.
func (s *Service) castGoldVote(ctx context.Context, caseID, jurorID, decision, comment string) error {
	if s.Gold == nil {
		return domain.ErrCaseNotFound
	}
	err := s.Gold.RecordGoldVote(ctx, caseID, jurorID, decision, comment, s.Now().UTC())
	if err != nil {
		return err
	}
	s.Log.InfoContext(ctx, "vote recorded", "case_id", caseID, "juror_id", jurorID)
	v := GoldVote{CaseID: caseID, JurorID: jurorID, Vote: decision}
	s.carryOutNow(ctx, v.Key(), func(ctx context.Context) error { return s.GoldPeers.GoldVote(ctx, v) })
	s.Effects.Wake()
	return nil
}
