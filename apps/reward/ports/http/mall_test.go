package http_test

import (
	"context"
	"log/slog"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/govern/kit/auth"
	"github.com/govern/kit/httpx"

	"github.com/govern/reward/app"
	"github.com/govern/reward/domain"
	httpport "github.com/govern/reward/ports/http"
)

// memoryMall is a one-item mall whose transactions run one at a time.
type memoryMall struct {
	item    domain.Item
	balance map[string]int64
	answers map[string]app.Answer
	claimed map[string]domain.RedemptionRequest
	calls   int
}

func (m *memoryMall) InTx(ctx context.Context, fn func(context.Context, app.RedemptionTx) error) error {
	m.calls++
	return fn(ctx, m)
}

func (m *memoryMall) Redemptions(context.Context, string, int64, int) ([]domain.Redemption, error) {
	return nil, nil
}

func (m *memoryMall) ClaimKey(_ context.Context, req domain.RedemptionRequest, key string) (app.Answer, bool, error) {
	id := req.UserID + "/" + key
	if first, ok := m.claimed[id]; ok && first != req {
		return app.Answer{}, false, domain.ErrIdempotencyKeyReused
	}
	m.claimed[id] = req
	a, ok := m.answers[id]
	return a, !ok, nil
}

func (m *memoryMall) LockAccount(_ context.Context, userID string) (int64, error) {
	return m.balance[userID], nil
}

func (m *memoryMall) LockInOrder(context.Context, []string, []string) error { return nil }

func (m *memoryMall) LockItem(_ context.Context, sku string) (domain.Item, error) {
	if sku != m.item.SKU {
		return domain.Item{}, domain.ErrUnknownSKU
	}
	return m.item, nil
}

func (m *memoryMall) Refuse(_ context.Context, userID, key string, r *domain.Refusal) error {
	m.answers[userID+"/"+key] = app.Answer{Refusal: r}
	return nil
}

func (m *memoryMall) Record(_ context.Context, key string, r domain.Redemption) (domain.Redemption, error) {
	r.At = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	m.balance[r.UserID] -= r.Points
	m.item.Stock -= r.Quantity
	m.answers[r.UserID+"/"+key] = app.Answer{Redemption: r}
	return r, nil
}

func newMall() (nethttp.Handler, *memoryMall) {
	mall := &memoryMall{
		item:    domain.Item{SKU: "mug", Name: "Mug", Price: 7, Stock: 5},
		balance: map[string]int64{"alice": 15},
		answers: map[string]app.Answer{},
		claimed: map[string]domain.RedemptionRequest{},
	}
	engine := httpx.NewEngine(slog.New(slog.DiscardHandler), "", func(context.Context) error { return nil })
	httpport.NewServer(app.New(app.Repositories{Redemptions: mall})).Register(engine.Group("/v1", auth.Middleware(secret)))
	return engine, mall
}

func redeem(t *testing.T, h nethttp.Handler, tok, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "/v1/redemptions", strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestBadRedemptionsAreRefusedInContractOrderBeforeAnyTransaction(t *testing.T) {
	t.Parallel()
	alice, bob, ops := token(t, "alice"), token(t, "bob"), token(t, "op", "ops")
	good := `{"user_id":"alice","sku":"mug","quantity":1}`
	tests := []struct {
		name, tok, key, body string
		want                 int
	}{
		{"no token", "", "k", good, 401},
		{"someone else's points", bob, "k", good, 403},
		{"an operator for a user", ops, "k", good, 403},
		{"someone else's points and a bad quantity", bob, "k", `{"user_id":"alice","sku":"mug","quantity":-1}`, 403},
		{"missing idempotency key", alice, "", good, 400},
		{"malformed JSON", alice, "k", `{"user_id":"alice",`, 400},
		{"negative quantity", alice, "k", `{"user_id":"alice","sku":"mug","quantity":-1}`, 400},
		{"quantity beyond int64", alice, "k", `{"user_id":"alice","sku":"mug","quantity":9223372036854775808}`, 400},
		{"unknown field", alice, "k", `{"user_id":"alice","sku":"mug","quantity":1,"points":0}`, 400},
		{"invalid sku", alice, "k", `{"user_id":"alice","sku":"a b","quantity":1}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, mall := newMall()
			rec := redeem(t, h, tt.tok, tt.key, tt.body)
			if rec.Code != tt.want || !strings.Contains(rec.Body.String(), `"code"`) || mall.calls != 0 {
				t.Fatalf("got %d %s after %d transactions, want %d and none", rec.Code, rec.Body, mall.calls, tt.want)
			}
		})
	}
}

func TestRepeatedKeyGetsTheFirstAnswerWordForWord(t *testing.T) {
	t.Parallel()
	h, mall := newMall()
	alice := token(t, "alice")
	first := redeem(t, h, alice, "k1", `{"user_id":"alice","sku":"mug","quantity":2}`)
	again := redeem(t, h, alice, "k1", `{"user_id":"alice","sku":"mug","quantity":2}`)
	if first.Code != 201 || again.Code != 201 || first.Body.String() != again.Body.String() {
		t.Fatalf("first %d %s, again %d %s, want the same 201", first.Code, first.Body, again.Code, again.Body)
	}
	if again.Header().Get(httpport.ReplayedHeader) != "true" || mall.balance["alice"] != 1 {
		t.Fatalf("replay header %q, balance %d, want a marked replay and one redemption",
			again.Header().Get(httpport.ReplayedHeader), mall.balance["alice"])
	}
	refused := redeem(t, h, alice, "k2", `{"user_id":"alice","sku":"mug","quantity":1}`)
	mall.balance["alice"] = 100
	stillRefused := redeem(t, h, alice, "k2", `{"user_id":"alice","sku":"mug","quantity":1}`)
	if refused.Code != 409 || !strings.Contains(refused.Body.String(), "insufficient_points") ||
		stillRefused.Code != 409 || stillRefused.Body.String() != refused.Body.String() {
		t.Fatalf("refused %d %s, replay %d %s, want the same 409 insufficient_points",
			refused.Code, refused.Body, stillRefused.Code, stillRefused.Body)
	}
}

func TestKeyReusedForAnotherRequestIsAConflict(t *testing.T) {
	t.Parallel()
	h, mall := newMall()
	alice := token(t, "alice")
	first := redeem(t, h, alice, "k1", `{"user_id":"alice","sku":"mug","quantity":1}`)
	other := redeem(t, h, alice, "k1", `{"user_id":"alice","sku":"mug","quantity":2}`)
	if first.Code != 201 || other.Code != 409 || !strings.Contains(other.Body.String(), "idempotency_key_reused") {
		t.Fatalf("first %d %s, other body %d %s, want 201 then 409 idempotency_key_reused", first.Code, first.Body, other.Code, other.Body)
	}
	if mall.balance["alice"] != 8 || mall.item.Stock != 4 {
		t.Fatalf("balance %d, stock %d after the refused reuse, want 8 and 4", mall.balance["alice"], mall.item.Stock)
	}
}

func TestUnknownSkuIsNotFound(t *testing.T) {
	t.Parallel()
	h, _ := newMall()
	rec := redeem(t, h, token(t, "alice"), "k", `{"user_id":"alice","sku":"lamp","quantity":1}`)
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "unknown_sku") {
		t.Fatalf("got %d %s, want 404 unknown_sku", rec.Code, rec.Body)
	}
}
