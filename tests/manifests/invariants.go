package manifests

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// An Overlay is one environment's render: every namespaced object in it must
// land in Namespace.
type Overlay struct {
	Name, Namespace string
	Objects         []*unstructured.Unstructured
	// Namespaced says whether a kind lives in a namespace (the API server knows).
	Namespaced func(schema.GroupVersionKind) (bool, error)
}

// Problems runs every invariant and returns what is wrong, one line each.
func (o *Overlay) Problems() []string {
	w, problems := o.workloads()
	for _, check := range []func([]workload) []string{
		o.checkNamespaces, o.checkImages, o.checkContainers, o.checkDapr, o.checkDaprScopes,
		o.checkTraffic, o.checkEdge, o.checkSecrets, o.checkServiceAccounts, o.checkAvailability,
		o.checkNetworkPolicies, o.checkConsole,
	} {
		problems = append(problems, check(w)...)
	}
	return problems
}

// Dapr sidecar ports (API HTTP and gRPC, internal gRPC between sidecars) that
// Istio's proxy must leave alone: Dapr does mTLS on them itself.
var daprPorts = []string{"3500", "50001", "50002"}

type workload struct {
	obj *unstructured.Unstructured
	pod corev1.PodTemplateSpec
}

func (w workload) String() string { return describe(w.obj) }

func (o *Overlay) workloads() ([]workload, []string) {
	var out []workload
	var problems []string
	for _, obj := range o.Objects {
		var path []string
		switch obj.GetKind() {
		case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
			path = []string{"spec", "template"}
		case "CronJob":
			path = []string{"spec", "jobTemplate", "spec", "template"}
		case "Pod":
			out = append(out, workload{obj: obj})
			if err := fromUnstructured(obj.Object, &out[len(out)-1].pod); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", describe(obj), err))
			}
			continue
		default:
			continue
		}
		tmpl, _, _ := unstructured.NestedMap(obj.Object, path...)
		w := workload{obj: obj}
		if err := fromUnstructured(tmpl, &w.pod); err != nil {
			problems = append(problems, fmt.Sprintf("%s: pod template: %v", describe(obj), err))
			continue
		}
		out = append(out, w)
	}
	return out, problems
}

func fromUnstructured(m map[string]any, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(m, into)
}

func (o *Overlay) ofKind(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, obj := range o.Objects {
		if obj.GetKind() == kind {
			out = append(out, obj)
		}
	}
	return out
}

func (o *Overlay) named(kind, name string) *unstructured.Unstructured {
	for _, obj := range o.ofKind(kind) {
		if obj.GetName() == name {
			return obj
		}
	}
	return nil
}

func (o *Overlay) checkNamespaces([]workload) []string {
	var problems []string
	for _, obj := range o.Objects {
		namespaced, err := o.Namespaced(obj.GroupVersionKind())
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", describe(obj), err))
			continue
		}
		if namespaced && obj.GetNamespace() != o.Namespace {
			problems = append(problems, fmt.Sprintf("%s: in namespace %q, not the overlay's %s", describe(obj), obj.GetNamespace(), o.Namespace))
		}
		if obj.GetKind() == "Namespace" && obj.GetName() != o.Namespace {
			problems = append(problems, fmt.Sprintf("overlay %s creates namespace %s", o.Name, obj.GetName()))
		}
	}
	return problems
}

func allContainers(pod corev1.PodSpec) []corev1.Container {
	return append(slices.Clone(pod.InitContainers), pod.Containers...)
}

func (o *Overlay) checkImages(ws []workload) []string {
	var problems []string
	for _, w := range ws {
		for _, c := range allContainers(w.pod.Spec) {
			if p := imageProblem(c.Image); p != "" {
				problems = append(problems, fmt.Sprintf("%s container %s: image %q %s", w, c.Name, c.Image, p))
			}
		}
	}
	return problems
}

// imageProblem says why an image reference is not pinned ("" if it is).
func imageProblem(image string) string {
	if strings.Contains(image, "@sha256:") {
		return ""
	}
	slash := strings.LastIndex(image, "/")
	colon := strings.LastIndex(image, ":")
	if colon <= slash {
		return "has no tag"
	}
	if image[colon+1:] == "latest" {
		return "uses the latest tag"
	}
	return ""
}

func (o *Overlay) checkContainers(ws []workload) []string {
	var problems []string
	for _, w := range ws {
		spec := w.pod.Spec
		for _, c := range allContainers(spec) {
			where := fmt.Sprintf("%s container %s", w, c.Name)
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[r]; !ok {
					problems = append(problems, fmt.Sprintf("%s: no %s request", where, r))
				}
			}
			if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
				problems = append(problems, where+": no memory limit")
			}
			problems = append(problems, securityProblems(where, spec.SecurityContext, c.SecurityContext)...)
		}
		for _, c := range spec.Containers {
			if c.ReadinessProbe == nil {
				problems = append(problems, fmt.Sprintf("%s container %s: no readiness probe", w, c.Name))
			}
			if c.LivenessProbe == nil {
				problems = append(problems, fmt.Sprintf("%s container %s: no liveness probe", w, c.Name))
			}
		}
	}
	return problems
}

// securityProblems checks the restricted Pod Security Standard fields, taking
// the pod's settings where the container has none.
func securityProblems(where string, pod *corev1.PodSecurityContext, c *corev1.SecurityContext) []string {
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	if c == nil {
		c = &corev1.SecurityContext{}
	}
	var problems []string
	nonRoot := c.RunAsNonRoot
	if nonRoot == nil {
		nonRoot = pod.RunAsNonRoot
	}
	if nonRoot == nil || !*nonRoot {
		problems = append(problems, where+": runAsNonRoot is not true")
	}
	for _, uid := range []*int64{c.RunAsUser, pod.RunAsUser} {
		if uid != nil && *uid == 0 {
			problems = append(problems, where+": runs as uid 0")
		}
	}
	if c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation {
		problems = append(problems, where+": allowPrivilegeEscalation is not false")
	}
	if c.Privileged != nil && *c.Privileged {
		problems = append(problems, where+": privileged")
	}
	if c.ReadOnlyRootFilesystem == nil || !*c.ReadOnlyRootFilesystem {
		problems = append(problems, where+": readOnlyRootFilesystem is not true")
	}
	if c.Capabilities == nil || !slices.Contains(c.Capabilities.Drop, "ALL") {
		problems = append(problems, where+": capabilities do not drop ALL")
	} else if len(c.Capabilities.Add) > 0 {
		problems = append(problems, fmt.Sprintf("%s: adds capabilities %v", where, c.Capabilities.Add))
	}
	seccomp := c.SeccompProfile
	if seccomp == nil {
		seccomp = pod.SeccompProfile
	}
	if seccomp == nil || (seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault && seccomp.Type != corev1.SeccompProfileTypeLocalhost) {
		problems = append(problems, where+": seccompProfile is not RuntimeDefault")
	}
	return problems
}

func daprEnabled(w workload) bool { return w.pod.Annotations["dapr.io/enabled"] == "true" }

// appIDs are the Dapr app-ids the overlay runs.
func appIDs(ws []workload) map[string]bool {
	ids := map[string]bool{}
	for _, w := range ws {
		if daprEnabled(w) {
			ids[w.pod.Annotations["dapr.io/app-id"]] = true
		}
	}
	return ids
}

func (o *Overlay) checkDapr(ws []workload) []string {
	var problems []string
	for _, w := range ws {
		if !daprEnabled(w) {
			continue
		}
		ann := w.pod.Annotations
		id, port := ann["dapr.io/app-id"], ann["dapr.io/app-port"]
		if id == "" {
			problems = append(problems, w.String()+": dapr.io/app-id missing")
			continue
		}
		if w.pod.Labels["app"] != id {
			problems = append(problems, fmt.Sprintf("%s: dapr.io/app-id %s but pod label app=%s", w, id, w.pod.Labels["app"]))
		}
		app := appContainer(w.pod.Spec, id)
		if app == nil {
			problems = append(problems, fmt.Sprintf("%s: no container named %s", w, id))
			continue
		}
		portNum, err := strconv.Atoi(port)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: dapr.io/app-port %q is not a port", w, port))
			continue
		}
		if !slices.ContainsFunc(app.Ports, func(p corev1.ContainerPort) bool { return int(p.ContainerPort) == portNum }) {
			problems = append(problems, fmt.Sprintf("%s: dapr.io/app-port %d is not a port of container %s", w, portNum, app.Name))
		}
		if addr, ok := envValue(app, "HTTP_ADDR"); ok && !strings.HasSuffix(addr, ":"+port) {
			problems = append(problems, fmt.Sprintf("%s: HTTP_ADDR %s does not listen on dapr.io/app-port %s", w, addr, port))
		}
		if _, ok := envValue(app, "GOMEMLIMIT"); !ok {
			problems = append(problems, fmt.Sprintf("%s: container %s has no GOMEMLIMIT", w, app.Name))
		}
		for _, svc := range o.servicesSelecting(w.pod.Labels) {
			if !serviceTargets(svc, app, portNum) {
				problems = append(problems, fmt.Sprintf("%s selects %s but targets no port %d", describe(svc), w, portNum))
			}
		}
		if cfg := ann["dapr.io/config"]; cfg == "" {
			problems = append(problems, w.String()+": dapr.io/config missing")
		} else if o.named("Configuration", cfg) == nil {
			problems = append(problems, fmt.Sprintf("%s: dapr.io/config names %s, which the overlay lacks", w, cfg))
		}
		for _, key := range []string{"app-token-secret", "api-token-secret", "sidecar-cpu-request", "sidecar-cpu-limit",
			"sidecar-memory-request", "sidecar-memory-limit", "log-as-json", "enable-metrics", "graceful-shutdown-seconds"} {
			if ann["dapr.io/"+key] == "" {
				problems = append(problems, fmt.Sprintf("%s: dapr.io/%s missing", w, key))
			}
		}
		if !strings.Contains(ann["dapr.io/env"], "GOMEMLIMIT=") {
			problems = append(problems, w.String()+": dapr.io/env sets no GOMEMLIMIT for the sidecar")
		}
		grace := int64(30)
		if w.pod.Spec.TerminationGracePeriodSeconds != nil {
			grace = *w.pod.Spec.TerminationGracePeriodSeconds
		}
		if s, err := strconv.ParseInt(ann["dapr.io/graceful-shutdown-seconds"], 10, 64); err == nil && s >= grace {
			problems = append(problems, fmt.Sprintf("%s: dapr.io/graceful-shutdown-seconds %d is not below terminationGracePeriodSeconds %d", w, s, grace))
		}
		metrics := ann["dapr.io/metrics-port"]
		if metrics == "" {
			metrics = "9090"
		}
		excluded := strings.Split(strings.ReplaceAll(ann["traffic.sidecar.istio.io/excludeInboundPorts"], " ", ""), ",")
		for _, p := range append(slices.Clone(daprPorts), metrics) {
			if !slices.Contains(excluded, p) {
				problems = append(problems, fmt.Sprintf("%s: Dapr port %s not in traffic.sidecar.istio.io/excludeInboundPorts", w, p))
			}
		}
		if !slices.Contains(strings.Split(strings.ReplaceAll(ann["traffic.sidecar.istio.io/excludeOutboundPorts"], " ", ""), ","), "50002") {
			problems = append(problems, w.String()+": sidecar-to-sidecar port 50002 not in traffic.sidecar.istio.io/excludeOutboundPorts")
		}
	}
	return problems
}

func appContainer(spec corev1.PodSpec, id string) *corev1.Container {
	for i := range spec.Containers {
		if spec.Containers[i].Name == id {
			return &spec.Containers[i]
		}
	}
	if len(spec.Containers) == 1 {
		return &spec.Containers[0]
	}
	return nil
}

func envValue(c *corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

func (o *Overlay) servicesSelecting(labels map[string]string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, svc := range o.ofKind("Service") {
		sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
		if len(sel) > 0 && hasLabels(labels, sel) {
			out = append(out, svc)
		}
	}
	return out
}

func serviceTargets(svc *unstructured.Unstructured, c *corev1.Container, port int) bool {
	var spec corev1.ServiceSpec
	m, _, _ := unstructured.NestedMap(svc.Object, "spec")
	if fromUnstructured(m, &spec) != nil {
		return false
	}
	for _, p := range spec.Ports {
		target := p.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 {
			target = intstr.FromInt32(p.Port)
		}
		if target.Type == intstr.Int && int(target.IntVal) == port {
			return true
		}
		for _, cp := range c.Ports {
			if target.Type == intstr.String && cp.Name == target.StrVal && int(cp.ContainerPort) == port {
				return true
			}
		}
	}
	return false
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func isDapr(obj *unstructured.Unstructured) bool {
	return strings.HasPrefix(obj.GetAPIVersion(), "dapr.io/")
}

func (o *Overlay) checkDaprScopes(ws []workload) []string {
	ids := appIDs(ws)
	var problems []string
	names := func(kind string) map[string]bool {
		m := map[string]bool{}
		for _, obj := range o.ofKind(kind) {
			if isDapr(obj) {
				m[obj.GetName()] = true
			}
		}
		return m
	}
	components, endpoints := names("Component"), names("HTTPEndpoint")
	for _, obj := range o.Objects {
		if !isDapr(obj) {
			continue
		}
		scopes, _, _ := unstructured.NestedStringSlice(obj.Object, "scopes")
		for _, s := range scopes {
			if !ids[s] {
				problems = append(problems, fmt.Sprintf("%s: scope %q is no app-id of the overlay (%s)", describe(obj), s, strings.Join(slices.Sorted(maps.Keys(ids)), ", ")))
			}
		}
		switch obj.GetKind() {
		case "Component", "HTTPEndpoint":
			if len(scopes) == 0 {
				problems = append(problems, describe(obj)+": no scopes (every app would load it)")
			}
		case "Subscription":
			pubsub, _, _ := unstructured.NestedString(obj.Object, "spec", "pubsubname")
			c := o.named("Component", pubsub)
			typ, _, _ := unstructured.NestedString(objOrEmpty(c), "spec", "type")
			if !strings.HasPrefix(typ, "pubsub.") {
				problems = append(problems, fmt.Sprintf("%s: pubsubname %q is no pub/sub component of the overlay", describe(obj), pubsub))
			}
			if dl, _, _ := unstructured.NestedString(obj.Object, "spec", "deadLetterTopic"); dl == "" {
				problems = append(problems, describe(obj)+": no deadLetterTopic")
			}
		case "Resiliency":
			apps, _, _ := unstructured.NestedMap(obj.Object, "spec", "targets", "apps")
			for a := range apps {
				if !ids[a] && !endpoints[a] {
					problems = append(problems, fmt.Sprintf("%s: target app %q is neither an app-id nor an HTTPEndpoint", describe(obj), a))
				}
			}
			comps, _, _ := unstructured.NestedMap(obj.Object, "spec", "targets", "components")
			for c := range comps {
				if !components[c] {
					problems = append(problems, fmt.Sprintf("%s: target component %q does not exist", describe(obj), c))
				}
			}
		}
	}
	return problems
}

func objOrEmpty(obj *unstructured.Unstructured) map[string]any {
	if obj == nil {
		return map[string]any{}
	}
	return obj.Object
}

// Istio traffic: the split is only sound if weights add up and every subset
// a route names has pods behind it.
func (o *Overlay) checkTraffic([]workload) []string {
	var problems []string
	for _, vs := range o.ofKind("VirtualService") {
		gateways, _, _ := unstructured.NestedStringSlice(vs.Object, "spec", "gateways")
		for _, g := range gateways {
			if g != "mesh" && o.named("Gateway", g) == nil && !strings.Contains(g, "/") {
				problems = append(problems, fmt.Sprintf("%s: gateway %s is not in the overlay", describe(vs), g))
			}
		}
		routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
		for i, r := range routes {
			dests, _, _ := unstructured.NestedSlice(r.(map[string]any), "route")
			sum := int64(0)
			for _, d := range dests {
				dm := d.(map[string]any)
				w, found, _ := unstructured.NestedInt64(dm, "weight")
				if !found {
					w = 100
					if len(dests) > 1 {
						problems = append(problems, fmt.Sprintf("%s route %d: a destination without weight among %d", describe(vs), i+1, len(dests)))
					}
				}
				if w < 0 || w > 100 {
					problems = append(problems, fmt.Sprintf("%s route %d: weight %d outside 0-100", describe(vs), i+1, w))
				}
				sum += w
				host, _, _ := unstructured.NestedString(dm, "destination", "host")
				subset, _, _ := unstructured.NestedString(dm, "destination", "subset")
				problems = append(problems, o.destinationProblems(describe(vs), i+1, host, subset)...)
			}
			if len(dests) > 0 && sum != 100 {
				problems = append(problems, fmt.Sprintf("%s route %d: weights sum to %d, not 100", describe(vs), i+1, sum))
			}
		}
	}
	return problems
}

// serviceOf resolves a destination host (short or FQDN) to a Service of the
// overlay's namespace.
func (o *Overlay) serviceOf(host string) *unstructured.Unstructured {
	parts := strings.Split(host, ".")
	if len(parts) > 1 && parts[1] != o.Namespace {
		return nil
	}
	return o.named("Service", parts[0])
}

func (o *Overlay) destinationProblems(where string, route int, host, subset string) []string {
	svc := o.serviceOf(host)
	if svc == nil {
		return []string{fmt.Sprintf("%s route %d: host %s is no Service of namespace %s", where, route, host, o.Namespace)}
	}
	if subset == "" {
		return nil
	}
	var dr *unstructured.Unstructured
	for _, d := range o.ofKind("DestinationRule") {
		h, _, _ := unstructured.NestedString(d.Object, "spec", "host")
		if s := o.serviceOf(h); s != nil && s.GetName() == svc.GetName() {
			dr = d
		}
	}
	if dr == nil {
		return []string{fmt.Sprintf("%s route %d: subset %s of %s but no DestinationRule for that host", where, route, subset, host)}
	}
	subsets, _, _ := unstructured.NestedSlice(dr.Object, "spec", "subsets")
	for _, s := range subsets {
		sm := s.(map[string]any)
		if sm["name"] != subset {
			continue
		}
		labels, _, _ := unstructured.NestedStringMap(sm, "labels")
		sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
		want := maps.Clone(sel)
		maps.Copy(want, labels)
		for _, d := range o.ofKind("Deployment") {
			podLabels, _, _ := unstructured.NestedStringMap(d.Object, "spec", "template", "metadata", "labels")
			if hasLabels(podLabels, want) {
				return nil
			}
		}
		return []string{fmt.Sprintf("%s route %d: subset %s (%v) matches no Deployment's pods", where, route, subset, want)}
	}
	return []string{fmt.Sprintf("%s route %d: subset %s is not in %s", where, route, subset, describe(dr))}
}

var (
	// Names that hold secrets: their values must come from a Secret.
	secretName = regexp.MustCompile(`(?i)(password|passwd|secret|token|credential|connectionstring|database_?url|dsn|key)$`)
	// Values that are secrets whatever they are called: credentials in a
	// URL, a JWT, a PEM private key.
	secretValue = regexp.MustCompile(`://[^/\s:@]+:[^/\s@]+@|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|-----BEGIN [A-Z ]*PRIVATE KEY-----`)
)

func (o *Overlay) checkSecrets(ws []workload) []string {
	var problems []string
	literal := func(where, name, value string) {
		if value == "" {
			return
		}
		if secretName.MatchString(name) {
			problems = append(problems, fmt.Sprintf("%s: %s is a literal value, not a secretKeyRef", where, name))
		} else if secretValue.MatchString(value) {
			problems = append(problems, fmt.Sprintf("%s: %s holds a secret-looking literal", where, name))
		}
	}
	for _, w := range ws {
		for _, c := range allContainers(w.pod.Spec) {
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					literal(fmt.Sprintf("%s container %s env", w, c.Name), e.Name, e.Value)
				}
			}
		}
	}
	for _, obj := range o.Objects {
		switch {
		case obj.GetKind() == "Secret":
			for _, field := range []string{"data", "stringData"} {
				if m, _, _ := unstructured.NestedMap(obj.Object, field); len(m) > 0 {
					problems = append(problems, fmt.Sprintf("%s: has %s (secrets are created outside the manifests)", describe(obj), field))
				}
			}
		case obj.GetKind() == "ConfigMap":
			data, _, _ := unstructured.NestedStringMap(obj.Object, "data")
			for k, v := range data {
				literal(describe(obj), k, v)
			}
		case isDapr(obj):
			for _, field := range []string{"metadata", "headers"} {
				items, _, _ := unstructured.NestedSlice(obj.Object, "spec", field)
				for _, it := range items {
					m, _ := it.(map[string]any)
					name, _ := m["name"].(string)
					if v, ok := m["value"]; ok {
						literal(fmt.Sprintf("%s spec.%s", describe(obj), field), name, fmt.Sprint(v))
					}
				}
			}
		}
	}
	return problems
}

func (o *Overlay) checkServiceAccounts(ws []workload) []string {
	var problems []string
	bound := map[string]bool{}
	for _, kind := range []string{"RoleBinding", "ClusterRoleBinding"} {
		for _, b := range o.ofKind(kind) {
			subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
			for _, s := range subjects {
				m, _ := s.(map[string]any)
				if m["kind"] == "ServiceAccount" {
					bound[fmt.Sprint(m["name"])] = true
				}
			}
		}
	}
	for _, sa := range o.ofKind("ServiceAccount") {
		if auto, found, _ := unstructured.NestedBool(sa.Object, "automountServiceAccountToken"); !found || auto {
			problems = append(problems, describe(sa)+": automountServiceAccountToken is not false")
		}
	}
	for _, w := range ws {
		name := w.pod.Spec.ServiceAccountName
		if name == "" || o.named("ServiceAccount", name) == nil {
			problems = append(problems, fmt.Sprintf("%s: service account %q is not one of the overlay's", w, name))
			continue
		}
		if a := w.pod.Spec.AutomountServiceAccountToken; a != nil && *a && !bound[name] {
			problems = append(problems, fmt.Sprintf("%s: mounts a token for %s, which no RoleBinding grants anything", w, name))
		}
	}
	return problems
}

// checkAvailability: every Dapr app Deployment is autoscaled and covered by
// a disruption budget, and ingress to the namespace is denied by default.
func (o *Overlay) checkAvailability(ws []workload) []string {
	var problems []string
	for _, w := range ws {
		if w.obj.GetKind() != "Deployment" || !daprEnabled(w) {
			continue
		}
		var d appsv1.Deployment
		if fromUnstructured(w.obj.Object, &d) != nil {
			continue
		}
		if !slices.ContainsFunc(o.ofKind("HorizontalPodAutoscaler"), func(h *unstructured.Unstructured) bool {
			kind, _, _ := unstructured.NestedString(h.Object, "spec", "scaleTargetRef", "kind")
			name, _, _ := unstructured.NestedString(h.Object, "spec", "scaleTargetRef", "name")
			return kind == "Deployment" && name == d.Name
		}) {
			problems = append(problems, fmt.Sprintf("%s: no HorizontalPodAutoscaler", w))
		}
		if !slices.ContainsFunc(o.ofKind("PodDisruptionBudget"), func(p *unstructured.Unstructured) bool {
			sel, _, _ := unstructured.NestedStringMap(p.Object, "spec", "selector", "matchLabels")
			return len(sel) > 0 && hasLabels(w.pod.Labels, sel)
		}) {
			problems = append(problems, fmt.Sprintf("%s: no PodDisruptionBudget selects its pods", w))
		}
	}
	if !slices.ContainsFunc(o.ofKind("NetworkPolicy"), func(n *unstructured.Unstructured) bool {
		sel, _, _ := unstructured.NestedMap(n.Object, "spec", "podSelector")
		types, _, _ := unstructured.NestedStringSlice(n.Object, "spec", "policyTypes")
		ingress, _, _ := unstructured.NestedSlice(n.Object, "spec", "ingress")
		return len(sel) == 0 && slices.Contains(types, "Ingress") && len(ingress) == 0
	}) {
		problems = append(problems, fmt.Sprintf("overlay %s: no default-deny ingress NetworkPolicy", o.Name))
	}
	return problems
}

// The routes only a sidecar may call (the apps check the app API token on
// them): the edge must never route them.
var sidecarOnlyPaths = []string{"/events", "/internal", "/configuration", "/dapr"}

// checkEdge: every route a VirtualService offers on an ingress gateway to a
// Dapr app matches by URI, and none of its URIs can reach a sidecar-only
// route. (Other backends, such as the dashboard, have no such routes.)
func (o *Overlay) checkEdge(ws []workload) []string {
	var problems []string
	toDaprApp := func(route map[string]any) bool {
		dests, _, _ := unstructured.NestedSlice(route, "route")
		for _, d := range dests {
			host, _, _ := unstructured.NestedString(d.(map[string]any), "destination", "host")
			svc := o.serviceOf(host)
			if svc == nil {
				continue
			}
			sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
			if len(sel) > 0 && slices.ContainsFunc(ws, func(w workload) bool { return daprEnabled(w) && hasLabels(w.pod.Labels, sel) }) {
				return true
			}
		}
		return false
	}
	for _, vs := range o.ofKind("VirtualService") {
		vsGateways, _, _ := unstructured.NestedStringSlice(vs.Object, "spec", "gateways")
		onEdge := func(gateways []string) bool {
			if len(gateways) == 0 {
				gateways = vsGateways
			}
			return slices.ContainsFunc(gateways, func(g string) bool { return g != "mesh" })
		}
		routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
		for i, r := range routes {
			if !toDaprApp(r.(map[string]any)) {
				continue
			}
			matches, _, _ := unstructured.NestedSlice(r.(map[string]any), "match")
			if len(matches) == 0 {
				if onEdge(nil) {
					problems = append(problems, fmt.Sprintf("%s route %d: matches every path on gateway %v (sidecar-only routes included)", describe(vs), i+1, vsGateways))
				}
				continue
			}
			for j, m := range matches {
				mm := m.(map[string]any)
				gateways, _, _ := unstructured.NestedStringSlice(mm, "gateways")
				if !onEdge(gateways) {
					continue
				}
				uri, _, _ := unstructured.NestedStringMap(mm, "uri")
				if p := uriProblem(uri); p != "" {
					problems = append(problems, fmt.Sprintf("%s route %d match %d: %s", describe(vs), i+1, j+1, p))
				}
			}
		}
	}
	return problems
}

// uriProblem says how a VirtualService URI match could reach a sidecar-only
// route ("" if it cannot).
func uriProblem(uri map[string]string) string {
	if len(uri) == 0 {
		return "no uri match: every path, sidecar-only routes included"
	}
	if re, ok := uri["regex"]; ok {
		return fmt.Sprintf("regex %q: cannot show it excludes the sidecar-only routes", re)
	}
	for _, s := range sidecarOnlyPaths {
		if p, ok := uri["prefix"]; ok && (strings.HasPrefix(s, strings.TrimSuffix(p, "/")) || strings.HasPrefix(p, s)) {
			return fmt.Sprintf("prefix %q reaches %s", p, s)
		}
		if e, ok := uri["exact"]; ok && strings.HasPrefix(e, s) {
			return fmt.Sprintf("exact %q is under %s", e, s)
		}
	}
	return ""
}

// checkNetworkPolicies: an ingress rule names its sources and its ports, so
// that no rule quietly opens a pod to the whole cluster.
func (o *Overlay) checkNetworkPolicies([]workload) []string {
	var problems []string
	for _, np := range o.ofKind("NetworkPolicy") {
		rules, _, _ := unstructured.NestedSlice(np.Object, "spec", "ingress")
		for i, r := range rules {
			rm := r.(map[string]any)
			from, _, _ := unstructured.NestedSlice(rm, "from")
			if len(from) == 0 {
				problems = append(problems, fmt.Sprintf("%s ingress rule %d: no from, so every source", describe(np), i+1))
			}
			for _, peer := range from {
				pm, _ := peer.(map[string]any)
				ns, hasNS := pm["namespaceSelector"].(map[string]any)
				cidr, _, _ := unstructured.NestedString(pm, "ipBlock", "cidr")
				switch {
				case len(pm) == 0:
					problems = append(problems, fmt.Sprintf("%s ingress rule %d: an empty peer admits every pod", describe(np), i+1))
				case hasNS && len(ns) == 0:
					problems = append(problems, fmt.Sprintf("%s ingress rule %d: namespaceSelector {} admits every namespace", describe(np), i+1))
				case cidr == "0.0.0.0/0" || cidr == "::/0":
					problems = append(problems, fmt.Sprintf("%s ingress rule %d: ipBlock %s admits every address", describe(np), i+1, cidr))
				}
			}
			if ports, _, _ := unstructured.NestedSlice(rm, "ports"); len(ports) == 0 {
				problems = append(problems, fmt.Sprintf("%s ingress rule %d: no ports, so every port", describe(np), i+1))
			}
		}
	}
	return problems
}
