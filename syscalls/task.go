// task.go: processes as tasks on vCPUs: the process table (Kernel), fork,
// exit, wait, process groups, and what the VMM provides for them (Host,
// Task).
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package kernel, whose task.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/kernel"
)

func sysFork(p *kernel.Process, r *kernel.Regs, _ *args) (uint64, error) {
	return p.Fork(r, uint64(unix.SIGCHLD), 0, 0, 0, 0)
}

func sysVfork(p *kernel.Process, r *kernel.Regs, _ *args) (uint64, error) {
	return p.Fork(r, kernel.CloneVM|kernel.CloneVfork|uint64(unix.SIGCHLD), 0, 0, 0, 0)
}

// clone(flags, stack, parent_tid, child_tid, tls) on x86-64.
func sysClone(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	return p.Fork(r, a[0], a[1], a[2], a[3], a[4])
}

// wait4(pid, wstatus, options, rusage).
func sysWait4(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	const known = unix.WNOHANG | unix.WUNTRACED | unix.WCONTINUED | unix.WALL | unix.WCLONE | 0x40000000 // __WNOTHREAD
	if a[2]&^uint64(known) != 0 {
		return 0, unix.EINVAL
	}
	var use kernel.Rusage
	c, status, err := p.WaitChild(int(int32(a[0])), int(a[2]), &use)
	if err != nil || c == 0 {
		return uint64(c), err
	}
	if a[1] != 0 {
		var b [4]byte
		abi.Put32(b[:], status)
		if _, err := p.MM.CopyOut(a[1], b[:]); err != nil {
			return 0, err
		}
	}
	if a[3] != 0 {
		if _, err := p.MM.CopyOut(a[3], kernel.RusageBytes(use)); err != nil {
			return 0, err
		}
	}
	return uint64(c), nil
}

// waitid(idtype, id, infop, options, rusage).
func sysWaitid(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	const known = unix.WNOHANG | unix.WEXITED | unix.WSTOPPED | unix.WCONTINUED | unix.WNOWAIT | unix.WALL | unix.WCLONE | 0x40000000
	opts := int(a[3])
	if opts&^known != 0 || opts&(unix.WEXITED|unix.WSTOPPED|unix.WCONTINUED) == 0 {
		return 0, unix.EINVAL
	}
	var pid int
	switch a[0] {
	case unix.P_ALL:
		pid = -1
	case unix.P_PID:
		pid = int(int32(a[1]))
		if pid <= 0 {
			return 0, unix.EINVAL
		}
	case unix.P_PGID:
		pid = -int(int32(a[1]))
		if a[1] == 0 {
			pid = 0
		}
	case unix.P_PIDFD:
		l, nonblock, err := p.PidfdWait(a[1]) // kernel/pidfd.go
		if err != nil {
			return 0, err
		}
		pid = l.Pid
		if nonblock {
			opts |= unix.WNOHANG | kernel.PidfdEAGAIN
		}
	default:
		return 0, unix.EINVAL
	}
	var use kernel.Rusage
	c, status, err := p.WaitChildOpts(pid, opts&unix.WNOHANG != 0, opts&unix.WNOWAIT != 0,
		kernel.WaitWant{Exited: opts&unix.WEXITED != 0, Stopped: opts&unix.WSTOPPED != 0, Continued: opts&unix.WCONTINUED != 0}, &use)
	if err != nil {
		return 0, err
	}
	if c == 0 && opts&kernel.PidfdEAGAIN != 0 {
		return 0, unix.EAGAIN // a non-blocking pidfd's child is not waitable yet
	}
	if c == 0 {
		return 0, p.ZeroSiginfo(a[2])
	}
	if a[4] != 0 { // only for a child reported, before the siginfo (kernel/exit.c)
		if _, err := p.MM.CopyOut(a[4], kernel.RusageBytes(use)); err != nil {
			return 0, err
		}
	}
	if a[2] != 0 {
		var si [128]byte
		abi.Put32(si[0:], uint32(unix.SIGCHLD))
		code, st := uint32(kernel.CldExited), status>>8&0xff
		switch {
		case status == 0xffff:
			code, st = kernel.CldContinued, uint32(unix.SIGCONT)
		case status&0xff == 0x7f:
			code = kernel.CldStopped
		case status&0x7f != 0:
			code, st = kernel.CldKilled, status&0x7f
		}
		abi.Put32(si[8:], code)
		abi.Put32(si[16:], uint32(c))
		abi.Put32(si[20:], uint32(unix.Getuid()))
		abi.Put32(si[24:], st)
		if _, err := p.MM.CopyOut(a[2], si[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysGetppid(p *kernel.Process, _ *kernel.Regs, _ *args) (uint64, error) {
	return uint64(p.Ppid()), nil
}

func sysSetpgid(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	pid, pgid := int(int32(a[0])), int(int32(a[1]))
	if pgid < 0 {
		return 0, unix.EINVAL
	}
	k := p.Proc.K
	k.Mu.Lock()
	defer k.Mu.Unlock()
	t := p
	if pid != 0 && pid != p.Pid {
		t = k.Procs[pid]
		if t == nil || t.Proc.Parent != p {
			return 0, unix.ESRCH
		}
		if t.Proc.Sid != p.Proc.Sid {
			return 0, unix.EPERM
		}
	}
	if t.Proc.Sid == t.Pid {
		return 0, unix.EPERM // a session leader cannot move
	}
	if pgid == 0 {
		pgid = t.Pid
	}
	if pgid != t.Pid {
		ok := false
		for _, q := range k.Procs {
			if q.Proc.Pgid == pgid && q.Proc.Sid == t.Proc.Sid {
				ok = true
				break
			}
		}
		if !ok {
			return 0, unix.EPERM
		}
	}
	t.Proc.Pgid = pgid
	return 0, nil
}

// procField answers getpgid and getsid: a field of the process a pid
// argument names (0: the caller), under Kernel.Mu.
func procField(p *kernel.Process, pid uint64, field func(*kernel.Process) int) (uint64, error) {
	k := p.Proc.K
	k.Mu.Lock()
	defer k.Mu.Unlock()
	t := k.ProcOrSelf(p, pid)
	if t == nil {
		return 0, unix.ESRCH
	}
	return uint64(field(t)), nil
}

func sysGetpgid(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return procField(p, a[0], func(t *kernel.Process) int { return t.Proc.Pgid })
}

func sysGetpgrp(p *kernel.Process, r *kernel.Regs, _ *args) (uint64, error) {
	return sysGetpgid(p, r, &args{})
}

func sysSetsid(p *kernel.Process, _ *kernel.Regs, _ *args) (uint64, error) {
	k := p.Proc.K
	k.Mu.Lock()
	defer k.Mu.Unlock()
	for _, q := range k.Procs {
		if q.Proc.Pgid == p.Pid {
			return 0, unix.EPERM // already a group leader
		}
	}
	p.Proc.Sid, p.Proc.Pgid = p.Pid, p.Pid
	return uint64(p.Pid), nil
}

func sysGetsid(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return procField(p, a[0], func(t *kernel.Process) int { return t.Proc.Sid })
}

func init() {
	// Processes (task.go, exec.go). table.go's init has run: the go tool
	// initialises a package's files in file name order (table < task).
	for nr, h := range map[uint64]handler{
		unix.SYS_FORK:     sysFork,
		unix.SYS_VFORK:    sysVfork,
		unix.SYS_CLONE:    sysClone,
		unix.SYS_WAIT4:    sysWait4,
		unix.SYS_WAITID:   sysWaitid,
		unix.SYS_EXECVE:   sysExecve,
		unix.SYS_EXECVEAT: sysExecveat,
		unix.SYS_GETPPID:  sysGetppid,
		unix.SYS_SETPGID:  sysSetpgid,
		unix.SYS_GETPGID:  sysGetpgid,
		unix.SYS_GETPGRP:  sysGetpgrp,
		unix.SYS_SETSID:   sysSetsid,
		unix.SYS_GETSID:   sysGetsid,
		// Threads (thread.go, futex.go).
		unix.SYS_GETTID:            sysGettid,
		unix.SYS_SET_TID_ADDRESS:   sysSetTidAddress2,
		unix.SYS_EXIT:              sysExitThread,
		unix.SYS_EXIT_GROUP:        sysExitGroup,
		unix.SYS_TGKILL:            sysTgkill2,
		unix.SYS_TKILL:             sysTkill2,
		unix.SYS_FUTEX:             sysFutex,
		unix.SYS_SCHED_GETAFFINITY: sysSchedGetaffinity,
		unix.SYS_SCHED_SETAFFINITY: sysSchedSetaffinity,
		unix.SYS_SCHED_YIELD:       sysSchedYield,
		unix.SYS_EVENTFD2:          sysEventfd2,
		unix.SYS_EVENTFD:           sysEventfd,
		unix.SYS_NANOSLEEP:         sysNanosleep,
		unix.SYS_CLOCK_NANOSLEEP:   sysClockNanosleep,
	} {
		table[nr] = h
	}
}
