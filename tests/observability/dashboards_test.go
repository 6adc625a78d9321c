package observability

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The parts of Grafana's dashboard model (schemaVersion 39) that these
// dashboards use and Grafana needs.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int                      `json:"id"`
	Type       string                   `json:"type"`
	Title      string                   `json:"title"`
	Datasource *datasource              `json:"datasource"`
	GridPos    struct{ H, W, X, Y int } `json:"gridPos"`
	Targets    []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type variable struct {
	Name  string          `json:"name"`
	Type  string          `json:"type"`
	Query json.RawMessage `json:"query"`
}

func dashboards(t *testing.T) map[string]dashboard {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(obsDir, "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	out := map[string]dashboard{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		var d dashboard
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("%s is not valid dashboard JSON: %v", filepath.Base(f), err)
		}
		out[filepath.Base(f)] = d
	}
	return out
}

// overlap reports whether two panels' grid rectangles intersect.
func overlap(a, b panel) bool {
	ga, gb := a.GridPos, b.GridPos
	return ga.X < gb.X+gb.W && gb.X < ga.X+ga.W && ga.Y < gb.Y+gb.H && gb.Y < ga.Y+ga.H
}

func TestDashboardsAreWellFormed(t *testing.T) {
	uids := map[string]string{}
	for file, d := range dashboards(t) {
		t.Run(file, func(t *testing.T) {
			if d.UID == "" || d.Title == "" || d.SchemaVersion == 0 {
				t.Errorf("uid %q, title %q, schemaVersion %d: all three are required", d.UID, d.Title, d.SchemaVersion)
			}
			if other, ok := uids[d.UID]; ok {
				t.Errorf("uid %s is also %s's", d.UID, other)
			}
			uids[d.UID] = file
			if !slices.ContainsFunc(d.Templating.List, func(v variable) bool { return v.Name == "datasource" && v.Type == "datasource" }) {
				t.Error("no datasource variable: the importer could not choose its Prometheus")
			}
			ids := map[int]bool{}
			queries := 0
			for i, p := range d.Panels {
				where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
				if ids[p.ID] || p.ID == 0 {
					t.Errorf("%s: id missing or not unique", where)
				}
				ids[p.ID] = true
				g := p.GridPos
				if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
					t.Errorf("%s: gridPos %+v outside the 24-column grid", where, g)
				}
				for _, q := range d.Panels[:i] {
					if overlap(p, q) {
						t.Errorf("%s overlaps panel %d %q", where, q.ID, q.Title)
					}
				}
				if p.Type == "row" {
					continue
				}
				if p.Title == "" || len(p.Targets) == 0 {
					t.Errorf("%s: a panel needs a title and at least one query", where)
				}
				if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
					t.Errorf("%s: datasource %v, want the ${datasource} variable", where, p.Datasource)
				}
				refs := map[string]bool{}
				for _, q := range p.Targets {
					if q.Expr == "" || q.RefID == "" || refs[q.RefID] {
						t.Errorf("%s: query %q with refId %q (both required, refIds unique)", where, q.Expr, q.RefID)
					}
					refs[q.RefID] = true
					queries++
				}
			}
			t.Logf("%s: %d panels, %d queries", d.Title, len(d.Panels), queries)
		})
	}
}

var labelValues = regexp.MustCompile(`^label_values\((.+),\s*[A-Za-z_][A-Za-z0-9_]*\)$`)

// queries lists every PromQL query of a dashboard: its panels' and its query
// variables' (label_values(selector, label) reads selector).
func queries(t *testing.T, d dashboard) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			out[fmt.Sprintf("panel %q query %s", p.Title, q.RefID)] = q.Expr
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		m := labelValues.FindStringSubmatch(q.Query)
		if m == nil {
			t.Errorf("variable %s: %q is not label_values(selector, label)", v.Name, q.Query)
			continue
		}
		out["variable "+v.Name] = m[1]
	}
	return out
}

func TestDashboardQueriesParseAndUseOnlyMetricsThatExist(t *testing.T) {
	for file, d := range dashboards(t) {
		for where, expr := range queries(t, d) {
			unknown, err := unknownMetrics(t, ExpandGrafana(expr))
			if err != nil {
				t.Errorf("%s %s: %q does not parse: %v", file, where, expr, err)
				continue
			}
			for _, u := range unknown {
				t.Errorf("%s %s: %s is neither an app metric (README catalogue), a Dapr v1.18.1 metric, an exporter's, nor a recording rule",
					file, where, u)
			}
		}
	}
}

// usedMetrics is every metric name a dashboard's queries use.
func usedMetrics(t *testing.T, d dashboard) []string {
	t.Helper()
	var out []string
	for _, expr := range queries(t, d) {
		names, err := MetricNames(ExpandGrafana(expr))
		if err != nil {
			continue // reported by the parse test
		}
		out = append(out, names...)
	}
	return out
}

func TestTheBusinessDashboardShowsTheBusiness(t *testing.T) {
	used := usedMetrics(t, dashboards(t)["govern-business.json"])
	for _, want := range []string{
		"govern_reports_total", "govern_decisions_total", "govern_cases_open",
		"govern_round_age_at_decision_seconds_bucket", "govern_credits_total", "govern_points_credited_total",
		"govern_redemptions_total", "govern_dead_letters_total", "govern_substitutes_total",
		"govern_juror_timeouts_total", "govern_pool_size", "govern_draws_refused_total",
		"govern_rounds_past_deadline", "govern_cases_pending_oldest_seconds",
	} {
		if !slices.Contains(used, want) {
			t.Errorf("no panel shows %s", want)
		}
	}
}

// Dapr's own dashboards cover sidecar internals; ours adds what they lack:
// pub/sub per topic, the workflows and their activities.
func TestTheDaprDashboardShowsPubsubAndWorkflows(t *testing.T) {
	used := usedMetrics(t, dashboards(t)["govern-dapr.json"])
	for _, want := range []string{
		"dapr_component_pubsub_egress_count", "dapr_component_pubsub_ingress_count",
		"dapr_component_pubsub_ingress_latencies_bucket", "dapr_runtime_workflow_execution_count",
		"dapr_runtime_workflow_activity_execution_count", "dapr_runtime_workflow_activity_execution_latency_bucket",
		"dapr_component_state_count", "dapr_resiliency_cb_state",
	} {
		if !slices.Contains(used, want) {
			t.Errorf("no panel shows %s", want)
		}
	}
}
