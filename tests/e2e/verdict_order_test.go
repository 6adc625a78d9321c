package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// seedRecord gives reporter n closed cases that ended status (upheld or
// rejected), filed yesterday (outside the daily cap) and already published.
func seedRecord(t *testing.T, ctx context.Context, reporter, status string, n int) {
	t.Helper()
	db := reportDB(t, ctx)
	for i := range n {
		id := unique(fmt.Sprintf("c_hist_%d", i))
		if _, err := db.Exec(ctx, `INSERT INTO cases (id, target_kind, target_id, target_owner, reason, status, policy,
				deadline, created_at, round_started_at, decided_at, decision_published_at, tally_uphold, tally_reject)
			VALUES ($1, 'post', $1, 'owner-' || $1, 'spam', $2, '{}', now(), now() - interval '1 day', now(), now(), now(), 0, 0)`,
			id, status); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO reports (id, reporter_id, case_id, target_kind, target_id, target_owner, reason, created_at)
			VALUES ('r_' || $1, $2, $1, 'post', $1, 'owner-' || $1, 'spam', now() - interval '1 day')`, id, reporter); err != nil {
			t.Fatal(err)
		}
	}
}

// caseStatuses reads the statuses of cases from the report database.
func caseStatuses(t *testing.T, ctx context.Context, db *pgx.Conn, ids []string) map[string]string {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT id, status FROM cases WHERE id = ANY($1)`, ids)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			t.Fatal(err)
		}
		out[id] = status
	}
	return out
}

func waitPoolTooSmall(t *testing.T, ctx context.Context, caseID string) map[string]any {
	t.Helper()
	var c map[string]any
	eventually(t, "case "+caseID+" waiting for the pool", 60*time.Second, func() (bool, string) {
		c = caseOf(t, ctx, caseID)
		return c["status"] == "pending" && timelineKinds(c)["pool_too_small"] == 1, fmt.Sprint(c["status"], c["timeline"])
	})
	return c
}

// When the pool cannot seat every pending case, juries are drawn in the
// order of the summed credibility of the cases' reporters: a serial false
// reporter's cases, although filed first, wait until the credible
// reporter's case is drawn; then they are drawn too, oldest first, as the
// one juror the pool has frees up (nobody starves). Each time, the next
// case has been refused by the busy pool before the juror frees up, as the
// head of a queue that keeps waiting is.
func TestJuriesAreDrawnInReporterCredibilityOrder(t *testing.T) {
	ctx := ctxT(t)
	reportAppWith(t, ctx, map[string]string{"ROUND_POOL_RETRY_INITIAL": "100ms", "ROUND_POOL_RETRY_MAX": "2s"})
	tag := unique("order")
	usePoolTagged(t, ctx, tag) // nobody carries the tag yet: the pool is empty
	putSetting(t, ctx, "/v1/fatigue", map[string]any{"max_per_day": 100000, "max_open": 1, "cooldown": "0s"}, suiteFatigue)
	setPolicy(t, ctx, "chat", 1, 1, "1h", "2h", 0, "undecided")

	serial, credible := unique("serial"), unique("credible")
	seedRecord(t, ctx, serial, "rejected", 4)
	seedRecord(t, ctx, credible, "upheld", 4)
	wantRecord(t, reporterRecord(t, ctx, serial, serial), serial, 4, 0, 4, 0.25)
	wantRecord(t, reporterRecord(t, ctx, credible, credible), credible, 4, 4, 0, 0.75)

	var falseCases []string
	for range 3 {
		id, _ := fileAs(t, ctx, serial, "chat", nil)
		waitPoolTooSmall(t, ctx, id)
		falseCases = append(falseCases, id)
	}
	// The second false case queued behind the first (same credibility,
	// older), which was waiting: it never asked the reviewer.
	if c := caseOf(t, ctx, falseCases[1]); !timelineHas(c, "pool_too_small", "behind "+falseCases[0]) {
		t.Fatalf("second false case %v, want it queued behind %s", c["timeline"], falseCases[0])
	}
	credibleCase, _ := fileAs(t, ctx, credible, "chat", nil)
	waitPoolTooSmall(t, ctx, credibleCase)

	db := reportDB(t, ctx)
	juror := newJurors(t, ctx, 1, tag)[0] // the pool grows by one jury
	order := append([]string{credibleCase}, falseCases...)
	for i, id := range order {
		var first string
		eventually(t, "a jury drawn for one of "+fmt.Sprint(order[i:]), 60*time.Second, func() (bool, string) {
			st := caseStatuses(t, ctx, db, order[i:])
			for _, c := range order[i:] {
				if st[c] != "pending" {
					first = c
					return true, ""
				}
			}
			return false, fmt.Sprint(st)
		})
		if first != id {
			t.Fatalf("case %s (position %d of %v) was drawn before %s", first, slices.Index(order, first), order, id)
		}
		if st := caseStatuses(t, ctx, db, order[i+1:]); len(st) != len(order)-i-1 || slices.ContainsFunc(order[i+1:], func(c string) bool { return st[c] != "pending" }) {
			t.Fatalf("after %s was drawn: %v, want the rest pending", id, st)
		}
		eventually(t, id+" voting", 20*time.Second, func() (bool, string) {
			s := caseStatuses(t, ctx, db, []string{id})[id]
			return s == "voting", s
		})
		// Being held back does not stamp a case; only the pool's refusals
		// do. The next case in the order holds the rest back once the busy
		// pool (its one juror is on this case until the vote) has refused
		// it again, and the rest queue behind it: wait for that refusal.
		// Without it, the next case may not have asked the pool since it
		// was held back itself, and whichever case asked first when the
		// juror frees up would draw (the documented "refused again queue
		// anew").
		if i+1 < len(order) {
			next := order[i+1]
			var drawnSeen time.Time
			if err := db.QueryRow(ctx, `SELECT now()`).Scan(&drawnSeen); err != nil {
				t.Fatal(err)
			}
			eventually(t, next+" refused by the busy pool again", 30*time.Second, func() (bool, string) {
				n := count(t, ctx, "report", `SELECT count(*) FROM cases WHERE id = $1 AND pool_wait_at > $2`, next, drawnSeen)
				return n == 1, fmt.Sprint(caseStatuses(t, ctx, db, order[i+1:]))
			})
		}
		decision, want := "reject", "rejected"
		if id == credibleCase {
			decision, want = "uphold", "upheld"
		}
		resp, err := vote(ctx, id, juror, decision)
		must(t, resp, err, 202)
		if c := waitClosed(t, ctx, id, 40*time.Second); c["status"] != want {
			t.Fatalf("case %s %v, want %s", id, c["status"], want)
		}
	}
	if n := count(t, ctx, "report", `SELECT count(*) FROM cases WHERE id = ANY($1) AND pool_wait_at IS NOT NULL`, order); n != 0 {
		t.Fatalf("%d drawn cases still marked waiting for the pool", n)
	}
}

// Only a case still waiting holds others back: the marker of a round that
// stopped retrying (here paused) goes stale and holds nobody, nor does the
// marker of a closed case.
func TestStaleOrClosedPoolWaitsHoldNoDrawBack(t *testing.T) {
	ctx := ctxT(t)
	reportAppWith(t, ctx, map[string]string{"ROUND_POOL_RETRY_INITIAL": "100ms", "ROUND_POOL_RETRY_MAX": "1s"})
	jury := len(pool) + 5
	setPolicy(t, ctx, "item", jury, jury/2+1, "1h", "2h", 0, "undecided")
	setPolicy(t, ctx, "review", 3, 2, "1h", "2h", 0, "undecided")
	blocker, _ := fileReport(t, ctx, "item")
	waitPoolTooSmall(t, ctx, blocker.CaseID)
	if status, body, err := roundCall(ctx, blocker.CaseID, "pause"); err != nil || status/100 != 2 {
		t.Fatalf("pause the round: %d %v %v", status, body, err)
	}
	t.Cleanup(func() {
		if status, body, err := roundCall(context.Background(), blocker.CaseID, "resume"); err != nil || status/100 != 2 {
			t.Errorf("resume the round: %d %v %v", status, body, err)
		}
	})
	db := reportDB(t, ctx)
	mark := func(at string) {
		t.Helper()
		// As if the blocker were ranked far ahead and needed a single juror.
		if _, err := db.Exec(ctx, `UPDATE cases SET pool_wait_at = now() + $2::interval, pool_rank = 1000, pool_need = 1
			WHERE id = $1`, blocker.CaseID, at); err != nil {
			t.Fatal(err)
		}
	}

	// While its marker is fresh, the blocker holds a new case back...
	mark("1 hour")
	held, _ := fileReport(t, ctx, "review")
	eventually(t, "new case queued behind the blocker", 30*time.Second, func() (bool, string) {
		c := caseOf(t, ctx, held.CaseID)
		return c["status"] == "pending" && timelineHas(c, "pool_too_small", "behind "+blocker.CaseID), fmt.Sprint(c["status"], c["timeline"])
	})
	// ...and once its round has not retried for longer than twice the
	// longest back-off, it holds nobody.
	mark("-1 minute")
	jurorsOf(t, ctx, held.CaseID, 3)
	eventually(t, "held case voting", 20*time.Second, func() (bool, string) {
		s := caseStatuses(t, ctx, db, []string{held.CaseID})[held.CaseID]
		return s == "voting", s
	})
	if n := count(t, ctx, "report", `SELECT count(*) FROM cases WHERE id = $1 AND pool_wait_at IS NULL`, held.CaseID); n != 1 {
		t.Fatal("a drawn case is still marked waiting for the pool")
	}

	// A closed case clears its marker; one left behind holds nobody either.
	resp, err := plat.As("report", "ops-withdrawer", "ops").Do(ctx, "POST", "/v1/cases/"+blocker.CaseID+"/withdrawal",
		map[string]any{"reason": "test over"})
	must(t, resp, err, 200)
	if n := count(t, ctx, "report", `SELECT count(*) FROM cases WHERE id = $1 AND pool_wait_at IS NULL`, blocker.CaseID); n != 1 {
		t.Fatal("a withdrawn case is still marked waiting for the pool")
	}
	mark("1 hour")
	after, _ := fileReport(t, ctx, "review")
	jurorsOf(t, ctx, after.CaseID, 3)
	if c := caseOf(t, ctx, after.CaseID); timelineKinds(c)["pool_too_small"] != 0 {
		t.Fatalf("case %v waited behind a closed case", c["timeline"])
	}
}
