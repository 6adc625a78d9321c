package manifests

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// clusterScoped stands in for the API server's answer in the unit tests.
func clusterScoped(gvk schema.GroupVersionKind) (bool, error) {
	switch gvk.Kind {
	case "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition":
		return false, nil
	}
	return true, nil
}

func fixtureOverlay(t *testing.T) *Overlay {
	t.Helper()
	objs, err := Render("testdata/fixture")
	if err != nil {
		t.Fatal(err)
	}
	return &Overlay{Name: "fixture", Namespace: "govern-fixture", Objects: objs, Namespaced: clusterScoped}
}

func find(t *testing.T, o *Overlay, kind, name string) *unstructured.Unstructured {
	t.Helper()
	obj := o.named(kind, name)
	if obj == nil {
		t.Fatalf("fixture has no %s %s", kind, name)
	}
	return obj
}

// field walks maps and lists ("0" indexes a list) without copying, so that a
// test can change the object in place.
func field(t *testing.T, obj *unstructured.Unstructured, path ...string) map[string]any {
	t.Helper()
	var cur any = obj.Object
	for _, p := range path {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[p]
		case []any:
			i := int(p[0] - '0')
			if len(p) != 1 || i >= len(v) {
				t.Fatalf("%s: bad index %s", describe(obj), p)
			}
			cur = v[i]
		default:
			t.Fatalf("%s: no %s in %v", describe(obj), p, path)
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		t.Fatalf("%s: %v is not a map", describe(obj), path)
	}
	return m
}

var blueContainer = []string{"spec", "template", "spec", "containers", "0"}

func TestTheFixtureHasNoProblems(t *testing.T) {
	if problems := fixtureOverlay(t).Problems(); len(problems) > 0 {
		t.Fatalf("known-good fixture reported:\n%s", strings.Join(problems, "\n"))
	}
}

// Each invariant can fail: break the fixture in one place and the check
// reports exactly that.
func TestInvariantsReportBrokenManifests(t *testing.T) {
	cases := []struct {
		name  string
		spoil func(t *testing.T, o *Overlay)
		says  string
	}{
		{"latest tag", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", "report-blue"), blueContainer...)["image"] = "registry.example.com/govern/report:latest"
		}, "uses the latest tag"},
		{"no tag", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", "report-blue"), blueContainer...)["image"] = "registry.example.com:5000/govern/report"
		}, "has no tag"},
		{"no memory limit", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "Deployment", "report-blue"), append(blueContainer, "resources")...), "limits")
		}, "report-blue (namespace govern-fixture) container report: no memory limit"},
		{"no cpu request", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "Deployment", "report-green"), append(blueContainer, "resources", "requests")...), "cpu")
		}, "no cpu request"},
		{"no readiness probe", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "Deployment", "report-blue"), blueContainer...), "readinessProbe")
		}, "no readiness probe"},
		{"no liveness probe", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "Deployment", "report-blue"), blueContainer...), "livenessProbe")
		}, "no liveness probe"},
		{"may run as root", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "Deployment", "report-green"), "spec", "template", "spec", "securityContext"), "runAsNonRoot")
		}, "runAsNonRoot is not true"},
		{"uid 0", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", "report-blue"), "spec", "template", "spec", "securityContext")["runAsUser"] = int64(0)
		}, "runs as uid 0"},
		{"privilege escalation", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", "report-blue"), append(blueContainer, "securityContext")...)["allowPrivilegeEscalation"] = true
		}, "allowPrivilegeEscalation is not false"},
		{"writable root", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "Deployment", "report-blue"), append(blueContainer, "securityContext")...), "readOnlyRootFilesystem")
		}, "readOnlyRootFilesystem is not true"},
		{"capabilities kept", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", "report-blue"), append(blueContainer, "securityContext", "capabilities")...)["drop"] = []any{"NET_RAW"}
		}, "capabilities do not drop ALL"},
		{"no seccomp", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "Deployment", "report-blue"), "spec", "template", "spec", "securityContext"), "seccompProfile")
		}, "seccompProfile is not RuntimeDefault"},
		{"app-port is no container port", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", "report-blue"), "spec", "template", "metadata", "annotations")["dapr.io/app-port"] = "8081"
		}, "dapr.io/app-port 8081 is not a port of container report"},
		{"container port moved", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", "report-blue"), append(blueContainer, "ports", "0")...)["containerPort"] = int64(9000)
		}, "dapr.io/app-port 8080 is not a port of container report"},
		{"service targets another port", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Service", "report"), "spec", "ports", "0")["targetPort"] = int64(8081)
		}, "targets no port 8080"},
		{"HTTP_ADDR on another port", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", "report-blue"), append(blueContainer, "env", "0")...)["value"] = ":9000"
		}, "HTTP_ADDR :9000 does not listen"},
		{"app-id differs from app label", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", "report-blue"), "spec", "template", "metadata", "annotations")["dapr.io/app-id"] = "reporter"
		}, "dapr.io/app-id reporter but pod label app=report"},
		{"missing Dapr Configuration", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", "report-blue"), "spec", "template", "metadata", "annotations")["dapr.io/config"] = "tracing"
		}, "dapr.io/config names tracing, which the overlay lacks"},
		{"no api token", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "Deployment", "report-blue"), "spec", "template", "metadata", "annotations"), "dapr.io/api-token-secret")
		}, "dapr.io/api-token-secret missing"},
		{"sidecar outlives the pod", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", "report-blue"), "spec", "template", "metadata", "annotations")["dapr.io/graceful-shutdown-seconds"] = "30"
		}, "graceful-shutdown-seconds 30 is not below terminationGracePeriodSeconds 30"},
		{"Dapr port through Istio", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", "report-blue"), "spec", "template", "metadata", "annotations")["traffic.sidecar.istio.io/excludeInboundPorts"] = "3500,50001,9090"
		}, "Dapr port 50002 not in traffic.sidecar.istio.io/excludeInboundPorts"},
		{"component scope names no app", func(t *testing.T, o *Overlay) {
			find(t, o, "Component", "pubsub").Object["scopes"] = []any{"report", "ledger"}
		}, `scope "ledger" is no app-id`},
		{"subscription scope names no app", func(t *testing.T, o *Overlay) {
			find(t, o, "Subscription", "report-reports").Object["scopes"] = []any{"reviewr"}
		}, `scope "reviewr" is no app-id`},
		{"unscoped component", func(t *testing.T, o *Overlay) {
			delete(find(t, o, "Component", "pubsub").Object, "scopes")
		}, "no scopes"},
		{"subscription to a missing pubsub", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Subscription", "report-reports"), "spec")["pubsubname"] = "kafka"
		}, `pubsubname "kafka" is no pub/sub component`},
		{"no dead-letter topic", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "Subscription", "report-reports"), "spec"), "deadLetterTopic")
		}, "no deadLetterTopic"},
		{"resiliency for a missing component", func(t *testing.T, o *Overlay) {
			c := field(t, find(t, o, "Resiliency", "govern"), "spec", "targets", "components")
			c["statestore"] = c["pubsub"]
		}, `target component "statestore" does not exist`},
		{"weights above 100", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "VirtualService", "report"), "spec", "http", "1", "route", "1")["weight"] = int64(20)
		}, "route 2: weights sum to 110, not 100"},
		{"weight missing in a split", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "VirtualService", "report"), "spec", "http", "1", "route", "0"), "weight")
		}, "a destination without weight"},
		{"subset not in the DestinationRule", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "VirtualService", "report"), "spec", "http", "0", "route", "0", "destination")["subset"] = "beta"
		}, "subset beta is not in DestinationRule report"},
		{"subset without pods", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "DestinationRule", "report"), "spec", "subsets", "1", "labels")["version"] = "purple"
		}, "subset canary (map[app:report version:purple]) matches no Deployment's pods"},
		{"destination host is no Service", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "VirtualService", "report"), "spec", "http", "1", "route", "0", "destination")["host"] = "reports"
		}, "host reports is no Service"},
		{"unknown gateway", func(t *testing.T, o *Overlay) {
			find(t, o, "Gateway", "edge").SetName("public")
		}, "gateway edge is not in the overlay"},
		{"secret in the render", func(t *testing.T, o *Overlay) {
			s := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret",
				"metadata": map[string]any{"name": "govern-jwt", "namespace": "govern-fixture"}, "stringData": map[string]any{"secret": "x"}}}
			o.Objects = append(o.Objects, s)
		}, "Secret govern-jwt (namespace govern-fixture): has stringData"},
		{"literal database URL", func(t *testing.T, o *Overlay) {
			env := field(t, find(t, o, "Deployment", "report-blue"), append(blueContainer, "env", "2")...)
			delete(env, "valueFrom")
			env["value"] = "postgres://report@db:5432/report"
		}, "DATABASE_URL is a literal value, not a secretKeyRef"},
		{"password inside an innocent name", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", "report-blue"), append(blueContainer, "env", "1")...)["value"] = "postgres://report:hunter2@db/report"
		}, "GOMEMLIMIT holds a secret-looking literal"},
		{"literal component password", func(t *testing.T, o *Overlay) {
			m := field(t, find(t, o, "Component", "pubsub"), "spec", "metadata", "3")
			delete(m, "secretKeyRef")
			m["value"] = "hunter2"
		}, "spec.metadata: saslPassword is a literal value"},
		{"token in a ConfigMap", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "ConfigMap", "settings"), "data")["APP_API_TOKEN"] = "0123456789abcdef"
		}, "APP_API_TOKEN is a literal value"},
		{"service account automounts", func(t *testing.T, o *Overlay) {
			find(t, o, "ServiceAccount", "report").Object["automountServiceAccountToken"] = true
		}, "ServiceAccount report (namespace govern-fixture): automountServiceAccountToken is not false"},
		{"pod mounts a token it has no use for", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "Deployment", "report-blue"), "spec", "template", "spec")["automountServiceAccountToken"] = true
		}, "which no RoleBinding grants anything"},
		{"default service account", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "Deployment", "report-blue"), "spec", "template", "spec"), "serviceAccountName")
		}, `service account "" is not one of the overlay's`},
		{"object in another namespace", func(t *testing.T, o *Overlay) {
			find(t, o, "ConfigMap", "settings").SetNamespace("govern-prod")
		}, `ConfigMap settings (namespace govern-prod): in namespace "govern-prod", not the overlay's govern-fixture`},
		{"no autoscaler", func(t *testing.T, o *Overlay) {
			find(t, o, "HorizontalPodAutoscaler", "report-green").Object["spec"].(map[string]any)["scaleTargetRef"].(map[string]any)["name"] = "report"
		}, "report-green (namespace govern-fixture): no HorizontalPodAutoscaler"},
		{"catch-all route on the gateway", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "VirtualService", "report"), "spec", "http", "1"), "match")
		}, "route 2: matches every path on gateway [edge mesh]"},
		{"root prefix on the gateway", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "VirtualService", "report"), "spec", "http", "0", "match", "0", "uri")["prefix"] = "/"
		}, `route 1 match 1: prefix "/" reaches /events`},
		{"sidecar-only route on the gateway", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "VirtualService", "report"), "spec", "http", "1", "match", "1"), "gateways")
		}, `route 2 match 2: prefix "/internal/" reaches /internal`},
		{"regex on the gateway", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "VirtualService", "report"), "spec", "http", "1", "match", "0")["uri"] = map[string]any{"regex": "/v1/.*"}
		}, "cannot show it excludes"},
		{"ingress from everywhere", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "NetworkPolicy", "report-http"), "spec", "ingress", "0"), "from")
		}, "ingress rule 1: no from, so every source"},
		{"ingress from every namespace", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "NetworkPolicy", "report-http"), "spec", "ingress", "0", "from", "0")["namespaceSelector"] = map[string]any{}
		}, "namespaceSelector {} admits every namespace"},
		{"ingress on every port", func(t *testing.T, o *Overlay) {
			delete(field(t, find(t, o, "NetworkPolicy", "report-http"), "spec", "ingress", "0"), "ports")
		}, "no ports, so every port"},
		{"no default deny", func(t *testing.T, o *Overlay) {
			field(t, find(t, o, "NetworkPolicy", "default-deny-ingress"), "spec")["ingress"] = []any{map[string]any{}}
		}, "no default-deny ingress NetworkPolicy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := fixtureOverlay(t)
			c.spoil(t, o)
			problems := o.Problems()
			for _, p := range problems {
				if strings.Contains(p, c.says) {
					return
				}
			}
			t.Fatalf("want a problem saying %q, got:\n%s", c.says, strings.Join(problems, "\n"))
		})
	}
}

func TestImageReferences(t *testing.T) {
	for image, want := range map[string]string{
		"govern/report:0.1.0":                    "",
		"registry:5000/govern/report:0.1.0":      "",
		"daprio/dashboard:0.15.0":                "",
		"govern/report@sha256:0123456789abcdef":  "",
		"govern/report":                          "has no tag",
		"registry:5000/govern/report":            "has no tag",
		"govern/report:latest":                   "uses the latest tag",
		"registry.example.com/report:latest":     "uses the latest tag",
		"registry.example.com:443/report:latest": "uses the latest tag",
	} {
		if got := imageProblem(image); got != want {
			t.Errorf("%s: got %q, want %q", image, got, want)
		}
	}
}
