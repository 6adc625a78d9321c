package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/govern/reward/domain"
)

// CreditRepository runs a crediting in one transaction.
type CreditRepository interface {
	// InTx runs fn in one transaction, committing when it returns nil.
	InTx(ctx context.Context, fn func(ctx context.Context, tx CreditTx) error) error
}

// CreditTx is what crediting may do inside its transaction.
type CreditTx interface {
	// RulesAt returns the rules version in force at t: the newest one set at or
	// before t (the first version for a t before any was set).
	RulesAt(ctx context.Context, t time.Time) (domain.VersionedRules, error)
	// LockAccount creates the user's account if missing and locks it until
	// the transaction ends, so crediting one user is serialised.
	LockAccount(ctx context.Context, userID string) error
	// CreditedOn sums the user's vote credits counted against day's cap.
	CreditedOn(ctx context.Context, userID string, day time.Time) (int64, error)
	// AddCredit records c unless the (case, user) pair already has a credit,
	// and adds its amount to the balance only when it was recorded.
	AddCredit(ctx context.Context, c domain.Credit) (recorded bool, err error)
}

// CreditJurors credits every juror who voted on a decided case, exactly once per
// (case, juror), with the rules in force when the case was decided: a rule
// change applies to decisions made after it, however late their events arrive.
type CreditJurors struct{ credits CreditRepository }

// CreditReport says what one crediting did, for the logs.
type CreditReport struct {
	RuleVersion int64
	Recorded    int   // new credits
	Duplicates  int   // ballots credited by an earlier delivery
	Points      int64 // points added to balances
}

func (h CreditJurors) Handle(ctx context.Context, d domain.CaseDecision) (CreditReport, error) {
	var report CreditReport
	err := h.credits.InTx(ctx, func(ctx context.Context, tx CreditTx) error {
		report = CreditReport{}
		rules, err := tx.RulesAt(ctx, d.DecidedAt)
		if err != nil {
			return fmt.Errorf("read rules in force at %s: %w", d.DecidedAt.Format(time.RFC3339Nano), err)
		}
		report.RuleVersion = rules.Version
		day := domain.CreditDay(d.DecidedAt)
		for _, v := range d.Votes { // sorted by juror id: a fixed lock order
			if err := tx.LockAccount(ctx, v.JurorID); err != nil {
				return fmt.Errorf("lock account %s: %w", v.JurorID, err)
			}
			today, err := tx.CreditedOn(ctx, v.JurorID, day)
			if err != nil {
				return fmt.Errorf("sum credits of %s on %s: %w", v.JurorID, day.Format(time.DateOnly), err)
			}
			c := domain.CreditFor(rules, d, v, today)
			recorded, err := tx.AddCredit(ctx, c)
			if err != nil {
				return fmt.Errorf("credit %s: %w", v.JurorID, err)
			}
			if recorded {
				report.Recorded++
				report.Points += c.Amount
			} else {
				report.Duplicates++
			}
		}
		return nil
	})
	if err != nil {
		return CreditReport{}, fmt.Errorf("credit jurors of case %s: %w", d.CaseID, err)
	}
	return report, nil
}

// LogValue lets a report be logged as one group.
func (r CreditReport) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int64("rule_version", r.RuleVersion),
		slog.Int("recorded", r.Recorded),
		slog.Int("duplicates", r.Duplicates),
		slog.Int64("points", r.Points),
	)
}
