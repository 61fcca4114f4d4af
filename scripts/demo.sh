#!/usr/bin/env bash
# Builds berth, loads the busybox test image and starts a small container to look at.
# Run as root on Debian 12: sudo bash scripts/demo.sh
# Env: BERTH_ROOT (engine state directory, default /var/lib/berth).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

[[ $(id -u) -eq 0 ]] || die "containers need root: run sudo bash scripts/demo.sh"

ensure_packages "${RUNTIME_PACKAGES[@]}"
ensure_cargo

build_release_and_fixtures

export BERTH_ROOT="${BERTH_ROOT:-/var/lib/berth}"
berth="$PWD/target/release/berth"
echo "engine root: $BERTH_ROOT"

log "berth load -i .fixtures/busybox-save.tar"
"$berth" load -i .fixtures/busybox-save.tar

if "$berth" inspect --type container demo >/dev/null 2>&1; then
    log "Container 'demo' exists: berth start demo"
    "$berth" start demo
else
    log "berth run -d --name demo berth-test/busybox ..."
    "$berth" run -d --name demo berth-test/busybox sh -c 'while true; do date; sleep 2; done'
fi

log "berth ps"
"$berth" ps

sleep 3
log "berth logs --tail 3 demo"
"$berth" logs --tail 3 demo

cat <<MSG

The container 'demo' keeps running in the background (engine root $BERTH_ROOT).

The dashboard ('berth' with no arguments) is not built yet. Meanwhile, try:

  $berth images
  $berth ps -a
  $berth logs -f demo                       # Ctrl-C to stop following
  $berth exec demo ps
  $berth exec -it demo sh
  $berth run --rm berth-test/busybox cat /etc/motd
  $berth inspect demo
  $berth stop demo && $berth rm demo

Add --root DIR (or set BERTH_ROOT) to use another engine root.
MSG
