// jobctl.go: job-control stops. A stop signal (SIGSTOP, or SIGTSTP,
// SIGTTIN, SIGTTOU with the default action) stops every thread of the
// process until SIGCONT or SIGKILL; the parent learns of the stop and the
// continue through SIGCHLD (CLD_STOPPED, CLD_CONTINUED, unless
// SA_NOCLDSTOP) and wait4(WUNTRACED, WCONTINUED) or waitid(WSTOPPED,
// WCONTINUED).
//
// Invariants: a group's stop state is guarded by Kernel.Mu; stopped
// mirrors it for lock-free reads (interrupted runs under Kernel.Mu or
// none). A stopped thread parks in DeliverPending, outside the guest, on
// Kernel.cond, which every post broadcasts; the stop is complete, and the
// parent told, when every thread of the group has parked. As on Linux, SIGCONT is acted
// on when sent (it resumes the group and discards pending stop signals,
// even if blocked or ignored), and a stop signal sent discards a pending
// SIGCONT.
package kernel

import (
	"golang.org/x/sys/unix"
)

const (
	CldStopped   = 5
	CldContinued = 6
	saNocldstop  = 1

	stopSignals = 1<<(unix.SIGSTOP-1) | 1<<(unix.SIGTSTP-1) | 1<<(unix.SIGTTIN-1) | 1<<(unix.SIGTTOU-1)
)

func isStopSignal(sig int) bool { return sig >= 1 && sig <= 64 && Bit(sig)&stopSignals != 0 }

// groupStop stops p's group for sig (its default action).
func (p *Process) groupStop(sig int) {
	k := p.Proc.K
	if k == nil {
		return
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	g := p.Proc.Group
	if g.exiting || g.stopped.Load() {
		return
	}
	g.stopped.Store(true)
	g.stopSig, g.stopReport, g.contReport, g.stopping = sig, false, false, true
	for t := range g.threads {
		if t != p {
			t.pokeIntr()
			if t.Proc.task != nil {
				t.Proc.task.Kick()
			}
		}
	}
	k.cond.Broadcast()
}

// jobSignal is what posting sig to p does at once for job control.
// Kernel.Mu held.
func (p *Process) jobSignal(sig int) {
	g := p.Proc.Group
	if g == nil {
		return
	}
	var drop uint64
	switch {
	case sig == int(unix.SIGCONT):
		drop = stopSignals
	case isStopSignal(sig):
		drop = Bit(int(unix.SIGCONT))
	default:
		return
	}
	for t := range g.threads {
		t.Proc.SigMu.Lock()
		unqueue(t.Sig.pend.flush(drop))
		t.Proc.SigMu.Unlock()
	}
	g.sigMu.Lock()
	unqueue(g.shared.flush(drop))
	g.sigMu.Unlock()
	if sig == int(unix.SIGCONT) && g.stopped.Load() {
		g.stopped.Store(false)
		if !g.stopping { // the stop had completed: the parent hears of the continue
			g.stopReport, g.contReport = false, true
			g.notifyParent(CldContinued, int(unix.SIGCONT))
		}
		g.stopping = false
	}
}

// notifyParent sends the group's parent SIGCHLD for a stop or continue.
// Kernel.Mu held.
func (g *threadGroup) notifyParent(code, sig int) {
	parent := g.leader.Proc.Parent
	if parent == nil || parent.Sig.Act.Get(int(unix.SIGCHLD)).Flags&saNocldstop != 0 {
		return
	}
	_ = parent.postGroup(int(unix.SIGCHLD), Siginfo{Signo: int32(unix.SIGCHLD), Code: int32(code),
		Pid: uint32(g.leader.Pid), UID: uint32(unix.Getuid()), Status: int32(sig), FromKill: true})
}

// stopWait parks the calling thread while its group is stopped (until
// SIGCONT, or a SIGKILL for it).
func (p *Process) stopWait() {
	g := p.Proc.Group
	if g == nil || !g.stopped.Load() {
		return
	}
	k := p.Proc.K
	k.Mu.Lock()
	g.parked++
	g.stopDone(k)
	for g.stopped.Load() && !g.exiting && !p.killPending() {
		k.cond.Wait()
	}
	g.parked--
	k.Mu.Unlock()
}

// stopState is what wait reports for child c's group, if anything: a stop
// (status sig<<8|0x7f) or a continue (0xffff) not reported yet. It clears
// the report unless peek. Kernel.Mu held.
func (c *Process) stopState(stopped, continued, peek bool) (uint32, bool) {
	g := c.Proc.Group
	if g == nil {
		return 0, false
	}
	switch {
	case stopped && g.stopReport && g.stopped.Load():
		if !peek {
			g.stopReport = false
		}
		return uint32(g.stopSig)<<8 | 0x7f, true
	case continued && g.contReport:
		if !peek {
			g.contReport = false
		}
		return 0xffff, true
	}
	return 0, false
}

// stopDone completes a group stop once every thread has parked: only then
// does the parent hear of it (as do_notify_parent_cldstop). Kernel.Mu
// held; called as threads park or end.
func (g *threadGroup) stopDone(k *Kernel) {
	if g.stopping && g.parked >= len(g.threads) {
		g.stopping, g.stopReport = false, true
		g.notifyParent(CldStopped, g.stopSig)
		k.cond.Broadcast()
	}
}

// orphanedGroup reports whether p's process group is orphaned: no member
// has a parent in another group of the same session (for the first
// process, kshim's host parent counts). Linux discards SIGTSTP, SIGTTIN
// and SIGTTOU with the default action in such a group.
func (p *Process) orphanedGroup() bool {
	k := p.Proc.K
	if k == nil {
		return false
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	g := p.Proc.Pgid
	for _, q := range k.Procs {
		if q.Proc.zombie || q.Proc.Pgid != g {
			continue
		}
		switch par := q.Proc.Parent; {
		case par != nil:
			if par.Proc.Pgid != g && par.Proc.Sid == q.Proc.Sid {
				return false
			}
		case q.Proc.first:
			if k.hostParentPgid != g && k.hostParentSid == q.Proc.Sid {
				return false
			}
		}
	}
	return true
}
