package http_test

import (
	"testing"
)

func TestGoldSettingsCheckInContractOrderAndWriteNothingOnBadInput(t *testing.T) {
	t.Parallel()
	h, repo := newServer(t)
	alice, ops := token(t, "alice"), token(t, "root", "ops")
	good := `{"gold_rate":0.1,"min_gold":5,"min_gold_accuracy":0.05}`
	for _, tc := range []struct {
		name, tok, body string
		status          int
		code            string
	}{
		{"without token", "", good, 401, "unauthenticated"},
		{"by a user", alice, good, 403, "forbidden"},
		{"malformed", ops, `{"gold_rate":`, 400, "invalid_argument"},
		{"missing min_gold", ops, `{"gold_rate":0.1,"min_gold_accuracy":0.05}`, 400, "invalid_argument"},
		{"rate above one half", ops, `{"gold_rate":0.6,"min_gold":5,"min_gold_accuracy":0.05}`, 400, "invalid_argument"},
		{"one answer would judge", ops, `{"gold_rate":0.1,"min_gold":1,"min_gold_accuracy":0.05}`, 400, "invalid_argument"},
		{"accuracy one half", ops, `{"gold_rate":0.1,"min_gold":5,"min_gold_accuracy":0.5}`, 400, "invalid_argument"},
		{"unknown field", ops, `{"gold_rate":0.1,"min_gold":5,"min_gold_accuracy":0.05,"x":1}`, 400, "invalid_argument"},
	} {
		got := call(t, h, "PUT", "/v1/gold", tc.tok, tc.body)
		if got.status != tc.status || got.code != tc.code {
			t.Errorf("%s: answer = %d %q (%v), want %d %q", tc.name, got.status, got.code, got.body, tc.status, tc.code)
		}
	}
	if repo.saved != 0 {
		t.Fatalf("%d writes for bad input", repo.saved)
	}
	if got := call(t, h, "GET", "/v1/gold", alice, ""); got.body["gold_rate"] != 0.05 || got.body["min_gold"] != 7.0 {
		t.Fatalf("defaults = %v", got.body)
	}
	if got := call(t, h, "PUT", "/v1/gold", ops, good); got.status != 200 {
		t.Fatalf("put = %d %v", got.status, got.body)
	}
	if got := call(t, h, "GET", "/v1/gold", alice, ""); got.body["gold_rate"] != 0.1 || got.body["min_gold"] != 5.0 || got.body["min_gold_accuracy"] != 0.05 {
		t.Fatalf("gold = %v", got.body)
	}
}

// A juror's measured accuracy is for operators: the juror must not learn
// which of their tasks were gold.
func TestOnlyOperatorsSeeAJurorsGoldAccuracy(t *testing.T) {
	t.Parallel()
	h, _ := newServer(t)
	if got := call(t, h, "GET", "/v1/reviewers/alice", token(t, "alice"), ""); got.status != 200 || got.body["gold"] != nil {
		t.Fatalf("alice reads her record as %d %v", got.status, got.body)
	}
	got := call(t, h, "GET", "/v1/reviewers/alice", token(t, "root", "ops"), "")
	gold, _ := got.body["gold"].(map[string]any)
	if got.status != 200 || gold == nil || gold["answered"] != 0.0 || gold["accuracy"] != nil || gold["accuracy_upper_bound"] != 1.0 {
		t.Fatalf("an operator reads %d %v", got.status, got.body)
	}
}

func TestGoldVotesAndCasesFromTheReportServiceAreValidated(t *testing.T) {
	t.Parallel()
	h, _ := newServer(t)
	for name, tc := range map[string]struct{ path, body string }{
		"vote not a vote":    {"/internal/gold-votes", `{"case_id":"c1","juror_id":"alice","vote":"yes"}`},
		"vote without juror": {"/internal/gold-votes", `{"case_id":"c1","vote":"uphold"}`},
		"case without answer": {"/internal/gold-cases",
			`{"case_id":"c1","target":{"kind":"item","id":"i","owner_id":"o"},"reason":"fake"}`},
		"case of an unknown kind": {"/internal/gold-cases",
			`{"case_id":"c1","target":{"kind":"planet","id":"i","owner_id":"o"},"reason":"fake","answer":"uphold"}`},
	} {
		if got := call(t, h, "POST", tc.path, "", tc.body); got.status != 400 {
			t.Errorf("%s: %d %v, want 400", name, got.status, got.body)
		}
	}
}
