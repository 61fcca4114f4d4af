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
    apt-get update -q </dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

# ensure_cargo: puts cargo on PATH (rustup installs it in ~/.cargo/bin) or fails clearly.
ensure_cargo() {
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
        die "cargo not found: install a Rust toolchain >= 1.85 (https://rustup.rs); Debian 12's rustc is too old"
}

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

# build_release_and_fixtures: cargo build --release, then the fixture images in .fixtures.
build_release_and_fixtures() {
    log "cargo build --release"
    cargo build --release --locked
    log "Building fixture images into .fixtures"
    mkdir -p .fixtures
    flock .fixtures.lock bash tests/fixtures/build-images.sh "$PWD/.fixtures"
}

# install_berth: puts the release build (or $BERTH_BIN) on PATH ($PREFIX/bin, default
# /usr/local), with its shell completions (bash, zsh, fish) and manual page, all generated
# by berth itself.
install_berth() {
    local prefix=${PREFIX:-/usr/local} bin=${BERTH_BIN:-target/release/berth}
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
