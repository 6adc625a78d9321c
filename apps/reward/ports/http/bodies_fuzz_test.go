package http

import (
	"encoding/json"
	"errors"
	nethttp "net/http"
	"regexp"
	"testing"

	"github.com/govern/kit/httpx"
	"github.com/govern/kit/text"
	"github.com/govern/reward/domain"
)

// answeredAs400 checks a refusal the way the port answers it.
func answeredAs400(t *testing.T, err error) {
	t.Helper()
	var he *httpx.Error
	if !errors.As(err, &he) {
		he = mapError(err)
	}
	if he == nil || he.Status != nethttp.StatusBadRequest {
		t.Fatalf("refusal %v is not answered 400", err)
	}
}

// A rules body (PUT /v1/rules) is refused as a 400 or is rules within their
// ranges, every field given.
func FuzzRulesBody(f *testing.F) {
	for _, s := range []string{`{"points_per_vote":10,"majority_bonus":5,"daily_cap":1000}`, `{"points_per_vote":0,"majority_bonus":5,"daily_cap":1000}`,
		`{"points_per_vote":10,"majority_bonus":5}`, `{"points_per_vote":1e3,"majority_bonus":0,"daily_cap":0}`,
		`{"points_per_vote":9223372036854775808,"majority_bonus":0,"daily_cap":0}`, `{"points_per_vote":"10"}`, `{"version":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req putRulesRequest
		if err := httpx.Unmarshal(data, &req); err != nil {
			answeredAs400(t, err)
			return
		}
		if req.PointsPerVote == nil || req.MajorityBonus == nil || req.DailyCap == nil {
			return // the handler answers 400 "... is required"
		}
		r := domain.Rules{PointsPerVote: *req.PointsPerVote, MajorityBonus: *req.MajorityBonus, DailyCap: *req.DailyCap}
		if err := r.Validate(); err != nil {
			answeredAs400(t, err)
			return
		}
		if r.PointsPerVote < 1 || r.MajorityBonus < 0 || r.DailyCap < 0 || max(r.PointsPerVote, r.MajorityBonus, r.DailyCap) > domain.MaxRuleValue {
			t.Fatalf("accepted rules %+v", r)
		}
		out, _ := json.Marshal(rulesOut(domain.VersionedRules{Rules: r, Version: 1}))
		var back domain.Rules
		if err := json.Unmarshal(out, &back); err != nil || back != r {
			t.Fatalf("%+v written as %s reads back as %+v", r, out, back)
		}
	})
}

var safeSKU = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// A catalogue body (POST /v1/catalog) is refused as a 400 or is an item with
// a URL-safe sku, a printable name and a price and stock in range.
func FuzzCatalogueBody(f *testing.F) {
	for _, s := range []string{`{"sku":"mug-1","name":"Mug","price":100,"stock":5}`, `{"sku":"a/b","name":"x","price":1,"stock":0}`,
		`{"sku":"mug","name":" ","price":1,"stock":0}`, `{"sku":"mug","name":"x\u0007","price":1,"stock":0}`,
		`{"sku":"mug","name":"x","price":0,"stock":-1}`, `{"sku":"mug","name":"x"}`, `{"sku":"mug","name":"x","price":1.5,"stock":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req addItemRequest
		if err := httpx.Unmarshal(data, &req); err != nil {
			answeredAs400(t, err)
			return
		}
		if req.Price == nil || req.Stock == nil {
			return // the handler answers 400 "price and stock are required"
		}
		it, err := domain.NewItem(req.SKU, req.Name, *req.Price, *req.Stock)
		if err != nil {
			answeredAs400(t, err)
			return
		}
		if !safeSKU.MatchString(it.SKU) || text.Label("name", it.Name, domain.MaxNameLength) != nil ||
			it.Price < 1 || it.Price > domain.MaxPrice || it.Stock < 0 || it.Stock > domain.MaxStock {
			t.Fatalf("accepted item %+v", it)
		}
	})
}

// A redemption body (POST /v1/redemptions) with its Idempotency-Key is
// refused as a 400 or is a request of a storable user, a listed-form sku and
// a quantity in range under a printable key.
func FuzzRedemptionBody(f *testing.F) {
	for _, s := range []string{`{"user_id":"alice","sku":"mug-1","quantity":1}`, `{"user_id":"alice","sku":"mug-1","quantity":0}`,
		`{"user_id":"alice","sku":"mug-1","quantity":1001}`, `{"user_id":"al\u0000ice","sku":"m","quantity":1}`,
		`{"user_id":"alice","sku":"m","quantity":"1"}`, `{"user_id":"alice","sku":"m","quantity":1,"points":5}`} {
		f.Add([]byte(s), "key-1")
	}
	f.Add([]byte(`{"user_id":"alice","sku":"m","quantity":1}`), "")
	f.Add([]byte(`{"user_id":"alice","sku":"m","quantity":1}`), "key with spaces")
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		var req struct {
			UserID   string `json:"user_id"`
			SKU      string `json:"sku"`
			Quantity int64  `json:"quantity"`
		}
		if err := httpx.Unmarshal(data, &req); err != nil {
			answeredAs400(t, err)
			return
		}
		if err := domain.ValidateIdempotencyKey(key); err != nil {
			answeredAs400(t, err)
			return
		}
		r, err := domain.NewRedemptionRequest(req.UserID, req.SKU, req.Quantity)
		if err != nil {
			answeredAs400(t, err)
			return
		}
		if err := text.Key("Idempotency-Key", key); err != nil {
			t.Fatalf("accepted key: %v", err)
		}
		if err := text.ID("user_id", r.UserID); err != nil {
			t.Fatalf("accepted redemption: %v", err)
		}
		if !safeSKU.MatchString(r.SKU) || r.Quantity < 1 || r.Quantity > domain.MaxQuantity {
			t.Fatalf("accepted redemption %+v", r)
		}
	})
}

// Ledger, redemption and catalogue cursors are 400s unless this service
// issued them, and decode to the position they were made from.
func FuzzCursors(f *testing.F) {
	for _, c := range []string{encodeSeqCursor(41), encodeSeqCursor(1 << 62), encodeCursor("mug-1"), "", "MA", "LTE", "bnVsbA", "!", "e30"} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, cursor string) {
		if n, err := decodeSeqCursor(cursor); err != nil {
			answeredAs400(t, err)
		} else if cursor != "" {
			if n <= 0 {
				t.Fatalf("cursor %q read as position %d", cursor, n)
			}
			if back, err := decodeSeqCursor(encodeSeqCursor(n)); err != nil || back != n {
				t.Fatalf("position %d came back as %d (%v)", n, back, err)
			}
		}
		if sku, err := decodeCursor(cursor); err != nil {
			answeredAs400(t, err)
		} else if cursor != "" {
			if back, err := decodeCursor(encodeCursor(sku)); err != nil || back != sku {
				t.Fatalf("sku %q came back as %q (%v)", sku, back, err)
			}
		}
	})
}
