package manifests

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func renderOverlay(t *testing.T, name string) *Overlay {
	t.Helper()
	objs, err := Render(filepath.Join(manifestsDir, "overlays", name))
	if err != nil {
		t.Fatal(err)
	}
	return &Overlay{Name: name, Namespace: "govern-" + name, Objects: objs, Namespaced: clusterScoped}
}

func consoleOf(t *testing.T, o *Overlay) ([]workload, workload) {
	t.Helper()
	ws, problems := o.workloads()
	if len(problems) > 0 {
		t.Fatal(strings.Join(problems, "\n"))
	}
	i := slices.IndexFunc(ws, func(w workload) bool { return w.obj.GetKind() == "Deployment" && w.obj.GetName() == consoleName })
	if i < 0 {
		t.Fatalf("overlay %s has no console Deployment", o.Name)
	}
	return ws, ws[i]
}

// Every overlay runs the console (so the check below is not vacuous), with
// no sidecar, reachable from the ingress gateway only, and able to reach
// every app's Service and sidecar it is configured with.
func TestEveryOverlayRunsTheConsoleBehindTheGateway(t *testing.T) {
	for _, name := range []string{"dev", "staging", "prod"} {
		t.Run(name, func(t *testing.T) {
			o := renderOverlay(t, name)
			ws, w := consoleOf(t, o)
			if len(appIDs(ws)) != 3 {
				t.Fatalf("app-ids %v, want the three apps", appIDs(ws))
			}
			for _, p := range o.checkConsole(ws) {
				t.Errorf("console: %s", p)
			}
			c := appContainer(w.pod.Spec, consoleName)
			if want := "registry.govern.example.com/govern/console:"; !strings.HasPrefix(c.Image, want) {
				t.Errorf("console image %s, want %s<tag>", c.Image, want)
			}
			if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/healthz" ||
				c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Error("console probes are not GET /healthz")
			}
			if v, _ := envValue(c, "COOKIE_SECURE"); v != "true" {
				t.Errorf("COOKIE_SECURE %q: behind TLS the session cookie must be Secure", v)
			}
			if a := w.pod.Spec.AutomountServiceAccountToken; a == nil || *a {
				t.Error("console pod mounts a service account token")
			}
		})
	}
}

func deleteObject(t *testing.T, o *Overlay, kind, name string) {
	t.Helper()
	i := slices.IndexFunc(o.Objects, func(obj *unstructured.Unstructured) bool { return obj.GetKind() == kind && obj.GetName() == name })
	if i < 0 {
		t.Fatalf("no %s %s", kind, name)
	}
	o.Objects = slices.Delete(o.Objects, i, i+1)
}

func setConsoleEnv(t *testing.T, o *Overlay, name, value string) {
	t.Helper()
	c := field(t, find(t, o, "Deployment", consoleName), blueContainer...)
	for _, e := range c["env"].([]any) {
		if m := e.(map[string]any); m["name"] == name {
			m["value"] = value
			return
		}
	}
	t.Fatalf("console sets no %s", name)
}

// Each part of the console check can fail: spoil the dev overlay in one place
// and the check reports exactly that.
func TestTheConsoleCheckReportsBrokenManifests(t *testing.T) {
	cases := []struct {
		name  string
		spoil func(t *testing.T, o *Overlay)
		says  string
	}{
		{"sidecar port closed", func(t *testing.T, o *Overlay) {
			deleteObject(t, o, "NetworkPolicy", "sidecars-from-console")
		}, "no NetworkPolicy lets console pods reach report's pods on port 3500"},
		{"app port closed", func(t *testing.T, o *Overlay) {
			from := field(t, find(t, o, "NetworkPolicy", "apps-http"), "spec", "ingress", "0")
			from["from"] = from["from"].([]any)[:2]
		}, "no NetworkPolicy lets console pods reach reward's pods on port 8080"},
		{"console open to the namespace", func(t *testing.T, o *Overlay) {
			peer := field(t, find(t, o, "NetworkPolicy", "console-http"), "spec", "ingress", "0", "from", "0")
			delete(peer, "podSelector")
		}, "admits more than the ingress gateway to the console's port 8080"},
		{"console not open to the gateway", func(t *testing.T, o *Overlay) {
			deleteObject(t, o, "NetworkPolicy", "console-http")
		}, "no NetworkPolicy admits the ingress gateway to port 8080"},
		{"sidecar on loopback", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "Deployment", "reviewer"), "spec", "template", "metadata", "annotations"), "dapr.io/sidecar-listen-addresses")
		}, "reviewer's sidecar listens on \"\" only"},
		{"principal of another namespace", func(t *testing.T, o *Overlay) {
			src := field(t, find(t, o, "AuthorizationPolicy", "reward"), "spec", "rules", "1", "from", "0", "source")
			src["principals"] = []any{"cluster.local/ns/govern-prod/sa/console"}
		}, "no AuthorizationPolicy of reward admits the console's identity cluster.local/ns/govern-dev/sa/console"},
		{"unknown service", func(t *testing.T, o *Overlay) {
			setConsoleEnv(t, o, "REVIEWER_URL", "http://reviewers:8080")
		}, "reviewers is no Service of the overlay"},
		{"wrong sidecar address", func(t *testing.T, o *Overlay) {
			setConsoleEnv(t, o, "REPORT_SIDECAR_URL", "http://report:3500")
		}, "is not the sidecar's headless Service report-dapr:3500"},
		{"host not on the gateway", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "VirtualService", consoleName), "spec")["hosts"] = []any{"console.example.org"}
		}, "host console.example.org is not served by Gateway govern-gateway"},
		{"console with a sidecar", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", consoleName), "spec", "template", "metadata", "annotations")["dapr.io/enabled"] = "true"
		}, "has a Dapr sidecar"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := renderOverlay(t, "dev")
			tc.spoil(t, o)
			ws, _ := consoleOf(t, o)
			problems := o.checkConsole(ws)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.says) }) {
				t.Fatalf("want a problem saying %q, got:\n%s", tc.says, strings.Join(problems, "\n"))
			}
		})
	}
}
