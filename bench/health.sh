#!/usr/bin/env bash
# The cost of health checks with many containers: COUNT containers running `sleep`, first
# without a check, then with `--health-cmd true --health-interval 1s`. For each set, the
# CPU time over DURATION seconds of the monitors themselves (utime+stime of
# /proc/PID/stat) and of the probes they ran (cutime+cstime: each prober, the exec's
# joiner and the probe's process in the container, reaped by the monitor), as a share of
# one CPU, in total and per container.
# Run as root: bash bench/health.sh   (env: COUNT=100 DURATION=60 SETTLE=5)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

COUNT=${COUNT:-100}
DURATION=${DURATION:-60}
SETTLE=${SETTLE:-5}
[[ $COUNT =~ ^[0-9]+$ && $COUNT -ge 1 ]] || die "COUNT must be a positive number"
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 1 ]] || die "DURATION must be a number of seconds"
[[ $SETTLE =~ ^[0-9]+$ ]] || die "SETTLE must be a number of seconds"
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/health.sh"

# The runtime packages only where berth is built here; with BERTH_BIN, only the fixtures.
[[ -n ${BERTH_BIN:-} ]] || ensure_packages "${RUNTIME_PACKAGES[@]}"
build_or_fixtures

berth=${BERTH_BIN:-$(release_bin)} # BERTH_BIN: another build to measure
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-health.XXXXXX")
engine="$work/berth-root"

remove_all() {
    local ids
    ids=$("$berth" --root "$engine" ps -aq --no-trunc 2>/dev/null)
    # shellcheck disable=SC2086
    [[ -n $ids ]] && "$berth" --root "$engine" rm -f $ids >/dev/null 2>&1
    return 0
}
cleanup() {
    set +e
    [[ -d $engine ]] && remove_all
    unmount_below "$work"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$engine"

monitors() {
    local record
    for record in "$engine"/containers/*/record.json; do
        python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["state"]["monitor"]["pid"])' "$record"
    done
}

# ticks PID...: "own children written" CPU ticks summed over the processes (fields 14+15
# and 16+17 of /proc/PID/stat, counted after the command's name), and the bytes they and
# their reaped children sent to storage (write_bytes of /proc/PID/io).
ticks() {
    local pid own=0 kids=0 written=0 line rest
    for pid in "$@"; do
        line=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        rest=${line##*) }
        read -r -a f <<<"$rest"
        own=$((own + f[11] + f[12]))
        kids=$((kids + f[13] + f[14]))
        line=$(grep '^write_bytes:' "/proc/$pid/io" 2>/dev/null) || continue
        written=$((written + ${line#write_bytes: }))
    done
    echo "$own $kids $written"
}

hz=$(getconf CLK_TCK)
results=()
# measure NAME FLAGS...: starts COUNT containers with FLAGS, waits SETTLE, then samples
# the monitors' CPU over DURATION.
measure() {
    local name=$1 i
    shift
    log "Starting $COUNT containers: $name"
    for ((i = 0; i < COUNT; i++)); do
        "$berth" --root "$engine" run -d --network none --name "hc-$i" "$@" \
            berth-test/busybox sleep 100000 </dev/null >/dev/null
    done
    sleep "$SETTLE"
    local pids
    mapfile -t pids < <(monitors)
    [[ ${#pids[@]} -eq $COUNT ]] || die "$name: found ${#pids[@]} monitors for $COUNT containers"
    local before after since until
    since=$(date +%s.%N)
    before=$(ticks "${pids[@]}")
    log "Sampling the monitors' CPU for ${DURATION}s"
    # fsync(2) calls of the monitors and all they fork meanwhile, when perf is there.
    local syncs=-
    if command -v perf >/dev/null; then
        syncs=$(perf stat -x, -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync \
            -p "$(IFS=,; echo "${pids[*]}")" -- sleep "$DURATION" 2>&1 |
            awk -F, '/sys_enter_f/ { n += $1 } END { print n + 0 }') || syncs=-
    else
        sleep "$DURATION"
    fi
    after=$(ticks "${pids[@]}")
    until=$(date +%s.%N)
    # Each probe is an exec: its exec_start event counts it.
    local runs
    runs=$("$berth" --root "$engine" events --since "$since" --until "$until" --format json |
        grep -c '"Action":"exec_start' || true)
    local probes
    probes=$("$berth" --root "$engine" inspect --format '{{len .State.Health.Log}}' hc-0 2>/dev/null || echo -)
    results+=("$(awk -v n="$name" -v c="$COUNT" -v d="$DURATION" -v hz="$hz" -v b="$before" -v a="$after" -v r="$runs" -v s="$syncs" '
        BEGIN {
            split(b, x, " "); split(a, y, " ")
            own = (y[1] - x[1]) / hz / d * 100; kids = (y[2] - x[2]) / hz / d * 100
            per = r > 0 ? sprintf("%.2f", (y[1] - x[1] + y[2] - x[2]) / hz * 1000 / r) : "-"
            kib = r > 0 ? sprintf("%.1f", (y[3] - x[3]) / 1024 / r) : "-"
            fs = r > 0 && s != "-" ? sprintf("%.2f", s / r) : "-"
            printf "%-16s %9.2f %9.2f %9.3f %11.3f %8d %10s %10s %11s", n, own, kids, own / c, kids / c, r, per, kib, fs
        }')")
    log "Removing the containers (hc-0's log held $probes results)"
    remove_all
}

"$berth" --root "$engine" load -q -i "$fixtures/busybox-save.tar" >/dev/null
measure "no check"
measure "check every 1s" --health-cmd true --health-interval 1s

printf '\nCPU of %s monitors over %ss, %% of one CPU (total, then per container)\n' "$COUNT" "$DURATION"
printf '%-16s %9s %9s %9s %11s %8s %10s %10s %11s\n' set monitors probes "mon/ctr" "probes/ctr" "probes" "ms/probe" "KiB/probe" "fsync/probe"
printf '%s\n' "${results[@]}"
printf 'monitors: utime+stime of the monitor processes; probes: cutime+cstime (the probers\n'
printf 'and everything they ran, reaped by the monitors); probes: how many ran (exec_start\n'
printf 'events); ms/probe: CPU ms of monitors and probes per probe run; KiB/probe: bytes\n'
printf 'they sent to storage per probe run (write_bytes); fsync/probe: their fsync and\n'
printf 'fdatasync calls per probe run (perf, - without it). Other work is noise.\n'
