//! Compiled seccomp filters kept in the engine root, one file per profile: libseccomp's
//! compile of Docker's profile takes most of a millisecond, on the path of every start,
//! and the profile only changes with a container's capabilities or a user's own profile.
//!
//! A file is named by a SHA-256 of the profile as JSON, the libseccomp version and the
//! architecture, and holds the program's instructions as the kernel takes them. It is
//! written under a temporary name and renamed into place, so a reader finds a whole
//! program or none; one that is not whole instructions is compiled again and replaced.
//! The directory is the engine's own (mode 0700 under the root's 0710): whoever can
//! write there can already replace berth itself.

use std::io::Write;
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxSeccomp;
use seccompiler::{sock_filter, BpfProgram};
use sha2::{Digest, Sha256};

use super::seccomp::{decode, encode, INSTRUCTION};
use crate::error::Result;

/// The kernel's limit on a filter's length (BPF_MAXINSNS).
const MAX_INSTRUCTIONS: usize = 4096;
/// Changes when the file's layout or the compile's meaning does.
const FORMAT: &[u8] = b"berth-seccomp-1";

/// The programs `profile` compiles to: read from `dir` when compiled before, else
/// compiled and kept there (a cache that can't be written costs only the next compile).
pub(crate) fn compiled(profile: &LinuxSeccomp, dir: &Path) -> Result<Vec<BpfProgram>> {
    let path = entry(profile, dir);
    if let Some(program) = path.as_deref().and_then(read) {
        return Ok(vec![program]);
    }
    let programs = super::seccomp::compile(profile)?;
    if let (Some(path), [program]) = (path, programs.as_slice()) {
        let _ = write(&path, program);
    }
    Ok(programs)
}

/// Where the profile's program is kept; None if the profile can't be serialized.
fn entry(profile: &LinuxSeccomp, dir: &Path) -> Option<PathBuf> {
    let json = serde_json::to_vec(profile).ok()?;
    let version = libseccomp::ScmpVersion::current().ok()?;
    let mut hash = Sha256::new();
    hash.update(FORMAT);
    hash.update(std::env::consts::ARCH.as_bytes());
    hash.update(format!("{}.{}.{}", version.major, version.minor, version.micro).as_bytes());
    hash.update(&json);
    let name: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Some(dir.join(format!("{name}.bpf")))
}

/// The program in `path`, if it is there and whole.
fn read(path: &Path) -> Option<BpfProgram> {
    let bytes = std::fs::read(path).ok()?;
    let whole = !bytes.is_empty()
        && bytes.len().is_multiple_of(INSTRUCTION)
        && bytes.len() / INSTRUCTION <= MAX_INSTRUCTIONS;
    whole.then(|| decode(&bytes))
}

/// Keeps `program` at `path`: written under a name of this process's, then renamed.
fn write(path: &Path, program: &[sock_filter]) -> std::io::Result<()> {
    let dir = path.parent().ok_or(std::io::ErrorKind::InvalidInput)?;
    crate::paths::make_private_dir(dir, crate::paths::DIR_MODE, true)?;
    let temp = dir.join(format!(".{}.tmp", std::process::id()));
    let written = std::fs::File::create(&temp)
        .and_then(|mut file| file.write_all(&encode(program)))
        .and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn default_profile() -> LinuxSeccomp {
        super::super::seccomp::default_profile(&HashSet::new()).unwrap()
    }

    fn cached_files(dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_profile_is_compiled_once_and_read_back_after() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache/seccomp");
        let profile = default_profile();
        let first = compiled(&profile, &cache).unwrap();
        assert_eq!(first, super::super::seccomp::compile(&profile).unwrap());
        let files = cached_files(&cache);
        assert_eq!(files.len(), 1, "{files:?}");
        assert!(files[0].to_string_lossy().ends_with(".bpf"));
        // What the file holds is what the next start gets: a stand-in program proves
        // the compile was skipped.
        let stand_in = vec![sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: 0x7fff_0000,
        }];
        std::fs::write(&files[0], encode(&stand_in)).unwrap();
        assert_eq!(compiled(&profile, &cache).unwrap(), vec![stand_in]);
    }

    #[test]
    fn a_file_cut_short_is_compiled_again_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let profile = default_profile();
        let want = compiled(&profile, dir.path()).unwrap();
        let file = cached_files(dir.path()).remove(0);
        let whole = std::fs::read(&file).unwrap();
        for cut in [&whole[..whole.len() - 3], &[][..]] {
            std::fs::write(&file, cut).unwrap();
            assert_eq!(compiled(&profile, dir.path()).unwrap(), want);
            assert_eq!(std::fs::read(&file).unwrap(), whole);
        }
        // Nothing but the entry is left (no temporary file).
        assert_eq!(cached_files(dir.path()), vec![file]);
    }

    #[test]
    fn each_profile_has_its_own_entry() {
        let dir = tempfile::tempdir().unwrap();
        let plain = default_profile();
        let admin = super::super::seccomp::default_profile(&HashSet::from([
            oci_spec::runtime::Capability::SysAdmin,
        ]))
        .unwrap();
        let a = compiled(&plain, dir.path()).unwrap();
        let b = compiled(&admin, dir.path()).unwrap();
        assert_ne!(a, b);
        assert_eq!(cached_files(dir.path()).len(), 2);
        assert_eq!(compiled(&plain, dir.path()).unwrap(), a);
    }
}
