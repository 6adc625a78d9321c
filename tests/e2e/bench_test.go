package e2e

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/govern/tests/platform"
)

// BenchmarkRoundLatency runs whole rounds one after another and measures, from
// the deciding vote's 202, how long until GET /v1/cases shows the decision and
// until the reward ledger shows the deciding juror's credit. Run with
// `make bench` (BENCHTIME=20x by default: twenty rounds).
func BenchmarkRoundLatency(b *testing.B) {
	ctx := context.Background()
	var decided, credited []time.Duration
	for i := 0; i < b.N; i++ {
		d, c, err := oneRound(ctx)
		if err != nil {
			b.Fatal(err)
		}
		decided, credited = append(decided, d), append(credited, c)
	}
	report := func(name string, ds []time.Duration) {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		pct := func(p float64) time.Duration { return ds[int(p*float64(len(ds)-1))] }
		b.ReportMetric(float64(pct(0.5).Milliseconds()), name+"-p50-ms")
		b.ReportMetric(float64(pct(0.9).Milliseconds()), name+"-p90-ms")
		b.ReportMetric(float64(pct(0.99).Milliseconds()), name+"-p99-ms")
		fmt.Printf("%s over %d rounds: p50 %s  p90 %s  p99 %s  max %s\n", name, len(ds),
			pct(0.5).Round(time.Millisecond), pct(0.9).Round(time.Millisecond),
			pct(0.99).Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
	}
	report("last-vote-to-decision", decided)
	report("last-vote-to-credit", credited)
}

func oneRound(ctx context.Context) (toDecision, toCredit time.Duration, err error) {
	reporter := unique("bench-reporter")
	body := map[string]any{"reporter_id": reporter, "reason": "bench",
		"target": map[string]any{"kind": "review", "id": unique("bench-target"), "owner_id": unique("bench-owner")}}
	resp, err := plat.As("report", reporter).Do(ctx, "POST", "/v1/reports", body)
	if err != nil || resp.Status != 202 {
		return 0, 0, fmt.Errorf("report: %v %v", resp, err)
	}
	var rc receipt
	_ = resp.JSON(&rc)
	jurors, err := drawnJurors(ctx, rc.CaseID, 5)
	if err != nil {
		return 0, 0, err
	}
	var last time.Time
	for _, j := range jurors[:3] {
		resp, err := vote(ctx, rc.CaseID, j, "uphold")
		if err != nil || resp.Status != 202 {
			return 0, 0, fmt.Errorf("vote: %v %v", resp, err)
		}
		last = time.Now()
	}
	ops := plat.As("report", "ops-bench", "ops")
	decider := jurors[2]
	for toDecision == 0 || toCredit == 0 {
		if time.Since(last) > 30*time.Second {
			return 0, 0, fmt.Errorf("case %s not decided and credited within 30s", rc.CaseID)
		}
		if toDecision == 0 {
			r, err := ops.Do(ctx, "GET", "/v1/cases/"+rc.CaseID, nil)
			if err == nil && r.Map()["status"] == "upheld" {
				toDecision = time.Since(last)
			}
		}
		if toCredit == 0 {
			r, err := plat.As("reward", decider).Do(ctx, "GET", "/v1/accounts/"+decider+"?limit=500", nil)
			var a account
			if err == nil && r.Status == 200 && r.JSON(&a) == nil {
				if n, _ := a.creditsFor(rc.CaseID); n == 1 {
					toCredit = time.Since(last)
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return toDecision, toCredit, nil
}

// drawnJurors is jurorsOf without a *testing.T, for benchmarks.
func drawnJurors(ctx context.Context, caseID string, size int) ([]string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var jurors []string
		for _, u := range pool {
			resp, err := plat.As("reviewer", u).Do(ctx, "GET", "/v1/reviewers/"+u+"/tasks?limit=500", nil)
			if err != nil || resp.Status != 200 {
				return nil, fmt.Errorf("tasks of %s: %v %v", u, resp, err)
			}
			var tasks struct {
				Items []struct {
					CaseID string `json:"case_id"`
				} `json:"items"`
			}
			_ = resp.JSON(&tasks)
			for _, tk := range tasks.Items {
				if tk.CaseID == caseID {
					jurors = append(jurors, u)
				}
			}
		}
		if len(jurors) == size {
			r, err := platform.Client{Base: plat.AppURL("report"), Token: platform.Token("ops", "ops")}.Do(ctx, "GET", "/v1/cases/"+caseID, nil)
			if err == nil && r.Map()["status"] == "voting" {
				return jurors, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, fmt.Errorf("jury for %s not drawn within 30s", caseID)
}
