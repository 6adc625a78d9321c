// Package integration tests kit's database-backed mechanisms (migrations,
// the outbox relay, the settings trigger) on the profile's real PostgreSQL.
package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/kit/outbox"
	"github.com/govern/kit/pg"
)

// freshDB creates an empty database with kit's migrations applied.
func freshDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	base := os.Getenv("GOVERN_PG_URL_BASE")
	if base == "" {
		t.Fatal("GOVERN_PG_URL_BASE is not set: run through make test (scripts/test.sh)")
	}
	ctx := context.Background()
	dsn := fmt.Sprintf("%s/kit_it_%d?sslmode=disable", base, time.Now().UnixNano())
	noServiceMigrations := fstest.MapFS{"00001_none.sql": {Data: []byte("-- +goose Up\nSELECT 1;\n")}}
	if err := pg.Migrate(ctx, slog.New(slog.DiscardHandler), dsn, noServiceMigrations); err != nil {
		t.Fatal(err)
	}
	db, err := pg.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func relay(db *pgxpool.Pool) *outbox.Relay {
	return &outbox.Relay{DB: db, Log: slog.New(slog.DiscardHandler), Service: "it", Poll: 20 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func pendingRows(t *testing.T, db *pgxpool.Pool, dead bool) int {
	t.Helper()
	var n int
	q := `SELECT count(*) FROM outbox WHERE dead_at IS NULL`
	if dead {
		q = `SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL`
	}
	if err := db.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAnEffectFailingTransientlyHappensOnceItCan(t *testing.T) {
	db := freshDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	r := relay(db)
	r.Handle("flaky", func(ctx context.Context, p json.RawMessage) error {
		if calls.Add(1) < 4 {
			return errors.New("dependency down")
		}
		return nil
	})
	if err := outbox.Enqueue(ctx, db, "flaky", "k1", map[string]string{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	go r.Run(ctx)
	waitFor(t, "effect done", func() bool { return pendingRows(t, db, false) == 0 })
	if got := calls.Load(); got != 4 {
		t.Fatalf("handler called %d times, want 4 (3 failures, then success)", got)
	}
}

func TestARolledBackChangeLeavesNoEffect(t *testing.T) {
	db := freshDB(t)
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.Enqueue(ctx, tx, "x", "k", 1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n := pendingRows(t, db, false); n != 0 {
		t.Fatalf("%d rows after rollback", n)
	}
}

func TestAPermanentFailureIsSetAsideNotRetried(t *testing.T) {
	db := freshDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	r := relay(db)
	r.Handle("bad", func(context.Context, json.RawMessage) error {
		calls.Add(1)
		return outbox.Permanent(errors.New("refused as invalid"))
	})
	if err := outbox.Enqueue(ctx, db, "bad", "k", 1); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { defer close(stopped); r.Run(ctx) }()
	waitFor(t, "row dead", func() bool { return pendingRows(t, db, true) == 1 })
	time.Sleep(200 * time.Millisecond)
	if calls.Load() != 1 {
		t.Fatalf("handler called %d times, want 1", calls.Load())
	}
	// The same effect may be queued again (an operator's retry). The relay is
	// stopped first, or it could set the new row aside before it is counted.
	cancel()
	<-stopped
	ctx = context.Background()
	if err := outbox.Enqueue(ctx, db, "bad", "k", 1); err != nil {
		t.Fatal(err)
	}
	if n := pendingRows(t, db, false); n != 1 {
		t.Fatalf("requeued: %d pending", n)
	}
}

func TestARepeatedCauseQueuesOneEffect(t *testing.T) {
	db := freshDB(t)
	ctx := context.Background()
	for range 3 {
		if err := outbox.Enqueue(ctx, db, "x", "same-key", 1); err != nil {
			t.Fatal(err)
		}
	}
	if n := pendingRows(t, db, false); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

// Several replicas drain one outbox: every effect happens, and none is
// carried out by two relays at once.
func TestConcurrentRelaysCarryOutEachEffectOnce(t *testing.T) {
	db := freshDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 400
	var mu sync.Mutex
	seen := map[string]int{}
	for i := range n {
		if err := outbox.Enqueue(ctx, db, "count", fmt.Sprintf("k%d", i), i); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		r := relay(db)
		r.Handle("count", func(_ context.Context, p json.RawMessage) error {
			mu.Lock()
			seen[string(p)]++
			mu.Unlock()
			return nil
		})
		go r.Run(ctx)
	}
	waitFor(t, "all done", func() bool { return pendingRows(t, db, false) == 0 })
	if len(seen) != n {
		t.Fatalf("%d distinct effects, want %d", len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Fatalf("effect %s carried out %d times", k, c)
		}
	}
}

// A relay that dies after the effect but before forgetting it carries the
// effect out again once its lease ends (at least once).
func TestAnEffectInterruptedBeforeItIsForgottenRunsAgain(t *testing.T) {
	db := freshDB(t)
	ctx := context.Background()
	if err := outbox.Enqueue(ctx, db, "x", "k", 1); err != nil {
		t.Fatal(err)
	}
	dying, die := context.WithCancel(ctx)
	first := relay(db)
	first.Lease = 300 * time.Millisecond
	first.Handle("x", func(context.Context, json.RawMessage) error {
		die() // the process dies right after the effect: the delete never happens
		return nil
	})
	if _, err := first.RunOnce(dying); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if n := pendingRows(t, db, false); n != 1 {
		t.Fatalf("%d pending after the crash, want 1", n)
	}
	var again atomic.Int32
	second := relay(db)
	second.Handle("x", func(context.Context, json.RawMessage) error { again.Add(1); return nil })
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go second.Run(runCtx)
	waitFor(t, "effect repeated", func() bool { return pendingRows(t, db, false) == 0 })
	if again.Load() != 1 {
		t.Fatalf("repeated %d times, want 1", again.Load())
	}
}

// An effect that hangs holds one worker until its deadline, inside its
// lease; the effects enqueued behind it are carried out meanwhile, and the
// hanging one is retried after its deadline.
func TestAHangingEffectHoldsBackNoOther(t *testing.T) {
	db := freshDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := relay(db)
	r.Lease = 3 * time.Second
	started := make(chan struct{}, 8)
	var hangs, hung atomic.Int32
	r.Handle("hang", func(ctx context.Context, _ json.RawMessage) error {
		hangs.Add(1)
		started <- struct{}{}
		<-ctx.Done() // a peer that never answers: only the deadline ends it
		hung.Add(1)
		return ctx.Err()
	})
	// At least once: a row may run twice (a lease that ends under a slow
	// database), so count the distinct effects carried out.
	var fastSeen sync.Map
	var fast atomic.Int32
	r.Handle("fast", func(_ context.Context, p json.RawMessage) error {
		if _, again := fastSeen.LoadOrStore(string(p), true); !again {
			fast.Add(1)
		}
		return nil
	})
	if err := outbox.Enqueue(ctx, db, "hang", "hang", 1); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { defer close(stopped); r.Run(ctx) }()
	<-started
	const n = 40
	for i := range n {
		if err := outbox.Enqueue(ctx, db, "fast", fmt.Sprint("fast-", i), i); err != nil {
			t.Fatal(err)
		}
	}
	r.Wake()
	waitFor(t, "the effects behind the hanging one", func() bool { return fast.Load() == n })
	if hung.Load() != 0 {
		t.Fatalf("the fast effects waited for the hanging one to end (%d ended)", hung.Load())
	}
	// Its deadline ends the hanging effect, and it is tried again.
	waitFor(t, "the hanging effect retried", func() bool { return hangs.Load() >= 2 })
	if hung.Load() < 1 {
		t.Fatal("retried before its first attempt ended")
	}
	cancel()
	<-stopped
}
