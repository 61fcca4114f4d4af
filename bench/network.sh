#!/usr/bin/env bash
# Container start-to-exit latency on a bridge: `berth run --rm berth-test/busybox true` on
# the default bridge, the same with `--network none` and with `-p 8080:80`, and
# `podman run --rm` (Debian's podman, runc, netavark) on podman's default bridge.
# Interleaved runs, all inside a network namespace this script makes and holds: the
# host's links, routes and firewall are never touched. With BASE_BIN (another build, e.g.
# main's) its `run --rm` on the bridge and with `--network none` join the same interleaved
# runs (base, base-none), with an engine root of their own. SETTLE=S pauses S seconds
# (untimed) before each run, so the kernel's teardown of the last run's network namespace,
# which it does in a worker after the run returned, is not billed to the next run.
# Run as root: bash bench/network.sh   (env: RUNS=30 WARMUP=3 SETTLE=0 BERTH_BIN= BASE_BIN=)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be a positive number"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a number"
SETTLE=${SETTLE:-0}
[[ $SETTLE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "SETTLE must be a number of seconds"
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/network.sh"

ensure_packages "${RUNTIME_PACKAGES[@]}" nftables
ensure_cargo
build_release_and_fixtures

# podman is the comparison, not the subject: without it the berth figures still count.
podman_missing=""
if ! (ensure_packages podman netavark iptables runc); then
    podman_missing="podman could not be installed (see apt-get above)"
fi

berth=${BERTH_BIN:-$(release_bin)} # BERTH_BIN: another build to measure
base=${BASE_BIN:-} # BASE_BIN: a build to compare with, interleaved
[[ -z $base || -x $base ]] || die "BASE_BIN=$base is not an executable"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-net.XXXXXX")
engine="$work/berth-root"
base_engine="$work/base-root"
pod="$work/podman"
cgroup_parent="berth-bench-podman-$$"
holder=""
podman_ready="" # set once podman_cmd can run: cleanup then removes its containers

# What the subjects change where they make a bridge, on the host: checked at the end, so
# nothing of it leaked out of the namespace. Bridges named like the subjects' ones, the
# nftables tables and IPv4 forwarding (netavark and berth both turn it on), and the fixed
# paths of Debian's podman (see the holder below).
host_state() {
    ip -o link show 2>/dev/null | awk -F': ' '{ print $2 }' | grep -E '^(berth0|podman0)$'
    nft list tables 2>/dev/null
    printf 'ip_forward=%s\n' "$(cat /proc/sys/net/ipv4/ip_forward)"
    local path
    for path in /run/netns /run/containers /run/runc /var/lib/containers; do
        [[ -e $path ]] && printf '%s\n' "$path"
    done
    return 0
}
host_before=$(host_state)

cleanup() {
    set +e
    if [[ -n $holder ]] && kill -0 "$holder" 2>/dev/null; then
        local bin root ids
        for bin in "$berth" "$base"; do
            root=$engine
            [[ $bin == "$base" ]] && root=$base_engine
            [[ -n $bin && -d $root ]] || continue
            ids=$(in_ns "$bin" --root "$root" ps -aq --no-trunc 2>/dev/null)
            if [[ -n $ids ]]; then
                # shellcheck disable=SC2086
                in_ns "$bin" --root "$root" rm -f $ids >/dev/null 2>&1
            fi
        done
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

# The disk is noisy: engine root and podman storage live on a tmpfs.
mount -t tmpfs -o size=1g,mode=0700 berth-bench-net "$work"
mkdir -p "$engine" "$base_engine" "$pod"/{root,runroot,tmp,networks}

# The holder: a sleep in a new network namespace (lo up) and a private mount namespace in
# which /run and /var/lib are fresh tmpfs. Only podman enters the mount namespace: Debian's
# podman 4.3 keeps netavark's address leases in /run/containers/networks, network
# namespaces in /run/netns, runc state in /run/runc and a blob cache in
# /var/lib/containers whatever --root says, so this keeps the user's podman state
# untouched. berth runs in the host's mount namespace, as it would for a user.
log "Making the network namespace"
unshare --net --mount --propagation private -- sh -c '
    ip link set lo up &&
    mount -t tmpfs -o mode=0755 berth-bench-run /run &&
    mount -t tmpfs -o mode=0755 berth-bench-lib /var/lib &&
    exec sleep infinity' </dev/null &
holder=$!
wait_for_holder "$holder" "network namespace"

in_ns() {
    /usr/bin/nsenter --net="/proc/$holder/ns/net" -- "$@"
}

# podman with everything of its own under $pod. --cgroup-manager cgroupfs: no systemd in
# the mount namespace (its /run is empty); --events-backend none: no journal.
podman_global=(
    /usr/bin/nsenter --net="/proc/$holder/ns/net" --mount="/proc/$holder/ns/mnt" --
    env TMPDIR="$pod/tmp" podman --root "$pod/root" --runroot "$pod/runroot"
    --tmpdir "$pod/tmp" --network-config-dir "$pod/networks" --storage-driver overlay
    --cgroup-manager cgroupfs --events-backend none
)
podman_cmd() {
    "${podman_global[@]}" "$@" </dev/null
}
[[ -z $podman_missing ]] && podman_ready=yes

subjects=()
skips=()
q() { printf '%q ' "$@"; }

log "Probing berth"
berth_run=("$berth" --root "$engine" run --rm)
if ! out=$(in_ns "$berth" --root "$engine" load -q -i .fixtures/busybox-save.tar 2>&1); then
    die "berth load failed: $out"
fi
for args in "" "--network none" "-p 8080:80"; do
    # shellcheck disable=SC2086
    if ! out=$(in_ns "${berth_run[@]}" $args berth-test/busybox true 2>&1 </dev/null); then
        die "berth run $args failed: $out"
    fi
done
# The default network's bridge is named after the engine root (berth0 is the default
# root's).
bridge=$(in_ns "$berth" --root "$engine" network inspect -f '{{.Berth.Bridge}}' bridge)
if ! in_ns ip -o link show "$bridge" >/dev/null 2>&1; then
    die "berth run on the default network made no $bridge bridge"
fi
ns=(/usr/bin/nsenter --net="/proc/$holder/ns/net" --)
subjects+=(--subject "berth=$(q "${ns[@]}" "${berth_run[@]}" berth-test/busybox true)")
subjects+=(--subject "berth-none=$(q "${ns[@]}" "${berth_run[@]}" --network none berth-test/busybox true)")
subjects+=(--subject "berth-p8080=$(q "${ns[@]}" "${berth_run[@]}" -p 8080:80 berth-test/busybox true)")
base_deltas=()
if [[ -n $base ]]; then
    log "Probing the base build"
    base_run=("$base" --root "$base_engine" run --rm)
    if ! out=$(in_ns "$base" --root "$base_engine" load -q -i .fixtures/busybox-save.tar 2>&1); then
        die "base load failed: $out"
    fi
    for args in "" "--network none"; do
        # shellcheck disable=SC2086
        if ! out=$(in_ns "${base_run[@]}" $args berth-test/busybox true 2>&1 </dev/null); then
            die "base run $args failed: $out"
        fi
    done
    subjects+=(--subject "base=$(q "${ns[@]}" "${base_run[@]}" berth-test/busybox true)")
    subjects+=(--subject "base-none=$(q "${ns[@]}" "${base_run[@]}" --network none berth-test/busybox true)")
    base_deltas=(--delta "base - base-none" --delta "base - berth")
fi

log "Probing podman"
podman_note=""
if [[ -z $podman_missing ]]; then
    podman_run=(run --rm --runtime runc --cgroup-parent "/$cgroup_parent")
    if ! out=$(podman_cmd load -q -i "$PWD/.fixtures/busybox-save.tar" 2>&1); then
        podman_missing="podman load failed: $(brief "$out")"
    elif ! out=$(podman_cmd "${podman_run[@]}" berth-test/busybox true 2>&1); then
        # podman asks runc for RLIMIT_NOFILE 1048576 and a large RLIMIT_NPROC, which need
        # CAP_SYS_RESOURCE above the hard limits (conmon also runs with a lower NPROC
        # than the shell): ask for small ones, as a user on such a machine would.
        if grep -q 'rlimit' <<<"$out"; then
            podman_run+=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
            podman_note="podman with --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 (its defaults need CAP_SYS_RESOURCE)"
            if ! out=$(podman_cmd "${podman_run[@]}" berth-test/busybox true 2>&1); then
                podman_missing="podman run failed: $(brief "$out")"
            fi
        else
            podman_missing="podman run failed: $(brief "$out")"
        fi
    fi
fi
if [[ -z $podman_missing ]]; then
    backend=$(podman_cmd info --format '{{.Host.NetworkBackend}}' 2>/dev/null || echo unknown)
    subjects+=(--subject "podman=$(q "${podman_global[@]}" "${podman_run[@]}" berth-test/busybox true)")
else
    skips+=(--skip "podman=unavailable: $podman_missing")
    printf 'podman cannot run here (%s); measuring berth only\n' "$podman_missing" >&2
fi

settles=()
if [[ $SETTLE != 0 ]]; then
    for subject in "${subjects[@]}"; do
        [[ $subject == --subject ]] && continue
        settles+=(--prepare "${subject%%=*}=sleep $SETTLE")
    done
fi

log "Timing $RUNS interleaved runs each (after $WARMUP warm-ups, ${SETTLE}s apart)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
python3 bench/timing.py --runs "$RUNS" --warmup "$WARMUP" --baseline berth \
    --title "container run latency on a bridge: start to exit of 'true' (cgroups: $(cgroup_layout), $(nproc) CPUs, load $load_before, ${SETTLE}s between runs)" \
    "${subjects[@]}" "${skips[@]}" "${settles[@]}" \
    --delta "berth - berth-none <= 5" --delta "berth-p8080 - berth" "${base_deltas[@]}" \
    --ratio "podman / berth >= 10"
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
[[ -n $podman_note ]] && printf '%s\n' "$podman_note"
[[ -n $base ]] && printf 'base: %s\n' "$base"
[[ -z $podman_missing ]] && printf 'podman %s, network backend %s, runtime runc %s\n' \
    "$(podman_cmd version --format '{{.Client.Version}}' 2>/dev/null)" "$backend" \
    "$(runc --version | awk 'NR == 1 { print $3 }')"

if [[ $(host_state) != "$host_before" ]]; then
    die "the host changed during the run: before: $(tr '\n' ' ' <<<"$host_before"); after: $(host_state | tr '\n' ' ')"
fi
