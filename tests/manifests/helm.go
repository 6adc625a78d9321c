package manifests

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DaprChart loads the Dapr Helm chart (with its subcharts) from the
// github.com/dapr/dapr module, the same source the pinned runtime is built from.
func DaprChart() (*chart.Chart, error) {
	dir, err := ModuleDir("github.com/dapr/dapr", "v1.18.1")
	if err != nil {
		return nil, err
	}
	return loader.Load(filepath.Join(dir, "charts", "dapr"))
}

// UnknownValues lists the keys of values that the chart does not define,
// looking into a subchart's own values for its section. A key below a map
// the chart leaves empty (labels, annotations, node selectors) is allowed.
func UnknownValues(c *chart.Chart, values map[string]any) []string {
	var unknown []string
	var walk func(prefix string, have map[string]any, defaults map[string]any)
	walk = func(prefix string, have, defaults map[string]any) {
		for _, k := range slices.Sorted(maps.Keys(have)) {
			def, ok := defaults[k]
			if !ok {
				unknown = append(unknown, prefix+k)
				continue
			}
			sub, isMap := have[k].(map[string]any)
			defMap, defIsMap := def.(map[string]any)
			if isMap && defIsMap && len(defMap) > 0 {
				walk(prefix+k+".", sub, defMap)
			}
		}
	}
	top := maps.Clone(c.Values)
	for _, dep := range c.Dependencies() {
		if _, ok := top[dep.Name()]; !ok {
			top[dep.Name()] = map[string]any{}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		var sub *chart.Chart
		for _, dep := range c.Dependencies() {
			if dep.Name() == k {
				sub = dep
			}
		}
		have, _ := values[k].(map[string]any)
		switch {
		case sub != nil && have != nil:
			defaults := maps.Clone(sub.Values)
			if g, ok := c.Values["global"]; ok {
				defaults["global"] = g
			}
			walk(k+".", have, defaults)
		default:
			walk("", map[string]any{k: values[k]}, top)
		}
	}
	return unknown
}

// RenderChart renders the chart as `helm template` would for a fresh install
// of release dapr in namespace dapr-system on Kubernetes v1.34.
func RenderChart(c *chart.Chart, values map[string]any) ([]*unstructured.Unstructured, error) {
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: "v1.34.2", Major: "1", Minor: "34"}
	vals, err := chartutil.ToRenderValues(c, values, chartutil.ReleaseOptions{Name: "dapr", Namespace: "dapr-system", IsInstall: true, Revision: 1}, caps)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(c, vals)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if !strings.HasSuffix(name, ".yaml") || strings.TrimSpace(files[name]) == "" {
			continue
		}
		docs, err := ParseYAML([]byte(files[name]))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		objs = append(objs, docs...)
	}
	return objs, nil
}
