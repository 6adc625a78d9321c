// Package observability checks manifests/observability: the rules pass
// their promtool unit tests, the dashboards and rules parse and use only
// metrics that exist (the apps' catalogue in the README, Dapr's from its
// module source, the named exporters'), and the cluster scrape configuration
// loads.
package observability

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// obsDir is manifests/observability, from tests/observability.
const obsDir = "../../manifests/observability"

// Metric is one row of the catalogue: a metric the apps export.
type Metric struct {
	Name, Type string
	Labels     []string
}

var catalogueRow = regexp.MustCompile("^\\| `([a-z_:]+)` \\| (counter|gauge|histogram) \\|\\s*([a-z_, ]*?)\\s*\\|")

// Catalogue reads the apps' metrics from the README's table.
func Catalogue(readme string) ([]Metric, error) {
	f, err := os.Open(readme)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Metric
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := catalogueRow.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var labels []string
		for _, l := range strings.Split(m[3], ",") {
			if l = strings.TrimSpace(l); l != "" {
				labels = append(labels, l)
			}
		}
		out = append(out, Metric{Name: m[1], Type: m[2], Labels: labels})
	}
	return out, sc.Err()
}

// Series are the series names a set of metrics shows in Prometheus: a
// histogram's are its _bucket, _sum and _count.
func Series(metrics []Metric) map[string]bool {
	out := map[string]bool{}
	for _, m := range metrics {
		if m.Type == "histogram" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				out[m.Name+s] = true
			}
			continue
		}
		out[m.Name] = true
	}
	return out
}

// ModuleDir is where the Go command keeps module@version (downloading it
// through the module proxy if needed).
func ModuleDir(module, version string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", module, version, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", err
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", module, version, info.Error)
	}
	return info.Dir, nil
}

// A daprd measure is declared as stats.Int64("component/pubsub_ingress/count", ...)
// or stats.Float64(...); the Prometheus exporter names its series
// dapr_component_pubsub_ingress_count.
var daprMeasure = regexp.MustCompile(`stats\.(?:Int64|Float64)\(\s*"([^"]+)"`)

// DaprSeries lists the series names of daprd, placement and scheduler in the
// dapr module at dir. Every measure may be a distribution (latencies) or a
// count, so each also stands for its _bucket, _sum and _count.
func DaprSeries(dir string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, pkg := range []string{"pkg/diagnostics", "pkg/placement/monitoring", "pkg/scheduler/monitoring"} {
		files, err := filepath.Glob(filepath.Join(dir, pkg, "*.go"))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			for _, m := range daprMeasure.FindAllSubmatch(src, -1) {
				name := "dapr_" + strings.NewReplacer("/", "_", ".", "_").Replace(string(m[1]))
				for _, s := range []string{"", "_bucket", "_sum", "_count"} {
					out[name+s] = true
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no Dapr measures found under %s", dir)
	}
	return out, nil
}

// Exporters are the series of other programs the rules rely on (the README's
// second table): Prometheus's own and the Kafka lag exporters'.
var Exporters = map[string]bool{
	"up":                                     true,
	"kafka_consumergroup_lag":                true,
	"kminion_kafka_consumer_group_topic_lag": true,
}
