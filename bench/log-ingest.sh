#!/usr/bin/env bash
# Log ingest: how fast a container's output reaches its log. One container prints SIZE
# bytes of 72-byte lines (`yes LINE | head -c SIZE`, busybox) and exits; timed from
# `run -d` until `wait` returns, for berth (json-file log) and podman --runtime runc
# (conmon, podman's default k8s-file log), beside the same producer writing to /dev/null
# (the floor) and each runtime's start-up with no output. Engine root and podman's storage
# on a tmpfs; interleaved runs; every container removed before the next run, untimed.
# Run as root: bash bench/log-ingest.sh   (env: RUNS=5 WARMUP=1 SIZE=1000000000)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
SIZE=${SIZE:-1000000000}
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be a positive number"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a number"
[[ $SIZE =~ ^[0-9]+$ && $SIZE -ge 1 ]] || die "SIZE must be a positive number of bytes"
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/log-ingest.sh"

ensure_packages "${RUNTIME_PACKAGES[@]}"
ensure_cargo
build_release_and_fixtures

# podman is the comparison, not the subject: without it the berth figures still count.
podman_missing=""
if ! (ensure_packages podman conmon runc); then
    podman_missing="podman could not be installed (see apt-get above)"
fi

berth=${BERTH_BIN:-$(release_bin)} # BERTH_BIN: another build to measure
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-logs.XXXXXX")
engine="$work/berth-root"
pod="$work/podman"
cgroup_parent="berth-bench-logs-$$"
holder=""
podman_ready="" # set once podman_cmd can run: cleanup then removes its containers
b=("$berth" --root "$engine")

cleanup() {
    set +e
    if [[ -d $engine ]]; then
        local ids
        ids=$("${b[@]}" ps -aq --no-trunc 2>/dev/null)
        # shellcheck disable=SC2086
        [[ -n $ids ]] && "${b[@]}" rm -f $ids >/dev/null 2>&1
    fi
    if [[ -n $holder ]] && kill -0 "$holder" 2>/dev/null; then
        [[ -n $podman_ready ]] && podman_cmd rm -af -t 0 >/dev/null 2>&1
        kill "$holder" 2>/dev/null
        wait "$holder" 2>/dev/null
    fi
    # podman's cgroups (--cgroup-parent below): a name of this run only, emptied by rm.
    local dir
    for dir in /sys/fs/cgroup/"$cgroup_parent" /sys/fs/cgroup/*/"$cgroup_parent"; do
        [[ -d $dir ]] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    unmount_below "$work"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The disk is noisy and shared: both logs go to a tmpfs (pages are taken as written; the
# previous run's container and log are removed before each run).
mount -t tmpfs -o size=$((4 * SIZE + (1 << 30))),mode=0700 berth-bench-logs "$work"
mkdir -p "$engine" "$pod"/{root,runroot,tmp}

# 71 characters and the newline `yes` adds: a 72-byte line, like a typical log line.
line="2026-12-06T11:00:00.000Z INFO GET /api/v1/items status=200 took=1.2ms ok"
line=${line:0:71}
[[ ${#line} -eq 71 ]] || die "the bench line is not 71 characters"
produce="yes '$line' | head -c $SIZE"

# podman in a private mount namespace with fresh /run and /var/lib: Debian's podman 4.3
# keeps runc state in /run/runc and a blob cache in /var/lib/containers whatever --root
# says (see network.sh). No network: --network none for both runtimes.
unshare --mount --propagation private -- sh -c '
    mount -t tmpfs -o mode=0755 berth-bench-run /run &&
    mount -t tmpfs -o mode=0755 berth-bench-lib /var/lib &&
    exec sleep infinity' </dev/null &
holder=$!
wait_for_holder "$holder" "mount namespace"
podman_global=(
    /usr/bin/nsenter --mount="/proc/$holder/ns/mnt" --
    env TMPDIR="$pod/tmp" podman --root "$pod/root" --runroot "$pod/runroot"
    --tmpdir "$pod/tmp" --storage-driver overlay --cgroup-manager cgroupfs --events-backend none
)
podman_cmd() {
    "${podman_global[@]}" "$@" </dev/null
}
[[ -z $podman_missing ]] && podman_ready=yes

subjects=()
prepares=()
skips=()
q() { printf '%q ' "$@"; }

# check_log NAME BYTES: the log holds all the output (the lines, newlines included).
check_log() {
    local name=$1 got=$2
    [[ $got -eq $SIZE ]] || die "$name: the log holds $got bytes of output, not $SIZE"
}

log "Probing berth (one run of the full size, checked)"
"${b[@]}" load -q -i .fixtures/busybox-save.tar >/dev/null
berth_run=("${b[@]}" run -d --network none --name ingest-berth berth-test/busybox sh -c)
"${berth_run[@]}" "$produce" >/dev/null
"${b[@]}" wait ingest-berth >/dev/null
check_log berth "$("${b[@]}" logs ingest-berth | wc -c)"
# One name per rm: a missing one must not keep the other.
berth_rm="sh -c $(q "for c in ingest-berth ingest-berth-0; do $(q "${b[@]}") rm -f \$c >/dev/null 2>&1; done; true")"
subjects+=(--subject "berth=$(q "${berth_run[@]}" "$produce") && $(q "${b[@]}" wait ingest-berth)")
prepares+=(--prepare "berth=$berth_rm")
subjects+=(--subject "berth-0=$(q "${b[@]}" run -d --network none --name ingest-berth-0 berth-test/busybox true) && $(q "${b[@]}" wait ingest-berth-0)")
prepares+=(--prepare "berth-0=$berth_rm")
subjects+=(--subject "producer=$(q "${b[@]}" run --rm --network none berth-test/busybox sh -c "$produce >/dev/null")")

log "Probing podman"
podman_note=""
if [[ -z $podman_missing ]]; then
    podman_run=(run -d --runtime runc --network none --cgroup-parent "/$cgroup_parent")
    if ! out=$(podman_cmd load -q -i "$PWD/.fixtures/busybox-save.tar" 2>&1); then
        podman_missing="podman load failed: $(brief "$out")"
    elif ! out=$(podman_cmd run --rm "${podman_run[@]:1}" berth-test/busybox true 2>&1); then
        # podman asks runc for RLIMIT_NOFILE 1048576 and a large RLIMIT_NPROC, which need
        # CAP_SYS_RESOURCE above the hard limits: ask for small ones, as a user would.
        if grep -q 'rlimit' <<<"$out"; then
            podman_run+=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
            podman_note="podman with --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 (its defaults need CAP_SYS_RESOURCE)"
            if ! out=$(podman_cmd run --rm "${podman_run[@]:1}" berth-test/busybox true 2>&1); then
                podman_missing="podman run failed: $(brief "$out")"
            fi
        else
            podman_missing="podman run failed: $(brief "$out")"
        fi
    fi
fi
if [[ -z $podman_missing ]]; then
    podman_cmd "${podman_run[@]}" --name ingest-podman berth-test/busybox sh -c "$produce" >/dev/null
    podman_cmd wait ingest-podman >/dev/null
    check_log podman "$(podman_cmd logs ingest-podman | wc -c)"
    driver=$(podman_cmd inspect --format '{{.HostConfig.LogConfig.Type}}' ingest-podman)
    podman_rm="sh -c $(q "for c in ingest-podman ingest-podman-0; do $(q "${podman_global[@]}") rm -f -t 0 \$c </dev/null >/dev/null 2>&1; done; true")"
    subjects+=(--subject "podman=$(q "${podman_global[@]}" "${podman_run[@]}" --name ingest-podman berth-test/busybox sh -c "$produce") && $(q "${podman_global[@]}" wait ingest-podman)")
    prepares+=(--prepare "podman=$podman_rm")
    subjects+=(--subject "podman-0=$(q "${podman_global[@]}" "${podman_run[@]}" --name ingest-podman-0 berth-test/busybox true) && $(q "${podman_global[@]}" wait ingest-podman-0)")
    prepares+=(--prepare "podman-0=$podman_rm")
else
    skips+=(--skip "podman=unavailable: $podman_missing")
    printf 'podman cannot run here (%s); measuring berth only\n' "$podman_missing" >&2
fi

log "Timing $RUNS interleaved runs each (after $WARMUP warm-ups)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
table=$(python3 bench/timing.py --runs "$RUNS" --warmup "$WARMUP" --baseline berth \
    --bytes "$SIZE" \
    --title "log ingest: $SIZE bytes of 72-byte lines, run -d to wait (tmpfs, $(nproc) CPUs, load $load_before)" \
    "${subjects[@]}" "${prepares[@]}" "${skips[@]}" --ratio "podman / berth >= 1")
printf '%s\n' "$table"
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
# The rate of the log alone: the start-up (the -0 runs) taken off each median.
awk -v size="$SIZE" '
    $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9.]+$/ { median[$1] = $3 }
    END {
        for (s in median) if (s == "berth" || s == "podman") {
            net = median[s] - median[s "-0"]
            if (net > 0) { rate[s] = size / 1e6 / (net / 1000); printf "%s: %.0f MB/s net of start-up (%.0f ms)\n", s, rate[s], net }
        }
        if (rate["berth"] && rate["podman"]) printf "berth / podman net ingest rate: %.2fx\n", rate["berth"] / rate["podman"]
    }' <<<"$table"
[[ -n $podman_note ]] && printf '%s\n' "$podman_note"
[[ -z $podman_missing ]] && printf 'podman %s, conmon %s, runc %s, log driver %s (podman'"'"'s default)\n' \
    "$(podman_cmd version --format '{{.Client.Version}}' 2>/dev/null)" \
    "$(conmon --version | awk 'NR == 1 { print $3 }')" \
    "$(runc --version | awk 'NR == 1 { print $3 }')" "$driver"
true
