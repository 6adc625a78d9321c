package e2e

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/govern/tests/platform"
)

// benchPoolSize is the pool BenchmarkSelection draws from.
const benchPoolSize = 100_000

// BenchmarkSelection seeds 100,000 eligible profiles straight into the
// reviewer database, then draws b.N juries of five (each a new case) through
// POST /internal/juries one after another, and reports the median and p99
// latency of a draw. Run with `make bench` (-benchtime 2000x).
func BenchmarkSelection(b *testing.B) {
	ctx := context.Background()
	db, err := pgx.Connect(ctx, plat.DatabaseURL("reviewer"))
	if err != nil {
		b.Fatal(err)
	}
	prefix := fmt.Sprintf("bench-%d-", time.Now().UnixNano())
	b.Cleanup(func() {
		dropBenchPool(b, db, prefix)
		db.Close(ctx)
	})
	seeded := time.Now()
	if _, err := db.Exec(ctx, `
		WITH p AS (
			INSERT INTO profiles (user_id, tags, last_active_at)
			SELECT $1 || g, ARRAY['verified'], now() - (g % 100) * interval '1 minute'
			FROM generate_series(1, $2) AS g
			RETURNING user_id)
		INSERT INTO jurors (user_id) SELECT user_id FROM p`, prefix, benchPoolSize); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(ctx, `ANALYZE profiles; ANALYZE jurors`); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("selection: seeded %d profiles in %s\n", benchPoolSize, time.Since(seeded).Round(time.Millisecond))
	if err := setSuiteFatigue(ctx); err != nil { // limits far above what b.N draws need
		b.Fatal(err)
	}

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		caseID := fmt.Sprintf("%scase-%d", prefix, i)
		start := time.Now()
		resp, jurors, err := drawJury(ctx, drawAsk{CaseID: caseID, Size: 5, Exclude: []string{"reporter"}, Owner: "owner"})
		lat = append(lat, time.Since(start))
		if err != nil || resp.Status != 200 || len(jurors) != 5 {
			b.Fatalf("draw %d: %v %v %v", i, resp, jurors, err)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	b.ReportMetric(float64(pct(0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	fmt.Printf("selection of 5 from %d eligible over %d draws: p50 %s  p90 %s  p99 %s  max %s\n",
		benchPoolSize, len(lat), pct(0.5).Round(10*time.Microsecond), pct(0.9).Round(10*time.Microsecond),
		pct(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
}

// dropBenchPool removes the seeded users and their tasks, so later
// benchmarks and tests see the pool they expect.
func dropBenchPool(b *testing.B, db *pgx.Conn, prefix string) {
	if err := platform.DropSeededJurors(context.Background(), db, prefix); err != nil {
		b.Errorf("drop bench pool: %v", err)
	}
}
