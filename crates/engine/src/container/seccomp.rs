//! The default seccomp profile, with the same policy as Docker's: an allowlist, everything
//! else fails with EPERM. Namespace creation (the door to unprivileged user namespaces),
//! mount, kernel keyrings, module loading, BPF, perf and other kernel attack surface stay
//! closed unless the container holds the capability that would make them legitimate.
//!
//! The profile is written into the bundle's `config.json` as an OCI `LinuxSeccomp`, and
//! init compiles that document to BPF (with `seccompiler`) just before it execs.

use std::collections::{BTreeMap, HashSet};

use oci_spec::runtime::{
    Capability, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArgBuilder, LinuxSeccompBuilder,
    LinuxSeccompOperator, LinuxSyscall, LinuxSyscallBuilder,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

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

/// Syscalls with rules of their own: arguments checked, or a different answer.
#[cfg(target_arch = "x86_64")]
const SPECIAL: &[(&str, i64)] = syscalls!(SYS_personality, SYS_clone, SYS_clone3, SYS_socket);

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

/// The number of a syscall named in a profile, if this architecture has it.
fn number(name: &str) -> Option<i64> {
    ALLOWED
        .iter()
        .chain(ALLOWED_EXTRA)
        .chain(SPECIAL)
        .chain(BY_CAPABILITY.iter().flat_map(|(_, list)| list.iter()))
        .find(|(n, _)| bare(n) == name)
        .map(|(_, nr)| *nr)
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

fn condition(arg: &oci_spec::runtime::LinuxSeccompArg) -> Result<SeccompCondition> {
    use LinuxSeccompOperator as Op;
    let (op, value) = match arg.op() {
        Op::ScmpCmpEq => (SeccompCmpOp::Eq, arg.value()),
        Op::ScmpCmpNe => (SeccompCmpOp::Ne, arg.value()),
        Op::ScmpCmpLt => (SeccompCmpOp::Lt, arg.value()),
        Op::ScmpCmpLe => (SeccompCmpOp::Le, arg.value()),
        Op::ScmpCmpGt => (SeccompCmpOp::Gt, arg.value()),
        Op::ScmpCmpGe => (SeccompCmpOp::Ge, arg.value()),
        Op::ScmpCmpMaskedEq => (
            SeccompCmpOp::MaskedEq(arg.value()),
            arg.value_two().unwrap_or(0),
        ),
    };
    SeccompCondition::new(arg.index() as u8, SeccompCmpArgLen::Qword, op, value)
        .map_err(|e| Error::Runtime(format!("seccomp condition: {e}")))
}

/// Compiles a profile into the BPF programs to install, in order. Syscalls unknown to this
/// architecture are skipped, as runc does. Supports the actions the default profile uses:
/// an allow list, plus per-syscall errno answers (installed as a second, later filter,
/// whose answer the kernel prefers among equal actions).
pub fn compile(profile: &LinuxSeccomp) -> Result<Vec<BpfProgram>> {
    let arch = TargetArch::x86_64;
    let default_errno = profile.default_errno_ret().unwrap_or(libc::EPERM as u32);
    if profile.default_action() != LinuxSeccompAction::ScmpActErrno {
        return Err(Error::Runtime(
            "only an errno default action is supported in seccomp profiles".into(),
        ));
    }
    let mut allow: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let mut errno: BTreeMap<u32, BTreeMap<i64, Vec<SeccompRule>>> = BTreeMap::new();
    for entry in profile.syscalls().iter().flatten() {
        let conditions = entry
            .args()
            .iter()
            .flatten()
            .map(condition)
            .collect::<Result<Vec<_>>>()?;
        for nr in entry.names().iter().filter_map(|n| number(n)) {
            let target = match entry.action() {
                LinuxSeccompAction::ScmpActAllow => &mut allow,
                LinuxSeccompAction::ScmpActErrno => errno
                    .entry(entry.errno_ret().unwrap_or(default_errno))
                    .or_default(),
                other => {
                    return Err(Error::Runtime(format!(
                        "unsupported seccomp action {other:?}"
                    )))
                }
            };
            let rules = target.entry(nr).or_default();
            if !conditions.is_empty() {
                rules.push(
                    SeccompRule::new(conditions.clone())
                        .map_err(|e| Error::Runtime(e.to_string()))?,
                );
            } else {
                // An unconditional entry matches everything: no rules means "always".
                rules.clear();
                target.insert(nr, Vec::new());
            }
        }
    }
    let mut filters = vec![SeccompFilter::new(
        allow,
        SeccompAction::Errno(default_errno),
        SeccompAction::Allow,
        arch,
    )];
    for (code, rules) in errno {
        filters.push(SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(code),
            arch,
        ));
    }
    filters
        .into_iter()
        .map(|f| {
            f.map_err(|e| Error::Runtime(format!("seccomp filter: {e}")))?
                .try_into()
                .map_err(|e: seccompiler::BackendError| {
                    Error::Runtime(format!("compiling seccomp filter: {e}"))
                })
        })
        .collect()
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
            2,
            "allow list plus clone3's ENOSYS"
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
