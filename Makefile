# The two commands: `make run` (the whole platform, foreground) and `make test`.
.PHONY: run stop test bench load chaos token walkthrough unit fuzz manifests release images sim logs

run: ## install what is missing, build, start everything, run in the foreground
	@bash scripts/run.sh

stop: ## stop everything `make run` started from this checkout
	@bash scripts/stop.sh

test: ## the same set-up on its own ports and data; unit, fuzz, manifest, end-to-end, Kafka and chaos tests (README)
	@bash scripts/test.sh

bench: ## end-to-end benchmarks on the test profile (not part of make test)
	@bash scripts/test.sh bench

load: ## the load tool: each figure beside its bare ceiling, table to docs/BENCHMARKS.md (not part of make test): make load [LOAD_SCALE=0.1] [LOAD_PHASES=intake]
	@bash scripts/load.sh

sim: ## verdict simulator over the pure domain, one line per policy and scenario: make sim [SEED=1] [CASES=20000]
	@cd tools/sim && GOWORK=off go run . -seed "$(or $(SEED),1)" -cases "$(or $(CASES),20000)"

unit: ## domain and handler unit tests only (no infrastructure; -trimpath like the workspace builds of make run and make test, so they share the build cache)
	@go test -trimpath ./apps/console/... ./apps/kit/... ./apps/report/... ./apps/reviewer/... ./apps/reward/...

chaos: ## kill -9 / pause every kind of process under load, then check nothing was lost: make chaos [SEEDS="1 2 3"] [DURATION=5m]
	@bash scripts/chaos.sh

fuzz: ## fuzz every decoder and parser: make fuzz [FUZZTIME=1m] [TARGET=FuzzReportBody]
	@FUZZTIME="$(FUZZTIME)" bash scripts/fuzz.sh "$(TARGET)"

token: ## print a bearer token: make -s token SUB=alice [ROLES=ops]
	@test -x .local/bin/token || go build -trimpath -o .local/bin/token ./apps/kit/cmd/token
	@.local/bin/token -sub "$(SUB)" -roles "$(ROLES)"

walkthrough: ## run the README walkthrough against a running `make run`
	@bash scripts/walkthrough.sh

images: ## build each service's and the console's container image as an OCI layout in .local/images (no Docker engine needed)
	@bash -c 'source scripts/images.sh && build_images'

manifests: ## render every overlay, dry-run it on a real kube-apiserver, drive the release tool (in make test)
	@bash scripts/kube.sh manifests

release: ## move prod traffic: make release ARGS="canary 10" | promote | rollback | "switch blue" [APP=report]
	@APP="$(APP)" bash scripts/kube.sh release $(ARGS)

# Only what is given on the command line filters: USER and friends may also
# be set in the environment (USER always is).
logarg = $(if $(filter command line,$(origin $(1))),-$(2) '$($(1))')
logs: ## search the running platform's logs: make logs CASE=<id> | REPORT= | USER= | SERVICE= LEVEL= SINCE= UNTIL= TRACE= [PROFILE=test]
	@mkdir -p .local/bin && (cd tools/logs && GOWORK=off go build -o ../../.local/bin/logs .)
	@.local/bin/logs -root . -profile '$(or $(PROFILE),run)' $(call logarg,CASE,case) $(call logarg,REPORT,report) \
		$(call logarg,USER,user) $(call logarg,SERVICE,service) $(call logarg,LEVEL,level) $(call logarg,SINCE,since) \
		$(call logarg,UNTIL,until) $(call logarg,TRACE,trace)
