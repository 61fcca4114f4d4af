#!/usr/bin/env bash
# Container start-to-exit latency: `berth run --rm --network none berth-test/busybox true` against
# `runc run` (and `crun run`) of an equivalent OCI bundle. Interleaved runs, inside a
# fresh network namespace (unshare -n) so containers see loopback only.
# Run as root: bash bench/run-latency.sh   (env: RUNS=30 WARMUP=3)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be a positive number"
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/run-latency.sh"

ensure_packages "${RUNTIME_PACKAGES[@]}" runc crun
ensure_cargo
build_release_and_fixtures

berth=${BERTH_BIN:-$PWD/target/release/berth}  # BERTH_BIN: another build to measure
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-run.XXXXXX")
engine="$work/berth-root"
bundle="$work/bundle"
tag="bench-$$"

cleanup() {
    set +e
    if [[ -d $engine ]]; then
        local ids
        ids=$("$berth" --root "$engine" ps -aq --no-trunc 2>/dev/null)
        if [[ -n $ids ]]; then
            # shellcheck disable=SC2086
            "$berth" --root "$engine" rm -f $ids >/dev/null 2>&1
        fi
    fi
    local rt id
    for rt in runc crun; do
        [[ -d $work/$rt-state ]] || continue
        for id in $("$rt" --root "$work/$rt-state" list -q 2>/dev/null); do
            "$rt" --root "$work/$rt-state" delete -f "$id" >/dev/null 2>&1
        done
    done
    unmount_below "$work"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# in_netns CMD...: runs CMD in a new network namespace with only loopback (up).
in_netns() {
    unshare -n -- sh -c 'ip link set lo up && exec "$@"' in_netns "$@"
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
if ! out=$("$berth" --root "$engine" load -q -i .fixtures/busybox-save.tar 2>&1); then
    skips+=(--skip "berth=unavailable: berth load failed: $(brief "$out")")
elif ! out=$(in_netns "$berth" --root "$engine" run --rm --network none berth-test/busybox true 2>&1 </dev/null); then
    skips+=(--skip "berth=unavailable: berth run failed: $(brief "$out")")
else
    # Loopback only, as the runc bundle has (bench/network.sh times the bridge).
    subjects+=(--subject "berth=$(q "$berth" --root "$engine" run --rm --network none berth-test/busybox true)")
fi

log "Probing runc"
if ! out=$(in_netns runc --root "$work/runc-state" run --bundle "$bundle" "$tag-runc-probe" 2>&1 </dev/null); then
    die "runc cannot run the reference bundle: $out"
fi
subjects+=(--subject "runc=$(q runc --root "$work/runc-state" run --bundle "$bundle" "$tag-runc-{i}")")

log "Probing crun"
if out=$(in_netns crun --root "$work/crun-state" run --bundle "$bundle" "$tag-crun-probe" 2>&1 </dev/null); then
    subjects+=(--subject "crun=$(q crun --root "$work/crun-state" run --bundle "$bundle" "$tag-crun-{i}")")
else
    skips+=(--skip "crun=refused: $(brief "$out")")
fi

log "Timing $RUNS interleaved runs each (after $WARMUP warm-ups)"
in_netns python3 bench/timing.py --runs "$RUNS" --warmup "$WARMUP" --baseline runc \
    --title "container run latency: start to exit of 'true' (cgroups: $(cgroup_layout))" \
    "${subjects[@]}" "${skips[@]}"
