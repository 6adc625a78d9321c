package e2e

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/govern/tests/platform"
)

// Forty users race for the last five units, two at a time: exactly two are
// sold, every refusal quotes the stock left under the item's lock (1), and
// every key repeats its first answer, even after a restock.
func TestRedemptionsRacingForTheLastUnitsSellExactlyThemAndReplay(t *testing.T) {
	ctx := ctxT(t)
	db := rewardDB(t)
	users := make([]string, 40)
	keys := make([]string, len(users))
	for i := range users {
		users[i] = unique(fmt.Sprintf("lastunits%02d", i))
		keys[i] = unique("key")
	}
	earnPoints(t, ctx, db, users...) // 15 points each
	sku := addItem(t, ctx, 3, 5)

	resps := concurrently(t, len(users), func(i int) (platform.Response, error) {
		return redeem(ctx, users[i], keys[i], sku, 2)
	})
	if got := countStatuses(resps); got["201"] != 2 || got["409 insufficient_stock"] != 38 {
		t.Fatalf("answers %v, want 2 × 201 and 38 × 409 insufficient_stock", got)
	}
	want := fmt.Sprintf("2 of %s requested, 1 in stock", sku)
	for _, r := range resps {
		if r.Status == 409 && !bytes.Contains(r.Body, []byte(want)) {
			t.Fatalf("refusal %s, want it to say %q", r, want)
		}
	}
	if s := stockOf(t, ctx, sku); s != 1 {
		t.Fatalf("stock %d, want 1", s)
	}
	var sold, refused int
	if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE redemption_id IS NOT NULL), count(*) FILTER (WHERE refusal_code = 'insufficient_stock')
		FROM redemption_requests WHERE sku = $1`, sku).Scan(&sold, &refused); err != nil || sold != 2 || refused != 38 {
		t.Fatalf("stored answers: %d sold, %d refused (%v), want 2 and 38", sold, refused, err)
	}

	resp, err := plat.As("reward", "ops-mall", "ops").Do(ctx, "PUT", "/v1/catalog/"+sku+"/stock", map[string]int64{"stock": 100})
	must(t, resp, err, 200)
	again := concurrently(t, len(users), func(i int) (platform.Response, error) {
		return redeem(ctx, users[i], keys[i], sku, 2)
	})
	for i, r := range again {
		if r.Status != resps[i].Status || !bytes.Equal(r.Body, resps[i].Body) {
			t.Fatalf("%s replayed %s, first answer %s", users[i], r, resps[i])
		}
	}
	if s := stockOf(t, ctx, sku); s != 100 {
		t.Fatalf("stock %d after replays, want 100", s)
	}
}

// Redemptions that arrive together share a transaction, and a bad one among
// them (a key reused with another body, an item that does not exist) fails
// that transaction: every redemption of the group is then tried again on
// its own. Thirty at once, ten of them bad: each gets its own answer, the
// good ones are sold exactly once, and the unknown item's keys leave
// nothing behind.
func TestBadRedemptionsAmongConcurrentOnesAnswerOnlyForThemselves(t *testing.T) {
	ctx := ctxT(t)
	db := rewardDB(t)
	users := make([]string, 30)
	keys := make([]string, len(users))
	for i := range users {
		users[i] = unique(fmt.Sprintf("grouped%02d", i))
		keys[i] = unique("key")
	}
	earnPoints(t, ctx, db, users...) // 15 points each
	sku := addItem(t, ctx, 3, 1000)
	missing := unique("no-such-sku")
	for i := range 5 { // keys that will be reused with another quantity
		resp, err := redeem(ctx, users[i], keys[i], sku, 1)
		must(t, resp, err, 201)
	}
	resps := concurrently(t, len(users), func(i int) (platform.Response, error) {
		switch {
		case i < 5:
			return redeem(ctx, users[i], keys[i], sku, 2)
		case i < 10:
			return redeem(ctx, users[i], keys[i], missing, 1)
		default:
			return redeem(ctx, users[i], keys[i], sku, 1)
		}
	})
	if got := countStatuses(resps); got["201"] != 20 || got["409 idempotency_key_reused"] != 5 || got["404 unknown_sku"] != 5 {
		t.Fatalf("answers %v, want 20 × 201, 5 × 409 idempotency_key_reused, 5 × 404 unknown_sku", got)
	}
	for i, r := range resps {
		want := map[bool]string{true: "409", false: "201"}[i < 5]
		if i >= 5 && i < 10 {
			want = "404"
		}
		if strconv.Itoa(r.Status) != want {
			t.Fatalf("%s: %s, want %s", users[i], r, want)
		}
	}
	if s := stockOf(t, ctx, sku); s != 1000-5-20 {
		t.Fatalf("stock %d, want %d", s, 1000-5-20)
	}
	var left int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM redemption_requests WHERE sku = $1`, missing).Scan(&left); err != nil || left != 0 {
		t.Fatalf("the unknown item's keys left %d rows behind (%v)", left, err)
	}
	for i, u := range users {
		want := int64(12)
		if i >= 5 && i < 10 {
			want = 15
		}
		if b := statementOf(t, ctx, u).Balance; b != want {
			t.Fatalf("%s: balance %d, want %d", u, b, want)
		}
	}
}
