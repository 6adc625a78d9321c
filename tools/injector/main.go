// Command injector is Dapr v1.18.1's sidecar injector webhook for the
// manifest test: it builds the daprd container with Dapr's own patcher
// (github.com/dapr/dapr/pkg/injector/patcher), configured from the same
// environment variables the Helm chart gives the real injector, and answers
// the API server's admission reviews on a loopback TLS port.
//
// It is not Dapr's cmd/injector: that one gets its serving certificate from
// Sentry and listens on every interface; here the certificate comes from
// flags, the trust anchors from a file, and the listener is 127.0.0.1 only.
// The request handling below follows pkg/injector/service (pod_patch.go,
// handler.go) of the same version step by step.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	injectorConsts "github.com/dapr/dapr/pkg/injector/consts"
	"github.com/dapr/dapr/pkg/injector/patcher"
	"github.com/dapr/dapr/pkg/injector/service"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to serve the webhook on")
	certFile := flag.String("cert", "", "serving certificate (PEM)")
	keyFile := flag.String("key", "", "serving key (PEM)")
	anchorsFile := flag.String("trust-anchors", "", "Dapr trust anchors (PEM) written into the sidecar")
	controlPlane := flag.String("control-plane-namespace", "dapr-system", "namespace of the Dapr control plane")
	mtls := flag.Bool("mtls", true, "mTLS as the daprsystem Configuration says")
	addrFile := flag.String("addr-file", "", "write the address served on into this file once listening")
	flag.Parse()

	host, _, err := net.SplitHostPort(*listen)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("-listen %s: only loopback addresses", *listen)
	}
	cfg, err := service.GetConfig()
	if err != nil {
		log.Fatalf("injector configuration from the environment: %v", err)
	}
	anchors, err := os.ReadFile(*anchorsFile)
	if err != nil {
		log.Fatal(err)
	}
	h := &handler{cfg: cfg, anchors: anchors, controlPlane: *controlPlane, mtls: *mtls}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	// Dapr's logger owns stdout: the address goes to a file the test waits for.
	if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()), 0o600); err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(h.mutate), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ServeTLS(ln, *certFile, *keyFile); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

type handler struct {
	cfg          service.Config
	anchors      []byte
	controlPlane string
	mtls         bool
}

func (h *handler) mutate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		http.Error(w, fmt.Sprintf("not an admission review: %v", err), http.StatusBadRequest)
		return
	}
	resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
	if review.Request.Kind.Kind == "Pod" {
		patch, err := h.patch(review.Request)
		switch {
		case err != nil:
			resp.Allowed = false
			resp.Result = statusFor(err)
			log.Printf("%s/%s: %v", review.Request.Namespace, review.Request.Name, err)
		case len(patch) > 0:
			pt := admissionv1.PatchTypeJSONPatch
			resp.Patch, resp.PatchType = patch, &pt
		}
	}
	review.Response, review.Request = resp, nil
	out, err := json.Marshal(review)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// patch returns the JSON patch Dapr's injector would apply to the pod (none
// for a pod without dapr.io/enabled).
func (h *handler) patch(req *admissionv1.AdmissionRequest) ([]byte, error) {
	pod := &corev1.Pod{}
	if err := json.Unmarshal(req.Object.Raw, pod); err != nil {
		return nil, fmt.Errorf("pod: %w", err)
	}
	cfg := h.cfg
	sidecar := patcher.NewSidecarConfig(pod)
	sidecar.Mode = injectorConsts.ModeKubernetes
	sidecar.Namespace = req.Namespace
	sidecar.MTLSEnabled = h.mtls
	sidecar.Identity = req.Namespace + ":" + pod.Spec.ServiceAccountName
	sidecar.IgnoreEntrypointTolerations = cfg.GetIgnoreEntrypointTolerations()
	sidecar.ImagePullPolicy = cfg.GetPullPolicy()
	sidecar.OperatorAddress = patcher.ServiceAPI.Address(cfg.Namespace, cfg.KubeClusterDomain)
	sidecar.SentryAddress = patcher.ServiceSentry.Address(cfg.Namespace, cfg.KubeClusterDomain)
	sidecar.RunAsNonRoot = cfg.GetRunAsNonRoot()
	sidecar.RunAsUser = cfg.GetRunAsUser()
	sidecar.RunAsGroup = cfg.GetRunAsGroup()
	sidecar.ReadOnlyRootFilesystem = cfg.GetReadOnlyRootFilesystem()
	sidecar.EnableK8sDownwardAPIs = cfg.GetEnableK8sDownwardAPIs()
	sidecar.SidecarDropALLCapabilities = cfg.GetDropCapabilities()
	sidecar.ControlPlaneNamespace = h.controlPlane
	sidecar.ControlPlaneTrustDomain = cfg.ControlPlaneTrustDomain
	sidecar.SentrySPIFFEID = "spiffe://" + cfg.ControlPlaneTrustDomain + "/ns/" + h.controlPlane + "/dapr-sentry"
	sidecar.CurrentTrustAnchors = h.anchors
	// In a cluster the injector runs with a service-account token, so the
	// sidecar gets the projected token volume it shows Sentry.
	sidecar.DisableTokenVolume = false
	sidecar.KubeClusterDomain = cfg.KubeClusterDomain
	sidecar.SchedulerEnabled = true
	sidecar.EnableNativeSidecar = cfg.GetNativeSidecarEnabled()
	switch {
	case !cfg.GetActorsEnabled():
		sidecar.ActorsService, sidecar.PlacementAddress = "", ""
	case sidecar.PlacementAddress == "":
		name, svc := cfg.GetActorsService()
		addr := svc.Address(cfg.Namespace, cfg.KubeClusterDomain)
		if name == "placement" {
			sidecar.ActorsService, sidecar.PlacementAddress = "", addr
		} else {
			sidecar.ActorsService = name + ":" + addr
		}
	default:
		sidecar.ActorsService = ""
	}
	if name, svc, ok := cfg.GetRemindersService(); ok {
		sidecar.RemindersService = name + ":" + svc.Address(cfg.Namespace, cfg.KubeClusterDomain)
	}
	sidecar.SidecarImage = cfg.SidecarImage
	sidecar.SetFromPodAnnotations()
	ops, err := sidecar.GetPatch()
	if err != nil || len(ops) == 0 {
		return nil, err
	}
	return json.Marshal(ops)
}

func statusFor(err error) *metav1.Status {
	return &metav1.Status{Message: strings.TrimSpace(err.Error())}
}
