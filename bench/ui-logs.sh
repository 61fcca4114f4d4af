#!/usr/bin/env bash
# The dashboard's logs tab following a container that writes RATE lines a second (50,000
# by default, in bursts of a tenth of that about every 100 ms) on a tmpfs engine root: the
# dashboard's CPU (user + system, all its threads, from /proc) over FOLLOW seconds of
# following without input, its RSS, then key to frame (the BERTH_UI_TRACE hook, as
# bench/ui.sh) over KEYS keys sent while it follows (w: wrap on and off, each a redraw)
# and while scrolled back (k and j, each a scroll that may read a page of the file).
# The rate the container reached is measured from its log file, not assumed.
# Run as root: bash bench/ui-logs.sh
#   (env: RATE=50000 FOLLOW=30 KEYS=100 BERTH_BIN=another build to measure)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
in_private_netns "$PWD/bench/ui-logs.sh" "$@"

RATE=${RATE:-50000}
FOLLOW=${FOLLOW:-30}
KEYS=${KEYS:-100}
for var in RATE FOLLOW KEYS; do
    [[ ${!var} =~ ^[0-9]+$ && ${!var} -ge 1 ]] || die "$var must be a positive number"
done
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/ui-logs.sh"

ensure_packages "${RUNTIME_PACKAGES[@]}" tmux
build_or_fixtures
berth=${BERTH_BIN:-$(release_bin)}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-ui-logs.XXXXXX")
engine="$work/root"
sock="berth-bench-ui-logs-$$"
tmux_() { tmux -L "$sock" -f /dev/null "$@"; }
dashboard_pid=

cleanup() {
    set +e
    tmux_ kill-server >/dev/null 2>&1
    [[ -n $dashboard_pid ]] && kill "$dashboard_pid" 2>/dev/null
    if mountpoint -q "$engine"; then
        "$berth" --root "$engine" rm -f chatty >/dev/null 2>&1
    fi
    unmount_below "$work"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$engine"
mount -t tmpfs -o size=4g,mode=0700 berth-bench-ui-logs "$engine"
b() { "$berth" --root "$engine" "$@"; }

log "A container writing $RATE lines a second"
b load -q -i "$fixtures/busybox-save.tar" >/dev/null
burst=$((RATE / 10))
# A burst of access-log-like lines, then a pause: 70 ms, as writing the burst takes about
# a third of the 100 ms on a busy machine (the rate reached is measured below).
b run -d --network none --name chatty berth-test/busybox sh -c "
    while true; do
        awk -v n=$burst 'BEGIN { for (i = 0; i < n; i++) printf \"GET /api/items?id=%d HTTP/1.1 200 3ms\\n\", i }'
        usleep 70000
    done" >/dev/null
id=$(b ps -q --no-trunc --filter name=chatty)
logfile="$engine/containers/$id/container.log"
[[ -f $logfile ]] || logfile=$(find "$engine" -name container.log -path "*$id*" | head -n1)
[[ -f $logfile ]] || die "no log file for chatty under $engine"
lines_at() { wc -l <"$logfile"; }

# launch TRACE: the dashboard in a tmux session (160x45) tracing frames to TRACE; its pid.
launch() {
    tmux_ new-session -d -s main -x 160 -y 45 -- \
        env BERTH_UI_TRACE="$1" "$berth" --root "$engine" ui
    tmux_ display-message -p -t main '#{pane_pid}'
}

trace="$work/logs.trace"
: >"$trace"
dashboard_pid=$(launch "$trace")
for _ in $(seq 100); do
    grep -q ' data=1 ' "$trace" 2>/dev/null && break
    sleep 0.1
done
# The only container is selected: open it, then the logs tab (four tabs right).
tmux_ send-keys -t main Enter
sleep 0.5
for _ in 1 2 3 4; do
    tmux_ send-keys -t main l
    sleep 0.2
done
sleep 3
tmux_ capture-pane -p -t main | grep -q 'following' || {
    tmux_ capture-pane -p -t main >&2
    die "the logs tab is not following"
}

log "Following for $FOLLOW s without input"
ticks() { awk '{ print $14 + $15 }' "/proc/$dashboard_pid/stat"; }
marker_follow=$(wc -l <"$trace")
lines0=$(lines_at)
t0=$(date +%s.%N)
cpu0=$(ticks)
sleep "$FOLLOW"
cpu1=$(ticks)
t1=$(date +%s.%N)
lines1=$(lines_at)
marker_keys=$(wc -l <"$trace")
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$dashboard_pid/status")
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$dashboard_pid/status")
tmux_ capture-pane -p -t main >"$work/screen-follow.txt"
tail -n 3 "$work/screen-follow.txt" >&2

log "$KEYS keys while following (w), then $KEYS while scrolled back (k, j)"
for i in $(seq "$KEYS"); do
    tmux_ send-keys -t main w
    sleep 0.1
done
marker_back=$(wc -l <"$trace")
tmux_ send-keys -t main k
sleep 1
for i in $(seq "$KEYS"); do
    if ((i % 2)); then tmux_ send-keys -t main k; else tmux_ send-keys -t main PageUp; fi
    sleep 0.1
done
marker_end=$(wc -l <"$trace")
tmux_ capture-pane -p -t main >"$work/screen-back.txt"
tail -n 3 "$work/screen-back.txt" >&2
load=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$trace" "$marker_follow" "$marker_keys" "$marker_back" "$marker_end" \
    "$cpu0" "$cpu1" "$(getconf CLK_TCK)" "$t0" "$t1" "$lines0" "$lines1" "$rss" "$hwm" \
    "$RATE" "$load" <<'PY'
import statistics, sys

(trace, m_follow, m_keys, m_back, m_end, cpu0, cpu1, hz, t0, t1, lines0, lines1, rss, hwm,
 rate, load) = sys.argv[1:]
with open(trace) as fh:
    # Numbers only: `why` names the messages a frame answered.
    frames = [
        {k: int(v) for k, v in (f.split("=", 1) for f in line.split()) if v.isdigit()}
        for line in fh
    ]

def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-p * len(ordered) // 100) - 1))]

secs = float(t1) - float(t0)
cpu = (int(cpu1) - int(cpu0)) / int(hz) / secs * 100
written = (int(lines1) - int(lines0)) / secs
following = frames[int(m_follow):int(m_keys)]
def keys(part):
    return [f["key_us"] / 1000 for f in part if f["key"]]
follow_keys = keys(frames[int(m_keys):int(m_back)])
back_keys = keys(frames[int(m_back):int(m_end)])

def row(name, value, target=""):
    print(f"{name:<40} {value:>16} {target:>10}")

print(f"logs tab following a container asked for {rate} lines/s (tmpfs root, 160x45 tmux), load {load}")
row("measure", "value", "target")
print("-" * 68)
row("lines written per second (measured)", f"{written:,.0f}")
row(f"dashboard CPU over {secs:.0f} s following", f"{cpu:.2f} % core", "< 1 %")
row("  frames drawn", f"{len(following)} ({len(following) / secs:.2f}/s)")
for name, values in (("key to frame, following", follow_keys), ("key to frame, scrolled back", back_keys)):
    if values:
        row(f"{name}: median ({len(values)})", f"{statistics.median(values):.2f} ms")
        row(f"{name}: p99", f"{pct(values, 99):.2f} ms", "< 50 ms")
        row(f"{name}: max", f"{max(values):.2f} ms")
row("VmRSS / VmHWM", f"{int(rss) / 1024:.1f} / {int(hwm) / 1024:.1f} MB")
PY
