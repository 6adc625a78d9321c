package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/govern/tests/platform"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// unique returns an id no other test or run uses.
func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

// eventually polls cond until it holds or the time is up; it never asserts a
// duration, only that the platform gets there.
func eventually(t *testing.T, what string, within time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not reached within %s; last state: %s", what, within, last)
}

func must(t *testing.T, resp platform.Response, err error, status int) platform.Response {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != status {
		t.Fatalf("got %s, want status %d", resp, status)
	}
	return resp
}

type receipt struct {
	ReportID string `json:"report_id"`
	CaseID   string `json:"case_id"`
	Status   string `json:"status"`
}

// fileReport reports a fresh target owned by a fresh user.
func fileReport(t *testing.T, ctx context.Context, kind string) (receipt, string) {
	t.Helper()
	reporter := unique("reporter")
	body := map[string]any{
		"reporter_id": reporter,
		"target":      map[string]any{"kind": kind, "id": unique("target"), "owner_id": unique("owner")},
		"reason":      "counterfeit goods",
	}
	resp, err := plat.As("report", reporter).Do(ctx, "POST", "/v1/reports", body)
	must(t, resp, err, 202)
	var rc receipt
	if err := resp.JSON(&rc); err != nil || rc.CaseID == "" {
		t.Fatalf("receipt %s: %v", resp, err)
	}
	return rc, reporter
}

// caseOf reads a case as an operator.
func caseOf(t *testing.T, ctx context.Context, id string) map[string]any {
	t.Helper()
	resp, err := plat.As("report", "ops-reader", "ops").Do(ctx, "GET", "/v1/cases/"+id, nil)
	return must(t, resp, err, 200).Map()
}

// jurorsOf waits until the case's jury is drawn and recorded and returns who
// sits on it, learned from the pool members' task inboxes.
func jurorsOf(t *testing.T, ctx context.Context, caseID string, size int) []string {
	t.Helper()
	jurors, err := drawnJurors(ctx, caseID, size)
	if err != nil {
		t.Fatal(err)
	}
	return jurors
}

// substituteOf waits until a juror other than seated has an open task for
// the case (a substitute drawn into a jury of one) and returns them.
func substituteOf(t *testing.T, ctx context.Context, caseID string, within time.Duration, seated ...string) string {
	t.Helper()
	var substitute string
	eventually(t, "substitute drawn", within, func() (bool, string) {
		js, err := drawnJurors(ctx, caseID, 1)
		if err != nil || len(js) == 0 {
			return false, "no open task for a substitute yet"
		}
		for _, j := range js {
			if !slices.Contains(seated, j) {
				substitute = j
			}
		}
		return substitute != "", fmt.Sprint("open tasks: ", js)
	})
	return substitute
}

func vote(ctx context.Context, caseID, juror, decision string) (platform.Response, error) {
	return plat.As("report", juror).Do(ctx, "POST", "/v1/cases/"+caseID+"/votes", map[string]any{"decision": decision})
}

// waitClosed waits until the case reaches a closing status and returns it.
func waitClosed(t *testing.T, ctx context.Context, caseID string, within time.Duration) map[string]any {
	t.Helper()
	var c map[string]any
	eventually(t, "case "+caseID+" closed", within, func() (bool, string) {
		c = caseOf(t, ctx, caseID)
		s, _ := c["status"].(string)
		return s != "pending" && s != "voting", "status " + s
	})
	return c
}

type account struct {
	UserID  string `json:"user_id"`
	Balance int64  `json:"balance"`
	Entries []struct {
		ID     any    `json:"id"`
		Amount int64  `json:"amount"`
		Reason string `json:"reason"`
		CaseID string `json:"case_id"`
	} `json:"entries"`
}

func accountOf(t *testing.T, ctx context.Context, user string) account {
	t.Helper()
	resp, err := plat.As("reward", user).Do(ctx, "GET", "/v1/accounts/"+user, nil)
	must(t, resp, err, 200)
	var a account
	if err := resp.JSON(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

// creditsFor sums the entries of a case in user's ledger.
func (a account) creditsFor(caseID string) (n int, sum int64) {
	for _, e := range a.Entries {
		if e.CaseID == caseID {
			n++
			sum += e.Amount
		}
	}
	return n, sum
}
