package e2e

import (
	"strings"
	"testing"

	"github.com/govern/tests/platform"
)

// Idempotency keys belong to their reporter, on HTTP and on the reports
// topic alike: another reporter's key files that reporter's own report, and
// the same reporter reusing a key with a different report is refused.
func TestIdempotencyKeysAreScopedPerReporter(t *testing.T) {
	ctx := ctxT(t)
	alice, bob, carol := unique("reporter-a"), unique("reporter-b"), unique("reporter-c")
	key := unique("shared-key")
	report := func(reporter, reason string) map[string]any {
		return map[string]any{"reporter_id": reporter, "reason": reason,
			"target": map[string]any{"kind": "review", "id": unique("review"), "owner_id": unique("seller")}}
	}
	first := report(alice, "fake review")
	resp, err := plat.As("report", alice).Do(ctx, "POST", "/v1/reports", first, "Idempotency-Key", key)
	must(t, resp, err, 202)
	var a receipt
	_ = resp.JSON(&a)

	resp, err = plat.As("report", bob).Do(ctx, "POST", "/v1/reports", report(bob, "spam"), "Idempotency-Key", key)
	must(t, resp, err, 202)
	var b receipt
	_ = resp.JSON(&b)
	if b.ReportID == a.ReportID || b.CaseID == a.CaseID {
		t.Fatalf("bob's report under alice's key got alice's receipt %+v", b)
	}

	resp, err = plat.As("report", alice).Do(ctx, "POST", "/v1/reports", first, "Idempotency-Key", key)
	must(t, resp, err, 200)
	var again receipt
	if _ = resp.JSON(&again); again.ReportID != a.ReportID {
		t.Fatalf("replay got %+v, want %+v", again, a)
	}
	changed := map[string]any{"reporter_id": alice, "reason": "a different complaint", "target": first["target"]}
	resp, err = plat.As("report", alice).Do(ctx, "POST", "/v1/reports", changed, "Idempotency-Key", key)
	if must(t, resp, err, 409); resp.ErrorCode() != "idempotency_key_reused" {
		t.Fatalf("reused key: %s", resp)
	}

	// The topic shares the namespace: alice's key with another report is a
	// dead letter, carol's message under the same key is filed, alice's
	// replay changes nothing.
	msg := func(body map[string]any) []byte {
		m := map[string]any{"idempotency_key": key}
		for k, v := range body {
			m[k] = v
		}
		return mustJSON(t, m)
	}
	publishRaw(t, ctx, "reports", msg(changed))
	publishRaw(t, ctx, "reports", msg(report(carol, "counterfeit")))
	publishRaw(t, ctx, "reports", msg(first))
	waitDrained(t, "reports")
	if d := deadLetters(t, "a different complaint"); len(d) != 1 || !strings.Contains(d[0], "idempotency_key_reused") {
		t.Fatalf("reused key on the topic: dead letters %v", d)
	}
	for who, want := range map[string]int{alice: 1, bob: 1, carol: 1} {
		if n := count(t, ctx, "report", `SELECT count(*) FROM reports WHERE reporter_id = $1 AND idempotency_key = $2`, who, key); n != want {
			t.Fatalf("%s has %d reports under the key, want %d", who, n, want)
		}
	}
}

// Two deliveries of one topic message, or retries of one request, can race
// past the key look-up; the one-report-per-reporter rule then fires before
// the key's. Every one of them must get the one report's receipt, never a
// 409 already_reported (chaos runs dead-lettered such redeliveries).
func TestConcurrentRepeatsOfOneReportAllGetItsReceipt(t *testing.T) {
	ctx := ctxT(t)
	reporter := unique("racer")
	key := unique("race-key")
	body := map[string]any{"reporter_id": reporter, "reason": "counterfeit goods",
		"target": map[string]any{"kind": "item", "id": unique("target"), "owner_id": unique("owner")}}
	const n = 16
	resps := concurrently(t, n, func(int) (platform.Response, error) {
		return plat.As("report", reporter).Do(ctx, "POST", "/v1/reports", body, "Idempotency-Key", key)
	})
	ids := map[string]bool{}
	for _, r := range resps {
		if r.Status != 202 && r.Status != 200 {
			t.Fatalf("a repeat answered %s", r)
		}
		ids[r.Map()["report_id"].(string)] = true
	}
	if len(ids) != 1 {
		t.Fatalf("%d report ids for one key: %v", len(ids), ids)
	}
}
