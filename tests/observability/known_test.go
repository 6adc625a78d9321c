package observability

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
)

var (
	knownOnce sync.Once
	known     map[string]bool
	knownErr  error
)

// knownSeries is every series name a query may use: the apps' catalogue,
// Dapr's, the named exporters' and the recording rules' outputs.
func knownSeries(t *testing.T) map[string]bool {
	t.Helper()
	knownOnce.Do(func() {
		var metrics []Metric
		if metrics, knownErr = Catalogue(filepath.Join(obsDir, "README.md")); knownErr != nil {
			return
		}
		known = Series(metrics)
		var dir string
		if dir, knownErr = ModuleDir("github.com/dapr/dapr", "v1.18.1"); knownErr != nil {
			return
		}
		var dapr map[string]bool
		if dapr, knownErr = DaprSeries(dir); knownErr != nil {
			return
		}
		for _, m := range []map[string]bool{dapr, Exporters} {
			for k := range m {
				known[k] = true
			}
		}
		for _, g := range ruleGroups(t) {
			for _, r := range g.Rules {
				if r.Record != "" {
					known[r.Record] = true
				}
			}
		}
	})
	if knownErr != nil {
		t.Fatal(knownErr)
	}
	return known
}

type ruleFile struct {
	path   string
	groups []rulefmt.RuleGroup
}

var (
	rulesOnce sync.Once
	rules     []ruleFile
	rulesErr  []error
)

// ruleFiles parses manifests/observability/rules/*.yml as Prometheus does.
func ruleFiles(t *testing.T) []ruleFile {
	t.Helper()
	rulesOnce.Do(func() {
		paths, err := filepath.Glob(filepath.Join(obsDir, "rules", "*.yml"))
		if err != nil || len(paths) == 0 {
			rulesErr = []error{err}
			return
		}
		log := slog.New(slog.NewTextHandler(os.Stderr, nil))
		for _, p := range paths {
			rg, errs := rulefmt.ParseFile(p, false, model.UTF8Validation, promql, log)
			if len(errs) > 0 {
				rulesErr = append(rulesErr, errs...)
				continue
			}
			rules = append(rules, ruleFile{path: p, groups: rg.Groups})
		}
	})
	for _, err := range rulesErr {
		t.Error(err)
	}
	if len(rulesErr) > 0 {
		t.FailNow()
	}
	return rules
}

func ruleGroups(t *testing.T) []rulefmt.RuleGroup {
	var out []rulefmt.RuleGroup
	for _, f := range ruleFiles(t) {
		out = append(out, f.groups...)
	}
	return out
}

// unknownMetrics parses expr and returns the names it uses that no one exports.
func unknownMetrics(t *testing.T, expr string) ([]string, error) {
	t.Helper()
	names, err := MetricNames(expr)
	if err != nil {
		return nil, err
	}
	k := knownSeries(t)
	return slices.DeleteFunc(names, func(n string) bool { return k[n] }), nil
}

func TestTheNameCheckCatchesAMetricNoOneExports(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum(rate(govern_reports_total[5m]))`:                                            nil,
		`sum(rate(govern_reportz_total[5m]))`:                                            {"govern_reportz_total"},
		`histogram_quantile(0.9, rate(govern_round_age_at_decision_seconds_bucket[5m]))`: nil,
		`govern_pool_size_bucket`:                                                        {"govern_pool_size_bucket"},
		`rate(dapr_component_pubsub_ingress_count[5m])`:                                  nil,
		`rate(dapr_component_pubsub_ingres_count[5m])`:                                   {"dapr_component_pubsub_ingres_count"},
		`service:govern_http_error_ratio:rate5m > 0.05`:                                  nil,
	} {
		got, err := unknownMetrics(t, expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: unknown %v, want %v", expr, got, want)
		}
	}
	if _, err := MetricNames(`{__name__=~"govern_.+"}`); err == nil {
		t.Error("a selector without a metric name passed")
	}
	if _, err := MetricNames(`sum(rate(govern_reports_total[5m])`); err == nil {
		t.Error("an unbalanced query parsed")
	}
}
