// table.go: the syscall table and dispatch.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

// handler implements one syscall. It returns the value for RAX; errors are
// returned as an errno and become -errno.
type handler func(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error)

type args [6]uint64

var table map[uint64]handler

func init() {
	table = map[uint64]handler{
		unix.SYS_CAPGET: sysCapget, // caps.go
		unix.SYS_CAPSET: sysCapset, // caps.go
		// System V IPC (sysvipc.go).
		unix.SYS_SHMGET:     sysShmget,
		unix.SYS_SHMAT:      sysShmat,
		unix.SYS_SHMDT:      sysShmdt,
		unix.SYS_SHMCTL:     sysShmctl,
		unix.SYS_SEMGET:     sysSemget,
		unix.SYS_SEMOP:      sysSemop,
		unix.SYS_SEMTIMEDOP: sysSemtimedop,
		unix.SYS_SEMCTL:     sysSemctl,
		unix.SYS_MSGGET:     sysMsgget,
		unix.SYS_MSGSND:     sysMsgsnd,
		unix.SYS_MSGRCV:     sysMsgrcv,
		unix.SYS_MSGCTL:     sysMsgctl,
		// POSIX message queues (mqueue.go).
		unix.SYS_MQ_OPEN:         sysMqOpen,
		unix.SYS_MQ_UNLINK:       sysMqUnlink,
		unix.SYS_MQ_TIMEDSEND:    sysMqTimedsend,
		unix.SYS_MQ_TIMEDRECEIVE: sysMqTimedreceive,
		unix.SYS_MQ_NOTIFY:       sysMqNotify,
		unix.SYS_MQ_GETSETATTR:   sysMqGetsetattr,
		// signalfd.go
		unix.SYS_SIGNALFD4: sysSignalfd4,
		unix.SYS_SIGNALFD:  sysSignalfd,
		// Files (fs*.go, io.go).
		unix.SYS_READ:          sysRead,
		unix.SYS_WRITE:         sysWrite,
		unix.SYS_PREAD64:       sysPread,
		unix.SYS_PWRITE64:      sysPwrite,
		unix.SYS_READV:         sysReadv,
		unix.SYS_WRITEV:        sysWritev,
		unix.SYS_PREADV:        sysPreadv,
		unix.SYS_PWRITEV:       sysPwritev,
		unix.SYS_PREADV2:       sysPreadv2,
		unix.SYS_PWRITEV2:      sysPwritev2,
		unix.SYS_LSEEK:         sysLseek,
		unix.SYS_SENDFILE:      sysSendfile,
		unix.SYS_IOCTL:         sysIoctl,
		unix.SYS_OPEN:          sysOpen,
		unix.SYS_OPENAT:        sysOpenat,
		unix.SYS_CREAT:         sysCreat,
		unix.SYS_CLOSE:         sysClose,
		unix.SYS_CLOSE_RANGE:   sysCloseRange,
		unix.SYS_DUP:           sysDup,
		unix.SYS_DUP2:          sysDup2,
		unix.SYS_DUP3:          sysDup3,
		unix.SYS_FCNTL:         sysFcntl,
		unix.SYS_PIPE:          sysPipe,
		unix.SYS_PIPE2:         sysPipe2,
		unix.SYS_UMASK:         sysUmask,
		unix.SYS_FSTAT:         sysFstat,
		unix.SYS_STAT:          sysStat,
		unix.SYS_LSTAT:         sysLstat,
		unix.SYS_NEWFSTATAT:    sysNewfstatat,
		unix.SYS_STATX:         sysStatx,
		unix.SYS_STATFS:        sysStatfs,
		unix.SYS_FSTATFS:       sysFstatfs,
		unix.SYS_ACCESS:        sysAccess,
		unix.SYS_FACCESSAT:     sysFaccessat,
		unix.SYS_FACCESSAT2:    sysFaccessat2,
		unix.SYS_READLINK:      sysReadlink,
		unix.SYS_READLINKAT:    sysReadlinkat,
		unix.SYS_GETDENTS64:    sysGetdents64,
		unix.SYS_GETCWD:        sysGetcwd,
		unix.SYS_CHDIR:         sysChdir,
		unix.SYS_FCHDIR:        sysFchdir,
		unix.SYS_MKDIR:         sysMkdir,
		unix.SYS_MKDIRAT:       sysMkdirat,
		unix.SYS_MKNOD:         sysMknod,
		unix.SYS_MKNODAT:       sysMknodat,
		unix.SYS_UNLINK:        sysUnlink,
		unix.SYS_UNLINKAT:      sysUnlinkat,
		unix.SYS_RMDIR:         sysRmdir,
		unix.SYS_RENAME:        sysRename,
		unix.SYS_RENAMEAT:      sysRenameat,
		unix.SYS_RENAMEAT2:     sysRenameat2,
		unix.SYS_SYMLINK:       sysSymlink,
		unix.SYS_SYMLINKAT:     sysSymlinkat,
		unix.SYS_LINK:          sysLink,
		unix.SYS_LINKAT:        sysLinkat,
		unix.SYS_TRUNCATE:      sysTruncate,
		unix.SYS_FTRUNCATE:     sysFtruncate,
		unix.SYS_CHMOD:         sysChmod,
		unix.SYS_FCHMOD:        sysFchmod,
		unix.SYS_FCHMODAT:      sysFchmodat,
		unix.SYS_FCHMODAT2:     sysFchmodat2,
		unix.SYS_CHOWN:         sysChown,
		unix.SYS_LCHOWN:        sysLchown,
		unix.SYS_FCHOWN:        sysFchown,
		unix.SYS_FCHOWNAT:      sysFchownat,
		unix.SYS_UTIMENSAT:     sysUtimensat,
		unix.SYS_FUTIMESAT:     sysFutimesat,
		unix.SYS_UTIMES:        sysFutimesat,
		unix.SYS_UTIME:         sysFutimesat,
		unix.SYS_FSYNC:         sysFsync,
		unix.SYS_FDATASYNC:     sysFsync,
		unix.SYS_FALLOCATE:     sysFallocate,
		unix.SYS_FLOCK:         sysFlock,
		unix.SYS_FADVISE64:     sysFadvise64,
		unix.SYS_POLL:          sysPoll,
		unix.SYS_PPOLL:         sysPpoll,
		unix.SYS_SELECT:        sysSelect,
		unix.SYS_PSELECT6:      sysPselect6,
		unix.SYS_EPOLL_CREATE:  sysEpollCreate,
		unix.SYS_EPOLL_CREATE1: sysEpollCreate1,
		unix.SYS_EPOLL_CTL:     sysEpollCtl,
		unix.SYS_EPOLL_WAIT:    sysEpollWait,
		unix.SYS_EPOLL_PWAIT:   sysEpollPwait,
		unix.SYS_EPOLL_PWAIT2:  sysEpollPwait2,

		// Sockets (socket.go, sockmsg.go).
		unix.SYS_SOCKET:      sysSocket,
		unix.SYS_SOCKETPAIR:  sysSocketpair,
		unix.SYS_BIND:        sysBind,
		unix.SYS_LISTEN:      sysListen,
		unix.SYS_CONNECT:     sysConnect,
		unix.SYS_ACCEPT:      sysAccept,
		unix.SYS_ACCEPT4:     sysAccept4,
		unix.SYS_GETSOCKNAME: sysGetsockname,
		unix.SYS_GETPEERNAME: sysGetpeername,
		unix.SYS_SHUTDOWN:    sysShutdown,
		unix.SYS_SETSOCKOPT:  sysSetsockopt,
		unix.SYS_GETSOCKOPT:  sysGetsockopt,
		unix.SYS_SENDTO:      sysSendto,
		unix.SYS_RECVFROM:    sysRecvfrom,
		unix.SYS_SENDMSG:     sysSendmsg,
		unix.SYS_RECVMSG:     sysRecvmsg,
		unix.SYS_SENDMMSG:    sysSendmmsg,
		unix.SYS_RECVMMSG:    sysRecvmmsg,

		unix.SYS_MMAP:            sysMmap,
		unix.SYS_MUNMAP:          sysMunmap,
		unix.SYS_MPROTECT:        sysMprotect,
		unix.SYS_BRK:             sysBrk,
		unix.SYS_MADVISE:         sysMadvise,
		unix.SYS_EXIT:            sysExit,
		unix.SYS_EXIT_GROUP:      sysExit,
		unix.SYS_ARCH_PRCTL:      sysArchPrctl,
		unix.SYS_SET_TID_ADDRESS: sysSetTidAddress,
		unix.SYS_SET_ROBUST_LIST: sysSetRobustList,
		unix.SYS_RSEQ:            sysRseq,
		unix.SYS_UNAME:           sysUname,
		unix.SYS_PERSONALITY:     sysPersonality,
		unix.SYS_GETGROUPS:       sysGetgroups,
		unix.SYS_GETPRIORITY:     sysGetpriority,
		unix.SYS_SETPRIORITY:     sysSetpriority,
		unix.SYS_IOPRIO_GET:      sysIoprioGet,
		unix.SYS_IOPRIO_SET:      sysIoprioSet,
		unix.SYS_GETRANDOM:       sysGetrandom,
		unix.SYS_CLOCK_GETTIME:   sysClockGettime,
		unix.SYS_CLOCK_GETRES:    sysClockGetres,
		unix.SYS_GETTIMEOFDAY:    sysGettimeofday,
		unix.SYS_TIME:            sysTime,
		unix.SYS_GETPID:          sysGetpid,
		unix.SYS_GETTID:          sysGetpid,
		unix.SYS_GETUID:          func(*kernel.Process, *kernel.Regs, *args) (uint64, error) { return uint64(unix.Getuid()), nil },
		unix.SYS_GETEUID:         func(*kernel.Process, *kernel.Regs, *args) (uint64, error) { return uint64(unix.Geteuid()), nil },
		unix.SYS_GETGID:          func(*kernel.Process, *kernel.Regs, *args) (uint64, error) { return uint64(unix.Getgid()), nil },
		unix.SYS_GETEGID:         func(*kernel.Process, *kernel.Regs, *args) (uint64, error) { return uint64(unix.Getegid()), nil },
		unix.SYS_PRLIMIT64:       sysPrlimit,
		unix.SYS_GETRLIMIT:       sysGetrlimit,
		unix.SYS_RT_SIGACTION:    sysRtSigaction,
		unix.SYS_RT_SIGPROCMASK:  sysRtSigprocmask,
		unix.SYS_RT_SIGRETURN:    sysRtSigreturn,
		unix.SYS_RT_SIGPENDING:   sysRtSigpending,
		unix.SYS_SIGALTSTACK:     sysSigaltstack,
		unix.SYS_KILL:            sysKill,
		unix.SYS_TGKILL:          sysTgkill,
		unix.SYS_TKILL:           sysTkill,
		unix.SYS_SCHED_YIELD:     func(*kernel.Process, *kernel.Regs, *args) (uint64, error) { return 0, nil },
		unix.SYS_MREMAP:          sysMremap,
		unix.SYS_MSYNC:           sysMsync,
		unix.SYS_MINCORE:         sysMincore,
		unix.SYS_MLOCK:           sysMlock,
		unix.SYS_MUNLOCK:         sysMlock,
		unix.SYS_MLOCK2:          sysMlock,
		unix.SYS_MLOCKALL:        sysMlockall,
		unix.SYS_MUNLOCKALL:      func(p *kernel.Process, _ *kernel.Regs, _ *args) (uint64, error) { p.MM.UnlockAll(); return 0, nil },
	}
}

// tmpfsChanges are the calls after which a tmpfs may hold more or fewer
// pages than before: writes, allocation, truncation, removal (and the
// close or munmap that frees a removed file), the mapping calls that end
// a shared mapping's writes, and exit.
var tmpfsChanges = map[uint32]bool{
	unix.SYS_WRITE: true, unix.SYS_PWRITE64: true, unix.SYS_WRITEV: true, unix.SYS_PWRITEV: true,
	unix.SYS_PWRITEV2: true, unix.SYS_SENDFILE: true, unix.SYS_SPLICE: true, unix.SYS_TEE: true,
	unix.SYS_COPY_FILE_RANGE: true, unix.SYS_FALLOCATE: true, unix.SYS_TRUNCATE: true, unix.SYS_FTRUNCATE: true,
	unix.SYS_OPEN: true, unix.SYS_OPENAT: true, unix.SYS_OPENAT2: true, unix.SYS_CREAT: true,
	unix.SYS_UNLINK: true, unix.SYS_UNLINKAT: true, unix.SYS_RMDIR: true, unix.SYS_RENAME: true,
	unix.SYS_RENAMEAT: true, unix.SYS_RENAMEAT2: true, unix.SYS_SYMLINK: true, unix.SYS_SYMLINKAT: true,
	unix.SYS_MKDIR: true, unix.SYS_MKDIRAT: true,
	unix.SYS_CLOSE: true, unix.SYS_CLOSE_RANGE: true, unix.SYS_DUP2: true, unix.SYS_DUP3: true,
	unix.SYS_MUNMAP: true, unix.SYS_MSYNC: true, unix.SYS_MREMAP: true, unix.SYS_MADVISE: true,
	unix.SYS_EXECVE: true, unix.SYS_EXECVEAT: true, unix.SYS_EXIT: true, unix.SYS_EXIT_GROUP: true,
}

// Syscall runs the syscall in r (number in RAX, arguments in RDI, RSI,
// RDX, R10, R8, R9) and leaves the result in RAX. The caller must have
// set r.RIP and r.RFLAGS to the user's (from RCX and R11); a handler may
// change any register (rt_sigreturn, signal delivery).
func Syscall(p *kernel.Process, r *kernel.Regs) {
	// Linux selects the call by RAX's low 32 bits (do_syscall_64 takes
	// an int); a restart puts the whole register back.
	nr := r.RAX
	a := args{r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9}
	h, ok := table[uint64(uint32(nr))]
	if !ok {
		if p.WarnOnce(nr) {
			p.Log.WithField("nr", nr).Debug("unimplemented syscall: ENOSYS")
		}
		r.RAX = negErrno(unix.ENOSYS)
		return
	}
	ret, err := h(p, r, &a)
	p.ReleaseHeld() // the host fds the call used (fs/fdtable.go)
	if tmpfsChanges[uint32(nr)] {
		p.TmpfsUsage() // a tmpfs's pages are charged by use (fs/fsmount.go)
	}
	if p.Log.IsLevelEnabled(5) { // logrus.TraceLevel
		p.Log.WithFields(map[string]any{"tid": p.Tid, "nr": nr, "args": a, "ret": int64(ret), "err": err}).Trace("syscall")
	}
	if err == fs.ErrNoReturn {
		return
	}
	if err == kernel.ErrRestartNoIntr {
		r.RAX, r.RIP = nr, r.RIP-2
		return
	}
	if err == kernel.ErrRestart {
		// Interrupted by a signal (Linux's ERESTARTSYS): if the signal's
		// handler has SA_RESTART (or nothing will run a handler), the
		// syscall runs again after it: back to the syscall instruction
		// with the number in RAX; else EINTR.
		if p.Restartable() {
			r.RAX, r.RIP = nr, r.RIP-2
		} else {
			r.RAX = negErrno(unix.EINTR)
		}
		return
	}
	if err != nil {
		e := fs.ToErrno(err)
		if e == unix.EPIPE && !quietEPIPE(p, nr, &a) {
			p.BrokenPipe(nr) // SIGPIPE, as Linux's pipe_write sends
		}
		r.RAX = negErrno(e)
		return
	}
	r.RAX = ret
}

func negErrno(e unix.Errno) uint64 { return uint64(-int64(e)) }
