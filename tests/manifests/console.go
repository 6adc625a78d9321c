package manifests

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// The ops console (apps/console) in an overlay: a Deployment named console
// whose container reads <APP>_URL (an app's Service) and <APP>_SIDECAR_URL
// (that app's sidecar HTTP API on the Dapr operator's headless <app>-dapr
// Service) for every Dapr app of the overlay.
const consoleName = "console"

// gatewayPeer is the only source the console's HTTP port may admit.
var gatewayPeer = map[string]map[string]string{
	"namespace": {"kubernetes.io/metadata.name": "istio-system"},
	"pod":       {"istio": "ingressgateway"},
}

// checkConsole: when the overlay runs the console, its HTTP port admits only
// the ingress gateway, and every address it is given is one the overlay's
// NetworkPolicies and AuthorizationPolicies let it reach.
func (o *Overlay) checkConsole(ws []workload) []string {
	i := slices.IndexFunc(ws, func(w workload) bool { return w.obj.GetKind() == "Deployment" && w.obj.GetName() == consoleName })
	if i < 0 {
		return nil
	}
	w := ws[i]
	var problems []string
	if daprEnabled(w) {
		problems = append(problems, w.String()+": has a Dapr sidecar (it calls no Dapr API as itself)")
	}
	c := appContainer(w.pod.Spec, consoleName)
	if c == nil {
		return append(problems, fmt.Sprintf("%s: no container named %s", w, consoleName))
	}
	httpPort := 0
	for _, p := range c.Ports {
		if p.Name == "http" {
			httpPort = int(p.ContainerPort)
		}
	}
	if addr, _ := envValue(c, "HTTP_ADDR"); httpPort == 0 || !strings.HasSuffix(addr, ":"+strconv.Itoa(httpPort)) {
		problems = append(problems, fmt.Sprintf("%s: HTTP_ADDR %q does not listen on its http port %d", w, addr, httpPort))
	}
	problems = append(problems, o.consoleIngressProblems(w, httpPort)...)
	problems = append(problems, o.consoleRouteProblems(w)...)
	for _, app := range slices.Sorted(func(yield func(string) bool) {
		for id := range appIDs(ws) {
			if !yield(id) {
				return
			}
		}
	}) {
		target := o.appWorkload(ws, app)
		up := strings.ToUpper(app)
		for _, key := range []string{up + "_URL", up + "_SIDECAR_URL"} {
			raw, ok := envValue(c, key)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: sets no %s", w, key))
				continue
			}
			host, port, err := hostPort(raw)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %s %q: %v", w, key, raw, err))
				continue
			}
			var podPort int
			if strings.HasSuffix(key, "_SIDECAR_URL") {
				podPort = 3500
				if host != app+"-dapr" || port != podPort {
					problems = append(problems, fmt.Sprintf("%s: %s %q is not the sidecar's headless Service %s-dapr:%d", w, key, raw, app, podPort))
					continue
				}
				if addrs := target.pod.Annotations["dapr.io/sidecar-listen-addresses"]; !listensOnPod(addrs) {
					problems = append(problems, fmt.Sprintf("%s: %s's sidecar listens on %q only, so %s cannot reach it", w, app, addrs, key))
				}
				if v := envFrom(c, up+"_DAPR_API_TOKEN"); v == nil || v.SecretKeyRef == nil ||
					v.SecretKeyRef.Name != target.pod.Annotations["dapr.io/api-token-secret"] {
					problems = append(problems, fmt.Sprintf("%s: %s_DAPR_API_TOKEN is not the Secret %q of %s's sidecar", w, up, target.pod.Annotations["dapr.io/api-token-secret"], app))
				}
			} else {
				svc := o.serviceOf(host)
				if svc == nil {
					problems = append(problems, fmt.Sprintf("%s: %s %q: %s is no Service of the overlay", w, key, raw, host))
					continue
				}
				podPort = servicePodPort(svc, appContainer(target.pod.Spec, app), port)
				if podPort == 0 {
					problems = append(problems, fmt.Sprintf("%s: %s %q: Service %s has no port %d onto %s's pods", w, key, raw, host, port, app))
					continue
				}
				if !o.consoleAuthorized(w, target) {
					problems = append(problems, fmt.Sprintf("%s: no AuthorizationPolicy of %s admits the console's identity %s on /v1/*", w, app, o.consolePrincipal(w)))
				}
			}
			if !o.admits(target.pod.Labels, w.pod.Labels, podPort) {
				problems = append(problems, fmt.Sprintf("%s: no NetworkPolicy lets console pods reach %s's pods on port %d (%s)", w, app, podPort, key))
			}
		}
	}
	return problems
}

func (o *Overlay) appWorkload(ws []workload, app string) workload {
	for _, w := range ws {
		if daprEnabled(w) && w.pod.Annotations["dapr.io/app-id"] == app {
			return w
		}
	}
	return workload{}
}

func envFrom(c *corev1.Container, name string) *corev1.EnvVarSource {
	for _, e := range c.Env {
		if e.Name == name {
			return e.ValueFrom
		}
	}
	return nil
}

func hostPort(raw string) (string, int, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", 0, err
	}
	if u.Scheme != "http" || u.Host == "" {
		return "", 0, fmt.Errorf("want http://host:port")
	}
	host, p, err := net.SplitHostPort(u.Host)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	return host, port, err
}

// listensOnPod says whether Dapr's listen addresses include the pod's own
// address (Dapr's default in Kubernetes is loopback only).
func listensOnPod(addrs string) bool {
	for _, a := range strings.Split(addrs, ",") {
		if a = strings.TrimSpace(a); a == "0.0.0.0" || a == "[::]" || a == "::" {
			return true
		}
	}
	return false
}

// servicePodPort is the container port that Service port lands on (0: none).
func servicePodPort(svc *unstructured.Unstructured, c *corev1.Container, port int) int {
	var spec corev1.ServiceSpec
	m, _, _ := unstructured.NestedMap(svc.Object, "spec")
	if c == nil || fromUnstructured(m, &spec) != nil {
		return 0
	}
	for _, p := range spec.Ports {
		if int(p.Port) != port {
			continue
		}
		for _, cp := range c.Ports {
			if (p.TargetPort.StrVal != "" && cp.Name == p.TargetPort.StrVal) || int(cp.ContainerPort) == p.TargetPort.IntValue() ||
				(p.TargetPort.IntValue() == 0 && p.TargetPort.StrVal == "" && int(cp.ContainerPort) == port) {
				return int(cp.ContainerPort)
			}
		}
	}
	return 0
}

func (o *Overlay) networkPolicies() []networkingv1.NetworkPolicy {
	var out []networkingv1.NetworkPolicy
	for _, obj := range o.ofKind("NetworkPolicy") {
		var np networkingv1.NetworkPolicy
		if fromUnstructured(obj.Object, &np) == nil {
			out = append(out, np)
		}
	}
	return out
}

func selects(sel *metav1.LabelSelector, l map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(l))
}

func opensPort(rule networkingv1.NetworkPolicyIngressRule, port int) bool {
	return slices.ContainsFunc(rule.Ports, func(p networkingv1.NetworkPolicyPort) bool {
		return p.Port != nil && p.Port.IntValue() == port && (p.EndPort == nil || int(*p.EndPort) == port)
	})
}

// admits says whether some NetworkPolicy lets pods labelled from (of the
// overlay's namespace) open port on pods labelled to.
func (o *Overlay) admits(to, from map[string]string, port int) bool {
	for _, np := range o.networkPolicies() {
		if !selects(&np.Spec.PodSelector, to) {
			continue
		}
		for _, r := range np.Spec.Ingress {
			if !opensPort(r, port) {
				continue
			}
			for _, peer := range r.From {
				if peer.NamespaceSelector == nil && peer.IPBlock == nil && selects(peer.PodSelector, from) {
					return true
				}
			}
		}
	}
	return false
}

// consoleIngressProblems: every NetworkPolicy rule that opens the console's
// HTTP port admits the ingress gateway's pods and nothing else, and one does.
func (o *Overlay) consoleIngressProblems(w workload, port int) []string {
	var problems []string
	open := false
	for _, np := range o.networkPolicies() {
		if !selects(&np.Spec.PodSelector, w.pod.Labels) {
			continue
		}
		for i, r := range np.Spec.Ingress {
			if !opensPort(r, port) {
				continue
			}
			for _, peer := range r.From {
				if peer.IPBlock != nil || peer.NamespaceSelector == nil || peer.PodSelector == nil ||
					!equalLabels(peer.NamespaceSelector, gatewayPeer["namespace"]) || !equalLabels(peer.PodSelector, gatewayPeer["pod"]) {
					problems = append(problems, fmt.Sprintf("NetworkPolicy %s ingress rule %d: admits more than the ingress gateway to the console's port %d", np.Name, i+1, port))
					continue
				}
				open = true
			}
		}
	}
	if !open {
		problems = append(problems, fmt.Sprintf("%s: no NetworkPolicy admits the ingress gateway to port %d", w, port))
	}
	return problems
}

func equalLabels(sel *metav1.LabelSelector, want map[string]string) bool {
	if len(sel.MatchExpressions) > 0 || len(sel.MatchLabels) != len(want) {
		return false
	}
	return hasLabels(sel.MatchLabels, want)
}

func (o *Overlay) consolePrincipal(w workload) string {
	return fmt.Sprintf("cluster.local/ns/%s/sa/%s", o.Namespace, w.pod.Spec.ServiceAccountName)
}

// consoleAuthorized: an ALLOW AuthorizationPolicy selecting the app's pods
// has a rule from exactly the console's principal to /v1/*.
func (o *Overlay) consoleAuthorized(console, target workload) bool {
	principal := o.consolePrincipal(console)
	for _, ap := range o.ofKind("AuthorizationPolicy") {
		sel, _, _ := unstructured.NestedStringMap(ap.Object, "spec", "selector", "matchLabels")
		action, _, _ := unstructured.NestedString(ap.Object, "spec", "action")
		if len(sel) == 0 || !hasLabels(target.pod.Labels, sel) || (action != "" && action != "ALLOW") {
			continue
		}
		rules, _, _ := unstructured.NestedSlice(ap.Object, "spec", "rules")
		for _, r := range rules {
			rm, _ := r.(map[string]any)
			from, _, _ := unstructured.NestedSlice(rm, "from")
			to, _, _ := unstructured.NestedSlice(rm, "to")
			fromConsole := slices.ContainsFunc(from, func(f any) bool {
				ps, _, _ := unstructured.NestedStringSlice(f.(map[string]any), "source", "principals")
				return slices.Contains(ps, principal)
			})
			toAPI := slices.ContainsFunc(to, func(t any) bool {
				paths, _, _ := unstructured.NestedStringSlice(t.(map[string]any), "operation", "paths")
				return slices.Contains(paths, "/v1/*")
			})
			if fromConsole && toAPI {
				return true
			}
		}
	}
	return false
}

// consoleRouteProblems: some VirtualService routes a host of an ingress
// Gateway of the overlay to the console's Service.
func (o *Overlay) consoleRouteProblems(w workload) []string {
	var problems []string
	routed := false
	for _, vs := range o.ofKind("VirtualService") {
		routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
		toConsole := slices.ContainsFunc(routes, func(r any) bool {
			dests, _, _ := unstructured.NestedSlice(r.(map[string]any), "route")
			return slices.ContainsFunc(dests, func(d any) bool {
				host, _, _ := unstructured.NestedString(d.(map[string]any), "destination", "host")
				svc := o.serviceOf(host)
				if svc == nil {
					return false
				}
				sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
				return len(sel) > 0 && hasLabels(w.pod.Labels, sel)
			})
		})
		if !toConsole {
			continue
		}
		hosts, _, _ := unstructured.NestedStringSlice(vs.Object, "spec", "hosts")
		gateways, _, _ := unstructured.NestedStringSlice(vs.Object, "spec", "gateways")
		for _, g := range gateways {
			gw := o.named("Gateway", g)
			if gw == nil {
				continue
			}
			var served []string
			servers, _, _ := unstructured.NestedSlice(gw.Object, "spec", "servers")
			for _, srv := range servers {
				h, _, _ := unstructured.NestedStringSlice(srv.(map[string]any), "hosts")
				served = append(served, h...)
			}
			for _, h := range hosts {
				if slices.Contains(served, h) {
					routed = true
				} else {
					problems = append(problems, fmt.Sprintf("%s: host %s is not served by Gateway %s", describe(vs), h, g))
				}
			}
		}
	}
	if !routed {
		problems = append(problems, w.String()+": no VirtualService routes a Gateway host to it")
	}
	return problems
}
