#!/usr/bin/env bash
# Builds and installs berth (on PATH, with completions and a manual page), loads the
# busybox test image, starts a few containers to look at and opens the dashboard over them
# (on a terminal; one frame as text otherwise). Running it again reuses what it made.
# Run as root on Debian 12: bash scripts/demo.sh
# Env: BERTH_ROOT (engine state directory, default /var/lib/berth), PREFIX (default /usr/local).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

[[ $(id -u) -eq 0 ]] || die "containers need root: run it as root (bash scripts/demo.sh)"

ensure_packages "${RUNTIME_PACKAGES[@]}"
ensure_cargo

build_release_and_fixtures
install_berth

berth=$(release_bin)
# The default root is what a plain `berth` uses, so the hints below work as printed.
if [[ -n ${BERTH_ROOT:-} ]]; then
    export BERTH_ROOT
    root_hint="  (with BERTH_ROOT=$BERTH_ROOT set, as here)"
else
    root_hint=""
fi
echo "engine root: ${BERTH_ROOT:-/var/lib/berth (the default)}"

demo_containers "$berth" .fixtures

log "berth ps -a"
"$berth" ps -a

demo_dashboard "$berth" "$root_hint"
