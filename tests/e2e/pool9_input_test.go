package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/tests/platform"
)

// rowCounts sums what the reviewer and reward services have stored, to show
// that refused input wrote nothing.
func rowCounts(t *testing.T, ctx context.Context, reviewer, reward *pgxpool.Pool) string {
	t.Helper()
	var a, b string
	err := reviewer.QueryRow(ctx, `SELECT concat_ws(' ', (SELECT count(*) FROM profiles), (SELECT count(*) FROM jurors),
		(SELECT count(*) FROM juror_transitions), (SELECT count(*) FROM draws), (SELECT count(*) FROM tasks),
		(SELECT count(*) FROM decided_cases))`).Scan(&a)
	if err != nil {
		t.Fatal(err)
	}
	err = reward.QueryRow(ctx, `SELECT concat_ws(' ', (SELECT count(*) FROM accounts), (SELECT count(*) FROM ledger_entries),
		(SELECT count(*) FROM catalog_items), (SELECT count(*) FROM redemptions), (SELECT count(*) FROM redemption_requests))`).Scan(&b)
	if err != nil {
		t.Fatal(err)
	}
	return "reviewer " + a + " · reward " + b
}

func openPool(t *testing.T, app string) *pgxpool.Pool {
	t.Helper()
	db, err := pgxpool.New(context.Background(), plat.DatabaseURL(app))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// cursorOf encodes v as the services encode list cursors.
func cursorOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Ids, tags, case ids, reasons, skus, names and keys that PostgreSQL cannot
// store or that no user could have (NUL, control characters, surrounding
// white space, too long, too many) are refused on every reviewer and reward
// body, path and query with a 400 and on every topic they consume with DROP
// (to the dead-letter topic), never a 500 or a retry, and nothing is written.
func TestBadTextIsRefusedEverywhereAndWritesNothing(t *testing.T) {
	ctx := ctxT(t)
	tag := unique("text")
	users := newJurors(t, ctx, 3, tag)
	usePoolTagged(t, ctx, tag)
	sku := addItem(t, ctx, 5, 10)
	revDB, rwdDB := openPool(t, "reviewer"), openPool(t, "reward")
	before := rowCounts(t, ctx, revDB, rwdDB)

	ops := plat.As("reviewer", "ops-text", "ops")
	rewardOps := plat.As("reward", "ops-text", "ops")
	internal := plat.AsSidecar("reviewer")
	draw := func(change func(m map[string]any)) map[string]any {
		m := map[string]any{"draw_id": unique("d"), "case_id": unique("text-case"), "size": 1, "reason": "spam",
			"target": map[string]any{"kind": "post", "id": unique("t"), "owner_id": "o"}, "deadline": "2030-01-01T00:00:00Z"}
		change(m)
		return m
	}
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("reporter-%d", i)
		}
		return out
	}
	profile := map[string]any{"tags": []string{tag}, "last_active_at": testerActivity().Format(time.RFC3339)}
	nulCursor := cursorOf(map[string]any{"t": "2026-01-01T00:00:00Z", "c": "c\x00"})
	cases := []struct {
		name   string
		c      platform.Client
		method string
		path   string
		body   any
	}{
		{"user id with a control character", ops, "PUT", "/v1/users/" + url.PathEscape("a\x01b") + "/profile", profile},
		{"user id with a leading space", ops, "PUT", "/v1/users/" + url.PathEscape(" lead") + "/profile", profile},
		{"user id too long", ops, "PUT", "/v1/users/" + strings.Repeat("u", 129) + "/profile", profile},
		{"tag with a control character", ops, "PUT", "/v1/users/" + users[0] + "/profile",
			map[string]any{"tags": []string{"bell\a"}, "last_active_at": testerActivity().Format(time.RFC3339)}},
		{"tag of white space", ops, "PUT", "/v1/users/" + users[0] + "/profile",
			map[string]any{"tags": []string{"   "}, "last_active_at": testerActivity().Format(time.RFC3339)}},
		{"tag with NUL", ops, "PUT", "/v1/users/" + users[0] + "/profile",
			map[string]any{"tags": []string{"a\x00"}, "last_active_at": testerActivity().Format(time.RFC3339)}},
		{"state reason with a control character", ops, "PUT", "/v1/reviewers/" + users[1] + "/state",
			map[string]any{"state": "paused", "reason": "x\x01"}},
		{"task cursor holding NUL", plat.As("reviewer", users[1]), "GET", "/v1/reviewers/" + users[1] + "/tasks?cursor=" + nulCursor, nil},
		{"draw id with a control character", internal, "POST", "/internal/juries", draw(func(m map[string]any) { m["draw_id"] = "d\x01" })},
		{"case id with a control character", internal, "POST", "/internal/juries", draw(func(m map[string]any) { m["case_id"] = "c\x04" })},
		{"target id with a control character", internal, "POST", "/internal/juries", draw(func(m map[string]any) {
			m["target"] = map[string]any{"kind": "post", "id": "t\x02", "owner_id": "o"}
		})},
		{"owner id with a leading space", internal, "POST", "/internal/juries", draw(func(m map[string]any) {
			m["target"] = map[string]any{"kind": "post", "id": "t", "owner_id": " o"}
		})},
		{"reason with a control character", internal, "POST", "/internal/juries", draw(func(m map[string]any) { m["reason"] = "r\x03" })},
		{"exclude entry with a control character", internal, "POST", "/internal/juries", draw(func(m map[string]any) { m["exclude"] = []string{"ok", "bad\x01"} })},
		{"1001 excluded users", internal, "POST", "/internal/juries", draw(func(m map[string]any) { m["exclude"] = many(1001) })},
		{"1001 conflicted users", internal, "POST", "/internal/juries", draw(func(m map[string]any) { m["conflicts"] = many(1001) })},
		{"task close with a bad case id", internal, "POST", "/internal/tasks/close",
			map[string]any{"case_id": "c\x05", "juror_id": users[0], "reason": "voted"}},
		{"catalogue cursor holding NUL", plat.As("reward", "anyone"), "GET", "/v1/catalog?cursor=" + cursorOf("a\x00"), nil},
		{"account of a user id with a leading space", plat.As("reward", " alice"), "GET", "/v1/accounts/" + url.PathEscape(" alice"), nil},
		{"redemption by a user id with a leading space", plat.As("reward", " bob"), "POST", "/v1/redemptions",
			map[string]any{"user_id": " bob", "sku": sku, "quantity": 1}},
		{"redemptions of a user id with a trailing space", rewardOps, "GET", "/v1/redemptions?user_id=" + url.QueryEscape("bob "), nil},
		{"item name of white space", rewardOps, "POST", "/v1/catalog", map[string]any{"sku": unique("s"), "name": "  ", "price": 1, "stock": 1}},
		{"sku with a control character", rewardOps, "PUT", "/v1/catalog/" + url.PathEscape("s\x01") + "/stock", map[string]any{"stock": 1}},
	}
	for _, tc := range cases {
		headers := []string{}
		if tc.path == "/v1/redemptions" && tc.method == "POST" {
			headers = append(headers, "Idempotency-Key", unique("key"))
		}
		resp, err := tc.c.Do(ctx, tc.method, tc.path, tc.body, headers...)
		if err != nil || resp.Status != 400 {
			t.Errorf("%s: %v %v, want 400", tc.name, resp, err)
		}
	}

	// Topics: the consumer's own answer, then the same through the broker.
	marker := unique("poison")
	now := time.Now().UTC().Format(time.RFC3339)
	decided := func(caseID, juror string) map[string]any {
		return map[string]any{"case_id": caseID, "decision": "upheld", "decided_at": now,
			"target": map[string]any{"kind": "post", "id": "t", "owner_id": "o"}, "tally": map[string]int{"uphold": 1, "reject": 0},
			"votes": []map[string]string{{"juror_id": juror, "decision": "uphold"}}, "jurors": []string{juror}}
	}
	events := []struct {
		name  string
		topic string
		apps  []string
		data  map[string]any
	}{
		{"activity of a user id holding NUL", "user-activity", []string{"reviewer"}, map[string]any{"user_id": "nul\x00" + marker + "-1", "at": now}},
		{"activity of a user id with a leading space", "user-activity", []string{"reviewer"}, map[string]any{"user_id": " " + marker + "-2", "at": now}},
		{"decision of a case id holding NUL", "case-decided", []string{"reviewer", "reward"}, decided("c\x00"+marker+"-3", users[2])},
		{"decision with a juror id with a leading space", "case-decided", []string{"reviewer", "reward"}, decided(marker+"-4", " "+marker)},
		{"decision with a juror id too long", "case-decided", []string{"reviewer", "reward"}, decided(marker+"-5", strings.Repeat("j", 129))},
	}
	for i, ev := range events {
		for _, app := range ev.apps {
			resp, err := plat.AsSidecar(app).Do(ctx, "POST", "/events/"+ev.topic,
				map[string]any{"id": fmt.Sprintf("%s-direct-%d", marker, i), "topic": ev.topic, "data": ev.data})
			if err != nil || resp.Status != 200 || resp.Map()["status"] != "DROP" {
				t.Errorf("%s, delivered to %s: %v %v, want 200 DROP", ev.name, app, resp, err)
			}
		}
		if err := plat.Sidecar("report").Publish(ctx, "pubsub", ev.topic, ev.data); err != nil {
			t.Fatal(err)
		}
	}
	for i, ev := range events {
		id := fmt.Sprintf("%s-%d", marker, i+1)
		eventually(t, ev.name+" dead-lettered by "+strings.Join(ev.apps, " and "), 30*time.Second, func() (bool, string) {
			n := messagesMentioning(t, "dead-letter", id)
			return n >= len(ev.apps), fmt.Sprintf("%d copies on dead-letter", n)
		})
	}
	if after := rowCounts(t, ctx, revDB, rwdDB); after != before {
		t.Fatalf("refused input wrote something: %s -> %s", before, after)
	}
}
