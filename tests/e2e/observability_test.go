package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// jaegerTrace is the part of Jaeger's query API answer (/api/traces) read here.
type jaegerTrace struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		OperationName string `json:"operationName"`
		ProcessID     string `json:"processID"`
		StartTime     int64  `json:"startTime"` // microseconds since the epoch
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

// services is the set of processes (Dapr app-ids) with spans in the trace.
func (tr jaegerTrace) services() []string {
	var out []string
	for _, p := range tr.Processes {
		if !slices.Contains(out, p.ServiceName) {
			out = append(out, p.ServiceName)
		}
	}
	slices.Sort(out)
	return out
}

// operations lists the trace's span names begun at or after since, with the
// service each ran in.
func (tr jaegerTrace) operations(since time.Time) map[string][]string {
	out := map[string][]string{}
	for _, s := range tr.Spans {
		if s.StartTime < since.UnixMicro() {
			continue
		}
		svc := tr.Processes[s.ProcessID].ServiceName
		if !slices.Contains(out[s.OperationName], svc) {
			out[s.OperationName] = append(out[s.OperationName], svc)
		}
	}
	return out
}

// jaegerTraces asks the profile's Jaeger (scripts/observability.sh) for the
// recent traces that have spans of service.
func jaegerTraces(ctx context.Context, service string, since time.Time) ([]jaegerTrace, error) {
	base := os.Getenv("GOVERN_JAEGER_URL")
	if base == "" {
		return nil, fmt.Errorf("GOVERN_JAEGER_URL is not set: run through make test (scripts/test.sh starts Jaeger)")
	}
	q := url.Values{"service": {service}, "limit": {"1000"}, "start": {fmt.Sprint(since.UnixMicro())}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/traces?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("Jaeger's query API at %s: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("Jaeger answered %s", resp.Status)
	}
	var body struct {
		Data []jaegerTrace `json:"data"`
	}
	return body.Data, json.NewDecoder(resp.Body).Decode(&body)
}

// A round leaves spans of all three sidecars in the trace store: the
// workflow and its activities in report's, the jury draw as one trace
// across report's and reviewer's, and the case-decided deliveries in
// reviewer's and reward's. (Those deliveries start traces of their own:
// Dapr's outbox publishes from inside the sidecar with no parent span.)
func TestARoundLeavesSpansOfTheThreeSidecarsInJaeger(t *testing.T) {
	ctx := ctxT(t)
	start := time.Now().Add(-time.Second)
	rc, _ := fileReport(t, ctx, "post")
	jurors := jurorsOf(t, ctx, rc.CaseID, 5)
	for _, j := range jurors[:3] {
		resp, err := vote(ctx, rc.CaseID, j, "uphold")
		must(t, resp, err, 202)
	}
	waitClosed(t, ctx, rc.CaseID, 20*time.Second)
	eventually(t, "credit for "+jurors[0], 20*time.Second, func() (bool, string) {
		n, _ := accountOf(t, ctx, jurors[0]).creditsFor(rc.CaseID)
		return n == 1, fmt.Sprint(n, " credits")
	})

	// Each sidecar exports in batches: wait until every expected span is in.
	want := map[string][]string{ // span name -> services that must have one since start
		"create_orchestration||VoteRound":    {"report"},
		"activity||BeginRound":               {"report"},
		"CallLocal/reviewer/internal/juries": {"report", "reviewer"},
		"pubsub/case-decided":                {"reviewer", "reward"},
	}
	eventually(t, "the round's spans in Jaeger", 30*time.Second, func() (bool, string) {
		got := map[string][]string{}
		drawShared := false
		for _, svc := range []string{"report", "reviewer", "reward"} {
			traces, err := jaegerTraces(ctx, svc, start)
			if err != nil {
				return false, err.Error()
			}
			for _, tr := range traces {
				ops := tr.operations(start)
				for op, svcs := range ops {
					for _, s := range svcs {
						if !slices.Contains(got[op], s) {
							got[op] = append(got[op], s)
						}
					}
				}
				// The draw is one trace: report's client span and reviewer's server span.
				if len(ops["CallLocal/reviewer/internal/juries"]) == 2 {
					drawShared = true
				}
			}
		}
		var missing []string
		for op, svcs := range want {
			for _, s := range svcs {
				if !slices.Contains(got[op], s) {
					missing = append(missing, s+": "+op)
				}
			}
		}
		if !drawShared {
			missing = append(missing, "one trace holding the jury draw in report and reviewer")
		}
		slices.Sort(missing)
		return len(missing) == 0, "missing " + strings.Join(missing, ", ")
	})
}

// The Dapr series the dashboards' pub/sub and workflow panels read exist on
// the sidecars after a round, under the names derived from Dapr's source
// (tests/observability checks the dashboards against those).
func TestSidecarsExportTheDaprSeriesTheDashboardsRead(t *testing.T) {
	ctx := ctxT(t)
	rc, _ := fileReport(t, ctx, "post")
	jurors := jurorsOf(t, ctx, rc.CaseID, 5)
	for _, j := range jurors[:3] {
		resp, err := vote(ctx, rc.CaseID, j, "uphold")
		must(t, resp, err, 202)
	}
	waitClosed(t, ctx, rc.CaseID, 20*time.Second)
	want := map[string][]string{
		// report publishes case-decided itself (its outbox relay), so its
		// sidecar counts pub/sub egress; the workflow state it writes
		// through the actor runtime is not counted as component state.
		"report": {"dapr_runtime_workflow_execution_count",
			"dapr_runtime_workflow_activity_execution_count", "dapr_runtime_workflow_activity_execution_latency_bucket",
			"dapr_component_pubsub_egress_count", "dapr_runtime_component_loaded"},
		"reviewer": {"dapr_component_pubsub_ingress_count", "dapr_component_pubsub_ingress_latencies_bucket",
			"dapr_component_pubsub_egress_count"},
		"reward": {"dapr_component_pubsub_ingress_count", "dapr_component_pubsub_ingress_latencies_bucket"},
	}
	for app, names := range want {
		eventually(t, app+"'s sidecar series", 20*time.Second, func() (bool, string) {
			have, err := seriesNames(ctx, plat.SidecarMetricsURL(app))
			if err != nil {
				return false, err.Error()
			}
			var missing []string
			for _, n := range names {
				if !have[n] {
					missing = append(missing, n)
				}
			}
			return len(missing) == 0, "missing " + strings.Join(missing, ", ")
		})
	}
}

// seriesNames reads a Prometheus text exposition and returns its series names.
func seriesNames(ctx context.Context, metricsURL string) (map[string]bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		out[name] = true
	}
	return out, sc.Err()
}

// jaegerSpan is one span of a trace as Jaeger's query API returns it.
type jaegerSpan struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	ProcessID     string `json:"processID"`
	StartTime     int64  `json:"startTime"` // µs since the epoch
	Duration      int64  `json:"duration"`  // µs
	Tags          []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
}

func (s jaegerSpan) tag(key string) string {
	for _, t := range s.Tags {
		if t.Key == key {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

// appScope is the instrumentation scope of every span the apps make
// (kit/telemetry); the sidecars' spans have Dapr's.
const appScope = "github.com/govern/kit"

// jaegerGet decodes the data of a Jaeger query API answer.
func jaegerGet(ctx context.Context, path string, q url.Values, out any) error {
	base := os.Getenv("GOVERN_JAEGER_URL")
	if base == "" {
		return fmt.Errorf("GOVERN_JAEGER_URL is not set: run through make test (scripts/test.sh starts Jaeger)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("Jaeger's query API at %s: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("Jaeger answered %s for %s", resp.Status, path)
	}
	body := struct {
		Data any `json:"data"`
	}{Data: out}
	return json.NewDecoder(resp.Body).Decode(&body)
}

// One round (report -> draw -> votes -> decision -> outbox -> credit) is
// one trace holding spans of the report, reviewer and reward apps
// themselves, found in Jaeger by the case's id. The chain: the report's
// request opens the case (cases.traceparent), the round starts in that
// trace and hands it to every activity in its input (the durable task
// engine keeps none across timers and events), the jury draw is invoked
// through the sidecars with the traceparent header, the quorum vote decides
// the case in a span of the round's trace (cases.traceparent, linked to the
// vote's own) and writes the decision's outbox row with it, the relay
// publishes in that trace and reward's consumer continues the CloudEvent's
// traceparent. The votes are the jurors' own requests, so each is a trace
// of its own (tagged with case.id too): Dapr does not carry a trace through
// a raised workflow event into the activity that reads it.
func TestOneRoundIsOneTraceAcrossTheThreeApps(t *testing.T) {
	ctx := ctxT(t)
	rc, _ := fileReport(t, ctx, "post")
	jurors := jurorsOf(t, ctx, rc.CaseID, 5)
	for _, j := range jurors[:3] {
		resp, err := vote(ctx, rc.CaseID, j, "uphold")
		must(t, resp, err, 202)
	}
	waitClosed(t, ctx, rc.CaseID, 20*time.Second)
	eventually(t, "credit for "+jurors[0], 20*time.Second, func() (bool, string) {
		n, _ := accountOf(t, ctx, jurors[0]).creditsFor(rc.CaseID)
		return n == 1, fmt.Sprint(n, " credits")
	})

	// The apps and sidecars export in batches: wait until the trace is whole.
	want := map[string][]string{ // app -> spans of its own the round's trace must hold
		"report":   {"POST /v1/reports", "start round", "activity BeginRound", "invoke reviewer/internal/juries", "decide case", "outbox report.publish-decision", "publish case-decided"},
		"reviewer": {"POST /internal/juries", "consume case-decided"},
		"reward":   {"POST /events/case-decided", "consume case-decided"},
	}
	tags, _ := json.Marshal(map[string]string{"case.id": rc.CaseID})
	var round struct {
		TraceID   string       `json:"traceID"`
		Spans     []jaegerSpan `json:"spans"`
		Processes map[string]struct {
			ServiceName string `json:"serviceName"`
		} `json:"processes"`
	}
	eventually(t, "one trace of the round in Jaeger", 40*time.Second, func() (bool, string) {
		var found []struct {
			TraceID string `json:"traceID"`
		}
		q := url.Values{"service": {"report"}, "tags": {string(tags)}, "limit": {"50"},
			"start": {fmt.Sprint(time.Now().Add(-10 * time.Minute).UnixMicro())}}
		if err := jaegerGet(ctx, "/api/traces", q, &found); err != nil {
			return false, err.Error()
		}
		var best []string
		for _, f := range found {
			var traces []struct {
				TraceID   string       `json:"traceID"`
				Spans     []jaegerSpan `json:"spans"`
				Processes map[string]struct {
					ServiceName string `json:"serviceName"`
				} `json:"processes"`
			}
			if err := jaegerGet(ctx, "/api/traces/"+f.TraceID, nil, &traces); err != nil || len(traces) != 1 {
				continue
			}
			tr := traces[0]
			have := map[string]bool{}
			for _, s := range tr.Spans {
				if s.tag("otel.scope.name") == appScope {
					have[tr.Processes[s.ProcessID].ServiceName+": "+s.OperationName] = true
				}
			}
			var missing []string
			for app, ops := range want {
				for _, op := range ops {
					if !have[app+": "+op] {
						missing = append(missing, app+": "+op)
					}
				}
			}
			if len(missing) == 0 {
				round.TraceID, round.Spans, round.Processes = tr.TraceID, tr.Spans, tr.Processes
				return true, ""
			}
			if best == nil || len(missing) < len(best) {
				best = missing
			}
		}
		slices.Sort(best)
		return false, fmt.Sprintf("%d traces tagged case.id=%s; the most complete lacks %s", len(found), rc.CaseID, strings.Join(best, ", "))
	})

	// The sidecars' spans of the trace arrive in their own batches: take
	// the trace again once they have had time to (for the record only).
	time.Sleep(3 * time.Second)
	var again []struct {
		Spans     []jaegerSpan `json:"spans"`
		Processes map[string]struct {
			ServiceName string `json:"serviceName"`
		} `json:"processes"`
	}
	if err := jaegerGet(ctx, "/api/traces/"+round.TraceID, nil, &again); err == nil && len(again) == 1 && len(again[0].Spans) > len(round.Spans) {
		round.Spans, round.Processes = again[0].Spans, again[0].Processes
	}
	// The trace of one round, for the record: every span in start order.
	slices.SortFunc(round.Spans, func(a, b jaegerSpan) int { return int(a.StartTime - b.StartTime) })
	t0 := round.Spans[0].StartTime
	t.Logf("trace %s of case %s: %d spans", round.TraceID, rc.CaseID, len(round.Spans))
	for _, s := range round.Spans {
		who := round.Processes[s.ProcessID].ServiceName
		if s.tag("otel.scope.name") != appScope {
			who += " sidecar"
		}
		t.Logf("  +%9.3f ms %9.3f ms  %-16s %s", float64(s.StartTime-t0)/1000, float64(s.Duration)/1000, who, s.OperationName)
	}
}

// metricSum adds up the samples of name on an app's /metrics whose labels
// include every one of labels (`key="value"`).
func metricSum(t *testing.T, ctx context.Context, app, name string, labels ...string) float64 {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, plat.AppURL(app)+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("metrics of %s: %v", app, err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
lines:
	for sc.Scan() {
		series, value, ok := strings.Cut(sc.Text(), " ")
		if series, _, _ := strings.Cut(series, "{"); !ok || series != name {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(series, l) {
				continue lines
			}
		}
		var v float64
		if _, err := fmt.Sscan(value, &v); err == nil {
			sum += v
		}
	}
	return sum
}

// After a round, the business counters of the three apps and the request
// metrics have moved, and the gauges are there: each app's /metrics read
// before and after.
func TestARoundMovesTheBusinessCounters(t *testing.T) {
	ctx := ctxT(t)
	type counter struct {
		app, name string
		labels    []string
		atLeast   float64
	}
	counters := []counter{
		{"report", "govern_reports_total", []string{`kind="post"`, `channel="http"`}, 1},
		{"report", "govern_decisions_total", []string{`outcome="upheld"`}, 1},
		{"report", "govern_round_age_at_decision_seconds_count", nil, 1},
		{"report", "govern_http_requests_total", []string{`service="report"`, `route="/v1/reports"`, `code="202"`}, 1},
		{"report", "govern_http_requests_total", []string{`service="report"`, `route="/v1/cases/:id/votes"`, `code="202"`}, 3},
		{"report", "govern_http_request_duration_seconds_count", []string{`service="report"`, `route="/v1/reports"`}, 1},
		{"reviewer", "govern_http_requests_total", []string{`service="reviewer"`, `route="/internal/juries"`, `code="200"`}, 1},
		{"reward", "govern_credits_total", nil, 3},
		{"reward", "govern_points_credited_total", nil, 1},
		{"reward", "govern_http_requests_total", []string{`service="reward"`, `route="/events/case-decided"`}, 1},
	}
	before := make([]float64, len(counters))
	for i, c := range counters {
		before[i] = metricSum(t, ctx, c.app, c.name, c.labels...)
	}
	rc, _ := fileReport(t, ctx, "post")
	jurors := jurorsOf(t, ctx, rc.CaseID, 5)
	for _, j := range jurors[:3] {
		resp, err := vote(ctx, rc.CaseID, j, "uphold")
		must(t, resp, err, 202)
	}
	waitClosed(t, ctx, rc.CaseID, 20*time.Second)
	eventually(t, "credits for the three voters", 20*time.Second, func() (bool, string) {
		for _, j := range jurors[:3] {
			if n, _ := accountOf(t, ctx, j).creditsFor(rc.CaseID); n != 1 {
				return false, fmt.Sprint(j, " has ", n, " credits")
			}
		}
		return true, ""
	})
	eventually(t, "the counters moved", 10*time.Second, func() (bool, string) {
		var still []string
		for i, c := range counters {
			if got := metricSum(t, ctx, c.app, c.name, c.labels...) - before[i]; got < c.atLeast {
				still = append(still, fmt.Sprintf("%s %s%v moved %v, want >= %v", c.app, c.name, c.labels, got, c.atLeast))
			}
		}
		return len(still) == 0, strings.Join(still, "; ")
	})
	for app, gauges := range map[string][]string{
		"report":   {"govern_cases_open", "govern_rounds_past_deadline", "govern_cases_pending_oldest_seconds"},
		"reviewer": {"govern_pool_size"},
	} {
		have, err := seriesNames(ctx, plat.AppURL(app)+"/metrics")
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gauges {
			if !have[g] {
				t.Errorf("%s does not export %s", app, g)
			}
		}
	}
	eventually(t, "the pool gauge", 10*time.Second, func() (bool, string) {
		n := metricSum(t, ctx, "reviewer", "govern_pool_size")
		return n >= 5, fmt.Sprintf("govern_pool_size is %v with at least five jurors in the pool", n)
	})
}
