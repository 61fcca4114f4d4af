#!/usr/bin/env bash
# `berth build` against `podman build` (Debian's podman 4.3, buildah inside, runc, overlay
# storage) of a 10-step, 2-stage Dockerfile over a context of 10,000 small files, the same
# base image (the fixture busybox): (a) cold; (b) a rebuild with nothing changed; (c) a
# rebuild after one byte changed in one file. Interleaved runs (berth, podman, berth, ...),
# medians and ratios (bench/timing.py). Run as root:
#   bash bench/build.sh   (env: COLD_RUNS=5 WARM_RUNS=10 CHANGE_RUNS=5 WARMUP=1 FILES=10000 BERTH_BIN=
#   BASE_BIN=: another berth binary, e.g. the main branch's, measured as the subject `base`
#   in the same interleaved runs, in an engine root of its own)
#
# Fair cold runs. Each cold run of each subject gets a directory of its own, made fresh
# (untimed) with nothing but the base image loaded: a new berth engine root, a new podman
# --root/--runroot/--tmpdir. Nothing is deleted until every timing is done (the work dir
# goes at exit). Deleting the last run's tens of thousands of files right before the next
# cold run would bill the filesystem's clean-up to whoever runs next: on an ext4 without
# a journal (this machine's), the inode allocator skips every inode freed in the last
# 60-360 s, scanning past each one for every new file. A sync(2) before each timed run
# keeps the writeback of the loads and earlier runs out of it (timing.py --sync).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

COLD_RUNS=${COLD_RUNS:-5}
WARM_RUNS=${WARM_RUNS:-10}
CHANGE_RUNS=${CHANGE_RUNS:-5}
WARMUP=${WARMUP:-1}
FILES=${FILES:-10000}
for n in COLD_RUNS WARM_RUNS CHANGE_RUNS FILES; do
    [[ ${!n} =~ ^[0-9]+$ && ${!n} -ge 1 ]] || die "$n must be a positive number"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a number"
# Each changed run writes a byte not written before (see change.sh below).
[[ $((WARMUP + CHANGE_RUNS)) -le 80 ]] || die "WARMUP + CHANGE_RUNS must be at most 80"
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/build.sh"

ensure_packages "${RUNTIME_PACKAGES[@]}" runc
podman_missing=""
if ! (ensure_packages podman runc); then
    podman_missing="podman could not be installed (see apt-get above)"
fi
ensure_cargo
if [[ -z ${BERTH_BIN:-} ]]; then
    build_release_and_fixtures
fi
fixtures=${BERTH_FIXTURES:-$PWD/.fixtures}
[[ -f $fixtures/busybox-save.tar ]] || die "no fixture images in $fixtures (bash tests/fixtures/build-images.sh $fixtures)"

berth=${BERTH_BIN:-$(release_bin)}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-build.XXXXXX")
engine="$work/berth-root"
base=${BASE_BIN:-}
[[ -z $base || -x $base ]] || die "BASE_BIN=$base is not an executable"
base_engine="$work/base-root"
pod="$work/podman"
ctx="$work/ctx"
holder=""
podman_ready=""

cleanup() {
    set +e
    if [[ -n $holder ]]; then
        local bin_root bin root ids
        local cold_root
        local roots=("$berth:$engine" "$base:$base_engine")
        for cold_root in "$work"/cold/berth-* "$work"/cold/base-*; do
            [[ -d $cold_root ]] || continue
            case ${cold_root##*/} in
            berth-*) roots+=("$berth:$cold_root") ;;
            *) roots+=("$base:$cold_root") ;;
            esac
        done
        for bin_root in "${roots[@]}"; do
            bin=${bin_root%%:*} root=${bin_root#*:}
            [[ -n $bin && -d $root ]] || continue
            ids=$(in_ns "$bin" --root "$root" ps -aq --no-trunc 2>/dev/null)
            # shellcheck disable=SC2086
            [[ -n $ids ]] && in_ns "$bin" --root "$root" rm -f $ids >/dev/null 2>&1
        done
        [[ -n $podman_ready ]] && podman_cmd rm -af -t 0 >/dev/null 2>&1
        kill "$holder" 2>/dev/null
        wait "$holder" 2>/dev/null
    fi
    unmount_below "$work"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The holder: a sleep in a new network namespace (lo up) and a private mount namespace in
# which /run and /var/lib are fresh tmpfs. podman enters both: Debian's podman 4.3 keeps
# runc state in /run/runc and a blob cache in /var/lib/containers whatever --root says,
# and its overlay mounts stay in that namespace. berth runs in the host's mount namespace,
# as it would for a user, and in the holder's network namespace.
log "Making the namespaces"
unshare --net --mount --propagation private -- sh -c '
    ip link set lo up &&
    mount -t tmpfs -o mode=0755 berth-bench-run /run &&
    mount -t tmpfs -o mode=0755 berth-bench-lib /var/lib &&
    exec sleep infinity' </dev/null &
holder=$!
wait_for_holder "$holder" "namespace"

in_ns() {
    /usr/bin/nsenter --net="/proc/$holder/ns/net" -- "$@"
}

# podman with everything of its own under $pod (its runroot in the holder's /run); cgroupfs
# (no systemd in the namespace); no events; runc as the runtime.
podman_global=(
    /usr/bin/nsenter --net="/proc/$holder/ns/net" --mount="/proc/$holder/ns/mnt" --
    env TMPDIR="$pod/tmp" podman --root "$pod/root" --runroot /run/podman-podman
    --tmpdir "$pod/tmp" --storage-driver overlay --cgroup-manager cgroupfs
    --events-backend none --runtime runc
)
podman_cmd() {
    "${podman_global[@]}" "$@" </dev/null
}

log "Writing the context: $FILES small files"
mkdir -p "$ctx/files"
python3 - "$ctx/files" "$FILES" <<'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    d = os.path.join(root, f"d{i // 100:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05d}.txt"), "w") as fh:
        fh.write(f"file {i:05d} " + "x" * 90 + "\n")
PY
# 10 steps in 2 stages: the files copied, counted and packed in the first; the result
# copied and unpacked into the second.
cat >"$ctx/Dockerfile" <<'EOF'
FROM berth-test/busybox:latest AS build
WORKDIR /src
COPY files/ files/
RUN find files -type f | wc -l > /count.txt
RUN tar -cf /files.tar files
FROM berth-test/busybox:latest
WORKDIR /app
COPY --from=build /count.txt /files.tar ./
RUN tar -xf files.tar && rm files.tar
CMD ["cat", "/app/count.txt"]
EOF

# Fresh stores (untimed): fresh-NAME.sh DIR makes DIR, a new engine root (or podman
# storage) holding nothing but the base image. Cold runs use one per run (see the header);
# the probes and the warm runs use the first one.
cold="$work/cold"
mkdir -p "$cold"
# write_fresh NAME BIN: fresh-NAME.sh for a berth binary.
write_fresh() {
    local name=$1 bin=$2
    cat >"$work/fresh-$name.sh" <<EOF
set -e
[[ ! -e \$1 ]] || { echo "\$1 exists: each run needs a fresh root" >&2; exit 1; }
"$bin" --root "\$1" load -q -i "$fixtures/busybox-save.tar" >/dev/null
EOF
}
write_fresh berth "$berth"
[[ -z $base ]] || write_fresh base "$base"
cat >"$work/fresh-podman.sh" <<EOF
set -e
[[ ! -e \$1 ]] || { echo "\$1 exists: each run needs a fresh storage" >&2; exit 1; }
mkdir -p "\$1/tmp"
/usr/bin/nsenter --net="/proc/$holder/ns/net" --mount="/proc/$holder/ns/mnt" -- \\
    env TMPDIR="\$1/tmp" podman --root "\$1/root" --runroot "/run/podman-\${1##*/}" --tmpdir "\$1/tmp" \\
    --storage-driver overlay --cgroup-manager cgroupfs --events-backend none --runtime runc \\
    load -q -i "$fixtures/busybox-save.tar" >/dev/null </dev/null
EOF
# change.sh SUBJECT: one byte of one file (the middle one) changed to a value that subject
# never built.
changed=$(printf 'd%03d/f%05d.txt' $((FILES / 2 / 100)) $((FILES / 2)))
cat >"$work/change.sh" <<EOF
set -e
counter="$work/changes-\$1"
n=\$(( \$(cat "\$counter" 2>/dev/null || echo 0) + 1 ))
echo "\$n" > "\$counter"
file="$ctx/files/$changed"
# The 12th byte (first x) becomes a printable character of its own for this run.
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[11]=33+int(sys.argv[2]); open(p,"wb").write(b)' "\$file" "\$n"
EOF

q() { printf '%q ' "$@"; }
berth_build=(/usr/bin/nsenter --net="/proc/$holder/ns/net" --
    "$berth" --root "$engine" build -q -t bench/build:latest "$ctx")
podman_build=("${podman_global[@]}" build -q --pull=never --format docker --network none
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -t bench/build:latest "$ctx")

base_build=(/usr/bin/nsenter --net="/proc/$holder/ns/net" --
    "$base" --root "$base_engine" build -q -t bench/build:latest "$ctx")

# A cold run's command: the same build in the run's own fresh store ({i}: timing.py's run
# label, the same in the run's --prepare). podman's runroot is short (it refuses one of
# more than 50 characters) and in the holder's /run, a tmpfs as on a host.
cold_berth_build=(/usr/bin/nsenter --net="/proc/$holder/ns/net" --
    "$berth" --root "$cold/berth-{i}" build -q -t bench/build:latest "$ctx")
cold_base_build=(/usr/bin/nsenter --net="/proc/$holder/ns/net" --
    "$base" --root "$cold/base-{i}" build -q -t bench/build:latest "$ctx")
cold_podman_build=(/usr/bin/nsenter --net="/proc/$holder/ns/net" --mount="/proc/$holder/ns/mnt" --
    env TMPDIR="$cold/podman-{i}/tmp" podman --root "$cold/podman-{i}/root"
    --runroot "/run/podman-podman-{i}" --tmpdir "$cold/podman-{i}/tmp" --storage-driver overlay
    --cgroup-manager cgroupfs --events-backend none --runtime runc
    build -q --pull=never --format docker --network none
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -t bench/build:latest "$ctx")

subjects=()
skips=()
log "Probing berth"
bash "$work/fresh-berth.sh" "$engine"
if out=$("${berth_build[@]}" 2>&1 </dev/null); then
    subjects+=(berth)
else
    skips+=(--skip "berth=unavailable: berth build failed: $(brief "$out")")
fi
if [[ -n $base ]]; then
    log "Probing base ($base)"
    bash "$work/fresh-base.sh" "$base_engine"
    if out=$("${base_build[@]}" 2>&1 </dev/null); then
        subjects+=(base)
    else
        skips+=(--skip "base=unavailable: its build failed: $(brief "$out")")
    fi
fi
log "Probing podman"
if [[ -z $podman_missing ]]; then
    podman_ready=yes
    if ! out=$(bash "$work/fresh-podman.sh" "$pod" 2>&1); then
        podman_missing="podman load failed: $(brief "$out")"
    elif ! out=$("${podman_build[@]}" 2>&1 </dev/null); then
        podman_missing="podman build failed: $(brief "$out")"
    else
        subjects+=(podman)
    fi
fi
[[ -z $podman_missing ]] || skips+=(--skip "podman=unavailable: $podman_missing")
[[ ${#subjects[@]} -gt 0 ]] || die "neither berth nor podman can build here: ${skips[*]}"

# args_for MODE: timing.py's --subject/--prepare arguments of every subject for MODE
# (cold: a fresh store made before each run, the build in it; warm: nothing; change:
# change.sh before each run).
args_for() {
    local mode=$1 s cmd
    for s in "${subjects[@]}"; do
        case $mode:$s in
        cold:berth) cmd=$(q "${cold_berth_build[@]}") ;;
        cold:base) cmd=$(q "${cold_base_build[@]}") ;;
        cold:*) cmd=$(q "${cold_podman_build[@]}") ;;
        *:berth) cmd=$(q "${berth_build[@]}") ;;
        *:base) cmd=$(q "${base_build[@]}") ;;
        *) cmd=$(q "${podman_build[@]}") ;;
        esac
        args+=(--subject "$s=$cmd")
        case $mode in
        cold) args+=(--prepare "$s=bash $work/fresh-$s.sh $cold/$s-{i}") ;;
        change) args+=(--prepare "$s=bash $work/change.sh $s") ;;
        esac
    done
}

ratio=()
[[ " ${subjects[*]} " == *" podman "* && " ${subjects[*]} " == *" berth "* ]] && ratio=(--ratio "berth / podman")
[[ " ${subjects[*]} " == *" base "* && " ${subjects[*]} " == *" berth "* ]] && ratio+=(--ratio "berth / base")
timing() {
    python3 "$PWD/bench/timing.py" --baseline podman "${skips[@]}" "${ratio[@]}" "$@"
}

log "(a) cold builds: $COLD_RUNS interleaved runs each (after $WARMUP warm-ups), each in a fresh store"
args=()
args_for cold
timing --runs "$COLD_RUNS" --warmup "$WARMUP" --sync \
    --title "(a) cold build, 10 steps, 2 stages, $FILES files (target: berth / podman <= 0.5)" "${args[@]}"

log "(b) rebuilds with nothing changed: $WARM_RUNS interleaved runs each"
args=()
args_for warm
timing --runs "$WARM_RUNS" --warmup "$WARMUP" \
    --title "(b) rebuild, nothing changed (target: berth under 150 ms)" "${args[@]}"

log "(c) rebuilds after one byte changed in one file: $CHANGE_RUNS interleaved runs each"
args=()
args_for change
timing --runs "$CHANGE_RUNS" --warmup "$WARMUP" \
    --title "(c) rebuild after a one-byte change in one file (COPY files/ and what follows re-run)" "${args[@]}"

printf 'podman %s (runc %s), berth %s; context on %s\n' \
    "$(podman_cmd version --format '{{.Client.Version}}' 2>/dev/null || echo -)" \
    "$(runc --version 2>/dev/null | awk 'NR==1 {print $3}')" \
    "$("$berth" --version 2>/dev/null | awk '{print $2}')" \
    "$(df --output=fstype "$work" | tail -n1)"
