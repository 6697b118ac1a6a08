// timedwait.go: taking a signal synchronously (rt_sigtimedwait) and the
// process times (times).
//
// Invariants: a signal is taken off the pending set under the thread's
// sigMu, the same lock posters and DeliverPending use, so it is either
// waited for here or delivered, never both. The file name sorts after
// table.go, whose init makes the table this init adds to.
package syscalls

import (
	"time"

	"golang.org/x/sys/unix"
)

// sigTake removes and returns the lowest pending signal in set.
func (p *Process) sigTake(set uint64) (int, Siginfo) {
	p.proc.sigMu.Lock()
	defer p.proc.sigMu.Unlock()
	ready := p.sig.pending & set
	if ready == 0 {
		return 0, Siginfo{}
	}
	sig := 1
	for ready&1 == 0 {
		ready >>= 1
		sig++
	}
	p.sig.pending &^= bit(sig)
	return sig, p.sig.info[sig]
}

// rt_sigtimedwait(set, info, timeout, sigsetsize).
func sysRtSigtimedwait(p *Process, _ *Regs, a *args) (uint64, error) {
	if a[3] != 8 {
		return 0, unix.EINVAL
	}
	var b [8]byte
	if _, err := p.MM.CopyIn(a[0], b[:]); err != nil {
		return 0, err
	}
	set := le64(b[:]) &^ unblockable
	var deadline time.Time
	if a[2] != 0 {
		d, err := p.timespecIn(a[2])
		if err != nil {
			return 0, err
		}
		deadline = time.Now().Add(d)
	}
	ch := p.intr()
	for {
		if sig, info := p.sigTake(set); sig != 0 {
			if a[1] != 0 {
				var si [128]byte
				put32(si[:], uint32(sig))
				put32(si[8:], uint32(info.Code))
				if info.FromKill {
					put32(si[16:], info.Pid)
					put32(si[20:], info.UID)
					if sig == int(unix.SIGCHLD) {
						put32(si[24:], uint32(info.Status))
					}
				} else {
					put64(si[16:], info.Addr)
				}
				if _, err := p.MM.CopyOut(a[1], si[:]); err != nil {
					return 0, err
				}
			}
			return uint64(sig), nil
		}
		if p.interrupted() {
			return 0, unix.EINTR // another signal, one that runs a handler
		}
		var timeout <-chan time.Time
		if !deadline.IsZero() {
			d := time.Until(deadline)
			if d <= 0 {
				return 0, unix.EAGAIN
			}
			t := time.NewTimer(d)
			timeout = t.C
			select {
			case <-ch:
			case <-timeout:
			}
			t.Stop()
			continue
		}
		<-ch
	}
}

// times(buf): the VMM's own CPU times stand for the guest's (its vCPU
// threads run the guest); the result is clock ticks since boot.
func sysTimes(p *Process, _ *Regs, a *args) (uint64, error) {
	var t unix.Tms
	ticks, err := unix.Times(&t)
	if err != nil {
		return 0, err
	}
	if a[0] != 0 {
		var b [32]byte
		put64(b[0:], uint64(t.Utime))
		put64(b[8:], uint64(t.Stime))
		put64(b[16:], uint64(t.Cutime))
		put64(b[24:], uint64(t.Cstime))
		if _, err := p.MM.CopyOut(a[0], b[:]); err != nil {
			return 0, err
		}
	}
	return uint64(ticks), nil
}

func init() {
	table[unix.SYS_RT_SIGTIMEDWAIT] = sysRtSigtimedwait
	table[unix.SYS_TIMES] = sysTimes
}
