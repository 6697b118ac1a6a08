// jobctl.go: job-control stops. A stop signal (SIGSTOP, or SIGTSTP,
// SIGTTIN, SIGTTOU with the default action) stops every thread of the
// process until SIGCONT or SIGKILL; the parent learns of the stop and the
// continue through SIGCHLD (CLD_STOPPED, CLD_CONTINUED, unless
// SA_NOCLDSTOP) and wait4(WUNTRACED, WCONTINUED) or waitid(WSTOPPED,
// WCONTINUED).
//
// Invariants: a group's stop state is guarded by Kernel.mu; stopped
// mirrors it for lock-free reads (interrupted runs under Kernel.mu or
// none). A stopped thread parks in DeliverPending, outside the guest, on
// Kernel.cond, which every post broadcasts; the stop is complete, and the
// parent told, when every thread of the group has parked. As on Linux, SIGCONT is acted
// on when sent (it resumes the group and discards pending stop signals,
// even if blocked or ignored), and a stop signal sent discards a pending
// SIGCONT.
package syscalls

import "golang.org/x/sys/unix"

const (
	cldStopped   = 5
	cldContinued = 6
	saNocldstop  = 1

	stopSignals = 1<<(unix.SIGSTOP-1) | 1<<(unix.SIGTSTP-1) | 1<<(unix.SIGTTIN-1) | 1<<(unix.SIGTTOU-1)
)

func isStopSignal(sig int) bool { return sig >= 1 && sig <= 64 && bit(sig)&stopSignals != 0 }

// groupStop stops p's group for sig (its default action).
func (p *Process) groupStop(sig int) {
	k := p.proc.k
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	g := p.proc.group
	if g.exiting || g.stopped.Load() {
		return
	}
	g.stopped.Store(true)
	g.stopSig, g.stopReport, g.contReport, g.stopping = sig, false, false, true
	for t := range g.threads {
		if t != p {
			t.pokeIntr()
			if t.proc.task != nil {
				t.proc.task.Kick()
			}
		}
	}
	k.cond.Broadcast()
}

// jobSignal is what posting sig to p does at once for job control.
// Kernel.mu held.
func (p *Process) jobSignal(sig int) {
	g := p.proc.group
	if g == nil {
		return
	}
	var drop uint64
	switch {
	case sig == int(unix.SIGCONT):
		drop = stopSignals
	case isStopSignal(sig):
		drop = bit(int(unix.SIGCONT))
	default:
		return
	}
	for t := range g.threads {
		t.proc.sigMu.Lock()
		t.sig.pending &^= drop
		t.proc.sigMu.Unlock()
	}
	if sig == int(unix.SIGCONT) && g.stopped.Load() {
		g.stopped.Store(false)
		if !g.stopping { // the stop had completed: the parent hears of the continue
			g.stopReport, g.contReport = false, true
			g.notifyParent(cldContinued, int(unix.SIGCONT))
		}
		g.stopping = false
	}
}

// notifyParent sends the group's parent SIGCHLD for a stop or continue.
// Kernel.mu held.
func (g *threadGroup) notifyParent(code, sig int) {
	parent := g.leader.proc.parent
	if parent == nil || parent.sig.act[unix.SIGCHLD].flags&saNocldstop != 0 {
		return
	}
	parent.post(int(unix.SIGCHLD), Siginfo{Signo: int32(unix.SIGCHLD), Code: int32(code),
		Pid: uint32(g.leader.Pid), UID: uint32(unix.Getuid()), Status: int32(sig), FromKill: true})
}

// stopWait parks the calling thread while its group is stopped (until
// SIGCONT, or a SIGKILL for it).
func (p *Process) stopWait() {
	g := p.proc.group
	if g == nil || !g.stopped.Load() {
		return
	}
	k := p.proc.k
	k.mu.Lock()
	g.parked++
	g.stopDone(k)
	for g.stopped.Load() && !g.exiting && !p.killPending() {
		k.cond.Wait()
	}
	g.parked--
	k.mu.Unlock()
}

// stopState is what wait reports for child c's group, if anything: a stop
// (status sig<<8|0x7f) or a continue (0xffff) not reported yet. It clears
// the report unless peek. Kernel.mu held.
func (c *Process) stopState(stopped, continued, peek bool) (uint32, bool) {
	g := c.proc.group
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
// does the parent hear of it (as do_notify_parent_cldstop). Kernel.mu
// held; called as threads park or end.
func (g *threadGroup) stopDone(k *Kernel) {
	if g.stopping && g.parked >= len(g.threads) {
		g.stopping, g.stopReport = false, true
		g.notifyParent(cldStopped, g.stopSig)
		k.cond.Broadcast()
	}
}

// orphanedGroup reports whether p's process group is orphaned: no member
// has a parent in another group of the same session (for the first
// process, kshim's host parent counts). Linux discards SIGTSTP, SIGTTIN
// and SIGTTOU with the default action in such a group.
func (p *Process) orphanedGroup() bool {
	k := p.proc.k
	if k == nil {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	g := p.proc.pgid
	for _, q := range k.procs {
		if q.proc.zombie || q.proc.pgid != g {
			continue
		}
		switch par := q.proc.parent; {
		case par != nil:
			if par.proc.pgid != g && par.proc.sid == q.proc.sid {
				return false
			}
		case q.proc.first:
			if k.hostParentPgid != g && k.hostParentSid == q.proc.sid {
				return false
			}
		}
	}
	return true
}
