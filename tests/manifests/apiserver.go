package manifests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// An APIServer is a real kube-apiserver (scripts/kube.sh starts one per
// profile on loopback and writes its kubeconfig).
type APIServer struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

const fieldManager = "govern-manifest-test"

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Connect reads the kubeconfig that scripts/kube.sh wrote.
func Connect(kubeconfig string) (*APIServer, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 500, 1000 // a private API server: no client-side throttling
	cfg.WarningHandlerWithContext = warningCollector{}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &APIServer{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco))}, nil
}

// InstallCRDs creates the CRDs for real and waits until the API server
// serves them.
func (a *APIServer) InstallCRDs(ctx context.Context, crds []*unstructured.Unstructured) error {
	for _, crd := range crds {
		if crd.GetKind() != "CustomResourceDefinition" {
			return fmt.Errorf("%s %s is not a CustomResourceDefinition", crd.GetKind(), crd.GetName())
		}
		if err := a.apply(ctx, crdResource, "", crd, false); err != nil {
			return fmt.Errorf("install CRD %s: %w", crd.GetName(), err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, crd := range crds {
		for {
			got, err := a.dyn.Resource(crdResource).Get(ctx, crd.GetName(), metav1.GetOptions{})
			if err != nil {
				return err
			}
			if established(got) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not established after 60 s", crd.GetName())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	a.mapper.Reset()
	return nil
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// EnsureNamespace creates a namespace for real, so that dry runs of the
// objects inside it are admitted.
func (a *APIServer) EnsureNamespace(ctx context.Context, name string) error {
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(name)
	_, err := a.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Create(ctx, ns, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// Namespaced reports whether objects of this kind live in a namespace, as
// the API server says (so it also knows the CRDs).
func (a *APIServer) Namespaced(gvk schema.GroupVersionKind) (bool, error) {
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return false, err
	}
	return m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// warningCollector hands the API server's warnings (deprecated APIs, fields
// it ignores) to the request's collector, so they are failures too.
type warningCollector struct{}

type warningsKey struct{}

type warnings struct {
	mu   sync.Mutex
	list []string
}

func (warningCollector) HandleWarningHeaderWithContext(ctx context.Context, _ int, _ string, text string) {
	if w, ok := ctx.Value(warningsKey{}).(*warnings); ok {
		w.mu.Lock()
		w.list = append(w.list, text)
		w.mu.Unlock()
	}
}

// DryRun sends obj as a server-side apply with dryRun=All and
// fieldValidation=Strict: admission, defaulting and schema validation run
// in full, an unknown or duplicated field is an error, and nothing is
// stored. A warning from the API server is an error too.
func (a *APIServer) DryRun(ctx context.Context, obj *unstructured.Unstructured) error {
	w := &warnings{}
	if err := a.dryRun(context.WithValue(ctx, warningsKey{}, w), obj); err != nil {
		return err
	}
	if len(w.list) > 0 {
		return fmt.Errorf("%s: API server warns: %s", describe(obj), strings.Join(w.list, "; "))
	}
	return nil
}

func (a *APIServer) dryRun(ctx context.Context, obj *unstructured.Unstructured) error {
	gvk := obj.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("%s: %w", describe(obj), err)
	}
	ns := ""
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns = obj.GetNamespace()
		if ns == "" {
			ns = "default"
		}
	}
	if err := a.apply(ctx, m.Resource, ns, obj, true); err != nil {
		return fmt.Errorf("%s: %w", describe(obj), err)
	}
	return nil
}

func (a *APIServer) apply(ctx context.Context, res schema.GroupVersionResource, ns string, obj *unstructured.Unstructured, dryRun bool) error {
	body, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	force := true
	opts := metav1.PatchOptions{FieldManager: fieldManager, FieldValidation: "Strict", Force: &force}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var client dynamic.ResourceInterface = a.dyn.Resource(res)
	if ns != "" {
		client = a.dyn.Resource(res).Namespace(ns)
	}
	_, err = client.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, opts)
	return err
}

func describe(obj *unstructured.Unstructured) string {
	s := obj.GetKind() + " " + obj.GetName()
	if obj.GetNamespace() != "" {
		s += " (namespace " + obj.GetNamespace() + ")"
	}
	return s
}

// ModuleDir is where the Go module cache holds module@version (downloading
// it if needed), e.g. for the Dapr and Istio CRDs.
func ModuleDir(module, version string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	cmd.Dir = os.TempDir()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", module, version, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", err
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", module, version, info.Error)
	}
	return info.Dir, nil
}

// CRDs reads the CustomResourceDefinitions the manifests rely on: Dapr's
// (chart crds/ of github.com/dapr/dapr v1.18.1) and Istio's (istio.io/api
// v1.28.0), from the module cache.
func CRDs() ([]*unstructured.Unstructured, error) {
	dapr, err := ModuleDir("github.com/dapr/dapr", "v1.18.1")
	if err != nil {
		return nil, err
	}
	istio, err := ModuleDir("istio.io/api", "v1.28.0")
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dapr, "charts", "dapr", "crds", "*.yaml"))
	if err != nil {
		return nil, err
	}
	files = append(files, filepath.Join(istio, "kubernetes", "customresourcedefinitions.gen.yaml"))
	var crds []*unstructured.Unstructured
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		objs, err := ParseYAML(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		crds = append(crds, objs...)
	}
	return crds, nil
}
