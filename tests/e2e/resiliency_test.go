package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// breakerOpen returns the report sidecar's circuit-breaker gauges that say
// "open" (value 1), as Prometheus lines.
func breakerOpen(t *testing.T, ctx context.Context) []string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, plat.SidecarMetricsURL("report"), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var open []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "dapr_resiliency_cb_state{") && strings.Contains(line, `status="open"`) &&
			!strings.HasSuffix(line, " 0") {
			open = append(open, line)
		}
	}
	return open
}

// Cases waiting for a pool that cannot seat their jury are answered "pool
// too small" again and again; that is an answer, so the sidecar neither
// retries it nor counts it toward the reviewer's circuit breaker (which
// trips after 10 consecutive failures and would then fail every draw).
func TestPendingCasesNeverOpenTheReviewerBreaker(t *testing.T) {
	ctx := ctxT(t)
	jury := len(pool) + 2
	setPolicy(t, ctx, "item", jury, jury/2+1, "1h", "30s", 0, "undecided")
	var cases []string
	for range 14 {
		rc, _ := fileReport(t, ctx, "item")
		cases = append(cases, rc.CaseID)
	}
	for _, id := range cases {
		eventually(t, "pool_too_small on "+id, 30*time.Second, func() (bool, string) {
			c := caseOf(t, ctx, id)
			return timelineKinds(c)["pool_too_small"] == 1, fmt.Sprint(c["status"])
		})
	}
	if open := breakerOpen(t, ctx); len(open) > 0 {
		t.Fatalf("the reviewer breaker opened on pending cases:\n%s", strings.Join(open, "\n"))
	}
	// And rounds that can be seated still are, at once.
	setPolicy(t, ctx, "post", 3, 2, "1h", "2h", 0, "undecided")
	rc, _ := fileReport(t, ctx, "post")
	jurorsOf(t, ctx, rc.CaseID, 3)
	if open := breakerOpen(t, ctx); len(open) > 0 {
		t.Fatalf("breaker open:\n%s", strings.Join(open, "\n"))
	}
}
