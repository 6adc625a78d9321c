package manifests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// openapiDir holds each app's OpenAPI document, from tests/manifests.
const openapiDir = "../../apps/kit/openapi"

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// publicPaths lists app's /v1 paths from its OpenAPI document, with every
// path parameter filled in.
func publicPaths(t *testing.T, app string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(openapiDir, app+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for p := range doc.Paths {
		if strings.HasPrefix(p, "/v1/") {
			paths = append(paths, pathParam.ReplaceAllString(p, "x"))
		}
	}
	sort.Strings(paths)
	return paths
}

// edgeApps are the apps that the ingress gateway may send path to: per edge
// VirtualService, the first route whose match takes the path, resolved
// through its first destination's Service to the app label it selects ("" if
// none). More than one means the path is ambiguous (Istio merges the
// VirtualServices of a host in no order one can rely on).
func (o *Overlay) edgeApps(path string) []string {
	var apps []string
	for _, vs := range o.ofKind("VirtualService") {
		gateways, _, _ := unstructured.NestedStringSlice(vs.Object, "spec", "gateways")
		if !slices.ContainsFunc(gateways, func(g string) bool { return g != "mesh" }) {
			continue
		}
		routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
		for _, r := range routes {
			route := r.(map[string]any)
			matches, _, _ := unstructured.NestedSlice(route, "match")
			takes := slices.ContainsFunc(matches, func(m any) bool {
				if _, headers := m.(map[string]any)["headers"]; headers {
					return false // a header-only route (the canary's) is not the path's route
				}
				if gw, found, _ := unstructured.NestedStringSlice(m.(map[string]any), "gateways"); found &&
					!slices.ContainsFunc(gw, func(g string) bool { return g != "mesh" }) {
					return false // inside the mesh only
				}
				uri, _, _ := unstructured.NestedStringMap(m.(map[string]any), "uri")
				if p, ok := uri["prefix"]; ok {
					return strings.HasPrefix(path, p)
				}
				return uri["exact"] == path
			})
			if !takes {
				continue
			}
			app := ""
			if dests, _, _ := unstructured.NestedSlice(route, "route"); len(dests) > 0 {
				host, _, _ := unstructured.NestedString(dests[0].(map[string]any), "destination", "host")
				if svc := o.serviceOf(host); svc != nil {
					app, _, _ = unstructured.NestedString(svc.Object, "spec", "selector", "app")
				}
			}
			apps = append(apps, app)
			break
		}
	}
	return apps
}

// Every public route the apps serve (their OpenAPI documents) reaches its
// app through the ingress gateway in every overlay: a route added to an app
// but not to the edge would answer 404 in a cluster while every local test
// passes.
func TestEveryPublicRouteReachesItsAppThroughTheGateway(t *testing.T) {
	for _, name := range []string{"dev", "staging", "prod"} {
		t.Run(name, func(t *testing.T) {
			o := renderOverlay(t, name)
			for _, app := range []string{"report", "reviewer", "reward"} {
				paths := publicPaths(t, app)
				if len(paths) < 3 {
					t.Fatalf("%s documents %d public paths", app, len(paths))
				}
				for _, p := range paths {
					if got := o.edgeApps(p); !slices.Equal(got, []string{app}) {
						t.Errorf("%s: the gateway sends %s to %q, want [%s]", name, p, got, app)
					}
				}
			}
		})
	}
}

// The check itself can fail: a path no route takes, or two apps' routes
// take, is reported.
func TestAPublicRouteMissingFromTheEdgeIsReported(t *testing.T) {
	o := renderOverlay(t, "prod")
	if got := o.edgeApps("/v1/catalog"); !slices.Equal(got, []string{"reward"}) {
		t.Fatalf("/v1/catalog goes to %q", got)
	}
	if got := o.edgeApps("/v1/no-such-route"); len(got) != 0 {
		t.Fatalf("an unrouted path goes to %q", got)
	}
	// A prefix of another app's path makes it ambiguous.
	vs := find(t, o, "VirtualService", "reviewer")
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	last := routes[len(routes)-1].(map[string]any)
	last["match"] = append(last["match"].([]any), map[string]any{"uri": map[string]any{"prefix": "/v1/catalog"}})
	if err := unstructured.SetNestedSlice(vs.Object, routes, "spec", "http"); err != nil {
		t.Fatal(err)
	}
	if got := o.edgeApps("/v1/catalog"); len(got) != 2 {
		t.Fatalf("a path two VirtualServices take goes to %q", got)
	}
}
