package observability

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

var promql = parser.NewParser(parser.Options{})

// Grafana's variables in a panel's query: its built-in intervals, then the
// dashboard's own ($app_id, ${datasource}), which only appear inside label
// matchers and legends.
var (
	grafanaInterval = regexp.MustCompile(`\$__(rate_interval|interval|range)\b`)
	grafanaVariable = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)
)

// ExpandGrafana turns a panel query into PromQL as Grafana would send it.
func ExpandGrafana(expr string) string {
	expr = grafanaInterval.ReplaceAllString(expr, "5m")
	return grafanaVariable.ReplaceAllString(expr, "x")
}

// MetricNames parses expr and returns the metric names it selects, sorted. A
// selector without a fixed name (only {__name__=~...}) is an error: nothing
// could check what it reads.
func MetricNames(expr string) ([]string, error) {
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	var bad error
	parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			bad = fmt.Errorf("selector %s names no metric", vs)
			return nil
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		return nil
	})
	slices.Sort(names)
	return names, bad
}
