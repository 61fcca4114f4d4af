//! The default seccomp profile, with the same policy as Docker's: an allowlist, everything
//! else fails with EPERM. Namespace creation (the door to unprivileged user namespaces),
//! mount, kernel keyrings, module loading, BPF, perf and other kernel attack surface stay
//! closed unless the container holds the capability that would make them legitimate.
//!
//! The profile is written into the bundle's `config.json` as an OCI `LinuxSeccomp`, and
//! the monitor compiles that document to BPF with libseccomp (runc's, crun's and podman's
//! compiler; kept by profile in the engine root, see `seccomp_cache`), as a binary tree
//! over the syscall numbers: the kernel walks a filter once
//! per syscall number when it is installed (to cache the syscalls always allowed), and
//! again on every syscall the cache can't answer, so a linear list of 380 syscalls cost
//! most of a millisecond at every start. `seccompiler` installs the program.

use std::collections::HashSet;

use libseccomp::{ScmpAction, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use oci_spec::runtime::{
    Capability, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArgBuilder, LinuxSeccompBuilder,
    LinuxSeccompOperator, LinuxSyscall, LinuxSyscallBuilder,
};
use seccompiler::{sock_filter, BpfProgram};

use crate::error::{Error, Result};

/// Syscall names and numbers of this architecture (from libc's constants).
macro_rules! syscalls {
    ($($name:ident),* $(,)?) => {
        &[$((stringify!($name), libc::$name as i64)),*]
    };
}

/// Syscalls every container may make.
#[cfg(target_arch = "x86_64")]
const ALLOWED: &[(&str, i64)] = syscalls!(
    SYS_accept,
    SYS_accept4,
    SYS_access,
    SYS_adjtimex,
    SYS_alarm,
    SYS_arch_prctl,
    SYS_bind,
    SYS_brk,
    SYS_capget,
    SYS_capset,
    SYS_chdir,
    SYS_chmod,
    SYS_chown,
    SYS_clock_adjtime,
    SYS_clock_getres,
    SYS_clock_gettime,
    SYS_clock_nanosleep,
    SYS_close,
    SYS_close_range,
    SYS_connect,
    SYS_copy_file_range,
    SYS_creat,
    SYS_dup,
    SYS_dup2,
    SYS_dup3,
    SYS_epoll_create,
    SYS_epoll_create1,
    SYS_epoll_ctl,
    SYS_epoll_ctl_old,
    SYS_epoll_wait_old,
    SYS_epoll_pwait,
    SYS_epoll_pwait2,
    SYS_epoll_wait,
    SYS_eventfd,
    SYS_eventfd2,
    SYS_execve,
    SYS_execveat,
    SYS_exit,
    SYS_exit_group,
    SYS_faccessat,
    SYS_faccessat2,
    SYS_fadvise64,
    SYS_fallocate,
    SYS_fanotify_mark,
    SYS_fchdir,
    SYS_fchmod,
    SYS_fchmodat,
    SYS_fchown,
    SYS_fchownat,
    SYS_fcntl,
    SYS_fdatasync,
    SYS_fgetxattr,
    SYS_flistxattr,
    SYS_flock,
    SYS_fork,
    SYS_fremovexattr,
    SYS_fsetxattr,
    SYS_fstat,
    SYS_fstatfs,
    SYS_fsync,
    SYS_ftruncate,
    SYS_futex,
    SYS_futex_waitv,
    SYS_futimesat,
    SYS_getcpu,
    SYS_getcwd,
    SYS_getdents,
    SYS_getdents64,
    SYS_getegid,
    SYS_geteuid,
    SYS_getgid,
    SYS_getgroups,
    SYS_getitimer,
    SYS_getpeername,
    SYS_getpgid,
    SYS_getpgrp,
    SYS_getpid,
    SYS_getppid,
    SYS_getpriority,
    SYS_getrandom,
    SYS_getresgid,
    SYS_getresuid,
    SYS_getrlimit,
    SYS_get_robust_list,
    SYS_getrusage,
    SYS_getsid,
    SYS_getsockname,
    SYS_getsockopt,
    SYS_get_thread_area,
    SYS_gettid,
    SYS_gettimeofday,
    SYS_getuid,
    SYS_getxattr,
    SYS_inotify_add_watch,
    SYS_inotify_init,
    SYS_inotify_init1,
    SYS_inotify_rm_watch,
    SYS_io_cancel,
    SYS_ioctl,
    SYS_io_destroy,
    SYS_io_getevents,
    SYS_ioprio_get,
    SYS_ioprio_set,
    SYS_io_setup,
    SYS_io_submit,
    SYS_kill,
    SYS_landlock_add_rule,
    SYS_landlock_create_ruleset,
    SYS_landlock_restrict_self,
    SYS_lchown,
    SYS_lgetxattr,
    SYS_link,
    SYS_linkat,
    SYS_listen,
    SYS_listxattr,
    SYS_llistxattr,
    SYS_lremovexattr,
    SYS_lseek,
    SYS_lsetxattr,
    SYS_lstat,
    SYS_madvise,
    SYS_membarrier,
    SYS_memfd_create,
    SYS_memfd_secret,
    SYS_mincore,
    SYS_mkdir,
    SYS_mkdirat,
    SYS_mknod,
    SYS_mknodat,
    SYS_mlock,
    SYS_mlock2,
    SYS_mlockall,
    SYS_mmap,
    SYS_modify_ldt,
    SYS_mprotect,
    SYS_mq_getsetattr,
    SYS_mq_notify,
    SYS_mq_open,
    SYS_mq_timedreceive,
    SYS_mq_timedsend,
    SYS_mq_unlink,
    SYS_mremap,
    SYS_msgctl,
    SYS_msgget,
    SYS_msgrcv,
    SYS_msgsnd,
    SYS_msync,
    SYS_munlock,
    SYS_munlockall,
    SYS_munmap,
    SYS_name_to_handle_at,
    SYS_nanosleep,
    SYS_newfstatat,
    SYS_open,
    SYS_openat,
    SYS_openat2,
    SYS_pause,
    SYS_pidfd_open,
    SYS_pidfd_send_signal,
    SYS_pipe,
    SYS_pipe2,
    SYS_pkey_alloc,
    SYS_pkey_free,
    SYS_pkey_mprotect,
    SYS_poll,
    SYS_ppoll,
    SYS_prctl,
    SYS_pread64,
    SYS_preadv,
    SYS_preadv2,
    SYS_prlimit64,
    SYS_process_mrelease,
    SYS_pselect6,
    SYS_ptrace,
    SYS_pwrite64,
    SYS_pwritev,
    SYS_pwritev2,
    SYS_read,
    SYS_readahead,
    SYS_readlink,
    SYS_readlinkat,
    SYS_readv,
    SYS_recvfrom,
    SYS_recvmmsg,
    SYS_recvmsg,
    SYS_remap_file_pages,
    SYS_removexattr,
    SYS_rename,
    SYS_renameat,
    SYS_renameat2,
    SYS_restart_syscall,
    SYS_rmdir,
    SYS_rseq,
    SYS_rt_sigaction,
    SYS_rt_sigpending,
    SYS_rt_sigprocmask,
    SYS_rt_sigqueueinfo,
    SYS_rt_sigreturn,
    SYS_rt_sigsuspend,
    SYS_rt_sigtimedwait,
    SYS_rt_tgsigqueueinfo,
    SYS_sched_getaffinity,
    SYS_sched_getattr,
    SYS_sched_getparam,
    SYS_sched_get_priority_max,
    SYS_sched_get_priority_min,
    SYS_sched_getscheduler,
    SYS_sched_rr_get_interval,
    SYS_sched_setaffinity,
    SYS_sched_setattr,
    SYS_sched_setparam,
    SYS_sched_setscheduler,
    SYS_sched_yield,
    SYS_seccomp,
    SYS_select,
    SYS_semctl,
    SYS_semget,
    SYS_semop,
    SYS_semtimedop,
    SYS_sendfile,
    SYS_sendmmsg,
    SYS_sendmsg,
    SYS_sendto,
    SYS_setfsgid,
    SYS_setfsuid,
    SYS_setgid,
    SYS_setgroups,
    SYS_setitimer,
    SYS_setpgid,
    SYS_setpriority,
    SYS_setregid,
    SYS_setresgid,
    SYS_setresuid,
    SYS_setreuid,
    SYS_setrlimit,
    SYS_set_robust_list,
    SYS_setsid,
    SYS_setsockopt,
    SYS_set_thread_area,
    SYS_set_tid_address,
    SYS_setuid,
    SYS_setxattr,
    SYS_shmat,
    SYS_shmctl,
    SYS_shmdt,
    SYS_shmget,
    SYS_shutdown,
    SYS_sigaltstack,
    SYS_signalfd,
    SYS_signalfd4,
    SYS_socketpair,
    SYS_splice,
    SYS_stat,
    SYS_statfs,
    SYS_statx,
    SYS_symlink,
    SYS_symlinkat,
    SYS_sync,
    SYS_sync_file_range,
    SYS_syncfs,
    SYS_sysinfo,
    SYS_tee,
    SYS_tgkill,
    SYS_time,
    SYS_timer_create,
    SYS_timer_delete,
    SYS_timer_getoverrun,
    SYS_timer_gettime,
    SYS_timer_settime,
    SYS_timerfd_create,
    SYS_timerfd_gettime,
    SYS_timerfd_settime,
    SYS_times,
    SYS_tkill,
    SYS_truncate,
    SYS_umask,
    SYS_uname,
    SYS_unlink,
    SYS_unlinkat,
    SYS_utime,
    SYS_utimensat,
    SYS_utimes,
    SYS_vfork,
    SYS_vmsplice,
    SYS_wait4,
    SYS_waitid,
    SYS_write,
    SYS_writev,
);

/// Syscalls allowed only to a container that holds the capability.
#[cfg(target_arch = "x86_64")]
const BY_CAPABILITY: &[(Capability, &[(&str, i64)])] = &[
    (
        Capability::SysAdmin,
        syscalls!(
            SYS_bpf,
            SYS_clone,
            SYS_fanotify_init,
            SYS_fsconfig,
            SYS_fsmount,
            SYS_fsopen,
            SYS_fspick,
            SYS_lookup_dcookie,
            SYS_mount,
            SYS_mount_setattr,
            SYS_move_mount,
            SYS_open_tree,
            SYS_perf_event_open,
            SYS_quotactl,
            SYS_quotactl_fd,
            SYS_setdomainname,
            SYS_sethostname,
            SYS_setns,
            SYS_syslog,
            SYS_umount2,
            SYS_unshare,
        ),
    ),
    (Capability::SysBoot, syscalls!(SYS_reboot)),
    (Capability::SysChroot, syscalls!(SYS_chroot)),
    (
        Capability::SysModule,
        syscalls!(SYS_delete_module, SYS_init_module, SYS_finit_module),
    ),
    (Capability::SysPacct, syscalls!(SYS_acct)),
    (
        Capability::SysPtrace,
        syscalls!(
            SYS_kcmp,
            SYS_pidfd_getfd,
            SYS_process_madvise,
            SYS_process_vm_readv,
            SYS_process_vm_writev
        ),
    ),
    (Capability::SysRawio, syscalls!(SYS_iopl, SYS_ioperm)),
    (
        Capability::SysTime,
        syscalls!(SYS_settimeofday, SYS_clock_settime),
    ),
    (Capability::SysTtyConfig, syscalls!(SYS_vhangup)),
    (
        Capability::SysNice,
        syscalls!(
            SYS_get_mempolicy,
            SYS_mbind,
            SYS_set_mempolicy,
            SYS_set_mempolicy_home_node
        ),
    ),
    (Capability::Syslog, syscalls!(SYS_syslog)),
];

/// Allowed syscalls libc has no constant for on this architecture (numbers from the
/// kernel's syscall_64.tbl).
#[cfg(target_arch = "x86_64")]
const ALLOWED_EXTRA: &[(&str, i64)] = &[
    ("io_pgetevents", 333),
    ("cachestat", 451),
    ("fchmodat2", 452),
    ("map_shadow_stack", 453),
    ("futex_wake", 454),
    ("futex_wait", 455),
    ("futex_requeue", 456),
];

/// Personalities a container may switch to: the default, and the ones programs use to
/// ask for 32-bit or legacy layouts; 0xffffffff only queries.
const PERSONALITIES: &[u64] = &[0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// clone() flags that create namespaces: only with CAP_SYS_ADMIN.
const NAMESPACE_FLAGS: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u64;

const AF_VSOCK: u64 = 40;

/// The name without libc's `SYS_` prefix, as seccomp profiles spell it.
fn bare(name: &str) -> &str {
    name.strip_prefix("SYS_").unwrap_or(name)
}

fn spec_error(e: impl std::fmt::Display) -> Error {
    Error::Runtime(format!("building the seccomp profile: {e}"))
}

fn rule(names: &[&str], action: LinuxSeccompAction) -> Result<LinuxSyscall> {
    LinuxSyscallBuilder::default()
        .names(names.iter().map(|n| bare(n).to_owned()).collect::<Vec<_>>())
        .action(action)
        .build()
        .map_err(spec_error)
}

fn arg_rule(
    name: &str,
    op: LinuxSeccompOperator,
    value: u64,
    value_two: u64,
) -> Result<LinuxSyscall> {
    let arg = LinuxSeccompArgBuilder::default()
        .index(0usize)
        .value(value)
        .value_two(value_two)
        .op(op)
        .build()
        .map_err(spec_error)?;
    LinuxSyscallBuilder::default()
        .names(vec![name.to_owned()])
        .action(LinuxSeccompAction::ScmpActAllow)
        .args(vec![arg])
        .build()
        .map_err(spec_error)
}

/// Docker's default policy for a container holding `caps`.
pub(crate) fn default_profile(caps: &HashSet<Capability>) -> Result<LinuxSeccomp> {
    let mut allowed: Vec<&str> = ALLOWED
        .iter()
        .chain(ALLOWED_EXTRA)
        .map(|(n, _)| *n)
        .collect();
    for (cap, list) in BY_CAPABILITY {
        if caps.contains(cap) {
            allowed.extend(list.iter().map(|(n, _)| *n));
        }
    }
    let mut syscalls = vec![rule(&allowed, LinuxSeccompAction::ScmpActAllow)?];
    for p in PERSONALITIES {
        syscalls.push(arg_rule(
            "personality",
            LinuxSeccompOperator::ScmpCmpEq,
            *p,
            0,
        )?);
    }
    syscalls.push(arg_rule(
        "socket",
        LinuxSeccompOperator::ScmpCmpNe,
        AF_VSOCK,
        0,
    )?);
    if !caps.contains(&Capability::SysAdmin) {
        // clone without namespace flags; clone3 can't be inspected (its flags are behind
        // a pointer), so it answers ENOSYS and libc falls back to clone.
        syscalls.push(arg_rule(
            "clone",
            LinuxSeccompOperator::ScmpCmpMaskedEq,
            NAMESPACE_FLAGS,
            0,
        )?);
        syscalls.push(
            LinuxSyscallBuilder::default()
                .names(vec!["clone3".to_owned()])
                .action(LinuxSeccompAction::ScmpActErrno)
                .errno_ret(libc::ENOSYS as u32)
                .build()
                .map_err(spec_error)?,
        );
    } else {
        syscalls.push(rule(&["clone3"], LinuxSeccompAction::ScmpActAllow)?);
    }
    LinuxSeccompBuilder::default()
        .default_action(LinuxSeccompAction::ScmpActErrno)
        .default_errno_ret(libc::EPERM as u32)
        .syscalls(syscalls)
        .build()
        .map_err(spec_error)
}

fn condition(arg: &oci_spec::runtime::LinuxSeccompArg) -> ScmpArgCompare {
    use LinuxSeccompOperator as Op;
    let (op, datum) = match arg.op() {
        Op::ScmpCmpEq => (ScmpCompareOp::Equal, arg.value()),
        Op::ScmpCmpNe => (ScmpCompareOp::NotEqual, arg.value()),
        Op::ScmpCmpLt => (ScmpCompareOp::Less, arg.value()),
        Op::ScmpCmpLe => (ScmpCompareOp::LessOrEqual, arg.value()),
        Op::ScmpCmpGt => (ScmpCompareOp::Greater, arg.value()),
        Op::ScmpCmpGe => (ScmpCompareOp::GreaterEqual, arg.value()),
        // The OCI profile's value is the mask, its second value what the masked argument
        // must equal (runc's reading).
        Op::ScmpCmpMaskedEq => (
            ScmpCompareOp::MaskedEqual(arg.value()),
            arg.value_two().unwrap_or(0),
        ),
    };
    ScmpArgCompare::new(arg.index() as u32, op, datum)
}

fn compile_error(e: impl std::fmt::Display) -> Error {
    Error::Runtime(format!("compiling the seccomp filter: {e}"))
}

/// Compiles a profile into the BPF programs to install, in order (one). Syscalls unknown
/// to this architecture are skipped, as runc does; so are entries whose action is the
/// default one, which libseccomp refuses. Supports the actions the default profile uses:
/// allow, and errno answers.
pub fn compile(profile: &LinuxSeccomp) -> Result<Vec<BpfProgram>> {
    let default_errno = profile.default_errno_ret().unwrap_or(libc::EPERM as u32);
    if profile.default_action() != LinuxSeccompAction::ScmpActErrno {
        return Err(Error::Runtime(
            "only an errno default action is supported in seccomp profiles".into(),
        ));
    }
    let default = ScmpAction::Errno(default_errno as i32);
    let mut filter = ScmpFilterContext::new(default).map_err(compile_error)?;
    // A binary tree over the syscall numbers instead of a list (see the module's words).
    filter.set_ctl_optimize(2).map_err(compile_error)?;
    for entry in profile.syscalls().iter().flatten() {
        let action = match entry.action() {
            LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
            LinuxSeccompAction::ScmpActErrno => {
                ScmpAction::Errno(entry.errno_ret().unwrap_or(default_errno) as i32)
            }
            other => {
                return Err(Error::Runtime(format!(
                    "unsupported seccomp action {other:?}"
                )))
            }
        };
        if action == default {
            continue;
        }
        let args = entry.args().as_deref().unwrap_or_default();
        let conditions: Vec<ScmpArgCompare> = args.iter().map(condition).collect();
        // libseccomp takes one comparison per argument in a rule: with more, each
        // becomes a rule of its own (any one matching), as runc and so Docker do.
        let rules: Vec<&[ScmpArgCompare]> = if same_argument_twice(args) {
            conditions.chunks(1).collect()
        } else {
            vec![&conditions[..]]
        };
        // A name this architecture lacks (or no kernel has) is skipped, as runc does.
        for (name, syscall) in entry
            .names()
            .iter()
            .filter_map(|n| Some((n, ScmpSyscall::from_name(n).ok()?)))
        {
            for rule in &rules {
                let added = if rule.is_empty() {
                    filter.add_rule(action, syscall)
                } else {
                    filter.add_rule_conditional(action, syscall, rule)
                };
                added.map_err(|e| compile_error(format!("{name}: {e}")))?;
            }
        }
    }
    Ok(vec![export(&filter)?])
}

fn same_argument_twice(args: &[oci_spec::runtime::LinuxSeccompArg]) -> bool {
    args.iter()
        .enumerate()
        .any(|(i, a)| args[..i].iter().any(|b| b.index() == a.index()))
}

/// The filter as the kernel's instructions (libseccomp writes them to a descriptor).
fn export(filter: &ScmpFilterContext) -> Result<BpfProgram> {
    use std::io::{Read, Seek};
    let memfd = nix::sys::memfd::memfd_create("seccomp", nix::sys::memfd::MFdFlags::MFD_CLOEXEC)
        .map_err(compile_error)?;
    let mut file = std::fs::File::from(memfd);
    filter.export_bpf(&file).map_err(compile_error)?;
    let mut bytes = Vec::new();
    file.rewind()
        .and_then(|()| file.read_to_end(&mut bytes))
        .map_err(compile_error)?;
    if bytes.is_empty() || !bytes.len().is_multiple_of(INSTRUCTION) {
        return Err(compile_error(format!(
            "libseccomp wrote {} bytes, not whole instructions",
            bytes.len()
        )));
    }
    Ok(decode(&bytes))
}

/// The size of one instruction as the kernel takes it: code (2 bytes), jt, jf, k (4).
pub(super) const INSTRUCTION: usize = std::mem::size_of::<sock_filter>();

/// A program from its instructions as the kernel takes them (whole ones; a tail short
/// of one is left out).
pub(super) fn decode(bytes: &[u8]) -> BpfProgram {
    bytes
        .chunks_exact(INSTRUCTION)
        .map(|i| sock_filter {
            code: u16::from_ne_bytes([i[0], i[1]]),
            jt: i[2],
            jf: i[3],
            k: u32::from_ne_bytes([i[4], i[5], i[6], i[7]]),
        })
        .collect()
}

/// The instructions of `program` as the kernel takes them ([`decode`]'s inverse).
pub(super) fn encode(program: &[sock_filter]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(program.len() * INSTRUCTION);
    for i in program {
        bytes.extend_from_slice(&i.code.to_ne_bytes());
        bytes.extend_from_slice(&[i.jt, i.jf]);
        bytes.extend_from_slice(&i.k.to_ne_bytes());
    }
    bytes
}

/// Installs compiled filters in order (the caller must have set no_new_privs).
pub fn install(programs: &[BpfProgram]) -> Result<()> {
    for program in programs {
        seccompiler::apply_filter(program)
            .map_err(|e| Error::Runtime(format!("installing seccomp filter: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    const AUDIT_ARCH_I386: u32 = 0x4000_0003;
    const RET_ALLOW: u32 = 0x7fff_0000;
    const RET_ERRNO: u32 = 0x0005_0000;

    /// Runs a classic BPF seccomp program on one syscall as the kernel would: its
    /// answer, and how many instructions it took before it needed an argument (the
    /// kernel's walk at install time stops there).
    fn run(program: &[sock_filter], arch: u32, nr: i32, args: [u64; 6]) -> (u32, usize) {
        let word = |offset: u32| -> u32 {
            match offset {
                0 => nr as u32,
                4 => arch,
                16..=63 => {
                    let arg = args[(offset as usize - 16) / 8];
                    if offset.is_multiple_of(8) {
                        arg as u32
                    } else {
                        (arg >> 32) as u32
                    }
                }
                _ => panic!("load from seccomp_data offset {offset}"),
            }
        };
        let (mut a, mut x, mut mem) = (0u32, 0u32, [0u32; 16]);
        let (mut pc, mut steps, mut before_args) = (0usize, 0usize, None);
        loop {
            let i = &program[pc];
            steps += 1;
            pc += 1;
            let src = if i.code & 0x08 != 0 { x } else { i.k };
            match i.code {
                0x20 => {
                    if i.k >= 16 && before_args.is_none() {
                        before_args = Some(steps);
                    }
                    a = word(i.k)
                }
                0x00 => a = i.k,
                0x01 => x = i.k,
                0x60 => a = mem[i.k as usize],
                0x61 => x = mem[i.k as usize],
                0x02 => mem[i.k as usize] = a,
                0x03 => mem[i.k as usize] = x,
                0x07 => x = a,
                0x87 => a = x,
                0x54 | 0x5c => a &= src,
                0x44 | 0x4c => a |= src,
                0x05 => pc += i.k as usize,
                0x15 | 0x1d | 0x25 | 0x2d | 0x35 | 0x3d | 0x45 | 0x4d => {
                    let taken = match i.code & 0xf0 {
                        0x10 => a == src,
                        0x20 => a > src,
                        0x30 => a >= src,
                        _ => a & src != 0,
                    };
                    pc += if taken { i.jt } else { i.jf } as usize;
                }
                0x06 => return (i.k, before_args.unwrap_or(steps)),
                0x16 => return (a, before_args.unwrap_or(steps)),
                other => panic!("instruction {other:#x} at {}", pc - 1),
            }
        }
    }

    #[test]
    fn the_compiled_filter_answers_as_the_profile_says_in_a_few_steps_per_syscall() {
        let caps: HashSet<Capability> = [Capability::Chown].into_iter().collect();
        let programs = compile(&default_profile(&caps).unwrap()).unwrap();
        assert_eq!(programs.len(), 1);
        let program = &programs[0];
        let call = |nr: i64, args: [u64; 6]| run(program, AUDIT_ARCH_X86_64, nr as i32, args).0;
        let none = [0u64; 6];
        let eperm = RET_ERRNO | libc::EPERM as u32;
        assert_eq!(call(libc::SYS_read, none), RET_ALLOW);
        assert_eq!(call(libc::SYS_execve, none), RET_ALLOW);
        assert_eq!(call(libc::SYS_mount, none), eperm);
        assert_eq!(call(libc::SYS_unshare, none), eperm);
        assert_eq!(call(1000, none), eperm, "a number no kernel has");
        assert_eq!(call(libc::SYS_clone, [17, 0, 0, 0, 0, 0]), RET_ALLOW);
        let new_ns = (libc::SIGCHLD | libc::CLONE_NEWNS) as u64;
        assert_eq!(call(libc::SYS_clone, [new_ns, 0, 0, 0, 0, 0]), eperm);
        let new_user = (libc::SIGCHLD | libc::CLONE_NEWUSER) as u64;
        assert_eq!(call(libc::SYS_clone, [new_user, 0, 0, 0, 0, 0]), eperm);
        assert_eq!(
            call(libc::SYS_clone3, none),
            RET_ERRNO | libc::ENOSYS as u32
        );
        assert_eq!(call(libc::SYS_personality, [8, 0, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(libc::SYS_personality, [0x1234, 0, 0, 0, 0, 0]), eperm);
        // The whole 64 bits are compared: a high word must not slip through.
        assert_eq!(
            call(libc::SYS_personality, [1 << 32 | 8, 0, 0, 0, 0, 0]),
            eperm
        );
        assert_eq!(call(libc::SYS_socket, [2, 1, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(libc::SYS_socket, [AF_VSOCK, 1, 0, 0, 0, 0]), eperm);
        for (name, nr) in ALLOWED.iter().chain(ALLOWED_EXTRA) {
            assert_eq!(call(*nr, none), RET_ALLOW, "{name}");
        }
        // Another architecture's numbers mean other syscalls: never allowed.
        let (i386, _) = run(program, AUDIT_ARCH_I386, libc::SYS_read as i32, none);
        assert_ne!(i386, RET_ALLOW);
        assert_eq!(i386 & 0xffff_0000 & !0x8000_0000, 0, "a kill: {i386:#x}");
        // A tree, not a list: no syscall number walks more than a few dozen instructions
        // to its answer (a list of the allowed syscalls walked up to 760).
        let deepest = (0..600)
            .map(|nr| run(program, AUDIT_ARCH_X86_64, nr, none).1)
            .max()
            .unwrap();
        assert!(deepest < 40, "deepest walk {deepest} of {}", program.len());
    }

    fn arg(
        index: usize,
        op: LinuxSeccompOperator,
        value: u64,
    ) -> oci_spec::runtime::LinuxSeccompArg {
        LinuxSeccompArgBuilder::default()
            .index(index)
            .value(value)
            .op(op)
            .build()
            .unwrap()
    }

    #[test]
    fn a_users_profile_compiles_as_runc_reads_it() {
        use LinuxSeccompOperator as Op;
        let entry = |name: &str, action, args| {
            LinuxSyscallBuilder::default()
                .names(vec![name.to_owned()])
                .action(action)
                .args(args)
                .build()
                .unwrap()
        };
        let profile = LinuxSeccompBuilder::default()
            .default_action(LinuxSeccompAction::ScmpActErrno)
            .syscalls(vec![
                // Two comparisons of one argument: either allows (runc's reading).
                entry(
                    "personality",
                    LinuxSeccompAction::ScmpActAllow,
                    vec![arg(0, Op::ScmpCmpEq, 8), arg(0, Op::ScmpCmpEq, 0x20000)],
                ),
                // Comparisons of two arguments: both must hold.
                entry(
                    "socket",
                    LinuxSeccompAction::ScmpActAllow,
                    vec![arg(0, Op::ScmpCmpEq, 2), arg(1, Op::ScmpCmpEq, 1)],
                ),
                // The default's own answer: skipped, not refused.
                entry("mount", LinuxSeccompAction::ScmpActErrno, Vec::new()),
                entry(
                    "no_such_syscall",
                    LinuxSeccompAction::ScmpActAllow,
                    Vec::new(),
                ),
                // Named in no list of berth's own: libseccomp knows it.
                entry("kexec_load", LinuxSeccompAction::ScmpActAllow, Vec::new()),
                entry("read", LinuxSeccompAction::ScmpActAllow, Vec::new()),
            ])
            .build()
            .unwrap();
        let programs = compile(&profile).unwrap();
        let call =
            |nr: i64, args: [u64; 6]| run(&programs[0], AUDIT_ARCH_X86_64, nr as i32, args).0;
        let eperm = RET_ERRNO | libc::EPERM as u32;
        assert_eq!(call(libc::SYS_personality, [8, 0, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(
            call(libc::SYS_personality, [0x20000, 0, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(call(libc::SYS_personality, [4, 0, 0, 0, 0, 0]), eperm);
        assert_eq!(call(libc::SYS_socket, [2, 1, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(libc::SYS_socket, [2, 2, 0, 0, 0, 0]), eperm);
        assert_eq!(call(libc::SYS_mount, [0; 6]), eperm);
        assert_eq!(call(libc::SYS_read, [0; 6]), RET_ALLOW);
        assert_eq!(call(libc::SYS_write, [0; 6]), eperm);
        assert_eq!(call(libc::SYS_kexec_load, [0; 6]), RET_ALLOW);
    }

    #[test]
    fn the_default_profile_compiles_and_opens_doors_by_capability() {
        let without: HashSet<Capability> = [Capability::Chown].into_iter().collect();
        let profile = default_profile(&without).unwrap();
        let names: Vec<String> = profile
            .syscalls()
            .iter()
            .flatten()
            .flat_map(|s| s.names().clone())
            .collect();
        assert!(names.contains(&"read".to_owned()));
        assert!(!names.contains(&"mount".to_owned()));
        assert!(!names.contains(&"unshare".to_owned()));
        assert_eq!(
            compile(&profile).unwrap().len(),
            1,
            "one filter: the allow list and clone3's ENOSYS"
        );

        let admin: HashSet<Capability> = [Capability::SysAdmin].into_iter().collect();
        let names: Vec<String> = default_profile(&admin)
            .unwrap()
            .syscalls()
            .iter()
            .flatten()
            .flat_map(|s| s.names().clone())
            .collect();
        assert!(names.contains(&"mount".to_owned()) && names.contains(&"unshare".to_owned()));
    }
}
