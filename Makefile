# xii — run `make help` for the targets.

GO            ?= go
BIN           := bin
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -s -w -X main.version=$(VERSION)
SERVICES      := survey-svc aggregator-svc dashboard-svc
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME      ?= 10s
# Fuzz targets run briefly by `make test`: package:target.
FUZZ_TARGETS  := ./survey-svc/survey:FuzzDecodeNewResponse ./survey-svc/survey:FuzzParseExportQuery \
                 ./aggregator-svc/aggregate:FuzzParseQuery \
                 ./dashboard-svc/dashboard:FuzzParseQuery ./dashboard-svc/dashboard:FuzzParseStatsQuery

.DEFAULT_GOAL := help
.PHONY: help build test test-unit fuzz lint fmt run bench clean

help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build every service into bin/ (static binaries)
	@mkdir -p $(BIN)
	@for svc in $(SERVICES); do \
		echo "build $$svc"; \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/$$svc ./$$svc/cmd/$$svc || exit 1; \
	done

test: test-unit fuzz ## run every module's tests (unit and integration, real Postgres and etcd) and a short fuzz

test-unit:
	$(GO) vet work
	$(GO) test -race -count=1 -timeout 20m work

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

run: build ## run survey-svc blue (:1101) and red (:1102) against the local Postgres and etcd
	@trap 'kill 0' INT TERM; \
	$(BIN)/survey-svc -name blue -listen-addr :1101 2>&1 | sed -u 's/^/[blue] /' & \
	$(BIN)/survey-svc -name red -listen-addr :1102 2>&1 | sed -u 's/^/[red]  /' & \
	wait

bench: ## run the benchmarks (XII_BENCH_ROWS sets the export table size)
	$(GO) test -run='^$$' -bench=. -benchmem work

clean: ## remove build output
	rm -rf $(BIN)
