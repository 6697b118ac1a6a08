// timedwait.go: taking a signal synchronously (rt_sigtimedwait) and the
// process times (times).
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package kernel, whose timedwait.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"time"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/kernel"
)

// rt_sigtimedwait(set, info, timeout, sigsetsize).
func sysRtSigtimedwait(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	set, err := p.SigsetIn(a[0], a[3])
	if err != nil {
		return 0, err
	}
	var deadline time.Time
	if a[2] != 0 {
		d, err := p.TimespecIn(a[2])
		if err != nil {
			return 0, err
		}
		deadline = time.Now().Add(d)
	}
	p.WaitFor(set) // a process signal in set may wake this thread (kernel/sigqueue.go)
	defer p.WaitFor(0)
	for {
		if sig, info := p.SigTake(set); sig != 0 {
			if info.Dropped() {
				continue
			}
			if a[1] != 0 {
				var si [128]byte
				info.Signo = int32(sig)
				info.Encode(si[:])
				if _, err := p.MM.CopyOut(a[1], si[:]); err != nil {
					return 0, err
				}
			}
			return uint64(sig), nil
		}
		if p.Interrupted() {
			return 0, unix.EINTR // another signal, one that runs a handler
		}
		if !deadline.IsZero() && time.Until(deadline) <= 0 {
			return 0, unix.EAGAIN
		}
		p.AwaitPost(deadline)
	}
}

// times(buf): the process's and its reaped children's user and system
// time (kernel/cputime.go) in USER_HZ ticks; the result is the host's
// clock ticks since boot.
func sysTimes(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	var t unix.Tms
	ticks, err := unix.Times(&t)
	if err != nil {
		return 0, err
	}
	if a[0] != 0 {
		self, ch := p.ProcessTimes()
		tick := func(d time.Duration) uint64 { return uint64(d / (time.Second / 100)) } // nsec_to_clock_t
		var b [32]byte
		abi.Put64(b[0:], tick(self.User))
		abi.Put64(b[8:], tick(self.Sys))
		abi.Put64(b[16:], tick(ch.User))
		abi.Put64(b[24:], tick(ch.Sys))
		if _, err := p.MM.CopyOut(a[0], b[:]); err != nil {
			return 0, err
		}
	}
	return uint64(ticks), nil
}

// getrusage(who, usage): kernel/cputime.go says what each field counts.
func sysGetrusage(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	u, err := p.Usage(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(a[1], kernel.RusageBytes(u))
	return 0, err
}

func sysRtSigqueueinfo(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.QueueInfo(int(int32(a[0])), 0, int(int32(a[1])), a[2])
}

func sysRtTgsigqueueinfo(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	if int32(a[1]) <= 0 {
		return 0, unix.EINVAL
	}
	return p.QueueInfo(int(int32(a[0])), int(int32(a[1])), int(int32(a[2])), a[3])
}

func init() {
	table[unix.SYS_RT_SIGTIMEDWAIT] = sysRtSigtimedwait
	table[unix.SYS_TIMES] = sysTimes
	table[unix.SYS_GETRUSAGE] = sysGetrusage
	table[unix.SYS_RT_SIGQUEUEINFO] = sysRtSigqueueinfo
	table[unix.SYS_RT_TGSIGQUEUEINFO] = sysRtTgsigqueueinfo
}
