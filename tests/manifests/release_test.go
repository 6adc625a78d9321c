package manifests

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func runCommand(bin string, args ...string) (string, error) {
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

type traffic struct {
	stable, canary             string // colours
	stableWeight, canaryWeight int64
}

// trafficOf reads an app's split from the rendered prod overlay: the last
// route of VirtualService <app> and the subsets of DestinationRule <app>.
func trafficOf(t *testing.T, o *Overlay, app string) traffic {
	t.Helper()
	var tr traffic
	vs, dr := o.named("VirtualService", app), o.named("DestinationRule", app)
	if vs == nil || dr == nil {
		t.Fatalf("prod overlay lacks VirtualService or DestinationRule %s", app)
	}
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	if len(routes) == 0 {
		t.Fatalf("VirtualService %s has no routes", app)
	}
	dests, _, _ := unstructured.NestedSlice(routes[len(routes)-1].(map[string]any), "route")
	for _, d := range dests {
		w, _, _ := unstructured.NestedInt64(d.(map[string]any), "weight")
		switch s, _, _ := unstructured.NestedString(d.(map[string]any), "destination", "subset"); s {
		case "stable":
			tr.stableWeight = w
		case "canary":
			tr.canaryWeight = w
		}
	}
	subsets, _, _ := unstructured.NestedSlice(dr.Object, "spec", "subsets")
	for _, s := range subsets {
		colour, _, _ := unstructured.NestedString(s.(map[string]any), "labels", "version")
		switch s.(map[string]any)["name"] {
		case "stable":
			tr.stable = colour
		case "canary":
			tr.canary = colour
		}
	}
	return tr
}

func releaseApps(t *testing.T, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "overlays", "prod", "release", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no release files in %s/overlays/prod/release (%v)", root, err)
	}
	var apps []string
	for _, f := range files {
		if app := strings.TrimSuffix(filepath.Base(f), ".yaml"); app != "kustomization" {
			apps = append(apps, app)
		}
	}
	return apps
}

func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		files[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func changedFiles(before, after map[string]string) []string {
	var changed []string
	for path, b := range after {
		if before[path] != b {
			changed = append(changed, path)
		}
	}
	for path := range before {
		if _, ok := after[path]; !ok {
			changed = append(changed, path)
		}
	}
	slices.Sort(changed)
	return changed
}

// A whole release on a copy of manifests/: each step is re-rendered,
// dry-run applied and checked, and refusals change nothing.
func TestTheReleaseToolDrivesAReleaseOnTheProdOverlay(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(manifestsDir)); err != nil {
		t.Fatal(err)
	}
	apps := releaseApps(t, root)
	prod := validateOverlay(t, root, "prod")
	ids := appIDs(mustWorkloads(t, prod))
	for _, app := range apps {
		if !ids[app] {
			t.Errorf("release file %s.yaml names no app-id of prod (%v)", app, ids)
		}
	}
	if len(ids) != len(apps) {
		t.Errorf("prod runs app-ids %v but has release files for %v", ids, apps)
	}
	first := map[string]traffic{}
	for _, app := range apps {
		first[app] = trafficOf(t, prod, app)
		if tr := first[app]; tr.stableWeight != 100 || tr.canaryWeight != 0 {
			t.Errorf("%s starts at %+v, want all traffic on stable", app, tr)
		}
	}
	steps := []struct {
		args []string
		want func(t0 traffic) traffic
	}{
		{[]string{"canary", "10"}, func(t0 traffic) traffic { return traffic{t0.stable, t0.canary, 90, 10} }},
		{[]string{"canary", "50"}, func(t0 traffic) traffic { return traffic{t0.stable, t0.canary, 50, 50} }},
		{[]string{"promote"}, func(t0 traffic) traffic { return traffic{t0.canary, t0.stable, 100, 0} }},
		{[]string{"canary", "30"}, func(t0 traffic) traffic { return traffic{t0.canary, t0.stable, 70, 30} }},
		{[]string{"rollback"}, func(t0 traffic) traffic { return traffic{t0.canary, t0.stable, 100, 0} }},
		{[]string{"switch", "blue"}, func(traffic) traffic { return traffic{"blue", "green", 100, 0} }},
		{[]string{"switch", "green"}, func(traffic) traffic { return traffic{"green", "blue", 100, 0} }},
	}
	for _, s := range steps {
		start := time.Now()
		before := tree(t, root)
		out, err := release(t, root, s.args...)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range changedFiles(before, tree(t, root)) {
			if !strings.HasPrefix(f, filepath.Join("overlays", "prod", "release")+string(filepath.Separator)) {
				t.Errorf("release %v changed %s", s.args, f)
			}
		}
		o := validateOverlay(t, root, "prod")
		for _, app := range apps {
			if got, want := trafficOf(t, o, app), s.want(first[app]); got != want {
				t.Errorf("after release %v, %s: %+v, want %+v", s.args, app, got, want)
			}
		}
		t.Logf("release %v: %d diff lines, re-validated in %v", s.args, strings.Count(out, "\n"), time.Since(start).Round(time.Millisecond))
	}

	refuse := func(why string, args ...string) {
		t.Helper()
		before := tree(t, root)
		out, err := release(t, root, args...)
		if err == nil {
			t.Errorf("release %v (%s) succeeded:\n%s", args, why, out)
		} else if !strings.Contains(err.Error(), why) {
			t.Errorf("release %v refused, but not because %s: %v", args, why, err)
		}
		if changed := changedFiles(before, tree(t, root)); len(changed) > 0 {
			t.Errorf("refused release %v changed %v", args, changed)
		}
	}
	refuse("outside 0-100", "canary", "101")
	refuse("outside 0-100", "canary", "-1")
	refuse("unknown app", "-app", "ledger", "canary", "10")

	// A colour without pods: delete the canary colour's Deployment of one app
	// from the copy's prod overlay, then any move must be refused.
	app := apps[0]
	canaryColour := trafficOf(t, validateOverlay(t, root, "prod"), app).canary
	var victim string
	for _, w := range mustWorkloads(t, prod) {
		if w.obj.GetKind() == "Deployment" && w.pod.Labels["app"] == app && w.pod.Labels["version"] == canaryColour {
			victim = w.obj.GetName()
		}
	}
	if victim == "" {
		t.Fatalf("no %s Deployment of %s in prod", canaryColour, app)
	}
	deleteFromProd(t, root, "Deployment", victim)
	refuse("no Deployment in the prod overlay has pods labelled", "canary", "10")
}

func mustWorkloads(t *testing.T, o *Overlay) []workload {
	t.Helper()
	ws, problems := o.workloads()
	if len(problems) > 0 {
		t.Fatal(strings.Join(problems, "\n"))
	}
	return ws
}

// deleteFromProd adds a kustomize delete patch for one object to the copy's
// prod kustomization and checks that the render no longer has it.
func deleteFromProd(t *testing.T, root, kind, name string) {
	t.Helper()
	path := filepath.Join(root, "overlays", "prod", "kustomization.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var k map[string]any
	if err := yaml.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	patches, _ := k["patches"].([]any)
	k["patches"] = append(patches, map[string]any{
		"target": map[string]any{"kind": kind, "name": name},
		"patch":  "$patch: delete\napiVersion: apps/v1\nkind: " + kind + "\nmetadata:\n  name: " + name + "\n",
	})
	out, err := yaml.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := Render(filepath.Join(root, "overlays", "prod"))
	if err != nil {
		t.Fatal(err)
	}
	if (&Overlay{Objects: objs}).named(kind, name) != nil {
		t.Fatalf("could not delete %s %s from the prod overlay", kind, name)
	}
}
