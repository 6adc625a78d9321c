package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
)

// redeem: redemptions/s and p99 from 32 clients (closed loop for the rate,
// then an open loop at 1,000/s for the latency), beside a pgx transaction of
// the same shape on the same tables; then 32 clients race for 100 units
// and exactly 100 are sold.
func (l *load) redeem(ctx context.Context) error {
	const clients = 32
	n := l.o.n(6000)
	shoppers := make([]string, 4*clients)
	for i := range shoppers {
		shoppers[i] = fmt.Sprintf("%s-shopper-%03d", l.run, i)
	}
	err := pgx.BeginFunc(ctx, l.reward, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO accounts (user_id, balance) SELECT u, 1000000000 FROM unnest($1::text[]) u`, shoppers); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO ledger_entries (user_id, amount, reason) SELECT u, 1000000000, 'grant' FROM unnest($1::text[]) u`, shoppers)
		return err
	})
	if err != nil {
		return fmt.Errorf("seed shoppers: %w", err)
	}
	addItem := func(sku string, stock int) error {
		resp, err := l.client("reward", "ops-load", "ops").Do(ctx, http.MethodPost, "/v1/catalog",
			map[string]any{"sku": sku, "name": "Load mug", "price": 1, "stock": stock})
		if err != nil || resp.Status != http.StatusCreated {
			return fmt.Errorf("add %s: %v %v", sku, resp, err)
		}
		return nil
	}
	redeemOp := func(sku, keyPrefix string, want int) Op {
		return func(ctx context.Context, i int) error {
			shopper := shoppers[i%len(shoppers)]
			resp, err := l.client("reward", shopper).Do(ctx, http.MethodPost, "/v1/redemptions",
				map[string]any{"user_id": shopper, "sku": sku, "quantity": 1}, "Idempotency-Key", fmt.Sprintf("%s-%d", keyPrefix, i))
			if err != nil {
				return err
			}
			if resp.Status != want {
				return fmt.Errorf("%s", resp)
			}
			return nil
		}
	}
	sku := l.run + "-mug"
	if err := addItem(sku, 1_000_000_000); err != nil {
		return err
	}
	stopProfile := l.profile(ctx, "redeem", 10*time.Second, "reward", "reward-dapr") // both loops, no pause between them
	ours := Run(ctx, "redemptions, 32 clients, closed loop", n, clients, 0, redeemOp(sku, l.run+"-c", http.StatusCreated))
	open := Run(ctx, "redemptions at 1000/s, 32 clients, open loop", l.o.n(8000), clients, 1000, redeemOp(sku, l.run+"-o", http.StatusCreated))
	stopProfile()

	bareSKU := l.run + "-bare-mug"
	if err := addItem(bareSKU, 1_000_000_000); err != nil {
		return err
	}
	bare := Run(ctx, "pgx redemption transaction, 32 conns", n, clients, 0, func(ctx context.Context, i int) error {
		return bareRedemption(ctx, l, shoppers[i%len(shoppers)], bareSKU, fmt.Sprintf("%s-bare-%d", l.run, i))
	})
	l.add("redemptions/s, 32 clients (closed loop)", fmt.Sprintf("%.0f/s, p50 %s, p99 %s", ours.Rate(), ms(ours.Lat.Quantile(.5)), ms(ours.Lat.Quantile(.99))),
		fmt.Sprintf("%.0f/s, p99 %s (pgx tx, same statements)", bare.Rate(), ms(bare.Lat.Quantile(.99))), ours.Rate()/bare.Rate())
	l.add("redemptions at 1,000/s offered, 32 clients (open loop)", fmt.Sprintf("%.0f/s, p50 %s, p99 %s, %d failed", open.Rate(), ms(open.Lat.Quantile(.5)), ms(open.Lat.Quantile(.99)), open.Failed), "", 0)

	// Never oversold: 400 requests from 32 clients for 100 units.
	raceSKU := l.run + "-last-units"
	if err := addItem(raceSKU, 100); err != nil {
		return err
	}
	var sold, refused int
	race := Run(ctx, "400 redemptions of 100 units", 400, clients, 0, func(ctx context.Context, i int) error {
		shopper := shoppers[i%len(shoppers)]
		resp, err := l.client("reward", shopper).Do(ctx, http.MethodPost, "/v1/redemptions",
			map[string]any{"user_id": shopper, "sku": raceSKU, "quantity": 1}, "Idempotency-Key", fmt.Sprintf("%s-race-%d", l.run, i))
		if err != nil {
			return err
		}
		if resp.Status != 201 && resp.ErrorCode() != "insufficient_stock" {
			return fmt.Errorf("%s", resp)
		}
		return nil
	})
	var stock int64
	if err := l.reward.QueryRow(ctx, `SELECT stock FROM catalog_items WHERE sku = $1`, raceSKU).Scan(&stock); err != nil {
		return err
	}
	if err := l.reward.QueryRow(ctx, `SELECT count(*) FILTER (WHERE redemption_id IS NOT NULL), count(*) FILTER (WHERE refusal_code = 'insufficient_stock')
		FROM redemption_requests WHERE sku = $1`, raceSKU).Scan(&sold, &refused); err != nil {
		return err
	}
	var total int64
	if err := l.reward.QueryRow(ctx, `SELECT stock FROM catalog_items WHERE sku = $1`, sku).Scan(&total); err != nil {
		return err
	}
	want := int64(1_000_000_000 - ours.Done - open.Done)
	l.note("stock never oversold: 400 requests for 100 units sold %d, refused %d insufficient_stock, %d stock left (%d failed otherwise); "+
		"the big item's stock is %d, want %d", sold, refused, stock, race.Failed, total, want)
	if sold != 100 || stock != 0 || total != want {
		return errors.New("stock check failed: oversold or lost a sale")
	}
	return nil
}

// bareRedemption is the redemption's transaction without the service: the
// key row, both row locks, the five writes in one batch, commit.
func bareRedemption(ctx context.Context, l *load, user, sku, key string) error {
	return pgx.BeginFunc(ctx, l.reward, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO redemption_requests (user_id, idempotency_key, sku, quantity) VALUES ($1, $2, $3, 1) ON CONFLICT DO NOTHING`, user, key, sku); err != nil {
			return err
		}
		var balance, price, stock int64
		if err := tx.QueryRow(ctx, `SELECT balance FROM accounts WHERE user_id = $1 FOR UPDATE`, user).Scan(&balance); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT price, stock FROM catalog_items WHERE sku = $1 FOR UPDATE`, sku).Scan(&price, &stock); err != nil {
			return err
		}
		if stock < 1 || balance < price {
			return errors.New("bare redemption refused")
		}
		id := key
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO redemptions (id, user_id, sku, quantity, points, idempotency_key) VALUES ($1, $2, $3, 1, $4, $5) RETURNING seq, at`, id, user, sku, price, key)
		b.Queue(`INSERT INTO ledger_entries (user_id, amount, reason, redemption_id, at) VALUES ($1, $2, 'redemption', $3, now())`, user, -price, id)
		b.Queue(`UPDATE accounts SET balance = balance - $2, updated_at = now() WHERE user_id = $1`, user, price)
		b.Queue(`UPDATE catalog_items SET stock = stock - 1, updated_at = now() WHERE sku = $1`, sku)
		b.Queue(`UPDATE redemption_requests SET redemption_id = $3 WHERE user_id = $1 AND idempotency_key = $2`, user, key, id)
		return tx.SendBatch(ctx, b).Close()
	})
}
