package manifests

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"maps"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chartutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// selfSigned writes a self-signed certificate and key for 127.0.0.1.
func selfSigned(t *testing.T, dir, name string) (certFile, keyFile string, certPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, certPEM
}

// injectorEnv is the environment the Helm chart (with the prod values) gives
// Dapr's sidecar injector, and whether the daprsystem Configuration has mTLS.
func injectorEnv(t *testing.T) (env []string, mtls bool) {
	t.Helper()
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
	o := &Overlay{Objects: objs}
	d := o.named("Deployment", "dapr-sidecar-injector")
	if d == nil {
		t.Fatal("the chart renders no dapr-sidecar-injector Deployment")
	}
	ws, _ := (&Overlay{Objects: []*unstructured.Unstructured{d}}).workloads()
	for _, e := range ws[0].pod.Spec.Containers[0].Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			env = append(env, e.Name+"=dapr-system")
		}
	}
	cfg := o.named("Configuration", "daprsystem")
	if cfg == nil {
		t.Fatal("the chart renders no daprsystem Configuration")
	}
	mtls, _, _ = unstructured.NestedBool(cfg.Object, "spec", "mtls", "enabled")
	return env, mtls
}

// startInjector runs tools/injector on a loopback port and registers it with
// the API server as a mutating webhook for pods in the govern namespaces.
func startInjector(t *testing.T) {
	t.Helper()
	bin := os.Getenv("GOVERN_INJECTOR_BIN")
	if bin == "" {
		t.Fatal("GOVERN_INJECTOR_BIN is not set: run `make manifests`")
	}
	dir := t.TempDir()
	certFile, keyFile, caBundle := selfSigned(t, dir, "webhook")
	anchors, _, _ := selfSigned(t, dir, "dapr-trust-anchors")
	env, mtls := injectorEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	addrFile := filepath.Join(dir, "addr")
	cmd := exec.CommandContext(ctx, bin, "-listen", "127.0.0.1:0", "-cert", certFile, "-key", keyFile,
		"-trust-anchors", anchors, fmt.Sprintf("-mtls=%t", mtls), "-addr-file", addrFile)
	cmd.Env = append(os.Environ(), env...)
	logFile, err := os.Create(filepath.Join(dir, "injector.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(logFile.Name())
			t.Logf("injector log:\n%s", log)
		}
	})
	var addr string
	for deadline := time.Now().Add(15 * time.Second); addr == ""; time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			addr = string(b)
		} else if time.Now().After(deadline) || cmd.ProcessState != nil {
			t.Fatal("injector did not start")
		}
	}

	api := apiServer(t)
	webhooks := schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations"}
	namespaces := []any{"govern-dev", "govern-staging", "govern-prod"}
	cfg := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
		"metadata": map[string]any{"name": "govern-test-dapr-sidecar-injector"},
		"webhooks": []any{map[string]any{
			"name":                    "sidecar-injector.dapr.io",
			"clientConfig":            map[string]any{"url": "https://" + addr + "/mutate", "caBundle": caBundle},
			"rules":                   []any{map[string]any{"apiGroups": []any{""}, "apiVersions": []any{"v1"}, "operations": []any{"CREATE"}, "resources": []any{"pods"}, "scope": "Namespaced"}},
			"namespaceSelector":       map[string]any{"matchExpressions": []any{map[string]any{"key": "kubernetes.io/metadata.name", "operator": "In", "values": namespaces}}},
			"sideEffects":             "None",
			"admissionReviewVersions": []any{"v1"},
			"failurePolicy":           "Fail",
			"timeoutSeconds":          int64(10),
		}},
	}}
	if err := api.apply(context.Background(), webhooks, "", cfg, false); err != nil {
		t.Fatalf("register webhook: %v", err)
	}
	t.Cleanup(func() {
		_ = api.dyn.Resource(webhooks).Delete(context.Background(), cfg.GetName(), metav1.DeleteOptions{})
	})
	t.Logf("injector (Dapr v1.18.1 patcher, chart env, mTLS %t) on %s, registered as a mutating webhook", mtls, addr)
}

// podFrom turns a Deployment's pod template into a Pod, as the ReplicaSet
// controller would create it.
func podFrom(w workload) *unstructured.Unstructured {
	tmpl, _, _ := unstructured.NestedMap(w.obj.Object, "spec", "template")
	pod := &unstructured.Unstructured{Object: tmpl}
	pod.SetAPIVersion("v1")
	pod.SetKind("Pod")
	pod.SetName(w.obj.GetName() + "-injected")
	pod.SetNamespace(w.obj.GetNamespace())
	return pod
}

// The prod, staging and dev Deployments' pods, created (dry run) through the
// API server with the injector webhook in place: the API server calls the
// webhook, applies Dapr's patch and validates the injected pod strictly.
func TestInjectedSidecarsMatchTheAnnotations(t *testing.T) {
	api := apiServer(t)
	startInjector(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, name := range []string{"dev", "staging", "prod"} {
		t.Run(name, func(t *testing.T) {
			objs, err := Render(filepath.Join(manifestsDir, "overlays", name))
			if err != nil {
				t.Fatal(err)
			}
			o := &Overlay{Name: name, Namespace: "govern-" + name, Objects: objs, Namespaced: api.Namespaced}
			if err := api.EnsureNamespace(ctx, o.Namespace); err != nil {
				t.Fatal(err)
			}
			// The ServiceAccount admission plugin wants the pods' accounts to exist.
			for _, sa := range o.ofKind("ServiceAccount") {
				if err := api.apply(ctx, schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}, sa.GetNamespace(), sa, false); err != nil {
					t.Fatal(err)
				}
			}
			ws := mustWorkloads(t, o)
			injected := 0
			for _, w := range ws {
				if w.obj.GetKind() != "Deployment" {
					continue
				}
				got, err := createPod(ctx, api, podFrom(w))
				if err != nil {
					t.Errorf("%s: %v", w, err)
					continue
				}
				if !daprEnabled(w) {
					if slices.ContainsFunc(got.Spec.Containers, func(c corev1.Container) bool { return c.Name == "daprd" }) {
						t.Errorf("%s: has no dapr.io/enabled but got a sidecar", w)
					}
					continue
				}
				injected++
				for _, p := range sidecarProblems(w, got) {
					t.Errorf("%s: %s", w, p)
				}
				if injected == 1 {
					checkTheComparisonCanFail(t, w, got)
					if c := daprd(got); c != nil {
						t.Logf("%s: daprd %s %s", w, c.Image, strings.Join(c.Args, " "))
					}
				}
			}
			if injected == 0 {
				t.Fatal("no Dapr Deployment in the overlay")
			}
			t.Logf("overlay %s: %d pods injected and accepted; daprd app-id, app-port, config, tokens, ports, resources, GOMEMLIMIT and securityContext checked", name, injected)
		})
	}
}

// createPod dry-run creates the pod, retrying briefly while the API server
// has not yet picked up the new webhook configuration.
func createPod(ctx context.Context, api *APIServer, pod *unstructured.Unstructured) (*corev1.Pod, error) {
	res := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := api.dyn.Resource(res).Namespace(pod.GetNamespace()).Create(ctx, pod,
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
		if err != nil {
			return nil, fmt.Errorf("dry-run create pod: %w", err)
		}
		var got corev1.Pod
		if err := fromUnstructured(out.Object, &got); err != nil {
			return nil, err
		}
		ann := pod.GetAnnotations()
		if ann["dapr.io/enabled"] != "true" || daprd(&got) != nil || time.Now().After(deadline) {
			return &got, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func daprd(pod *corev1.Pod) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == "daprd" {
				return &list[i]
			}
		}
	}
	return nil
}

// sidecarProblems compares the injected daprd container with what the pod's
// annotations ask for.
func sidecarProblems(w workload, pod *corev1.Pod) []string {
	c := daprd(pod)
	if c == nil {
		return []string{"no daprd container was injected"}
	}
	ann := w.pod.Annotations
	var problems []string
	if !strings.HasSuffix(c.Image, "/daprd:1.18.1") {
		problems = append(problems, fmt.Sprintf("daprd image %s, want daprd:1.18.1", c.Image))
	}
	args := strings.Join(c.Args, " ") + " "
	wants := []string{
		"--app-id " + ann["dapr.io/app-id"] + " ", "--app-port " + ann["dapr.io/app-port"] + " ",
		"--config " + ann["dapr.io/config"] + " ", "--log-as-json ", "--enable-metrics ",
		"--metrics-port " + ann["dapr.io/metrics-port"] + " ",
		"--dapr-graceful-shutdown-seconds " + ann["dapr.io/graceful-shutdown-seconds"] + " ",
	}
	// The ops console reads the metadata API on the pod address.
	if addrs := ann["dapr.io/sidecar-listen-addresses"]; addrs != "" {
		wants = append(wants, "--dapr-listen-addresses "+addrs+" ")
	}
	for _, want := range wants {
		if !strings.Contains(args, want) {
			problems = append(problems, fmt.Sprintf("daprd args lack %q: %s", strings.TrimSpace(want), args))
		}
	}
	for env, secret := range map[string]string{"APP_API_TOKEN": ann["dapr.io/app-token-secret"], "DAPR_API_TOKEN": ann["dapr.io/api-token-secret"]} {
		i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == env })
		if i < 0 || c.Env[i].ValueFrom == nil || c.Env[i].ValueFrom.SecretKeyRef == nil ||
			c.Env[i].ValueFrom.SecretKeyRef.Name != secret || c.Env[i].ValueFrom.SecretKeyRef.Key != "token" {
			problems = append(problems, fmt.Sprintf("daprd %s is not Secret %s key token", env, secret))
		}
	}
	for _, kv := range strings.Split(ann["dapr.io/env"], ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name && e.Value == value }) {
			problems = append(problems, fmt.Sprintf("daprd env lacks %s=%s from dapr.io/env", name, value))
		}
	}
	for key, got := range map[string]corev1.ResourceList{"request": c.Resources.Requests, "limit": c.Resources.Limits} {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			want := resource.MustParse(ann["dapr.io/sidecar-"+string(r)+"-"+key])
			if q, ok := got[r]; !ok || q.Cmp(want) != 0 {
				problems = append(problems, fmt.Sprintf("daprd %s %s is %v, annotation says %s", r, key, got[r], want.String()))
			}
		}
	}
	for _, port := range []int32{3500, 50001, 50002, 9090} {
		if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.ContainerPort == port }) {
			problems = append(problems, fmt.Sprintf("daprd does not expose port %d", port))
		}
	}
	problems = append(problems, securityProblems("daprd", pod.Spec.SecurityContext, c.SecurityContext)...)
	app := appContainer(pod.Spec, ann["dapr.io/app-id"])
	for _, env := range []string{"DAPR_HTTP_PORT", "DAPR_GRPC_PORT"} {
		if app == nil || !slices.ContainsFunc(app.Env, func(e corev1.EnvVar) bool { return e.Name == env }) {
			problems = append(problems, fmt.Sprintf("app container did not get %s", env))
		}
	}
	return problems
}

// checkTheComparisonCanFail: with annotations the sidecar does not match,
// the comparison reports each difference.
func checkTheComparisonCanFail(t *testing.T, w workload, pod *corev1.Pod) {
	t.Helper()
	w.pod.Annotations = maps.Clone(w.pod.Annotations)
	w.pod.Annotations["dapr.io/app-token-secret"] = "someone-elses-token"
	w.pod.Annotations["dapr.io/sidecar-memory-limit"] = "999Mi"
	w.pod.Annotations["dapr.io/app-port"] = "8081"
	w.pod.Annotations["dapr.io/sidecar-listen-addresses"] = "10.9.8.7"
	got := strings.Join(sidecarProblems(w, pod), "\n")
	for _, want := range []string{"APP_API_TOKEN is not Secret someone-elses-token", "memory limit", `lack "--app-port 8081"`,
		`lack "--dapr-listen-addresses 10.9.8.7"`} {
		if !strings.Contains(got, want) {
			t.Errorf("changed annotations: want a problem with %q, got:\n%s", want, got)
		}
	}
}
