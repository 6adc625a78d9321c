#!/usr/bin/env bash
# Fuzzing of every decoder and parser: each `func FuzzX` in an apps/**/*_fuzz_test.go
# file is one target; its seeds are the f.Add calls and testdata/fuzz/FuzzX/.
#
#   bash scripts/fuzz.sh [REGEX]        every target (or those matching REGEX) for
#                                       FUZZTIME each (make fuzz FUZZTIME=1m; default 30s)
#   source scripts/fuzz.sh; fuzz_short  a short pass over every target (FUZZTIME, default 2s),
#                                       as make test runs it
#
# A target that fails leaves its input in the package's testdata/fuzz/FuzzX/ (which makes
# it a regression test of `go test`); the summary names every such file. The corpus that
# go accumulates between runs lives in the Go build cache (go env GOCACHE)/fuzz.
declare -F step >/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# fuzz_targets prints "<package dir> <target>" for every fuzz target.
fuzz_targets() {
  (cd "$ROOT" && grep -H -o '^func Fuzz[A-Za-z0-9_]*' $(find apps -name '*_fuzz_test.go' | sort)) |
    sed -E 's|^(.*)/[^/]+_fuzz_test\.go:func (Fuzz[A-Za-z0-9_]*)$|./\1 \2|'
}

# fuzz_bin DIR PKG: where fuzz_build puts PKG's binary (DIR/<pkg with _ for
# />.test) and the fuzz corpus folder go test keeps for it (<that>.cache).
fuzz_bin() { local b=${2#./}; echo "$1/${b//\//_}"; }

# fuzz_build DIR REGEX: one fuzz-instrumented test binary per package with a
# target matching REGEX (fuzz_bin), two links at a time (go test -fuzz would
# link one per target; a short pass spent a third of its time there).
fuzz_build() {
  local dir=$1 filter=$2 pkg failed=0 pids=() cache log
  cache="$(go env GOCACHE)/fuzz"
  while read -r pkg; do
    # Only the builds' own pids: the shell's other children (make test's
    # PostgreSQL, Redis, ...) run for as long as it does.
    if [ ${#pids[@]} -ge 2 ]; then
      wait "${pids[0]}" || true
      pids=("${pids[@]:1}")
    fi
    (b=$(fuzz_bin "$dir" "$pkg") && cd "$ROOT" && echo "$cache/$(go list -f '{{.ImportPath}}' "$pkg")" >"$b.cache" &&
      go test -c -fuzz . $GO_TRIM -o "$b.test" "$pkg" >"$b.log" 2>&1 || echo "$pkg" >"$b.failed") &
    pids+=($!)
  done < <(fuzz_targets | awk -v f="$filter" '$2 ~ f {print $1}' | sort -u)
  [ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" || true
  for log in "$dir"/*.failed; do
    [ -e "$log" ] || continue
    echo "    building the fuzz binary of $(cat "$log") failed:"; sed 's/^/        /' "${log%.failed}.log"
    failed=1
  done
  return "$failed"
}

# fuzz_one FUZZTIME TARGET PKG DIR: one run of the target's binary from
# fuzz_build in its package's directory (where testdata/fuzz is), with the
# corpus go test keeps in the build cache; prints its output.
fuzz_one() {
  local b
  b=$(fuzz_bin "$4" "$3")
  # tr: a failing input may hold NUL bytes, which bash cannot keep in a variable.
  (cd "$ROOT/$3" && "$b.test" -test.run '^$' -test.fuzz "^${2}\$" -test.fuzztime "$1" -test.paniconexit0 \
    -test.fuzzcachedir "$(cat "$b.cache")" 2>&1 | tr -d '\000'; exit "${PIPESTATUS[0]}")
}

# fuzz_run FUZZTIME [REGEX]: fuzz each target (matching REGEX) for FUZZTIME.
fuzz_run() {
  local fuzztime=$1 filter=${2:-.} failed=() n=0 total start pkg target out execs bins
  total=$(fuzz_targets | awk '{print $2}' | grep -cE "$filter" || true)
  [ "$total" -gt 0 ] || die "no fuzz target matches $filter"
  start=$SECONDS
  bins=$(mktemp -d)
  fuzz_build "$bins" "$filter" || { rm -rf "$bins"; return 1; }
  info "fuzz binaries built in $((SECONDS - start)) s"
  while read -r pkg target; do
    [[ $target =~ $filter ]] || continue
    n=$((n + 1))
    printf '    [%d/%d] %-28s %s ... ' "$n" "$total" "$target" "${pkg#./apps/}"
    # A run that ends on "context deadline exceeded" and writes no input found
    # nothing: go's fuzz workers did not start within the time on a busy
    # machine. It is tried once more; a second time, it fails.
    if out=$(fuzz_one "$fuzztime" "$target" "$pkg" "$bins") ||
      { [[ $out == *"context deadline exceeded"* && $out != *"Failing input written"* ]] &&
        echo -n "(workers were slow to start; again) " && out=$(fuzz_one "$fuzztime" "$target" "$pkg" "$bins"); }; then
      execs=$(grep -oE 'execs: [0-9]+' <<<"$out" | tail -n1 | cut -d' ' -f2 || true)
      echo "ok (${execs:-?} execs)"
    else
      echo FAILED
      grep -vE '^(fuzz: elapsed|=== RUN|--- FAIL|FAIL|exit status)' <<<"$out" | sed 's/^/        /' | head -n 20
      failed+=("$target ($pkg)")
    fi
  done < <(fuzz_targets)
  rm -rf "$bins"
  info "$n fuzz targets, $fuzztime each, in $((SECONDS - start)) s"
  if [ ${#failed[@]} -gt 0 ]; then
    printf '    failing target: %s\n' "${failed[@]}"
    (cd "$ROOT" && git status --porcelain --untracked-files=all -- 'apps/**/testdata/fuzz/**' | cut -c4- | sed 's/^/    new failing input: /')
    return 1
  fi
}

# fuzz_short is the pass make test runs: every target for a few seconds.
fuzz_short() {
  step "Fuzzing every decoder and parser (${FUZZTIME:-2s} per target)"
  fuzz_run "${FUZZTIME:-2s}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  step "Fuzzing (${FUZZTIME:-30s} per target)"
  fuzz_run "${FUZZTIME:-30s}" "${1:-.}"
fi
