package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// setDailyCap sets the daily report cap for this test and restores the
// default after.
func setDailyCap(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	ops := plat.As("report", "ops-limits", "ops")
	resp, err := ops.Do(ctx, "PUT", "/v1/intake-limits", map[string]any{"daily_report_cap": n})
	must(t, resp, err, 200)
	if got := resp.Map()["daily_report_cap"]; got != float64(n) {
		t.Fatalf("PUT answered %s", resp)
	}
	t.Cleanup(func() {
		resp, err := ops.Do(context.Background(), "PUT", "/v1/intake-limits", map[string]any{"daily_report_cap": 50})
		if err != nil || resp.Status != 200 {
			t.Errorf("restore the daily cap: %v %v", resp, err)
		}
	})
}

func reportBodyFor(reporter string) map[string]any {
	return map[string]any{"reporter_id": reporter, "reason": "counterfeit goods",
		"target": map[string]any{"kind": "item", "id": unique("target"), "owner_id": unique("owner")}}
}

// The daily cap is a live setting that only operators change, validated; a
// reporter above it gets 429 with Retry-After on HTTP and nothing is stored,
// their capped topic message goes to the dead letter with the reason (once,
// not retried), replays of earlier requests still answer, other reporters
// are not affected, and raising the cap lets the reporter file again.
func TestDailyReportCapIsLiveAnd429sAndDeadLettersAboveIt(t *testing.T) {
	ctx := ctxT(t)
	ops := plat.As("report", "ops-limits", "ops")
	setDailyCap(t, ctx, 2)
	for _, tc := range []struct {
		caller string
		body   any
		status int
	}{
		{"user", map[string]any{"daily_report_cap": 9}, 403},
		{"ops", map[string]any{"daily_report_cap": -1}, 400},
		{"ops", map[string]any{"daily_report_cap": 100001}, 400},
		{"ops", map[string]any{"daily_report_cap": "9"}, 400},
		{"ops", map[string]any{"daily_report_cap": 1.5}, 400},
		{"ops", map[string]any{}, 400},
		{"ops", map[string]any{"daily_report_cap": 9, "extra": true}, 400},
		{"ops", "not an object", 400},
	} {
		caller := ops
		if tc.caller == "user" {
			caller = plat.As("report", unique("user"))
		}
		resp, err := caller.Do(ctx, "PUT", "/v1/intake-limits", tc.body)
		must(t, resp, err, tc.status)
	}
	resp, err := plat.As("report", unique("user")).Do(ctx, "GET", "/v1/intake-limits", nil)
	if must(t, resp, err, 200).Map()["daily_report_cap"] != 2.0 {
		t.Fatalf("refused changes changed the cap: %s", resp)
	}

	r := unique("reporter")
	key := unique("key")
	first := reportBodyFor(r)
	resp, err = plat.As("report", r).Do(ctx, "POST", "/v1/reports", first, "Idempotency-Key", key)
	must(t, resp, err, 202)
	resp, err = plat.As("report", r).Do(ctx, "POST", "/v1/reports", reportBodyFor(r))
	must(t, resp, err, 202)
	resp, err = plat.As("report", r).Do(ctx, "POST", "/v1/reports", reportBodyFor(r))
	must(t, resp, err, 429)
	if code := resp.Map()["error"].(map[string]any)["code"]; code != "daily_cap_reached" {
		t.Fatalf("capped report: %s", resp)
	}
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 86400 {
		t.Fatalf("Retry-After %q, want whole seconds until the UTC day ends", resp.Header.Get("Retry-After"))
	}
	resp, err = plat.As("report", r).Do(ctx, "POST", "/v1/reports", first, "Idempotency-Key", key)
	must(t, resp, err, 200) // a replay is not a new report
	other := unique("reporter")
	resp, err = plat.As("report", other).Do(ctx, "POST", "/v1/reports", reportBodyFor(other))
	must(t, resp, err, 202)

	topicKey := unique("capped-key")
	msg := reportBodyFor(r)
	msg["idempotency_key"] = topicKey
	publishRaw(t, ctx, "reports", mustJSON(t, msg))
	waitDrained(t, "reports")
	dead := deadLetters(t, topicKey)
	if len(dead) != 1 || !strings.Contains(dead[0], "daily report cap reached") {
		t.Fatalf("dead letters of the capped message: %q", dead)
	}
	wantRecord(t, reporterRecord(t, ctx, r, r), r, 2, 0, 0, 0.5)

	setDailyCap(t, ctx, 3)
	resp, err = plat.As("report", r).Do(ctx, "POST", "/v1/reports", reportBodyFor(r))
	must(t, resp, err, 202)
	resp, err = plat.As("report", r).Do(ctx, "POST", "/v1/reports", reportBodyFor(r))
	must(t, resp, err, 429)
	wantRecord(t, reporterRecord(t, ctx, r, r), r, 3, 0, 0, 0.5)
}
