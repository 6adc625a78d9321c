#!/usr/bin/env bash
# make test: set up like make run (same binaries, components and config) on the
# test profile's own ports and data, run the unit tests, then the end-to-end
# suite against real sidecars, PostgreSQL and Redis. Stops everything it
# started, whatever happens.
source "$(dirname "$0")/lib.sh"
profile "${GOVERN_TEST_PROFILE:-test}"   # test-a / test-b run beside it
MODE=${1:-test}

ensure_packages
# Two lanes: a go build of a big binary is mostly its one-threaded link, so
# the tools only later steps use (Jaeger, kube-apiserver and etcd, the
# release tool, Dapr's injector, the chaos tool, the Kafka cluster) build
# beside the runtime and the apps; their later build_* calls find them
# fresh. A fresh clone has no .local: what the binary cache (cached_build)
# lacks, both lanes link (all of it took about 140 s one after the other).
lane=$(mktemp)
(
  source "$ROOT/scripts/observability.sh" && source "$ROOT/scripts/kube.sh" && source "$ROOT/scripts/chaos.sh" &&
    build_jaeger && build_kube && build_release && build_injector && build_chaos && build_kafka
) >"$lane" 2>&1 &
lane_pid=$!
# await_lane PID OUT: waits for a lane run in the background with its
# output in OUT, prints that output indented, and returns the lane's status.
await_lane() {
  local rc=0
  wait "$1" || rc=$?
  sed 's/^/  | /' "$2"
  return "$rc"
}
build_tools
build_apps
step "Waiting for the tools built beside them"
lane_rc=0
await_lane "$lane_pid" "$lane" || lane_rc=$?
rm -f "$lane"
[ "$lane_rc" = 0 ] || die "building the test tools failed (above)"
chaos_pid=
# stop_chaos_lane ends the chaos run beside the e2e suite if it is still going
# (make test failed or was interrupted before it was waited for).
stop_chaos_lane() {
  if [ -n "$chaos_pid" ] && kill -0 "$chaos_pid" 2>/dev/null; then
    kill -- -"$chaos_pid" 2>/dev/null || true
    wait "$chaos_pid" 2>/dev/null || true
    (profile chaos && infra_down) || true
  fi
}
trap 'stop_chaos_lane; step "Stopping test infrastructure"; infra_down' EXIT
infra_down   # leftovers of an interrupted earlier run
rm -rf "$STATE"   # every test run starts from empty databases
infra_up
source "$ROOT/scripts/observability.sh" && obs_up jaeger   # traces of the e2e rounds

cd "$ROOT"
MODULES="./apps/console/... ./apps/kit/... ./apps/report/... ./apps/reviewer/... ./apps/reward/..."
if [ "$MODE" = bench ]; then
  step "Benchmarks (end-to-end, real platform)"
  go test -count=1 -run '^$' -bench RoundLatency -benchtime "${ROUNDS:-30}x" -timeout 30m ./tests/e2e/
  go test -count=1 -run '^$' -bench OpenRounds -benchtime "${OPEN_ROUNDS:-1000}x" -timeout 30m ./tests/e2e/
  go test -count=1 -run '^$' -bench Selection -benchtime "${SELECTIONS:-2000}x" -timeout 30m ./tests/e2e/
  go test -count=1 -run '^$' -bench Redemption -benchtime "${REDEMPTIONS:-5000}x" -timeout 30m ./tests/e2e/
  exit 0
fi
step "Unit tests"
# shellcheck disable=SC2086
go test -count=1 -race $GO_TRIM $MODULES
step "Simulator: property tests of the verdict domain and a short seeded run"
(cd "$ROOT/tools/sim" && GOWORK=off go vet ./... && GOWORK=off go test -count=1 ./...)
source "$ROOT/scripts/fuzz.sh" && fuzz_short   # every fuzz target for 2 s
step "Formatting and go vet"
unformatted=$(gofmt -l apps tests tools)
[ -z "$unformatted" ] || die "not gofmt-formatted: $unformatted"
# shellcheck disable=SC2086
go vet $GO_TRIM $MODULES ./tests/...
observability_tests   # promtool rule tests, dashboards and rules against the metric names
source "$ROOT/scripts/kube.sh" && manifest_tests   # manifests on a real kube-apiserver; images
# The short chaos run (60 s of load and faults, then the settle and the
# check: nothing lost) runs beside the e2e suite and the Kafka step, on its
# own profile (ports, databases, app ids' processes, state folder). The e2e
# suite mostly waits on its rounds' timers: with both going the machine was
# about 30 % busy, and the suite took as long as alone (266 s); one after
# the other the chaos run added about 130 s. Its output is printed once it
# is done; its logs stay in .local/chaos-logs/seed-N.
chaos_out="$STATE/logs/chaos-run.out"
setsid bash -c 'source "$1/scripts/chaos.sh" && chaos_short' chaos "$ROOT" >"$chaos_out" 2>&1 &
chaos_pid=$!
step "End-to-end tests (logs in .local/test/logs; the chaos run goes on beside them, output in ${chaos_out#"$ROOT"/})"
# shellcheck disable=SC2046
go test -count=1 -v -timeout 20m $GO_TRIM $(go list ./tests/... | grep -v '/tests/kafka$') 2>&1 | tee "$STATE/logs/e2e.out"
bash "$ROOT/scripts/kafka.sh"   # after the e2e suite, never beside it
step "Waiting for the chaos run beside the e2e suite"
lane_pid=$chaos_pid
chaos_pid=   # waited for here: the EXIT trap has nothing left to stop
await_lane "$lane_pid" "$chaos_out" || die "the chaos run failed (above; logs in .local/chaos-logs)"
