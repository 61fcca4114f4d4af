#!/usr/bin/env bash
# The full check: formatting, lints, docs, dependency policy, release build, fixtures,
# every test.
# Run as root on Debian 12: bash scripts/test.sh
# Env: TEST_THREADS=N passes --test-threads=N to the test binaries.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

[[ $(id -u) -eq 0 ]] || die "the tests create namespaces, mounts and cgroups: run it as root (bash scripts/test.sh)"

registry_was_installed=$(dpkg-query -W -f='${Status}' docker-registry 2>/dev/null || true)
ensure_packages "${RUNTIME_PACKAGES[@]}" runc crun tmux gcc libc6-dev docker-registry skopeo apache2-utils podman
# The tests start their own registries on 127.0.0.1. Debian's package also starts one as
# a service listening on every interface: if this run installed it, stop that one.
if [[ $registry_was_installed != *"ok installed"* ]] && command -v systemctl >/dev/null &&
    [[ -d /run/systemd/system ]]; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
ensure_cargo
ensure_cargo_deny

log "cargo fmt --check"
cargo fmt --all --check

log "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo doc --workspace --no-deps (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

# Licenses, duplicate versions and sources, by deny.toml. The advisories check needs the
# RustSec database, fetched from GitHub: this machine reaches only the crates registry,
# so it is not run here (run `cargo deny check advisories` where GitHub is reachable).
log "cargo deny check licenses bans sources"
cargo deny --locked check licenses bans sources

# Builds into .fixtures under the harness's lock file (tests/common/mod.rs).
build_release_and_fixtures
export BERTH_FIXTURES="$PWD/.fixtures"

# Crash points (crates/engine/src/faults.rs) exist for the fault-injection tests only.
if grep -q -a BERTH_CRASH_AT "$(release_bin)"; then
    die "the release binary carries crash points: they must be compiled out"
fi

# The test binaries are few (tests/{engine,cli,ui,security}/main.rs, tests/common shared);
# the fuzz corpus replay (tests/engine/fuzz_corpus.rs) runs among them.
log "cargo test"
# Rendered frames are reviewed insta snapshots: a mismatch fails and nothing new is written.
export INSTA_UPDATE=no
test_args=()
if [[ -n ${TEST_THREADS:-} ]]; then
    test_args=(-- "--test-threads=$TEST_THREADS")
fi
cargo test --workspace --locked --no-fail-fast "${test_args[@]}"

pending=$(find tests src -name '*.snap.new' -o -name '*.pending-snap' | head -5)
[[ -z $pending ]] || die "unreviewed insta snapshots (review with cargo insta review): $pending"

log "All checks passed"
