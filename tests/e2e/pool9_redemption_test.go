package e2e

import (
	"bytes"
	"testing"
)

// An idempotency key belongs to its caller: the same caller repeating it
// with the same body gets the first answer again; with another body, 409
// idempotency_key_reused and nothing changes; another user's use of the same
// key is that user's own redemption.
func TestRedemptionKeyReusedWithAnotherBodyIsRefusedAndKeysArePerCaller(t *testing.T) {
	ctx := ctxT(t)
	db := rewardDB(t)
	alice, bob := unique("alice"), unique("bob")
	earnPoints(t, ctx, db, alice, bob) // 15 points each
	sku, other := addItem(t, ctx, 5, 10), addItem(t, ctx, 5, 10)
	key := unique("key")

	first, err := redeem(ctx, alice, key, sku, 1)
	must(t, first, err, 201)
	replay, err := redeem(ctx, alice, key, sku, 1)
	if must(t, replay, err, 201); !bytes.Equal(replay.Body, first.Body) {
		t.Fatalf("replay %s, want %s", replay, first)
	}
	for name, call := range map[string]func() (int64, string){
		"another quantity": func() (int64, string) { r, _ := redeem(ctx, alice, key, sku, 2); return int64(r.Status), r.ErrorCode() },
		"another item": func() (int64, string) {
			r, _ := redeem(ctx, alice, key, other, 1)
			return int64(r.Status), r.ErrorCode()
		},
	} {
		if status, code := call(); status != 409 || code != "idempotency_key_reused" {
			t.Errorf("same key, %s: %d %q, want 409 idempotency_key_reused", name, status, code)
		}
	}
	// A refusal is the key's answer too: the same body repeats it, another is refused.
	refusedKey := unique("key")
	refusal, err := redeem(ctx, alice, refusedKey, sku, 100)
	if must(t, refusal, err, 409); refusal.ErrorCode() != "insufficient_stock" {
		t.Fatalf("refusal %s", refusal)
	}
	again, err := redeem(ctx, alice, refusedKey, sku, 100)
	if must(t, again, err, 409); !bytes.Equal(again.Body, refusal.Body) {
		t.Fatalf("replayed refusal %s, want %s", again, refusal)
	}
	changed, err := redeem(ctx, alice, refusedKey, sku, 1)
	if must(t, changed, err, 409); changed.ErrorCode() != "idempotency_key_reused" {
		t.Fatalf("refused key with another body: %s", changed)
	}

	// Bob's use of Alice's key is Bob's own redemption.
	bobs, err := redeem(ctx, bob, key, sku, 1)
	must(t, bobs, err, 201)
	if bobs.Map()["redemption_id"] == first.Map()["redemption_id"] || bobs.Map()["user_id"] != bob {
		t.Fatalf("bob's redemption %s answers alice's %s", bobs, first)
	}
	if a, b := statementOf(t, ctx, alice).Balance, statementOf(t, ctx, bob).Balance; a != 10 || b != 10 {
		t.Fatalf("balances alice %d, bob %d; want 10 each (one redemption of 5)", a, b)
	}
	if s, o := stockOf(t, ctx, sku), stockOf(t, ctx, other); s != 8 || o != 10 {
		t.Fatalf("stock %d and %d, want 8 and 10", s, o)
	}
}
