package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// NUL bytes and control characters in ids, reasons, evidence, comments and
// path ids are a 400 over HTTP and a dead letter on the reports topic: never
// a 500, never a message retried forever, nothing stored.
func TestNULAndControlCharactersAreRefusedNotStored(t *testing.T) {
	ctx := ctxT(t)
	reporter := unique("reporter-nul")
	cl := plat.As("report", reporter)
	report := func(targetID, owner, reason string, evidence ...string) map[string]any {
		m := map[string]any{"reporter_id": reporter, "reason": reason,
			"target": map[string]any{"kind": "comment", "id": targetID, "owner_id": owner}}
		if evidence != nil {
			m["evidence"] = evidence
		}
		return m
	}
	id, owner := unique("comment"), unique("owner")
	bad := map[string]map[string]any{
		"NUL in target id":          report(id+"\x00", owner, "insult"),
		"control char in target id": report(id+"\x01", owner, "insult"),
		"escape in owner id":        report(id, owner+"\x1b", "insult"),
		"NUL in reason":             report(id, owner, "insult\x00"),
		"bell in reason":            report(id, owner, "insult\a"),
		"NUL in evidence":           report(id, owner, "insult", "https://x.example/\x00"),
		"control char in evidence":  report(id, owner, "insult", "see\x02this"),
	}
	for name, body := range bad {
		resp, err := cl.Do(ctx, "POST", "/v1/reports", body)
		if must(t, resp, err, 400); resp.ErrorCode() != "invalid_argument" {
			t.Fatalf("%s: %s", name, resp)
		}
	}
	resp, err := cl.Do(ctx, "POST", "/v1/reports", report(id, owner, "insult"), "Idempotency-Key", "key\x01")
	if err == nil { // Go refuses to send some control characters in headers at all
		must(t, resp, err, 400)
	}
	ops := plat.As("report", "ops-nul", "ops")
	for _, path := range []string{"/v1/cases/c_%01x", "/v1/reports/r_%1bx", "/v1/cases/c_%00", "/v1/cases/%20c_x"} {
		resp, err := ops.Do(ctx, "GET", path, nil)
		must(t, resp, err, 400)
	}

	// The comment of a real juror's vote.
	rc, _ := fileReport(t, ctx, "post")
	jurors := jurorsOf(t, ctx, rc.CaseID, 5)
	juror := plat.As("report", jurors[0])
	for _, comment := range []string{"nul\x00", "clear\x1b[2J", "\x07"} {
		resp, err := juror.Do(ctx, "POST", "/v1/cases/"+rc.CaseID+"/votes", map[string]any{"decision": "uphold", "comment": comment})
		must(t, resp, err, 400)
	}
	resp, err = juror.Do(ctx, "POST", "/v1/cases/%01/votes", map[string]any{"decision": "uphold"})
	must(t, resp, err, 400)
	if got := caseOf(t, ctx, rc.CaseID)["votes_cast"]; got != float64(0) {
		t.Fatalf("refused votes were stored: votes_cast %v", got)
	}
	resp, err = juror.Do(ctx, "POST", "/v1/cases/"+rc.CaseID+"/votes", map[string]any{"decision": "uphold", "comment": "fake\nlisting"})
	must(t, resp, err, 202)

	// The same bodies on the topic: each is dead-lettered with its reason.
	keys := map[string]string{}
	for name, body := range bad {
		key := unique("nul-key")
		keys[key] = name
		body["idempotency_key"] = key
		publishRaw(t, ctx, "reports", mustJSON(t, body))
	}
	badKey := unique("bad key") // a space: not a key any client can send
	publishRaw(t, ctx, "reports", mustJSON(t, map[string]any{"reporter_id": reporter, "reason": "insult",
		"idempotency_key": badKey, "target": map[string]any{"kind": "comment", "id": id, "owner_id": owner}}))
	waitDrained(t, "reports")
	for key, name := range keys {
		if d := deadLetters(t, key); len(d) != 1 {
			t.Fatalf("message with %s: %d dead letters, want 1", name, len(d))
		}
	}
	if d := deadLetters(t, badKey); len(d) != 1 || !strings.Contains(d[0], "idempotency_key must be") {
		t.Fatalf("message with an invalid idempotency key: dead letters %v", d)
	}
	if n := count(t, ctx, "report", `SELECT count(*) FROM reports WHERE reporter_id = $1`, reporter); n != 0 {
		t.Fatalf("%d reports stored from refused input", n)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
