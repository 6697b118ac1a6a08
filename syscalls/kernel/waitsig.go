// waitsig.go: waiting for a signal (rt_sigsuspend, pause) and the signal
// a write to a broken pipe raises.
//
// Invariants:
//   - rt_sigsuspend swaps in its temporary mask and records the old one
//     (signals.saved, RestoreMask) before it waits; the old mask comes back
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
package kernel

import (
	"golang.org/x/sys/unix"
)

// SleepBegin marks p as sleeping (S in /proc/PID/stat) until the matching
// SleepEnd: every wait of a syscall's that another task or the host ends
// (a signal, a wake-up, a ready fd, a timeout) is bracketed by the pair,
// nothing else is.
func (p *Process) SleepBegin() { p.sleeping.Add(1) }

// SleepEnd ends SleepBegin's mark.
func (p *Process) SleepEnd() { p.sleeping.Add(-1) }

// PollAsleep is poll(2) on host fds with p shown sleeping meanwhile.
func (p *Process) PollAsleep(fds []unix.PollFd, timeout int) (int, error) {
	p.SleepBegin()
	defer p.SleepEnd()
	return unix.Poll(fds, timeout)
}

// WaitSignal blocks until a signal p acts on (not blocked, not ignored) is
// pending: one that runs a handler or ends the process.
func (p *Process) WaitSignal() {
	p.SleepBegin()
	defer p.SleepEnd()
	ch := p.intr()
	for !p.Interrupted() {
		<-ch
	}
}

// BrokenPipe raises SIGPIPE for the calling thread when syscall nr failed
// with EPIPE because it wrote to a pipe (or socket) with no reader, as
// Linux's pipe_write does (send_sig: SI_USER from the thread itself).
func (p *Process) BrokenPipe(nr uint64) {
	switch nr {
	case unix.SYS_WRITE, unix.SYS_WRITEV, unix.SYS_PWRITE64, unix.SYS_PWRITEV, unix.SYS_PWRITEV2,
		unix.SYS_SENDFILE, unix.SYS_SPLICE, unix.SYS_TEE, unix.SYS_VMSPLICE:
		p.Raise(int(unix.SIGPIPE), Siginfo{Signo: int32(unix.SIGPIPE), Code: SiUser,
			Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), FromKill: true})
	}
}
