# samspill — run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Go 1.27.3, fetched once from the Go module proxy (about 10 s): the first
# release whose standard library has none of the vulnerabilities that
# govulncheck finds in 1.26.8 (net/http, crypto/tls, crypto/x509,
# html/template). go.mod asks for no more than 1.26.8, so a plain `go vet` or
# `go build` works on this machine's own Go too.
export GOTOOLCHAIN := go1.27.3

GO          ?= go
PKGS        ?= ./...
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS     := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# The race detector needs cgo and a C compiler; use it wherever one exists.
RACE        ?= $(shell command -v gcc >/dev/null 2>&1 && echo -race)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0
# The Go vulnerability database, built offline from the golang.org/x/vulndb
# module (served by the Go module proxy; vuln.go.dev is out of reach) with
# its own cmd/indexdb, once per version into the cache folder.
VULNDB_VERSION ?= v0.0.0-20261105234957-e22db6528018
VULNDB_DIR     ?= $(HOME)/.cache/samspill/vulndb-$(VULNDB_VERSION)
# Mailpit, the SMTP server the survey mailing tests send to
# (surveys/mail/mailpittest finds it here): built from the Go module proxy
# in a scratch module that requires it, since `go install` refuses a module
# with replace directives.
MAILPIT_VERSION ?= v1.33.1
MAILPIT_DIR     ?= $(HOME)/.cache/samspill/mailpit-$(MAILPIT_VERSION)
BENCHTIME   ?= 20000x
# Size of the generated log the projection rebuild benchmark replays.
BENCH_EVENTS ?= 1000000
FUZZTIME    ?= 10s
ADDR        ?= 127.0.0.1:8080
DATA        ?= ./samspill-data

.PHONY: help run build test crash test-deps mailpit lint fmt depcheck vulncheck vulndb bench bench-peers load load-rss fuzz clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

run: ## serve the API with the demo data on the embedded store (./samspill-data, http://127.0.0.1:8080)
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/samspill serve --demo --addr $(ADDR) --data $(DATA)

build: ## build bin/samspill
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/samspill ./cmd/samspill

test: ## run every test (with -race where a C compiler exists), fuzz seed corpora included
	$(GO) test $(RACE) -count=1 -timeout 10m $(PKGS)

# The crash harness (cmd/samspill/crash_test.go): SIGKILLs a real server
# under concurrent writers 20 times and checks that no acknowledged write is
# lost, nothing is half applied, retries are idempotent and the projections
# equal a rebuild. SAMSPILL_CRASH_KILLS and SAMSPILL_CRASH_SEED override the
# kills and the seed; -v shows the seed and the summary on success too.
crash: ## kill -9 the server under load 20 times; verify acknowledged writes, retries and projections (~1 min)
	$(GO) test -tags crash -run '^TestCrash' -count=1 -timeout 5m -v ./cmd/samspill/

# Debian packages of the tests that go beyond Go: R's survival package (the
# spells export is fitted with coxph), haven (reads the Stata files) and
# jsonlite (reads the codebook), and Chromium (the browser test); from the
# npm registry axe-core (the accessibility test) and DuckDB (reads the
# Parquet files). The tests skip with a message where these are missing;
# CI installs them.
TEST_DEBS := r-base-core r-cran-survival r-cran-haven r-cran-jsonlite chromium

test-deps: ## install R (survival, haven, jsonlite) and Chromium from Debian's packages, axe-core and DuckDB from npm and Mailpit from the Go module proxy (for the R, format, browser, accessibility and mail tests)
	@if command -v Rscript >/dev/null && Rscript -e 'library(survival); library(haven); library(jsonlite)' >/dev/null 2>&1 && command -v chromium >/dev/null; then \
	  echo "test dependencies present"; \
	else \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $(TEST_DEBS); \
	fi
	@if [ ! -f web/testdata/axe/node_modules/axe-core/axe.min.js ]; then \
	  if command -v npm >/dev/null; then npm ci --prefix web/testdata/axe --no-audit --no-fund; \
	  else echo "npm not found: the accessibility test (axe-core) will be skipped"; fi; \
	fi
	@if [ ! -d research/testdata/duckdb/node_modules/@duckdb/node-api ]; then \
	  if command -v npm >/dev/null; then npm ci --prefix research/testdata/duckdb --no-audit --no-fund; \
	  else echo "npm not found: the Parquet test's DuckDB check will be skipped"; fi; \
	fi
	@$(MAKE) --no-print-directory mailpit || echo "Mailpit could not be built: the mail tests (surveys/mail, surveys) will be skipped"

mailpit: ## build Mailpit (the SMTP server of the survey mailing tests) from the Go module proxy into MAILPIT_DIR
	@if [ ! -x "$(MAILPIT_DIR)/mailpit" ]; then \
	  echo "building Mailpit $(MAILPIT_VERSION) into $(MAILPIT_DIR)"; \
	  rm -rf "$(MAILPIT_DIR)/src" && mkdir -p "$(MAILPIT_DIR)/src" && cd "$(MAILPIT_DIR)/src" && \
	  printf 'module samspill.local/mailpit-build\n\ngo 1.26\n' > go.mod && \
	  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/axllent/mailpit"\n' > tools.go && \
	  GOFLAGS=-mod=mod $(GO) get github.com/axllent/mailpit@$(MAILPIT_VERSION) && \
	  GOFLAGS=-mod=mod $(GO) build -trimpath -o "$(MAILPIT_DIR)/mailpit.tmp" github.com/axllent/mailpit && \
	  mv "$(MAILPIT_DIR)/mailpit.tmp" "$(MAILPIT_DIR)/mailpit"; \
	fi

lint: fmt depcheck ## gofmt, go vet, staticcheck (pinned), the dependency rules and govulncheck (offline); bench/peers too
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	@# bench/peers is a module of its own (go test ./... skips it): vet it
	@# here so that its go.mod cannot fall behind the root's unnoticed.
	cd bench/peers && $(GO) vet ./...
	@$(MAKE) --no-print-directory vulncheck

vulncheck: vulndb ## govulncheck against the offline vulnerability database: fails on a vulnerable symbol the code reaches
	$(GO) run $(GOVULNCHECK) -db file://$(VULNDB_DIR) $(PKGS)

vulndb: ## build the offline Go vulnerability database from golang.org/x/vulndb (module proxy) into VULNDB_DIR
	@if [ ! -f "$(VULNDB_DIR)/index/db.json" ]; then \
	  echo "building the Go vulnerability database $(VULNDB_VERSION) into $(VULNDB_DIR)"; \
	  src=$$(cd / && GOFLAGS=-mod=mod $(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	  [ -d "$$src/data/osv" ] || { echo "vulndb: no data/osv in $$src"; exit 1; }; \
	  rm -rf "$(VULNDB_DIR).tmp" && mkdir -p "$$(dirname $(VULNDB_DIR))"; \
	  (cd / && $(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$src/data/osv" -out "$(VULNDB_DIR).tmp") && \
	  mv "$(VULNDB_DIR).tmp" "$(VULNDB_DIR)"; \
	fi

fmt: ## fail if gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

depcheck: ## domain imports only the standard library; only cmd names concrete adapters
	@scripts/depcheck.sh

bench: ## run the benchmarks (each reports its baseline and ratio from the same run; ~15 min)
	$(GO) test -run '^$$' -bench . -skip 'Read' -benchtime $(BENCHTIME) ./eventstore/...
	$(GO) test -run '^$$' -bench 'Read' -benchtime 200x ./eventstore/sqlite/
	$(GO) test -run '^$$' -bench . -benchtime 2000x ./http/
	SAMSPILL_BENCH_EVENTS=$(BENCH_EVENTS) $(GO) test -run '^$$' -bench 'RebuildAll|RebuildLayers' -benchtime 1x -timeout 30m ./projections/
	SAMSPILL_GROWTH_MAX=$(BENCH_EVENTS) $(GO) test -run '^$$' -bench Growth -benchtime 1x -timeout 30m ./projections/
	SAMSPILL_BENCH_EVENTS=$(BENCH_EVENTS) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./research/
	$(GO) test -run '^$$' -bench . -benchtime 20x ./web/

# Flags of bench/peers (`cd bench/peers && go run . -help`), e.g.
# PEERS_ARGS='-rounds 3 -only sqlite/scan'. PostgreSQL is measured when
# SAMSPILL_TEST_POSTGRES_URL is set (or -postgres is given).
PEERS_ARGS  ?=

bench-peers: ## samspill's event stores beside hallgren/eventsourcing's SQL store and raw baselines, same rounds (bench/peers, its own module; ~5 min)
	cd bench/peers && $(GO) run . $(PEERS_ARGS)

# Flags of cmd/samspill-load (`go run ./cmd/samspill-load --help`), e.g.
# LOAD_ARGS='--duration 30s --json load.json'. Not run in CI.
LOAD_ARGS   ?=

load: ## run serve on loopback over a generated log (50,000 events) and measure it at fixed request rates (~2 min)
	$(GO) run ./cmd/samspill-load $(LOAD_ARGS)

load-rss: ## the same over 1,000,000 events: serve's peak RSS with the projections caught up (~6 min)
	$(GO) run ./cmd/samspill-load --events 1000000 $(LOAD_ARGS)

fuzz: ## run every fuzz target for FUZZTIME (10s) each
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$target"; $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

clean: ## remove build output and the default data folder
	rm -rf bin $(DATA)
