#!/usr/bin/env bash
# make load: the load tool (tests/load) on the load profile (its own ports
# and data, 24xxx), from empty databases. PostgreSQL keeps its durable
# defaults (fsync and synchronous commit on), so a 202 is a committed report
# and the bare ceiling is measured on the same server. The apps and sidecars
# serve pprof on 127.0.0.1 (GOVERN_PPROF_BASE); profiles go to
# .local/load/profiles. Settings: LOAD_PHASES, LOAD_SCALE, LOAD_USERS, LOAD_DRAIN_MAX, LOAD_OPEN_MAX,
# LOAD_SIDECAR_GOMEMLIMIT, LOAD_OUT (tests/load/main.go), LOAD_PROFILE (load, the default, or load-b / load-c:
# other ports, for more runs on the same machine). Not part of make test.
source "$(dirname "$0")/lib.sh"
profile "${LOAD_PROFILE:-load}"
case $PROFILE in
  load) PPROF_BASE=24700 ;;
  load-b) PPROF_BASE=25700 ;;
  load-c) PPROF_BASE=22700 ;;
  *) die "LOAD_PROFILE must be load, load-b or load-c" ;;
esac

ensure_packages
build_tools
build_apps
trap 'step "Stopping load infrastructure"; infra_down' EXIT
infra_down
rm -rf "$STATE"
# pg_stat_statements: the load tool writes each phase's top statements next
# to the phase's profiles.
export GOVERN_PG_OPTS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
infra_up
# No trace store on this profile: the sidecars sample no spans, so the
# figures do not include an exporter retrying against nothing.
sed -i 's|samplingRate: "1"|samplingRate: "0"|' "$GOVERN_DAPR_CONFIG"
mkdir -p "$ROOT/.local/load/profiles"
step "Load tool (tests/load), logs in .local/load/logs"
(cd "$ROOT" && go build $GO_TRIM -o "$BIN/load" ./tests/load)
GOVERN_PPROF_BASE=$PPROF_BASE "$BIN/load" | tee "$ROOT/.local/load/last-run.out"; exit "${PIPESTATUS[0]}"
