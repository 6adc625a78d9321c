package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/govern/kit/auth"
	"github.com/govern/tests/platform"
)

// The HTTP fuzz test drives every route of the three apps, public and
// sidecar-only, with random and malformed input: random bytes, deep nesting,
// huge numbers, NULs, wrong types, unknown fields, huge ids and queries, bad
// cursors, bad tokens and bad methods. Nothing may answer 5xx or drop a
// connection; input that is invalid by construction must be refused; and
// after the barrage a normal round still decides and credits.
//
// It is seeded (GOVERN_FUZZ_SEED, default 1) and bounded (GOVERN_FUZZ_REQUESTS,
// default 3000, and 60 s). A failure names the seed and the request number;
// GOVERN_FUZZ_ONLY=<number> sends that one request again.

// access says who may call a route.
type access int

const (
	anyone  access = iota // no token: health, metrics
	user                  // a bearer JWT
	ops                   // a bearer JWT with the ops role
	sidecar               // the app API token its sidecar sends
)

// fuzzRoute is one route of one app and how to fuzz it.
type fuzzRoute struct {
	app, method, path string // path as the router declares it (":param")
	access            access
	body              *template // nil: the route reads no body
	query             []string  // query parameters it reads
	// harmless: a valid request changes nothing other tests rely on, so the
	// fuzzer may send valid bodies too. Otherwise every body it sends is
	// invalid by construction and must be refused.
	harmless bool
	event    bool // body is a CloudEvent delivery
	config   bool // body is a configuration update
}

// field is one field of a body template: its valid value and the kind of
// value it holds, so that the fuzzer knows which mutations must be refused.
type field struct {
	name  string
	kind  string // id, text, enum, int, float, array, object, time, duration
	valid func(g *fuzzGen) any
	// ignored: the handler does not use the field, so a NUL in it need
	// not be refused.
	ignored bool
}

// template is a body and how its route decodes it.
type template struct {
	fields []field
	// strict: decoded with kit/httpx (unknown fields and NULs refused);
	// otherwise (topic messages) unknown fields are ignored.
	strict bool
}

func constant(v any) func(*fuzzGen) any { return func(*fuzzGen) any { return v } }

// oldActivity keeps every profile and activity the fuzzer writes outside
// the pool rule's week, so that no fuzzed user joins the juror pool.
func oldActivity(*fuzzGen) any {
	return time.Now().Add(-30 * 24 * time.Hour).UTC().Format(time.RFC3339)
}

func soon(*fuzzGen) any { return time.Now().Add(time.Hour).UTC().Format(time.RFC3339) }

var (
	targetValue = func(g *fuzzGen) any {
		return map[string]any{"kind": "item", "id": "fz-target-" + g.word(), "owner_id": g.fuzzUser()}
	}
	reportFields = []field{
		{name: "reporter_id", kind: "id", valid: func(g *fuzzGen) any { return g.caller }},
		{name: "target", kind: "object", valid: targetValue},
		{name: "reason", kind: "text", valid: constant("counterfeit goods")},
		{name: "evidence", kind: "array", valid: constant([]string{"https://example.invalid/1"})},
	}
	reportBody    = &template{strict: true, fields: reportFields}
	reportMessage = &template{fields: append(slices.Clone(reportFields),
		field{name: "idempotency_key", kind: "id", valid: func(g *fuzzGen) any { return "fz-key-" + g.word() }})}
	voteBody = &template{strict: true, fields: []field{
		{name: "decision", kind: "enum", valid: constant("uphold")},
		{name: "comment", kind: "text", valid: constant("looks fake")},
	}}
	resolutionBody = &template{strict: true, fields: []field{
		{name: "decision", kind: "enum", valid: constant("reject")},
		{name: "note", kind: "text", valid: constant("listing is genuine")},
	}}
	withdrawalBody = &template{strict: true, fields: []field{
		{name: "reason", kind: "text", valid: constant("listing deleted")},
	}}
	appealBody = &template{strict: true, fields: []field{
		{name: "reason", kind: "text", valid: constant("the jury misread the listing")},
	}}
	limitsBody = &template{strict: true, fields: []field{
		{name: "daily_report_cap", kind: "int", valid: constant(50)},
	}}
	policyBody = &template{strict: true, fields: []field{
		{name: "jury_size", kind: "int", valid: constant(3)}, {name: "quorum", kind: "int", valid: constant(2)},
		{name: "juror_timeout", kind: "duration", valid: constant("1h")}, {name: "max_duration", kind: "duration", valid: constant("24h")},
		{name: "max_substitutes", kind: "int", valid: constant(2)}, {name: "on_timeout", kind: "enum", valid: constant("undecided")},
		{name: "cooldown", kind: "duration", valid: constant("0s")},
	}}
	profileBody = &template{strict: true, fields: []field{
		{name: "tags", kind: "array", valid: constant([]string{"fz-tag"})},
		{name: "last_active_at", kind: "time", valid: oldActivity},
	}}
	stateBody = &template{strict: true, fields: []field{
		{name: "state", kind: "enum", valid: constant("paused")}, {name: "reason", kind: "text", valid: constant("holiday")},
	}}
	poolRuleBody = &template{strict: true, fields: []field{
		{name: "required_tags", kind: "array", valid: constant([]string{})}, {name: "active_within", kind: "duration", valid: constant("168h")},
	}}
	fatigueBody = &template{strict: true, fields: []field{
		{name: "max_per_day", kind: "int", valid: constant(100000)}, {name: "max_open", kind: "int", valid: constant(100000)},
		{name: "cooldown", kind: "duration", valid: constant("0s")},
	}}
	adjustmentBody = &template{strict: true, fields: []field{
		{name: "interval", kind: "duration", valid: constant("1s")}, {name: "window", kind: "int", valid: constant(20)},
		{name: "min_tasks", kind: "int", valid: constant(20)}, {name: "max_timeout_ratio", kind: "float", valid: constant(1.0)},
		{name: "min_agreement_rate", kind: "float", valid: constant(0.0)}, {name: "suspension", kind: "duration", valid: constant("1s")},
	}}
	drawBody = &template{strict: true, fields: []field{
		{name: "draw_id", kind: "id", valid: func(g *fuzzGen) any { return "fz-draw-" + g.word() }},
		{name: "case_id", kind: "id", valid: func(g *fuzzGen) any { return "fz-case-" + g.word() }},
		{name: "size", kind: "int", valid: constant(1)},
		{name: "exclude", kind: "array", valid: func(g *fuzzGen) any { return []string{g.fuzzUser()} }},
		{name: "conflicts", kind: "array", valid: constant([]string{})},
		{name: "target", kind: "object", valid: targetValue},
		{name: "reason", kind: "text", valid: constant("spam")},
		{name: "deadline", kind: "time", valid: soon},
	}}
	closeBody = &template{strict: true, fields: []field{
		{name: "case_id", kind: "id", valid: func(g *fuzzGen) any { return "fz-case-" + g.word() }},
		{name: "juror_id", kind: "id", valid: func(g *fuzzGen) any { return g.fuzzUser() }},
		{name: "reason", kind: "enum", valid: constant("released")},
	}}
	caseDecidedMessage = &template{fields: []field{
		{name: "case_id", kind: "id", valid: func(g *fuzzGen) any { return "fz-case-" + g.word() }},
		{name: "target", kind: "object", valid: targetValue, ignored: true},
		{name: "decision", kind: "enum", valid: constant("upheld")},
		{name: "decided_at", kind: "time", valid: func(*fuzzGen) any { return time.Now().UTC().Format(time.RFC3339Nano) }},
		{name: "tally", kind: "object", valid: constant(map[string]int{"uphold": 1, "reject": 0}), ignored: true},
		{name: "votes", kind: "array", valid: func(g *fuzzGen) any {
			return []map[string]string{{"juror_id": g.fuzzUser(), "decision": "uphold"}}
		}},
	}}
	activityMessage = &template{fields: []field{
		{name: "user_id", kind: "id", valid: func(g *fuzzGen) any { return g.fuzzUser() }},
		{name: "at", kind: "time", valid: oldActivity},
	}}
	rulesBody = &template{strict: true, fields: []field{
		{name: "points_per_vote", kind: "int", valid: constant(10)}, {name: "majority_bonus", kind: "int", valid: constant(5)},
		{name: "daily_cap", kind: "int", valid: constant(1000)},
	}}
	itemBody = &template{strict: true, fields: []field{
		{name: "sku", kind: "id", valid: func(g *fuzzGen) any { return "fz-sku-" + g.word() }},
		{name: "name", kind: "text", valid: constant("Fuzzed mug")},
		{name: "price", kind: "int", valid: constant(1)}, {name: "stock", kind: "int", valid: constant(1)},
	}}
	stockBody    = &template{strict: true, fields: []field{{name: "stock", kind: "int", valid: constant(3)}}}
	goldCaseBody = &template{strict: true, fields: []field{
		{name: "target", kind: "object", valid: targetValue},
		{name: "reason", kind: "text", valid: constant("fake review")},
		{name: "evidence", kind: "array", valid: constant([]string{"posted before the purchase"})},
		{name: "answer", kind: "enum", valid: constant("reject")},
	}}
	goldSeatBody = &template{strict: true, fields: []field{
		{name: "case_id", kind: "id", valid: func(g *fuzzGen) any { return "fz-case-" + g.word() }},
		{name: "juror_id", kind: "id", valid: func(g *fuzzGen) any { return g.fuzzUser() }},
		{name: "deadline", kind: "time", valid: soon},
	}}
	goldBody = &template{strict: true, fields: []field{
		{name: "gold_rate", kind: "float", valid: constant(0.0)}, {name: "min_gold", kind: "int", valid: constant(7)},
		{name: "min_gold_accuracy", kind: "float", valid: constant(0.02)},
	}}
	goldNoticeBody = &template{strict: true, fields: []field{
		{name: "case_id", kind: "id", valid: func(g *fuzzGen) any { return "fz-case-" + g.word() }},
		{name: "target", kind: "object", valid: targetValue},
		{name: "reason", kind: "text", valid: constant("fake review")},
		{name: "answer", kind: "enum", valid: constant("reject")},
	}}
	goldVoteBody = &template{strict: true, fields: []field{
		{name: "case_id", kind: "id", valid: func(g *fuzzGen) any { return "fz-case-" + g.word() }},
		{name: "juror_id", kind: "id", valid: func(g *fuzzGen) any { return g.fuzzUser() }},
		{name: "vote", kind: "enum", valid: constant("uphold")},
	}}
	goldCreditBody = &template{strict: true, fields: []field{
		{name: "case_id", kind: "id", valid: func(g *fuzzGen) any { return "fz-case-" + g.word() }},
		{name: "juror_id", kind: "id", valid: func(g *fuzzGen) any { return g.fuzzUser() }},
		{name: "vote", kind: "enum", valid: constant("uphold")},
		{name: "decision", kind: "enum", valid: constant("upheld")},
		{name: "decided_at", kind: "time", valid: func(*fuzzGen) any { return time.Now().UTC().Format(time.RFC3339Nano) }},
	}}
	redemptionBody = &template{strict: true, fields: []field{
		{name: "user_id", kind: "id", valid: func(g *fuzzGen) any { return g.caller }},
		{name: "sku", kind: "id", valid: func(g *fuzzGen) any { return g.known.sku }},
		{name: "quantity", kind: "int", valid: constant(1)},
	}}
)

// fuzzRoutes is THE list of routes: TestHTTPFuzz checks it against every
// app's router (kit/openapi's GET /internal/routes) before it starts.
var fuzzRoutes = []fuzzRoute{
	// Every app (kit/httpx, kit/openapi).
	{app: "report", method: "GET", path: "/healthz", access: anyone, harmless: true},
	{app: "report", method: "GET", path: "/livez", access: anyone, harmless: true},
	{app: "report", method: "GET", path: "/metrics", access: anyone, harmless: true},
	{app: "report", method: "GET", path: "/dapr/subscribe", access: sidecar, harmless: true},
	{app: "report", method: "GET", path: "/dapr/config", access: sidecar, harmless: true},
	{app: "report", method: "GET", path: "/internal/routes", access: sidecar, harmless: true},
	{app: "report", method: "GET", path: "/openapi.json", access: anyone, harmless: true},
	{app: "reviewer", method: "GET", path: "/healthz", access: anyone, harmless: true},
	{app: "reviewer", method: "GET", path: "/livez", access: anyone, harmless: true},
	{app: "reviewer", method: "GET", path: "/metrics", access: anyone, harmless: true},
	{app: "reviewer", method: "GET", path: "/dapr/subscribe", access: sidecar, harmless: true},
	{app: "reviewer", method: "GET", path: "/dapr/config", access: sidecar, harmless: true},
	{app: "reviewer", method: "GET", path: "/internal/routes", access: sidecar, harmless: true},
	{app: "reviewer", method: "GET", path: "/openapi.json", access: anyone, harmless: true},
	{app: "reward", method: "GET", path: "/healthz", access: anyone, harmless: true},
	{app: "reward", method: "GET", path: "/livez", access: anyone, harmless: true},
	{app: "reward", method: "GET", path: "/metrics", access: anyone, harmless: true},
	{app: "reward", method: "GET", path: "/dapr/subscribe", access: sidecar, harmless: true},
	{app: "reward", method: "GET", path: "/dapr/config", access: sidecar, harmless: true},
	{app: "reward", method: "GET", path: "/internal/routes", access: sidecar, harmless: true},
	{app: "reward", method: "GET", path: "/openapi.json", access: anyone, harmless: true},

	// Report.
	{app: "report", method: "POST", path: "/v1/reports", access: user, body: reportBody},
	{app: "report", method: "GET", path: "/v1/reports/:id", access: user, harmless: true},
	{app: "report", method: "GET", path: "/v1/reporters/:id", access: user, harmless: true},
	{app: "report", method: "GET", path: "/v1/cases", access: user, harmless: true,
		query: []string{"status", "kind", "created_after", "created_before", "limit", "cursor"}},
	{app: "report", method: "GET", path: "/v1/cases/:id", access: user, harmless: true},
	{app: "report", method: "POST", path: "/v1/cases/:id/votes", access: user, body: voteBody, harmless: true},
	{app: "report", method: "POST", path: "/v1/cases/:id/resolution", access: ops, body: resolutionBody},
	{app: "report", method: "POST", path: "/v1/cases/:id/withdrawal", access: ops, body: withdrawalBody},
	{app: "report", method: "POST", path: "/v1/cases/:id/appeals", access: user, body: appealBody},
	{app: "report", method: "GET", path: "/v1/policies", access: user, harmless: true},
	{app: "report", method: "PUT", path: "/v1/policies/:kind", access: ops, body: policyBody},
	{app: "report", method: "GET", path: "/v1/intake-limits", access: user, harmless: true},
	{app: "report", method: "PUT", path: "/v1/intake-limits", access: ops, body: limitsBody},
	{app: "report", method: "POST", path: "/events/reports", access: sidecar, body: reportMessage, event: true},
	{app: "report", method: "POST", path: "/v1/gold-cases", access: ops, body: goldCaseBody},
	{app: "report", method: "GET", path: "/v1/gold-cases", access: ops, harmless: true, query: []string{"limit", "cursor"}},
	{app: "report", method: "POST", path: "/internal/gold-seats", access: sidecar, body: goldSeatBody, harmless: true},
	{app: "report", method: "POST", path: "/configuration/report-config/:key", access: sidecar, config: true},

	// Reviewer.
	{app: "reviewer", method: "PUT", path: "/v1/users/:user_id/profile", access: ops, body: profileBody, harmless: true},
	{app: "reviewer", method: "GET", path: "/v1/reviewers/:user_id", access: user, harmless: true},
	{app: "reviewer", method: "PUT", path: "/v1/reviewers/:user_id/state", access: user, body: stateBody, harmless: true},
	{app: "reviewer", method: "GET", path: "/v1/reviewers/:user_id/tasks", access: user, harmless: true, query: []string{"limit", "cursor"}},
	{app: "reviewer", method: "GET", path: "/v1/reviewers/:user_id/stream", access: user, harmless: true},
	{app: "reviewer", method: "GET", path: "/v1/pool-rule", access: user, harmless: true},
	{app: "reviewer", method: "PUT", path: "/v1/pool-rule", access: ops, body: poolRuleBody},
	{app: "reviewer", method: "GET", path: "/v1/fatigue", access: user, harmless: true},
	{app: "reviewer", method: "PUT", path: "/v1/fatigue", access: ops, body: fatigueBody},
	{app: "reviewer", method: "GET", path: "/v1/adjustment", access: user, harmless: true},
	{app: "reviewer", method: "PUT", path: "/v1/adjustment", access: ops, body: adjustmentBody},
	{app: "reviewer", method: "POST", path: "/internal/juries", access: sidecar, body: drawBody},
	{app: "reviewer", method: "POST", path: "/internal/tasks/close", access: sidecar, body: closeBody, harmless: true},
	{app: "reviewer", method: "GET", path: "/v1/gold", access: user, harmless: true},
	{app: "reviewer", method: "PUT", path: "/v1/gold", access: ops, body: goldBody},
	{app: "reviewer", method: "POST", path: "/internal/gold-cases", access: sidecar, body: goldNoticeBody},
	{app: "reviewer", method: "POST", path: "/internal/gold-votes", access: sidecar, body: goldVoteBody, harmless: true},
	{app: "reviewer", method: "POST", path: "/events/case-decided", access: sidecar, body: caseDecidedMessage, event: true, harmless: true},
	{app: "reviewer", method: "POST", path: "/events/user-activity", access: sidecar, body: activityMessage, event: true, harmless: true},
	{app: "reviewer", method: "POST", path: "/configuration/reviewer-config/:key", access: sidecar, config: true},

	// Reward.
	{app: "reward", method: "GET", path: "/v1/accounts/:user_id", access: user, harmless: true, query: []string{"limit", "cursor"}},
	{app: "reward", method: "GET", path: "/v1/rules", access: user, harmless: true},
	{app: "reward", method: "PUT", path: "/v1/rules", access: ops, body: rulesBody},
	{app: "reward", method: "GET", path: "/v1/catalog", access: user, harmless: true, query: []string{"limit", "cursor"}},
	{app: "reward", method: "POST", path: "/v1/catalog", access: ops, body: itemBody, harmless: true},
	{app: "reward", method: "GET", path: "/v1/catalog/:sku", access: user, harmless: true},
	{app: "reward", method: "PUT", path: "/v1/catalog/:sku/stock", access: ops, body: stockBody, harmless: true},
	{app: "reward", method: "GET", path: "/v1/redemptions", access: user, harmless: true, query: []string{"user_id", "limit", "cursor"}},
	{app: "reward", method: "POST", path: "/v1/redemptions", access: user, body: redemptionBody, harmless: true},
	{app: "reward", method: "POST", path: "/events/case-decided", access: sidecar, body: caseDecidedMessage, event: true, harmless: true},
	{app: "reward", method: "POST", path: "/internal/gold-credits", access: sidecar, body: goldCreditBody},
	{app: "reward", method: "POST", path: "/configuration/reward-config/:key", access: sidecar, config: true},
}

// known are values that exist, so that some fuzzed requests get past the
// lookups into the deeper code.
type known struct {
	run, caseID, reportID, sku string
}

// fuzzGen makes one request's random choices; each request has its own
// source, seeded by the run's seed and the request's number.
type fuzzGen struct {
	r      *rand.Rand
	known  known
	caller string // the token's subject
}

func (g *fuzzGen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *fuzzGen, xs ...T) T { return xs[g.r.IntN(len(xs))] }

func (g *fuzzGen) word() string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 1+g.r.IntN(12))
	for i := range b {
		b[i] = letters[g.r.IntN(len(letters))]
	}
	return string(b)
}

// fuzzUser is one of a few users only this test uses: never in the pool.
func (g *fuzzGen) fuzzUser() string { return fmt.Sprintf("fz-u-%s-%d", g.known.run, g.r.IntN(5)) }

// nasty are strings that have broken services before.
var nasty = []string{"", " ", "\x00", "a\x00b", "\u202egnp.exe", "😀", "\ufeff", "\u00ad", "\r\n", "\t", "\x7f", "\u0085",
	strings.Repeat("x", 129), strings.Repeat("é", 2001), "'; DROP TABLE cases; --", "../../etc/passwd", "%00", `\`, `"`,
	"{}", "null", "true", "0", "-1", "1e309", "NaN", "\xff\xfe", "\xed\xa0\x80", "<script>alert(1)</script>", "${jndi:ldap://x}"}

// rawJSON is inserted into a body verbatim.
type rawJSON string

func (g *fuzzGen) encode(v any) string {
	if r, ok := v.(rawJSON); ok {
		return string(r)
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

type kv struct {
	k string
	v any
}

func (g *fuzzGen) object(pairs []kv) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(g.encode(p.k) + ":" + g.encode(p.v))
	}
	b.WriteByte('}')
	return b.String()
}

func (g *fuzzGen) randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	return b
}

func (g *fuzzGen) deepNesting() []byte {
	depth := pick(g, 100, 10_000, 200_000)
	open, closing := pick(g, `[`, `{"a":`), pick(g, `]`, `}`)
	body := strings.Repeat(open, depth)
	if g.chance(0.5) {
		body += "1" + strings.Repeat(closing, depth)
	}
	return []byte(body)
}

// wrongType is a value of another JSON type than kind holds.
func (g *fuzzGen) wrongType(kind string) rawJSON {
	switch kind {
	case "int", "float":
		return pick[rawJSON](g, `"12"`, `[]`, `{"n":1}`, `true`)
	case "array":
		return pick[rawJSON](g, `"x"`, `1`, `{"a":"b"}`, `true`)
	case "object":
		return pick[rawJSON](g, `"x"`, `1`, `[]`, `true`)
	}
	return pick[rawJSON](g, `12345`, `[]`, `{"a":1}`, `true`, `1e400`)
}

// hugeNumber is a number that cannot be read as kind's type.
func (g *fuzzGen) hugeNumber(kind string) rawJSON {
	if kind == "float" {
		return pick[rawJSON](g, `1e400`, `-1e400`)
	}
	return pick[rawJSON](g, `1e400`, `99999999999999999999999`, `-9223372036854775809`, `1.5`, `1e3`)
}

// mutate builds a body from t. refused says whether the route must refuse it
// whatever its handler does: the fuzzer only sends bodies it knows to be
// refused to routes where a valid request would change what other tests
// rely on.
func (g *fuzzGen) mutate(t *template, harmless bool) (body []byte, refused bool) {
	pairs := make([]kv, len(t.fields))
	for i, f := range t.fields {
		pairs[i] = kv{f.name, f.valid(g)}
	}
	valid := g.object(pairs)
	choices := []string{"bytes", "nesting", "wrong type", "number", "nul", "empty", "truncated", "trailing", "oversize"}
	if t.strict {
		choices = append(choices, "unknown field", "nested unknown field")
	}
	if harmless {
		choices = append(choices, "valid", "valid", "nasty", "nasty", "unknown field")
	}
	withField := func(kinds ...string) (int, bool) {
		for _, i := range g.r.Perm(len(t.fields)) {
			if (kinds == nil || slices.Contains(kinds, t.fields[i].kind)) && !t.fields[i].ignored {
				return i, true
			}
		}
		return 0, false
	}
	at, _ := withField() // a field the handler reads: breaking it must be refused
	switch choice := pick(g, choices...); choice {
	case "valid":
		return []byte(valid), false
	case "bytes":
		return g.randomBytes(g.r.IntN(2048)), true
	case "nesting":
		return g.deepNesting(), true
	case "wrong type":
		pairs[at].v = g.wrongType(t.fields[at].kind)
		return []byte(g.object(pairs)), true
	case "number":
		if i, ok := withField("int", "float"); ok {
			pairs[i].v = g.hugeNumber(t.fields[i].kind)
		} else {
			pairs[at].v = g.wrongType(t.fields[at].kind)
		}
		return []byte(g.object(pairs)), true
	case "nul":
		if i, ok := withField("id", "text", "enum", "duration", "time"); ok {
			// No decoder or validator may let a NUL through: PostgreSQL
			// cannot store it, and a time, duration or enum holding one is
			// not one.
			pairs[i].v = rawJSON(`"` + pick(g, `\u0000`, `a\u0000`, `\u0000b`) + `"`)
			return []byte(g.object(pairs)), true
		}
		pairs[at].v = g.wrongType(t.fields[at].kind)
		return []byte(g.object(pairs)), true
	case "empty":
		return []byte(pick(g, ``, `null`, `[]`, `{}`, `""`, `0`)), true
	case "truncated":
		return []byte(valid[:g.r.IntN(len(valid)-1)]), true
	case "trailing":
		// Not "]" or "}": kit/httpx accepts those after the object (a known
		// strictness gap reported with its fuzz target's seed).
		return []byte(valid + pick(g, ` x`, ` {}`, `,`, `"`, "\x00")), true
	case "oversize":
		return append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), 1<<20+g.r.IntN(4096))...), true
	case "unknown field":
		pairs = append(pairs, kv{pick(g, "zz_unknown", "Reporter_ID ", "__proto__", "\u0000"), 1})
		return []byte(g.object(pairs)), t.strict
	case "nested unknown field":
		if i, ok := withField("object"); ok {
			pairs[i].v = rawJSON(`{"kind":"item","id":"t","owner_id":"o","zz":1}`)
			return []byte(g.object(pairs)), true
		}
		return []byte(valid + ` x`), true
	default: // nasty: any string the contract may or may not accept
		pairs[at].v = pick(g, nasty...)
		return []byte(g.object(pairs)), false
	}
}

// envelope wraps data as the sidecar delivers a topic message; sometimes the
// envelope itself is what is broken.
func (g *fuzzGen) envelope(topic string, data []byte, refused bool) ([]byte, bool) {
	switch {
	case g.chance(0.1):
		return g.randomBytes(g.r.IntN(512)), true
	case g.chance(0.05):
		return []byte(`{"id":"fz-` + g.word() + `","topic":"` + topic + `"}`), true
	}
	if !json.Valid(data) {
		data = []byte(g.encode(string(data))) // broken JSON arrives as a JSON string
		refused = true
	}
	return []byte(`{"id":"fz-` + g.word() + `","specversion":"1.0","type":"com.dapr.event.sent","source":"fuzz",` +
		`"topic":"` + topic + `","pubsubname":"pubsub","datacontenttype":"application/json","data":` + string(data) + `}`), refused
}

// settingKeys are the keys each app watches.
var settingKeys = map[string][]string{
	"report":   {"policy.item", "policy.post", "policy.comment", "policy.chat", "policy.review"},
	"reviewer": {"pool-rule", "fatigue", "adjustment"},
	"reward":   {"rules"},
}

// configUpdate is what a sidecar posts when a setting changes. The fuzzer
// never posts a valid value under a version that could be newer than the
// one in force: it would stick on that replica until a restart.
func (g *fuzzGen) configUpdate(app string) []byte {
	switch {
	case g.chance(0.15):
		return g.randomBytes(g.r.IntN(512))
	case g.chance(0.1):
		return g.deepNesting()
	case g.chance(0.05):
		return append([]byte(`{"items":{"`), bytes.Repeat([]byte("x"), 1<<20)...)
	}
	key := pick(g, append(settingKeys[app], "colour", "", "\u0000", strings.Repeat("k", 300))...)
	var value, version string
	if g.chance(0.5) {
		value = pick(g, `{"jury_size":1,"quorum":1}`, `{"max_per_day":0}`, `{"points_per_vote":0}`, `null`, `[]`, `{`, `"x"`, ``,
			`{"required_tags":["\u0000"],"active_within":"1h"}`)
		version = pick(g, "1", "999999999", "9223372036854775807", "x", "")
	} else {
		value = pick(g, `{"kind":"item","jury_size":1,"quorum":1,"juror_timeout":"1s","max_duration":"1s","max_substitutes":0,"on_timeout":"undecided","cooldown":"0s"}`,
			`{"max_per_day":1,"max_open":1,"cooldown":"0s"}`, `{"required_tags":["x"],"active_within":"1s"}`,
			`{"points_per_vote":1,"majority_bonus":0,"daily_cap":0}`)
		version = pick(g, "0", "-1", "-9223372036854775808", "abc", "", "1e9", " 5", "0x10", "5.0")
	}
	items := map[string]any{key: map[string]any{"value": value, "version": version, "metadata": map[string]string{}}}
	if g.chance(0.1) {
		items = map[string]any{}
	}
	b, _ := json.Marshal(map[string]any{"id": "fz-sub", "items": items})
	return b
}

// pathValue fills one path parameter.
func (g *fuzzGen) pathValue(name string) (segment string, dirty bool) {
	if g.chance(0.6) {
		switch name {
		case "id":
			return url.PathEscape(pick(g, g.known.caseID, g.known.reportID, "fz-"+g.word())), false
		case "kind":
			return pick(g, "item", "post", "comment", "chat", "review", "video", "ITEM"), false
		case "user_id":
			return url.PathEscape(pick(g, g.caller, g.fuzzUser(), "fz-"+g.word())), false
		case "sku":
			return url.PathEscape(pick(g, g.known.sku, "fz-sku-"+g.word(), "a.b_c-d")), false
		case "key":
			return url.PathEscape(pick(g, "policy.item", "fatigue", "rules", "colour")), false
		}
	}
	switch g.r.IntN(5) {
	case 0:
		return pick(g, "%00", "a%00b", "%ff", "%ed%a0%80", "%c0%af"), true
	case 1:
		return strings.Repeat("a", pick(g, 129, 5000, 70_000)), false
	case 2:
		return pick(g, "..", "%2e%2e", "a%2Fb", "%20", "%0a", "%7F", "~", "*", "%25"), false
	default:
		return url.PathEscape(pick(g, nasty...)), false
	}
}

// queryValue is one query parameter's value, already escaped.
func (g *fuzzGen) queryValue(name string) (value string, dirty bool) {
	if g.chance(0.5) {
		switch name {
		case "limit":
			return pick(g, "1", "50", "500", "501", "0", "-1", "99999999999999999999", "abc", "1e3", "1.5", ""), false
		case "cursor":
			raw := pick(g, `{"created_at":"2026-12-01T00:00:00Z","case_id":"c"}`, `"sku"`, `5`, `-5`, `0`, `{}`, `null`, `[]`,
				`1e400`, `"\u0000"`, `{"created_at":"x"}`, "\xff")
			return base64.RawURLEncoding.EncodeToString([]byte(raw)), false
		case "status":
			return pick(g, "pending", "voting", "upheld", "rejected", "undecided", "escalated", "open", "VOTING"), false
		case "kind":
			return pick(g, "item", "post", "video"), false
		case "created_after", "created_before":
			return url.QueryEscape(pick(g, "2026-12-01T00:00:00Z", "2026-12-01T00:00:00.123+08:00", "0000-01-01T00:00:00Z",
				"9999-12-31T23:59:59Z", "2026-13-01T00:00:00Z", "yesterday", "1733011200")), false
		case "user_id":
			return url.QueryEscape(pick(g, g.caller, g.fuzzUser(), "")), false
		}
	}
	if g.chance(0.2) {
		return pick(g, "%00", "%ff", "a%00"), true
	}
	if g.chance(0.1) {
		return strings.Repeat("q", pick(g, 3000, 70_000)), false
	}
	return url.QueryEscape(pick(g, nasty...)), false
}

// dirtyURL reports whether the path or query holds NUL or invalid UTF-8 once
// unescaped: every app answers those 400 before anything else.
func dirtyURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return true
	}
	clean := func(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
	if !clean(u.Path) || !clean(u.RawQuery) {
		return true
	}
	for k, vs := range u.Query() {
		if !clean(k) {
			return true
		}
		for _, v := range vs {
			if !clean(v) {
				return true
			}
		}
	}
	return false
}

// fuzzRequest is one generated request and what its answer must be.
type fuzzRequest struct {
	n           int
	route       *fuzzRoute
	method, url string
	headers     map[string]string
	body        []byte
	refused     bool // invalid by construction: must be refused
	badToken    bool
	// dirty: NUL or invalid UTF-8 in the path or query (a 400 before any
	// token check); offRoute: a path value that leaves the route (empty, or
	// a slash); huge: past the header size limit (431).
	dirty, offRoute, huge bool
}

func (r fuzzRequest) String() string {
	body := string(r.body)
	if len(body) > 300 {
		body = body[:300] + fmt.Sprintf("...(%d bytes)", len(r.body))
	}
	u := r.url
	if len(u) > 300 {
		u = u[:300] + fmt.Sprintf("...(%d bytes)", len(r.url))
	}
	hs := make([]string, 0, len(r.headers))
	for k, v := range r.headers {
		if tok, ok := strings.CutPrefix(v, "Bearer "); ok && strings.Count(tok, ".") == 2 {
			claims, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
			v += fmt.Sprintf(" (claims %s)", claims)
		} else if len(v) > 80 {
			v = v[:80] + "..."
		}
		hs = append(hs, k+": "+v)
	}
	sort.Strings(hs)
	return fmt.Sprintf("#%d %s %s [%s] body %q", r.n, r.method, u, strings.Join(hs, "; "), body)
}

var jwtVariants = []string{"none", "empty", "garbage", "expired", "wrong secret", "alg none", "basic"}

func (g *fuzzGen) token(a access) (header string, bad bool) {
	if g.chance(0.25) {
		switch pick(g, jwtVariants...) {
		case "none":
			return "", true
		case "empty":
			return "Bearer ", true
		case "garbage":
			return "Bearer " + pick(g, "x", "a.b.c", strings.Repeat("A", 5000), "eyJhbGciOiJIUzI1NiJ9..."), true
		case "expired":
			tok, _ := auth.Mint(platform.Secret(), g.caller, []string{"ops"}, -time.Hour)
			return "Bearer " + tok, true
		case "wrong secret":
			tok, _ := auth.Mint("not-the-secret-not-the-secret-!!", g.caller, []string{"ops"}, time.Hour)
			return "Bearer " + tok, true
		case "alg none":
			claims := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"` + g.caller + `","roles":["ops"],"exp":4102444800}`))
			return "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + claims + ".", true
		default:
			return "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:ops")), true
		}
	}
	roles := []string{}
	if a == ops && g.chance(0.7) || g.chance(0.1) {
		roles = append(roles, "ops")
	}
	return "Bearer " + platform.Token(g.caller, roles...), false
}

// generate makes request n.
func generate(seed uint64, n int, k known) fuzzRequest {
	g := &fuzzGen{r: rand.New(rand.NewPCG(seed, uint64(n))), known: k}
	rt := &fuzzRoutes[n%len(fuzzRoutes)]
	req := fuzzRequest{n: n, route: rt, method: rt.method, headers: map[string]string{}}
	// The caller is a user only this test knows, now and then one whose
	// subject is itself hostile (tokens are signed by a trusted issuer, but
	// what it puts in sub is still input).
	g.caller = g.fuzzUser()
	if g.chance(0.05) {
		g.caller = pick(g, "fz-\x00", "fz-\n", strings.Repeat("z", 300), " fz", "fz-😀")
	}

	segments := strings.Split(rt.path, "/")
	for i, s := range segments {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			v, dirty := g.pathValue(name)
			segments[i], req.dirty = v, req.dirty || dirty
			req.offRoute = req.offRoute || v == "" || strings.Contains(strings.ToLower(v), "%2f")
		}
	}
	var query []string
	for _, q := range rt.query {
		if g.chance(0.5) {
			v, dirty := g.queryValue(q)
			query, req.dirty = append(query, q+"="+v), req.dirty || dirty
		}
	}
	if g.chance(0.1) {
		v, dirty := g.queryValue("x")
		query, req.dirty = append(query, pick(g, "zz", "limit", "%00", "a[]")+"="+v), req.dirty || dirty
	}
	req.url = plat.AppURL(rt.app) + strings.Join(segments, "/")
	if len(query) > 0 {
		req.url += "?" + strings.Join(query, "&")
	}
	req.huge = len(req.url) > 60_000
	req.dirty = req.dirty || dirtyURL(req.url)

	switch rt.access {
	case user, ops:
		h, bad := g.token(rt.access)
		if h != "" {
			req.headers["Authorization"] = h
		}
		req.badToken = bad
	case sidecar:
		if g.chance(0.85) {
			req.headers["dapr-api-token"] = plat.AppToken(rt.app)
		} else {
			req.headers["dapr-api-token"] = pick(g, "", "wrong", plat.AppToken(pick(g, platform.Apps...))+"x")
			req.badToken = true
		}
	}
	if rt.method == "POST" && g.chance(0.5) {
		req.headers["Idempotency-Key"] = pick(g, "fz-k-"+g.word(), "k with spaces", strings.Repeat("k", 300), "ключ", "")
	}

	switch {
	case rt.config:
		req.body, req.refused = g.configUpdate(rt.app), true
	case rt.event:
		data, refused := g.mutate(rt.body, rt.harmless)
		req.body, req.refused = g.envelope(strings.TrimPrefix(rt.path, "/events/"), data, refused)
	case rt.body != nil:
		req.body, req.refused = g.mutate(rt.body, rt.harmless)
	case g.chance(0.1):
		req.body = g.randomBytes(g.r.IntN(256))
	}
	if g.chance(0.1) {
		req.method = pick(g, "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
	}
	return req
}

// fuzzOutcome is what happened to one request.
type fuzzOutcome struct {
	req     fuzzRequest
	status  int
	outcome string // the sidecar outcome of a topic delivery
	err     error
}

func send(ctx context.Context, hc *http.Client, req fuzzRequest) fuzzOutcome {
	timeout := 30 * time.Second
	stream := strings.HasSuffix(req.route.path, "/stream") && req.method == "GET"
	if stream {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, req.url, body)
	if err != nil {
		return fuzzOutcome{req: req, err: fmt.Errorf("build request: %w", err)}
	}
	for k, v := range req.headers {
		hr.Header.Set(k, v)
	}
	if req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return fuzzOutcome{req: req, err: err}
	}
	defer resp.Body.Close()
	out := fuzzOutcome{req: req, status: resp.StatusCode}
	if stream && resp.StatusCode == http.StatusOK {
		return out // a task stream stays open; its headers are the answer
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		out.err = fmt.Errorf("read answer: %w", err)
	}
	if req.route.event {
		var o struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal(data, &o)
		out.outcome = o.Status
	}
	return out
}

// problem says what is wrong with an outcome, or "".
func (o fuzzOutcome) problem() string {
	r, rt := o.req, o.req.route
	switch {
	case o.err != nil:
		return "no answer (dropped connection?): " + o.err.Error()
	case o.status >= 500:
		return fmt.Sprintf("answered %d", o.status)
	case r.method != rt.method || r.huge || r.offRoute:
		return ""
	case r.dirty && (rt.event || rt.config):
		return "" // a sidecar never sends such a URL; 400 is fine
	case rt.access == sidecar && r.badToken:
		if o.status != http.StatusUnauthorized {
			return fmt.Sprintf("sidecar-only route answered %d without the app token", o.status)
		}
	case r.badToken && !r.dirty && len(r.body) <= 1<<20:
		if o.status != http.StatusUnauthorized {
			return fmt.Sprintf("answered %d to a request without a valid token (want 401)", o.status)
		}
	case rt.event:
		if o.status != http.StatusOK {
			return fmt.Sprintf("delivery answered %d, not 200", o.status)
		}
		if r.refused && o.outcome == "RETRY" {
			return "a message that can never succeed is retried (a poison message)"
		}
		if r.refused && rt.app != "report" && o.outcome != "DROP" {
			return fmt.Sprintf("a message that can never succeed answered %q, not DROP", o.outcome)
		}
	case rt.config:
		if o.status != http.StatusOK {
			return fmt.Sprintf("configuration update answered %d, not 200", o.status)
		}
	case r.refused && o.status < 400:
		return fmt.Sprintf("accepted (%d) input that is invalid by construction", o.status)
	}
	return ""
}

// liveSettings reads every operator setting, to check that the barrage
// changed none of them.
func liveSettings(t *testing.T, ctx context.Context) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, s := range []struct{ app, path string }{{"report", "/v1/policies"}, {"reviewer", "/v1/pool-rule"},
		{"reviewer", "/v1/fatigue"}, {"reviewer", "/v1/adjustment"}, {"reviewer", "/v1/gold"}, {"reward", "/v1/rules"}} {
		resp, err := plat.As(s.app, "fz-reader").Do(ctx, "GET", s.path, nil)
		must(t, resp, err, 200)
		var v any
		if err := resp.JSON(&v); err != nil {
			t.Fatal(err)
		}
		out[s.app+s.path] = v
	}
	return out
}

// The route list is the routers' own: every route an app serves is fuzzed.
func checkRouteList(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, app := range platform.Apps {
		resp, err := plat.AsSidecar(app).Do(ctx, "GET", "/internal/routes", nil)
		var list struct {
			Routes []struct{ Method, Path string } `json:"routes"`
		}
		if err := must(t, resp, err, 200).JSON(&list); err != nil {
			t.Fatal(err)
		}
		served := map[string]bool{}
		for _, r := range list.Routes {
			served[r.Method+" "+r.Path] = true
		}
		listed := map[string]bool{}
		for _, r := range fuzzRoutes {
			if r.app == app {
				listed[r.method+" "+r.path] = true
			}
		}
		for r := range served {
			if !listed[r] {
				t.Errorf("%s serves %s, which fuzzRoutes does not list", app, r)
			}
		}
		for r := range listed {
			if !served[r] {
				t.Errorf("fuzzRoutes lists %s %s, which the app does not serve", app, r)
			}
		}
	}
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

func TestHTTPFuzzEveryRouteThenARoundStillDecides(t *testing.T) {
	ctx := ctxT(t)
	checkRouteList(t, ctx)
	if t.Failed() {
		t.FailNow()
	}
	seed, requests := uint64(envInt("GOVERN_FUZZ_SEED", 1)), envInt("GOVERN_FUZZ_REQUESTS", 3000)
	first := 0
	if only := envInt("GOVERN_FUZZ_ONLY", -1); only >= 0 {
		first, requests = only, only+1
	}

	// A round that is open during the barrage, and decided after it.
	rc, _ := fileReport(t, ctx, "review")
	policy := caseOf(t, ctx, rc.CaseID)["policy"].(map[string]any)
	size, quorum := int(policy["jury_size"].(float64)), int(policy["quorum"].(float64))
	jurors := jurorsOf(t, ctx, rc.CaseID, size)
	k := known{run: strconv.FormatInt(time.Now().UnixNano(), 36), caseID: rc.CaseID, reportID: rc.ReportID, sku: addItem(t, ctx, 1, 1000)}
	before := liveSettings(t, ctx)

	hc := &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: 8, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer hc.CloseIdleConnections()
	barrage, stop := context.WithTimeout(ctx, 60*time.Second)
	defer stop()
	start := time.Now()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		problems = map[string][]fuzzRequest{} // by route and what is wrong
		statuses = map[int]int{}
		perRoute = make([]int, len(fuzzRoutes))
		wg       sync.WaitGroup
	)
	next.Store(int64(first))
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1)) - 1
				if n >= requests || barrage.Err() != nil {
					return
				}
				o := send(barrage, hc, generate(seed, n, k))
				if barrage.Err() != nil && errors.Is(o.err, context.DeadlineExceeded) {
					return // the barrage's own time is up, not the app's fault
				}
				mu.Lock()
				statuses[o.status]++
				perRoute[n%len(fuzzRoutes)]++
				if p := o.problem(); p != "" {
					key := fmt.Sprintf("%s %s %s: %s", o.req.route.app, o.req.route.method, o.req.route.path, p)
					problems[key] = append(problems[key], o.req)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	done := 0
	for _, n := range statuses {
		done += n
	}
	codes := make([]int, 0, len(statuses))
	for c := range statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	summary := make([]string, len(codes))
	for i, c := range codes {
		summary[i] = fmt.Sprintf("%d×%d", statuses[c], c)
	}
	t.Logf("http fuzz seed %d: %d requests over %d routes in %s: %s", seed, done, len(fuzzRoutes),
		elapsed.Round(time.Millisecond), strings.Join(summary, " "))
	for i, n := range perRoute {
		if n == 0 && first == 0 {
			t.Errorf("route %s %s %s was never fuzzed", fuzzRoutes[i].app, fuzzRoutes[i].method, fuzzRoutes[i].path)
		}
	}
	keys := make([]string, 0, len(problems))
	for key := range problems {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		reqs := problems[key]
		sort.Slice(reqs, func(i, j int) bool { return reqs[i].n < reqs[j].n })
		t.Errorf("%s (%d requests), first (again: GOVERN_FUZZ_SEED=%d GOVERN_FUZZ_ONLY=%d):\n        %s",
			key, len(reqs), seed, reqs[0].n, reqs[0])
	}

	// Nothing the fuzzer sent changed an operator setting.
	if after := liveSettings(t, ctx); !reflect.DeepEqual(before, after) {
		t.Errorf("operator settings changed by the barrage:\nbefore %v\nafter  %v", before, after)
	}

	// And the platform still decides and credits a round.
	for _, j := range jurors[:quorum] {
		resp, err := vote(ctx, rc.CaseID, j, "uphold")
		must(t, resp, err, 202)
	}
	if c := waitClosed(t, ctx, rc.CaseID, time.Minute); c["status"] != "upheld" {
		t.Fatalf("case after the barrage: %v", c)
	}
	for _, j := range jurors[:quorum] {
		eventually(t, "juror "+j+" credited after the barrage", 30*time.Second, func() (bool, string) {
			n, _ := accountOf(t, ctx, j).creditsFor(rc.CaseID)
			return n == 1, fmt.Sprintf("%d credits", n)
		})
	}
}
