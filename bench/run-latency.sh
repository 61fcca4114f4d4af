#!/usr/bin/env bash
# Container start-to-exit latency: `berth run --rm --network none berth-test/busybox true` against
# `runc run` and `crun run` of an equivalent OCI bundle. Interleaved runs, inside a
# holder's fresh network namespace (containers see loopback only) and private mount
# namespace in which the cgroup v2 tree of the hybrid layout is unmounted: crun 1.8 refuses
# the hybrid layout, and all three subjects see the same cgroups. BASE_BIN (another build,
# e.g. the one before a change) adds it as `berth-base`, with an engine root of its own.
# Run as root: bash bench/run-latency.sh   (env: RUNS=30 WARMUP=3 SETTLE=0.1 BERTH_BIN= BASE_BIN=)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
SETTLE=${SETTLE:-0.1}
[[ $SETTLE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "SETTLE must be a number of seconds"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be a positive number"
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/run-latency.sh"

ensure_packages "${RUNTIME_PACKAGES[@]}" runc crun
ensure_cargo
build_release_and_fixtures

berth=${BERTH_BIN:-$(release_bin)}  # BERTH_BIN: another build to measure
base=${BASE_BIN:-} # BASE_BIN: a build to compare with, interleaved
[[ -z $base || -x $base ]] || die "BASE_BIN=$base is not an executable"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-run.XXXXXX")
engine="$work/berth-root"
base_engine="$work/base-root"
bundle="$work/bundle"
tag="bench-$$"

holder=""

cleanup() {
    set +e
    if [[ -n $holder ]]; then
        local bin root ids
        for bin in "$berth" ${base:+"$base"}; do
            root=$engine
            [[ $bin == "$base" ]] && root=$base_engine
            [[ -d $root ]] || continue
            ids=$(in_ns "$bin" --root "$root" ps -aq --no-trunc 2>/dev/null)
            if [[ -n $ids ]]; then
                # shellcheck disable=SC2086
                in_ns "$bin" --root "$root" rm -f $ids >/dev/null 2>&1
            fi
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
# without /sys/fs/cgroup/unified (if the host has it). Everything below runs in both.
unshare --net --mount --propagation private -- sh -c '
    ip link set lo up &&
    if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi &&
    exec sleep infinity' </dev/null &
holder=$!
wait_for_holder "$holder" "namespace"

# in_ns CMD...: runs CMD in the holder's namespaces.
in_ns() {
    /usr/bin/nsenter --net="/proc/$holder/ns/net" --mount="/proc/$holder/ns/mnt" -- "$@"
}

log "Preparing the runc/crun bundle"
mkdir -p "$bundle/rootfs"
tar -xpf .fixtures/rootfs.tar -C "$bundle/rootfs"
(cd "$bundle" && runc spec)
python3 - "$bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
with open(path) as fh:
    config = json.load(fh)
config["process"]["args"] = ["true"]
config["process"]["terminal"] = False
config["root"] = {"path": "rootfs", "readonly": False}
config["linux"]["namespaces"] = [{"type": t} for t in ("pid", "mount", "ipc", "uts", "network")]
with open(path, "w") as fh:
    json.dump(config, fh, indent=2)
PY

subjects=()
skips=()
q() { printf '%q ' "$@"; }

log "Probing berth"
if ! out=$("$berth" --root "$engine" load -q -i "$PWD/.fixtures/busybox-save.tar" 2>&1); then
    skips+=(--skip "berth=unavailable: berth load failed: $(brief "$out")")
elif ! out=$(in_ns "$berth" --root "$engine" run --rm --network none berth-test/busybox true 2>&1 </dev/null); then
    skips+=(--skip "berth=unavailable: berth run failed: $(brief "$out")")
else
    # Loopback only, as the runc bundle has (bench/network.sh times the bridge).
    subjects+=(--subject "berth=$(q "$berth" --root "$engine" run --rm --network none berth-test/busybox true)")
fi

if [[ -n $base ]]; then
    log "Probing berth-base"
    if ! out=$("$base" --root "$base_engine" load -q -i "$PWD/.fixtures/busybox-save.tar" 2>&1) ||
        ! out=$(in_ns "$base" --root "$base_engine" run --rm --network none berth-test/busybox true 2>&1 </dev/null); then
        skips+=(--skip "berth-base=unavailable: $(brief "$out")")
    else
        subjects+=(--subject "berth-base=$(q "$base" --root "$base_engine" run --rm --network none berth-test/busybox true)")
    fi
fi

log "Probing runc"
if ! out=$(in_ns runc --root "$work/runc-state" run --bundle "$bundle" "$tag-runc-probe" 2>&1 </dev/null); then
    die "runc cannot run the reference bundle: $out"
fi
subjects+=(--subject "runc=$(q runc --root "$work/runc-state" run --bundle "$bundle" "$tag-runc-{i}")")

log "Probing crun"
if out=$(in_ns crun --root "$work/crun-state" run --bundle "$bundle" "$tag-crun-probe" 2>&1 </dev/null); then
    subjects+=(--subject "crun=$(q crun --root "$work/crun-state" run --bundle "$bundle" "$tag-crun-{i}")")
else
    skips+=(--skip "crun=refused: $(brief "$out")")
fi

# The reference bundle has no seccomp filter, and every berth container has Docker's
# default one (compiled and loaded by its init). `crun-seccomp` runs the same bundle with
# the very filter berth gave a probe container (its bundle's config.json), so one pair
# of subjects does the same work.
log "Probing crun with berth's seccomp filter"
seccomp_probe="$tag-seccomp"
if [[ -n ${subjects[*]} ]] && in_ns "$berth" --root "$engine" run --name "$seccomp_probe" --network none \
    berth-test/busybox true >/dev/null 2>&1 </dev/null &&
    probe_id=$("$berth" --root "$engine" inspect -f '{{.Id}}' "$seccomp_probe") &&
    mkdir -p "$work/bundle-seccomp" &&
    python3 - "$bundle/config.json" "$engine/containers/$probe_id/config.json" \
        "$work/bundle-seccomp/config.json" "$bundle/rootfs" <<'PY'
import json, sys
reference, berths, out, rootfs = sys.argv[1:]
with open(reference) as fh:
    config = json.load(fh)
with open(berths) as fh:
    seccomp = json.load(fh)["linux"]["seccomp"]
config["linux"]["seccomp"] = seccomp
config["root"]["path"] = rootfs
with open(out, "w") as fh:
    json.dump(config, fh, indent=2)
PY
then
    "$berth" --root "$engine" rm "$seccomp_probe" >/dev/null
    if out=$(in_ns crun --root "$work/crun-state" run --bundle "$work/bundle-seccomp" "$tag-crun-seccomp-probe" 2>&1 </dev/null); then
        subjects+=(--subject "crun-seccomp=$(q crun --root "$work/crun-state" run --bundle "$work/bundle-seccomp" "$tag-crun-seccomp-{i}")")
    else
        skips+=(--skip "crun-seccomp=refused: $(brief "$out")")
    fi
else
    skips+=(--skip "crun-seccomp=unavailable: berth's seccomp filter could not be read")
fi

log "Timing $RUNS interleaved runs each (after $WARMUP warm-ups)"
in_ns python3 "$PWD/bench/timing.py" --runs "$RUNS" --warmup "$WARMUP" --baseline runc --shuffle \
    --title "container run latency: start to exit of 'true' (cgroups: v1, private mount namespace)" \
    "${subjects[@]}" "${skips[@]}" --ratio "crun / berth >= 1" \
    --ratio "crun-seccomp / berth >= 1"

# The same with an untimed pause of SETTLE seconds before each run (0: none): a user's one
# `run` meets a settled kernel, not the wake of the run before. The runs above come every
# few milliseconds, within the RCU grace period that a move into a cgroup by PID (runc's,
# crun's) otherwise waits out.
if [[ $SETTLE != 0 ]]; then
    settles=()
    for subject in "${subjects[@]}"; do
        [[ $subject == --subject ]] && continue
        settles+=(--prepare "${subject%%=*}=sleep $SETTLE")
    done
    log "Timing $RUNS interleaved runs each, each after ${SETTLE}s settling"
    in_ns python3 "$PWD/bench/timing.py" --runs "$RUNS" --warmup "$WARMUP" --baseline runc --shuffle \
        --title "container run latency after ${SETTLE}s settling: start to exit of 'true'" \
        "${subjects[@]}" "${settles[@]}" "${skips[@]}" --ratio "crun / berth >= 1" \
        --ratio "crun-seccomp / berth >= 1"
fi
