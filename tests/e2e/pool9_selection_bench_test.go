package e2e

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// scalePoolSize is the pool BenchmarkSelectionAtScale draws from.
const scalePoolSize = 1_000_000

// scalePool is seeded once per process: the benchmark function runs once
// with b.N = 1 before the measured run.
var scalePool struct {
	once   sync.Once
	prefix string
	err    error
}

// BenchmarkSelectionAtScale seeds 1,000,000 eligible profiles straight into
// the reviewer database, then
//
//  1. applies the real activity path (POST /events/user-activity, as the
//     sidecar delivers the topic) to a sample of known users and fails
//     unless max(seq) stayed where it was: what any number of events of
//     known users, 100 million included, does to the sampling keys;
//  2. draws b.N juries of five through POST /internal/juries, each followed
//     by a bare indexed `SELECT ... LIMIT 5` on the same database, and
//     reports the p50 and p99 of both, and how many draws had to list the
//     pool instead of sampling it.
//
// SELECTION_KEY_STRIDE=101 seeds the keys 101 apart instead, as the old
// numbering left them after 100 million events on a million users, to
// measure what that cost. Run with `make bench` (-benchtime 2000x).
func BenchmarkSelectionAtScale(b *testing.B) {
	ctx := context.Background()
	db, err := pgx.Connect(ctx, plat.DatabaseURL("reviewer"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close(ctx) }) // after the pool is dropped: cleanups run last first
	stride, _ := strconv.Atoi(os.Getenv("SELECTION_KEY_STRIDE"))
	scalePool.once.Do(func() { scalePool.prefix, scalePool.err = seedScalePool(ctx, db, max(stride, 1)) })
	if scalePool.err != nil {
		b.Fatal(scalePool.err)
	}
	prefix := scalePool.prefix
	if b.N > 1 { // the measured run is the last one
		b.Cleanup(func() { dropBenchPool(b, db, prefix) })
	}
	if err := setSuiteFatigue(ctx); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))

	// 1. Known users' activity through the real handler leaves the keys.
	events := min(max(10*b.N, 1000), 20000)
	sample := make([]string, events)
	for i := range sample {
		sample[i] = fmt.Sprintf("%s%d", prefix, 1+rng.IntN(scalePoolSize))
	}
	top := maxSeq(b, ctx, db)
	now := time.Now()
	applied := time.Now()
	postActivity(b, ctx, sample, events, 8, func(i int) time.Time { return now.Add(-time.Duration(i) * time.Millisecond) })
	appliedIn := time.Since(applied)
	if after := maxSeq(b, ctx, db); after != top {
		b.Fatalf("%d activity events of known users moved max(seq) from %d to %d", events, top, after)
	}

	// 2. Draws, each beside a bare indexed select.
	listedBefore := juryChoices(b, "listed")
	draws := make([]time.Duration, 0, b.N)
	bare := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		caseID := fmt.Sprintf("%scase-%d-%d", prefix, b.N, i)
		start := time.Now()
		resp, jurors, err := drawJury(ctx, drawAsk{CaseID: caseID, Size: 5, Exclude: []string{"reporter"}, Owner: "owner"})
		draws = append(draws, time.Since(start))
		if err != nil || resp.Status != 200 || len(jurors) != 5 {
			b.Fatalf("draw %d: %v %v %v", i, resp, jurors, err)
		}
		start = time.Now()
		rows, err := db.Query(ctx, `SELECT user_id FROM jurors WHERE seq >= $1 ORDER BY seq LIMIT 5`, 1+rng.Int64N(top))
		if err == nil {
			_, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		bare = append(bare, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	listed := juryChoices(b, "listed") - listedBefore
	d50, d99 := percentiles(draws)
	s50, s99 := percentiles(bare)
	b.ReportMetric(ms(d99), "draw-p99-ms")
	b.ReportMetric(ms(s99), "select-p99-ms")
	fmt.Printf("selection at scale: %d eligible jurors, max(seq) %d (key stride %d); %d activity events of known users in %s left max(seq) at %d\n",
		scalePoolSize, top, max(stride, 1), events, appliedIn.Round(time.Millisecond), top)
	fmt.Printf("selection at scale: %d draws of 5: p50 %s  p99 %s  (%.0f listed the pool whole); bare indexed SELECT ... LIMIT 5: p50 %s  p99 %s\n",
		len(draws), d50.Round(10*time.Microsecond), d99.Round(10*time.Microsecond), listed,
		s50.Round(10*time.Microsecond), s99.Round(10*time.Microsecond))
}

// seedScalePool inserts scalePoolSize eligible users whose sampling keys
// follow the current largest one, stride apart.
func seedScalePool(ctx context.Context, db *pgx.Conn, stride int) (string, error) {
	prefix := fmt.Sprintf("scale-%d-", time.Now().UnixNano())
	start := time.Now()
	fmt.Printf("selection at scale: seeding %d profiles and jurors\n", scalePoolSize)
	_, err := db.Exec(ctx, `INSERT INTO profiles (user_id, tags, last_active_at)
		SELECT $1 || g, ARRAY['verified'], now() - (g % 100) * interval '1 minute'
		FROM generate_series(1, $2) AS g`, prefix, scalePoolSize)
	if err != nil {
		return "", fmt.Errorf("seed profiles: %w", err)
	}
	if stride == 1 {
		_, err = db.Exec(ctx, `INSERT INTO jurors (user_id) SELECT $1 || g FROM generate_series(1, $2) AS g ORDER BY g`,
			prefix, scalePoolSize)
	} else {
		_, err = db.Exec(ctx, `INSERT INTO jurors (user_id, seq) OVERRIDING SYSTEM VALUE
			SELECT $1 || g, (SELECT coalesce(max(seq), 0) FROM jurors) + g * $3::bigint FROM generate_series(1, $2) AS g`,
			prefix, scalePoolSize, stride)
	}
	if err != nil {
		return "", fmt.Errorf("seed jurors: %w", err)
	}
	if _, err := db.Exec(ctx, `ANALYZE profiles; ANALYZE jurors`); err != nil {
		return "", err
	}
	fmt.Printf("selection at scale: seeded in %s\n", time.Since(start).Round(time.Millisecond))
	return prefix, nil
}

// juryChoices reads the reviewer's count of jury choices made by method.
func juryChoices(b *testing.B, method string) float64 {
	b.Helper()
	resp, err := http.Get(plat.AppURL("reviewer") + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	want := `govern_reviewer_jury_choices_total{method="` + method + `"} `
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), want); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return n
		}
	}
	return 0
}

func percentiles(lat []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[int(0.5*float64(len(s)-1))], s[int(0.99*float64(len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
