#!/usr/bin/env bash
# Copy-on-write diff speed: `berth diff` of a container whose writable layer holds 10,000
# added files (100 directories of 100) and 100 deleted image files, against a plain walk
# of the same upper directory (`find UPPER | wc -l`). Interleaved runs.
# Run as root: bash bench/diff.sh   (env: RUNS=30 WARMUP=3)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be a positive number"
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/diff.sh"

ensure_packages "${RUNTIME_PACKAGES[@]}"
ensure_cargo
build_release_and_fixtures

berth=${BERTH_BIN:-$(release_bin)}  # BERTH_BIN: another build to measure
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-diff.XXXXXX")
engine="$work/berth-root"
b() { "$berth" --root "$engine" "$@"; }

cleanup() {
    set +e
    if [[ -d $engine ]]; then
        local ids
        ids=$(b ps -aq --no-trunc 2>/dev/null)
        if [[ -n $ids ]]; then
            # shellcheck disable=SC2086
            b rm -f $ids >/dev/null 2>&1
        fi
    fi
    unmount_below "$work"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "Building an image with 100 extra files to delete (busybox rootfs + /bench/del/f0..f99)"
cp .fixtures/rootfs.tar "$work/image.tar"
python3 - "$work/image.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "a") as tar:
    for name in ("bench", "bench/del"):
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1704067200
        tar.addfile(info)
    for i in range(100):
        data = f"file {i}\n".encode()
        info = tarfile.TarInfo(f"bench/del/f{i}")
        info.size, info.mode, info.mtime = len(data), 0o644, 1704067200
        tar.addfile(info, io.BytesIO(data))
PY
b import "$work/image.tar" berth-bench/diff:latest >/dev/null

log "Making the container: 10,000 files added, 100 image files deleted"
# Shell builtins only (no process per file), so setting up stays quick.
b run --name bench-diff berth-bench/diff sh -c '
    i=0
    while [ $i -lt 100 ]; do
        mkdir -p /added/d$i
        j=0
        while [ $j -lt 100 ]; do
            : > /added/d$i/f$j
            j=$((j + 1))
        done
        i=$((i + 1))
    done
    rm /bench/del/*'
upper=$(b inspect bench-diff | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["GraphDriver"]["Data"]["UpperDir"])')

added=$(b diff bench-diff | grep -c '^A ' || true)
deleted=$(b diff bench-diff | grep -c '^D ' || true)
[[ $added -eq 10101 && $deleted -eq 100 ]] ||
    die "unexpected diff: $added added (want 10101: 10,000 files, 100 dirs, /added), $deleted deleted (want 100)"
log "berth diff reports $added added and $deleted deleted paths; upper has $(find "$upper" | wc -l) entries"

q() { printf '%q ' "$@"; }
log "Timing $RUNS interleaved runs each (after $WARMUP warm-ups)"
python3 bench/timing.py --runs "$RUNS" --warmup "$WARMUP" --baseline find \
    --title "copy-on-write diff: 10,000 added + 100 deleted files (target: berth median < 100 ms)" \
    --subject "berth=$(q "$berth" --root "$engine" diff bench-diff)" \
    --subject "berth-json=$(q "$berth" --root "$engine" diff --format json bench-diff)" \
    --subject "find=$(q sh -c "find $(printf '%q' "$upper") | wc -l")"
