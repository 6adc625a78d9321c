package manifests

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// observabilityDir is the monitoring namespace's kustomization (the
// API server dry run of it is TestOtherKustomizationsAreAcceptedByTheAPIServer's).
var observabilityDir = filepath.Join(manifestsDir, "observability")

func observability(t *testing.T) (*Overlay, []workload) {
	t.Helper()
	objs, err := Render(observabilityDir)
	if err != nil {
		t.Fatal(err)
	}
	o := &Overlay{Name: "observability", Namespace: "monitoring", Objects: objs, Namespaced: clusterScoped}
	ws, problems := o.workloads()
	for _, p := range problems {
		t.Error(p)
	}
	return o, ws
}

// The log shipper is held to the same rules as the apps (pinned image,
// requests and limits, probes, read-only root, no escalation, ALL dropped,
// RuntimeDefault seccomp, a token only with a binding), except that it runs
// as uid 0: container logs on a node belong to root.
func TestTheLogShipperKeepsTheInvariantsButRoot(t *testing.T) {
	o, ws := observability(t)
	if len(ws) != 1 || ws[0].obj.GetKind() != "DaemonSet" {
		t.Fatalf("want one workload, the Fluent Bit DaemonSet; got %v", ws)
	}
	where := ws[0].String() + " container fluent-bit"
	root := map[string]bool{where + ": runAsNonRoot is not true": true, where + ": runs as uid 0": true}
	var problems []string
	for _, check := range []func([]workload) []string{
		o.checkNamespaces, o.checkImages, o.checkContainers, o.checkServiceAccounts, o.checkNetworkPolicies,
	} {
		problems = append(problems, check(ws)...)
	}
	for _, p := range problems {
		if !root[p] {
			t.Errorf("invariant: %s", p)
		}
	}
}

// fluentBitConf parses Fluent Bit's classic configuration: [SECTION] headers
// and "Key Value" lines.
type section struct {
	name string
	keys map[string]string
}

func fluentBitConf(t *testing.T, text string) []section {
	t.Helper()
	var out []section
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			out = append(out, section{name: strings.ToUpper(strings.Trim(line, "[]")), keys: map[string]string{}})
		case len(out) == 0:
			t.Fatalf("fluent-bit.conf: %q before any section", line)
		default:
			k, v, _ := strings.Cut(line, " ")
			out[len(out)-1].keys[strings.ToLower(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

func plugin(sections []section, kind, name string) (map[string]string, bool) {
	for _, s := range sections {
		if s.name == kind && strings.EqualFold(s.keys["name"], name) {
			return s.keys, true
		}
	}
	return nil, false
}

func configMapData(t *testing.T, o *Overlay, name string) map[string]string {
	t.Helper()
	cm := o.named("ConfigMap", name)
	if cm == nil {
		t.Fatalf("no ConfigMap %s", name)
	}
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	return data
}

// What the DaemonSet mounts and what its configuration reads agree: the
// platform's container logs, read-only; positions and buffer on the node;
// each line's JSON merged into the record so the business ids stay fields.
func TestTheLogShipperReadsThePlatformsLogsAndKeepsTheIds(t *testing.T) {
	o, ws := observability(t)
	pod := ws[0].pod.Spec
	c := pod.Containers[0]
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	for name, m := range mounts {
		v := volumes[name]
		writable := name == "state"
		if m.ReadOnly == writable {
			t.Errorf("volume %s mounted at %s: readOnly %v", name, m.MountPath, m.ReadOnly)
		}
		if v.HostPath != nil && !slices.Contains([]string{"/var/log", "/var/fluent-bit/state"}, v.HostPath.Path) {
			t.Errorf("volume %s: host path %s", name, v.HostPath.Path)
		}
	}
	conf := configMapData(t, o, "fluent-bit-config")["fluent-bit.conf"]
	sections := fluentBitConf(t, conf)
	tail, ok := plugin(sections, "INPUT", "tail")
	if !ok {
		t.Fatal("no tail input")
	}
	if !strings.HasPrefix(tail["path"], mounts["varlog"].MountPath+"/containers/") || !strings.Contains(tail["path"], "_govern-") {
		t.Errorf("tail path %q: the platform's namespaces under the mounted /var/log", tail["path"])
	}
	if !strings.Contains(tail["multiline.parser"], "cri") {
		t.Errorf("tail multiline.parser %q: containerd's CRI format is needed", tail["multiline.parser"])
	}
	state := mounts["state"].MountPath
	var service map[string]string
	for _, s := range sections {
		if s.name == "SERVICE" {
			service = s.keys
		}
	}
	for what, path := range map[string]string{"tail DB": tail["db"], "storage.path": service["storage.path"]} {
		if !strings.HasPrefix(path, state+"/") {
			t.Errorf("%s %q is not on the node's state folder %s", what, path, state)
		}
	}
	k8s, ok := plugin(sections, "FILTER", "kubernetes")
	if !ok || !strings.EqualFold(k8s["merge_log"], "on") {
		t.Errorf("kubernetes filter %v: Merge_Log On keeps the JSON fields (case_id, report_id, user_id) in the record", k8s)
	}
	if _, ok := k8s["merge_log_key"]; ok {
		t.Error("Merge_Log_Key would nest the ids under a key")
	}
	out, ok := plugin(sections, "OUTPUT", "opentelemetry")
	if !ok || out["logs_trace_id_message_key"] != "trace_id" || out["logs_span_id_message_key"] != "span_id" {
		t.Errorf("opentelemetry output %v: should carry trace_id and span_id into the OTLP record", out)
	}
	port := c.Ports[0]
	if service["http_port"] != "2020" || port.ContainerPort != 2020 || c.ReadinessProbe.HTTPGet.Port.String() != port.Name {
		t.Errorf("HTTP server port %s, container port %d %s, probe port %s: must agree",
			service["http_port"], port.ContainerPort, port.Name, c.ReadinessProbe.HTTPGet.Port.String())
	}
}

// Prometheus gets exactly the rule files that promtool tests, unchanged.
func TestTheRulesConfigMapHoldsEveryRuleFile(t *testing.T) {
	o, _ := observability(t)
	data := configMapData(t, o, "govern-prometheus-rules")
	files, err := filepath.Glob(filepath.Join(observabilityDir, "rules", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files: %v", err)
	}
	if len(data) != len(files) {
		t.Errorf("ConfigMap has %d files, rules/ %d", len(data), len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if data[filepath.Base(f)] != string(raw) {
			t.Errorf("%s: missing from the ConfigMap or different", filepath.Base(f))
		}
	}
	if _, ok := configMapData(t, o, "govern-prometheus-scrape")["scrape-configs.yml"]; !ok {
		t.Error("the scrape configuration is not in its ConfigMap")
	}
}
