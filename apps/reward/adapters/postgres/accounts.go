package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/reward/domain"
)

// AccountRepository reads accounts and ledger_entries.
type AccountRepository struct{ pool *pgxpool.Pool }

func NewAccountRepository(pool *pgxpool.Pool) *AccountRepository {
	return &AccountRepository{pool: pool}
}

func (r *AccountRepository) Statement(ctx context.Context, userID string, beforeID int64, limit int) (int64, []domain.Entry, error) {
	var (
		balance int64
		entries = []domain.Entry{}
	)
	// One snapshot, so the balance always equals the sum of the whole ledger.
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := pgx.BeginTxFunc(ctx, r.pool, opts, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT balance FROM accounts WHERE user_id = $1`, userID).Scan(&balance)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // never credited: empty account
		}
		if err != nil {
			return fmt.Errorf("select balance: %w", err)
		}
		rows, err := tx.Query(ctx, `
			SELECT id, amount, reason, COALESCE(case_id, ''), COALESCE(redemption_id, ''),
			       COALESCE(rule_version, 0), at
			FROM ledger_entries
			WHERE user_id = $1 AND ($2::bigint = 0 OR id < $2::bigint)
			ORDER BY id DESC
			LIMIT $3`, userID, beforeID, limit)
		if err != nil {
			return fmt.Errorf("select entries: %w", err)
		}
		entries, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Entry, error) {
			e := domain.Entry{UserID: userID}
			err := row.Scan(&e.ID, &e.Amount, &e.Reason, &e.CaseID, &e.RedemptionID, &e.RuleVersion, &e.At)
			return e, err
		})
		if err != nil {
			return fmt.Errorf("scan entries: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return balance, entries, nil
}
