package app

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/govern/kit/telemetry"
	"github.com/govern/report/domain"
)

// RoundView is one round of a case: its jury, quorum, tally and decision
// (neither tally nor decision while it is open).
type RoundView struct {
	Round     int           `json:"round"`
	JurySize  int           `json:"jury_size"`
	Quorum    int           `json:"quorum"`
	Tally     *domain.Tally `json:"tally,omitempty"`
	Decision  string        `json:"decision,omitempty"`
	DecidedAt *time.Time    `json:"decided_at,omitempty"`
	DecidedBy string        `json:"decided_by,omitempty"`
	// Jurors are everyone drawn for the round (not shown: who sat on a jury
	// is on the closed case's timeline).
	Jurors []string `json:"-"`
}

// AppealView is a case's appeal.
type AppealView struct {
	ID     string    `json:"appeal_id"`
	CaseID string    `json:"case_id"`
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	// Kind is the target's kind (for the metric).
	Kind string `json:"-"`
}

var appeals = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "govern_appeals_total", Help: "Decisions appealed (each opens an appeal round), by target kind.",
}, []string{"kind"})

// EventAppealed: the losing side appealed (juror_id: who, detail: why);
// the appeal round (round 2) begins.
const EventAppealed = "appealed"

// Appeal records caller's appeal of the case and opens its appeal round: a
// jury of the policy's appeal_jury_size, none of whom sat in the first
// round, whose decision replaces the first. The round starts as a round
// after a report does: the case is pending without a started round, which
// the round starter (woken here, and on its timer on every replica) starts.
func (s *Service) Appeal(ctx context.Context, caseID, caller string, a domain.Appeal) (AppealView, error) {
	if err := a.Validate(); err != nil {
		return AppealView{}, err
	}
	telemetry.Tag(ctx, telemetry.CaseID.String(caseID), telemetry.UserID.String(caller))
	v, err := s.Repo.Appeal(ctx, caseID, caller, a, s.Now().UTC())
	if err != nil {
		return AppealView{}, err
	}
	appeals.WithLabelValues(v.Kind).Inc()
	s.Log.InfoContext(ctx, "case appealed", "case_id", caseID, "appeal_id", v.ID, "by", caller, "kind", v.Kind)
	select {
	case s.RoundsDue <- struct{}{}:
	default:
	}
	return v, nil
}

// AppealUntil is until when the case's decision may be appealed: set for a
// first-round upheld or rejected decision not yet appealed.
func AppealUntil(c CaseView) *time.Time {
	if c.Appeal != nil || c.Round > 1 || c.DecidedAt == nil ||
		(c.Status != domain.StatusUpheld && c.Status != domain.StatusRejected) {
		return nil
	}
	t := domain.AppealUntil(c.DecidedAt.UTC(), c.Policy.Window())
	return &t
}

// drawID names a round's draws: the first round's as before appeals, later
// rounds' apart (the reviewer service answers a repeated draw id with the
// jurors it drew the first time).
func drawID(c CaseView, what string) string {
	if c.Round > 1 {
		return c.ID + "/r" + strconv.Itoa(c.Round) + "/" + what
	}
	return c.ID + "/" + what
}

// roundExclusions is who an appeal round's draw leaves out besides the
// reporters: everyone drawn for an earlier round.
func roundExclusions(c CaseView) []string {
	var drawn []string
	for _, r := range c.Rounds {
		drawn = append(drawn, r.Jurors...)
	}
	return domain.AppealExclusions(drawn)
}

// roundDecidedAt is when round (0: the current one) of c was decided, if it was.
func roundDecidedAt(c CaseView, round int) *time.Time {
	for _, r := range c.Rounds {
		if r.Round == round && round != c.Round {
			return r.DecidedAt
		}
	}
	return c.DecidedAt
}

// noticeAppealUntil is the appeal_until of a notice of ref: the end of the
// window for a first-round decision to uphold or reject; none for the
// appeal round's, which is final.
func noticeAppealUntil(c CaseView, ref OutcomeRef, decidedAt *time.Time) *time.Time {
	if ref.Round > 1 || decidedAt == nil || ref.By == OutcomeByWithdrawal ||
		(ref.Decision != domain.StatusUpheld && ref.Decision != domain.StatusRejected) {
		return nil
	}
	t := domain.AppealUntil(decidedAt.UTC(), c.Policy.Window())
	return &t
}
