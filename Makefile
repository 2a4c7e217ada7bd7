# rootwalk — see README.md. `make run` and `make test` are all a new machine needs.

GO        ?= go
BIN       := bin/rootwalk
MODULE    := github.com/rootwalk/rootwalk
FUZZTIME  ?= 30s
TEST_FUZZTIME ?= 10s
LISTEN    ?= 127.0.0.1:5335
ADMIN     ?= 127.0.0.1:9153
GOBIN     := $(shell $(GO) env GOPATH)/bin
export PATH := $(PATH):$(GOBIN)

.PHONY: fleet bench-fleet build install run test lint vet staticcheck golangci-lint check-imports fmt-check fuzz bench bench-go soak clean

build:
	$(GO) build -o $(BIN) ./cmd/rootwalk

## install: build, then install the binary as $(DESTDIR)$(PREFIX)/bin/rootwalk,
## the systemd unit as $(DESTDIR)/etc/systemd/system/rootwalk.service (its
## ExecStart= in $(PREFIX)) and the example config as
## $(DESTDIR)/etc/rootwalk/rootwalk.yaml, unless that file is there already:
## an operator's config is never overwritten. It is world-readable, since the
## service's user is made up at start (DynamicUser=); secrets go in
## /etc/rootwalk/rootwalk.env (README.md, "Running as the machine's resolver").
PREFIX ?= /usr/local
install: build
	install -D -m 0755 "$(BIN)" "$(DESTDIR)$(PREFIX)/bin/rootwalk"
	install -D -m 0644 deploy/systemd/rootwalk.service "$(DESTDIR)/etc/systemd/system/rootwalk.service"
	sed -i 's|^ExecStart=/usr/local/bin/rootwalk |ExecStart=$(PREFIX)/bin/rootwalk |' "$(DESTDIR)/etc/systemd/system/rootwalk.service"
	@if [ -e "$(DESTDIR)/etc/rootwalk/rootwalk.yaml" ]; then \
		echo "kept $(DESTDIR)/etc/rootwalk/rootwalk.yaml (the new example is deploy/rootwalk.example.yaml)"; \
	else \
		echo install -D -m 0644 deploy/rootwalk.example.yaml "$(DESTDIR)/etc/rootwalk/rootwalk.yaml"; \
		install -D -m 0644 deploy/rootwalk.example.yaml "$(DESTDIR)/etc/rootwalk/rootwalk.yaml"; \
	fi

## run: the resolver with the embedded lab, answering at $(LISTEN) (admin API at $(ADMIN)).
run: build
	./$(BIN) serve --lab --listen $(LISTEN) --admin-listen $(ADMIN) $(ARGS)

## fleet: the lab, Redis, three rootwalk instances sharing it and dnsdist in
## front, on loopback; prints where to point dig (deploy/fleet.sh).
fleet: build
	./deploy/fleet.sh

## test: every check CI runs, then the tests with the race detector, then
## each fuzz target for $(TEST_FUZZTIME).
test: lint
	$(GO) test -race -shuffle=on -count=1 -timeout=10m ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

lint: fmt-check vet check-imports staticcheck golangci-lint

fmt-check:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Linters run when installed (.ci/run installs them); they are never in go.mod.
staticcheck:
	@if command -v staticcheck >/dev/null; then echo staticcheck ./...; staticcheck ./...; \
	else echo "staticcheck not installed; skipped (go install honnef.co/go/tools/cmd/staticcheck@v0.8.2)"; fi

golangci-lint:
	@if command -v golangci-lint >/dev/null; then echo golangci-lint run; golangci-lint run ./...; \
	else echo "golangci-lint not installed; skipped (go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0)"; fi

# check-imports keeps the arrows of STYLE.md section 1 pointing one way:
# each package may depend (directly or not) only on the module's packages
# listed for it.
check-imports:
	@fail=0; \
	for rule in "config:" "cache:internal" "resolver:internal" "zones:internal" "internal:" "server:resolver cache internal"; do \
		pkg=$${rule%%:*}; allowed=" $${rule#*:} "; \
		for dep in $$($(GO) list -deps ./$$pkg/... | grep "^$(MODULE)/" | sed "s|^$(MODULE)/||" | cut -d/ -f1 | sort -u); do \
			[ "$$dep" = "$$pkg" ] && continue; \
			case "$$allowed" in *" $$dep "*) ;; *) echo "check-imports: $$pkg must not import $$dep"; fail=1;; esac; \
		done; \
	done; \
	[ $$fail = 0 ] && echo "check-imports: ok"; exit $$fail

## fuzz: each fuzz target for $(FUZZTIME). A run that fails without writing a
## failing input (testdata/fuzz/<target>/) is Go 1.26's fuzz-coordinator race at
## the -fuzztime deadline ("context deadline exceeded", golang/go#75804, fixed in
## Go 1.27): it is run once more, and only a second failure, or any written
## input, fails.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$target"; \
			before=$$(ls "$$dir/testdata/fuzz/$$target" 2>/dev/null | wc -l); \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg && continue; \
			after=$$(ls "$$dir/testdata/fuzz/$$target" 2>/dev/null | wc -l); \
			if [ "$$after" != "$$before" ]; then exit 1; fi; \
			echo "fuzz $$pkg $$target: failed without a failing input; once more"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## soak: 10 minutes of dnsperf (cached, cold and NXDOMAIN names) beside malformed packets
## against `serve --lab`, checking that nothing is lost and nothing grows (not in CI).
soak:
	RWTEST_SOAK=$${SOAK:-10m} $(GO) test -count=1 -timeout 40m -run '^TestSoak$$' -v ./integration/

## bench-go: the Go benchmarks (make test only compiles them).
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

## bench: rootwalk beside Unbound under dnsperf, side by side (as root: the lab needs
## port 53). Installs dnsperf and unbound with apt-get if missing, with a policy-rc.d
## that keeps the unbound service from starting; prints the table and writes it to
## integration/bench/results.md. About 6 minutes.
bench: build
	./integration/bench/need.sh dnsperf:dnsperf unbound:unbound
	RWTEST_BENCH=1 $(GO) test -count=1 -timeout 40m -run '^TestBench$$' -v ./integration/bench/

## bench-fleet: three instances behind dnsdist on the lab's mixed workload, with
## and without the Redis tier, and the latency of an answer from Redis. Installs
## dnsperf, redis-server and dnsdist if missing; writes
## integration/bench/fleet-results.md. About 6 minutes.
bench-fleet: build
	./integration/bench/need.sh dnsperf:dnsperf redis-server:redis-server dnsdist:dnsdist
	RWTEST_BENCH_FLEET=1 $(GO) test -count=1 -timeout 40m -run '^TestBenchFleet$$' -v ./integration/bench/

clean:
	rm -rf bin
