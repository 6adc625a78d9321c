package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/reward/app"
	"github.com/govern/reward/domain"
)

// CreditRepository records vote credits in ledger_entries and accounts.
type CreditRepository struct{ pool *pgxpool.Pool }

func NewCreditRepository(pool *pgxpool.Pool) *CreditRepository { return &CreditRepository{pool: pool} }

func (r *CreditRepository) InTx(ctx context.Context, fn func(context.Context, app.CreditTx) error) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		return fn(ctx, creditTx{tx: tx})
	})
}

type creditTx struct{ tx pgx.Tx }

func (t creditTx) RulesAt(ctx context.Context, at time.Time) (domain.VersionedRules, error) {
	return rulesAt(ctx, t.tx, at)
}

func (t creditTx) LockAccount(ctx context.Context, userID string) error {
	if _, err := t.tx.Exec(ctx, `INSERT INTO accounts (user_id) VALUES ($1) ON CONFLICT DO NOTHING`, userID); err != nil {
		return fmt.Errorf("insert account: %w", err)
	}
	if _, err := t.tx.Exec(ctx, `SELECT 1 FROM accounts WHERE user_id = $1 FOR UPDATE`, userID); err != nil {
		return fmt.Errorf("select account for update: %w", err)
	}
	return nil
}

func (t creditTx) CreditedOn(ctx context.Context, userID string, day time.Time) (int64, error) {
	var sum int64
	err := t.tx.QueryRow(ctx, `
		SELECT COALESCE(SUM(amount), 0)::bigint FROM ledger_entries
		WHERE user_id = $1 AND reason = $2 AND credit_day = $3`,
		userID, domain.ReasonJuryVote, day,
	).Scan(&sum)
	if err != nil {
		return 0, fmt.Errorf("sum credits: %w", err)
	}
	return sum, nil
}

func (t creditTx) AddCredit(ctx context.Context, c domain.Credit) (bool, error) {
	tag, err := t.tx.Exec(ctx, `
		INSERT INTO ledger_entries (user_id, amount, reason, case_id, rule_version, credit_day, round)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (case_id, user_id) WHERE reason = 'jury_vote' DO NOTHING`,
		c.UserID, c.Amount, domain.ReasonJuryVote, c.CaseID, c.RuleVersion, c.Day, max(c.Round, 1))
	if err != nil {
		return false, fmt.Errorf("insert ledger entry for case %s: %w", c.CaseID, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if c.Amount == 0 {
		return true, nil
	}
	if _, err := t.tx.Exec(ctx, `
		UPDATE accounts SET balance = balance + $2, updated_at = now() WHERE user_id = $1`,
		c.UserID, c.Amount); err != nil {
		return false, fmt.Errorf("add %d to balance: %w", c.Amount, err)
	}
	return true, nil
}
