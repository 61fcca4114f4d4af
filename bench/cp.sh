#!/usr/bin/env bash
# `berth cp` throughput, into and out of a running container, against
# `tar -C src -cf - . | tar -C dst -xf -` between two host directories, for one 256 MiB
# file and for 10,000 files of 4 KiB. Interleaved runs, each into a new directory (or new
# container path); everything is removed after all runs of a case, outside the timed part
# (big deletes slow down the next writes on this disk). sync(2) before each timed run.
# Run as root: bash bench/cp.sh   (env: RUNS=5 WARMUP=1 CASES='file small'; TMPDIR on a
# tmpfs mounted by hand, not under /dev, which the engine refuses as its root, puts the
# sources, the engine root and so the container's overlay on it: no disk noise)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# Containers get bridges and firewall rules: in a network namespace of the bench's own.
in_private_netns "$PWD/bench/cp.sh" "$@"

RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
CASES=${CASES:-file small} # which data sets: file (one 256 MiB file), small (10,000 x 4 KiB)
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be a positive number"
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/cp.sh"

ensure_packages "${RUNTIME_PACKAGES[@]}"
ensure_cargo
build_release_and_fixtures

berth=${BERTH_BIN:-$(release_bin)}  # BERTH_BIN: another build to measure
base=${BERTH_BASE:-}  # BERTH_BASE: a second build timed beside it (base-in), e.g. before a change
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-cp.XXXXXX")
engine="$work/berth-root"
b="$berth --root $engine"

cleanup() {
    set +e
    $b rm -f bench-cp >/dev/null 2>&1
    unmount_below "$work"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "Preparing the sources and a running container"
mkdir -p "$work/src-file" "$work/src-small"
head -c $((256 * 1024 * 1024)) /dev/urandom >"$work/src-file/big"
python3 - "$work/src-small" <<'PY'
import os, sys
root = sys.argv[1]
block = os.urandom(4096)
for d in range(100):
    sub = os.path.join(root, f"d{d:03}")
    os.mkdir(sub)
    for f in range(100):
        with open(os.path.join(sub, f"f{f:03}"), "wb") as out:
            out.write(block)
PY
$b load -i .fixtures/busybox-save.tar >/dev/null
$b run -d --name bench-cp berth-test/busybox:latest sleep 36000 >/dev/null
# tar-ctr: the same tar pipe into the container's root (through its overlay, as berth
# writes), by way of its init's /proc root: the floor for a copy into a container.
ctr_root=/proc/$($b inspect -f '{{.State.Pid}}' bench-cp)/root
# The copy-out sources live in the container.
$b cp "$work/src-file" bench-cp:/src-file
$b cp "$work/src-small" bench-cp:/src-small

# bench NAME BYTES SRC_DIR RATIO: one table for one data set; RATIO is timing.py's
# --ratio for berth-in's speed against tar's (tar's time over berth's).
bench() {
    local name=$1 bytes=$2 src=$3 ratio=$4
    local extra=()
    if [[ -n $base ]]; then
        extra=(--subject "base-in=$base --root $engine cp $work/$src bench-cp:/base-in-$name-{i}"
            --ratio "base-in / berth-in")
    fi
    mkdir -p "$work/out"
    python3 bench/timing.py --runs "$RUNS" --warmup "$WARMUP" --sync --baseline tar \
        --bytes "$bytes" --title "cp: $name" \
        --prepare "tar=mkdir $work/out/tar-$name-{i}" \
        --subject "tar=sh -c 'tar -C $work/$src -cf - . | tar -C $work/out/tar-$name-{i} -xf -'" \
        --prepare "tar-ctr=mkdir $ctr_root/tar-in-$name-{i}" \
        --subject "tar-ctr=sh -c 'tar -C $work/$src -cf - . | tar -C $ctr_root/tar-in-$name-{i} -xf -'" \
        --subject "berth-in=$b cp $work/$src bench-cp:/in-$name-{i}" \
        --subject "berth-out=$b cp bench-cp:/$src $work/out/berth-$name-{i}" \
        --ratio "$ratio" --ratio "tar-ctr / berth-in" "${extra[@]}"
    echo
    # Cleanup outside the timed runs: the host copies and the container's copies.
    rm -rf "$work/out"
    $b exec bench-cp sh -c "rm -rf /in-$name-* /base-in-$name-* /tar-in-$name-*"
    sync
}

log "Timing ($RUNS runs, $WARMUP warm-up, interleaved)"
for case in $CASES; do
    case $case in
    file) bench file $((256 * 1024 * 1024)) src-file "tar / berth-in" ;;
    # The target (issue 22): many small files in at least 0.9x the tar pipe's speed.
    small) bench small $((10000 * 4096)) src-small "tar / berth-in >= 0.9" ;;
    *) die "unknown case $case (file, small)" ;;
    esac
done
