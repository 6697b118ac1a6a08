// waitsig.go: waiting for a signal (rt_sigsuspend, pause) and the signal
// a write to a broken pipe raises.
//
// Invariants:
//   - rt_sigsuspend swaps in its temporary mask and records the old one
//     (signals.saved, restoreMask) before it waits; the old mask comes back
//     through the frame of the handler it ran for (uc_mask, setupFrame) or,
//     when no handler runs, at the end of DeliverPending: Linux's
//     TIF_RESTORE_SIGMASK. Both calls always return EINTR, never restart.
//   - A wait never misses a post: it takes p's interrupt channel before it
//     checks for a signal, and post sets the pending bit before it pokes the
//     channel (task.go).
//
// The file's name sorts after table.go on purpose: the go tool runs a
// package's init functions in file name order, and table.go's makes the map
// this one's init adds to.
package syscalls

import (
	"golang.org/x/sys/unix"
)

// rt_sigsuspend(mask, sigsetsize).
func sysRtSigsuspend(p *Process, _ *Regs, a *args) (uint64, error) {
	if a[1] != 8 {
		return 0, unix.EINVAL
	}
	var b [8]byte
	if _, err := p.MM.CopyIn(a[0], b[:]); err != nil {
		return 0, err
	}
	p.proc.sigMu.Lock()
	p.sig.saved, p.sig.restoreMask = p.sig.mask, true
	p.sig.mask = le64(b[:]) &^ unblockable
	p.proc.sigMu.Unlock()
	p.waitSignal()
	return 0, unix.EINTR
}

func sysPause(p *Process, _ *Regs, _ *args) (uint64, error) {
	p.waitSignal()
	return 0, unix.EINTR
}

// waitSignal blocks until a signal p acts on (not blocked, not ignored) is
// pending: one that runs a handler or ends the process.
func (p *Process) waitSignal() {
	ch := p.intr()
	for !p.interrupted() {
		<-ch
	}
}

// brokenPipe raises SIGPIPE for the calling thread when syscall nr failed
// with EPIPE because it wrote to a pipe (or socket) with no reader, as
// Linux's pipe_write does (send_sig: SI_USER from the thread itself).
func (p *Process) brokenPipe(nr uint64) {
	switch nr {
	case unix.SYS_WRITE, unix.SYS_WRITEV, unix.SYS_PWRITE64, unix.SYS_PWRITEV, unix.SYS_PWRITEV2,
		unix.SYS_SENDFILE, unix.SYS_SPLICE, unix.SYS_TEE, unix.SYS_VMSPLICE:
		p.raise(int(unix.SIGPIPE), Siginfo{Signo: int32(unix.SIGPIPE), Code: siUser,
			Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), FromKill: true})
	}
}

func init() {
	for nr, h := range map[uint64]handler{
		unix.SYS_RT_SIGSUSPEND: sysRtSigsuspend,
		unix.SYS_PAUSE:         sysPause,
		unix.SYS_PRCTL:         sysPrctl,
		unix.SYS_SYSINFO:       sysSysinfo,
	} {
		table[nr] = h
	}
}
