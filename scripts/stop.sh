#!/usr/bin/env bash
# make stop: stop everything `make run` started from this checkout (apps,
# sidecars, placement, scheduler, Redis, PostgreSQL) and nothing else.
source "$(dirname "$0")/lib.sh"
profile run
step "Stopping the platform started by make run"
infra_down
info "stopped"
