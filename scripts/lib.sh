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
    [[ $(id -u) -eq 0 ]] || die "missing packages (${missing[*]}): run as root (sudo) so they can be installed"
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
RUNTIME_PACKAGES=(busybox-static zstd python3 util-linux procps iproute2)
