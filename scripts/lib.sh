# shellcheck shell=bash
# Shared helpers for scripts/*.sh and bench/*.sh (sourced, not run).

log() {
    printf '\n==> %s\n' "$*" >&2
}

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# ensure_packages PKG...: installs the Debian packages that are missing (apt-get update
# only when something is missing). Needs root when anything has to be installed.
ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
    [[ $(id -u) -eq 0 ]] || die "missing packages (${missing[*]}): run as root so they can be installed"
    log "Installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh cloud machine runs unattended-upgrades at boot: wait for its dpkg lock.
    local wait_lock=(-o DPkg::Lock::Timeout=300)
    apt-get "${wait_lock[@]}" update -q </dev/null
    apt-get "${wait_lock[@]}" install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

# ensure_cargo: puts cargo on PATH (rustup installs it in ~/.cargo/bin) or fails clearly,
# and installs the C libraries the build links (BUILD_PACKAGES).
ensure_cargo() {
    ensure_packages "${BUILD_PACKAGES[@]}"
    if ! command -v cargo >/dev/null; then
        local dir
        for dir in "${CARGO_HOME:-$HOME/.cargo}/bin" /root/.cargo/bin; do
            if [[ -x $dir/cargo ]]; then
                PATH="$dir:$PATH"
                export PATH
                break
            fi
        done
    fi
    command -v cargo >/dev/null ||
        die "cargo not found: install a Rust toolchain >= $MIN_RUST (https://rustup.rs); Debian 12's rustc is too old"
    local version
    version=$(rustc --version | awk '{print $2}')
    [[ $(printf '%s\n' "$MIN_RUST" "${version%%-*}" | sort -V | head -n1) == "$MIN_RUST" ]] ||
        die "rustc $version is too old: berth needs >= $MIN_RUST (rustup update)"
}

# ensure_cargo_deny: puts cargo-deny (licenses, bans, sources: deny.toml) in ~/.cargo/bin,
# built once from crates.io when missing (no prebuilt binary offline; the build took 27
# minutes on a busy 2-core machine), the version deny.toml is written for. Call after
# ensure_cargo.
ensure_cargo_deny() {
    if cargo deny --version >/dev/null 2>&1; then
        return 0
    fi
    log "Installing cargo-deny $CARGO_DENY_VERSION (built once, into ~/.cargo/bin)"
    cargo install cargo-deny --locked --version "$CARGO_DENY_VERSION" ||
        die "cargo install cargo-deny failed: it needs the crates.io registry"
}

# The cargo-deny release deny.toml is written for.
CARGO_DENY_VERSION=0.20.2

# The minimum Rust version (Cargo.toml's rust-version).
MIN_RUST=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../Cargo.toml")

# The Debian packages the build links against: libseccomp compiles containers' seccomp
# filters (its runtime library, libseccomp2, is part of every Debian 12 system).
# shellcheck disable=SC2034
BUILD_PACKAGES=(libseccomp-dev)

# The Debian packages the tests and the demo need at run time.
# shellcheck disable=SC2034
RUNTIME_PACKAGES=(busybox-static zstd python3 util-linux procps iproute2 nftables)

# unmount_below DIR: lazily detaches every mount at or below DIR, deepest first.
unmount_below() {
    local dir=$1 target
    [[ -n $dir ]] || return 0
    awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print length($5), $5 }' /proc/self/mountinfo |
        sort -rn | cut -d' ' -f2- |
        while read -r target; do
            umount -l "$target" 2>/dev/null || true
        done
}

# wait_for_holder PID WHAT: waits (up to about 5 s) until PID, a bench's namespace
# holder (a shell whose last step is `exec sleep infinity`), sleeps with its namespaces
# set up; dies with "the WHAT holder exited" or "... did not start" otherwise.
wait_for_holder() {
    local pid=$1 what=$2
    for _ in $(seq 500); do
        [[ $(cat "/proc/$pid/comm" 2>/dev/null) == sleep ]] && break
        kill -0 "$pid" 2>/dev/null || die "the $what holder exited"
        sleep 0.01
    done
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == sleep ]] || die "the $what holder did not start"
}

# release_bin: the release build's binary. .cargo/config.toml builds for the host's own
# tuple (so that the binary can be linked statically), which Cargo puts under its name.
release_bin() {
    echo "$PWD/target/$(rustc --print host-tuple)/release/berth"
}

# build_release_and_fixtures: cargo build --release, then the fixture images in .fixtures.
build_release_and_fixtures() {
    log "cargo build --release"
    cargo build --release --locked
    log "Building fixture images into .fixtures"
    mkdir -p .fixtures
    flock .fixtures.lock bash tests/fixtures/build-images.sh "$PWD/.fixtures"
}

# build_or_fixtures: with BERTH_BIN set (another build is measured) only the fixture
# images, in BERTH_FIXTURES (default .fixtures); else build_release_and_fixtures. Sets
# $fixtures to the fixtures' directory.
build_or_fixtures() {
    fixtures=${BERTH_FIXTURES:-$PWD/.fixtures}
    if [[ -n ${BERTH_BIN:-} ]]; then
        if [[ ! -f $fixtures/busybox-save.tar ]]; then
            mkdir -p "$fixtures"
            flock "$fixtures.lock" bash tests/fixtures/build-images.sh "$fixtures"
        fi
    else
        ensure_cargo
        build_release_and_fixtures
        fixtures=$PWD/.fixtures
    fi
}

# install_berth: puts the release build (or $BERTH_BIN) on PATH ($PREFIX/bin, default
# /usr/local), with its shell completions (bash, zsh, fish) and manual page, all generated
# by berth itself.
install_berth() {
    local prefix=${PREFIX:-/usr/local} bin=${BERTH_BIN:-$(release_bin)}
    [[ -x $bin ]] || die "$bin is missing: build it first"
    log "Installing berth into $prefix/bin, with completions and a manual page"
    install -D -m 0755 "$bin" "$prefix/bin/berth"
    local man="$prefix/share/man/man1/berth.1"
    mkdir -p "$(dirname "$man")"
    "$bin" __man >"$man.tmp" && mv "$man.tmp" "$man"
    local shell dest
    for shell in bash zsh fish; do
        case $shell in
        bash) dest=$prefix/share/bash-completion/completions/berth ;;
        zsh) dest=$prefix/share/zsh/site-functions/_berth ;;
        fish) dest=$prefix/share/fish/vendor_completions.d/berth.fish ;;
        esac
        mkdir -p "$(dirname "$dest")"
        "$bin" completion "$shell" >"$dest.tmp" && mv "$dest.tmp" "$dest"
    done
    command -v berth >/dev/null || printf 'note: %s/bin is not on PATH\n' "$prefix" >&2
}

# install_boot_unit: installs berth-boot.service (runs `berth system boot` at boot, so
# containers with a restart policy come back after a reboot) into $SYSTEMD_UNIT_DIR
# (default /etc/systemd/system), pointing at $PREFIX/bin/berth. It is not enabled: the
# README says how.
install_boot_unit() {
    local prefix=${PREFIX:-/usr/local} dir=${SYSTEMD_UNIT_DIR:-/etc/systemd/system}
    local unit=$dir/berth-boot.service
    mkdir -p "$dir"
    sed "s|@BERTH@|$prefix/bin/berth|" "$(dirname "${BASH_SOURCE[0]}")/berth-boot.service" >"$unit.tmp"
    mv "$unit.tmp" "$unit"
    log "Installed $unit: enable it with  systemctl enable berth-boot.service"
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
        systemctl daemon-reload || true
    fi
}

# cgroup_layout: prints v2, hybrid or v1 for this host's /sys/fs/cgroup.
cgroup_layout() {
    if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then
        echo v2
    elif [[ -d /sys/fs/cgroup/unified && $(stat -fc %T /sys/fs/cgroup/unified) == cgroup2fs ]]; then
        echo hybrid
    else
        echo v1
    fi
}

# brief TEXT: the first two non-empty lines of TEXT on one line, at most 160 characters.
brief() {
    local text
    text=$(grep -v '^[[:space:]]*$' <<<"$1" | head -n2 | tr '\n' ' ')
    text=${text% }
    printf '%s' "${text:0:160}"
}

# in_private_netns SCRIPT ARGS...: re-runs the calling script in a network namespace of
# its own (loopback up), once, so the bridges, veths and nftables rules its containers
# get never touch the host's. Call it after cd-ing to the repository: `in_private_netns "$PWD/bench/x.sh" "$@"`.
in_private_netns() {
    if [[ -z ${BERTH_PRIVATE_NETNS:-} ]]; then
        exec unshare --net -- env BERTH_PRIVATE_NETNS=1 \
            sh -c 'ip link set lo up && exec bash "$@"' in_private_netns "$@"
    fi
}

# demo_containers BERTH FIXTURES: the demo's image and containers (a ticker, a web server
# with a volume on a network of its own, a finished job, one never started), made once;
# a second call starts what exists. The README's examples run after it (tests/cli/readme.rs).
demo_containers() {
    local berth=$1 fixtures=$2
    log "berth load -i $fixtures/busybox-save.tar"
    "$berth" load -i "$fixtures/busybox-save.tar"

    if "$berth" inspect --type container demo >/dev/null 2>&1; then
        log "Container 'demo' exists: berth start demo"
        "$berth" start demo
    else
        log "berth run -d --name demo berth-test/busybox ..."
        "$berth" run -d --name demo berth-test/busybox sh -c 'while true; do date; sleep 2; done'
    fi

    # A few more to look at: a web server with a volume on a network of its own, its port
    # published on a free port of 127.0.0.1, a finished job with a diff, one created but never
    # started.
    if ! "$berth" inspect --type container demo-web >/dev/null 2>&1; then
        "$berth" volume create demo-data >/dev/null
        "$berth" network create demo-net >/dev/null 2>&1 || true
        "$berth" run -d --name demo-web --network demo-net -p 127.0.0.1::80 -v demo-data:/data \
            -m 64m berth-test/busybox \
            sh -c 'httpd -p 80 -h /data; while true; do echo "$(date) served" >> /data/access.log; sleep 1; done' >/dev/null
        "$berth" run --name demo-job berth-test/busybox \
            sh -c 'mkdir /report; echo done > /report/result; rm /bin/cat' >/dev/null || true
        "$berth" create --name demo-idle berth-test/busybox sleep 1000 >/dev/null
    fi
}

# demo_dashboard BERTH ROOT_HINT: opens the dashboard on a terminal (one frame as text
# otherwise), then says what to try next; exits with the dashboard's code.
demo_dashboard() {
    local berth=$1 root_hint=$2
    if [[ -t 0 && -t 1 ]]; then
        log "berth (the dashboard: ? for keys, q to quit)"
        local status=0
        "$berth" || status=$?
        demo_hints "'berth' with no arguments opens the dashboard again$root_hint."
        exit "$status"
    fi
    log "berth ui --once (no terminal here, so one frame as text)"
    "$berth" ui --once
    demo_hints "On a terminal, 'berth' with no arguments opens the dashboard over these containers$root_hint."
}

# demo_hints FIRST_LINE: what to try after the demo.
demo_hints() {
    cat <<MSG

$1
Also try:

  berth ps -a
  berth logs -f demo                       # Ctrl-C to stop following
  berth exec -it demo sh
  berth port demo-web                      # where its httpd answers: http://ADDRESS/access.log
  berth ui --once --view network --select demo-net
  berth ui --once --view layers --select berth-test/busybox
  man berth                                # every verb; completions for bash, zsh and fish are installed

Add --root DIR (or set BERTH_ROOT) to use another engine root.
MSG
}

# Starts a dockerd of the caller's own (no bridge, no iptables rules) with its state and
# socket under DIR, for a bench's peer: sets DOCKER_HOST and dockerd_pid, and returns once
# it answers. The caller stops it (kill "$dockerd_pid") and removes DIR.
start_private_dockerd() {
    local dir=$1
    mkdir -p "$dir"
    echo '{}' >"$dir/daemon.json"
    dockerd --config-file "$dir/daemon.json" --data-root "$dir/data" \
        --exec-root "$dir/x" --pidfile "$dir/pid" -H "unix://$dir/sock" \
        --bridge=none --iptables=false --ip6tables=false --log-level=error \
        >"$dir/log" 2>&1 &
    dockerd_pid=$!
    export DOCKER_HOST="unix://$dir/sock"
    local _
    for _ in $(seq 300); do
        docker info >/dev/null 2>&1 && break
        sleep 0.1
    done
    docker info >/dev/null 2>&1 || die "dockerd did not start: $(brief "$(cat "$dir/log")")"
}
