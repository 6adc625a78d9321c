package manifests

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const daprValues = manifestsDir + "/dapr-system/values-prod.yaml"

func TestDaprValuesUseOnlyKeysTheChartHas(t *testing.T) {
	c, err := DaprChart()
	if err != nil {
		t.Fatal(err)
	}
	values, err := chartutil.ReadValuesFile(daprValues)
	if err != nil {
		t.Fatal(err)
	}
	if unknown := UnknownValues(c, values.AsMap()); len(unknown) > 0 {
		t.Errorf("%s sets keys chart dapr 1.18.1 does not have: %s", daprValues, strings.Join(unknown, ", "))
	}
	// The check can fail: misspelt keys at the top, in global and in a subchart.
	spoilt := map[string]any{
		"global":         map[string]any{"ha": map[string]any{"enabeld": true}},
		"dapr_scheduler": map[string]any{"cluster": map[string]any{"storageSise": "16Gi"}, "statefulsetAnnotations": map[string]any{"any": "x"}},
		"dapr_placment":  map[string]any{},
	}
	got := UnknownValues(c, spoilt)
	want := []string{"dapr_placment", "dapr_scheduler.cluster.storageSise", "global.ha.enabeld"}
	if !slices.Equal(got, want) {
		t.Errorf("UnknownValues on misspelt keys = %v, want %v", got, want)
	}
}

// helm template of the Dapr chart with the prod values, validated like the
// overlays, and the HA facts the production guide asks for.
func TestDaprValuesRenderAnHAControlPlaneTheAPIServerAccepts(t *testing.T) {
	start := time.Now()
	c, err := DaprChart()
	if err != nil {
		t.Fatal(err)
	}
	values, err := chartutil.ReadValuesFile(daprValues)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := RenderChart(c, values.AsMap())
	if err != nil {
		t.Fatal(err)
	}
	api := apiServer(t)
	for _, obj := range objs {
		namespaced, err := api.Namespaced(obj.GroupVersionKind())
		if err != nil {
			t.Fatalf("%s: %v", describe(obj), err)
		}
		if namespaced && obj.GetNamespace() == "" {
			obj.SetNamespace("dapr-system") // as helm --namespace dapr-system does
		}
	}
	for _, f := range dryRunAll(t, objs) {
		t.Errorf("API server rejected %s", f)
	}
	o := &Overlay{Objects: objs}
	for _, name := range []string{"dapr-placement-server", "dapr-scheduler-server"} {
		ss := o.named("StatefulSet", name)
		if ss == nil {
			t.Errorf("no StatefulSet %s", name)
			continue
		}
		if r, _, _ := unstructured.NestedInt64(ss.Object, "spec", "replicas"); r != 3 {
			t.Errorf("%s: %d replicas, want 3", name, r)
		}
	}
	if ss := o.named("StatefulSet", "dapr-scheduler-server"); ss != nil {
		claims, _, _ := unstructured.NestedSlice(ss.Object, "spec", "volumeClaimTemplates")
		size := ""
		if len(claims) == 1 {
			size, _, _ = unstructured.NestedString(claims[0].(map[string]any), "spec", "resources", "requests", "storage")
		}
		if size != "16Gi" {
			t.Errorf("scheduler storage %q, want one 16Gi claim (Dapr's production guide)", size)
		}
	}
	for _, d := range o.ofKind("Deployment") {
		if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != 3 {
			t.Errorf("%s: %d replicas, want 3 (HA)", describe(d), r)
		}
	}
	ws, problems := o.workloads()
	for _, p := range problems {
		t.Error(p)
	}
	for _, w := range ws {
		for _, ct := range allContainers(w.pod.Spec) {
			if p := imageProblem(ct.Image); p != "" || !strings.HasSuffix(ct.Image, ":1.18.1") {
				t.Errorf("%s container %s: image %s, want a pinned 1.18.1 %s", w, ct.Name, ct.Image, p)
			}
		}
	}
	t.Logf("Dapr chart with %s: %d objects rendered and validated in %v", filepath.Base(daprValues), len(objs), time.Since(start).Round(time.Millisecond))
}
