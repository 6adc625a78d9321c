package e2e

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// A burst of reports while the report app's sidecar is dead: every one is
// answered 202 and stored (filing needs only the database), none of their
// rounds can start, and once the sidecar is back the starter schedules every
// round the burst left behind: its backlog is the cases table, not memory.
func TestIntakeBurstWhileTheReportSidecarIsDeadStartsEveryRoundAfterIt(t *testing.T) {
	ctx := ctxT(t)
	db := reportDB(t, ctx)
	back := kill(t, ctx, "report-dapr")

	const n = 80
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		cases []string
		bad   []string
	)
	for i := range n {
		wg.Go(func() {
			reporter := unique("burst-reporter") + "-" + string(rune('a'+i%26))
			body := map[string]any{"reporter_id": reporter, "reason": "counterfeit goods",
				"target": map[string]any{"kind": "item", "id": unique("burst-target") + "-" + reporter, "owner_id": unique("owner")}}
			resp, err := plat.As("report", reporter).Do(ctx, "POST", "/v1/reports", body)
			var rc receipt
			mu.Lock()
			defer mu.Unlock()
			if err != nil || resp.Status != 202 || resp.JSON(&rc) != nil || rc.CaseID == "" {
				bad = append(bad, resp.String())
				return
			}
			cases = append(cases, rc.CaseID)
		})
	}
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d of %d reports not accepted with the sidecar dead; first: %s", len(bad), n, bad[0])
	}
	count := func(q string) int {
		t.Helper()
		var c int
		if err := db.QueryRow(ctx, q, cases).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if stored := count(`SELECT count(*) FROM reports WHERE case_id = ANY($1)`); stored != n {
		t.Fatalf("%d reports answered 202, %d stored", n, stored)
	}
	// The starter has tried (it wakes on every new case) and failed.
	time.Sleep(time.Second)
	const waiting = `SELECT count(*) FROM cases WHERE id = ANY($1) AND round_started_at IS NULL`
	if left := count(waiting); left != n {
		t.Fatalf("%d of %d rounds recorded started with the sidecar dead", n-left, n)
	}

	back()
	eventually(t, "every round of the burst started", 90*time.Second, func() (bool, string) {
		left := count(waiting)
		return left == 0, fmt.Sprintf("%d cases without a round", left)
	})
}
