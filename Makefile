# The two commands of the README: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
CARGO ?= cargo
DATA ?= ./var
LISTEN ?= 127.0.0.1:8080

.PHONY: run test bench bootstrap build lint

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	$(CARGO) build --bin sohoa

# Starts the appliance with its embedded default: data under ./var, the seal key generated on first
# start, an admin account whose password is written to ./var/initial-admin-password.
run: build
	$(CARGO) run --quiet --bin sohoa -- --data $(DATA) serve --listen $(LISTEN)

test: bootstrap
	$(CARGO) test --workspace --no-fail-fast

# Benchmarks against the peers measured in the same run (BENCHMARKS.md). Built with the dev profile,
# whose dependencies are optimised, so that RocksDB is not compiled a second time for release.
# `make bench BENCH=capture` runs one section.
bench: bootstrap
	$(CARGO) bench --profile dev --bench bench -- $(BENCH)

lint: bootstrap
	$(CARGO) clippy --workspace --all-targets -- -D warnings
