package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// creditsOf counts the vote credits of a case in the reward ledger.
func creditsOf(t *testing.T, ctx context.Context, db *pgxpool.Pool, caseID string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE case_id = $1`, caseID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The reward app is killed -9 while its crediting transaction is open (held
// on the juror's account lock, which the test holds): nothing is credited,
// the broker delivers the message again once the app is back, and the juror
// is credited exactly once. An app that acknowledged before committing would
// lose the credit here.
func TestRewardKilledBeforeItsCommitCreditsOnceAfterRestart(t *testing.T) {
	ctx := ctxT(t)
	db := rewardDB(t)
	juror := unique("ack-juror")
	earnPoints(t, ctx, db, juror) // the account exists, with 15 points

	lock, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(context.Background())
	if _, err := lock.Exec(ctx, `SELECT 1 FROM accounts WHERE user_id = $1 FOR UPDATE`, juror); err != nil {
		t.Fatal(err)
	}
	caseID := unique("c_ack")
	publishDecided(t, ctx, decided(caseID, time.Now(), juror))
	eventually(t, "the reward app's transaction waits on the account", 20*time.Second, func() (bool, string) {
		var waiting int
		err := db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = 'reward' AND wait_event_type = 'Lock' AND query LIKE '%accounts%FOR UPDATE%'`).Scan(&waiting)
		return err == nil && waiting > 0, fmt.Sprint(waiting, err)
	})
	if err := plat.Kill("reward"); err != nil {
		t.Fatal(err)
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the orphaned backend notices its client is gone
	if n := creditsOf(t, ctx, db, caseID); n != 0 {
		t.Fatalf("%d credits committed by a killed app", n)
	}
	if err := plat.StartApp("reward"); err != nil {
		t.Fatal(err)
	}
	if err := plat.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	waitCredited(t, ctx, db, caseID, 1)
	waitConsumedBy(t, "case-decided", "reward")
	if n := creditsOf(t, ctx, db, caseID); n != 1 {
		t.Fatalf("%d credits after redelivery, want 1", n)
	}
	if st := statementOf(t, ctx, juror); st.Balance != 30 {
		t.Fatalf("balance %d, want 30 (two credits of 15)", st.Balance)
	}
}

// failCommits makes every commit of a transaction that inserted a row of
// caseID into table fail (a deferred constraint trigger raises at COMMIT),
// until the returned function removes it.
func failCommits(t *testing.T, ctx context.Context, db *pgxpool.Pool, table, caseID string) func() {
	t.Helper()
	name := strings.NewReplacer("-", "_", ".", "_").Replace("pool9_fail_" + unique(table))
	stmts := []string{
		fmt.Sprintf(`CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.case_id = %s THEN RAISE EXCEPTION 'injected commit failure'; END IF; RETURN NULL; END $$`,
			name, quoteLiteral(caseID)),
		fmt.Sprintf(`CREATE CONSTRAINT TRIGGER %s AFTER INSERT ON %s DEFERRABLE INITIALLY DEFERRED
			FOR EACH ROW EXECUTE FUNCTION %s()`, name, table, name),
	}
	for _, s := range stmts {
		if _, err := db.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	removed := false
	remove := func() {
		if removed {
			return
		}
		removed = true
		for _, s := range []string{`DROP TRIGGER ` + name + ` ON ` + table, `DROP FUNCTION ` + name} {
			if _, err := db.Exec(context.Background(), s); err != nil {
				t.Errorf("remove injected failure: %v", err)
			}
		}
	}
	t.Cleanup(remove)
	return remove
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// When the commit itself fails, neither the reviewer nor the reward app
// acknowledges the case-decided message: each answers RETRY, nothing is
// recorded, and the broker's redelivery records it once the database takes
// the commit again.
func TestFailedCommitIsRetriedNotAcknowledged(t *testing.T) {
	ctx := ctxT(t)
	rewardPool, reviewerPool := rewardDB(t), openPool(t, "reviewer")
	juror := unique("commit-juror")
	caseID := unique("c_commit")
	healReward := failCommits(t, ctx, rewardPool, "ledger_entries", caseID)
	healReviewer := failCommits(t, ctx, reviewerPool, "decided_cases", caseID)
	ev := decided(caseID, time.Now(), juror)
	for _, app := range []string{"reviewer", "reward"} {
		resp, err := plat.AsSidecar(app).Do(ctx, "POST", "/events/case-decided",
			map[string]any{"id": caseID + "-direct", "topic": "case-decided", "data": ev})
		if err != nil || resp.Status != 200 || resp.Map()["status"] != "RETRY" {
			t.Fatalf("%s answered %v %v to a delivery whose commit failed, want RETRY", app, resp, err)
		}
	}
	publishDecided(t, ctx, ev)
	time.Sleep(2 * time.Second) // a few deliveries fail at commit
	recorded := func() (credits, decisions int) {
		credits = creditsOf(t, ctx, rewardPool, caseID)
		if err := reviewerPool.QueryRow(ctx, `SELECT count(*) FROM decided_cases WHERE case_id = $1`, caseID).Scan(&decisions); err != nil {
			t.Fatal(err)
		}
		return credits, decisions
	}
	if c, d := recorded(); c != 0 || d != 0 {
		t.Fatalf("recorded %d credits and %d decisions although every commit failed", c, d)
	}
	healReward()
	healReviewer()
	eventually(t, "decision recorded once the commits pass", 45*time.Second, func() (bool, string) {
		c, d := recorded()
		return c == 1 && d == 1, fmt.Sprintf("%d credits, %d decisions", c, d)
	})
	waitConsumedBy(t, "case-decided", "reward")
	waitConsumedBy(t, "case-decided", "reviewer")
	if c, d := recorded(); c != 1 || d != 1 {
		t.Fatalf("%d credits and %d decisions after redelivery, want 1 and 1", c, d)
	}
}
