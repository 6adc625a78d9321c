package app

import (
	"context"
	"fmt"
	"time"

	"github.com/govern/report/domain"
)

// OutcomeByWithdrawal names the notices of a withdrawal (the others are
// domain.DecidedByJury and domain.DecidedByStaff).
const OutcomeByWithdrawal = "withdrawal"

// Roles of a notice's recipient.
const (
	RoleReporter = "reporter"
	RoleOwner    = "owner"
)

// MaxNoticeRecipients bounds the reporters one decision notifies.
const MaxNoticeRecipients = 100000

// OutcomeRef names a decision (or a withdrawal) whose notices must go out.
type OutcomeRef struct {
	CaseID string `json:"case_id"`
	Round  int    `json:"round"`
	By     string `json:"by"`
	// Decision is the status the decision gave the case (a later staff
	// decision changes the case, not this notice).
	Decision string `json:"decision"`
}

// Key identifies the effect among the outbox's pending effects: one per
// case, round and who decided.
func (o OutcomeRef) Key() string {
	return fmt.Sprintf("outcome:%s:%d:%s", o.CaseID, o.Round, o.By)
}

// Notice is one case-outcome message: a statement of reasons to one
// reporter or to the target's owner. Consumers deduplicate by (case_id,
// recipient_id, round, decided_by): the relay publishes at least once.
type Notice struct {
	CaseID      string     `json:"case_id"`
	RecipientID string     `json:"recipient_id"`
	Role        string     `json:"role"`
	Decision    string     `json:"decision"`
	Reason      string     `json:"reason"`
	Round       int        `json:"round"`
	DecidedBy   string     `json:"decided_by"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	AppealUntil *time.Time `json:"appeal_until,omitempty"`
}

// notifyOutcome publishes the notices of one decision to every reporter
// and the owner.
func (s *Service) notifyOutcome(ctx context.Context, ref OutcomeRef) error {
	c, err := s.Repo.Case(ctx, ref.CaseID)
	if err != nil {
		return fmt.Errorf("load case %s: %w", ref.CaseID, err)
	}
	reporters, err := s.Repo.Reporters(ctx, ref.CaseID, MaxNoticeRecipients)
	if err != nil {
		return fmt.Errorf("load reporters of case %s: %w", ref.CaseID, err)
	}
	decidedAt := roundDecidedAt(c, ref.Round)
	base := Notice{CaseID: c.ID, Decision: ref.Decision, Reason: outcomeReason(c, ref), Round: ref.Round, DecidedBy: ref.By,
		DecidedAt: decidedAt, AppealUntil: noticeAppealUntil(c, ref, decidedAt)}
	send := func(recipient, role string) error {
		n := base
		n.RecipientID, n.Role = recipient, role
		if err := s.Notifier.Outcome(ctx, n); err != nil {
			return fmt.Errorf("publish case-outcome of case %s to %s: %w", ref.CaseID, recipient, err)
		}
		return nil
	}
	for _, r := range reporters {
		if err := send(r, RoleReporter); err != nil {
			return err
		}
	}
	return send(c.Target.OwnerID, RoleOwner)
}

// outcomeReason is the statement of reasons a notice carries.
func outcomeReason(c CaseView, ref OutcomeRef) string {
	switch ref.By {
	case OutcomeByWithdrawal:
		return "withdrawn: " + c.WithdrawalReason
	case domain.DecidedByStaff:
		if c.Note == "" {
			return "decided by staff"
		}
		return "decided by staff: " + c.Note
	}
	tally := c.Tally
	for _, r := range c.Rounds { // a round an appeal replaced keeps its tally
		if r.Round == ref.Round && r.Round != c.Round && r.Tally != nil {
			tally = *r.Tally
		}
	}
	return fmt.Sprintf("%s by the jury: %d to uphold, %d to reject (report reason: %s)", ref.Decision, tally.Uphold, tally.Reject, c.Reason)
}
