#!/usr/bin/env bash
# Verbs with many containers in the root: `run --rm true`, `inspect`, `start`+`stop` of
# one container, with 1,000 created containers in the root against an empty root; and
# one `rm -f` of 1,000 containers. berth and a private dockerd (Debian's docker.io, with
# its own data root, exec root, socket and pidfile, no bridge, no iptables, no
# forwarding), interleaved, medians and ratios.
# Run as root: bash bench/scale.sh   (env: CONTAINERS=1000 RUNS=20 WARMUP=2 RM_RUNS=3;
# DOCKER=0 measures berth alone, e.g. an older build against its own empty root;
# BERTH_BIN= BERTH_FIXTURES=, with BERTH_BIN nothing is built)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

CONTAINERS=${CONTAINERS:-1000}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-2}
RM_RUNS=${RM_RUNS:-3}
for v in CONTAINERS RUNS RM_RUNS; do
    [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a positive number"
done
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/scale.sh"

if [[ ${DOCKER:-1} == 0 ]]; then
    ensure_packages "${RUNTIME_PACKAGES[@]}"
else
    ensure_packages "${RUNTIME_PACKAGES[@]}" docker.io
fi
build_or_fixtures

berth=${BERTH_BIN:-$(release_bin)} # BERTH_BIN: another build to measure
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-scale.XXXXXX")
image=berth-test/busybox
cgroup_parent="berth-bench-scale-$$"
dockerd_pids=()
# dockerd makes /run/docker/plugins whatever its --exec-root; removed at the end if new.
run_docker_existed=0
[[ -e /run/docker ]] && run_docker_existed=1

cleanup() {
    set +e
    local root ids pid
    for root in "$work"/berth-*; do
        [[ -d $root ]] || continue
        ids=$("$berth" --root "$root" ps -q --no-trunc 2>/dev/null)
        # shellcheck disable=SC2086
        [[ -z $ids ]] || "$berth" --root "$root" rm -f $ids >/dev/null 2>&1
    done
    for pid in "${dockerd_pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${dockerd_pids[@]}"; do
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null
    done
    [[ $run_docker_existed == 1 ]] || rmdir /run/docker/plugins /run/docker 2>/dev/null
    unmount_below "$work"
    # dockerd's cgroups, all below a parent of this run.
    find /sys/fs/cgroup -depth -type d -path "*/$cgroup_parent*" -exec rmdir {} + 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

q() { printf '%q ' "$@"; }

# fill CLI... : creates $CONTAINERS stopped containers named fill-N with CLI (4 at a time).
fill() {
    seq 0 $((CONTAINERS - 1)) | xargs -P 4 -I{} "$@" create --network none --name fill-{} \
        "$image" true >/dev/null
}

# The roots: empty (only the probes below) and full ($CONTAINERS more).
declare -A cli
for state in empty full; do
    root="$work/berth-$state"
    cli[berth-$state]="$(q "$berth" --root "$root")"
    "$berth" --root "$root" load -q -i "$fixtures/busybox-save.tar" >/dev/null
done

# start_dockerd NAME: a private dockerd; prints nothing, sets cli[docker-NAME].
docker_ok=1
docker_why=""
start_dockerd() {
    local name=$1 dir="$work/d-$1"
    mkdir -p "$dir"
    echo '{}' >"$dir/daemon.json"
    dockerd --config-file "$dir/daemon.json" --data-root "$dir/data" --exec-root "$dir/x" \
        --pidfile "$dir/pid" -H "unix://$dir/sock" --bridge=none --iptables=false \
        --ip6tables=false --ip-forward=false --ip-masq=false --cgroup-parent "$cgroup_parent" \
        --log-level=error >"$dir/log" 2>&1 &
    dockerd_pids+=($!)
    local i
    for i in $(seq 300); do
        docker -H "unix://$dir/sock" info >/dev/null 2>&1 && break
        kill -0 "${dockerd_pids[-1]}" 2>/dev/null || break
        sleep 0.1
    done
    if ! docker -H "unix://$dir/sock" info >/dev/null 2>&1; then
        docker_ok=0
        docker_why="dockerd did not start: $(brief "$(cat "$dir/log")")"
        return
    fi
    cli[docker-$name]="$(q docker -H "unix://$dir/sock")"
    docker -H "unix://$dir/sock" load -q -i "$fixtures/busybox-save.tar" >/dev/null
}
if [[ ${DOCKER:-1} == 0 ]]; then
    docker_ok=0
    docker_why="not measured (DOCKER=0)"
elif command -v dockerd >/dev/null; then
    log "Starting two private dockerds ($(dockerd --version))"
    start_dockerd empty
    [[ $docker_ok == 0 ]] || start_dockerd full
else
    docker_ok=0
    docker_why="dockerd is not installed"
fi
engines=(berth)
[[ $docker_ok == 1 ]] && engines+=(docker)

for e in "${engines[@]}"; do
    for state in empty full; do
        eval "c=(${cli[$e-$state]})"
        "${c[@]}" create --network none --name probe "$image" true >/dev/null
        "${c[@]}" create --network none --name probe-ss "$image" sleep 600 >/dev/null
    done
    log "Filling the $e root with $CONTAINERS containers"
    eval "c=(${cli[$e-full]})"
    fill "${c[@]}"
done

# time_verb TITLE TEMPLATE: TEMPLATE (timing.py's syntax, `&&` between commands) with
# each @ replaced by an engine's command line, for each engine's empty and full root.
time_verb() {
    local title=$1 template=$2
    local subjects=() ratios=() skips=() e state
    for e in "${engines[@]}"; do
        for state in empty full; do
            subjects+=(--subject "$e-$state=${template//@/${cli[$e-$state]}}")
        done
        ratios+=(--ratio "$e-full / $e-empty")
    done
    [[ $docker_ok == 1 ]] || skips+=(--skip "docker=unavailable: $docker_why")
    [[ $docker_ok == 1 ]] && ratios+=(--ratio "berth-full / docker-full")
    python3 bench/timing.py --runs "$RUNS" --warmup "$WARMUP" --baseline berth-empty \
        --title "$title: an empty root vs $CONTAINERS containers" \
        "${subjects[@]}" "${ratios[@]}" "${skips[@]}"
    echo
}

log "Timing $RUNS interleaved runs of each verb (after $WARMUP warm-ups)"
time_verb "run --rm --network none true" "@run --rm --network none $image true"
time_verb "inspect" "@inspect probe"
time_verb "start + stop -t 0" "@start probe-ss && @stop -t 0 probe-ss"

# One rm -f of $CONTAINERS containers by name; each run's are made before it, untimed.
names=$(seq -f 'rm-%g' 0 $((CONTAINERS - 1)) | tr '\n' ' ')
subjects=()
prepares=()
skips=()
for e in "${engines[@]}"; do
    subjects+=(--subject "$e=${cli[$e-empty]}rm -f $names")
    prepares+=(--prepare "$e=bash -c $(q "seq 0 $((CONTAINERS - 1)) | xargs -P 4 -I{} ${cli[$e-empty]}create --network none --name rm-{} $image true >/dev/null")")
done
[[ $docker_ok == 1 ]] || skips+=(--skip "docker=unavailable: $docker_why")
log "Timing $RM_RUNS interleaved runs of rm -f of $CONTAINERS containers (made before each, untimed)"
# --sync: the writeback of the 1,000 creates is not billed to the rm.
python3 bench/timing.py --runs "$RM_RUNS" --warmup 0 --baseline berth --sync \
    --title "rm -f of $CONTAINERS containers in one invocation" \
    "${subjects[@]}" "${prepares[@]}" "${skips[@]}"
