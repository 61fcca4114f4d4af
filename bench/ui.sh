#!/usr/bin/env bash
# Dashboard cost on a big engine: 1,000 containers (20 running `sleep`), 1,000 volumes and
# 100 networks on a tmpfs engine root. Measures, in one run: time to the first frame (and the first
# frame with data), frame time median/p99 and key-to-frame latency over 200 keys sent
# through a private tmux server, idle CPU over 60 s, RSS, and `berth ps -a` on the same
# state beside it. Frame timings come from the dashboard's BERTH_UI_TRACE hook. First,
# `ui --once` (the containers pane, and the volumes pane with its SIZE column) timed
# interleaved with `ps -a` on the same root; BASE_BIN=/path/to/berth adds another build's
# `ui --once` and `ps -a` to the same interleaving (before/after on one state). The CPU
# time (user + system, from wait4) of each is printed beside: on a busy machine the wall
# time is mostly waiting for a core. ONCE_ONLY=1 stops after `ui --once`.
# Then, beside it, oxker (`cargo install oxker --locked`) over a private dockerd (Debian's
# docker.io) on a tmpfs of its own, started inside this script's network namespace, with
# DOCKER_CONTAINERS containers of which the same RUNNING run: both dashboards timed from
# outside the same way (tmux_screen.py: first screen with a container on it, key to
# changed screen), idle CPU with the running containers (oxker's plus dockerd's and
# containerd's), RSS. DOCKER=0 skips it.
# Run as root: bash bench/ui.sh
#   (env: CONTAINERS=1000 RUNNING=20 VOLUMES=1000 NETWORKS=100 KEYS=200 IDLE=60 LAUNCHES=5
#    PS_RUNS=10 ONCE_RUNS=20 BASE_BIN= ONCE_ONLY= DOCKER=1 DOCKER_CONTAINERS=$CONTAINERS
#    SCREEN_KEYS=50)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# Containers get bridges and firewall rules: in a network namespace of the bench's own.
in_private_netns "$PWD/bench/ui.sh" "$@"

CONTAINERS=${CONTAINERS:-1000}
RUNNING=${RUNNING:-20}
VOLUMES=${VOLUMES:-1000}
NETWORKS=${NETWORKS:-100}
KEYS=${KEYS:-200}
IDLE=${IDLE:-60}
LAUNCHES=${LAUNCHES:-5}
PS_RUNS=${PS_RUNS:-10}
ONCE_RUNS=${ONCE_RUNS:-20}
BASE_BIN=${BASE_BIN:-}
ONCE_ONLY=${ONCE_ONLY:-}
DOCKER=${DOCKER:-1}
DOCKER_CONTAINERS=${DOCKER_CONTAINERS:-$CONTAINERS}
SCREEN_KEYS=${SCREEN_KEYS:-50}
for var in CONTAINERS RUNNING VOLUMES NETWORKS KEYS IDLE LAUNCHES PS_RUNS ONCE_RUNS \
    DOCKER_CONTAINERS SCREEN_KEYS; do
    [[ ${!var} =~ ^[0-9]+$ && ${!var} -ge 1 ]] || die "$var must be a positive number"
done
[[ $RUNNING -le $CONTAINERS ]] || die "RUNNING must not exceed CONTAINERS"
[[ $RUNNING -le $DOCKER_CONTAINERS ]] || die "RUNNING must not exceed DOCKER_CONTAINERS"
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/ui.sh"
[[ -z $BASE_BIN || -x $BASE_BIN ]] || die "BASE_BIN=$BASE_BIN is not an executable"

ensure_packages "${RUNTIME_PACKAGES[@]}" tmux
ensure_cargo
build_release_and_fixtures

berth=${BERTH_BIN:-$(release_bin)}  # BERTH_BIN: another build to measure
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-ui.XXXXXX")
engine="$work/root"
sock="berth-bench-ui-$$"
tmux_() { tmux -L "$sock" -f /dev/null "$@"; }
dashboard_pid=
dockerd_pid=

cleanup() {
    set +e
    tmux_ kill-server >/dev/null 2>&1
    [[ -n $dashboard_pid ]] && kill "$dashboard_pid" 2>/dev/null
    if [[ -n $dockerd_pid ]]; then
        # Running containers first: dockerd's own shutdown waits out each one's stop.
        docker ps -q | xargs -r docker rm -f >/dev/null 2>&1
        kill "$dockerd_pid" 2>/dev/null
        wait "$dockerd_pid" 2>/dev/null
    fi
    if mountpoint -q "$engine"; then
        local ids
        ids=$("$berth" --root "$engine" ps -aq --no-trunc 2>/dev/null)
        if [[ -n $ids ]]; then
            # Removes the containers with their monitors, mounts and cgroups.
            # shellcheck disable=SC2086
            printf '%s\n' $ids | xargs -n 100 "$berth" --root "$engine" rm -f >/dev/null 2>&1
        fi
    fi
    unmount_below "$work"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$engine"
mount -t tmpfs -o size=4g,mode=0700 berth-bench-ui "$engine"
b() { "$berth" --root "$engine" "$@"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

log "Setup: $CONTAINERS containers ($RUNNING running), $VOLUMES volumes, $NETWORKS networks on a tmpfs"
b load -q -i .fixtures/busybox-save.tar >/dev/null
t0=$(now)
seq 1 "$CONTAINERS" |
    xargs -P 8 -I{} "$berth" --root "$engine" create --name bench-{} berth-test/busybox sleep 100000 >/dev/null
t1=$(now)
# shellcheck disable=SC2046
b start $(seq -f 'bench-%g' 1 "$RUNNING") >/dev/null
t2=$(now)
seq 1 "$VOLUMES" | xargs -P 8 -I{} "$berth" --root "$engine" volume create bench-vol-{} >/dev/null
t3=$(now)
# Subnets of their own: Docker's default pools hold 31 networks.
seq 0 $((NETWORKS - 1)) |
    xargs -P 8 -I{} "$berth" --root "$engine" network create --subnet "10.200.{}.0/24" bench-net-{} >/dev/null
t4=$(now)
[[ $(b ps -aq | wc -l) -eq $CONTAINERS ]] || die "expected $CONTAINERS containers"
[[ $(b ps -q | wc -l) -eq $RUNNING ]] || die "expected $RUNNING running containers"
[[ $(b volume ls -q | wc -l) -eq $VOLUMES ]] || die "expected $VOLUMES volumes"
# Plus the built-ins bridge, host and none.
[[ $(b network ls -q | wc -l) -eq $((NETWORKS + 3)) ]] || die "expected $NETWORKS networks"
setup="create $(secs "$t0" "$t1") s, start $(secs "$t1" "$t2") s, volumes $(secs "$t2" "$t3") s, networks $(secs "$t3" "$t4") s (xargs -P 8)"
echo "setup: $setup" >&2

log "ui --once and ps -a, interleaved ($ONCE_RUNS runs each)"
subjects=(
    --subject "ps-a=$berth --root $engine ps -a"
    --subject "once=$berth --root $engine ui --once"
    --subject "once-vol=$berth --root $engine ui --once --view volumes"
)
ratios=(--ratio 'once / ps-a' --ratio 'once-vol / ps-a')
if [[ -n $BASE_BIN ]]; then
    subjects+=(
        --subject "base-ps-a=$BASE_BIN --root $engine ps -a"
        --subject "base-once=$BASE_BIN --root $engine ui --once"
        --subject "base-vol=$BASE_BIN --root $engine ui --once --view volumes"
    )
    ratios+=(--ratio 'base-once / base-ps-a' --ratio 'base-once / once')
fi
once_table=$(python3 bench/timing.py --runs "$ONCE_RUNS" --warmup 2 --baseline ps-a \
    "${subjects[@]}" "${ratios[@]}")
# The same subjects again, interleaved, for their CPU time (user + system of the process
# and its threads, from wait4): what the command costs whatever else the machine runs.
once_cpu=$(python3 - "$ONCE_RUNS" "${subjects[@]}" <<'PY'
import os, shlex, statistics, sys, time

runs = int(sys.argv[1])
subjects = [s.partition("=") for s in sys.argv[3::2]]
samples = {name: [] for name, _, _ in subjects}
for i in range(runs + 2):
    for name, _, command in subjects:
        argv = shlex.split(command)
        devnull = os.open(os.devnull, os.O_RDWR)
        pid = os.fork()
        if pid == 0:
            os.dup2(devnull, 0)
            os.dup2(devnull, 1)
            os.execv(argv[0], argv)
        os.close(devnull)
        _, status, usage = os.wait4(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{name} failed")
        if i >= 2:
            samples[name].append((usage.ru_utime + usage.ru_stime) * 1000)
base = statistics.median(samples["ps-a"])
print(f"{'CPU time (user + sys)':<22} {'median':>9} {'p90':>9} {'/ ps-a':>8}")
for name, values in samples.items():
    ordered = sorted(values)
    p90 = ordered[max(0, -(-9 * len(ordered) // 10) - 1)]
    median = statistics.median(values)
    print(f"{name:<22} {median:7.1f} ms {p90:6.1f} ms {median / base:7.2f}x")
PY
)
if [[ -n $ONCE_ONLY ]]; then
    echo "ui --once over $CONTAINERS containers ($RUNNING running), $VOLUMES volumes, $NETWORKS networks (target: under 100 ms)"
    echo "$once_table"
    echo
    echo "$once_cpu"
    exit 0
fi

# launch NAME TRACE: opens the dashboard in a new tmux session (160x45) with tracing to
# TRACE, the CLOCK_MONOTONIC stamp just before exec in TRACE.t0; prints its pid.
launch() {
    local name=$1 trace=$2
    : >"$trace"
    tmux_ new-session -d -s "$name" -x 160 -y 45 -- \
        env BERTH_UI_TRACE="$trace" python3 -c '
import os, sys, time
with open(sys.argv[1], "w") as out:
    out.write("%d\n" % (time.monotonic_ns() // 1000))
os.execv(sys.argv[2], sys.argv[2:])' "$trace.t0" "$berth" --root "$engine" ui
    tmux_ display-message -p -t "$name" '#{pane_pid}'
}

# wait_data TRACE: waits (up to 60 s) for a frame with the first snapshot.
wait_data() {
    local i
    for i in $(seq 600); do
        grep -q ' data=1 ' "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    die "the dashboard drew no frame with data within 60 s ($1)"
}

log "Time to first frame ($LAUNCHES launches) interleaved with berth ps -a ($PS_RUNS runs)"
ps_times="$work/ps.ms"
per_launch=$(((PS_RUNS + LAUNCHES - 1) / LAUNCHES))
done_ps=0
for i in $(seq "$LAUNCHES"); do
    pid=$(launch "first-$i" "$work/first-$i.trace")
    dashboard_pid=$pid
    wait_data "$work/first-$i.trace"
    tmux_ kill-session -t "first-$i"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    dashboard_pid=
    for _ in $(seq "$per_launch"); do
        [[ $done_ps -lt $PS_RUNS ]] || break
        python3 - "$berth" "$engine" >>"$ps_times" <<'PY'
import subprocess, sys, time
start = time.perf_counter()
subprocess.run([sys.argv[1], "--root", sys.argv[2], "ps", "-a"], check=True, stdout=subprocess.DEVNULL)
print("%.3f" % ((time.perf_counter() - start) * 1000))
PY
        done_ps=$((done_ps + 1))
    done
done

log "Frames and keys: $KEYS keys (j k tab 1..5) into one dashboard"
trace="$work/main.trace"
dashboard_pid=$(launch main "$trace")
wait_data "$trace"
sleep 3
keys=(j j k Tab 2 j k 3 j 4 5 1 j j k)
marker_keys=$(wc -l <"$trace")
for i in $(seq 0 $((KEYS - 1))); do
    tmux_ send-keys -t main "${keys[i % ${#keys[@]}]}"
    sleep 0.03
done
tmux_ send-keys -t main 1
sleep 3
marker_idle=$(wc -l <"$trace")

# Running first: the running containers lead the first screen, with the preview pane.
log "Idle: ${IDLE} s without input on the containers view (all, running first)"
ticks() { awk '{ print $14 + $15 }' "/proc/$dashboard_pid/stat"; }
cpu0=$(ticks)
sleep "$IDLE"
cpu1=$(ticks)
marker_end=$(wc -l <"$trace")

log "Idle: ${IDLE} s with the running containers on screen (a: running only), stats each second"
tmux_ send-keys -t main a
sleep 3
marker_live=$(wc -l <"$trace")
cpu2=$(ticks)
sleep "$IDLE"
cpu3=$(ticks)
marker_live_end=$(wc -l <"$trace")
tmux_ capture-pane -p -t main >"$work/screen-live.txt"
head -n 4 "$work/screen-live.txt" >&2
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$dashboard_pid/status")
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$dashboard_pid/status")
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$dashboard_pid/status")
tmux_ capture-pane -p -t main >"$work/screen.txt"
head -n 5 "$work/screen.txt" >&2

echo "ui --once over $CONTAINERS containers ($RUNNING running), $VOLUMES volumes, $NETWORKS networks (target: under 100 ms)"
echo "$once_table"
echo
echo "$once_cpu"
echo
python3 - "$work" "$LAUNCHES" "$marker_keys" "$marker_idle" "$marker_end" \
    "$cpu0" "$cpu1" "$(getconf CLK_TCK)" "$IDLE" "$rss" "$hwm" "$threads" \
    "$CONTAINERS" "$RUNNING" "$VOLUMES" "$setup" "$marker_live" "$marker_live_end" \
    "$cpu2" "$cpu3" <<'PY'
import statistics, sys

(work, launches, m_keys, m_idle, m_end, cpu0, cpu1, hz, idle, rss, hwm, threads,
 containers, running, volumes, setup, m_live, m_live_end, cpu2, cpu3) = sys.argv[1:]

def frames(path):
    out = []
    with open(path) as fh:
        for line in fh:
            # Numbers only: `why` names the messages a frame answered.
            fields = (f.split("=", 1) for f in line.split())
            out.append({k: int(v) for k, v in fields if v.isdigit()})
    return out

def t0(path):
    with open(path + ".t0") as fh:
        return int(fh.read())

def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-p * len(ordered) // 100) - 1))]

first, first_data = [], []
for i in range(1, int(launches) + 1):
    path = f"{work}/first-{i}.trace"
    fr, start = frames(path), t0(path)
    first.append((fr[0]["mono_us"] - start) / 1000)
    first_data.append((next(f for f in fr if f["data"])["mono_us"] - start) / 1000)
with open(f"{work}/ps.ms") as fh:
    ps = [float(x) for x in fh]

main = frames(f"{work}/main.trace")
keyed = main[int(m_keys):int(m_idle)]
draws = [f["draw_us"] / 1000 for f in keyed]
keys = [f["key_us"] / 1000 for f in keyed if f["key"]]
idle_frames = int(m_end) - int(m_idle)
cpu = (int(cpu1) - int(cpu0)) / int(hz) / int(idle) * 100
live_frames = int(m_live_end) - int(m_live)
live_cpu = (int(cpu3) - int(cpu2)) / int(hz) / int(idle) * 100

def row(name, value, target=""):
    print(f"{name:<34} {value:>14} {target:>12}")

print(f"dashboard on {containers} containers ({running} running), {volumes} volumes, tmpfs root, 160x45 tmux")
print(f"setup: {setup}")
row("measure", "value", "target")
print("-" * 62)
row(f"first frame, median of {launches}", f"{statistics.median(first):.1f} ms")
row("first frame with data, median", f"{statistics.median(first_data):.1f} ms", "< 100 ms")
row(f"  (all launches)", " ".join(f"{x:.0f}" for x in first_data) + " ms")
row(f"berth ps -a, median of {len(ps)}", f"{statistics.median(ps):.1f} ms")
row("first data frame / ps -a", f"{statistics.median(first_data) / statistics.median(ps):.2f}x")
row(f"frame time median ({len(draws)} frames)", f"{statistics.median(draws):.2f} ms")
row("frame time p99", f"{pct(draws, 99):.2f} ms", "< 4 ms")
row(f"key to frame median ({len(keys)} keys)", f"{statistics.median(keys):.2f} ms")
row("key to frame p99", f"{pct(keys, 99):.2f} ms")
row(f"idle CPU over {idle} s, all, preview", f"{cpu:.2f} % core", "< 0.5 %")
row("  frames drawn while idle", f"{idle_frames} ({idle_frames / int(idle):.2f}/s)")
row(f"idle CPU, running only, preview", f"{live_cpu:.2f} % core", "< 0.5 %")
row("  frames drawn (stats each second)", f"{live_frames} ({live_frames / int(idle):.2f}/s)")
row("VmRSS / VmHWM", f"{int(rss) / 1024:.1f} / {int(hwm) / 1024:.1f} MB", "< 20 MB")
row("  threads", threads)
PY

# Beside it: oxker over a private dockerd, and berth again, timed from outside the same way.
oxker_bin=$(command -v oxker || echo "$HOME/.cargo/bin/oxker")
if [[ $DOCKER == 0 ]]; then
    exit 0
elif ! command -v dockerd >/dev/null || ! command -v docker >/dev/null || [[ ! -x $oxker_bin ]]; then
    echo
    echo "oxker: skipped (needs dockerd and docker from Debian's docker.io, and cargo install oxker --locked)"
    exit 0
fi
# berth's dashboard is done with: its CPU must not count against oxker's minute.
tmux_ kill-session -t main
while kill -0 "$dashboard_pid" 2>/dev/null; do sleep 0.05; done
dashboard_pid=

log "dockerd on a tmpfs of its own, in this network namespace"
mkdir -p "$work/d"
mount -t tmpfs -o size=6g,mode=0700 berth-bench-ui-docker "$work/d"
start_private_dockerd "$work/d"
docker load -q -i .fixtures/busybox-save.tar >/dev/null
d0=$(now)
seq 1 "$DOCKER_CONTAINERS" |
    xargs -P 8 -I{} docker create --network none --name bench-{} berth-test/busybox sleep 100000 >/dev/null
d1=$(now)
# shellcheck disable=SC2046
docker start $(seq -f 'bench-%g' 1 "$RUNNING") >/dev/null
d2=$(now)
[[ $(docker ps -aq | wc -l) -eq $DOCKER_CONTAINERS ]] || die "expected $DOCKER_CONTAINERS docker containers"
[[ $(docker ps -q | wc -l) -eq $RUNNING ]] || die "expected $RUNNING running docker containers"
docker_setup="create $(secs "$d0" "$d1") s, start $(secs "$d1" "$d2") s (xargs -P 8)"
echo "docker setup: $docker_setup" >&2

screen_py=$PWD/bench/tmux_screen.py
env_berth='{}'
env_oxker=$(printf '{"DOCKER_HOST": "%s"}' "$DOCKER_HOST")
# The first screen with a container's row on it: bench-1 is in both lists.
log "First screen with containers, oxker and berth interleaved ($LAUNCHES launches each)"
: >"$work/first-oxker.ms"
: >"$work/first-berth.ms"
for i in $(seq "$LAUNCHES"); do
    python3 "$screen_py" first "$sock" "ox-$i" "bench-" "$env_oxker" "$oxker_bin" --host "$DOCKER_HOST" >>"$work/first-oxker.ms"
    tmux_ kill-session -t "ox-$i"
    python3 "$screen_py" first "$sock" "be-$i" "bench-" "$env_berth" "$berth" --root "$engine" ui >>"$work/first-berth.ms"
    tmux_ kill-session -t "be-$i"
    sleep 1
done

# daemon_pids: this script's dockerd and its children (containerd), not the shims.
daemon_pids() {
    local pid
    echo "$dockerd_pid"
    for pid in $(pgrep -P "$dockerd_pid"); do echo "$pid"; done
}
ticks_of() {
    local total=0 pid t
    for pid in "$@"; do
        t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
        total=$((total + t))
    done
    echo "$total"
}

# measure_screen NAME ENV FIRST_KEY CMD...: a dashboard opened (then FIRST_KEY sent, if
# any), keys timed, then IDLE seconds without input; leaves keys-NAME.ms (one line a key)
# and idle-NAME ("own_ticks daemon_ticks rss_kb").
measure_screen() {
    local name=$1 env=$2 first_key=$3
    shift 3
    python3 "$screen_py" first "$sock" "$name" "bench-" "$env" "$@" >/dev/null
    local pid
    pid=$(tmux_ display-message -p -t "$name" '#{pane_pid}')
    [[ -n $first_key ]] && tmux_ send-keys -t "$name" "$first_key"
    sleep 3
    python3 "$screen_py" keys "$sock" "$name" "$SCREEN_KEYS" j k >"$work/keys-$name.ms"
    sleep 3
    local daemons=()
    [[ $name == oxker ]] && mapfile -t daemons < <(daemon_pids)
    local c0 d0 c1 d1
    c0=$(ticks_of "$pid")
    d0=$(ticks_of "${daemons[@]}")
    sleep "$IDLE"
    c1=$(ticks_of "$pid")
    d1=$(ticks_of "${daemons[@]}")
    tmux_ capture-pane -p -t "$name" >"$work/screen-$name.txt"
    echo "$((c1 - c0)) $((d1 - d0)) $(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")" >"$work/idle-$name"
    tmux_ kill-session -t "$name"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

log "oxker: $SCREEN_KEYS keys, then ${IDLE} s idle with $RUNNING running"
measure_screen oxker "$env_oxker" "" "$oxker_bin" --host "$DOCKER_HOST"
# Running only (a), as the second idle phase above: the running containers and the preview
# pane on screen, their stats sampled each second.
log "berth: the same, running only (a): its running containers and the preview pane on screen"
measure_screen berth "$env_berth" a "$berth" --root "$engine" ui
head -n 3 "$work/screen-oxker.txt" >&2
head -n 3 "$work/screen-berth.txt" >&2

python3 - "$work" "$(getconf CLK_TCK)" "$IDLE" "$DOCKER_CONTAINERS" "$CONTAINERS" "$RUNNING" \
    "$docker_setup" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import statistics, sys

work, hz, idle, docker_n, berth_n, running, setup, load = sys.argv[1:]
hz, idle = int(hz), int(idle)

def floats(path):
    with open(path) as fh:
        return [float(x) for x in fh if x.strip()]

def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-p * len(ordered) // 100) - 1))]

def idle_of(name):
    with open(f"{work}/idle-{name}") as fh:
        own, daemons, rss = (int(x) for x in fh.read().split())
    return own / hz / idle * 100, daemons / hz / idle * 100, rss / 1024

print()
print(f"beside oxker (timed from outside through tmux, 160x45): berth over {berth_n} containers,")
print(f"oxker over {docker_n} Docker containers (private dockerd on a tmpfs; setup: {setup}); {running} running each; load {load} at the end")
print(f"{'measure':<40} {'berth':>12} {'oxker':>12} {'oxker/berth':>12}")
print("-" * 78)
def row(name, b, o, unit):
    ratio = f"{o / b:.1f}x" if b > 0 else "-"
    print(f"{name:<40} {b:>9.1f} {unit:<2} {o:>9.1f} {unit:<2} {ratio:>12}")
fb, fo = floats(f"{work}/first-berth.ms"), floats(f"{work}/first-oxker.ms")
row(f"first screen with containers, median", statistics.median(fb), statistics.median(fo), "ms")
kb, ko = floats(f"{work}/keys-berth.ms"), floats(f"{work}/keys-oxker.ms")
row(f"key to changed screen, median ({len(kb)})", statistics.median(kb), statistics.median(ko), "ms")
row("key to changed screen, p99", pct(kb, 99), pct(ko, 99), "ms")
(bc, _, brss), (oc, od, orss) = idle_of("berth"), idle_of("oxker")
row(f"idle CPU over {idle} s, dashboard", bc, oc, "%")
print(f"{'  + dockerd and containerd':<40} {'-':>12} {od:>9.1f} %")
row("  total", bc, oc + od, "%")
row("RSS at the end", brss, orss, "MB")
PY
