#!/usr/bin/env bash
# make run: install what is missing, build the pinned Dapr runtime and the
# apps, start PostgreSQL, Redis, placement and scheduler, prepare the
# databases, then run the three apps with their sidecars through
# `dapr run -f dapr.yaml` in the foreground. Ctrl-C or `make stop` stops all of it.
source "$(dirname "$0")/lib.sh"
profile run
started=$(date +%s)

ensure_packages
build_tools
build_apps

cleanup() {
  trap - EXIT INT TERM
  step "Stopping everything make run started"
  infra_down
  info "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

infra_up
source "$ROOT/scripts/observability.sh" && obs_up jaeger prometheus

step "Applying database migrations"
for app in report reviewer reward; do
  DATABASE_URL="$PG_URL_BASE/$app?sslmode=disable" "$BIN/$app" migrate >"$STATE/logs/migrate-$app.log" 2>&1 ||
    die "migrating $app failed: see $STATE/logs/migrate-$app.log"
  info "$app: schema up to date"
done

step "Starting report, reviewer and reward with their Dapr sidecars (dapr run -f dapr.yaml)"
cd "$ROOT"
dapr run -f dapr.yaml >"$STATE/logs/apps.log" 2>&1 &
echo $! >"$STATE/apps.pid"
for port in 8081 8082 8083 3501 3502 3503; do
  path=/healthz; [ "$port" -lt 8000 ] && path=/v1.0/healthz
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port$path" 2>/dev/null && break
    running "$STATE/apps.pid" || die "dapr run exited: see $STATE/logs/apps.log"
    sleep 0.2
  done
  curl -fsS -o /dev/null "http://127.0.0.1:$port$path" || die "127.0.0.1:$port$path not healthy: see $STATE/logs/apps.log"
done
start_console
info "all apps and sidecars healthy after $(( $(date +%s) - started ))s"

cat <<BANNER

  The platform is up (everything on 127.0.0.1):
    console   http://127.0.0.1:$APP_PORT_BASE   ops console: sign in with \`make -s token SUB=you ROLES=ops\`
    report    http://127.0.0.1:8081   sidecar http://127.0.0.1:3501
    reviewer  http://127.0.0.1:8082   sidecar http://127.0.0.1:3502
    reward    http://127.0.0.1:8083   sidecar http://127.0.0.1:3503
    PostgreSQL 127.0.0.1:$PG_PORT (user postgres)   Redis 127.0.0.1:$REDIS_PORT
    placement 127.0.0.1:$PLACEMENT_PORT   scheduler 127.0.0.1:$SCHEDULER_PORT
    Jaeger    query API $GOVERN_JAEGER_URL/api/services   OTLP 127.0.0.1:$OTLP_GRPC_PORT (gRPC), :$OTLP_HTTP_PORT (HTTP)
    Prometheus $GOVERN_PROMETHEUS_URL/graph (rules and alerts: /alerts)
  Logs: .local/run/logs/ (apps.log: apps; daprd logs under apps/*/.dapr/logs/)
    search them: make logs CASE=<id> | REPORT=<id> | USER=<id> | SERVICE=reward LEVEL=warn SINCE=10m
  Try it: the walkthrough in README.md ("Walkthrough"), or in another shell:
    make walkthrough
  Stop: Ctrl-C here, or \`make stop\` from this checkout.

BANNER
tail -n +1 -f "$STATE/logs/apps.log" --pid "$(cat "$STATE/apps.pid")" &
wait "$(cat "$STATE/apps.pid")"
