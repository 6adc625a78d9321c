package e2e

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
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
	var decided, published, credited []time.Duration
	for i := 0; i < b.N; i++ {
		caseID, last, d, c, err := oneRound(ctx)
		if err != nil {
			b.Fatal(err)
		}
		decided, credited = append(decided, d), append(credited, c)
		published = append(published, publishedAfter(b, caseID, last))
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
	report("last-vote-to-case-decided", published)
	report("last-vote-to-credit", credited)
}

// publishedAfter is how long after last the case's case-decided message
// entered the Redis stream (stream ids are the broker's insertion time in ms).
func publishedAfter(b *testing.B, caseID string, last time.Time) time.Duration {
	out := redis(b, "XRANGE", "case-decided", "-", "+")
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if !strings.Contains(l, caseID) {
			continue
		}
		for j := i; j >= 0; j-- { // the entry id precedes its fields
			if ms, _, ok := strings.Cut(lines[j], "-"); ok {
				if n, err := strconv.ParseInt(ms, 10, 64); err == nil && len(ms) == 13 {
					return time.UnixMilli(n).Sub(last)
				}
			}
		}
	}
	b.Fatalf("no case-decided message for %s", caseID)
	return 0
}

func oneRound(ctx context.Context) (caseID string, last time.Time, toDecision, toCredit time.Duration, err error) {
	reporter := unique("bench-reporter")
	body := map[string]any{"reporter_id": reporter, "reason": "bench",
		"target": map[string]any{"kind": "review", "id": unique("bench-target"), "owner_id": unique("bench-owner")}}
	resp, err := plat.As("report", reporter).Do(ctx, "POST", "/v1/reports", body)
	if err != nil || resp.Status != 202 {
		return "", last, 0, 0, fmt.Errorf("report: %v %v", resp, err)
	}
	var rc receipt
	_ = resp.JSON(&rc)
	jurors, err := drawnJurors(ctx, rc.CaseID, 5)
	if err != nil {
		return "", last, 0, 0, err
	}
	for _, j := range jurors[:3] {
		resp, err := vote(ctx, rc.CaseID, j, "uphold")
		if err != nil || resp.Status != 202 {
			return "", last, 0, 0, fmt.Errorf("vote: %v %v", resp, err)
		}
		last = time.Now()
	}
	ops := plat.As("report", "ops-bench", "ops")
	decider := jurors[2]
	for toDecision == 0 || toCredit == 0 {
		if time.Since(last) > 30*time.Second {
			return "", last, 0, 0, fmt.Errorf("case %s not decided and credited within 30s", rc.CaseID)
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
	return rc.CaseID, last, toDecision, toCredit, nil
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

// BenchmarkOpenRounds opens b.N rounds at once (16 concurrent reporters) on
// one report instance, waits until every jury is drawn and the rounds sit
// waiting for votes, and reports intake throughput and the memory the open
// rounds cost the report app and its sidecar. Run with -benchtime 1000x.
func BenchmarkOpenRounds(b *testing.B) {
	ctx := context.Background()
	before := rss(b)
	start := time.Now()
	cases := make(chan string, b.N)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				reporter := unique("open-reporter")
				body := map[string]any{"reporter_id": reporter, "reason": "bench",
					"target": map[string]any{"kind": "item", "id": unique("open-target"), "owner_id": unique("owner")}}
				resp, err := plat.As("report", reporter).Do(ctx, "POST", "/v1/reports", body)
				if err != nil || resp.Status != 202 {
					b.Errorf("report: %v %v", resp, err)
					return
				}
				var rc receipt
				_ = resp.JSON(&rc)
				cases <- rc.CaseID
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	close(cases)
	filed := time.Since(start)
	ops := plat.As("report", "ops-bench", "ops")
	for id := range cases {
		for {
			r, err := ops.Do(ctx, "GET", "/v1/cases/"+id, nil)
			if err == nil && r.Map()["status"] == "voting" {
				break
			}
			if time.Since(start) > 10*time.Minute {
				b.Fatalf("case %s never got its jury", id)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	allVoting := time.Since(start)
	after := rss(b)
	b.ReportMetric(float64(b.N)/filed.Seconds(), "reports/s")
	b.ReportMetric(float64(b.N)/allVoting.Seconds(), "rounds-drawn/s")
	b.ReportMetric(float64(after-before)/float64(b.N)/1024, "KiB/open-round")
	fmt.Printf("open rounds: %d filed in %s, all juries drawn after %s; report app + sidecar RSS %d MiB -> %d MiB\n",
		b.N, filed.Round(time.Millisecond), allVoting.Round(time.Millisecond), before>>20, after>>20)
}

func rss(b *testing.B) int64 {
	var total int64
	for _, name := range []string{"report", "report-dapr"} {
		n, err := plat.RSS(name)
		if err != nil {
			b.Fatal(err)
		}
		total += n
	}
	return total
}
