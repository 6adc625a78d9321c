package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// maxSeq is the largest sampling key in the reviewer's pool: the range a
// draw samples random keys from.
func maxSeq(t testing.TB, ctx context.Context, db *pgx.Conn) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM jurors`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// postActivity delivers user-activity events to the reviewer as its sidecar
// does (the real subscription handler and SQL), from workers at once.
func postActivity(t testing.TB, ctx context.Context, users []string, events, workers int, at func(i int) time.Time) {
	t.Helper()
	sidecar := plat.AsSidecar("reviewer")
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				ev := map[string]any{"id": fmt.Sprintf("act-%d", i), "topic": "user-activity", "data": map[string]any{
					"user_id": users[i%len(users)], "at": at(i).UTC().Format(time.RFC3339Nano)}}
				resp, err := sidecar.Do(ctx, "POST", "/events/user-activity", ev)
				if err != nil || resp.Status != 200 || resp.Map()["status"] != "SUCCESS" {
					t.Errorf("activity %d: %v %v", i, resp, err)
				}
			}
		})
	}
	for i := range events {
		next <- i
	}
	close(next)
	wg.Wait()
}

// Activity and profile updates of users the pool already knows leave every
// sampling key where it was: max(seq) grows with new jurors, never with
// events, so a draw samples keys from a range as dense as the pool. (Each
// such upsert used to burn an identity value.)
func TestActivityOfKnownUsersLeavesSamplingKeysDense(t *testing.T) {
	ctx := ctxT(t)
	db := reviewerDB(t, ctx)
	tag := unique("dense")
	users := newJurors(t, ctx, 10, tag)
	keysOf := func() map[string]int64 {
		rows, err := db.Query(ctx, `SELECT user_id, seq FROM jurors WHERE user_id = ANY($1)`, users)
		if err != nil {
			t.Fatal(err)
		}
		keys := map[string]int64{}
		var (
			u string
			k int64
		)
		if _, err := pgx.ForEachRow(rows, []any{&u, &k}, func() error { keys[u] = k; return nil }); err != nil {
			t.Fatal(err)
		}
		return keys
	}
	before, top := keysOf(), maxSeq(t, ctx, db)

	base := testerActivity()
	ops := plat.As("reviewer", "ops-dense", "ops")
	for i := range 100 {
		resp, err := ops.Do(ctx, "PUT", "/v1/users/"+users[i%len(users)]+"/profile",
			map[string]any{"tags": []string{tag}, "last_active_at": base.Format(time.RFC3339)})
		must(t, resp, err, 200)
	}
	postActivity(t, ctx, users, 900, 8, func(i int) time.Time { return base.Add(time.Duration(i) * time.Millisecond) })
	// A few through the broker too, the way production delivers them.
	for i := range 20 {
		if err := plat.Sidecar("report").Publish(ctx, "pubsub", "user-activity",
			map[string]any{"user_id": users[i%len(users)], "at": base.Format(time.RFC3339)}); err != nil {
			t.Fatal(err)
		}
	}
	waitConsumedBy(t, "user-activity", "reviewer")

	if after := maxSeq(t, ctx, db); after != top {
		t.Fatalf("1020 upserts of 10 known users moved max(seq) from %d to %d", top, after)
	}
	if after := keysOf(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("sampling keys moved: %v -> %v", before, after)
	}
	newcomer := newJurors(t, ctx, 1, tag)[0]
	var k int64
	if err := db.QueryRow(ctx, `SELECT seq FROM jurors WHERE user_id = $1`, newcomer).Scan(&k); err != nil {
		t.Fatal(err)
	}
	if k != top+1 {
		t.Fatalf("the next new juror got key %d, want %d (the next one after %d)", k, top+1, top)
	}
	if want := base.Add(899 * time.Millisecond); !activityAtLeast(t, ctx, db, users[9], want) {
		t.Fatalf("activity of %s not applied: last_active_at before %s", users[9], want)
	}
}

func activityAtLeast(t testing.TB, ctx context.Context, db *pgx.Conn, user string, want time.Time) bool {
	t.Helper()
	var ok bool
	if err := db.QueryRow(ctx, `SELECT last_active_at >= $2 FROM profiles WHERE user_id = $1`, user, want).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}
