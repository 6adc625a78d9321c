package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/govern/tests/platform"
)

// BenchmarkRedemption runs b.N redemptions of one item from 32 concurrent
// clients (distinct idempotency keys, 4 shoppers per client, all rich enough)
// against the reward app, and reports throughput and p50/p99 latency. Every
// redemption must succeed. Run with `make bench` (5000 redemptions).
func BenchmarkRedemption(b *testing.B) {
	const clients, shoppersPerClient = 32, 4
	ctx := context.Background()
	db := rewardDB(b)

	run := unique("bench")
	shoppers := make([]string, clients*shoppersPerClient)
	for i := range shoppers {
		shoppers[i] = fmt.Sprintf("%s-shopper-%03d", run, i)
	}
	// Plenty of points, written as the ledger requires: one entry per grant
	// and the balance beside it, in one transaction.
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO accounts (user_id, balance) SELECT u, 1000000000 FROM unnest($1::text[]) u`, shoppers); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO ledger_entries (user_id, amount, reason)
			SELECT u, 1000000000, 'grant' FROM unnest($1::text[]) u`, shoppers)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	sku := run + "-sku"
	resp, err := plat.As("reward", "ops-bench", "ops").Do(ctx, "POST", "/v1/catalog",
		map[string]any{"sku": sku, "name": "Benchmark mug", "price": 3, "stock": 1_000_000_000})
	if err != nil || resp.Status != 201 {
		b.Fatalf("add item: %v %v", resp, err)
	}

	transport := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	callers := make([]platform.Client, len(shoppers))
	for i, s := range shoppers {
		callers[i] = platform.Client{Base: plat.AppURL("reward"), Token: platform.Token(s), HTTP: hc}
	}

	latencies := make([]time.Duration, b.N)
	var next atomic.Int64
	var failures atomic.Int64
	var firstFailure sync.Once
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for n := 0; ; n++ {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				shopper := c*shoppersPerClient + n%shoppersPerClient
				body := map[string]any{"user_id": shoppers[shopper], "sku": sku, "quantity": 1}
				t0 := time.Now()
				resp, err := callers[shopper].Do(ctx, "POST", "/v1/redemptions", body,
					"Idempotency-Key", fmt.Sprintf("%s-%d", run, i))
				latencies[i] = time.Since(t0)
				if err != nil || resp.Status != 201 {
					failures.Add(1)
					firstFailure.Do(func() { fmt.Printf("redemption failed: %v %v\n", resp, err) })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failures.Load(); n > 0 {
		b.Fatalf("%d of %d redemptions failed", n, b.N)
	}
	var stock int64
	if err := db.QueryRow(ctx, `SELECT stock FROM catalog_items WHERE sku = $1`, sku).Scan(&stock); err != nil ||
		stock != 1_000_000_000-int64(b.N) {
		b.Fatalf("stock %d (%v), want %d", stock, err, 1_000_000_000-b.N)
	}

	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	perSecond := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(perSecond, "redemptions/s")
	b.ReportMetric(float64(pct(0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	fmt.Printf("redemptions: %d from %d clients in %s: %.0f/s  p50 %s  p99 %s  max %s\n", b.N, clients,
		elapsed.Round(time.Millisecond), perSecond, pct(0.5).Round(10*time.Microsecond),
		pct(0.99).Round(10*time.Microsecond), latencies[len(latencies)-1].Round(10*time.Microsecond))
}
