#!/usr/bin/env bash
# Memory per running container: COUNT containers running `sleep` under berth, then under
# podman (`--runtime runc`, conmon as its monitor), one set at a time. For each: the
# growth of /proc/meminfo's Shmem and the drop of MemAvailable over COUNT (the whole cost:
# monitor, container process, mounts, cgroups, any copy of a binary in shared memory), and
# the sum of the PSS (smaps_rollup) of the monitor processes (berth-monitor, conmon) over
# COUNT: the monitor's own share, copies of the binary included.
# Run as root: bash bench/footprint.sh   (env: COUNT=100 SETTLE=3)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

COUNT=${COUNT:-100}
SETTLE=${SETTLE:-3}
[[ $COUNT =~ ^[0-9]+$ && $COUNT -ge 1 ]] || die "COUNT must be a positive number"
[[ $SETTLE =~ ^[0-9]+$ ]] || die "SETTLE must be a number of seconds"
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/footprint.sh"

ensure_packages "${RUNTIME_PACKAGES[@]}"
ensure_cargo
build_release_and_fixtures
# podman is the comparison, not the subject: without it the berth figures still count.
podman_missing=""
if ! (ensure_packages podman conmon runc); then
    podman_missing="podman could not be installed (see apt-get above)"
fi

berth=${BERTH_BIN:-$(release_bin)} # BERTH_BIN: another build to measure
# Short: podman refuses a --runroot longer than 50 characters.
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-fp.XXXXXX")
engine="$work/berth-root"
pod="$work/p"
cgroup_parent="berth-bench-footprint-$$"
holder=""
podman_ready=""

cleanup() {
    set +e
    if [[ -d $engine ]]; then
        local ids
        ids=$("$berth" --root "$engine" ps -aq --no-trunc 2>/dev/null)
        # shellcheck disable=SC2086
        [[ -n $ids ]] && "$berth" --root "$engine" rm -f $ids >/dev/null 2>&1
    fi
    if [[ -n $holder ]]; then
        [[ -n $podman_ready ]] && podman_cmd rm -af -t 0 >/dev/null 2>&1
        kill "$holder" 2>/dev/null
        wait "$holder" 2>/dev/null
    fi
    # podman's cgroups, conmon's included: conmon leaves its own a moment after `rm`.
    local dir try
    for try in $(seq 50); do
        for dir in /sys/fs/cgroup/"$cgroup_parent" /sys/fs/cgroup/*/"$cgroup_parent"; do
            [[ -d $dir ]] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        compgen -G "/sys/fs/cgroup/*/$cgroup_parent" >/dev/null || [[ -d /sys/fs/cgroup/$cgroup_parent ]] || break
        sleep 0.1
    done
    unmount_below "$work"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$engine" "$pod"/{root,run,tmp}

# podman's holder: a private mount namespace in which /run and /var/lib are fresh tmpfs
# (Debian's podman 4.3 keeps runc state in /run/runc and a blob cache in
# /var/lib/containers whatever --root says), so the user's podman state is untouched.
unshare --mount --propagation private -- sh -c '
    mount -t tmpfs -o mode=0755 berth-bench-run /run &&
    mount -t tmpfs -o mode=0755 berth-bench-lib /var/lib &&
    exec sleep infinity' </dev/null &
holder=$!
wait_for_holder "$holder" "mount namespace"

podman_global=(
    /usr/bin/nsenter --mount="/proc/$holder/ns/mnt" --
    env TMPDIR="$pod/tmp" podman --root "$pod/root" --runroot "$pod/run"
    --tmpdir "$pod/tmp" --storage-driver overlay --cgroup-manager cgroupfs --events-backend none
)
podman_cmd() {
    "${podman_global[@]}" "$@" </dev/null
}

meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }

# pss_sum PID...: the sum of the PSS of the processes, in kB.
pss_sum() {
    local pid total=0 kb
    for pid in "$@"; do
        kb=$(awk '$1 == "Pss:" { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}

results=()
# measure NAME START_ONE MONITOR_PIDS: starts COUNT containers with START_ONE I, then
# reports per container what they cost; MONITOR_PIDS prints the monitors' PIDs.
measure() {
    local name=$1 start_one=$2 monitors=$3 i
    sync
    local shmem0 avail0
    shmem0=$(meminfo Shmem)
    avail0=$(meminfo MemAvailable)
    log "Starting $COUNT $name containers"
    for ((i = 0; i < COUNT; i++)); do
        "$start_one" "$i" >/dev/null
    done
    sleep "$SETTLE"
    local shmem1 avail1 pids pss
    shmem1=$(meminfo Shmem)
    avail1=$(meminfo MemAvailable)
    mapfile -t pids < <("$monitors")
    [[ ${#pids[@]} -eq $COUNT ]] || die "$name: found ${#pids[@]} monitors for $COUNT containers"
    pss=$(pss_sum "${pids[@]}")
    results+=("$(awk -v n="$name" -v c="$COUNT" -v s=$((shmem1 - shmem0)) -v a=$((avail0 - avail1)) -v p="$pss" \
        'BEGIN { printf "%-8s %10.2f %15.2f %18.2f", n, s / c / 1024, a / c / 1024, p / c / 1024 }')")
}

berth_start() {
    "$berth" --root "$engine" run -d --network none --name "fp-$1" berth-test/busybox sleep 100000 </dev/null
}
berth_monitors() {
    local record
    for record in "$engine"/containers/*/record.json; do
        python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["state"]["monitor"]["pid"])' "$record"
    done
}
podman_run=(run -d --runtime runc --network none --cgroup-parent "/$cgroup_parent"
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
podman_start() {
    podman_cmd "${podman_run[@]}" --name "fp-$1" berth-test/busybox sleep 100000
}
podman_monitors() {
    podman_cmd ps -q | while read -r id; do
        podman_cmd inspect --format '{{.State.ConmonPid}}' "$id"
    done
}

"$berth" --root "$engine" load -q -i .fixtures/busybox-save.tar >/dev/null
measure berth berth_start berth_monitors
log "Removing berth's containers"
# shellcheck disable=SC2046
"$berth" --root "$engine" rm -f $("$berth" --root "$engine" ps -aq --no-trunc) >/dev/null

if [[ -z $podman_missing ]]; then
    if ! out=$(podman_cmd load -q -i "$PWD/.fixtures/busybox-save.tar" 2>&1); then
        podman_missing="podman load failed: $(brief "$out")"
    else
        podman_ready=yes
        if ! out=$(podman_start probe 2>&1); then
            podman_missing="podman run failed: $(brief "$out")"
        else
            podman_cmd rm -f -t 0 fp-probe >/dev/null
            measure podman podman_start podman_monitors
            log "Removing podman's containers"
            podman_cmd rm -af -t 0 >/dev/null
        fi
    fi
fi

printf '\nmemory per running container, %s containers running sleep (MB, 1 MB = 1024 kB)\n' "$COUNT"
printf '%-8s %10s %15s %18s\n' subject Shmem MemAvailable "monitor PSS"
printf '%s\n' "${results[@]}"
[[ -n $podman_missing ]] && printf 'podman: not measured (%s)\n' "$podman_missing"
printf 'Shmem and MemAvailable are deltas of the whole machine (other work on it shows up);\n'
printf 'monitor PSS is the sum of the monitors'"'"' smaps_rollup Pss over the count.\n'
