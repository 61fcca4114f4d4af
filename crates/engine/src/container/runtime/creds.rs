//! The last steps before exec: user and groups, capabilities, no_new_privs.
//!
//! Order matters, as in runc: the bounding set is trimmed while still root (it needs
//! CAP_SETPCAP), the uid change keeps the permitted set (PR_SET_KEEPCAPS), then the
//! effective, permitted and inheritable sets are set to what the spec grants.

use std::collections::HashSet;

use caps::{CapSet, Capability as Cap, CapsHashSet};
use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
use oci_spec::runtime::{Capabilities, Process};

use crate::error::{Error, Result};

fn to_caps(set: Option<&Capabilities>) -> Result<CapsHashSet> {
    let mut out = HashSet::new();
    for cap in set.into_iter().flatten() {
        // oci-spec names capabilities CAP_*, as the caps crate parses them.
        let name = serde_json::to_value(cap)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .ok_or_else(|| Error::Runtime(format!("unnamed capability {cap:?}")))?;
        match name.parse::<Cap>() {
            Ok(c) => {
                out.insert(c);
            }
            // A capability this kernel crate doesn't know can't be granted anyway.
            Err(_) => continue,
        }
    }
    Ok(out)
}

fn caps_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Runtime(format!("{what}: {e}"))
}

pub(crate) fn apply(process: &Process) -> Result<()> {
    let user = process.user();
    let wanted = process.capabilities().as_ref();
    let bounding = to_caps(wanted.and_then(|c| c.bounding().as_ref()))?;
    let effective = to_caps(wanted.and_then(|c| c.effective().as_ref()))?;
    let permitted = to_caps(wanted.and_then(|c| c.permitted().as_ref()))?;
    let inheritable = to_caps(wanted.and_then(|c| c.inheritable().as_ref()))?;

    for cap in caps::all() {
        if !bounding.contains(&cap) {
            // Unknown to the running kernel (EINVAL) means not present: nothing to drop.
            let _ = caps::drop(None, CapSet::Bounding, cap);
        }
    }
    // SAFETY: prctl(PR_SET_KEEPCAPS) takes an integer flag.
    unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1) };

    let gids: Vec<Gid> = user
        .additional_gids()
        .iter()
        .flatten()
        .map(|g| Gid::from_raw(*g))
        .collect();
    setgroups(&gids).map_err(|e| caps_error("setting supplementary groups", e))?;
    let gid = Gid::from_raw(user.gid());
    setresgid(gid, gid, gid).map_err(|e| caps_error(&format!("setting gid {gid}"), e))?;
    let uid = Uid::from_raw(user.uid());
    setresuid(uid, uid, uid).map_err(|e| caps_error(&format!("setting uid {uid}"), e))?;

    // Each call sets one set; effective must stay within permitted at every step.
    caps::set(None, CapSet::Effective, &effective)
        .map_err(|e| caps_error("setting effective capabilities", e))?;
    caps::set(None, CapSet::Permitted, &permitted)
        .map_err(|e| caps_error("setting permitted capabilities", e))?;
    caps::set(None, CapSet::Inheritable, &inheritable)
        .map_err(|e| caps_error("setting inheritable capabilities", e))?;
    caps::clear(None, CapSet::Ambient)
        .map_err(|e| caps_error("clearing ambient capabilities", e))?;

    if process.no_new_privileges().unwrap_or(false) {
        // SAFETY: prctl(PR_SET_NO_NEW_PRIVS) takes integer flags.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(caps_error(
                "setting no_new_privs",
                std::io::Error::last_os_error(),
            ));
        }
    }
    Ok(())
}
