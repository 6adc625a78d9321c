package e2e

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/tests/platform"
)

// defaultRules are the contract's defaults, which the other scenarios expect.
var defaultRules = map[string]int64{"points_per_vote": 10, "majority_bonus": 5, "daily_cap": 1000}

// rewardDB opens the reward service's own database, to check invariants and
// to seed large numbers of points.
func rewardDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	db, err := pgxpool.New(context.Background(), plat.DatabaseURL("reward"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// setRules puts rules for this test and restores the defaults after it; it
// returns the new rules version.
func setRules(t *testing.T, ctx context.Context, perVote, bonus, dailyCap int64) int64 {
	t.Helper()
	ops := plat.As("reward", "ops-rules", "ops")
	resp, err := ops.Do(ctx, "PUT", "/v1/rules",
		map[string]int64{"points_per_vote": perVote, "majority_bonus": bonus, "daily_cap": dailyCap})
	must(t, resp, err, 200)
	t.Cleanup(func() {
		resp, err := ops.Do(context.Background(), "PUT", "/v1/rules", defaultRules)
		if err != nil || resp.Status != 200 {
			t.Errorf("restore default rules: %v %v", resp, err)
		}
	})
	return int64(resp.Map()["version"].(float64))
}

// decided is a case-decided message in which every juror voted uphold on an
// upheld case.
func decided(caseID string, at time.Time, jurors ...string) map[string]any {
	votes := make([]map[string]string, len(jurors))
	for i, j := range jurors {
		votes[i] = map[string]string{"juror_id": j, "decision": "uphold"}
	}
	return map[string]any{
		"case_id": caseID, "target": map[string]string{"kind": "item", "id": unique("target"), "owner_id": unique("owner")},
		"decision": "upheld", "decided_at": at.UTC().Format(time.RFC3339Nano),
		"tally": map[string]int{"uphold": len(jurors), "reject": 0}, "votes": votes, "jurors": jurors,
	}
}

// publishDecided publishes case-decided messages through the report sidecar,
// as the report service does.
func publishDecided(t *testing.T, ctx context.Context, events ...map[string]any) {
	t.Helper()
	sidecar := plat.Sidecar("report")
	for _, ev := range events {
		if err := sidecar.Publish(ctx, "pubsub", "case-decided", ev); err != nil {
			t.Fatal(err)
		}
	}
}

// waitCredited waits until the case has n vote credits in the ledger.
func waitCredited(t *testing.T, ctx context.Context, db *pgxpool.Pool, caseID string, n int) {
	t.Helper()
	eventually(t, "credits for "+caseID, 30*time.Second, func() (bool, string) {
		var got int
		err := db.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE case_id = $1`, caseID).Scan(&got)
		return err == nil && got == n, fmt.Sprintf("%d credits (%v)", got, err)
	})
}

// earnPoints gives each user 15 points (a vote with the decision under the
// default rules) through a real case-decided event.
func earnPoints(t *testing.T, ctx context.Context, db *pgxpool.Pool, users ...string) {
	t.Helper()
	caseID := unique("c_earn")
	publishDecided(t, ctx, decided(caseID, time.Now(), users...))
	waitCredited(t, ctx, db, caseID, len(users))
}

// waitConsumedBy waits until the consumer group of app on topic has read and
// acknowledged every message (lag 0, nothing pending); other consumers of the
// topic are not waited for.
func waitConsumedBy(t *testing.T, topic, app string) {
	t.Helper()
	eventually(t, topic+" consumed by "+app, 30*time.Second, func() (bool, string) {
		out := redis(t, "XINFO", "GROUPS", topic)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		fields := map[string]string{}
		for i := 0; i+1 < len(lines); i += 2 {
			if lines[i] == "name" && len(fields) > 0 {
				if fields["name"] == app {
					break
				}
				fields = map[string]string{}
			}
			fields[lines[i]] = strings.TrimSpace(lines[i+1])
		}
		return fields["name"] == app && fields["pending"] == "0" && fields["lag"] == "0", out
	})
}

// addItem lists a fresh item and returns its sku.
func addItem(t *testing.T, ctx context.Context, price, stock int64) string {
	t.Helper()
	sku := unique("sku")
	resp, err := plat.As("reward", "ops-mall", "ops").Do(ctx, "POST", "/v1/catalog",
		map[string]any{"sku": sku, "name": "Tote bag " + sku, "price": price, "stock": stock})
	must(t, resp, err, 201)
	return sku
}

func stockOf(t *testing.T, ctx context.Context, sku string) int64 {
	t.Helper()
	resp, err := plat.As("reward", "anyone").Do(ctx, "GET", "/v1/catalog/"+sku, nil)
	return int64(must(t, resp, err, 200).Map()["stock"].(float64))
}

func redeem(ctx context.Context, user, key, sku string, quantity int64) (platform.Response, error) {
	return plat.As("reward", user).Do(ctx, "POST", "/v1/redemptions",
		map[string]any{"user_id": user, "sku": sku, "quantity": quantity}, "Idempotency-Key", key)
}

type statement struct {
	Balance int64 `json:"balance"`
	Entries []struct {
		Amount       int64  `json:"amount"`
		Reason       string `json:"reason"`
		CaseID       string `json:"case_id"`
		RedemptionID string `json:"redemption_id"`
		RuleVersion  int64  `json:"rule_version"`
	} `json:"entries"`
}

func statementOf(t *testing.T, ctx context.Context, user string) statement {
	t.Helper()
	resp, err := plat.As("reward", user).Do(ctx, "GET", "/v1/accounts/"+user+"?limit=500", nil)
	var s statement
	if err := must(t, resp, err, 200).JSON(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// concurrently runs n calls at once and returns their answers in call order.
func concurrently(t *testing.T, n int, call func(i int) (platform.Response, error)) []platform.Response {
	t.Helper()
	out := make([]platform.Response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i], errs[i] = call(i)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func countStatuses(resps []platform.Response) map[string]int {
	n := map[string]int{}
	for _, r := range resps {
		key := strconv.Itoa(r.Status)
		if code := r.ErrorCode(); code != "" {
			key += " " + code
		}
		n[key]++
	}
	return n
}

// A hundred users with enough points race for an item with ten in stock:
// exactly ten get it, nobody pays for nothing, and the stock ends at zero.
func TestHundredUsersRacingForTenItemsBuyExactlyTen(t *testing.T) {
	ctx := ctxT(t)
	db := rewardDB(t)
	users := make([]string, 100)
	for i := range users {
		users[i] = unique(fmt.Sprintf("shopper%02d", i))
	}
	earnPoints(t, ctx, db, users...) // 15 points each
	sku := addItem(t, ctx, 10, 10)

	resps := concurrently(t, len(users), func(i int) (platform.Response, error) {
		return redeem(ctx, users[i], unique("key"), sku, 1)
	})
	if got := countStatuses(resps); got["201"] != 10 || got["409 insufficient_stock"] != 90 {
		t.Fatalf("answers %v, want 10 × 201 and 90 × 409 insufficient_stock", got)
	}
	if s := stockOf(t, ctx, sku); s != 0 {
		t.Fatalf("stock %d, want 0", s)
	}
	for i, r := range resps {
		st := statementOf(t, ctx, users[i])
		if r.Status != 201 {
			if st.Balance != 15 || len(st.Entries) != 1 {
				t.Fatalf("%s was refused but has balance %d and %d entries", users[i], st.Balance, len(st.Entries))
			}
			continue
		}
		body := r.Map()
		if body["points"] != 10.0 || body["quantity"] != 1.0 || body["sku"] != sku || body["user_id"] != users[i] {
			t.Fatalf("redemption body %s", r)
		}
		debit := st.Entries[0] // newest first
		if st.Balance != 5 || debit.Amount != -10 || debit.Reason != "redemption" || debit.RedemptionID != body["redemption_id"] {
			t.Fatalf("%s bought one: balance %d, newest entry %+v, want 5 and a -10 redemption entry for %v",
				users[i], st.Balance, debit, body["redemption_id"])
		}
	}
}

// A user whose points pay for two items, racing five redemptions with
// distinct keys, gets exactly two.
func TestPointsForTwoItemsBuyExactlyTwoUnderRacingRedemptions(t *testing.T) {
	ctx := ctxT(t)
	db := rewardDB(t)
	user := unique("saver")
	earnPoints(t, ctx, db, user) // 15 points
	sku := addItem(t, ctx, 7, 100)

	resps := concurrently(t, 5, func(int) (platform.Response, error) { return redeem(ctx, user, unique("key"), sku, 1) })
	if got := countStatuses(resps); got["201"] != 2 || got["409 insufficient_points"] != 3 {
		t.Fatalf("answers %v, want 2 × 201 and 3 × 409 insufficient_points", got)
	}
	if st := statementOf(t, ctx, user); st.Balance != 1 {
		t.Fatalf("balance %d, want 1", st.Balance)
	}
	if s := stockOf(t, ctx, sku); s != 98 {
		t.Fatalf("stock %d, want 98", s)
	}
	resp, err := plat.As("reward", user).Do(ctx, "GET", "/v1/redemptions?user_id="+user, nil)
	var list struct{ Items []map[string]any }
	if err := must(t, resp, err, 200).JSON(&list); err != nil || len(list.Items) != 2 {
		t.Fatalf("redemptions %s, want 2", resp)
	}
}

// The same idempotency key, sent twenty times at once and again later,
// redeems once and always answers the first status and body; a first answer
// of 409 is repeated too, even after the stock that was missing arrives.
func TestReplayedIdempotencyKeyRedeemsOnceAndRepeatsTheFirstAnswer(t *testing.T) {
	ctx := ctxT(t)
	db := rewardDB(t)
	user := unique("retrier")
	earnPoints(t, ctx, db, user) // 15 points
	sku := addItem(t, ctx, 5, 3)
	key := unique("key")

	resps := concurrently(t, 20, func(int) (platform.Response, error) { return redeem(ctx, user, key, sku, 2) })
	for _, r := range resps {
		if r.Status != 201 || !bytes.Equal(r.Body, resps[0].Body) {
			t.Fatalf("answers differ: %s and %s", resps[0], r)
		}
	}
	later, err := redeem(ctx, user, key, sku, 2)
	must(t, later, err, 201)
	if !bytes.Equal(later.Body, resps[0].Body) {
		t.Fatalf("later replay %s, want %s", later, resps[0])
	}
	if st := statementOf(t, ctx, user); st.Balance != 5 {
		t.Fatalf("balance %d, want 5 (one redemption of 10 points)", st.Balance)
	}
	if s := stockOf(t, ctx, sku); s != 1 {
		t.Fatalf("stock %d, want 1", s)
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM redemptions WHERE user_id = $1`, user).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d redemptions stored (%v), want 1", n, err)
	}

	// Two units are not in stock: 409, and the same 409 after a restock.
	refusedKey := unique("key")
	first, err := redeem(ctx, user, refusedKey, sku, 2)
	must(t, first, err, 409)
	resp, err := plat.As("reward", "ops-mall", "ops").Do(ctx, "PUT", "/v1/catalog/"+sku+"/stock", map[string]int64{"stock": 50})
	must(t, resp, err, 200)
	again, err := redeem(ctx, user, refusedKey, sku, 2)
	must(t, again, err, 409)
	if !bytes.Equal(again.Body, first.Body) {
		t.Fatalf("replayed refusal %s, want %s", again, first)
	}
}

// case-decided delivered twice and out of order (an older decision after a
// newer one) credits each case once.
func TestCaseDecidedTwiceAndOutOfOrderCreditsEachCaseOnce(t *testing.T) {
	ctx := ctxT(t)
	db := rewardDB(t)
	juror := unique("juror")
	newer := decided(unique("c_newer"), time.Now(), juror)
	older := decided(unique("c_older"), time.Now().Add(-time.Hour), juror)
	publishDecided(t, ctx, newer, older, newer, older)
	waitCredited(t, ctx, db, newer["case_id"].(string), 1)
	waitCredited(t, ctx, db, older["case_id"].(string), 1)
	waitConsumedBy(t, "case-decided", "reward")

	st := statementOf(t, ctx, juror)
	if st.Balance != 30 || len(st.Entries) != 2 {
		t.Fatalf("balance %d with %d entries, want 30 from two credits of 15", st.Balance, len(st.Entries))
	}
}

// Fifty credits for one user arriving at once never take the user past the
// daily cap, and each records the rules version it was computed with.
func TestDailyCapHoldsWhenFiftyCreditsArriveAtOnce(t *testing.T) {
	ctx := ctxT(t)
	db := rewardDB(t)
	version := setRules(t, ctx, 10, 5, 100)
	juror := unique("busy-juror")
	at := time.Now()
	events := make([]map[string]any, 50)
	for i := range events {
		events[i] = decided(unique(fmt.Sprintf("c_cap%02d", i)), at, juror)
	}
	concurrently(t, len(events), func(i int) (platform.Response, error) {
		publishDecided(t, ctx, events[i])
		return platform.Response{}, nil
	})
	eventually(t, "fifty credits", 30*time.Second, func() (bool, string) {
		var n int
		err := db.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE user_id = $1`, juror).Scan(&n)
		return err == nil && n == 50, fmt.Sprintf("%d credits (%v)", n, err)
	})
	st := statementOf(t, ctx, juror)
	var sum int64
	for _, e := range st.Entries {
		sum += e.Amount
		if e.RuleVersion != version || e.Reason != "jury_vote" {
			t.Fatalf("entry %+v, want a jury_vote under rules version %d", e, version)
		}
	}
	if st.Balance != 100 || sum != 100 {
		t.Fatalf("balance %d, ledger sum %d, want both at the daily cap of 100", st.Balance, sum)
	}
}

// A rule change applies to decisions made after it, even when a decision
// made before it is processed later.
func TestRuleChangeAppliesOnlyToDecisionsMadeAfterIt(t *testing.T) {
	ctx := ctxT(t)
	db := rewardDB(t)
	resp, err := plat.As("reward", "anyone").Do(ctx, "GET", "/v1/rules", nil)
	oldVersion := int64(must(t, resp, err, 200).Map()["version"].(float64))
	before := time.Now()
	time.Sleep(10 * time.Millisecond)
	newVersion := setRules(t, ctx, 20, 5, 1000)
	juror := unique("juror")
	earlier := decided(unique("c_before_change"), before, juror)
	later := decided(unique("c_after_change"), time.Now(), juror)
	publishDecided(t, ctx, later, earlier)
	waitCredited(t, ctx, db, earlier["case_id"].(string), 1)
	waitCredited(t, ctx, db, later["case_id"].(string), 1)

	want := map[string]struct{ amount, version int64 }{
		earlier["case_id"].(string): {15, oldVersion},
		later["case_id"].(string):   {25, newVersion},
	}
	for _, e := range statementOf(t, ctx, juror).Entries {
		if w := want[e.CaseID]; e.Amount != w.amount || e.RuleVersion != w.version {
			t.Fatalf("credit for %s: %d points under version %d, want %d under version %d",
				e.CaseID, e.Amount, e.RuleVersion, w.amount, w.version)
		}
	}
}

// Rules written by another replica (the rules row and the settings row, as
// its PUT writes them) reach this replica through the configuration store.
func TestRulesChangeReachesReplicasLive(t *testing.T) {
	ctx := ctxT(t)
	db := rewardDB(t)
	ops := plat.As("reward", "ops-rules", "ops")
	t.Cleanup(func() {
		resp, err := ops.Do(context.Background(), "PUT", "/v1/rules", defaultRules)
		if err != nil || resp.Status != 200 {
			t.Errorf("restore default rules: %v %v", resp, err)
		}
	})
	var version int64
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `
			INSERT INTO reward_rules (version, points_per_vote, majority_bonus, daily_cap, set_by, set_at)
			SELECT MAX(version) + 1, 12, 3, 900, 'other-replica', clock_timestamp() FROM reward_rules
			RETURNING version`).Scan(&version); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO settings (key, value, version) VALUES ('rules', $1, $2::bigint::text)
			ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version`,
			`{"points_per_vote":12,"majority_bonus":3,"daily_cap":900}`, version)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "rules change seen by the app", 10*time.Second, func() (bool, string) {
		resp, err := ops.Do(ctx, "GET", "/v1/rules", nil)
		if err != nil {
			return false, err.Error()
		}
		m := resp.Map()
		return m["version"] == float64(version) && m["points_per_vote"] == 12.0 && m["daily_cap"] == 900.0, resp.String()
	})
}

// Bad input is a 4xx in contract order and leaves the ledger, balances,
// stock and redemptions as they were.
func TestBadMallInputIsRejectedAndWritesNothing(t *testing.T) {
	ctx := ctxT(t)
	db := rewardDB(t)
	user := unique("careless")
	earnPoints(t, ctx, db, user)
	sku := addItem(t, ctx, 5, 10)
	// Only this test's user and item: late deliveries from other scenarios
	// may still credit other accounts meanwhile.
	snapshot := func() string {
		var s string
		err := db.QueryRow(ctx, `SELECT concat_ws(' ',
			(SELECT count(*) FROM ledger_entries WHERE user_id = $1),
			(SELECT count(*) FROM redemptions WHERE user_id = $1 OR sku = $2),
			(SELECT count(*) FROM redemption_requests WHERE user_id = $1),
			(SELECT count(*) FROM catalog_items WHERE sku IN ('x1', 'x2', 'a/b')),
			(SELECT balance FROM accounts WHERE user_id = $1),
			(SELECT stock FROM catalog_items WHERE sku = $2))`, user, sku).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()

	ops := plat.As("reward", "ops-mall", "ops")
	mine := plat.As("reward", user)
	anon := platform.Client{Base: plat.AppURL("reward")}
	body := func(s string) []byte { return []byte(s) }
	redemption := func(q string) []byte {
		return body(`{"user_id":"` + user + `","sku":"` + sku + `","quantity":` + q + `}`)
	}
	key := []string{"Idempotency-Key", unique("key")}
	tests := []struct {
		name    string
		client  platform.Client
		method  string
		path    string
		body    []byte
		headers []string
		want    int
	}{
		{"no token", anon, "POST", "/v1/redemptions", redemption("1"), key, 401},
		{"someone else's points", plat.As("reward", unique("thief")), "POST", "/v1/redemptions", redemption("1"), key, 403},
		{"an operator redeeming for a user", ops, "POST", "/v1/redemptions", redemption("1"), key, 403},
		{"someone else's points with a bad body", plat.As("reward", unique("thief")), "POST", "/v1/redemptions", redemption("-1"), key, 403},
		{"missing idempotency key", mine, "POST", "/v1/redemptions", redemption("1"), nil, 400},
		{"idempotency key with a space", mine, "POST", "/v1/redemptions", redemption("1"), []string{"Idempotency-Key", "a b"}, 400},
		{"negative quantity", mine, "POST", "/v1/redemptions", redemption("-1"), key, 400},
		{"zero quantity", mine, "POST", "/v1/redemptions", redemption("0"), key, 400},
		{"quantity above 1000", mine, "POST", "/v1/redemptions", redemption("1001"), key, 400},
		{"huge quantity", mine, "POST", "/v1/redemptions", redemption("99999999999999999999999"), key, 400},
		{"quantity in exponent form", mine, "POST", "/v1/redemptions", redemption("1e30"), key, 400},
		{"fractional quantity", mine, "POST", "/v1/redemptions", redemption("1.5"), key, 400},
		{"quantity as a string", mine, "POST", "/v1/redemptions", redemption(`"1"`), key, 400},
		{"malformed JSON", mine, "POST", "/v1/redemptions", body(`{"user_id":`), key, 400},
		{"unknown field", mine, "POST", "/v1/redemptions", body(`{"user_id":"` + user + `","sku":"` + sku + `","quantity":1,"price":0}`), key, 400},
		{"bad sku", mine, "POST", "/v1/redemptions", body(`{"user_id":"` + user + `","sku":"../x","quantity":1}`), key, 400},
		{"unknown sku", mine, "POST", "/v1/redemptions", body(`{"user_id":"` + user + `","sku":"no-such-sku","quantity":1}`), key, 404},
		{"user lists someone else's redemptions", mine, "GET", "/v1/redemptions?user_id=" + unique("other"), nil, nil, 403},
		{"bad redemptions cursor", mine, "GET", "/v1/redemptions?cursor=!!", nil, nil, 400},
		{"user adds an item", mine, "POST", "/v1/catalog", body(`{"sku":"x1","name":"X","price":1,"stock":1}`), nil, 403},
		{"user sets stock", mine, "PUT", "/v1/catalog/" + sku + "/stock", body(`{"stock":1000}`), nil, 403},
		{"item with negative price", ops, "POST", "/v1/catalog", body(`{"sku":"x2","name":"X","price":-1,"stock":1}`), nil, 400},
		{"item with huge price", ops, "POST", "/v1/catalog", body(`{"sku":"x2","name":"X","price":1000000001,"stock":1}`), nil, 400},
		{"item with huge stock", ops, "POST", "/v1/catalog", body(`{"sku":"x2","name":"X","price":1,"stock":1e12}`), nil, 400},
		{"item without stock", ops, "POST", "/v1/catalog", body(`{"sku":"x2","name":"X","price":1}`), nil, 400},
		{"item without name", ops, "POST", "/v1/catalog", body(`{"sku":"x2","price":1,"stock":1}`), nil, 400},
		{"item with a sku that has a slash", ops, "POST", "/v1/catalog", body(`{"sku":"a/b","name":"X","price":1,"stock":1}`), nil, 400},
		{"item with a taken sku", ops, "POST", "/v1/catalog", body(`{"sku":"` + sku + `","name":"X","price":1,"stock":1}`), nil, 409},
		{"negative stock", ops, "PUT", "/v1/catalog/" + sku + "/stock", body(`{"stock":-1}`), nil, 400},
		{"stock above the bound", ops, "PUT", "/v1/catalog/" + sku + "/stock", body(`{"stock":1000000001}`), nil, 400},
		{"stock of an unknown sku", ops, "PUT", "/v1/catalog/no-such-sku/stock", body(`{"stock":1}`), nil, 404},
		{"unknown item", mine, "GET", "/v1/catalog/no-such-sku", nil, nil, 404},
		{"bad catalogue cursor", mine, "GET", "/v1/catalog?cursor=!!", nil, nil, 400},
	}
	for _, tt := range tests {
		resp, err := tt.client.Do(ctx, tt.method, tt.path, tt.body, tt.headers...)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != tt.want || resp.ErrorCode() == "" {
			t.Errorf("%s: got %s, want %d with an error code", tt.name, resp, tt.want)
		}
	}
	if after := snapshot(); after != before {
		t.Fatalf("bad input changed the database: before %q, after %q", before, after)
	}
	// The unknown sku left its key unused: the same key redeems once the
	// request is right.
	resp, err := redeem(ctx, user, key[1], sku, 1)
	must(t, resp, err, 201)
}

// The catalogue lists every item once, in sku order, page by page.
func TestCatalogueListsEveryItemPageByPage(t *testing.T) {
	ctx := ctxT(t)
	listed := map[string]bool{}
	for range 3 {
		listed[addItem(t, ctx, 1, 1)] = false
	}
	path, last, seen := "/v1/catalog?limit=2", "", 0
	for {
		resp, err := plat.As("reward", "browser").Do(ctx, "GET", path, nil)
		var page struct {
			Items []struct {
				SKU string `json:"sku"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if err := must(t, resp, err, 200).JSON(&page); err != nil || len(page.Items) > 2 {
			t.Fatalf("page %s", resp)
		}
		for _, it := range page.Items {
			if it.SKU <= last {
				t.Fatalf("sku %s after %s: not in order", it.SKU, last)
			}
			last = it.SKU
			if _, ok := listed[it.SKU]; ok {
				listed[it.SKU] = true
				seen++
			}
		}
		if page.NextCursor == "" {
			break
		}
		path = "/v1/catalog?limit=2&cursor=" + page.NextCursor
	}
	if seen != 3 {
		t.Fatalf("listed %v, want all three new items once", listed)
	}
}

// Runs after the races above: every balance equals the sum of its ledger,
// no balance or stock is negative, and every redemption has one debit.
func TestEveryBalanceEqualsItsLedgerAfterTheRaces(t *testing.T) {
	ctx := ctxT(t)
	db := rewardDB(t)
	var wrong, accounts, unmatched int
	err := db.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE a.balance <> COALESCE(l.total, 0) OR a.balance < 0), count(*)
		FROM accounts a
		LEFT JOIN (SELECT user_id, SUM(amount) AS total FROM ledger_entries GROUP BY user_id) l USING (user_id)`,
	).Scan(&wrong, &accounts)
	if err != nil {
		t.Fatal(err)
	}
	if wrong != 0 || accounts == 0 {
		t.Fatalf("%d of %d accounts disagree with their ledger", wrong, accounts)
	}
	err = db.QueryRow(ctx, `
		SELECT count(*) FROM redemptions r
		LEFT JOIN ledger_entries e ON e.redemption_id = r.id AND e.reason = 'redemption'
		WHERE e.id IS NULL OR e.amount <> -r.points`).Scan(&unmatched)
	if err != nil || unmatched != 0 {
		t.Fatalf("%d redemptions without their exact debit (%v)", unmatched, err)
	}
}
