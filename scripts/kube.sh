# shellcheck shell=bash
# A real kube-apiserver + etcd on loopback for the manifest test, and the
# release tool. Sourced by test.sh (after lib.sh and profile); run directly by
# `make manifests` and `make release`:
#   bash scripts/kube.sh manifests | up | down | release ARGS...
# Each profile has its own etcd and API server ports and its own folder
# .local/<profile>/kube (certificates, tokens, service-account keys, data).

if [ -z "${ROOT:-}" ]; then
  source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
  profile "${GOVERN_TEST_PROFILE:-test}"
fi

# kube_profile picks this profile's ports. Not 2379/2380 (etcd's defaults,
# near the scheduler's embedded etcd) and none of lib.sh's ports.
kube_profile() {
  case $PROFILE in
    run) KUBE_ETCD_PORT=13790; KUBE_API_PORT=6443 ;;
    test) KUBE_ETCD_PORT=23790; KUBE_API_PORT=16443 ;;
    test-a) KUBE_ETCD_PORT=33790; KUBE_API_PORT=26443 ;;
    test-b) KUBE_ETCD_PORT=43790; KUBE_API_PORT=36443 ;;
    obs) KUBE_ETCD_PORT=20790; KUBE_API_PORT=20443 ;;
    test-e) KUBE_ETCD_PORT=61790; KUBE_API_PORT=61443 ;;
    api) KUBE_ETCD_PORT=31790; KUBE_API_PORT=31443 ;;
    # Any other profile: beside its control-plane ports (reserved by reserve_ports).
    *) KUBE_ETCD_PORT=$((CONTROL_HEALTHZ_BASE + 20)); KUBE_API_PORT=$((CONTROL_HEALTHZ_BASE + 21)) ;;
  esac
  KUBE_ETCD_PEER_PORT=$((KUBE_ETCD_PORT + 10))
  KUBE_DIR="$STATE/kube"
  export GOVERN_KUBECONFIG="$KUBE_DIR/kubeconfig"
}

# build_kube builds kube-apiserver v1.34.2 and etcd v3.6.5 into .local/bin
# when tools/kube changed or they are missing (about 4 minutes cold).
build_kube() {
  mkdir -p "$BIN"
  if stale "$BIN/kube-apiserver" "$ROOT/tools/kube" || [ ! -x "$BIN/etcd" ]; then
    cached_build build_kube_binaries tools/kube kube-apiserver etcd
    touch "$BIN/kube-apiserver" "$BIN/etcd"
  fi
  info "kube-apiserver and etcd ready in .local/bin"
}

build_kube_binaries() {
  step "Building kube-apiserver v1.34.2 and etcd v3.6.5: about 4 minutes the first time"
  # The version stamp is what `kubectl version` and clients' discovery read.
  local v=k8s.io/component-base/version
  (cd "$ROOT/tools/kube" && GOWORK=off go build -trimpath -o "$BIN/" \
    -ldflags "-X $v.gitVersion=v1.34.2 -X $v.gitMajor=1 -X $v.gitMinor=34 -X $v.gitTreeState=clean" \
    k8s.io/kubernetes/cmd/kube-apiserver ./cmd/etcd)
}

# build_release builds the release tool (make release) when its sources changed.
build_release() {
  mkdir -p "$BIN"
  if stale "$BIN/release" "$ROOT/tools/release"; then
    (cd "$ROOT/tools/release" && GOWORK=off go build -o "$BIN/release" .)
  fi
}

# build_injector builds the Dapr v1.18.1 sidecar-injector webhook the manifest
# test runs against the API server (tools/injector; shares the Dapr build cache).
build_injector() {
  mkdir -p "$BIN"
  if stale "$BIN/dapr-injector" "$ROOT/tools/injector"; then
    cached_build build_injector_binary tools/injector dapr-injector
  fi
}

build_injector_binary() {
  step "Building the Dapr v1.18.1 sidecar injector webhook (seconds once the Dapr runtime is built)"
  (cd "$ROOT/tools/injector" && GOWORK=off go build -o "$BIN/dapr-injector" .)
}

# kube_certs writes a CA, the API server's serving certificate (127.0.0.1,
# localhost), the service-account key pair and a fresh admin token.
kube_certs() {
  local d="$KUBE_DIR/pki"
  mkdir -p "$d"
  if [ ! -f "$d/apiserver.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=govern-test-ca \
      -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver \
      -keyout "$d/apiserver.key" -out "$d/apiserver.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$d/apiserver.ext"
    openssl x509 -req -in "$d/apiserver.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
      -days 3650 -extfile "$d/apiserver.ext" -out "$d/apiserver.crt" 2>/dev/null
    openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
    openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
  fi
  local token
  token=$(openssl rand -hex 32)
  (umask 077 && printf '%s,admin,admin,system:masters\n' "$token" >"$KUBE_DIR/tokens.csv")
  (umask 077 && cat >"$GOVERN_KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: govern-test
  cluster:
    server: https://127.0.0.1:$KUBE_API_PORT
    certificate-authority: $d/ca.crt
users:
- name: admin
  user:
    token: $token
contexts:
- name: govern-test
  context: {cluster: govern-test, user: admin}
current-context: govern-test
EOF
)
}

# kube_up starts etcd and kube-apiserver from empty data and waits until the
# API server is ready (about 10 s).
kube_up() {
  kube_profile
  kube_down
  step "Starting etcd and kube-apiserver (127.0.0.1:$KUBE_API_PORT, profile $PROFILE)"
  local started=$SECONDS
  rm -rf "$KUBE_DIR/etcd"
  mkdir -p "$KUBE_DIR" "$STATE/logs"
  kube_certs
  start_bg kube-etcd "$BIN/etcd" --name kube --data-dir "$KUBE_DIR/etcd" --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$KUBE_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$KUBE_ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$KUBE_ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$KUBE_ETCD_PEER_PORT" \
    --initial-cluster "kube=http://127.0.0.1:$KUBE_ETCD_PEER_PORT"
  wait_port "$KUBE_ETCD_PORT" etcd
  local d="$KUBE_DIR/pki"
  start_bg kube-apiserver "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$KUBE_ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$KUBE_API_PORT" \
    --tls-cert-file "$d/apiserver.crt" --tls-private-key-file "$d/apiserver.key" \
    --authorization-mode AlwaysAllow --token-auth-file "$KUBE_DIR/tokens.csv" --anonymous-auth=false \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$d/sa.pub" \
    --service-account-signing-key-file "$d/sa.key" --service-cluster-ip-range 10.96.0.0/24 \
    --enable-priority-and-fairness=false --profiling=false
  local token
  token=$(cut -d, -f1 "$KUBE_DIR/tokens.csv")
  for _ in $(seq 300); do
    if curl -sf --cacert "$d/ca.crt" -H "Authorization: Bearer $token" \
      "https://127.0.0.1:$KUBE_API_PORT/readyz" >/dev/null 2>&1; then
      info "API server ready in $((SECONDS - started)) s; kubeconfig ${GOVERN_KUBECONFIG#"$ROOT"/}"
      return 0
    fi
    running "$STATE/kube-apiserver.pid" || die "kube-apiserver exited (log: $STATE/logs/kube-apiserver.log)"
    sleep 0.2
  done
  die "kube-apiserver not ready after 60 s (log: $STATE/logs/kube-apiserver.log)"
}

kube_down() {
  kube_profile
  stop_pidfile "$STATE/kube-apiserver.pid"
  stop_pidfile "$STATE/kube-etcd.pid"
}

# manifest_tests renders every overlay, validates it on the real API server,
# runs Dapr's sidecar injector as an admission webhook against it and drives
# the release tool through a release (tests/manifests). The image check
# (scripts/images.sh) runs beside it when present.
manifest_tests() {
  step "Manifest tests (kustomize render, real kube-apiserver dry runs, release tool)"
  local started=$SECONDS
  build_kube
  build_release
  build_injector
  (cd "$ROOT/tools/release" && GOWORK=off go vet ./... && GOWORK=off go test -count=1 ./...)
  (cd "$ROOT/tools/injector" && GOWORK=off go vet ./...)
  (
    trap kube_down EXIT
    kube_up
    cd "$ROOT/tests/manifests"
    GOWORK=off go vet ./...
    GOVERN_RELEASE_BIN="$BIN/release" GOVERN_INJECTOR_BIN="$BIN/dapr-injector" GOWORK=off go test -count=1 -v -timeout 10m ./... 2>&1 |
      tee "$STATE/logs/manifests.out"
  )
  info "manifest tests passed in $((SECONDS - started)) s (log: ${STATE#"$ROOT"/}/logs/manifests.out)"
  if [ -f "$ROOT/scripts/images.sh" ]; then
    source "$ROOT/scripts/images.sh"
    if declare -F test_images >/dev/null; then test_images; fi
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  cmd=${1:-manifests}
  shift || true
  case $cmd in
    manifests) mkdir -p "$STATE/logs"; manifest_tests ;;
    up) build_kube; kube_up ;;
    down) kube_down ;;
    release) build_release; cd "$ROOT" && "$BIN/release" -root "$ROOT/manifests" -app "${APP:-}" "$@" ;;
    *) die "usage: kube.sh manifests|up|down|release ARGS" ;;
  esac
fi
