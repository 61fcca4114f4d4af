#!/usr/bin/env bash
# Builds berth in release mode and installs it, with shell completions and a manual page.
# Run as root on Debian 12: bash scripts/install.sh
# Env: PREFIX (default /usr/local).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

[[ $(id -u) -eq 0 ]] || die "installing into ${PREFIX:-/usr/local} needs root: run it as root"
ensure_packages "${RUNTIME_PACKAGES[@]}"
ensure_cargo
log "cargo build --release"
cargo build --release --locked
install_berth
install_boot_unit
printf 'berth %s installed: try  berth --help,  man berth,  or berth to open the dashboard\n' \
    "$("$(release_bin)" --version | awk '{ print $2 }')"
