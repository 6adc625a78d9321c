package http_test

import (
	"context"
	"encoding/json"
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

const secret = "test-secret"

type memoryRules struct{ current domain.VersionedRules }

func (m *memoryRules) Current(context.Context) (domain.VersionedRules, error) { return m.current, nil }

func (m *memoryRules) Append(_ context.Context, r domain.Rules, _ string) (domain.VersionedRules, error) {
	m.current = domain.VersionedRules{Rules: r, Version: m.current.Version + 1}
	return m.current, nil
}

type memoryAccounts struct{ entries map[string][]domain.Entry } // newest first

func (m memoryAccounts) Statement(_ context.Context, userID string, beforeID int64, limit int) (int64, []domain.Entry, error) {
	var balance int64
	page := []domain.Entry{}
	for _, e := range m.entries[userID] {
		balance += e.Amount
		if (beforeID == 0 || e.ID < beforeID) && len(page) < limit {
			page = append(page, e)
		}
	}
	return balance, page, nil
}

func newServer() nethttp.Handler {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	accounts := memoryAccounts{entries: map[string][]domain.Entry{"alice": {
		{ID: 3, UserID: "alice", Amount: 10, Reason: domain.ReasonJuryVote, CaseID: "c3", At: at},
		{ID: 2, UserID: "alice", Amount: 15, Reason: domain.ReasonJuryVote, CaseID: "c2", At: at},
		{ID: 1, UserID: "alice", Amount: 15, Reason: domain.ReasonJuryVote, CaseID: "c1", At: at},
	}}}
	rules := &memoryRules{current: domain.VersionedRules{Rules: domain.DefaultRules(), Version: 1}}
	engine := httpx.NewEngine(slog.New(slog.DiscardHandler), "", func(context.Context) error { return nil })
	httpport.NewServer(app.New(app.Repositories{Rules: rules, Accounts: accounts})).Register(engine.Group("/v1", auth.Middleware(secret)))
	return engine
}

func token(t *testing.T, sub string, roles ...string) string {
	t.Helper()
	tok, err := auth.Mint(secret, sub, roles, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func call(t *testing.T, h nethttp.Handler, method, path, tok, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, path, rec.Body, err)
	}
	return rec.Code, out
}

func TestChecksRunInContractOrder(t *testing.T) {
	t.Parallel()
	h := newServer()
	alice, bob, ops := token(t, "alice"), token(t, "bob"), token(t, "op", "ops")
	tests := []struct {
		name, method, path, tok, body string
		want                          int
	}{
		{"no token", "GET", "/v1/rules", "", "", 401},
		{"no token beats bad input", "PUT", "/v1/rules", "", "{", 401},
		{"non-operator cannot set rules even with a bad body", "PUT", "/v1/rules", alice, "{", 403},
		{"another user's account, even with a bad cursor", "GET", "/v1/accounts/alice?cursor=%%%", bob, "", 403},
		{"own account with a bad cursor", "GET", "/v1/accounts/alice?cursor=!!", alice, "", 400},
		{"own account with a bad limit", "GET", "/v1/accounts/alice?limit=ten", alice, "", 400},
		{"rules with a missing field", "PUT", "/v1/rules", ops, `{"points_per_vote":1,"majority_bonus":1}`, 400},
		{"rules with a fractional value", "PUT", "/v1/rules", ops, `{"points_per_vote":1.5,"majority_bonus":1,"daily_cap":1}`, 400},
		{"rules out of range", "PUT", "/v1/rules", ops, `{"points_per_vote":1,"majority_bonus":1,"daily_cap":1000001}`, 400},
		{"rules with an unknown field", "PUT", "/v1/rules", ops, `{"points_per_vote":1,"majority_bonus":1,"daily_cap":1,"x":1}`, 400},
		{"operator reads any account", "GET", "/v1/accounts/alice", ops, "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, body := call(t, h, tt.method, tt.path, tt.tok, tt.body)
			if code != tt.want {
				t.Fatalf("status = %d, want %d (body %v)", code, tt.want, body)
			}
			if code >= 400 {
				if _, ok := body["error"].(map[string]any)["code"]; !ok {
					t.Fatalf("body %v lacks the error envelope", body)
				}
			}
		})
	}
}

func TestUserWithoutEntriesHasAnEmptyAccount(t *testing.T) {
	t.Parallel()
	code, body := call(t, newServer(), "GET", "/v1/accounts/newcomer", token(t, "newcomer"), "")
	if code != 200 {
		t.Fatalf("status = %d, want 200", code)
	}
	entries, ok := body["entries"].([]any)
	if body["balance"] != 0.0 || !ok || len(entries) != 0 || body["user_id"] != "newcomer" {
		t.Fatalf("body = %v, want user_id newcomer, balance 0, entries []", body)
	}
}

func TestAccountPagesFollowTheCursorNewestFirst(t *testing.T) {
	t.Parallel()
	h, alice := newServer(), token(t, "alice")
	var ids []any
	path := "/v1/accounts/alice?limit=2"
	for range 3 {
		code, body := call(t, h, "GET", path, alice, "")
		if code != 200 || body["balance"] != 40.0 {
			t.Fatalf("status %d body %v, want 200 with balance 40", code, body)
		}
		for _, e := range body["entries"].([]any) {
			ids = append(ids, e.(map[string]any)["id"])
		}
		next, _ := body["next_cursor"].(string)
		if next == "" {
			break
		}
		path = "/v1/accounts/alice?limit=2&cursor=" + next
	}
	if got := len(ids); got != 3 || ids[0] != "3" || ids[1] != "2" || ids[2] != "1" {
		t.Fatalf("entry ids = %v, want [3 2 1]", ids)
	}
}

func TestOperatorUpdatesRulesToANewVersion(t *testing.T) {
	t.Parallel()
	h := newServer()
	code, body := call(t, h, "PUT", "/v1/rules", token(t, "op", "ops"), `{"points_per_vote":20,"majority_bonus":0,"daily_cap":0}`)
	if code != 200 || body["version"] != 2.0 || body["points_per_vote"] != 20.0 || body["daily_cap"] != 0.0 {
		t.Fatalf("PUT = %d %v, want 200 with version 2", code, body)
	}
	_, body = call(t, h, "GET", "/v1/rules", token(t, "alice"), "")
	if body["version"] != 2.0 || body["points_per_vote"] != 20.0 {
		t.Fatalf("GET after PUT = %v, want version 2", body)
	}
}
