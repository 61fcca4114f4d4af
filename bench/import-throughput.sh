#!/usr/bin/env bash
# Image import throughput: `berth load -i ARCHIVE` into a fresh engine root against
# `tar -x` of the same layer tars into a fresh directory. Interleaved runs, each into a
# new directory; cleanup happens after all runs of an archive, outside the timed section
# (the root filesystem may be mounted with `discard`, which makes big deletes slow down
# the next writes).
# Run as root: bash bench/import-throughput.sh   (env: RUNS=10 WARMUP=1)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

RUNS=${RUNS:-10}
WARMUP=${WARMUP:-1}
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be a positive number"
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/import-throughput.sh"

ensure_packages "${RUNTIME_PACKAGES[@]}"
ensure_cargo
build_release_and_fixtures

berth=${BERTH_BIN:-$(release_bin)}  # BERTH_BIN: another build to measure
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-import.XXXXXX")

cleanup() {
    set +e
    unmount_below "$work"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

q() { printf '%q ' "$@"; }

log "Generating the synthetic archive (5,000 small files + 8 MiB)"
python3 bench/make_big_image.py "$work/big-save.tar"

# split_layers ARCHIVE DIR: writes the archive's layer tars as DIR/0.tar, DIR/1.tar, ...
# in manifest order and prints the number of entries in them.
split_layers() {
    python3 - "$1" "$2" <<'PY'
import json, os, sys, tarfile
archive, out = sys.argv[1:]
os.makedirs(out)
entries = 0
with tarfile.open(archive) as tar:
    manifest = json.load(tar.extractfile("manifest.json"))
    for n, name in enumerate(manifest[0]["Layers"]):
        data = tar.extractfile(name).read()
        with open(os.path.join(out, f"{n}.tar"), "wb") as fh:
            fh.write(data)
        with tarfile.open(os.path.join(out, f"{n}.tar")) as layer:
            entries += len(layer.getmembers())
print(entries)
PY
}

bench_archive() {
    local label=$1 archive=$2
    local layers="$work/layers-$label" runs="$work/runs-$label"
    local entries out
    entries=$(split_layers "$archive" "$layers")
    mkdir -p "$runs"

    local tar_cmd=() layer
    for layer in "$layers"/*.tar; do
        [[ ${#tar_cmd[@]} -gt 0 ]] && tar_cmd+=("&&")
        tar_cmd+=(tar -xf "$layer" -C "$runs/tar-{i}")
    done

    local subjects=() skips=()
    if out=$("$berth" --root "$runs/berth-probe" load -q -i "$archive" 2>&1 </dev/null); then
        subjects+=(--subject "berth=$(q "$berth" --root "$runs/berth-{i}" load -q -i "$archive")")
    else
        skips+=(--skip "berth=unavailable: berth load failed: $(brief "$out")")
    fi
    subjects+=(--subject "tar=$(q "${tar_cmd[@]}")")

    log "Timing $label: $RUNS interleaved runs each (after $WARMUP warm-ups)"
    python3 bench/timing.py --runs "$RUNS" --warmup "$WARMUP" --baseline tar --sync \
        --title "load $(basename "$archive"): $(du -h "$archive" | cut -f1), $entries tar entries" \
        --prepare "tar=$(q mkdir -p "$runs/tar-{i}")" \
        "${subjects[@]}" "${skips[@]}"
    echo

    # Untimed cleanup of this archive's runs.
    unmount_below "$runs"
    rm -rf "$runs" "$layers"
}

bench_archive busybox .fixtures/busybox-save.tar
bench_archive synthetic "$work/big-save.tar"
