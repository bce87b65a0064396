# genesys-om-handover: build the component, run the tests, show the demo.
# Every target installs what it needs (the wasm32-wasip2 target, rustfmt, clippy).

CARGO ?= cargo
WASM  := target/genesys-om-handover.wasm
GUEST := target/wasm32-wasip2/release/genesys_om_handover.wasm

.PHONY: all setup redis build test-components test unit integration demo demo-serve lint wit fuzz bench sizes loopback cli-smoke node-smoke clean

all: build

setup:
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy

## redis: the distribution's redis-server, for the tests that run their own on loopback
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
redis:
	@command -v redis-server >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y redis-server)

## build: the release component, written to target/genesys-om-handover.wasm, then shrunk by
## binaryen -Oz (through jco, pinned in host-test/node/package.json) and without its debug
## names: host-test/node/shrink.mjs. `make build OPT=0` ships the compiler's output as is.
OPT ?= 1
JCO := host-test/node/node_modules/.bin/jco
ifeq ($(OPT),0)
ship = cp $(1) $(2) && rm -f $(2).stamp
SHIP_DEPS :=
else
ship = node host-test/node/shrink.mjs $(1) $(2)
SHIP_DEPS := $(JCO)
endif

$(JCO): host-test/node/package.json
	cd host-test/node && npm install --no-audit --no-fund
	@touch $(JCO)

## The Node.js peer service of `make bench` needs the Redis client pinned in the same
## package.json (installed by the same `npm install`).
NODE_REDIS := host-test/node/node_modules/redis/package.json
$(NODE_REDIS): $(JCO)
	@test -f $@ || (cd host-test/node && npm install --no-audit --no-fund)
	@touch $@

build: setup $(SHIP_DEPS)
	$(CARGO) build --release --target wasm32-wasip2 -p genesys-om-handover --lib
	@$(call ship,$(GUEST),$(WASM))
	@echo "component: $(WASM) ($$(wc -c < $(WASM)) bytes; compiler output $$(wc -c < $(GUEST)))"

## test-components: the components only the integration tests load: target/misbehave.wasm
## (breaks the host's limits on purpose) and target/genesys-om-handover-v2.wasm (the same
## component tagged v2, for the hot-swap tests of `host-test serve`)
test-components: setup $(SHIP_DEPS)
	$(CARGO) build --release --target wasm32-wasip2 -p misbehave --lib
	@cp target/wasm32-wasip2/release/misbehave.wasm target/misbehave.wasm
	GENESYS_OM_BUILD_TAG=v2 CARGO_TARGET_DIR=target/v2 $(CARGO) build --release --target wasm32-wasip2 -p genesys-om-handover --lib
	@$(call ship,target/v2/wasm32-wasip2/release/genesys_om_handover.wasm,target/genesys-om-handover-v2.wasm)

## test: native unit tests of every crate, then the one integration test binary
## (host-test/cli/tests/all) against the release component
test: build test-components redis unit integration

unit: setup redis
	$(CARGO) test -p genesys-om-handover --lib --features genesys-om-handover/testing
	$(CARGO) test -p genesys-om-host -p genesys-sim -p handover-testkit --lib

integration: build test-components redis
	$(CARGO) test -p host-test

## demo: a whole handover against the local Genesys simulator
demo: build
	$(CARGO) run -q -p host-test -- demo

## demo-serve: the same through `host-test serve` (HTTP API, webhooks, long-poll, metrics)
demo-serve: build
	$(CARGO) run -q -p host-test -- demo serve

## lint: formatting and clippy (host and component code)
lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --target wasm32-wasip2 -p genesys-om-handover -p misbehave --lib -- -D warnings

## wit: print the built component's WIT (needs wasm-tools; installed when missing)
wit: build
	@command -v wasm-tools >/dev/null || $(CARGO) install --locked wasm-tools
	wasm-tools component wit $(WASM)

## bench: component and native figures side by side, then `serve --kv redis://` and the
## Node.js peer service under one load generator (table + target/bench/bench.json)
bench: build redis $(NODE_REDIS)
	$(CARGO) run -q --profile bench-host -p host-test -- bench

## sizes: where the component's bytes go, by crate (twiggy over the unstripped core module
## of the release build; installed when missing)
sizes: setup
	@command -v twiggy >/dev/null || $(CARGO) install --locked twiggy
	CARGO_PROFILE_RELEASE_STRIP=false CARGO_TARGET_DIR=target/sizes RUSTFLAGS="-C target-feature=+simd128 -C link-arg=--skip-wit-component" \
	  $(CARGO) build -q --release --target wasm32-wasip2 -p genesys-om-handover --lib
	twiggy top -n 1000000 -f csv target/sizes/wasm32-wasip2/release/genesys_om_handover.wasm > target/sizes/top.csv
	node host-test/node/sizes.mjs target/sizes/top.csv

## loopback: a test build whose `test-genesys-base-url` setting may point at the simulator
## (hosts without a request hook need it); never the release component
LOOPBACK_WASM := target/genesys-om-handover-loopback.wasm
loopback: setup $(SHIP_DEPS)
	CARGO_TARGET_DIR=target/loopback $(CARGO) build --release --target wasm32-wasip2 -p genesys-om-handover --lib --features loopback-genesys
	@$(call ship,target/loopback/wasm32-wasip2/release/genesys_om_handover.wasm,$(LOOPBACK_WASM))

## cli-smoke: the component under the plain wasmtime CLI against the simulator
WASMTIME_VERSION := 48.0.8
cli-smoke: loopback
	@wasmtime --version 2>/dev/null | grep -q "$(WASMTIME_VERSION)" || $(CARGO) install --locked wasmtime-cli --version $(WASMTIME_VERSION) \
	  --no-default-features --features run,cranelift,component-model,wasi-http,wasi-config,wasi-keyvalue,parallel-compilation
	$(CARGO) build -q -p host-test
	bash host-test/smoke/cli.sh

## node-smoke: the component transpiled by jco, in Node.js, against the simulator
node-smoke: loopback
	$(CARGO) build -q -p host-test
	cd host-test/node && npm install --no-audit --no-fund && npm run -s transpile && npm run -s smoke

## fuzz: every cargo-fuzz target for FUZZ_SECONDS each (needs nightly; installed when missing)
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := signature flatten webhook end_event
fuzz:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@command -v cargo-fuzz >/dev/null || $(CARGO) install --locked cargo-fuzz
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  (cd fuzz && cargo +nightly fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048) || exit 1; \
	done

clean:
	$(CARGO) clean
