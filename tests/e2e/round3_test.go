package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// setPolicy sets kind's policy for this test and restores the default after.
func setPolicy(t *testing.T, ctx context.Context, kind string, jury, quorum int, jurorTimeout, maxDuration string, subs int, onTimeout string) {
	t.Helper()
	ops := plat.As("report", "ops-policy", "ops")
	p := map[string]any{"jury_size": jury, "quorum": quorum, "juror_timeout": jurorTimeout,
		"max_duration": maxDuration, "max_substitutes": subs, "on_timeout": onTimeout}
	resp, err := ops.Do(ctx, "PUT", "/v1/policies/"+kind, p)
	must(t, resp, err, 200)
	t.Cleanup(func() {
		def := map[string]any{"jury_size": 5, "quorum": 3, "juror_timeout": "24h", "max_duration": "72h",
			"max_substitutes": 5, "on_timeout": "undecided"}
		resp, err := ops.Do(context.Background(), "PUT", "/v1/policies/"+kind, def)
		if err != nil || resp.Status != 200 {
			t.Errorf("restore policy %s: %v %v", kind, resp, err)
		}
	})
}

// redis runs redis-cli against the platform's Redis.
func redis(t testing.TB, args ...string) string {
	t.Helper()
	host, port, _ := strings.Cut(os.Getenv("GOVERN_REDIS_ADDR"), ":")
	out, err := exec.Command("redis-cli", append([]string{"-h", host, "-p", port, "--raw"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// topicData decodes, in stream order, the data of every cloud event on
// topic's stream that is about caseID (its data's case_id).
func topicData[T any](t testing.TB, topic, caseID string) []T {
	t.Helper()
	var out []T
	for _, line := range strings.Split(redis(t, "XRANGE", topic, "-", "+"), "\n") {
		if !strings.Contains(line, caseID) {
			continue
		}
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		var about struct {
			CaseID string `json:"case_id"`
		}
		if json.Unmarshal([]byte(line), &env) != nil || json.Unmarshal(env.Data, &about) != nil || about.CaseID != caseID {
			continue
		}
		var v T
		if err := json.Unmarshal(env.Data, &v); err != nil {
			t.Fatalf("%s: the data of an event about %s does not decode: %v: %s", topic, caseID, err, env.Data)
		}
		out = append(out, v)
	}
	return out
}

// messagesMentioning counts the entries of a topic's stream that contain s.
func messagesMentioning(t testing.TB, topic, s string) int {
	return strings.Count(redis(t, "XRANGE", topic, "-", "+"), s)
}

// waitDrained waits until every consumer group of topic has read and
// acknowledged every message (lag 0, nothing pending).
func waitDrained(t *testing.T, topic string) {
	t.Helper()
	// A message an earlier test left in flight (a sidecar or Redis killed
	// under it) is redelivered after the component's processingTimeout
	// (30 s) at its next redeliverInterval (10 s): the wait covers that.
	eventually(t, topic+" drained", 45*time.Second, func() (bool, string) {
		out := redis(t, "XINFO", "GROUPS", topic)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		groups, drained := 0, true
		for i := 0; i+1 < len(lines); i++ {
			switch lines[i] {
			case "pending", "lag":
				if lines[i] == "pending" {
					groups++
				}
				if n, err := strconv.Atoi(strings.TrimSpace(lines[i+1])); err != nil || n != 0 {
					drained = false
				}
			}
		}
		return groups > 0 && drained, out
	})
}

func timelineKinds(c map[string]any) map[string]int {
	n := map[string]int{}
	events, _ := c["timeline"].([]any)
	for _, e := range events {
		n[e.(map[string]any)["event"].(string)]++
	}
	return n
}

// A juror who never answers is released at juror_timeout and replaced; the
// round survives a kill -9 of the report app in between, and decides.
func TestSilentJurorIsReplacedAndCaseDecides(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "comment", 3, 2, "3s", "2m", 2, "undecided")
	rc, _ := fileReport(t, ctx, "comment")
	jurors := jurorsOf(t, ctx, rc.CaseID, 3)
	resp, err := vote(ctx, rc.CaseID, jurors[0], "uphold")
	must(t, resp, err, 202)
	resp, err = vote(ctx, rc.CaseID, jurors[1], "reject")
	must(t, resp, err, 202)

	c := caseOf(t, ctx, rc.CaseID)
	for _, e := range c["timeline"].([]any) {
		if id := e.(map[string]any)["juror_id"]; id != nil {
			t.Fatalf("open case timeline reveals juror %v", id)
		}
	}
	if err := plat.Kill("report"); err != nil {
		t.Fatal(err)
	}
	if err := plat.StartApp("report"); err != nil {
		t.Fatal(err)
	}
	if err := plat.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}

	substitute := substituteOf(t, ctx, rc.CaseID, 30*time.Second, jurors[0], jurors[1], jurors[2])
	resp, err = vote(ctx, rc.CaseID, jurors[2], "uphold")
	if must(t, resp, err, 409); resp.ErrorCode() != "juror_released" {
		t.Fatalf("late vote of released juror: %s", resp)
	}
	// The substitute's task is visible a moment before the report service
	// records the seat: meanwhile their vote is 409 jury_not_ready, never 403.
	eventually(t, "substitute's vote accepted", 10*time.Second, func() (bool, string) {
		resp, err = vote(ctx, rc.CaseID, substitute, "uphold")
		if err == nil && resp.Status == 409 && resp.ErrorCode() == "jury_not_ready" {
			return false, resp.String()
		}
		must(t, resp, err, 202)
		return true, ""
	})
	c = waitClosed(t, ctx, rc.CaseID, 20*time.Second)
	if c["status"] != "upheld" {
		t.Fatalf("case %v, want upheld", c)
	}
	kinds := timelineKinds(c)
	if kinds["timed_out"] != 1 || kinds["substituted"] != 1 || kinds["voted"] != 3 || kinds["decided"] != 1 || kinds["reminded"] < 1 {
		t.Fatalf("timeline %v", c["timeline"])
	}
	if js := c["jurors"].([]any); len(js) != 4 {
		t.Fatalf("jurors %v, want 3 drawn + 1 substitute", js)
	}
}

// When substitutes run out, the case closes at max_duration as on_timeout says.
func TestSubstitutesRunOutAndCaseEscalatesAtMaxDuration(t *testing.T) {
	ctx := ctxT(t)
	// max_duration leaves the substitute's 2 s after a sidecar restart of
	// up to ~7 s: at 7 s, a restart of 5 s had the substitute's deadline
	// and the case's fall 0.1 s apart, and the case closed first.
	setPolicy(t, ctx, "review", 3, 2, "2s", "12s", 1, "escalate")
	rc, _ := fileReport(t, ctx, "review")
	jurorsOf(t, ctx, rc.CaseID, 3)
	// The sidecar dies mid-round; timers and deadlines still hold after restart.
	if err := plat.Kill("report-dapr"); err != nil {
		t.Fatal(err)
	}
	if err := plat.StartSidecar("report"); err != nil {
		t.Fatal(err)
	}
	c := waitClosed(t, ctx, rc.CaseID, 30*time.Second)
	if c["status"] != "escalated" {
		t.Fatalf("case %v, want escalated", c)
	}
	kinds := timelineKinds(c)
	if kinds["timed_out"] != 4 || kinds["substituted"] != 1 || kinds["voted"] != 0 {
		t.Fatalf("timeline %v, want 4 timeouts and 1 substitute", c["timeline"])
	}
	decided, _ := time.Parse(time.RFC3339Nano, c["decided_at"].(string))
	deadline, _ := time.Parse(time.RFC3339Nano, c["deadline"].(string))
	if decided.Before(deadline) {
		t.Fatalf("closed at %s, before the deadline %s", decided, deadline)
	}
}

// The last votes racing at quorum produce one decision and one case-decided.
func TestRacingFinalVotesDecideOnce(t *testing.T) {
	ctx := ctxT(t)
	rc, _ := fileReport(t, ctx, "post")
	jurors := jurorsOf(t, ctx, rc.CaseID, 5)
	for _, j := range jurors[:2] {
		resp, err := vote(ctx, rc.CaseID, j, "uphold")
		must(t, resp, err, 202)
	}
	var wg sync.WaitGroup
	statuses := make([]int, 3)
	for i, j := range jurors[2:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := vote(ctx, rc.CaseID, j, "uphold")
			if err == nil {
				statuses[i] = resp.Status
			}
		}()
	}
	wg.Wait()
	c := waitClosed(t, ctx, rc.CaseID, 20*time.Second)
	tally := c["tally"].(map[string]any)
	accepted := 0
	for _, s := range statuses {
		if s == 202 {
			accepted++
		} else if s != 409 {
			t.Fatalf("racing vote answered %d", s)
		}
	}
	if c["status"] != "upheld" || int(tally["uphold"].(float64)) != 2+accepted {
		t.Fatalf("case %v with %d accepted racing votes", c, accepted)
	}
	eventually(t, "case-decided published", 20*time.Second, func() (bool, string) {
		return messagesMentioning(t, "case-decided", `"case_id":"`+rc.CaseID+`"`) > 0, "not yet on the stream"
	})
	waitDrained(t, "case-decided")
	if n := messagesMentioning(t, "case-decided", `"case_id":"`+rc.CaseID+`"`); n != 1 {
		t.Fatalf("%d case-decided messages for the case, want 1", n)
	}
}

// The same idempotency key through HTTP and through the reports topic files
// one report; malformed messages go to the dead-letter topic with a reason.
func TestTopicIntakeIsIdempotentAndDeadLettersMalformedMessages(t *testing.T) {
	ctx := ctxT(t)
	reporter := unique("reporter")
	key := unique("key")
	body := map[string]any{"reporter_id": reporter, "reason": "fake",
		"target": map[string]any{"kind": "chat", "id": unique("chat"), "owner_id": unique("owner")}}
	first, err := plat.As("report", reporter).Do(ctx, "POST", "/v1/reports", body, "Idempotency-Key", key)
	must(t, first, err, 202)
	var rc receipt
	_ = first.JSON(&rc)

	sidecar := plat.Sidecar("report")
	msg := map[string]any{"idempotency_key": key}
	for k, v := range body {
		msg[k] = v
	}
	badKind := unique("bad-kind")
	for _, m := range []any{msg, msg,
		map[string]any{"reporter_id": reporter, "reason": "x", "idempotency_key": badKind,
			"target": map[string]any{"kind": "video", "id": "v1", "owner_id": "o1"}},
		map[string]any{"reporter_id": 42}} {
		if err := sidecar.Publish(ctx, "pubsub", "reports", m); err != nil {
			t.Fatal(err)
		}
	}
	waitDrained(t, "reports")
	if got := caseOf(t, ctx, rc.CaseID)["report_count"]; got != float64(1) {
		t.Fatalf("report_count %v after the same key on HTTP and topic, want 1", got)
	}
	dead := redis(t, "XRANGE", "reports-dead-letter", "-", "+")
	if !strings.Contains(dead, badKind) || !strings.Contains(dead, "target.kind must be one of") || !strings.Contains(dead, "malformed JSON") {
		t.Fatalf("dead-letter stream lacks the refused messages and reasons:\n%s", dead)
	}
	fresh := map[string]any{"reporter_id": reporter, "reason": "fake",
		"target": map[string]any{"kind": "chat", "id": unique("chat"), "owner_id": unique("owner")}}
	again, err := plat.As("report", reporter).Do(ctx, "POST", "/v1/reports", fresh, "Idempotency-Key", badKind)
	must(t, again, err, 202) // the refused message left nothing behind under its key
}

// A policy change mid-round leaves that round alone; the next round uses it.
func TestPolicyChangeAppliesToNextRoundOnly(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "chat", 3, 2, "1h", "2h", 1, "undecided")
	first, _ := fileReport(t, ctx, "chat")
	jurors := jurorsOf(t, ctx, first.CaseID, 3)
	setPolicy(t, ctx, "chat", 5, 3, "1h", "2h", 1, "undecided")
	second, _ := fileReport(t, ctx, "chat")
	if got := caseOf(t, ctx, second.CaseID)["jurors_needed"]; got != float64(5) {
		t.Fatalf("new round jurors_needed %v, want 5", got)
	}
	for _, j := range jurors[:2] {
		resp, err := vote(ctx, first.CaseID, j, "reject")
		must(t, resp, err, 202)
	}
	c := waitClosed(t, ctx, first.CaseID, 20*time.Second)
	if c["status"] != "rejected" || c["jurors_needed"] != float64(3) {
		t.Fatalf("first round %v, want rejected under its own 3/2 policy", c)
	}
}

// Reports of a target decided moments ago join that closed case.
func TestReportsDuringCooldownJoinTheClosedCase(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "comment", 3, 2, "1h", "2h", 1, "undecided")
	target := map[string]any{"kind": "comment", "id": unique("comment"), "owner_id": unique("owner")}
	reporter := unique("reporter")
	resp, err := plat.As("report", reporter).Do(ctx, "POST", "/v1/reports",
		map[string]any{"reporter_id": reporter, "target": target, "reason": "insult"})
	must(t, resp, err, 202)
	var rc receipt
	_ = resp.JSON(&rc)
	jurors := jurorsOf(t, ctx, rc.CaseID, 3)
	for _, j := range jurors[:2] {
		resp, err := vote(ctx, rc.CaseID, j, "uphold")
		must(t, resp, err, 202)
	}
	waitClosed(t, ctx, rc.CaseID, 20*time.Second)
	late := unique("reporter")
	resp, err = plat.As("report", late).Do(ctx, "POST", "/v1/reports",
		map[string]any{"reporter_id": late, "target": target, "reason": "insult too"})
	must(t, resp, err, 202)
	var joined receipt
	_ = resp.JSON(&joined)
	if joined.CaseID != rc.CaseID || joined.Status != "upheld" {
		t.Fatalf("report in cool-down got %+v, want to join closed case %s", joined, rc.CaseID)
	}
	resp, err = plat.As("report", reporter).Do(ctx, "POST", "/v1/reports",
		map[string]any{"reporter_id": reporter, "target": target, "reason": "again"})
	must(t, resp, err, 409)
}

// A policy written by another replica reaches this one through its sidecar's
// configuration subscription, without a restart.
func TestPolicyChangeReachesReplicasLive(t *testing.T) {
	ctx := ctxT(t)
	setPolicy(t, ctx, "item", 3, 2, "1h", "2h", 1, "undecided")
	db, err := pgx.Connect(ctx, plat.DatabaseURL("report"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	// What another replica's PUT writes: the setting row, one version up.
	_, err = db.Exec(ctx, `UPDATE settings SET version = (version::bigint + 1)::text,
		value = (value::jsonb || '{"jury_size": 7, "quorum": 4}')::text WHERE key = 'policy.item'`)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "policy change seen by the app", 10*time.Second, func() (bool, string) {
		resp, err := plat.As("report", "anyone").Do(ctx, "GET", "/v1/policies", nil)
		if err != nil {
			return false, err.Error()
		}
		var list struct {
			Items []struct {
				Kind     string `json:"kind"`
				JurySize int    `json:"jury_size"`
				Quorum   int    `json:"quorum"`
			} `json:"items"`
		}
		_ = resp.JSON(&list)
		for _, p := range list.Items {
			if p.Kind == "item" {
				return p.JurySize == 7 && p.Quorum == 4, fmt.Sprintf("item policy %+v", p)
			}
		}
		return false, resp.String()
	})
}

// A jury is drawn whole or not at all: while the pool is too small the case
// stays pending (and says so in its timeline); once enough jurors exist the
// retried draw succeeds.
func TestCaseWaitsPendingUntilThePoolCanSeatAWholeJury(t *testing.T) {
	ctx := ctxT(t)
	jury := len(pool) + 2
	setPolicy(t, ctx, "item", jury, jury/2+1, "1h", "2h", 0, "undecided")
	rc, _ := fileReport(t, ctx, "item")
	eventually(t, "pool_too_small recorded", 20*time.Second, func() (bool, string) {
		c := caseOf(t, ctx, rc.CaseID)
		return c["status"] == "pending" && timelineKinds(c)["pool_too_small"] == 1, fmt.Sprint(c["status"], c["timeline"])
	})
	if err := seedPool(ctx, 2); err != nil {
		t.Fatal(err)
	}
	jurorsOf(t, ctx, rc.CaseID, jury)
}

func TestCaseQueriesValidateAndPage(t *testing.T) {
	ctx := ctxT(t)
	cl := plat.As("report", "ops-lister", "ops")
	for _, q := range []string{"?status=open", "?kind=video", "?limit=ten", "?created_after=yesterday", "?cursor=not-ours"} {
		resp, err := cl.Do(ctx, "GET", "/v1/cases"+q, nil)
		if must(t, resp, err, 400); resp.ErrorCode() == "" {
			t.Fatalf("%s: %s", q, resp)
		}
	}
	resp, err := cl.Do(ctx, "GET", "/v1/reports/r_unknown", nil)
	must(t, resp, err, 404)
	resp, err = cl.Do(ctx, "GET", "/v1/cases/c_unknown", nil)
	must(t, resp, err, 404)

	seen := map[string]bool{}
	cursor := ""
	for page := 0; page < 3; page++ {
		resp, err := cl.Do(ctx, "GET", "/v1/cases?limit=2&cursor="+cursor, nil)
		must(t, resp, err, 200)
		var list struct {
			Items []struct {
				CaseID string `json:"case_id"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		_ = resp.JSON(&list)
		if len(list.Items) != 2 || list.NextCursor == "" {
			t.Fatalf("page %d: %s", page, resp)
		}
		for _, it := range list.Items {
			if seen[it.CaseID] {
				t.Fatalf("case %s listed twice across pages", it.CaseID)
			}
			seen[it.CaseID] = true
		}
		cursor = list.NextCursor
	}
	resp, err = cl.Do(ctx, "GET", "/v1/cases?status=upheld&kind=post&limit=500", nil)
	must(t, resp, err, 200)
	var list struct {
		Items []map[string]any `json:"items"`
	}
	_ = resp.JSON(&list)
	for _, c := range list.Items {
		if c["status"] != "upheld" || c["target"].(map[string]any)["kind"] != "post" {
			t.Fatalf("filter returned %v", c)
		}
	}
}
