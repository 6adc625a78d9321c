package http_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govern/kit/auth"
	"github.com/govern/kit/httpx"
	"github.com/govern/reviewer/app"
	"github.com/govern/reviewer/domain"
	httpport "github.com/govern/reviewer/ports/http"
)

const (
	secret   = "test-secret"
	appToken = "sidecar-token-for-the-reviewer-unit-tests"
)

// memRepo knows one reviewer and an empty juror pool.
type memRepo struct {
	app.Repository
	mu          sync.Mutex
	closedCases []string
	saved       int // settings and states written
}

func (r *memRepo) Reviewer(_ context.Context, userID string) (domain.Reviewer, error) {
	if userID != "alice" {
		return domain.Reviewer{}, domain.ErrReviewerNotFound
	}
	return domain.Reviewer{UserID: "alice", State: domain.JurorActive}, nil
}

func (r *memRepo) DrawJury(context.Context, domain.DrawRequest, app.Selection) (domain.Draw, bool, error) {
	return domain.Draw{}, false, domain.ErrPoolTooSmall
}

func (r *memRepo) RecordDecision(_ context.Context, res domain.CaseResult) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closedCases = append(r.closedCases, res.CaseID)
	return true, nil
}

func (r *memRepo) SaveSetting(context.Context, string, []byte) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.saved++
	return int64(r.saved), nil
}

func (r *memRepo) ChangeState(_ context.Context, c domain.StateChange, _ *time.Time) (domain.Transition, bool, error) {
	if c.UserID != "alice" {
		return domain.Transition{}, false, domain.ErrReviewerNotFound
	}
	if err := c.Allowed(domain.JurorSuspended); err != nil {
		return domain.Transition{}, false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.saved++
	return domain.Transition{From: domain.JurorSuspended, To: c.To}, true, nil
}

type nopPublisher struct{}

func (nopPublisher) TaskAssigned(context.Context, app.TaskAssigned) error { return nil }

func newServer(t *testing.T) (http.Handler, *memRepo) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	repo := &memRepo{}
	engine := httpx.NewEngine(log, appToken, func(context.Context) error { return nil })
	httpport.Register(engine, app.New(repo, nopPublisher{}, log), log, secret)
	return engine, repo
}

func token(t *testing.T, sub string, roles ...string) string {
	t.Helper()
	tok, err := auth.Mint(secret, sub, roles, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type answer struct {
	status int
	code   string
	body   map[string]any
}

func call(t *testing.T, h http.Handler, method, path, tok, body string) answer {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set("dapr-api-token", appToken) // as the sidecar sends it
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := answer{status: rec.Code}
	_ = json.Unmarshal(rec.Body.Bytes(), &a.body)
	if e, ok := a.body["error"].(map[string]any); ok {
		a.code, _ = e["code"].(string)
	}
	return a
}

func TestChecksRunInContractOrder(t *testing.T) {
	t.Parallel()
	h, _ := newServer(t)
	alice, bob, ops := token(t, "alice"), token(t, "bob"), token(t, "root", "ops")
	cases := []struct {
		name, method, path, tok, body string
		status                        int
	}{
		{"no token", "PUT", "/v1/users/alice/profile", "", `{`, 401},
		{"bad token", "GET", "/v1/pool-rule", "garbage", ``, 401},
		{"non-operator sets a profile", "PUT", "/v1/users/alice/profile", alice, `{`, 403},
		{"operator sends malformed JSON", "PUT", "/v1/users/alice/profile", ops, `{`, 400},
		{"operator omits last_active_at", "PUT", "/v1/users/alice/profile", ops, `{"tags":[]}`, 400},
		{"operator sends an unknown field", "PUT", "/v1/users/alice/profile", ops, `{"tags":[],"last_active_at":"2026-01-01T00:00:00Z","x":1}`, 400},
		{"profile in the far future", "PUT", "/v1/users/alice/profile", ops, `{"tags":[],"last_active_at":"2999-01-01T00:00:00Z"}`, 400},
		{"another user's reviewer record", "GET", "/v1/reviewers/alice", bob, ``, 403},
		{"another user's tasks", "GET", "/v1/reviewers/alice/tasks", bob, ``, 403},
		{"malformed cursor", "GET", "/v1/reviewers/alice/tasks?cursor=not-a-cursor", alice, ``, 400},
		{"own reviewer record", "GET", "/v1/reviewers/alice", alice, ``, 200},
		{"operator reads a stranger", "GET", "/v1/reviewers/nobody", ops, ``, 404},
		{"non-operator sets the pool rule", "PUT", "/v1/pool-rule", alice, `{"required_tags":[],"active_within":"1h"}`, 403},
		{"pool rule under a second", "PUT", "/v1/pool-rule", ops, `{"required_tags":[],"active_within":"10ms"}`, 400},
		{"anyone reads the pool rule", "GET", "/v1/pool-rule", bob, ``, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := call(t, h, tc.method, tc.path, tc.tok, tc.body); got.status != tc.status {
				t.Fatalf("status = %d (%v), want %d", got.status, got.body, tc.status)
			}
		})
	}
}

func TestDefaultPoolRuleIsShownAsInTheContract(t *testing.T) {
	t.Parallel()
	h, _ := newServer(t)
	got := call(t, h, "GET", "/v1/pool-rule", token(t, "bob"), "")
	if got.body["active_within"] != "168h" {
		t.Fatalf("body = %v", got.body)
	}
	if tags, ok := got.body["required_tags"].([]any); !ok || len(tags) != 0 {
		t.Fatalf("required_tags = %v, want []", got.body["required_tags"])
	}
}

func TestJuryRequests(t *testing.T) {
	t.Parallel()
	h, _ := newServer(t)
	valid := `{"draw_id":"d1","case_id":"c1","size":3,"exclude":["r"],"target":{"kind":"post","id":"p","owner_id":"o"},"reason":"spam","deadline":"2030-01-01T00:00:00Z"}`
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"too few eligible jurors", valid, 200, ""},
		{"malformed JSON", `{"draw_id":`, 400, "invalid_argument"},
		{"size zero", strings.Replace(valid, `"size":3`, `"size":0`, 1), 400, "invalid_argument"},
		{"size as a string", strings.Replace(valid, `"size":3`, `"size":"3"`, 1), 400, "invalid_argument"},
		{"unknown kind", strings.Replace(valid, `"post"`, `"video"`, 1), 400, "invalid_argument"},
		{"deadline not RFC 3339", strings.Replace(valid, `2030-01-01T00:00:00Z`, `tomorrow`, 1), 400, "invalid_argument"},
		{"missing draw id", strings.Replace(valid, `"d1"`, `""`, 1), 400, "invalid_argument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := call(t, h, "POST", "/internal/juries", "", tc.body)
			if got.status != tc.status || got.code != tc.code {
				t.Fatalf("answer = %d %q (%v), want %d %q", got.status, got.code, got.body, tc.status, tc.code)
			}
		})
	}
}

func TestCloseTaskRejectsUnknownReasons(t *testing.T) {
	t.Parallel()
	h, _ := newServer(t)
	got := call(t, h, "POST", "/internal/tasks/close", "", `{"case_id":"c1","juror_id":"a","reason":"bored"}`)
	if got.status != 400 {
		t.Fatalf("status = %d, want 400", got.status)
	}
}

func TestSubscriptionOutcomes(t *testing.T) {
	t.Parallel()
	h, repo := newServer(t)
	cases := []struct {
		name, path, data, want string
	}{
		{"decision closes the case's tasks", httpport.RouteCaseDecided, `{"case_id":"c1","decision":"upheld"}`, "SUCCESS"},
		{"decision without a case id", httpport.RouteCaseDecided, `{"decision":"upheld"}`, "DROP"},
		{"decision that is not an object", httpport.RouteCaseDecided, `"c1"`, "DROP"},
		{"activity without a user", httpport.RouteUserActivity, `{"at":"2026-01-01T00:00:00Z"}`, "DROP"},
		{"activity with a bad time", httpport.RouteUserActivity, `{"user_id":"u","at":"yesterday"}`, "DROP"},
		{"activity far in the future", httpport.RouteUserActivity, `{"user_id":"u","at":"2999-01-01T00:00:00Z"}`, "DROP"},
	}
	for _, tc := range cases {
		got := call(t, h, "POST", tc.path, "", `{"id":"e1","topic":"t","data":`+tc.data+`}`)
		if got.status != 200 || got.body["status"] != tc.want {
			t.Errorf("%s: answer = %d %v, want %s", tc.name, got.status, got.body, tc.want)
		}
	}
	if len(repo.closedCases) != 1 || repo.closedCases[0] != "c1" {
		t.Fatalf("closed cases = %v", repo.closedCases)
	}
}

func TestNewEndpointsCheckInContractOrderAndWriteNothingOnBadInput(t *testing.T) {
	t.Parallel()
	h, repo := newServer(t)
	alice, bob, ops := token(t, "alice"), token(t, "bob"), token(t, "root", "ops")
	fatigue := `{"max_per_day":10,"max_open":2,"cooldown":"0s"}`
	adjust := `{"interval":"1m","window":10,"min_tasks":5,"max_timeout_ratio":0.5,"min_agreement_rate":0.2,"suspension":"1h"}`
	cases := []struct {
		name, method, path, tok, body string
		status                        int
		code                          string
	}{
		{"fatigue without token", "PUT", "/v1/fatigue", "", fatigue, 401, "unauthenticated"},
		{"fatigue by a user", "PUT", "/v1/fatigue", alice, fatigue, 403, "forbidden"},
		{"fatigue malformed", "PUT", "/v1/fatigue", ops, `{"max_per_day":`, 400, "invalid_argument"},
		{"fatigue missing max_open", "PUT", "/v1/fatigue", ops, `{"max_per_day":10,"cooldown":"0s"}`, 400, "invalid_argument"},
		{"fatigue zero per day", "PUT", "/v1/fatigue", ops, `{"max_per_day":0,"max_open":2,"cooldown":"0s"}`, 400, "invalid_argument"},
		{"fatigue as strings", "PUT", "/v1/fatigue", ops, `{"max_per_day":"10","max_open":2,"cooldown":"0s"}`, 400, "invalid_argument"},
		{"fatigue fractional", "PUT", "/v1/fatigue", ops, `{"max_per_day":1.5,"max_open":2,"cooldown":"0s"}`, 400, "invalid_argument"},
		{"fatigue cooldown under a second", "PUT", "/v1/fatigue", ops, `{"max_per_day":10,"max_open":2,"cooldown":"10ms"}`, 400, "invalid_argument"},
		{"fatigue unknown field", "PUT", "/v1/fatigue", ops, `{"max_per_day":10,"max_open":2,"cooldown":"0s","x":1}`, 400, "invalid_argument"},
		{"adjustment by a user", "PUT", "/v1/adjustment", bob, adjust, 403, "forbidden"},
		{"adjustment ratio above one", "PUT", "/v1/adjustment", ops, strings.Replace(adjust, "0.5", "1.5", 1), 400, "invalid_argument"},
		{"adjustment min_tasks above window", "PUT", "/v1/adjustment", ops, strings.Replace(adjust, `"min_tasks":5`, `"min_tasks":50`, 1), 400, "invalid_argument"},
		{"adjustment missing window", "PUT", "/v1/adjustment", ops, strings.Replace(adjust, `"window":10,`, ``, 1), 400, "invalid_argument"},
		{"pool rule with an empty tag", "PUT", "/v1/pool-rule", ops, `{"required_tags":[""],"active_within":"1h"}`, 400, "invalid_argument"},
		{"state without token", "PUT", "/v1/reviewers/alice/state", "", `{"state":"paused"}`, 401, "unauthenticated"},
		{"state of another user", "PUT", "/v1/reviewers/alice/state", bob, `{"state":"paused"}`, 403, "forbidden"},
		{"state malformed", "PUT", "/v1/reviewers/alice/state", alice, `{"state":`, 400, "invalid_argument"},
		{"state unknown", "PUT", "/v1/reviewers/alice/state", alice, `{"state":"asleep"}`, 400, "invalid_argument"},
		{"user suspends themselves", "PUT", "/v1/reviewers/alice/state", alice, `{"state":"suspended"}`, 400, "invalid_argument"},
		{"candidate cannot be set", "PUT", "/v1/reviewers/alice/state", ops, `{"state":"candidate"}`, 400, "invalid_argument"},
		{"reason too long", "PUT", "/v1/reviewers/alice/state", ops, `{"state":"paused","reason":"` + strings.Repeat("x", 501) + `"}`, 400, "invalid_argument"},
		{"state of a stranger", "PUT", "/v1/reviewers/nobody/state", ops, `{"state":"paused"}`, 404, "not_found"},
		{"suspended user resumes", "PUT", "/v1/reviewers/alice/state", alice, `{"state":"active"}`, 409, "state_locked"},
		{"stream of another user", "GET", "/v1/reviewers/alice/stream", bob, ``, 403, "forbidden"},
		{"stream without token", "GET", "/v1/reviewers/alice/stream", "", ``, 401, "unauthenticated"},
	}
	for _, tc := range cases {
		got := call(t, h, tc.method, tc.path, tc.tok, tc.body)
		if got.status != tc.status || got.code != tc.code {
			t.Errorf("%s: answer = %d %q (%v), want %d %q", tc.name, got.status, got.code, got.body, tc.status, tc.code)
		}
	}
	if repo.saved != 0 {
		t.Fatalf("%d writes for bad input", repo.saved)
	}
	if got := call(t, h, "GET", "/v1/fatigue", bob, ""); got.status != 200 || got.body["max_open"] != 10.0 || got.body["cooldown"] != "0s" {
		t.Fatalf("fatigue after bad input = %v", got.body)
	}
}

func TestOperatorSettingsApplyAtOnceOnTheAnsweringReplica(t *testing.T) {
	t.Parallel()
	h, _ := newServer(t)
	ops := token(t, "root", "ops")
	if got := call(t, h, "PUT", "/v1/fatigue", ops, `{"max_per_day":5,"max_open":1,"cooldown":"90s"}`); got.status != 200 {
		t.Fatalf("put = %d %v", got.status, got.body)
	}
	got := call(t, h, "GET", "/v1/fatigue", token(t, "bob"), "")
	if got.body["max_per_day"] != 5.0 || got.body["max_open"] != 1.0 || got.body["cooldown"] != "1m30s" {
		t.Fatalf("fatigue = %v", got.body)
	}
}
