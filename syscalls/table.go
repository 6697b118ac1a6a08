// table.go: the syscall table and dispatch.
package syscalls

import (
	"golang.org/x/sys/unix"
)

// handler implements one syscall. It returns the value for RAX; errors are
// returned as an errno and become -errno.
type handler func(p *Process, r *Regs, a *args) (uint64, error)

type args [6]uint64

var table map[uint64]handler

func init() {
	table = map[uint64]handler{
		unix.SYS_READ:            sysRead,
		unix.SYS_WRITE:           sysWrite,
		unix.SYS_PREAD64:         sysPread,
		unix.SYS_PWRITE64:        sysPwrite,
		unix.SYS_READV:           sysReadv,
		unix.SYS_WRITEV:          sysWritev,
		unix.SYS_CLOSE:           sysClose,
		unix.SYS_FSTAT:           sysFstat,
		unix.SYS_NEWFSTATAT:      sysNewfstatat,
		unix.SYS_IOCTL:           sysIoctl,
		unix.SYS_LSEEK:           sysLseek,
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
		unix.SYS_READLINK:        sysReadlink,
		unix.SYS_READLINKAT:      sysReadlinkat,
		unix.SYS_GETRANDOM:       sysGetrandom,
		unix.SYS_CLOCK_GETTIME:   sysClockGettime,
		unix.SYS_CLOCK_GETRES:    sysClockGetres,
		unix.SYS_GETTIMEOFDAY:    sysGettimeofday,
		unix.SYS_TIME:            sysTime,
		unix.SYS_GETPID:          sysGetpid,
		unix.SYS_GETTID:          sysGetpid,
		unix.SYS_GETPPID:         sysGetppid,
		unix.SYS_GETUID:          func(*Process, *Regs, *args) (uint64, error) { return uint64(unix.Getuid()), nil },
		unix.SYS_GETEUID:         func(*Process, *Regs, *args) (uint64, error) { return uint64(unix.Geteuid()), nil },
		unix.SYS_GETGID:          func(*Process, *Regs, *args) (uint64, error) { return uint64(unix.Getgid()), nil },
		unix.SYS_GETEGID:         func(*Process, *Regs, *args) (uint64, error) { return uint64(unix.Getegid()), nil },
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
		unix.SYS_SCHED_YIELD:     func(*Process, *Regs, *args) (uint64, error) { return 0, nil },
		unix.SYS_MREMAP:          sysMremap,
		unix.SYS_MSYNC:           sysMsync,
		unix.SYS_MINCORE:         sysMincore,
		unix.SYS_MLOCK:           sysMlock,
		unix.SYS_MUNLOCK:         sysMlock,
		unix.SYS_MLOCK2:          sysMlock,
		unix.SYS_MLOCKALL:        sysMlockall,
		unix.SYS_MUNLOCKALL:      func(p *Process, _ *Regs, _ *args) (uint64, error) { p.MM.UnlockAll(); return 0, nil },
	}
}

// Syscall runs the syscall in r (number in RAX, arguments in RDI, RSI,
// RDX, R10, R8, R9) and leaves the result in RAX. The caller must have
// set r.RIP and r.RFLAGS to the user's (from RCX and R11); a handler may
// change any register (rt_sigreturn, signal delivery).
func (p *Process) Syscall(r *Regs) {
	nr := r.RAX
	a := args{r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9}
	h, ok := table[nr]
	if !ok {
		if !p.warned[nr] {
			p.warned[nr] = true
			p.Log.WithField("nr", nr).Debug("unimplemented syscall: ENOSYS")
		}
		r.RAX = negErrno(unix.ENOSYS)
		return
	}
	ret, err := h(p, r, &a)
	if p.Log.IsLevelEnabled(5) { // logrus.TraceLevel
		p.Log.WithFields(map[string]any{"nr": nr, "args": a, "ret": int64(ret), "err": err}).Trace("syscall")
	}
	if err == errNoReturn {
		return
	}
	if err != nil {
		r.RAX = negErrno(toErrno(err))
		return
	}
	r.RAX = ret
}

func negErrno(e unix.Errno) uint64 { return uint64(-int64(e)) }
