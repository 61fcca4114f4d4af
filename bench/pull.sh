#!/usr/bin/env bash
# Image pull time from a local registry: `berth pull` of a synthetic three-layer image of
# ~200 MiB against `podman pull` (which unpacks too) and `skopeo copy` to an OCI layout
# (which does not), each into a fresh empty store every run. Interleaved runs, all inside
# a network namespace this script makes and holds, against Debian's docker-registry
# listening on 127.0.0.1 there: nothing reaches the host's network.
# Run as root: bash bench/pull.sh   (env: RUNS=5 WARMUP=1)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be a positive number"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a number"
[[ $(id -u) -eq 0 ]] || die "run as root: bash bench/pull.sh"

# skopeo also seeds the registry, so it is required; podman is only a comparison.
ensure_packages "${RUNTIME_PACKAGES[@]}" docker-registry skopeo curl
ensure_cargo
build_release_and_fixtures

podman_missing=""
if ! (ensure_packages podman); then
    podman_missing="podman could not be installed (see apt-get above)"
fi

berth=${BERTH_BIN:-$(release_bin)} # BERTH_BIN: another build to measure
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-pull.XXXXXX")
port=5000 # the namespace is new, so nothing else listens there
ref="127.0.0.1:$port/bench/big:latest"
holder=""
registry=""

# What podman and skopeo would leave on the host if they escaped the holder's mount
# namespace (their state and blob-info cache in fixed paths, temp files in /var/tmp), and
# what a subject touching the network would change: checked at the end.
host_state() {
    ip -o link show 2>/dev/null | awk -F': ' '{ print $2 }' | grep -E '^(berth0|podman0)$'
    nft list tables 2>/dev/null
    printf 'ip_forward=%s\n' "$(cat /proc/sys/net/ipv4/ip_forward)"
    local path
    for path in /run/containers /var/lib/containers; do
        [[ -e $path ]] && printf '%s\n' "$path"
    done
    find /var/tmp -maxdepth 1 \( -name 'container_images_*' -o -name 'storage[0-9]*' \
        -o -name 'oci-put-blob*' \) 2>/dev/null
    return 0
}
host_before=$(host_state)

cleanup() {
    set +e
    if [[ -n $registry ]] && kill -0 "$registry" 2>/dev/null; then
        kill "$registry" 2>/dev/null
        wait "$registry" 2>/dev/null
    fi
    if [[ -n $holder ]] && kill -0 "$holder" 2>/dev/null; then
        kill "$holder" 2>/dev/null
        wait "$holder" 2>/dev/null
    fi
    unmount_below "$work"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The disk is noisy: image, registry storage and the three stores live on a tmpfs. Peak
# use, under 1 GiB: the layout (147 MiB) and the registry's copy of it, plus one store per
# subject (berth and podman ~230 MiB each, skopeo 147 MiB), each removed before the next
# run of its subject, untimed.
mount -t tmpfs -o size=2g,mode=0700 berth-bench-pull "$work"
mkdir -p "$work"/{registry,var-lib}

# The holder: a sleep in a new network namespace (lo up) and a private mount namespace in
# which /run is a fresh tmpfs and /var/lib a directory of the work dir. Only podman and
# skopeo enter the mount namespace: they keep state in /run/containers and a blob-info
# cache in /var/lib/containers whatever --root says, so the user's stay untouched, and
# the cache can be emptied between runs from here. berth and the registry run in the
# host's mount namespace.
log "Making the network namespace"
# shellcheck disable=SC2016 # $1 is the inner shell's
unshare --net --mount --propagation private -- sh -c '
    ip link set lo up &&
    mount -t tmpfs -o mode=0755 berth-bench-run /run &&
    mount --bind "$1" /var/lib &&
    exec sleep infinity' holder "$work/var-lib" </dev/null &
holder=$!
wait_for_holder "$holder" "network namespace"

ns=(/usr/bin/nsenter --net="/proc/$holder/ns/net" --)
ns_mnt=(/usr/bin/nsenter --net="/proc/$holder/ns/net" --mount="/proc/$holder/ns/mnt" --)
in_ns() {
    "${ns[@]}" "$@"
}
q() { printf '%q ' "$@"; }

log "Generating the image (3 layers, ~200 MiB)"
python3 bench/make_pull_image.py "$work/image" 2>"$work/image.txt" || die "make_pull_image.py: $(cat "$work/image.txt")"
image_shape=$(sed 's/^[^:]*: //' "$work/image.txt")
printf '%s\n' "$image_shape"
wire_bytes=$(find "$work/image/blobs" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')

# A config of the bench's own: 127.0.0.1 only, storage in the work dir, no access log.
log "Starting docker-registry on 127.0.0.1:$port in the namespace"
cat >"$work/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry/storage
http:
  addr: 127.0.0.1:$port
EOF
# Not through the in_ns function: a function in the background is a subshell, and its PID
# is not the registry's. nsenter without --pid execs the registry, so $! is its PID.
"${ns[@]}" /usr/bin/docker-registry serve "$work/registry/config.yml" \
    </dev/null >"$work/registry/log" 2>&1 &
registry=$!
for _ in $(seq 200); do
    in_ns curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/v2/" 2>/dev/null && break
    kill -0 "$registry" 2>/dev/null || die "docker-registry exited: $(brief "$(cat "$work/registry/log")")"
    sleep 0.05
done
in_ns curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/v2/" ||
    die "docker-registry did not answer: $(brief "$(cat "$work/registry/log")")"
[[ $(cat "/proc/$registry/comm" 2>/dev/null) == docker-registry ]] ||
    die "PID $registry is not the registry: cleanup could not stop it"
if ! out=$("${ns_mnt[@]}" skopeo --insecure-policy copy -q --dest-tls-verify=false \
    "oci:$work/image:latest" "docker://$ref" 2>&1 </dev/null); then
    die "seeding the registry with skopeo failed: $(brief "$out")"
fi

# Each subject pulls into its own directory, emptied (untimed, --prepare) before each run.
# podman and skopeo also lose the blob-info cache they share in /var/lib/containers.
berth_dir="$work/berth"
pod="$work/podman"
skopeo_dir="$work/skopeo"
podman_global=(
    "${ns_mnt[@]}" env TMPDIR="$pod/tmp" podman --root "$pod/root" --runroot "$pod/runroot"
    --tmpdir "$pod/tmp" --storage-driver overlay --cgroup-manager cgroupfs --events-backend none
)
berth_pull=("${ns[@]}" "$berth" --root "$berth_dir" pull -q "$ref")
podman_pull=("${podman_global[@]}" pull -q --tls-verify=false "$ref")
skopeo_pull=("${ns_mnt[@]}" env TMPDIR="$skopeo_dir.tmp" skopeo --insecure-policy copy -q
    --src-tls-verify=false "docker://$ref" "oci:$skopeo_dir:latest")
berth_prepare=(rm -rf "$berth_dir" "&&" mkdir "$berth_dir")
podman_prepare=(rm -rf "$pod" "$work/var-lib/containers" "&&" mkdir -p "$pod/root" "$pod/runroot" "$pod/tmp")
skopeo_prepare=(rm -rf "$skopeo_dir" "$skopeo_dir.tmp" "$work/var-lib/containers" "&&" mkdir "$skopeo_dir.tmp")

# probe PREPARE CMD (names of arrays): one untimed run of CMD after PREPARE (whose `&&`
# separates commands, as in timing.py); prints CMD's errors.
probe() {
    local -n prep=$1 cmd=$2
    local argv=() tok
    for tok in "${prep[@]}"; do
        if [[ $tok == "&&" ]]; then
            "${argv[@]}" || return 1
            argv=()
        else
            argv+=("$tok")
        fi
    done
    "${argv[@]}" || return 1
    "${cmd[@]}" </dev/null 2>&1 >/dev/null
}

subjects=()
skips=()
log "Probing berth"
out=$(probe berth_prepare berth_pull) || die "berth pull failed: $(brief "$out")"
[[ -n $(in_ns "$berth" --root "$berth_dir" images -q 2>/dev/null) ]] || die "berth pull left no image"
# The layers really are unpacked: the store holds at least the tars' bytes.
printf 'berth store after a pull: %s\n' "$(du -sh "$berth_dir" | cut -f1)"
subjects+=(--subject "berth=$(q "${berth_pull[@]}")" --prepare "berth=$(q "${berth_prepare[@]}")")

log "Probing podman"
if [[ -z $podman_missing ]]; then
    if ! out=$(probe podman_prepare podman_pull); then
        podman_missing="podman pull failed: $(brief "$out")"
    elif [[ -z $("${podman_global[@]}" images -q 2>/dev/null </dev/null) ]]; then
        podman_missing="podman pull left no image"
    fi
    [[ -z $podman_missing ]] && printf 'podman store after a pull: %s\n' "$(du -sh "$pod" | cut -f1)"
fi
if [[ -z $podman_missing ]]; then
    subjects+=(--subject "podman=$(q "${podman_pull[@]}")" --prepare "podman=$(q "${podman_prepare[@]}")")
else
    skips+=(--skip "podman=unavailable: $podman_missing")
    printf 'podman cannot run here (%s); measuring berth and skopeo only\n' "$podman_missing" >&2
fi

log "Probing skopeo"
out=$(probe skopeo_prepare skopeo_pull) || die "skopeo copy failed: $(brief "$out")"
[[ -f $skopeo_dir/index.json ]] || die "skopeo copy left no OCI layout"
printf 'skopeo layout after a copy: %s\n' "$(du -sh "$skopeo_dir" | cut -f1)"
subjects+=(--subject "skopeo=$(q "${skopeo_pull[@]}")" --prepare "skopeo=$(q "${skopeo_prepare[@]}")")

log "Timing $RUNS interleaved runs each (after $WARMUP warm-ups)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
python3 bench/timing.py --runs "$RUNS" --warmup "$WARMUP" --baseline berth --bytes "$wire_bytes" \
    --title "pull of $ref from a local registry, into a fresh store each run; MB/s of gzip blobs ($image_shape; $(nproc) CPUs, load $load_before)" \
    "${subjects[@]}" "${skips[@]}" \
    --ratio "podman / berth >= 1.2" --ratio "skopeo / berth >= 1.0"
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'skopeo %s, docker-registry %s' "$(skopeo --version | awk '{ print $3 }')" \
    "$(dpkg-query -W -f='${Version}' docker-registry)"
[[ -z $podman_missing ]] && printf ', podman %s (storage driver %s)' \
    "$("${podman_global[@]}" version --format '{{.Client.Version}}' 2>/dev/null </dev/null)" \
    "$("${podman_global[@]}" info --format '{{.Store.GraphDriverName}}' 2>/dev/null </dev/null)"
printf '\n'

if [[ $(host_state) != "$host_before" ]]; then
    die "the host changed during the run: before: $(tr '\n' ' ' <<<"$host_before"); after: $(host_state | tr '\n' ' ')"
fi
