#!/usr/bin/env bash
# Runs each fuzz target for a while, growing the kept corpus in fuzz/corpus/TARGET.
# Usage: bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]   (default: 300 s, all targets)
# Needs cargo-fuzz (cargo install cargo-fuzz); the stable toolchain is enough:
# RUSTC_BOOTSTRAP lets it take the sanitizer flags cargo-fuzz passes. Not part of CI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
seconds=${1:-300}
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets < <(cargo fuzz list)
fi
export RUSTC_BOOTSTRAP=1
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    printf '\n==> %s for %s s\n' "$target" "$seconds" >&2
    # -rss_limit_mb: the load target unpacks layers; a leak or unbounded read shows here.
    cargo fuzz run --release "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="artifacts/$target/" -print_final_stats=1 2>&1 |
        grep -E '(DONE|stat::|==[0-9]+==|SUMMARY|panicked|^Done)' || true
    # Keep the corpus small: only inputs that add coverage.
    mkdir -p "corpus/$target.min"
    cargo fuzz run --release "$target" "corpus/$target.min" "corpus/$target" -- -merge=1 \
        >/dev/null 2>&1 && rm -rf "corpus/$target" && mv "corpus/$target.min" "corpus/$target"
    if compgen -G "artifacts/$target/*" >/dev/null; then
        printf 'FOUND: crash inputs in fuzz/artifacts/%s\n' "$target" >&2
    fi
done
