#!/usr/bin/env bash
# `exec CTR true` into a running container: `berth exec` against `runc exec` and
# `crun exec` into a container of the same OCI bundle pattern as run-latency.sh (busybox
# rootfs, `sleep` as its process). Interleaved runs, medians and ratios to runc.
# Everything runs in a holder's new network namespace (loopback only) and private mount
# namespace in which the cgroup v2 tree of the hybrid layout is unmounted: crun 1.8
# refuses the hybrid layout, and all three subjects see the same cgroups. BASE_BIN (another
# build, e.g. the one before a change) adds it as `berth-base`, with an engine root and a
# container of its own (its monitor is its own build's), interleaved with the others.
# Run as root: bash bench/exec.sh   (env: RUNS=30 WARMUP=3 BERTH_BIN= BASE_BIN=
# BERTH_FIXTURES=; with BERTH_BIN nothing is built)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be a positive number"
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/exec.sh"

ensure_packages "${RUNTIME_PACKAGES[@]}" runc crun
build_or_fixtures

berth=${BERTH_BIN:-$(release_bin)} # BERTH_BIN: another build to measure
base=${BASE_BIN:-} # BASE_BIN: a build to compare with, interleaved
[[ -z $base || -x $base ]] || die "BASE_BIN=$base is not an executable"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-exec.XXXXXX")
engine="$work/berth-root"
bundle="$work/bundle"
tag="bench-exec-$$"
holder=""

cleanup() {
    set +e
    if [[ -n $holder ]]; then
        local bin root ids
        for bin in "$berth" ${base:+"$base"}; do
            root=$engine
            [[ $bin == "$base" ]] && root=$work/base-root
            [[ -d $root ]] || continue
            ids=$(in_ns "$bin" --root "$root" ps -aq --no-trunc 2>/dev/null)
            # shellcheck disable=SC2086
            [[ -n $ids ]] && in_ns "$bin" --root "$root" rm -f $ids >/dev/null 2>&1
        done
        local rt id
        for rt in runc crun; do
            [[ -d $work/$rt-state ]] || continue
            for id in $(in_ns "$rt" --root "$work/$rt-state" list -q 2>/dev/null); do
                in_ns "$rt" --root "$work/$rt-state" delete -f "$id" >/dev/null 2>&1
            done
        done
        kill "$holder" 2>/dev/null
        wait "$holder" 2>/dev/null
    fi
    unmount_below "$work"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The holder: a sleep in a new network namespace (lo up) and a private mount namespace
# without /sys/fs/cgroup/unified (if the host has it).
unshare --net --mount --propagation private -- sh -c '
    ip link set lo up &&
    if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi &&
    exec sleep infinity' </dev/null &
holder=$!
wait_for_holder "$holder" "namespace"

in_ns() {
    /usr/bin/nsenter --net="/proc/$holder/ns/net" --mount="/proc/$holder/ns/mnt" -- "$@"
}

log "Preparing the runc/crun bundle"
mkdir -p "$bundle/rootfs"
tar -xpf "$fixtures/rootfs.tar" -C "$bundle/rootfs"
(cd "$bundle" && runc spec)
python3 - "$bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
with open(path) as fh:
    config = json.load(fh)
config["process"]["args"] = ["sleep", "100000"]
config["process"]["terminal"] = False
config["root"] = {"path": "rootfs", "readonly": False}
config["linux"]["namespaces"] = [{"type": t} for t in ("pid", "mount", "ipc", "uts", "network")]
with open(path, "w") as fh:
    json.dump(config, fh, indent=2)
PY

subjects=()
skips=()
q() { printf '%q ' "$@"; }

log "Starting berth's container"
if ! out=$(in_ns "$berth" --root "$engine" load -q -i "$fixtures/busybox-save.tar" 2>&1); then
    skips+=(--skip "berth=unavailable: berth load failed: $(brief "$out")")
elif ! out=$(in_ns "$berth" --root "$engine" run -d --network none --name "$tag" berth-test/busybox sleep 100000 2>&1 </dev/null); then
    skips+=(--skip "berth=unavailable: berth run failed: $(brief "$out")")
elif ! out=$(in_ns "$berth" --root "$engine" exec "$tag" true 2>&1 </dev/null); then
    skips+=(--skip "berth=unavailable: berth exec failed: $(brief "$out")")
else
    subjects+=(--subject "berth=$(q "$berth" --root "$engine" exec "$tag" true)")
fi

if [[ -n $base ]]; then
    log "Starting berth-base's container"
    broot=$work/base-root
    if ! out=$(in_ns "$base" --root "$broot" load -q -i "$fixtures/busybox-save.tar" 2>&1) ||
        ! out=$(in_ns "$base" --root "$broot" run -d --network none --name "$tag" \
            berth-test/busybox sleep 100000 2>&1 </dev/null) ||
        ! out=$(in_ns "$base" --root "$broot" exec "$tag" true 2>&1 </dev/null); then
        skips+=(--skip "berth-base=unavailable: $(brief "$out")")
    else
        subjects+=(--subject "berth-base=$(q "$base" --root "$broot" exec "$tag" true)")
    fi
fi

for rt in runc crun; do
    log "Starting $rt's container"
    # The container's process inherits these streams: never a pipe anyone waits on.
    if ! in_ns "$rt" --root "$work/$rt-state" run -d --bundle "$bundle" "$tag-$rt" \
        </dev/null >/dev/null 2>"$work/$rt-run.err"; then
        out=$(cat "$work/$rt-run.err")
        [[ $rt == runc ]] && die "runc cannot run the reference bundle: $out"
        skips+=(--skip "$rt=refused: $(brief "$out")")
    elif ! out=$(in_ns "$rt" --root "$work/$rt-state" exec "$tag-$rt" true 2>&1 </dev/null); then
        [[ $rt == runc ]] && die "runc exec failed: $out"
        skips+=(--skip "$rt=refused: $(brief "$out")")
    else
        subjects+=(--subject "$rt=$(q "$rt" --root "$work/$rt-state" exec "$tag-$rt" true)")
    fi
done

ratios=()
for subject in "${subjects[@]}"; do
    [[ $subject == crun=* ]] && ratios=(--ratio "crun / berth >= 0.67")
done

log "Timing $RUNS interleaved runs each (after $WARMUP warm-ups)"
in_ns python3 "$PWD/bench/timing.py" --runs "$RUNS" --warmup "$WARMUP" --baseline runc \
    --title "exec latency: 'exec CTR true' into a running container (v1 cgroups, private mount namespace)" \
    "${subjects[@]}" "${skips[@]}" --ratio "runc / berth >= 1" "${ratios[@]}"
