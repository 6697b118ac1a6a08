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
	for {
		if sig, info := p.sigTake(set); sig != 0 {
			if info.dropped() {
				continue
			}
			if a[1] != 0 {
				var si [128]byte
				info.Signo = int32(sig)
				info.encode(si[:])
				if _, err := p.MM.CopyOut(a[1], si[:]); err != nil {
					return 0, err
				}
			}
			return uint64(sig), nil
		}
		if p.interrupted() {
			return 0, unix.EINTR // another signal, one that runs a handler
		}
		if !deadline.IsZero() && time.Until(deadline) <= 0 {
			return 0, unix.EAGAIN
		}
		p.awaitPost(deadline)
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

// rt_sigqueueinfo(tgid, sig, info) and rt_tgsigqueueinfo(tgid, tid, sig,
// info): a signal with a siginfo of the sender's making. Another process
// may only be sent one with a negative si_code (Linux: EPERM), so a
// program cannot pose as the kernel.
func (p *Process) queueInfo(tgid, tid, sig int, addr uint64) (uint64, error) {
	if sig < 0 || sig > nsig {
		return 0, unix.EINVAL
	}
	raw := make([]byte, 128)
	if _, err := p.MM.CopyIn(addr, raw); err != nil {
		return 0, err
	}
	code := int32(le64(raw[8:]))
	k := p.proc.k
	if k == nil {
		return 0, unix.ENOSYS
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var t *Process
	if tid > 0 {
		if t = k.threads[tid]; t == nil || t.Pid != tgid {
			return 0, unix.ESRCH
		}
	} else if l := k.procs[tgid]; l != nil && !l.proc.zombie {
		t = l
		if sig != 0 { // signal 0 only checks; no thread takes it
			t = liveThread(l, sig)
		}
	} else {
		return 0, unix.ESRCH
	}
	if (code >= 0 || code == siTkill) && t.Pid != p.Pid {
		return 0, unix.EPERM
	}
	if sig != 0 {
		t.post(sig, Siginfo{Signo: int32(sig), Code: code, Raw: raw, FromKill: true})
	}
	return 0, nil
}

func sysRtSigqueueinfo(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.queueInfo(int(int32(a[0])), 0, int(int32(a[1])), a[2])
}

func sysRtTgsigqueueinfo(p *Process, _ *Regs, a *args) (uint64, error) {
	if int32(a[1]) <= 0 {
		return 0, unix.EINVAL
	}
	return p.queueInfo(int(int32(a[0])), int(int32(a[1])), int(int32(a[2])), a[3])
}

func init() {
	table[unix.SYS_RT_SIGTIMEDWAIT] = sysRtSigtimedwait
	table[unix.SYS_TIMES] = sysTimes
	table[unix.SYS_RT_SIGQUEUEINFO] = sysRtSigqueueinfo
	table[unix.SYS_RT_TGSIGQUEUEINFO] = sysRtTgsigqueueinfo
}
