package manifests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// manifestsDir is the repository's manifests/, from tests/manifests.
const manifestsDir = "../../manifests"

var (
	kubeOnce sync.Once
	kube     *APIServer
	kubeErr  error
)

// apiServer connects to the API server scripts/kube.sh started and installs
// the Dapr and Istio CRDs, once per test binary.
func apiServer(t *testing.T) *APIServer {
	t.Helper()
	kubeOnce.Do(func() {
		path := os.Getenv("GOVERN_KUBECONFIG")
		if path == "" {
			kubeErr = errors.New("GOVERN_KUBECONFIG is not set: run `make manifests` (scripts/kube.sh starts kube-apiserver and etcd)")
			return
		}
		start := time.Now()
		kube, kubeErr = Connect(path)
		if kubeErr != nil {
			return
		}
		var crds []*unstructured.Unstructured
		if crds, kubeErr = CRDs(); kubeErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		kubeErr = kube.InstallCRDs(ctx, crds)
		t.Logf("installed %d Dapr and Istio CRDs in %v", len(crds), time.Since(start).Round(time.Millisecond))
	})
	if kubeErr != nil {
		t.Fatal(kubeErr)
	}
	return kube
}

// dryRunAll validates every object on the API server and returns the
// failures, one line each.
func dryRunAll(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	api := apiServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	namespaces := map[string]bool{}
	for _, obj := range objs {
		if obj.GetNamespace() != "" {
			namespaces[obj.GetNamespace()] = true
		}
		if obj.GetKind() == "Namespace" {
			namespaces[obj.GetName()] = true
		}
	}
	for ns := range namespaces {
		if err := api.EnsureNamespace(ctx, ns); err != nil {
			t.Fatalf("create namespace %s: %v", ns, err)
		}
	}
	var failures []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, obj := range objs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := api.DryRun(ctx, obj); err != nil {
				mu.Lock()
				failures = append(failures, err.Error())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failures
}

// validateOverlay renders manifests/overlays/<name> under root, dry-runs
// every object and checks the invariants; it fails the test on any problem.
func validateOverlay(t *testing.T, root, name string) *Overlay {
	t.Helper()
	start := time.Now()
	objs, err := Render(filepath.Join(root, "overlays", name))
	if err != nil {
		t.Fatal(err)
	}
	rendered := time.Since(start)
	failures := dryRunAll(t, objs)
	validated := time.Since(start) - rendered
	api := apiServer(t)
	o := &Overlay{Name: name, Namespace: "govern-" + name, Objects: objs, Namespaced: api.Namespaced}
	problems := o.Problems()
	t.Logf("overlay %s: %d objects rendered in %v, dry-run applied in %v, %d invariant problems",
		name, len(objs), rendered.Round(time.Millisecond), validated.Round(time.Millisecond), len(problems))
	for _, f := range failures {
		t.Errorf("API server rejected %s", f)
	}
	for _, p := range problems {
		t.Errorf("invariant: %s", p)
	}
	return o
}

func TestEveryOverlayIsAcceptedByTheAPIServerAndKeepsTheInvariants(t *testing.T) {
	namespaces := map[string]string{}
	for _, name := range []string{"dev", "staging", "prod"} {
		t.Run(name, func(t *testing.T) {
			o := validateOverlay(t, manifestsDir, name)
			for _, obj := range o.Objects {
				if obj.GetKind() == "Namespace" {
					if other, ok := namespaces[obj.GetName()]; ok {
						t.Errorf("overlays %s and %s both create namespace %s", other, name, obj.GetName())
					}
					namespaces[obj.GetName()] = name
				}
			}
		})
	}
}

// The kustomizations outside base/ and overlays/ (e.g. the cluster-wide
// istio-system edge policy) are applied on their own: they must validate too.
func TestOtherKustomizationsAreAcceptedByTheAPIServer(t *testing.T) {
	roots, err := Roots(manifestsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, root := range roots {
		if root == "base" || strings.HasPrefix(root, "base"+string(filepath.Separator)) ||
			strings.HasPrefix(root, "overlays"+string(filepath.Separator)) {
			continue
		}
		t.Run(root, func(t *testing.T) {
			start := time.Now()
			objs, err := Render(filepath.Join(manifestsDir, root))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range dryRunAll(t, objs) {
				t.Errorf("API server rejected %s", f)
			}
			t.Logf("%s: %d objects validated in %v", root, len(objs), time.Since(start).Round(time.Millisecond))
		})
	}
}

// Proves the dry run is strict: the known-good fixture is accepted, and the
// same objects with one misspelt field each are rejected.
func TestStrictValidationRejectsAMisspeltField(t *testing.T) {
	objs, err := Render("testdata/fixture")
	if err != nil {
		t.Fatal(err)
	}
	if failures := dryRunAll(t, objs); len(failures) > 0 {
		t.Fatalf("known-good fixture rejected:\n%s", strings.Join(failures, "\n"))
	}
	o := &Overlay{Objects: objs}
	cases := []struct {
		kind, name string
		path       []string // the map that gets the misspelt key
		key        string
	}{
		{"Deployment", "report-blue", blueContainer, "imagePullPolcy"},
		{"Deployment", "report-blue", []string{"spec"}, "replica"},
		{"Service", "report", []string{"spec"}, "selecter"},
		{"Component", "pubsub", []string{"spec"}, "verison"},
		{"Subscription", "report-reports", []string{"spec"}, "deadLetterTopik"},
		{"Resiliency", "govern", []string{"spec", "policies"}, "retry"},
		{"Configuration", "govern", []string{"spec"}, "tracin"},
		{"VirtualService", "report", []string{"spec", "http", "1"}, "rout"},
		{"DestinationRule", "report", []string{"spec", "subsets", "0"}, "label"},
	}
	for _, c := range cases {
		t.Run(c.kind+"."+c.key, func(t *testing.T) {
			obj := find(t, o, c.kind, c.name).DeepCopy()
			field(t, obj, c.path...)[c.key] = "x"
			err := apiServer(t).DryRun(context.Background(), obj)
			if err == nil {
				t.Fatalf("%s with field %s was accepted", describe(obj), c.key)
			}
			// Server-side apply words it "field not declared in schema", create "unknown field".
			msg := err.Error()
			if !(strings.Contains(msg, "unknown field") || strings.Contains(msg, "field not declared in schema")) || !strings.Contains(msg, "."+c.key) {
				t.Fatalf("rejected, but not for the unknown field %s: %v", c.key, err)
			}
		})
	}
}

// release runs the release tool (scripts/kube.sh builds it; GOVERN_RELEASE_BIN).
func release(t *testing.T, root string, args ...string) (string, error) {
	t.Helper()
	bin := os.Getenv("GOVERN_RELEASE_BIN")
	if bin == "" {
		t.Fatal("GOVERN_RELEASE_BIN is not set: run `make manifests`")
	}
	out, err := runCommand(bin, append([]string{"-root", root}, args...)...)
	if err != nil {
		return out, fmt.Errorf("release %v: %w\n%s", args, err, out)
	}
	return out, nil
}
