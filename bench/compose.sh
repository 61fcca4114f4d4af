#!/usr/bin/env bash
# `compose up -d --wait` of a two-service app (a database with a named volume and a health
# check, a web service that waits for it to be healthy, a published port, the project's
# network) from nothing to all healthy, and `up -d` again with nothing changed:
# `berth compose` against `docker-compose` driving a private dockerd, interleaved, inside
# a network namespace of the script's own. Docker is measured when dockerd and
# docker-compose are installed (DOCKER=0 skips it): Debian's (apt-get install docker.io
# docker-compose), whose docker-compose 1.29 has no `--wait` (see dc-up-wait.sh below).
# Run as root: bash bench/compose.sh   (env: RUNS=20 WARMUP=2 BERTH_BIN= DOCKER=1)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

RUNS=${RUNS:-20}
WARMUP=${WARMUP:-2}
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be a positive number"
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/compose.sh"

# Everything below runs in a network namespace of its own: the project's bridge, its
# port and the daemons' networks never touch the host's.
if [[ -z ${BERTH_BENCH_NETNS:-} ]]; then
    exec env BERTH_BENCH_NETNS=1 unshare --net -- bash "$0" "$@"
fi
ip link set lo up

[[ -n ${BERTH_BIN:-} ]] || ensure_packages "${RUNTIME_PACKAGES[@]}"
build_or_fixtures
berth=${BERTH_BIN:-$(release_bin)}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-compose.XXXXXX")
engine="$work/berth-root"
dockerd_pid=""

cleanup() {
    set +e
    "$berth" --root "$engine" compose -f "$work/berth.yaml" -p bench down -v -t 0 >/dev/null 2>&1
    if [[ -n $dockerd_pid ]]; then
        docker-compose -f "$work/docker.yaml" -p bench down -v -t 0 >/dev/null 2>&1
        kill "$dockerd_pid" 2>/dev/null
        wait "$dockerd_pid" 2>/dev/null
    fi
    unmount_below "$work"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$work/template.yaml" <<'YAML'
services:
  db:
    image: berth-test/busybox:latest
    command: ["sh", "-c", "touch /data/ready; exec sleep 100000"]
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD-SHELL", "test -f /data/ready"]
      interval: 100ms
      retries: 100
    volumes:
      - {type: volume, source: data, target: /data}
  web:
    image: berth-test/busybox:latest
    command: ["sh", "-c", "exec sleep 100000"]
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "true"]
      interval: 100ms
      retries: 100
    ports:
      - {mode: ingress, target: 80, published: "PORT", protocol: tcp}
    depends_on:
      db: {condition: service_healthy}
volumes:
  data: {}
YAML
# Each engine publishes a port of its own: the interleaved runs overlap their projects.
sed 's/PORT/18080/' "$work/template.yaml" >"$work/berth.yaml"
sed 's/PORT/18081/' "$work/template.yaml" >"$work/docker.yaml"

mkdir -p "$engine"
"$berth" --root "$engine" load -i "$fixtures/busybox-save.tar" >/dev/null
b="$berth --root $engine compose -f $work/berth.yaml -p bench"
subjects_up=(--subject "berth=$b up -d --wait" --prepare "berth=$b down -v -t 0")
subjects_noop=(--subject "berth=$b up -d" --prepare "berth=$b up -d --wait")
skips=()
if [[ ${DOCKER:-1} == 0 ]]; then
    skips=(--skip "docker-compose=not measured (DOCKER=0)")
elif command -v dockerd >/dev/null && command -v docker-compose >/dev/null; then
    start_private_dockerd "$work/d"
    docker load -q -i "$fixtures/busybox-save.tar" >/dev/null
    d="docker-compose -f $work/docker.yaml -p bench"
    # Debian's docker-compose is 1.29, which has no `--wait`: `up -d` (which waits for
    # db's health before it starts web), then the same wait as `--wait`'s, for every
    # container to be healthy, polled as often as berth's.
    cat >"$work/dc-up-wait.sh" <<SH
set -e
$d up -d 2>/dev/null
until [[ \$(docker inspect -f '{{.State.Health.Status}}' bench_db_1 bench_web_1 2>/dev/null | sort -u) == healthy ]]; do
    sleep 0.05
done
SH
    subjects_up+=(--subject "docker-compose=bash $work/dc-up-wait.sh" --prepare "docker-compose=$d down -v -t 0")
    subjects_noop+=(--subject "docker-compose=$d up -d" --prepare "docker-compose=bash $work/dc-up-wait.sh")
else
    skips=(--skip "docker-compose=dockerd or docker-compose is not installed")
fi
log "compose up -d --wait, from nothing to all healthy"
python3 bench/timing.py --runs "$RUNS" --warmup "$WARMUP" --baseline berth \
    "${subjects_up[@]}" "${skips[@]}"
"$berth" --root "$engine" compose -f "$work/berth.yaml" -p bench down -v -t 0 >/dev/null 2>&1
[[ -n $dockerd_pid ]] && docker-compose -f "$work/docker.yaml" -p bench down -v -t 0 >/dev/null 2>&1
log "compose up -d again, nothing changed"
python3 bench/timing.py --runs "$RUNS" --warmup "$WARMUP" --baseline berth \
    "${subjects_noop[@]}" "${skips[@]}"
