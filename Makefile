# xii — run `make help` for the targets.

GO            ?= go
BIN           := bin
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -s -w -X main.version=$(VERSION)
SERVICES      := survey-svc aggregator-svc dashboard-svc
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME      ?= 10s
ETCD_ENDPOINTS ?= 127.0.0.1:2379
# Fuzz targets run briefly by `make test`: package:target.
FUZZ_TARGETS  := ./survey-svc/survey:FuzzDecodeNewResponse ./survey-svc/survey:FuzzParseExportQuery \
                 ./aggregator-svc/aggregate:FuzzParseQuery \
                 ./dashboard-svc/dashboard:FuzzParseQuery ./dashboard-svc/dashboard:FuzzParseStatsQuery

.DEFAULT_GOAL := help
.PHONY: help build test test-unit test-chaos chaos fuzz lint fmt run up down etcdctl jaeger seed bench bench-rollup clean browser-deps

help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build every service into bin/ (static binaries)
	@mkdir -p $(BIN)
	@for svc in $(SERVICES); do \
		echo "build $$svc"; \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/$$svc ./$$svc/cmd/$$svc || exit 1; \
	done

CHAOS_PKG     := xii/tests/chaos
CHAOS_DURATION ?= 3m
# make chaos restarts the local PostgreSQL too: run it alone.
CHAOS_PG_RESTART ?= pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main restart

test: browser-deps test-unit test-chaos fuzz ## run every module's tests (unit, integration, end to end with the browser tests, a short fault-injection run) and a short fuzz

# What the browser tests inject into the page (axe-core), pinned by the
# lockfile; without npm they skip, or fail with CI=true. They also need
# Chromium: apt-get install chromium.
browser-deps: ## install the browser tests' npm packages (tests/browser)
	@if command -v npm >/dev/null; then cd tests/browser && npm ci --ignore-scripts --no-audit --no-fund; \
	else echo "browser-deps: npm not found; the browser tests will skip (and fail with CI=true)"; fi

test-unit:
	$(GO) vet work
	$(GO) test -race -count=1 -timeout 20m $$($(GO) list work | grep -v '^$(CHAOS_PKG)$$')

# Every fault once, on a machine the other tests no longer load.
test-chaos:
	$(GO) test -count=1 -timeout 15m -run '^TestChaos$$' -v $(CHAOS_PKG)

chaos: ## the long fault-injection run (CHAOS_DURATION, default 3m), PostgreSQL restarts included
	XII_CHAOS_DURATION=$(CHAOS_DURATION) XII_CHAOS_PG_RESTART="$(CHAOS_PG_RESTART)" XII_CHAOS_REPORT=$(CURDIR)/chaos-report.txt \
		$(GO) test -count=1 -timeout 30m -run '^TestChaos$$' -v $(CHAOS_PKG)

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	done

lint: ## go vet and staticcheck on every module
	$(GO) vet work
	$(GO) run $(STATICCHECK) work

fmt: ## gofmt every Go file
	gofmt -w $$(git ls-files '*.go')

run: build ## run the whole system locally: etcd, Jaeger, survey blue/red, aggregator, dashboard
	@$(GO) build -o $(BIN)/xii-local ./deployments/cmd/xii-local
	@exec $(BIN)/xii-local

SEED_N        ?= 300
seed: ## post SEED_N demo responses each to survey blue (:1101) and red (:1102) of a running system
	@$(GO) build -o $(BIN)/xii-load ./tests/cmd/xii-load
	@$(BIN)/xii-load seed -url http://localhost:1101 -n $(SEED_N) -seed 1
	@$(BIN)/xii-load seed -url http://localhost:1102 -n $(SEED_N) -seed 2

up: ## start the system with Docker Compose (needs a Docker engine) and wait until healthy
	docker compose up -d --build --wait

down: ## stop the Docker Compose system (volumes are kept; add -v by hand to drop them)
	docker compose down

etcdctl: ## run etcdctl against the local system, e.g. make etcdctl ARGS="get --prefix /xii/"
	@GOWORK=off $(GO) -C deployments/etcdctl tool etcdctl --endpoints=$(ETCD_ENDPOINTS) $(ARGS)

jaeger: ## build Jaeger v2 from its tools module (the first build takes several minutes)
	GOWORK=off $(GO) -C observability/jaeger build -o /dev/null github.com/jaegertracing/jaeger/cmd/jaeger

bench: ## run the benchmarks (XII_BENCH_ROWS sets the export table size)
	$(GO) test -run='^$$' -bench=. -benchmem work

bench-rollup: ## stats from the rollup vs GROUP BY at 1M and 10M rows, and the rollup's cost to ApplyPage (~10 min)
	$(GO) test -run='^$$' -bench=ApplyPageRollup -benchtime=3x -timeout=30m ./aggregator-svc/postgres/
	XII_ROLLUP_ROWS=1000000,10000000 $(GO) test -run='^$$' -bench=StatsRollup -benchtime=5x -timeout=60m ./aggregator-svc/postgres/

clean: ## remove build output
	rm -rf $(BIN)
