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

berth="$PWD/target/release/berth"
# The default root is what a plain `berth` uses, so the hints below work as printed.
if [[ -n ${BERTH_ROOT:-} ]]; then
    export BERTH_ROOT
    root_hint="  (with BERTH_ROOT=$BERTH_ROOT set, as here)"
else
    root_hint=""
fi
echo "engine root: ${BERTH_ROOT:-/var/lib/berth (the default)}"

log "berth load -i .fixtures/busybox-save.tar"
"$berth" load -i .fixtures/busybox-save.tar

if "$berth" inspect --type container demo >/dev/null 2>&1; then
    log "Container 'demo' exists: berth start demo"
    "$berth" start demo
else
    log "berth run -d --name demo berth-test/busybox ..."
    "$berth" run -d --name demo berth-test/busybox sh -c 'while true; do date; sleep 2; done'
fi

# A few more to look at: a web server with a volume on a network of its own, its port
# published on a free port of 127.0.0.1, a finished job with a diff, one created but never
# started.
if ! "$berth" inspect --type container demo-web >/dev/null 2>&1; then
    "$berth" volume create demo-data >/dev/null
    "$berth" network create demo-net >/dev/null 2>&1 || true
    "$berth" run -d --name demo-web --network demo-net -p 127.0.0.1::80 -v demo-data:/data \
        -m 64m berth-test/busybox \
        sh -c 'httpd -p 80 -h /data; while true; do echo "$(date) served" >> /data/access.log; sleep 1; done' >/dev/null
    "$berth" run --name demo-job berth-test/busybox \
        sh -c 'mkdir /report; echo done > /report/result; rm /bin/cat' >/dev/null || true
    "$berth" create --name demo-idle berth-test/busybox sleep 1000 >/dev/null
fi

log "berth ps -a"
"$berth" ps -a

# What to try next: after the dashboard on a terminal, after the frame otherwise.
hints() {
    cat <<MSG

$1
Also try:

  berth ps -a
  berth logs -f demo                       # Ctrl-C to stop following
  berth exec -it demo sh
  berth port demo-web                      # where its httpd answers: http://ADDRESS/access.log
  berth ui --once --view network --select demo-net
  berth ui --once --view layers --select berth-test/busybox
  man berth                                # every verb; completions for bash, zsh and fish are installed

Add --root DIR (or set BERTH_ROOT) to use another engine root.
MSG
}

if [[ -t 0 && -t 1 ]]; then
    log "berth (the dashboard: ? for keys, q to quit)"
    status=0
    "$berth" || status=$?
    hints "'berth' with no arguments opens the dashboard again$root_hint."
    exit "$status"
fi

log "berth ui --once (no terminal here, so one frame as text)"
"$berth" ui --once

hints "On a terminal, 'berth' with no arguments opens the dashboard over these containers$root_hint."
