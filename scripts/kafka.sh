#!/usr/bin/env bash
# The Kafka step of make test: end-to-end scenarios (docs/KAFKA.md) with
# the pubsub component as pubsub.kafka against a Kafka wire-protocol cluster
# (kfake, tools/kafka) on loopback, two report replicas in one consumer group, and
# databases of its own. test.sh runs it after the e2e suite, on the same
# profile's PostgreSQL, placement and scheduler (never beside it: both use
# app-ids report, reviewer and reward). Run alone, it brings that
# infrastructure up and down itself.
source "$(dirname "$0")/lib.sh"
profile "${GOVERN_TEST_PROFILE:-test}"

case $PROFILE in
  test) KAFKA_PORT=17092 ;;
  test-a) KAFKA_PORT=27092 ;;
  test-b) KAFKA_PORT=37092 ;;
  obs) KAFKA_PORT=20092 ;;
  test-e) KAFKA_PORT=61092 ;;
  api) KAFKA_PORT=31192 ;;
  *) KAFKA_PORT=$((CONTROL_HEALTHZ_BASE + 22)) ;;   # brokers +22..+24, reserved by reserve_ports
esac
KAFKA_BROKERS=3
# Every topic the platform uses, created up front as on a production cluster
# (automatic creation is off).
KAFKA_TOPICS="reports:6,reports-dead-letter:1,case-decided:3,dead-letter:1,user-activity:3,task-assigned:3,juror-reminded:3"
# The broker's message.max.bytes: the component's maxMessageBytes (4 MiB)
# plus room for the record batch's own bytes.
KAFKA_MAX_MESSAGE_BYTES=$(((4 << 20) + (64 << 10)))
KAFKA_DATABASES="report_kafka reviewer_kafka reward_kafka dapr_state_kafka"
KAFKA_STATE="$STATE/kafka"

start_kafka() {
  local brokers=() i
  for ((i = 0; i < KAFKA_BROKERS; i++)); do brokers+=("127.0.0.1:$((KAFKA_PORT + i))"); done
  mkdir -p "$KAFKA_STATE"
  start_bg kafka "$BIN/kafka" -port "$KAFKA_PORT" -brokers "$KAFKA_BROKERS" -topics "$KAFKA_TOPICS" \
    -max-message-bytes "$KAFKA_MAX_MESSAGE_BYTES"
  for ((i = 0; i < KAFKA_BROKERS; i++)); do wait_port $((KAFKA_PORT + i)) "kafka broker $i"; done
  for _ in $(seq 50); do grep -q '^kafka: ready' "$STATE/logs/kafka.log" && break; sleep 0.1; done
  grep -q '^kafka: ready' "$STATE/logs/kafka.log" || die "kafka did not report ready (logs in $STATE/logs/kafka.log)"
  GOVERN_KAFKA_BROKERS=$(IFS=,; echo "${brokers[*]}")
  export GOVERN_KAFKA_BROKERS
  info "Kafka (kfake, $KAFKA_BROKERS brokers) on $GOVERN_KAFKA_BROKERS"
}

# kafka_databases gives the scenario empty databases of its own, so that
# what it counts is only what it did.
kafka_databases() {
  local pgb db
  pgb=$(pg_bin)
  for db in $KAFKA_DATABASES; do
    PGOPTIONS=--client-min-messages=warning "$pgb/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
    "$pgb/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $db" >/dev/null
  done
  info "databases ${KAFKA_DATABASES// /, } are empty"
}

# kafka_resources builds the sidecars' resources folder: every file of
# components/, except those components-kafka/ replaces by name, plus
# components-kafka/. Symlinks keep components/ the one source of the shared
# resources.
kafka_resources() {
  local dir="$KAFKA_STATE/resources" f
  rm -rf "$dir"
  mkdir -p "$dir"
  for f in "$ROOT"/components/*.yaml; do
    [ -e "$ROOT/components-kafka/$(basename "$f")" ] || ln -s "$f" "$dir/"
  done
  for f in "$ROOT"/components-kafka/*.yaml; do ln -s "$f" "$dir/"; done
  export GOVERN_KAFKA_RESOURCES=$dir
  info "resources: $(cd "$dir" && echo *.yaml) (pubsub from components-kafka/)"
}

stop_kafka() { stop_pidfile "$STATE/kafka.pid"; }

own_infra=false
if ! running "$STATE/placement.pid"; then
  ensure_packages
  build_tools
  build_apps
  own_infra=true
  infra_down
  infra_up
fi
trap 'step "Stopping Kafka"; stop_kafka; if $own_infra; then infra_down; fi' EXIT
step "Kafka end-to-end scenario (profile $PROFILE; app and sidecar logs in .local/$PROFILE/kafka/logs, kfake in logs/kafka.log)"
build_kafka
stop_kafka
rm -rf "$KAFKA_STATE"
start_kafka
kafka_databases
kafka_resources
cd "$ROOT"
go test -count=1 -v -timeout 5m $GO_TRIM ./tests/kafka/ 2>&1 | tee "$STATE/logs/kafka.out"
