//go:build chaos

// The probes test one suspected loss path each, on the chaos profile's own
// infrastructure (scripts/chaos.sh runs them with -tags chaos: they kill
// PostgreSQL and Redis, so they never run beside the end-to-end suite).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/govern/tests/platform"
)

var plat *platform.Platform

func TestMain(m *testing.M) {
	var err error
	plat, err = platform.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	err = plat.Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "probes: start platform:", err)
		plat.Stop()
		os.Exit(2)
	}
	code := m.Run()
	plat.Stop()
	os.Exit(code)
}

func restart(t *testing.T, kind string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := plat.RestartInfra(ctx, kind); err != nil {
		t.Fatal(err)
	}
	if err := plat.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}

func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: plat.RedisAddr(), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// Suspect (a), the broker: a stream entry Redis acknowledged must survive
// kill -9 of Redis. Redis fsyncs the append-only file before it answers
// (appendfsync always); with everysec it may answer first when an fsync is
// slow. The probe writes as fast as one client can, kills Redis mid-stream
// five times and finds every acknowledged entry after the restart.
func TestRedisKeepsAcknowledgedStreamEntriesThroughKill9(t *testing.T) {
	ctx := context.Background()
	c := redisClient(t)
	for key, want := range map[string]string{"appendonly": "yes", "appendfsync": "always", "maxmemory-policy": "noeviction"} {
		got, err := c.ConfigGet(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got[key] != want {
			t.Fatalf("Redis %s is %q, want %q (scripts/lib.sh start_redis)", key, got[key], want)
		}
	}
	stream := fmt.Sprintf("probe-durability-%d", time.Now().UnixNano())
	var acked []string
	for round := range 5 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: map[string]any{"round": round}}).Result()
				if err != nil {
					return // Redis died under the writer
				}
				acked = append(acked, id)
			}
		}()
		time.Sleep(time.Duration(300+round*100) * time.Millisecond)
		if err := plat.KillInfra(platform.Redis); err != nil {
			t.Fatal(err)
		}
		<-done
		restart(t, platform.Redis)
		var stored []redis.XMessage
		var err error
		for range 100 { // the port opens before the append-only file is loaded
			if stored, err = c.XRange(ctx, stream, "-", "+").Result(); err == nil || !strings.HasPrefix(err.Error(), "LOADING") {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, m := range stored {
			have[m.ID] = true
		}
		for _, id := range acked {
			if !have[id] {
				t.Fatalf("round %d: entry %s was acknowledged before kill -9 and is gone after the restart (%d acknowledged, %d stored)",
					round, id, len(acked), len(stored))
			}
		}
		t.Logf("round %d: %d entries acknowledged so far, all stored after kill -9", round, len(acked))
	}
}

// Item 13: no setting of the pub/sub component may drop an unread message:
// Redis Streams trims by length (maxLenApprox) or age (streamTTL) whether or
// not a consumer group has read the entries.
func TestPubsubComponentTrimsNothing(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(os.Getenv("GOVERN_ROOT"), "components", "pubsub.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"maxLenApprox", "streamTTL"} {
		if strings.Contains(string(data), "name: "+field) {
			t.Errorf("components/pubsub.yaml sets %s: Redis would trim entries no consumer has acknowledged", field)
		}
	}
}

// credited waits until juror has a credit for caseID in the reward database.
func credited(ctx context.Context, t *testing.T, caseID, juror string, within time.Duration) bool {
	t.Helper()
	db, err := pgxpool.New(ctx, plat.DatabaseURL("reward"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		var n int
		err := db.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE case_id = $1 AND user_id = $2`, caseID, juror).Scan(&n)
		if err == nil && n > 0 {
			return true
		}
		time.Sleep(250 * time.Millisecond)
	}
	return false
}

func decision(caseID, juror string) map[string]any {
	return map[string]any{
		"case_id": caseID, "target": map[string]string{"kind": "item", "id": "probe-target", "owner_id": "probe-owner"},
		"decision": "upheld", "decided_at": time.Now().UTC().Format(time.RFC3339Nano),
		"tally": map[string]int{"uphold": 1, "reject": 0}, "jurors": []string{juror},
		"votes": []map[string]string{{"juror_id": juror, "decision": "uphold"}},
	}
}

// Suspect (c), the decision's two writes, and the path found for item 15,
// Dapr 1.18.1's transactional outbox (its handler spins forever on a message
// whose transaction failed, and ten such messages stop the sidecar): the
// report service no longer uses Dapr's outbox. A decision and the promise to
// publish it commit in one report-database transaction (kit/outbox), and
// the relay publishes it; tests/e2e (TestDecisionIsPublishedAfterTheRoundDies
// BetweenTheTwoWrites) and tests/integration (the relay) prove that path.

// Suspect (b), a consumer that acknowledges before its commit: a
// case-decided message is delivered while the reward database hangs
// (SIGSTOP), the reward app is killed -9 in the middle of the delivery, and
// PostgreSQL continues. The credit must still arrive, and the reviewer (the
// topic's other consumer group) must record the decision too.
func TestCaseDecidedSurvivesConsumerKilledBeforeCommit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	caseID := fmt.Sprintf("probe-consumer-%d", time.Now().UnixNano())
	juror := "probe-juror-" + caseID
	if err := plat.PauseInfra(platform.Postgres); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = plat.ResumeInfra(platform.Postgres)
		}
	}()
	// Redis is up, so the publish returns at once; the consumers' handlers
	// block on the stopped database.
	if err := plat.Sidecar("reviewer").Publish(ctx, "pubsub", "case-decided", decision(caseID, juror)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	for _, name := range []string{"reward", "reviewer"} {
		if err := plat.Kill(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := plat.ResumeInfra(platform.Postgres); err != nil {
		t.Fatal(err)
	}
	resumed = true
	for _, name := range []string{"reward", "reviewer"} {
		if err := plat.StartApp(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := plat.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if !credited(ctx, t, caseID, juror, 90*time.Second) {
		t.Fatalf("case-decided %s was delivered to a reward app killed before its commit and never redelivered", caseID)
	}
	db, err := pgxpool.New(ctx, plat.DatabaseURL("reviewer"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var recorded bool
	deadline := time.Now().Add(60 * time.Second)
	for !recorded && time.Now().Before(deadline) {
		_ = db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM decided_cases WHERE case_id = $1)`, caseID).Scan(&recorded)
		time.Sleep(250 * time.Millisecond)
	}
	if !recorded {
		t.Fatalf("case-decided %s never reached the reviewer's database", caseID)
	}
}
