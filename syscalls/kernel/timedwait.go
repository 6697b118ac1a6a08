// timedwait.go: taking a signal synchronously (rt_sigtimedwait) and the
// process times (times).
//
// Invariants: a signal is taken off the pending set under the thread's
// SigMu, the same lock posters and DeliverPending use, so it is either
// waited for here or delivered, never both. The file name sorts after
// table.go, whose init makes the table this init adds to.
package kernel

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
)

// SigTake removes and returns the lowest pending signal in set, p's own
// first, then its process's (sigqueue.go).
func (p *Process) SigTake(set uint64) (int, Siginfo) {
	p.Proc.SigMu.Lock()
	defer p.Proc.SigMu.Unlock()
	return p.takeSig(set)
}

// WaitFor marks the signals in set as waited for by p (sigtimedwait, a
// signalfd read), so a process signal among them wakes it although it
// blocks them; WaitFor(0) ends that, passing on what p did not take.
func (p *Process) WaitFor(set uint64) {
	old := p.Sig.waiting.Swap(set)
	p.retarget(old &^ set)
}

// rt_sigqueueinfo(tgid, sig, info) and rt_tgsigqueueinfo(tgid, tid, sig,
// info): a signal with a siginfo of the sender's making. Another process
// may only be sent one with a negative si_code (Linux: EPERM), so a
// program cannot pose as the kernel.
func (p *Process) QueueInfo(tgid, tid, sig int, addr uint64) (uint64, error) {
	if sig < 0 || sig > Nsig {
		return 0, unix.EINVAL
	}
	raw := make([]byte, 128)
	if _, err := p.MM.CopyIn(addr, raw); err != nil {
		return 0, err
	}
	code := int32(abi.Le64(raw[8:]))
	k := p.Proc.K
	if k == nil {
		return 0, unix.ENOSYS
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	var t *Process
	if tid > 0 {
		if t = k.Threads[tid]; t == nil || t.Pid != tgid {
			return 0, unix.ESRCH
		}
	} else if l := k.Procs[tgid]; l != nil && !l.Proc.zombie {
		t = l
	} else {
		return 0, unix.ESRCH
	}
	if (code >= 0 || code == SiTkill) && t.Pid != p.Pid {
		return 0, unix.EPERM
	}
	if sig == 0 {
		return 0, nil
	}
	info := Siginfo{Signo: int32(sig), Code: code, Raw: raw, FromKill: true}
	if tid > 0 {
		return 0, t.send(sig, info, false) // the thread's own queue
	}
	return 0, t.postGroup(sig, info) // the process's; EAGAIN over RLIMIT_SIGPENDING
}
