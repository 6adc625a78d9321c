package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/govern/kit/outbox"
	"github.com/govern/report/domain"
)

// Side effects the report service must make happen eventually. The
// repository enqueues each (kit/outbox) in the database transaction of the
// change that causes it, so that the change and the promise of its effect
// commit together; the relay carries them out at least once, retrying with
// capped back-off, and every effect is idempotent. Nothing that must happen
// is a call made after a commit and logged when it fails.
const (
	// EffectRoundEvent hands a vote or a recusal to the case's round.
	EffectRoundEvent = "report.round-event"
	// EffectCloseTask closes a juror's task in the reviewer service after a
	// vote or a release.
	EffectCloseTask = "report.close-task"
	// EffectRemind publishes juror-reminded.
	EffectRemind = "report.remind"
	// EffectPublishDecision publishes a closed case's decision on
	// case-decided (keyed by case), then marks it published.
	EffectPublishDecision = "report.publish-decision"
	// EffectNotifyOutcome publishes case-outcome to every reporter and the
	// owner of a case at each of its decisions (and at its withdrawal).
	EffectNotifyOutcome = "report.notify-outcome"
)

// VoteHandOverDelay holds a vote's outbox rows back: the vote request
// carries them out directly, and the relay only steps in when that failed
// (a sidecar or the reviewer down, the app gone before it could).
const VoteHandOverDelay = 3 * time.Second

// RoundEvent is what the case's round receives: a juror's vote, or the
// news that a juror was recused (they reported the target) and needs
// replacing. It is also the payload of the workflow's one external event.
type RoundEvent struct {
	CaseID   string `json:"case_id,omitempty"`
	JurorID  string `json:"juror_id"`
	Decision string `json:"decision,omitempty"`
	Recused  bool   `json:"recused,omitempty"`
	// Withdrawn tells the round that the case was withdrawn: it ends.
	Withdrawn bool `json:"withdrawn,omitempty"`
	// Round is the round the event is for (absent: 1).
	Round int `json:"round,omitempty"`
	// Closed is the decision when this vote reached the quorum and closed
	// the case in its own transaction: the round ends without closing it.
	Closed string `json:"closed,omitempty"`
	// Wake tells the round that something it waits for is due by the
	// report database (RunWakes): it looks at the time and acts.
	Wake bool `json:"wake,omitempty"`
}

// Key identifies the event among the outbox's pending effects.
func (e RoundEvent) Key() string {
	what := "vote"
	switch {
	case e.Withdrawn:
		return "round-event:" + e.CaseID + ":withdrawn"
	case e.Recused:
		what = "recused"
	}
	return "round-event:" + e.CaseID + ":" + e.JurorID + ":" + what
}

// TaskClose closes one juror's task; Reason is "voted" or "released".
type TaskClose struct {
	CaseID  string `json:"case_id"`
	JurorID string `json:"juror_id"`
	Reason  string `json:"reason"`
}

// Key identifies the effect among the outbox's pending effects.
func (c TaskClose) Key() string { return "close-task:" + c.CaseID + ":" + c.JurorID }

// Reminder is a juror-reminded announcement.
type Reminder struct {
	CaseID   string    `json:"case_id"`
	JurorID  string    `json:"juror_id"`
	Deadline time.Time `json:"deadline"`
}

// Key identifies the effect among the outbox's pending effects.
func (r Reminder) Key() string { return "remind:" + r.CaseID + ":" + r.JurorID }

// DecisionRef names the closed case whose decision must be published.
type DecisionRef struct {
	CaseID string `json:"case_id"`
	// Round is the decision's round (absent: 1).
	Round int `json:"round,omitempty"`
}

// DecisionKeyPrefix starts the outbox key of every decision's publication.
const DecisionKeyPrefix = "decision:"

// Key identifies the effect among the outbox's pending effects.
// The first round's key is the case's own (as before appeals).
func (d DecisionRef) Key() string {
	if d.Round > 1 {
		return fmt.Sprintf("%s%s:r%d", DecisionKeyPrefix, d.CaseID, d.Round)
	}
	return DecisionKeyPrefix + d.CaseID
}

// StaffKey identifies the publication of a staff decision, apart from the
// jury's: both are published.
func (d DecisionRef) StaffKey() string { return d.Key() + ":staff" }

// Effects is the outbox relay: handlers register with it, and a committed
// change that enqueued an effect wakes it.
type Effects interface {
	Handle(kind string, h outbox.Handler)
	Wake()
}

// RegisterEffects registers the handler of every effect with s.Effects.
func (s *Service) RegisterEffects() {
	s.Effects.Handle(EffectRoundEvent, effect(s.deliverRoundEvent))
	s.Effects.Handle(EffectCloseTask, effect(s.closeTask))
	s.Effects.Handle(EffectRemind, effect(s.remind))
	s.Effects.Handle(EffectPublishDecision, effect(s.publishDecision))
	s.Effects.Handle(EffectNotifyOutcome, effect(s.notifyOutcome))
}

// effectTimeout bounds one attempt, so that one slow effect holds its
// relay batch back for seconds, not minutes.
const effectTimeout = 10 * time.Second

// effect decodes the payload into T for h; a payload that does not decode,
// or an error Permanent says no retry can cure, sets the row aside.
func effect[T any](h func(context.Context, T) error) outbox.Handler {
	return func(ctx context.Context, payload json.RawMessage) error {
		var v T
		if err := json.Unmarshal(payload, &v); err != nil {
			return outbox.Permanent(fmt.Errorf("decode payload: %w", err))
		}
		ctx, cancel := context.WithTimeout(ctx, effectTimeout)
		defer cancel()
		err := h(ctx, v)
		if err != nil && Permanent(err) {
			return outbox.Permanent(err)
		}
		return err
	}
}

func (s *Service) deliverRoundEvent(ctx context.Context, e RoundEvent) error {
	err := s.Rounds.Raise(ctx, e)
	if err == nil {
		return nil
	}
	if e.Withdrawn || e.Closed != "" {
		// The case is closed already (withdrawn, or decided by this vote);
		// only a round still running needs telling, so that it ends now
		// rather than at its deadline (one that is gone or ended has
		// nothing left to end).
		status, serr := s.Rounds.Status(ctx, e.CaseID, e.Round)
		if serr == nil && status != RoundAlive {
			return nil
		}
		return fmt.Errorf("tell the round of case %s it was %s: %w", e.CaseID, closedHow(e), err)
	}
	// A closed case's round needs nothing more; a round that is gone is
	// restarted by the repair loop (and reads its votes from the database),
	// after which this delivery succeeds.
	c, cerr := s.Repo.Case(ctx, e.CaseID)
	switch {
	case errors.Is(cerr, domain.ErrCaseNotFound):
		return cerr
	case cerr == nil && domain.Closed(c.Status):
		return nil
	}
	return fmt.Errorf("hand %s of %s to the round of case %s: %w", eventName(e), e.JurorID, e.CaseID, err)
}

func closedHow(e RoundEvent) string {
	if e.Withdrawn {
		return "withdrawn"
	}
	return "decided (" + e.Closed + ")"
}

func eventName(e RoundEvent) string {
	if e.Recused {
		return "the recusal"
	}
	return "the vote"
}

func (s *Service) closeTask(ctx context.Context, c TaskClose) error {
	if err := s.Reviewer.CloseTask(ctx, c.CaseID, c.JurorID, c.Reason); err != nil {
		return fmt.Errorf("close task of %s in case %s: %w", c.JurorID, c.CaseID, err)
	}
	return nil
}

func (s *Service) remind(ctx context.Context, r Reminder) error {
	if err := s.Notifier.Reminded(ctx, r.CaseID, r.JurorID, r.Deadline); err != nil {
		return fmt.Errorf("publish reminder of %s in case %s: %w", r.JurorID, r.CaseID, err)
	}
	return nil
}

func (s *Service) publishDecision(ctx context.Context, ref DecisionRef) error {
	d, err := s.Repo.Decision(ctx, ref.CaseID, ref.Round)
	if err != nil {
		return fmt.Errorf("load decision of case %s: %w", ref.CaseID, err)
	}
	if d.Decision == domain.StatusWithdrawn {
		return nil // a withdrawn case has no decision to publish: nobody is paid
	}
	if err := s.Publisher.PublishDecision(ctx, d); err != nil {
		return fmt.Errorf("publish decision of case %s: %w", ref.CaseID, err)
	}
	if err := s.Repo.MarkDecisionPublished(ctx, ref.CaseID, d.Round, s.Now()); err != nil {
		return fmt.Errorf("mark decision of case %s published: %w", ref.CaseID, err)
	}
	s.Log.InfoContext(ctx, "decision published", "case_id", ref.CaseID, "round", d.Round, "decision", d.Decision)
	return nil
}
