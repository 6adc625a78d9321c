package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// A draw the reviewer service refuses (a 4xx no retry can change) is not
// retried for days: the round closes its case as escalated at once, with the
// refusal on the timeline, and the decision is published.
func TestRoundThatCannotGoOnClosesEscalatedWithTheReason(t *testing.T) {
	ctx := ctxT(t)
	jury := len(pool) + 3
	setPolicy(t, ctx, "item", jury, jury/2+1, "1h", "2h", 0, "undecided")
	rc, _ := fileReport(t, ctx, "item")
	eventually(t, "case pending for want of jurors", 20*time.Second, func() (bool, string) {
		c := caseOf(t, ctx, rc.CaseID)
		return timelineKinds(c)["pool_too_small"] == 1, fmt.Sprint(c["status"], c["timeline"])
	})
	// From now on the reviewer service refuses the case's draws (400): its
	// kind is none the reviewer knows.
	if _, err := reportDB(t, ctx).Exec(ctx, `UPDATE cases SET target_kind = 'video' WHERE id = $1`, rc.CaseID); err != nil {
		t.Fatal(err)
	}
	c := waitClosed(t, ctx, rc.CaseID, 40*time.Second)
	if c["status"] != "escalated" || !timelineHas(c, "round_failed", "400") {
		t.Fatalf("case %v, want escalated with the refusal on the timeline", c)
	}
	eventually(t, "round ended", 20*time.Second, func() (bool, string) {
		s := roundStatus(t, ctx, rc.CaseID)
		return s == "COMPLETED", s
	})
	eventually(t, "decision published", 30*time.Second, func() (bool, string) {
		n := count(t, ctx, "report", `SELECT count(*) FROM cases WHERE id = $1 AND decision_published_at IS NOT NULL`, rc.CaseID)
		return n == 1, "not yet"
	})
}

// The repair loop mends what a lost workflow leaves behind: an open case
// whose round is gone gets its round started again, which rebuilds itself
// from the database (the vote cast meanwhile included) and ends when the
// next vote decides the case; a closed case whose decision is neither
// published nor pending is published again.
func TestRepairRestartsLostRoundsAndRepublishesDecisions(t *testing.T) {
	ctx := ctxT(t)
	reportAppWith(t, ctx, map[string]string{"REPAIR_INTERVAL": "1s"})
	setPolicy(t, ctx, "post", 3, 2, "1h", "2h", 1, "undecided")
	rc, _ := fileReport(t, ctx, "post")
	jurors := jurorsOf(t, ctx, rc.CaseID, 3)
	killRound(t, ctx, rc.CaseID)
	resp, err := vote(ctx, rc.CaseID, jurors[0], "uphold")
	must(t, resp, err, 202)
	waitRestarted(t, ctx, rc.CaseID, rc.CaseID)
	resp, err = vote(ctx, rc.CaseID, jurors[1], "uphold")
	must(t, resp, err, 202)
	if c := caseOf(t, ctx, rc.CaseID); c["status"] != "upheld" {
		t.Fatalf("case %v after the quorum vote, want upheld", c)
	}
	eventually(t, "the restarted round ended", 30*time.Second, func() (bool, string) {
		s := roundStatus(t, ctx, rc.CaseID)
		return s == "COMPLETED", s
	})
	for _, j := range jurors[:2] {
		eventually(t, "credit for "+j, 30*time.Second, func() (bool, string) {
			n, _ := accountOf(t, ctx, j).creditsFor(rc.CaseID)
			return n == 1, fmt.Sprintf("%d credits", n)
		})
	}

	// A closed case whose publication was lost (as before the outbox).
	waitDrained(t, "case-decided")
	before := messagesMentioning(t, "case-decided", `"case_id":"`+rc.CaseID+`"`)
	db := reportDB(t, ctx)
	if _, err := db.Exec(ctx, `UPDATE cases SET decision_published_at = NULL WHERE id = $1`, rc.CaseID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `DELETE FROM outbox WHERE dedup_key = 'decision:' || $1`, rc.CaseID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "decision published again", 30*time.Second, func() (bool, string) {
		n := messagesMentioning(t, "case-decided", `"case_id":"`+rc.CaseID+`"`)
		return n > before, fmt.Sprintf("%d messages", n)
	})
	eventually(t, "published marker", 10*time.Second, func() (bool, string) {
		n := count(t, ctx, "report", `SELECT count(*) FROM cases WHERE id = $1 AND decision_published_at IS NOT NULL`, rc.CaseID)
		return n == 1, "not marked"
	})
	waitDrained(t, "case-decided")
	for _, j := range jurors[:2] {
		if n, _ := accountOf(t, ctx, j).creditsFor(rc.CaseID); n != 1 {
			t.Fatalf("juror %s credited %d times after the republication", j, n)
		}
	}
	// Every closed case has its decision published or pending.
	if n := count(t, ctx, "report", `SELECT count(*) FROM cases c WHERE c.decided_at IS NOT NULL AND c.decision_published_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.dedup_key = 'decision:' || c.id AND o.dead_at IS NULL)`); n != 0 {
		t.Fatalf("%d closed cases with no decision published or pending", n)
	}
}

// waitRestarted waits until the repair loop has restarted the lost round
// (instance: its case id, "-2" for an appeal round) and it runs.
func waitRestarted(t *testing.T, ctx context.Context, caseID, instance string) {
	t.Helper()
	eventually(t, "the lost round restarted", 60*time.Second, func() (bool, string) {
		c := caseOf(t, ctx, caseID)
		s := roundStatus(t, ctx, instance)
		return timelineKinds(c)["round_restarted"] == 1 && s == "RUNNING", fmt.Sprint(s, " ", c["timeline"])
	})
}

// A case reported by thousands still gets a jury: the report service never
// asks the reviewer service to exclude more than 1000 users, and a reporter
// it could not list who is drawn anyway is recused at once and replaced
// (even under max_substitutes 0).
func TestThousandsOfReportersStillGetAJuryWithoutAReporterOnIt(t *testing.T) {
	ctx := ctxT(t)
	jury := len(pool) + 1
	setPolicy(t, ctx, "review", jury, jury/2+1, "1h", "2h", 0, "undecided")
	rc, _ := fileReport(t, ctx, "review")
	eventually(t, "case pending for want of jurors", 20*time.Second, func() (bool, string) {
		c := caseOf(t, ctx, rc.CaseID)
		return timelineKinds(c)["pool_too_small"] == 1, fmt.Sprint(c["status"], c["timeline"])
	})
	insider := pool[0] // a pool member who reported the target after 10,001 others
	db := reportDB(t, ctx)
	if _, err := db.Exec(ctx, `INSERT INTO reports (id, reporter_id, case_id, target_kind, target_id, target_owner, reason, created_at)
		SELECT 'r_mass_' || $1 || '_' || g, 'mass-' || $1 || '-' || g, c.id, c.target_kind, c.target_id, c.target_owner, 'me too',
		       now() + g * interval '1 microsecond'
		FROM cases c, generate_series(1, 10001) g WHERE c.id = $1`, rc.CaseID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO reports (id, reporter_id, case_id, target_kind, target_id, target_owner, reason, created_at)
		SELECT 'r_insider_' || c.id, $2, c.id, c.target_kind, c.target_id, c.target_owner, 'me too', now() + interval '1 second'
		FROM cases c WHERE c.id = $1`, rc.CaseID, insider); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE cases SET report_count = report_count + 10002 WHERE id = $1`, rc.CaseID); err != nil {
		t.Fatal(err)
	}
	if err := seedPool(ctx, 2); err != nil { // one seat more than the pool without the insider
		t.Fatal(err)
	}
	var seated []string
	eventually(t, "a whole jury without the insider", 60*time.Second, func() (bool, string) {
		seated = openTasks(t, ctx, rc.CaseID, pool)
		return len(seated) == jury && !slices.Contains(seated, insider), fmt.Sprint("open tasks: ", seated)
	})
	resp, err := vote(ctx, rc.CaseID, insider, "uphold")
	if err != nil || resp.Status == 202 {
		t.Fatalf("a reporter voted on the case: %v %v", resp, err)
	}
	// The reviewer opens the tasks before the report service's DrawJury
	// activity records the jury and moves the case to voting: wait for it.
	eventually(t, "the case voting", 20*time.Second, func() (bool, string) {
		got := caseOf(t, ctx, rc.CaseID)["status"]
		return got == "voting", fmt.Sprint("status ", got)
	})
}

// A juror who reports the target of the case they sit on is recused: their
// task closes, their vote is refused, and a substitute takes the seat.
func TestJurorWhoReportsTheTargetIsRecusedAndReplaced(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "chat", 3, 2, "1h", "2h", 0, "undecided")
	reporter := unique("reporter")
	target := map[string]any{"kind": "chat", "id": unique("chat"), "owner_id": unique("owner")}
	resp, err := plat.As("report", reporter).Do(ctx, "POST", "/v1/reports",
		map[string]any{"reporter_id": reporter, "target": target, "reason": "scam"})
	must(t, resp, err, 202)
	var rc receipt
	_ = resp.JSON(&rc)
	jurors := jurorsOf(t, ctx, rc.CaseID, 3)
	insider := jurors[0]
	resp, err = plat.As("report", insider).Do(ctx, "POST", "/v1/reports",
		map[string]any{"reporter_id": insider, "target": target, "reason": "they scammed me too"})
	must(t, resp, err, 202)
	var joined receipt
	if _ = resp.JSON(&joined); joined.CaseID != rc.CaseID {
		t.Fatalf("the juror's report opened %s instead of joining %s", joined.CaseID, rc.CaseID)
	}
	var substitute string
	eventually(t, "insider replaced", 30*time.Second, func() (bool, string) {
		open := openTasks(t, ctx, rc.CaseID, pool)
		substitute = ""
		for _, u := range open {
			if !slices.Contains(jurors, u) {
				substitute = u
			}
		}
		return len(open) == 3 && !slices.Contains(open, insider) && substitute != "", fmt.Sprint("open tasks: ", open)
	})
	resp, err = vote(ctx, rc.CaseID, insider, "uphold")
	if must(t, resp, err, 409); resp.ErrorCode() != "juror_released" {
		t.Fatalf("recused juror's vote: %s", resp)
	}
	for _, j := range []string{jurors[1], substitute} {
		resp, err := vote(ctx, rc.CaseID, j, "reject")
		must(t, resp, err, 202)
	}
	c := waitClosed(t, ctx, rc.CaseID, 30*time.Second)
	if c["status"] != "rejected" || timelineKinds(c)["recused"] != 1 || !slices.Contains(toStrings(c["jurors"]), substitute) {
		t.Fatalf("case %v", c)
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// A case waiting for jurors backs off and keeps its workflow history
// bounded (it continues as new every few waits), and still gets its jury
// once jurors appear.
func TestPendingRoundBacksOffWithABoundedHistory(t *testing.T) {
	ctx := ctxT(t)
	reportAppWith(t, ctx, map[string]string{"ROUND_POOL_RETRY_INITIAL": "20ms", "ROUND_POOL_RETRY_MAX": "80ms"})
	jury := len(pool) + 1
	setPolicy(t, ctx, "comment", jury, jury/2+1, "1h", "2h", 0, "undecided")
	rc, _ := fileReport(t, ctx, "comment")
	state := stateDB(t, ctx)
	history := func() int {
		var n int
		if err := state.QueryRow(ctx, `SELECT count(*) FROM state WHERE key LIKE $1`,
			"%||round-"+rc.CaseID+"||history-%").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	most := 0
	eventually(t, "sixty waits for the pool", 90*time.Second, func() (bool, string) {
		most = max(most, history())
		waits := poolWaits(t, ctx, rc.CaseID)
		return waits >= 60, fmt.Sprintf("%d waits, history up to %d events", waits, most)
	})
	t.Logf("history peaked at %d events over %d waits", most, poolWaits(t, ctx, rc.CaseID))
	// One generation holds at most 20 waits of a handful of events each; a
	// history that kept every wait would hold over 60 x 6 by now.
	if most > 200 {
		t.Fatalf("history grew to %d events over 60 waits", most)
	}
	if err := seedPool(ctx, 1); err != nil {
		t.Fatal(err)
	}
	jurorsOf(t, ctx, rc.CaseID, jury)
}

// poolWaits reads how often the case's round has waited for the pool (its
// custom status).
func poolWaits(t *testing.T, ctx context.Context, caseID string) int {
	t.Helper()
	_, m, err := roundCall(ctx, caseID, "")
	if err != nil {
		t.Fatal(err)
	}
	props, _ := m["properties"].(map[string]any)
	raw, _ := props["dapr.workflow.custom_status"].(string)
	var st struct {
		PoolWaits int `json:"pool_waits"`
	}
	_ = json.Unmarshal([]byte(strings.TrimSpace(raw)), &st)
	return st.PoolWaits
}

// A workflow can stay RUNNING with nothing left that will wake it (chaos
// runs left rounds whose next activity never ran after the state store
// failed mid-commit); here the round is paused. Every round still ends: the
// repair loop closes a case past its deadline from its recorded votes, and
// the decision is published and credited.
func TestRepairClosesACaseWhoseRoundStallsPastItsDeadline(t *testing.T) {
	ctx := ctxT(t)
	reportAppWith(t, ctx, map[string]string{"REPAIR_INTERVAL": "1s", "REPAIR_OVERDUE_AFTER": "1s"})
	setPolicy(t, ctx, "review", 3, 2, "1h", "8s", 0, "undecided")
	rc, _ := fileReport(t, ctx, "review")
	jurors := jurorsOf(t, ctx, rc.CaseID, 3)
	resp, err := vote(ctx, rc.CaseID, jurors[0], "uphold")
	must(t, resp, err, 202)
	eventually(t, "vote counted by the round", 10*time.Second, func() (bool, string) {
		return caseOf(t, ctx, rc.CaseID)["votes_cast"] == 1.0, "waiting"
	})
	if status, body, err := roundCall(ctx, rc.CaseID, "pause"); err != nil || status/100 != 2 {
		t.Fatalf("pause the round: %d %v %v", status, body, err)
	}
	c := waitClosed(t, ctx, rc.CaseID, 40*time.Second)
	if c["status"] != "undecided" {
		t.Fatalf("case %v, want undecided (one vote, no quorum, on_timeout undecided)", c["status"])
	}
	db := rewardDB(t)
	waitCredited(t, ctx, db, rc.CaseID, 1)
	// The paused round, resumed, finds the case closed and ends quietly.
	if status, body, err := roundCall(ctx, rc.CaseID, "resume"); err != nil || status/100 != 2 {
		t.Fatalf("resume the round: %d %v %v", status, body, err)
	}
	eventually(t, "round ended", 20*time.Second, func() (bool, string) {
		_, m, err := roundCall(ctx, rc.CaseID, "")
		if err != nil {
			return false, err.Error()
		}
		return m["runtimeStatus"] == "COMPLETED", fmt.Sprint(m["runtimeStatus"])
	})
	if got := caseOf(t, ctx, rc.CaseID)["status"]; got != "undecided" {
		t.Fatalf("status changed to %v", got)
	}
}
