#!/usr/bin/env bash
# make chaos: run the platform on the chaos profile (its own ports and data)
# under load while processes are killed -9, restarted and paused, then check
# that nothing was lost (tests/chaos). SEEDS="1 2 3" runs several seeds in a
# row, each from empty databases; DURATION is the length of load and faults
# per run (default 5m). Every run's logs stay in .local/chaos-logs/seed-N.
#
# scripts/test.sh sources this file and calls chaos_short.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# chaos_run SEED DURATION: one run from empty data; returns the program's
# exit status (0 clean, 1 something lost or left behind, 2 run failed).
# It runs in a subshell, so the caller's profile and traps are untouched.
chaos_run() (
  local seed=$1 duration=$2 rc=0
  profile chaos
  trap 'infra_down' EXIT
  infra_down
  rm -rf "$STATE"
  infra_up
  step "Chaos run, seed $seed, $duration of load and faults (logs in .local/chaos-logs/seed-$seed)"
  (cd "$ROOT" && SEED=$seed DURATION=$duration "$BIN/chaos") | tee "$STATE/chaos.out" || rc=${PIPESTATUS[0]}
  infra_down
  trap - EXIT
  rm -rf "$ROOT/.local/chaos-logs/seed-$seed"
  mkdir -p "$ROOT/.local/chaos-logs"
  cp "$STATE/chaos.out" "$STATE/logs/" 2>/dev/null || true
  mv "$STATE/logs" "$ROOT/.local/chaos-logs/seed-$seed"
  return "$rc"
)

# chaos_probes runs the probes of single loss paths (tests/chaos/probes_test.go,
# -tags chaos) on fresh infrastructure of their own profile (so they can run
# beside a chaos run); about three minutes. PROBES selects tests by name.
chaos_probes() (
  profile chaos-probes
  trap 'infra_down' EXIT
  infra_down
  rm -rf "$STATE"
  infra_up
  step "Chaos probes: one suspected loss path each"
  cd "$ROOT" && go test -tags chaos -count=1 -v -timeout 15m -run "${PROBES:-.}" ./tests/chaos/
)

build_chaos() {
  (cd "$ROOT" && go build $GO_TRIM -o "$BIN/chaos" ./tests/chaos)
}

# chaos_short is the run make test includes: 60 s of faults (most kinds hit
# once), then the settle and the check; about 3 minutes.
chaos_short() {
  build_chaos
  chaos_run "${CHAOS_SEED:-1}" "${CHAOS_DURATION:-60s}"
}

main() {
  ensure_packages
  build_tools
  build_apps
  build_chaos
  local seed rc=0 lines=()
  for seed in ${SEEDS:-${SEED:-7}}; do
    chaos_run "$seed" "${DURATION:-5m}" || rc=1
    lines+=("$(tail -n1 "$ROOT/.local/chaos-logs/seed-$seed/chaos.out" 2>/dev/null)")
  done
  step "Chaos results"
  printf '%s\n' "${lines[@]}"
  return "$rc"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main
fi
