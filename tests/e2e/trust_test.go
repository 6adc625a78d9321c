package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/govern/kit/daprx"
	"github.com/govern/tests/platform"
)

// count runs a counting query on app's own database.
func count(t *testing.T, ctx context.Context, app, query string, args ...any) int {
	t.Helper()
	db, err := pgx.Connect(ctx, plat.DatabaseURL(app))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	var n int
	if err := db.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// A caller who reaches an app's port directly, without the token the app's
// sidecar sends, is refused on every sidecar-only route and changes nothing.
func TestForgedSidecarCallsChangeNothing(t *testing.T) {
	ctx := ctxT(t)
	victim := unique("forged-juror")
	caseID := unique("c_forged")
	forgedDecision := decided(caseID, time.Now(), victim)
	envelope := map[string]any{"id": unique("ev"), "specversion": "1.0", "type": "com.dapr.event.sent",
		"source": "report", "topic": "case-decided", "pubsubname": "pubsub", "datacontenttype": "application/json",
		"data": forgedDecision}
	target := map[string]any{"kind": "item", "id": unique("target"), "owner_id": unique("owner")}
	reporter := unique("forger")
	report := map[string]any{"id": unique("ev"), "specversion": "1.0", "type": "com.dapr.event.sent", "topic": "reports",
		"datacontenttype": "application/json", "data": map[string]any{"reporter_id": reporter, "target": target,
			"reason": "forged", "idempotency_key": unique("k")}}
	draw := map[string]any{"draw_id": unique("d"), "case_id": unique("c"), "size": 1,
		"target": map[string]any{"kind": "post", "id": unique("t"), "owner_id": "o"}, "reason": "r",
		"deadline": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}
	policy := map[string]any{"items": map[string]any{"policy.item": map[string]any{"value": `{"kind":"item","jury_size":1,"quorum":1,` +
		`"juror_timeout":"1s","max_duration":"1s","max_substitutes":0,"on_timeout":"undecided","cooldown":"0s"}`, "version": "999999"}}}

	drawsBefore := count(t, ctx, "reviewer", `SELECT count(*) FROM draws`)
	tasksBefore := count(t, ctx, "reviewer", `SELECT count(*) FROM tasks`)
	for _, tok := range []string{"", "wrong-token", plat.AppToken("report")} { // another app's token is wrong too
		for _, call := range []struct {
			app, method, path string
			body              any
		}{
			{"reward", "POST", "/events/case-decided", envelope},
			{"reviewer", "POST", "/events/case-decided", envelope},
			{"report", "POST", "/events/reports", report},
			{"reviewer", "POST", "/internal/juries", draw},
			{"reviewer", "POST", "/internal/tasks/close", map[string]any{"case_id": "c", "juror_id": "j", "reason": "voted"}},
			{"report", "POST", "/configuration/report-config/policy.item", policy},
			{"reward", "GET", "/dapr/subscribe", nil},
			{"reward", "GET", "/dapr/config", nil},
		} {
			if call.app == "report" && tok == plat.AppToken("report") {
				continue // the right token for the report app
			}
			c := platform.Client{Base: plat.AppURL(call.app), AppToken: tok}
			resp, err := c.Do(ctx, call.method, call.path, call.body)
			if err != nil || resp.Status != 401 || resp.ErrorCode() != "unauthenticated" {
				t.Errorf("%s %s on %s with token %q: %v %v, want 401 unauthenticated", call.method, call.path, call.app, tok, resp, err)
			}
		}
	}
	// Nothing happened: no credit, no juror result, no report, no draw, no policy.
	time.Sleep(500 * time.Millisecond) // nothing is in flight that could land later, but give it the chance
	if n := count(t, ctx, "reward", `SELECT count(*) FROM ledger_entries WHERE user_id = $1`, victim); n != 0 {
		t.Errorf("forged case-decided credited %d entries", n)
	}
	if a := accountOf(t, ctx, victim); a.Balance != 0 {
		t.Errorf("forged case-decided: balance %d", a.Balance)
	}
	if n := count(t, ctx, "reviewer", `SELECT count(*) FROM decided_cases WHERE case_id = $1`, caseID); n != 0 {
		t.Errorf("forged case-decided recorded by the reviewer")
	}
	if n := count(t, ctx, "report", `SELECT count(*) FROM reports WHERE reporter_id = $1`, reporter); n != 0 {
		t.Errorf("forged topic delivery filed %d reports", n)
	}
	if d, ts := count(t, ctx, "reviewer", `SELECT count(*) FROM draws`), count(t, ctx, "reviewer", `SELECT count(*) FROM tasks`); d != drawsBefore || ts != tasksBefore {
		t.Errorf("forged invocation drew a jury: draws %d -> %d, tasks %d -> %d", drawsBefore, d, tasksBefore, ts)
	}
	resp, err := plat.As("report", "anyone").Do(ctx, "GET", "/v1/policies", nil)
	must(t, resp, err, 200)
	if strings.Contains(string(resp.Body), `"jury_size":1,`) {
		t.Errorf("forged configuration update changed a policy: %s", resp.Body)
	}

	// The real paths still work: the same event through the sidecar credits.
	db := rewardDB(t)
	publishDecided(t, ctx, forgedDecision)
	waitCredited(t, ctx, db, caseID, 1)
}

// Only the app holds its sidecar's API token: a caller without it can
// neither publish nor invoke through the sidecar.
func TestSidecarAPIRefusesCallersWithoutTheDaprToken(t *testing.T) {
	ctx := ctxT(t)
	victim := unique("sidecar-victim")
	caseID := unique("c_sidecar")
	for _, tok := range []string{"", "wrong", plat.DaprToken("reward")} {
		sidecar := daprx.New(plat.SidecarGRPC("report"), tok)
		defer sidecar.Close()
		err := sidecar.Publish(ctx, "pubsub", "case-decided", decided(caseID, time.Now(), victim))
		if !daprx.IsRemote(err, http.StatusUnauthorized, "") {
			t.Errorf("publish with token %q: %v, want 401", tok, err)
		}
		err = sidecar.Invoke(ctx, "reviewer", "POST", "internal/tasks/close",
			map[string]any{"case_id": "c", "juror_id": "j", "reason": "voted"}, nil)
		if !daprx.IsRemote(err, http.StatusUnauthorized, "") {
			t.Errorf("invoke with token %q: %v, want 401", tok, err)
		}
	}
	time.Sleep(1500 * time.Millisecond) // longer than the outbox and delivery of a real publish
	if n := count(t, ctx, "reward", `SELECT count(*) FROM ledger_entries WHERE user_id = $1`, victim); n != 0 {
		t.Errorf("a publish without the token was delivered: %d credits", n)
	}
}

func TestBodiesOverOneMebibyteAre413AndWriteNothing(t *testing.T) {
	ctx := ctxT(t)
	reporter := unique("big")
	huge := strings.Repeat("x", 1<<20)
	body := map[string]any{"reporter_id": reporter, "reason": "spam", "evidence": []string{huge},
		"target": map[string]any{"kind": "item", "id": unique("target"), "owner_id": "o"}}
	resp, err := plat.As("report", reporter).Do(ctx, "POST", "/v1/reports", body)
	must(t, resp, err, 413)
	if resp.ErrorCode() != "payload_too_large" {
		t.Fatalf("code %q", resp.ErrorCode())
	}
	if n := count(t, ctx, "report", `SELECT count(*) FROM reports WHERE reporter_id = $1`, reporter); n != 0 {
		t.Fatalf("%d reports stored", n)
	}
	ops := plat.As("reward", "ops-big", "ops")
	resp, err = ops.Do(ctx, "POST", "/v1/catalog", map[string]any{"sku": unique("sku"), "name": huge, "price": 1, "stock": 1})
	must(t, resp, err, 413)
}

// The binaries refuse to serve with settings that would open the trust
// boundary: no app API token, or the public JWT secret outside local.
func TestAppsRefuseToStartWithUnsafeSettings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	good := "APP_API_TOKEN=" + strings.Repeat("t", 32)
	cases := []struct {
		name, want string
		env        []string
	}{
		{"no app API token", "APP_API_TOKEN", []string{"APP_API_TOKEN="}},
		{"prod with the default JWT secret", "public local default", []string{good, "GOVERN_ENV=prod", "GOVERN_JWT_SECRET="}},
		{"prod with a short JWT secret", "at least 32", []string{good, "GOVERN_ENV=prod", "GOVERN_JWT_SECRET=short"}},
		{"an unknown environment", "GOVERN_ENV", []string{good, "GOVERN_ENV=production"}},
	}
	for _, app := range platform.Apps {
		for _, tc := range cases {
			cmd := exec.CommandContext(ctx, filepath.Join(os.Getenv("GOVERN_BIN"), app))
			cmd.Env = append(os.Environ(), "HTTP_ADDR=127.0.0.1:1", "DATABASE_URL="+plat.DatabaseURL(app))
			cmd.Env = append(cmd.Env, tc.env...)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "refusing to start") ||
				!strings.Contains(string(out), tc.want) {
				t.Errorf("%s, %s: %v\n%s", app, tc.name, err, out)
			}
		}
	}
	fmt.Println("apps refused every unsafe start")
}
