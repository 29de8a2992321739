# The two commands of the README: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
CARGO ?= cargo
DATA ?= ./var
LISTEN ?= 127.0.0.1:8080

.PHONY: run test bench bootstrap build lint deb deb-check

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

# The Debian package (cargo-deb; the metadata is [package.metadata.deb] in Cargo.toml), written to
# target/debian/ (or $CARGO_TARGET_DIR/debian/). A package goes to appliances in production, so it is
# built with the release profile, although its first build compiles RocksDB once more (25 minutes on
# two cores, measured with a warm registry: 9.7 MB package, its line tables in a separate
# sohoa-dbgsym .ddeb). `make deb DEB_PROFILE=dev` packages the dev build that `make run` and `make bench`
# use instead (dependencies optimised, the workspace's own crates not); cargo-deb warns that it does
# not support that profile, and strips its debug information. `DEB_FLAGS=--no-build` packages the
# binary already built without running cargo build.
DEB_PROFILE ?= release
DEB_FLAGS ?=
deb: bootstrap
	@command -v cargo-deb >/dev/null || $(CARGO) install cargo-deb --locked
	$(CARGO) deb --profile $(DEB_PROFILE) $(DEB_FLAGS)

# Installs the newest package on this machine, runs it and removes it again (scripts/check-deb.sh).
# Needs root and changes the system, hence not part of `make test`. `DEB=path.deb` names a package.
deb-check:
	scripts/check-deb.sh $(DEB)
