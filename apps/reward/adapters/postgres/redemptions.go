package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/reward/app"
	"github.com/govern/reward/domain"
)

// RedemptionRepository records redemptions, their ledger debits and the
// answers given to idempotency keys.
type RedemptionRepository struct{ pool *pgxpool.Pool }

func NewRedemptionRepository(pool *pgxpool.Pool) *RedemptionRepository {
	return &RedemptionRepository{pool: pool}
}

// InTx runs fn at READ COMMITTED: each statement sees what concurrent
// redemptions committed before it, which ClaimKey relies on to read the
// answer of a key it had to wait for.
func (r *RedemptionRepository) InTx(ctx context.Context, fn func(context.Context, app.RedemptionTx) error) error {
	return pgx.BeginTxFunc(ctx, r.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		return fn(ctx, redemptionTx{tx: tx})
	})
}

const redemptionColumns = `r.id, r.seq, r.user_id, r.sku, r.quantity, r.points, r.at`

func scanRedemption(row pgx.CollectableRow) (domain.Redemption, error) {
	var d domain.Redemption
	err := row.Scan(&d.ID, &d.Seq, &d.UserID, &d.SKU, &d.Quantity, &d.Points, &d.At)
	return d, err
}

func (r *RedemptionRepository) Redemptions(ctx context.Context, userID string, beforeSeq int64, limit int) ([]domain.Redemption, error) {
	rows, err := r.pool.Query(ctx, `
		SELECT `+redemptionColumns+` FROM redemptions r
		WHERE ($1 = '' OR r.user_id = $1) AND ($2::bigint = 0 OR r.seq < $2::bigint)
		ORDER BY r.seq DESC LIMIT $3`, userID, beforeSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("select redemptions: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanRedemption)
	if err != nil {
		return nil, fmt.Errorf("scan redemptions: %w", err)
	}
	return out, nil
}

type redemptionTx struct{ tx pgx.Tx }

// ClaimKey inserts the key's row with the request. A concurrent insert of the
// same key blocks on the primary key until the other transaction ends; if it
// committed, the insert does nothing and the next statement reads the
// request and answer it stored.
func (t redemptionTx) ClaimKey(ctx context.Context, req domain.RedemptionRequest, key string) (app.Answer, bool, error) {
	tag, err := t.tx.Exec(ctx, `
		INSERT INTO redemption_requests (user_id, idempotency_key, sku, quantity) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, req.UserID, key, req.SKU, req.Quantity)
	if err != nil {
		return app.Answer{}, false, fmt.Errorf("insert key: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return app.Answer{}, true, nil
	}
	var (
		code, message *string
		redemptionID  *string
		sku           *string
		quantity      *int64
	)
	err = t.tx.QueryRow(ctx, `
		SELECT refusal_code, refusal_message, redemption_id, sku, quantity FROM redemption_requests
		WHERE user_id = $1 AND idempotency_key = $2`, req.UserID, key).Scan(&code, &message, &redemptionID, &sku, &quantity)
	if err != nil {
		return app.Answer{}, false, fmt.Errorf("select first answer: %w", err)
	}
	if sku != nil && quantity != nil && (*sku != req.SKU || *quantity != req.Quantity) {
		return app.Answer{}, false, domain.ErrIdempotencyKeyReused
	}
	switch {
	case code != nil && message != nil:
		return app.Answer{Refusal: &domain.Refusal{Code: domain.RefusalCode(*code), Message: *message}}, false, nil
	case redemptionID != nil:
		rows, err := t.tx.Query(ctx, `SELECT `+redemptionColumns+` FROM redemptions r WHERE r.id = $1`, *redemptionID)
		if err != nil {
			return app.Answer{}, false, fmt.Errorf("select first redemption: %w", err)
		}
		d, err := pgx.CollectExactlyOneRow(rows, scanRedemption)
		if err != nil {
			return app.Answer{}, false, fmt.Errorf("scan first redemption: %w", err)
		}
		return app.Answer{Redemption: d}, false, nil
	}
	return app.Answer{}, false, fmt.Errorf("key %q of %s has no stored answer", key, req.UserID)
}

func (t redemptionTx) LockAccount(ctx context.Context, userID string) (int64, error) {
	var balance int64
	err := t.tx.QueryRow(ctx, `SELECT balance FROM accounts WHERE user_id = $1 FOR UPDATE`, userID).Scan(&balance)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return balance, err
}

func (t redemptionTx) LockItem(ctx context.Context, sku string) (domain.Item, error) {
	rows, err := t.tx.Query(ctx, `SELECT sku, name, price, stock FROM catalog_items WHERE sku = $1 FOR UPDATE`, sku)
	if err != nil {
		return domain.Item{}, err
	}
	it, err := pgx.CollectExactlyOneRow(rows, scanItem)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Item{}, domain.ErrUnknownSKU
	}
	return it, err
}

func (t redemptionTx) LockInOrder(ctx context.Context, users, skus []string) error {
	b := &pgx.Batch{}
	b.Queue(`SELECT 1 FROM accounts WHERE user_id = ANY($1) ORDER BY user_id FOR UPDATE`, users)
	b.Queue(`SELECT 1 FROM catalog_items WHERE sku = ANY($1) ORDER BY sku FOR UPDATE`, skus)
	return t.tx.SendBatch(ctx, b).Close()
}

func (t redemptionTx) Refuse(ctx context.Context, userID, key string, r *domain.Refusal) error {
	_, err := t.tx.Exec(ctx, `
		UPDATE redemption_requests SET refusal_code = $3, refusal_message = $4
		WHERE user_id = $1 AND idempotency_key = $2`, userID, key, string(r.Code), r.Message)
	if err != nil {
		return fmt.Errorf("store refusal: %w", err)
	}
	return nil
}

// Record writes the redemption and everything it changes in one round trip,
// to keep the item's row lock short. The CHECK constraints on balance and
// stock are the last line of defence: the caller has already checked both
// under the row locks. Both rows take the transaction's now() as their time.
func (t redemptionTx) Record(ctx context.Context, key string, d domain.Redemption) (domain.Redemption, error) {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO redemptions (id, user_id, sku, quantity, points, idempotency_key)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq, at`,
		d.ID, d.UserID, d.SKU, d.Quantity, d.Points, key).QueryRow(func(row pgx.Row) error {
		return row.Scan(&d.Seq, &d.At)
	})
	b.Queue(`INSERT INTO ledger_entries (user_id, amount, reason, redemption_id, at) VALUES ($1, $2, $3, $4, now())`,
		d.UserID, -d.Points, domain.ReasonRedemption, d.ID)
	b.Queue(`UPDATE accounts SET balance = balance - $2, updated_at = now() WHERE user_id = $1`, d.UserID, d.Points)
	b.Queue(`UPDATE catalog_items SET stock = stock - $2, updated_at = now() WHERE sku = $1`, d.SKU, d.Quantity)
	b.Queue(`UPDATE redemption_requests SET redemption_id = $3 WHERE user_id = $1 AND idempotency_key = $2`,
		d.UserID, key, d.ID)
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return domain.Redemption{}, fmt.Errorf("record redemption %s: %w", d.ID, err)
	}
	return d, nil
}
