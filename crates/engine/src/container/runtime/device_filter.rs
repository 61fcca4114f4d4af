//! The device cgroup of cgroup v2: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) attached
//! to the container's cgroup, which the kernel runs at every open and mknod of a device
//! node and which allows only what the rules list (v1's `devices.allow`).
//!
//! The program is built here, instruction by instruction, as runc's devicefilter does:
//! its shape is fixed (load the request, then one compare block per rule), about ten
//! instructions a rule, so a BPF toolchain and an ELF loader (aya and its object files)
//! would bring far more than they save. It is loaded and attached with the bpf(2)
//! syscall; the attachment holds the program until the cgroup is removed.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::container::devices::{DeviceKind, DeviceRule};
use crate::error::{Error, Result};

/// One eBPF instruction (`struct bpf_insn`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    code: u8,
    /// dst in the low nibble, src in the high one.
    regs: u8,
    off: i16,
    imm: i32,
}

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | (dst & 0xf),
        off,
        imm,
    }
}

// Opcodes (linux/bpf_common.h, linux/bpf.h).
const LDX_MEM_W: u8 = 0x61;
const ALU32_AND_K: u8 = 0x54;
const ALU32_RSH_K: u8 = 0x74;
const ALU32_MOV_X: u8 = 0xbc;
const ALU64_MOV_K: u8 = 0xb7;
const JMP_JNE_K: u8 = 0x55;
const JMP_JNE_X: u8 = 0x5d;
const JMP_EXIT: u8 = 0x95;

// `struct bpf_cgroup_dev_ctx`: access_type (type in the low 16 bits, access above), major,
// minor.
const CTX_ACCESS_TYPE: i16 = 0;
const CTX_MAJOR: i16 = 4;
const CTX_MINOR: i16 = 8;
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;

// Registers the program keeps the request in.
const R_TYPE: u8 = 2;
const R_ACCESS: u8 = 3;
const R_MAJOR: u8 = 4;
const R_MINOR: u8 = 5;

/// The program for an allow list: a request matching a rule is allowed (1), anything
/// else denied (0).
pub fn program(rules: &[DeviceRule]) -> Vec<Insn> {
    let mut p = vec![
        insn(LDX_MEM_W, R_TYPE, 1, CTX_ACCESS_TYPE, 0),
        insn(ALU32_AND_K, R_TYPE, 0, 0, 0xffff),
        insn(LDX_MEM_W, R_ACCESS, 1, CTX_ACCESS_TYPE, 0),
        insn(ALU32_RSH_K, R_ACCESS, 0, 0, 16),
        insn(LDX_MEM_W, R_MAJOR, 1, CTX_MAJOR, 0),
        insn(LDX_MEM_W, R_MINOR, 1, CTX_MINOR, 0),
    ];
    for rule in rules {
        let block = rule_block(rule);
        p.extend(block);
    }
    p.push(insn(ALU64_MOV_K, 0, 0, 0, 0));
    p.push(insn(JMP_EXIT, 0, 0, 0, 0));
    p
}

/// One rule: each test that fails jumps past the block's end (to the next rule); all
/// passing, the request is allowed.
fn rule_block(rule: &DeviceRule) -> Vec<Insn> {
    // Each check as (instructions, the index of its jump within them).
    let mut checks: Vec<Vec<Insn>> = Vec::new();
    match rule.kind {
        DeviceKind::A => {}
        DeviceKind::B => checks.push(vec![insn(JMP_JNE_K, R_TYPE, 0, 0, DEV_BLOCK)]),
        DeviceKind::C => checks.push(vec![insn(JMP_JNE_K, R_TYPE, 0, 0, DEV_CHAR)]),
    }
    let allowed = rule.access.chars().fold(0, |bits, c| {
        bits | match c {
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            'm' => ACC_MKNOD,
            _ => 0,
        }
    });
    if allowed != ACC_READ | ACC_WRITE | ACC_MKNOD {
        // The request's bits all among the allowed: (access & allowed) == access.
        checks.push(vec![
            insn(ALU32_MOV_X, 1, R_ACCESS, 0, 0),
            insn(ALU32_AND_K, 1, 0, 0, allowed),
            insn(JMP_JNE_X, 1, R_ACCESS, 0, 0),
        ]);
    }
    if let Some(major) = rule.major {
        checks.push(vec![insn(JMP_JNE_K, R_MAJOR, 0, 0, major as i32)]);
    }
    if let Some(minor) = rule.minor {
        checks.push(vec![insn(JMP_JNE_K, R_MINOR, 0, 0, minor as i32)]);
    }
    let mut block: Vec<Insn> = checks.into_iter().flatten().collect();
    block.push(insn(ALU64_MOV_K, 0, 0, 0, 1));
    block.push(insn(JMP_EXIT, 0, 0, 0, 0));
    // Every conditional jump goes to the end of the block.
    let len = block.len();
    for (i, ins) in block.iter_mut().enumerate() {
        if ins.code == JMP_JNE_K || ins.code == JMP_JNE_X {
            ins.off = (len - i - 1) as i16;
        }
    }
    block
}

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// The head of `union bpf_attr` for BPF_PROG_LOAD; the rest of the union stays zero.
#[repr(C)]
#[derive(Default)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    padding: [u64; 8],
}

/// The head of `union bpf_attr` for BPF_PROG_ATTACH.
#[repr(C)]
#[derive(Default)]
struct ProgAttach {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    padding: [u64; 8],
}

fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> std::io::Result<libc::c_long> {
    // SAFETY: bpf(2) reads (and for a load, writes the log into) the attr we own, of the
    // size passed; the pointers in it point at buffers alive for the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Loads the program for `rules` (the kernel's verifier checks it). The verifier's log is
/// asked for only when a load fails (a small log buffer can fail a good load on older
/// kernels), to say why.
pub fn load(rules: &[DeviceRule]) -> Result<OwnedFd> {
    let insns = program(rules);
    let license = CString::new("Apache-2.0").unwrap_or_default();
    let mut name = [0u8; 16];
    name[..12].copy_from_slice(b"berth_device");
    let attr = || ProgLoad {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_name: name,
        ..Default::default()
    };
    let fd = match bpf(BPF_PROG_LOAD, &mut attr()) {
        Ok(fd) => fd,
        Err(e) => {
            let mut log = vec![0u8; 64 * 1024];
            let mut with_log = ProgLoad {
                log_level: 1,
                log_size: log.len() as u32,
                log_buf: log.as_mut_ptr() as u64,
                ..attr()
            };
            let _ = bpf(BPF_PROG_LOAD, &mut with_log);
            let text = String::from_utf8_lossy(&log);
            let last = text
                .trim_end_matches('\0')
                .trim_end()
                .lines()
                .last()
                .unwrap_or("");
            return Err(Error::Runtime(format!(
                "loading the device cgroup program: {e} {last}"
            )));
        }
    };
    // SAFETY: a successful load returns a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Allows only `rules` to the processes of the cgroup v2 directory `dir` (and below).
pub fn attach(dir: &Path, rules: &[DeviceRule]) -> Result<()> {
    let program = load(rules)?;
    let cgroup = std::fs::File::open(dir).map_err(|e| Error::Io {
        context: format!("opening cgroup {}", dir.display()),
        err: e,
    })?;
    let mut attr = ProgAttach {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: program.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..Default::default()
    };
    bpf(BPF_PROG_ATTACH, &mut attr).map_err(|e| {
        Error::Runtime(format!(
            "attaching the device cgroup program to {}: {e}",
            dir.display()
        ))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_is_a_block_whose_failed_checks_skip_to_the_next() {
        let rule = DeviceRule::parse("c 1:3 rw").unwrap();
        let block = rule_block(&rule);
        // type, access (3), major, minor, then allow and exit.
        assert_eq!(block.len(), 8);
        assert_eq!(block[0], insn(JMP_JNE_K, R_TYPE, 0, 7, DEV_CHAR));
        assert_eq!(block[3], insn(JMP_JNE_X, 1, R_ACCESS, 4, 0));
        assert_eq!(block[4], insn(JMP_JNE_K, R_MAJOR, 0, 3, 1));
        assert_eq!(block[5], insn(JMP_JNE_K, R_MINOR, 0, 2, 3));
        assert_eq!(block[6], insn(ALU64_MOV_K, 0, 0, 0, 1));
        // `a *:* rwm` checks nothing: allow at once.
        assert_eq!(
            rule_block(&DeviceRule::parse("a *:* rwm").unwrap()).len(),
            2
        );
        let all = program(&[rule]);
        assert_eq!(all.len(), 6 + 8 + 2);
        assert_eq!(
            all[all.len() - 2],
            insn(ALU64_MOV_K, 0, 0, 0, 0),
            "deny last"
        );
    }
}
