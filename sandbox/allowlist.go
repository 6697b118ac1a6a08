// allowlist.go: the seccomp-BPF allowlist of the host calls kshim makes
// while it serves a guest, found by running the whole test suite under
// `strace -f` (every host call after set-up, with ioctl, fcntl and prctl
// numbers) and by reading every unix.* call in syscalls/, vmm/, guestmm/
// and ept/. A call added there must be added here: `make test` runs every
// differential test through the filter, so a missing one fails there (as
// EPERM where kshim made the call).
//
// Refused calls fail with EPERM (SECCOMP_RET_ERRNO), not a kill: kshim
// reports the failure as it would any host error, the Go runtime does not
// die half-way through a vCPU exit, and the guest gets an errno. A filter
// cannot log once, and SECCOMP_RET_LOG would allow the call, so an
// unexpected refusal shows as that error (strace shows which call).
//
// Invariants:
//   - Nothing here creates a process, changes identity or privilege,
//     mounts, loads code into the kernel, traces, or reaches another
//     process's memory: execve*, fork/vfork, clone without CLONE_THREAD
//     or with a namespace flag, clone3 (ENOSYS, see Policy), ptrace, process_vm_*, mount*,
//     pivot_root, chroot, unshare, setns, bpf, perf_event_open, kexec_*,
//     *_module, keyctl/add_key/request_key, set*id, setgroups, capset,
//     seccomp, landlock_*, sockets of other families than the guest's
//     and io_uring_* are all refused.
//   - Arguments are checked where a number names the operation: ioctl
//     (KVM and the terminal requests the personality forwards), fcntl (no
//     F_SETOWN/F_SETSIG/F_SETLEASE/F_NOTIFY), prctl (naming anonymous
//     memory only), prlimit64 (read only), mmap/mprotect (never
//     PROT_EXEC), mknodat (no device nodes), kill/tgkill (kshim's own
//     threads only).
//
// The filter itself is compiled from this list at build time, not at each
// start (that took ~0.5 ms, the compiler's package set-up included):
// `go generate ./sandbox` runs seccompgen, which builds the policy with
// github.com/elastic/go-seccomp-bpf (sandbox/policy) and writes the BPF
// program to filter_gen.go with the pid left out; filter.go puts kshim's
// pid in and loads it. sandbox/policy's test fails when filter_gen.go no
// longer matches this list: after changing it, run `go generate ./sandbox`.
package sandbox

import (
	"golang.org/x/sys/unix"
)

// plainCalls are allowed whatever their arguments.
var plainCalls = []string{
	// Go runtime: threads, memory, scheduling, signals, timers, netpoll.
	"futex", "munmap", "madvise", "exit", "exit_group", "sigaltstack", "rt_sigaction",
	"rt_sigprocmask", "rt_sigreturn", "restart_syscall", "getpid", "gettid", "sched_yield",
	"sched_getaffinity", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres",
	"gettimeofday", "time", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"eventfd2", "pipe2", "getrandom", "uname", "getrlimit",
	// glibc's threads, in a cgo build (a new thread must register rseq
	// when the main thread did, or glibc aborts).
	"rseq", "set_robust_list",

	// Files, for the guest and for kshim's /proc: every path lookup is
	// relative to an fd (the root, a directory the guest holds).
	"read", "write", "pread64", "pwrite64", "preadv2", "pwritev2", "lseek", "close",
	"openat", "openat2", "fstat", "newfstatat", "statx", "fstatfs", "getdents64",
	"readlinkat", "faccessat", "faccessat2", "mkdirat", "unlinkat",
	"renameat", "renameat2", "linkat", "symlinkat", "fchmod", "fchmodat", "fchmodat2",
	"fchown", "fchownat", "utimensat", "ftruncate", "fallocate", "fsync", "fdatasync",
	"flock", "fadvise64", "sendfile", "dup", "dup2", "dup3", "poll", "ppoll", "umask",
	"copy_file_range", "splice", "tee", // between two guest fds (syscalls/transfer.go)

	// Guest memory (one memfd, file windows, /proc files as memfds).
	"memfd_create", "mincore",

	// Identity and system information the personality reports.
	"getuid", "geteuid", "getgid", "getegid", "getgroups", "getppid", "capget",
	"getpriority", "ioprio_get", "sysinfo", "times", "getpgid", "getpgrp", "getsid",
	// A vCPU thread's own major faults, context switches and block I/O,
	// the guest task's (syscalls/kernel/cputime.go; RUSAGE_THREAD only
	// by use).
	"getrusage",
	// The vCPU thread's round-robin interval, the policies' priority
	// ranges (syscalls/timeset.go).
	"sched_rr_get_interval", "sched_get_priority_max", "sched_get_priority_min",
	// The CPU a vCPU thread runs on, which the fast path's server keeps
	// off (vmm/fast.go moveOff; its own mask only: below).
	"getcpu",

	// Extended attributes of the guest's files (syscalls/fs/xattr.go): on
	// its fds, or by the host's /proc/self/fd link of an O_PATH fd
	// resolved in the root.
	"getxattr", "listxattr", "setxattr", "removexattr",
	"fgetxattr", "flistxattr", "fsetxattr", "fremovexattr",

	// Timers the guest's timerfds are (syscalls/kernel/timers.go).
	"timerfd_create", "timerfd_settime", "timerfd_gettime",

	// The guest's sockets (syscalls/socket*.go), all made by one thread in
	// the guest's network namespace; socket itself is limited to the
	// families kshim serves (below). That thread binds relative to the
	// root it was chrooted to at set-up (chdir/fchdir, never chroot).
	"socketpair", "bind", "listen", "connect", "accept4", "getsockname", "getpeername",
	"setsockopt", "getsockopt", "sendmsg", "recvmsg", "sendto", "recvfrom", "sendmmsg", "recvmmsg",
	"shutdown", "fchdir", "chdir", "getcwd",
}

// socketFamilies are the address families a guest socket may have:
// AF_UNIX, AF_INET, AF_INET6, AF_NETLINK (route queries).
var socketFamilies = []uint64{unix.AF_UNIX, unix.AF_INET, unix.AF_INET6, unix.AF_NETLINK}

// netIoctls are the socket requests syscalls/ forwards: the read-only
// interface queries (SIOCGIF*), FIONREAD on sockets, SIOCOUTQ/SIOCATMARK,
// SIOCGSTAMP and the like.
var netIoctls = []uint64{
	0x8910, 0x8912, 0x8913, 0x8915, 0x8917, 0x8919, 0x891b, 0x891d, 0x8921, 0x8927, 0x8933,
	0x8942, 0x8970, 0x5411, 0x8905, 0x894b,
}

// kvmIoctls are the KVM requests kshim makes after set-up (vmm/kvm.go,
// vmm/arch.go, vmm/vdso.go and gokvm's calls from there). The set-up
// only ones (KVM_GET_API_VERSION, KVM_CREATE_VM, KVM_CHECK_EXTENSION,
// KVM_GET_VCPU_MMAP_SIZE, KVM_GET_SUPPORTED_CPUID, KVM_ENABLE_CAP) are
// not listed.
var kvmIoctls = []uint64{
	0xae41,     // KVM_CREATE_VCPU (a vCPU per new guest task)
	0x4020ae46, // KVM_SET_USER_MEMORY_REGION (file windows)
	0xae80,     // KVM_RUN
	0x8090ae81, // KVM_GET_REGS
	0x4090ae82, // KVM_SET_REGS
	0x8138ae83, // KVM_GET_SREGS
	0x4138ae84, // KVM_SET_SREGS
	0xc008ae88, // KVM_GET_MSRS
	0x4008ae89, // KVM_SET_MSRS
	0x4008ae90, // KVM_SET_CPUID2
	0x4004ae99, // KVM_SET_MP_STATE (a new vCPU with a local APIC: vmm/kvm.go)
	0xaea3,     // KVM_GET_TSC_KHZ
	0x9000aea4, // KVM_GET_XSAVE
	0x5000aea5, // KVM_SET_XSAVE
	0x8040ae9f, // KVM_GET_VCPU_EVENTS (before rewriting a vCPU's state)
	0x4040aea0, // KVM_SET_VCPU_EVENTS (the injected flush request, vmm/platform.go)
	0xaece,     // KVM_GET_STATS_FD (`run --stats`: KVM's read-only counters, vmm/kvmstats.go)
}

// ttyIoctls are the requests syscalls/io.go forwards for the guest
// (TIOCSTI, which would type into the host's terminal, is not one, nor
// TIOCSCTTY or TIOCNOTTY, which are kshim's own: kernel/tty.go). The pty
// pair's requests (TIOCGPTN ... TIOCGPTPEER) reach only the guest's own
// ptys (syscalls/fs/pty.go).
var ttyIoctls = []uint64{
	unix.TCGETS, unix.TCSETS, unix.TCSETSW, unix.TCSETSF, unix.TIOCGWINSZ, unix.TIOCSWINSZ,
	unix.TIOCGPGRP, unix.TIOCSPGRP, 0x541b, 0x5421, // FIONREAD, FIONBIO
	unix.TCFLSH, unix.TCXONC, unix.TCSBRK,
	unix.TIOCGPTN, unix.TIOCGPTLCK, unix.TIOCSPTLCK, unix.TIOCGPKT, unix.TIOCPKT, unix.TIOCGPTPEER,
}

// fcntlCmds are the fcntl commands kshim uses or forwards.
var fcntlCmds = []uint64{
	unix.F_DUPFD, unix.F_DUPFD_CLOEXEC, unix.F_GETFD, unix.F_SETFD, unix.F_GETFL, unix.F_SETFL,
	unix.F_GETLK, unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_GETLK, unix.F_OFD_SETLK, unix.F_OFD_SETLKW,
	unix.F_GETPIPE_SZ, unix.F_SETPIPE_SZ, unix.F_ADD_SEALS, unix.F_GET_SEALS, unix.F_GETLEASE,
}

// nsFlags are the clone flags that would make a namespace.
const nsFlags = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWTIME

// Rule allows one syscall, by name, when each of its conditions holds
// (none: whatever its arguments).
type Rule struct {
	Name  string
	Conds []Cond
}

// Cond is a condition on one argument of a call.
type Cond struct {
	Arg   uint32
	Op    CondOp
	Value uint64
}

// CondOp is how a Cond compares its argument with its Value.
type CondOp int

const (
	Equal      CondOp = iota // the argument is Value
	BitsSet                  // every bit of Value is set in it
	BitsNotSet               // no bit of Value is set in it
)

func oneOf(name string, arg uint32, values []uint64) []Rule {
	var out []Rule
	for _, v := range values {
		out = append(out, Rule{Name: name, Conds: []Cond{{Arg: arg, Op: Equal, Value: v}}})
	}
	return out
}

func cond(name string, c ...Cond) Rule { return Rule{Name: name, Conds: c} }

// Allowlist is kshim's filter for a process whose pid is pid: the calls
// allowed, plainly or by rules, and those refused with ENOSYS; every
// other call is refused with EPERM.
func Allowlist(pid int) (plain []string, rules []Rule, enosys []string) {
	rules = append(rules, oneOf("ioctl", 1, append(append(append([]uint64{}, kvmIoctls...), ttyIoctls...), netIoctls...))...)
	rules = append(rules, oneOf("socket", 0, socketFamilies)...)
	rules = append(rules, oneOf("fcntl", 1, fcntlCmds)...)
	rules = append(rules, oneOf("prctl", 0, []uint64{unix.PR_SET_VMA, unix.PR_CAPBSET_READ})...)
	rules = append(rules,
		// Threads only: a thread of this process, in its namespaces.
		cond("clone",
			Cond{Arg: 0, Op: BitsSet, Value: unix.CLONE_THREAD},
			Cond{Arg: 0, Op: BitsNotSet, Value: nsFlags}),
		cond("mmap", Cond{Arg: 2, Op: BitsNotSet, Value: unix.PROT_EXEC}),
		cond("mprotect", Cond{Arg: 2, Op: BitsNotSet, Value: unix.PROT_EXEC}),
		cond("prlimit64", Cond{Arg: 2, Op: Equal, Value: 0}),
		// The calling thread's own CPU mask (the fast path's server).
		cond("sched_setaffinity", Cond{Arg: 0, Op: Equal, Value: 0}),
		// FIFOs, sockets and files, never device nodes (S_IFCHR's bit
		// is in S_IFBLK too).
		cond("mknodat", Cond{Arg: 2, Op: BitsNotSet, Value: unix.S_IFCHR}),
		cond("tgkill", Cond{Arg: 0, Op: Equal, Value: uint64(pid)}),
		cond("kill", Cond{Arg: 0, Op: Equal, Value: uint64(pid)}),
	)
	// clone3's flags are in memory, out of the filter's reach; ENOSYS (not
	// EPERM) makes glibc's pthread_create (a cgo build) fall back to
	// clone, whose flags are checked.
	return plainCalls, rules, []string{"clone3"}
}

// AllowedCalls is the number of distinct syscalls the policy lets through
// (some only with certain arguments).
func AllowedCalls() int {
	seen := map[string]bool{}
	plain, rules, _ := Allowlist(1)
	for _, n := range plain {
		seen[n] = true
	}
	for _, r := range rules {
		seen[r.Name] = true
	}
	return len(seen)
}
