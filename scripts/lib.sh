# shellcheck shell=bash
# Shared by run.sh, test.sh and stop.sh: one profile ("run" or "test") names a
# set of ports and a state folder, so `make test` never collides with a
# running `make run`. Everything binds 127.0.0.1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="$ROOT/.local/bin"
RUNTIME_DIR="$ROOT/.local/runtime"   # dapr CLI runtimePath: <dir>/.dapr/bin/daprd
export PATH="$BIN:$PATH:/usr/local/go/bin"
# GO_TRIM goes on every go build, test and vet of the workspace (apps, tests):
# without -trimpath a package's build-cache key holds its folder, so a fresh
# clone at another path compiled the whole workspace again. (The tools'
# GOWORK=off builds keep their own flags: theirs are in the binary cache.)
GO_TRIM=-trimpath

# A step line gives the clock and the seconds since the outermost script
# started: scripts it runs (kafka.sh, test.sh's chaos lane) count from the
# same start (GOVERN_STEP_T0), so a make test log reads as one timeline.
if [ -n "${GOVERN_STEP_T0:-}" ]; then
  SECONDS=$(($(date +%s) - GOVERN_STEP_T0))
else
  GOVERN_STEP_T0=$(($(date +%s) - SECONDS))
  export GOVERN_STEP_T0
fi
step() { printf '\n\033[1m==> %s\033[0m  (%s, +%ss)\n' "$*" "$(date -u +%H:%M:%SZ)" "$SECONDS"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

profile() {
  PROFILE=$1
  STATE="$ROOT/.local/$PROFILE"
  case $PROFILE in
    run)
      PG_PORT=15432; REDIS_PORT=16379; PLACEMENT_PORT=50005; SCHEDULER_PORT=50006
      ETCD_CLIENT_PORT=52379; ETCD_PEER_PORT=52380; CONTROL_HEALTHZ_BASE=52100
      APP_PORT_BASE=8080; SIDECAR_HTTP_BASE=3500; SIDECAR_GRPC_BASE=50000; SIDECAR_METRICS_BASE=9090; SIDECAR_INTERNAL_BASE=50100 ;;
    test)
      PG_PORT=25432; REDIS_PORT=26379; PLACEMENT_PORT=51005; SCHEDULER_PORT=51006
      ETCD_CLIENT_PORT=53379; ETCD_PEER_PORT=53380; CONTROL_HEALTHZ_BASE=53100
      APP_PORT_BASE=18080; SIDECAR_HTTP_BASE=13500; SIDECAR_GRPC_BASE=51000; SIDECAR_METRICS_BASE=19090; SIDECAR_INTERNAL_BASE=51100 ;;
    # Extra test profiles, so that two suites can run side by side on one machine.
    test-a)
      PG_PORT=35432; REDIS_PORT=36379; PLACEMENT_PORT=54005; SCHEDULER_PORT=54006
      ETCD_CLIENT_PORT=54379; ETCD_PEER_PORT=54380; CONTROL_HEALTHZ_BASE=54100
      APP_PORT_BASE=28080; SIDECAR_HTTP_BASE=23500; SIDECAR_GRPC_BASE=54000; SIDECAR_METRICS_BASE=29090; SIDECAR_INTERNAL_BASE=54200 ;;
    test-b)
      PG_PORT=45432; REDIS_PORT=46379; PLACEMENT_PORT=55005; SCHEDULER_PORT=55006
      ETCD_CLIENT_PORT=55379; ETCD_PEER_PORT=55380; CONTROL_HEALTHZ_BASE=55100
      APP_PORT_BASE=38080; SIDECAR_HTTP_BASE=33500; SIDECAR_GRPC_BASE=55000; SIDECAR_METRICS_BASE=39090; SIDECAR_INTERNAL_BASE=55200 ;;
    test-c)
      PG_PORT=47432; REDIS_PORT=47379; PLACEMENT_PORT=56005; SCHEDULER_PORT=56006
      ETCD_CLIENT_PORT=56379; ETCD_PEER_PORT=56380; CONTROL_HEALTHZ_BASE=56100
      APP_PORT_BASE=48080; SIDECAR_HTTP_BASE=43500; SIDECAR_GRPC_BASE=56000; SIDECAR_METRICS_BASE=49090; SIDECAR_INTERNAL_BASE=56200 ;;
    test-d)
      PG_PORT=57432; REDIS_PORT=57479; PLACEMENT_PORT=57005; SCHEDULER_PORT=57006
      ETCD_CLIENT_PORT=57379; ETCD_PEER_PORT=57380; CONTROL_HEALTHZ_BASE=57100
      APP_PORT_BASE=58080; SIDECAR_HTTP_BASE=53500; SIDECAR_GRPC_BASE=57000; SIDECAR_METRICS_BASE=59090; SIDECAR_INTERNAL_BASE=57200 ;;
    test-e)
      PG_PORT=61432; REDIS_PORT=61479; PLACEMENT_PORT=61005; SCHEDULER_PORT=61006
      ETCD_CLIENT_PORT=61379; ETCD_PEER_PORT=61380; CONTROL_HEALTHZ_BASE=61100
      APP_PORT_BASE=62080; SIDECAR_HTTP_BASE=63500; SIDECAR_GRPC_BASE=61000; SIDECAR_METRICS_BASE=62190; SIDECAR_INTERNAL_BASE=61200 ;;
    # The chaos run (make chaos, scripts/chaos.sh): ports above the kernel's
    # ephemeral range (32768-60999), so no outgoing connection of another
    # suite can take one of them while a process is down between kill and restart.
    chaos)
      PG_PORT=64432; REDIS_PORT=64379; PLACEMENT_PORT=64005; SCHEDULER_PORT=64006
      ETCD_CLIENT_PORT=64279; ETCD_PEER_PORT=64280; CONTROL_HEALTHZ_BASE=64100
      APP_PORT_BASE=64080; SIDECAR_HTTP_BASE=64500; SIDECAR_GRPC_BASE=64600; SIDECAR_METRICS_BASE=64700; SIDECAR_INTERNAL_BASE=64800 ;;
    # The chaos probes (scripts/chaos.sh chaos_probes), beside a chaos run.
    chaos-probes)
      PG_PORT=65432; REDIS_PORT=65379; PLACEMENT_PORT=65005; SCHEDULER_PORT=65006
      ETCD_CLIENT_PORT=65279; ETCD_PEER_PORT=65280; CONTROL_HEALTHZ_BASE=65100
      APP_PORT_BASE=65080; SIDECAR_HTTP_BASE=65180; SIDECAR_GRPC_BASE=65200; SIDECAR_METRICS_BASE=65220; SIDECAR_INTERNAL_BASE=65240 ;;
    # Observability work (Jaeger, Prometheus, make logs) beside the others;
    # below the ephemeral range, so nothing needs reserving.
    obs)
      PG_PORT=20432; REDIS_PORT=20379; PLACEMENT_PORT=20005; SCHEDULER_PORT=20006
      ETCD_CLIENT_PORT=20179; ETCD_PEER_PORT=20180; CONTROL_HEALTHZ_BASE=20100
      APP_PORT_BASE=20200; SIDECAR_HTTP_BASE=20300; SIDECAR_GRPC_BASE=20400; SIDECAR_METRICS_BASE=20500; SIDECAR_INTERNAL_BASE=20600 ;;
    # The OpenAPI helper's suite: ports below the ephemeral range (32768-60999)
    # and apart from every other profile's (31xxx).
    api)
      PG_PORT=31432; REDIS_PORT=31379; PLACEMENT_PORT=31005; SCHEDULER_PORT=31006
      ETCD_CLIENT_PORT=31279; ETCD_PEER_PORT=31280; CONTROL_HEALTHZ_BASE=31110
      APP_PORT_BASE=31080; SIDECAR_HTTP_BASE=31500; SIDECAR_GRPC_BASE=31200; SIDECAR_METRICS_BASE=31300; SIDECAR_INTERNAL_BASE=31400 ;;
    # The load tool (make load, scripts/load.sh): ports below the ephemeral
    # range (32768-60999) and apart from every other profile's (24xxx);
    # 24700-24760 are the apps' and sidecars' pprof listeners (GOVERN_PPROF_BASE).
    load)
      PG_PORT=24432; REDIS_PORT=24379; PLACEMENT_PORT=24005; SCHEDULER_PORT=24006
      ETCD_CLIENT_PORT=24179; ETCD_PEER_PORT=24180; CONTROL_HEALTHZ_BASE=24100
      APP_PORT_BASE=24200; SIDECAR_HTTP_BASE=24300; SIDECAR_GRPC_BASE=24400; SIDECAR_METRICS_BASE=24500; SIDECAR_INTERNAL_BASE=24600 ;;
    load-b)
      # A second load profile (LOAD_PROFILE=load-b make load), so that two
      # runs of the tool can share a machine while the tool itself is worked on.
      # 25700-25760 are its pprof listeners. PostgreSQL on 25442: the test
      # profile's is on 25432.
      PG_PORT=25442; REDIS_PORT=25379; PLACEMENT_PORT=25005; SCHEDULER_PORT=25006
      ETCD_CLIENT_PORT=25179; ETCD_PEER_PORT=25180; CONTROL_HEALTHZ_BASE=25100
      APP_PORT_BASE=25200; SIDECAR_HTTP_BASE=25300; SIDECAR_GRPC_BASE=25400; SIDECAR_METRICS_BASE=25500; SIDECAR_INTERNAL_BASE=25600 ;;
    load-c)
      # A third (LOAD_PROFILE=load-c), on 22xxx; 22700-22760 are its pprof listeners.
      PG_PORT=22432; REDIS_PORT=22379; PLACEMENT_PORT=22005; SCHEDULER_PORT=22006
      ETCD_CLIENT_PORT=22179; ETCD_PEER_PORT=22180; CONTROL_HEALTHZ_BASE=22100
      APP_PORT_BASE=22200; SIDECAR_HTTP_BASE=22300; SIDECAR_GRPC_BASE=22400; SIDECAR_METRICS_BASE=22500; SIDECAR_INTERNAL_BASE=22600 ;;
    *) die "unknown profile $PROFILE" ;;
  esac
  # CONTROL_HEALTHZ_BASE..+4: placement healthz, metrics; scheduler healthz, metrics; placement raft.
  # CONTROL_HEALTHZ_BASE+10..+15: Jaeger (OTLP gRPC, OTLP HTTP, query API,
  # query gRPC, health) and Prometheus; make run keeps their usual ports.
  if [ "$PROFILE" = run ]; then
    OTLP_GRPC_PORT=4317; OTLP_HTTP_PORT=4318; JAEGER_QUERY_PORT=16686; JAEGER_QUERY_GRPC_PORT=16685
    JAEGER_HEALTH_PORT=13133; PROMETHEUS_PORT=9090
  else
    local obs=$((CONTROL_HEALTHZ_BASE + 10))
    OTLP_GRPC_PORT=$obs; OTLP_HTTP_PORT=$((obs + 1)); JAEGER_QUERY_PORT=$((obs + 2)); JAEGER_QUERY_GRPC_PORT=$((obs + 3))
    JAEGER_HEALTH_PORT=$((obs + 4)); PROMETHEUS_PORT=$((obs + 5))
  fi
  # App i (1 report, 2 reviewer, 3 reward) uses BASE+i for each of the app and sidecar ports.
  PG_URL_BASE="postgres://postgres@127.0.0.1:$PG_PORT"
  export GOVERN_PROFILE=$PROFILE GOVERN_STATE=$STATE GOVERN_BIN=$BIN GOVERN_ROOT=$ROOT
  export GOVERN_PG_URL_BASE=$PG_URL_BASE
  export GOVERN_REDIS_ADDR="127.0.0.1:$REDIS_PORT"
  export GOVERN_STATE_DATABASE_URL="$PG_URL_BASE/dapr_state?sslmode=disable"
  export GOVERN_REPORT_DATABASE_URL="$PG_URL_BASE/report?sslmode=disable"
  export GOVERN_REVIEWER_DATABASE_URL="$PG_URL_BASE/reviewer?sslmode=disable"
  export GOVERN_REWARD_DATABASE_URL="$PG_URL_BASE/reward?sslmode=disable"
  export GOVERN_PLACEMENT="127.0.0.1:$PLACEMENT_PORT" GOVERN_SCHEDULER="127.0.0.1:$SCHEDULER_PORT"
  export GOVERN_APP_PORT_BASE=$APP_PORT_BASE GOVERN_SIDECAR_HTTP_BASE=$SIDECAR_HTTP_BASE
  export GOVERN_SIDECAR_GRPC_BASE=$SIDECAR_GRPC_BASE GOVERN_SIDECAR_METRICS_BASE=$SIDECAR_METRICS_BASE
  export GOVERN_SIDECAR_INTERNAL_BASE=$SIDECAR_INTERNAL_BASE
  export GOVERN_DAPR_CONFIG="$STATE/dapr-config.yaml"
  export DAPR_HOST_IP=127.0.0.1
  export GOVERN_OTLP_ENDPOINT="127.0.0.1:$OTLP_GRPC_PORT" GOVERN_JAEGER_URL="http://127.0.0.1:$JAEGER_QUERY_PORT"
  # The apps' own spans (kit/telemetry, OpenTelemetry SDK) go to the same Jaeger.
  export OTEL_EXPORTER_OTLP_ENDPOINT="http://$GOVERN_OTLP_ENDPOINT"
  export GOVERN_PROMETHEUS_URL="http://127.0.0.1:$PROMETHEUS_PORT"
  # Tokens between each app and its sidecar, generated per checkout and
  # profile (make_secrets). The app API token (sidecar -> app) is on
  # everywhere. The Dapr API token (app -> sidecar) is on in the test
  # profiles; make run leaves the sidecars' own API open on loopback, as
  # API.md's local mode says (clients publish to topics through them).
  export GOVERN_SECRETS="$STATE/secrets"
  if [ "$PROFILE" = run ]; then GOVERN_SIDECAR_TOKENS=off; else GOVERN_SIDECAR_TOKENS=on; fi
  export GOVERN_SIDECAR_TOKENS
  reserve_ports
}

# reserve_ports keeps the kernel from handing this profile's fixed ports to
# outgoing connections as their local port (the ephemeral range, 32768-60999,
# overlaps them): a busy machine otherwise fails a sidecar's listen now and
# then. Best effort, root only; the reservation lasts until reboot.
reserve_ports() {
  local f=/proc/sys/net/ipv4/ip_local_reserved_ports list b
  [ -w "$f" ] || return 0
  list="$PG_PORT,$REDIS_PORT,$PLACEMENT_PORT,$SCHEDULER_PORT,$ETCD_CLIENT_PORT,$ETCD_PEER_PORT"
  list+=",$CONTROL_HEALTHZ_BASE-$((CONTROL_HEALTHZ_BASE + 39))"
  list+=",$APP_PORT_BASE"   # the ops console
  for b in $APP_PORT_BASE $SIDECAR_HTTP_BASE $SIDECAR_GRPC_BASE $SIDECAR_METRICS_BASE $SIDECAR_INTERNAL_BASE; do
    list+=",$((b + 1))-$((b + 20))"
  done
  local current
  current=$(cat "$f")
  echo "${current:+$current,}$list" >"$f" 2>/dev/null || true
}

# make_secrets writes a random app API token and Dapr API token per app into
# $GOVERN_SECRETS (readable by this user only) unless they exist already.
make_secrets() {
  mkdir -p "$GOVERN_SECRETS"
  chmod 700 "$GOVERN_SECRETS"
  local app kind f
  for app in report reviewer reward; do
    for kind in app dapr; do
      f="$GOVERN_SECRETS/$app.$kind-token"
      [ -s "$f" ] && continue
      (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f")
    done
  done
}

# ensure_packages installs PostgreSQL and Redis with apt when they are missing.
ensure_packages() {
  local missing=()
  pg_bin >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v curl >/dev/null || missing+=(curl)
  command -v jq >/dev/null || missing+=(jq)
  command -v chromium >/dev/null || missing+=(chromium)   # the console's browser tests
  if [ ${#missing[@]} -gt 0 ]; then
    step "Installing ${missing[*]} with apt"
    [ "$(id -u)" = 0 ] || die "run as root (or install ${missing[*]} yourself)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  command -v go >/dev/null || die "Go is required (https://go.dev/dl)"
}

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -x "$d/initdb" ] || return 1
  echo "$d"
}

# stale reports whether target is missing or older than any of the sources.
stale() {
  local target=$1; shift
  [ -e "$target" ] || return 0
  [ -n "$(find "$@" -newer "$target" -type f 2>/dev/null | head -n1)" ]
}

# cached_build BUILD SOURCES OUTPUTS...: runs the function BUILD, which puts
# OUTPUTS into $BIN (its callers make it), unless a copy of them built from
# the same inputs is in the binary cache (GOVERN_BIN_CACHE, default
# ~/.cache/govern/bin, outside any checkout: a fresh clone finds what an
# earlier one built). The inputs
# are the Go version and settings, BUILD's own text (its flags and
# packages) and the content of every file under SOURCES (paths relative to
# the checkout: the tool's go.mod, go.sum and wrappers pin everything else).
# Go's build cache keeps the compiled packages but not linked binaries, and
# these links take 10-50 s each. A cache miss builds and stores the result,
# and drops the copies earlier inputs made.
cached_build() {
  local build=$1 sources=$2 key dir tmp o
  shift 2
  key=$(cd "$ROOT" && {
    go env GOVERSION GOOS GOARCH GOAMD64 CGO_ENABLED GOFLAGS
    declare -f "$build"
    # shellcheck disable=SC2086
    find $sources -type f -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-20)
  local cache=${GOVERN_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/govern/bin}
  dir="$cache/$1-$key"
  if (for o in "$@"; do [ -x "$dir/$o" ] || exit 1; done); then
    for o in "$@"; do cp "$dir/$o" "$BIN/$o.tmp" && mv -f "$BIN/$o.tmp" "$BIN/$o"; done
    info "$* from the binary cache (${dir/#$HOME/\~})"
    return 0
  fi
  "$build" || return 1
  # Storing is best effort: an unwritable or full cache only costs the next
  # clone a build.
  if mkdir -p "$cache" 2>/dev/null && tmp=$(mktemp -d "$cache/.new-XXXXXX" 2>/dev/null); then
    if (for o in "$@"; do cp "$BIN/$o" "$tmp/" || exit 1; done); then
      # The key is 20 characters: "dapr-" must not also match "dapr-injector-".
      find "$cache" -maxdepth 1 -name "$1-????????????????????" ! -name "$1-$key" -exec rm -rf {} + 2>/dev/null || true
      mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp" # another build stored it meanwhile
    else
      rm -rf "$tmp"
      info "could not store $* in the binary cache $cache"
    fi
  fi
}

# build_kafka builds the Kafka wire-protocol test cluster (tools/kafka) that
# scripts/kafka.sh runs.
build_kafka() {
  mkdir -p "$BIN"
  if stale "$BIN/kafka" "$ROOT/tools/kafka"; then
    cached_build build_kafka_binary tools/kafka kafka
    touch "$BIN/kafka"
  fi
}

build_kafka_binary() {
  step "Building the Kafka test cluster (tools/kafka, franz-go kfake)"
  (cd "$ROOT/tools/kafka" && GOWORK=off go build -o "$BIN/kafka" .)
}

# build_tools builds the pinned Dapr runtime (daprd with the SQLite name
# resolver, placement, scheduler) and the dapr CLI, once; later runs reuse them.
build_tools() {
  mkdir -p "$BIN" "$RUNTIME_DIR/.dapr/bin"
  if stale "$BIN/daprd" "$ROOT/tools/dapr" || [ ! -x "$BIN/placement" ] || [ ! -x "$BIN/scheduler" ]; then
    cached_build build_dapr_runtime tools/dapr daprd placement scheduler
    touch "$BIN/daprd"
  fi
  if stale "$BIN/dapr" "$ROOT/tools/cli"; then
    cached_build build_dapr_cli tools/cli dapr
    touch "$BIN/dapr"
  fi
  cp "$ROOT/scripts/daprd-loopback" "$RUNTIME_DIR/.dapr/bin/daprd"
  info "dapr runtime and CLI ready in .local/bin"
}

build_dapr_runtime() {
  step "Building Dapr runtime v1.18.1 (daprd, placement, scheduler): about 10 minutes the first time"
  (cd "$ROOT/tools/dapr" && GOWORK=off go build -tags stablecomponents -o "$BIN/" \
    ./cmd/daprd github.com/dapr/dapr/cmd/placement github.com/dapr/dapr/cmd/scheduler)
}

build_dapr_cli() {
  step "Building dapr CLI v1.16.5: about 5 minutes the first time"
  (cd "$ROOT/tools/cli" && GOWORK=off go build -o "$BIN/dapr" github.com/dapr/cli)
}

# build_apps compiles the three services and the ops console.
build_apps() {
  step "Building report, reviewer, reward, console"
  (cd "$ROOT" && for app in report reviewer reward console; do go build $GO_TRIM -o "$BIN/$app" "./apps/$app" || exit 1; done &&
    go build $GO_TRIM -o "$BIN/token" ./apps/kit/cmd/token)
  info "binaries in .local/bin"
}

# start_console runs the ops console on APP_PORT_BASE+0, pointed at this
# profile's apps, sidecars (with their Dapr API tokens when the profile
# sets them), databases, Redis and Jaeger.
start_console() {
  local env=(HTTP_ADDR="127.0.0.1:$APP_PORT_BASE" REDIS_ADDR="$GOVERN_REDIS_ADDR" JAEGER_URL="$GOVERN_JAEGER_URL")
  local i=1 app up
  for app in report reviewer reward; do
    up=$(echo "$app" | tr a-z A-Z)
    env+=("${up}_URL=http://127.0.0.1:$((APP_PORT_BASE + i))" "${up}_SIDECAR_URL=http://127.0.0.1:$((SIDECAR_HTTP_BASE + i))"
      "${up}_DATABASE_URL=$PG_URL_BASE/$app?sslmode=disable")
    if [ "$GOVERN_SIDECAR_TOKENS" = on ]; then env+=("${up}_DAPR_API_TOKEN=$(cat "$GOVERN_SECRETS/$app.dapr-token")"); fi
    i=$((i + 1))
  done
  start_bg console env "${env[@]}" "$BIN/console"
  wait_port "$APP_PORT_BASE" console
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_port() {
  local port=$1 what=$2 tries=${3:-150}
  for _ in $(seq "$tries"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.2
  done
  die "$what did not open 127.0.0.1:$port (logs in $STATE/logs)"
}

# postgres runs as the unprivileged postgres user, which needs to reach its
# data folder inside the checkout: grant search (x) on parent folders lacking it.
grant_traverse() {
  local d=$1
  while [ "$d" != / ]; do
    if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
      chmod o+x "$d"
    fi
    d=$(dirname "$d")
  done
}

start_postgres() {
  local pgb data="$STATE/pg"
  pgb=$(pg_bin) || die "PostgreSQL server binaries not found"
  mkdir -p "$STATE/logs"
  if [ ! -f "$data/PG_VERSION" ]; then
    info "initialising PostgreSQL cluster in ${data#"$ROOT"/}"
    mkdir -p "$data"
    if [ "$(id -u)" = 0 ]; then
      chown postgres: "$data"; chmod 700 "$data"; grant_traverse "$STATE"
      runuser -u postgres -- "$pgb/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"$STATE/logs/initdb.log"
    else
      "$pgb/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"$STATE/logs/initdb.log"
    fi
  fi
  if [ "$(id -u)" = 0 ]; then grant_traverse "$STATE"; fi
  local opts="-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories='' -c max_connections=300"
  if [ "$PROFILE" = test ]; then opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"; fi
  # GOVERN_PG_OPTS: more server settings (make load loads pg_stat_statements).
  opts+=" ${GOVERN_PG_OPTS:-}"
  touch "$STATE/logs/postgres.log"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$STATE/logs/postgres.log"
    runuser -u postgres -- "$pgb/pg_ctl" -D "$data" -l "$STATE/logs/postgres.log" -o "$opts" -w -t 60 start >/dev/null
  else
    "$pgb/pg_ctl" -D "$data" -l "$STATE/logs/postgres.log" -o "$opts" -w -t 60 start >/dev/null
  fi
  info "PostgreSQL on 127.0.0.1:$PG_PORT"
}

stop_postgres() {
  local pgb data="$STATE/pg"
  pgb=$(pg_bin) || return 0
  [ -f "$data/postmaster.pid" ] || return 0
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$pgb/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  else
    "$pgb/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

create_databases() {
  local pgb
  pgb=$(pg_bin)
  for db in report reviewer reward dapr_state; do
    if ! "$pgb/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
      "$pgb/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $db" >/dev/null
    fi
  done
  info "databases report, reviewer, reward, dapr_state exist"
}

# start_redis runs the pub/sub broker. Durability: every write is in the
# append-only file and fsynced before Redis answers (appendfsync always), so a
# publish or an acknowledgement that got its reply survives kill -9 and a
# machine crash; with everysec, Redis may answer before writing when an fsync
# is slow and lose up to two seconds of stream entries, Dapr's internal outbox
# topic included. Bound: memory, never trimming (components/pubsub.yaml sets no
# maxLenApprox): past maxmemory, noeviction refuses new entries (publishers see
# an error and retry) instead of evicting or trimming anything unread.
start_redis() {
  mkdir -p "$STATE/redis" "$STATE/logs"
  running "$STATE/redis.pid" && return 0
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$STATE/redis" --daemonize yes \
    --pidfile "$STATE/redis.pid" --logfile "$STATE/logs/redis.log" --save '' --protected-mode yes \
    --appendonly yes --appendfsync always --maxmemory 1gb --maxmemory-policy noeviction
  wait_port "$REDIS_PORT" Redis
  info "Redis on 127.0.0.1:$REDIS_PORT"
}

# start_bg NAME CMD...: start CMD in the background, logging to logs/NAME.log.
start_bg() {
  local name=$1; shift
  mkdir -p "$STATE/logs"
  running "$STATE/$name.pid" && return 0
  nohup "$@" >>"$STATE/logs/$name.log" 2>&1 &
  echo $! >"$STATE/$name.pid"
}

start_control_plane() {
  start_bg placement "$BIN/placement" --listen-address 127.0.0.1 --port "$PLACEMENT_PORT" \
    --initial-cluster "dapr-placement-0=127.0.0.1:$((CONTROL_HEALTHZ_BASE + 4))" \
    --healthz-listen-address 127.0.0.1 --healthz-port "$CONTROL_HEALTHZ_BASE" --metrics-port $((CONTROL_HEALTHZ_BASE + 1)) \
    --metrics-listen-address 127.0.0.1
  start_bg scheduler "$BIN/scheduler" --listen-address 127.0.0.1 --port "$SCHEDULER_PORT" \
    --healthz-listen-address 127.0.0.1 --healthz-port $((CONTROL_HEALTHZ_BASE + 2)) --metrics-port $((CONTROL_HEALTHZ_BASE + 3)) \
    --metrics-listen-address 127.0.0.1 \
    --etcd-data-dir "$STATE/scheduler" --etcd-client-port "$ETCD_CLIENT_PORT" --etcd-client-listen-address 127.0.0.1 \
    --etcd-initial-cluster "dapr-scheduler-server-0=http://127.0.0.1:$ETCD_PEER_PORT" \
    --override-broadcast-host-port "127.0.0.1:$SCHEDULER_PORT"
  wait_port "$PLACEMENT_PORT" placement
  wait_port "$SCHEDULER_PORT" scheduler
  info "placement on 127.0.0.1:$PLACEMENT_PORT, scheduler on 127.0.0.1:$SCHEDULER_PORT"
}

# render_config writes the Dapr Configuration with this profile's SQLite
# name-resolution file and OTLP endpoint (the values that differ between profiles).
render_config() {
  sed -e "s|@NAME_RESOLUTION_DB@|$STATE/nameresolution.db|" -e "s|@OTLP_ENDPOINT@|$GOVERN_OTLP_ENDPOINT|" \
    "$ROOT/dapr-config/config.yaml" >"$GOVERN_DAPR_CONFIG"
}

infra_up() {
  step "Starting PostgreSQL, Redis, placement and scheduler (profile $PROFILE, state in .local/$PROFILE)"
  mkdir -p "$STATE"
  make_secrets
  start_postgres
  create_databases
  start_redis
  start_control_plane
  render_config
}

stop_pidfile() {
  local f=$1
  [ -f "$f" ] || return 0
  local pid
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# stop_group stops the process group led by the pid in file f (dapr run and
# every app and sidecar it started).
stop_group() {
  local f=$1
  [ -f "$f" ] || return 0
  local pid
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

infra_down() {
  stop_group "$STATE/apps.pid"
  for name in console scheduler placement jaeger prometheus; do stop_pidfile "$STATE/$name.pid"; done
  if running "$STATE/redis.pid"; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || stop_pidfile "$STATE/redis.pid"
  fi
  rm -f "$STATE/redis.pid"
  stop_postgres
}
