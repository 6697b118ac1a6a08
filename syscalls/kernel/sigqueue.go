// sigqueue.go: pending signals as Linux queues them. Each thread has a
// private queue (signals sent to it: tkill, tgkill, rt_tgsigqueueinfo,
// faults, SIGEV_THREAD_ID timers) and its thread group a shared one
// (signals sent to the process: kill, rt_sigqueueinfo, pidfd_send_signal,
// process timers, SIGCHLD); a thread takes from its own queue first, then
// the shared one, the lowest signal first, as Linux's dequeue_signal.
//
// A standard signal (1-31) is queued once: sent again while pending it
// coalesces. A realtime signal (SIGRTMIN on) queues every instance with
// its own siginfo, taken in the order sent. Each queued siginfo counts
// against the receiver's RLIMIT_SIGPENDING, guest-wide (Linux counts per
// user; every guest task is kshim's one user), and at most maxQueued
// whatever the limit: over it, a realtime signal sent with a siginfo of
// the sender's (sigqueue, tgkill: si_code < 0) fails with EAGAIN, any
// other signal is still made pending without its siginfo (the receiver
// then sees SI_USER, pid and uid 0), as Linux's __send_signal_locked.
// A signal the receiver ignores and does not block is discarded at once.
//
// A process-directed signal wakes one thread that can take it (Linux's
// complete_signal): the suggested one when it does not block the signal,
// else any that does not, or one waiting for it in sigtimedwait or a
// signalfd read; none, and the first thread to unblock it takes it. A
// thread that blocks such a signal after being chosen, or ends, passes it
// on (retarget, Linux's retarget_shared_pending).
//
// Locks: a thread's queue is guarded by its SigMu, the shared queue by
// threadGroup.sigMu, taken after a SigMu (never the other way); posters
// hold Kernel.Mu. The guest-wide count is atomic.
package kernel

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

const (
	sigRTMin = 32 // the first realtime signal (glibc reserves 32 and 33)
	// maxQueued bounds queued siginfos guest-wide whatever
	// RLIMIT_SIGPENDING says (a guest with an unlimited limit could
	// otherwise fill kshim's memory).
	maxQueued = 1 << 16
	siQueue   = -1 // SI_QUEUE
)

// sigQueue is a set of pending signals: a bit for each, and the siginfo of
// each queued instance in order (a bit may be set with none: an instance
// that lost its siginfo over the limit).
type sigQueue struct {
	set  uint64
	info [Nsig + 1][]Siginfo
}

// take removes sig's first instance; counted says whether it was a queued
// siginfo (the guest-wide count goes down by one).
func (q *sigQueue) take(sig int) (info Siginfo, counted bool) {
	l := q.info[sig]
	if len(l) == 0 {
		q.set &^= Bit(sig)
		// Linux's collect_signal for an instance without a siginfo.
		return Siginfo{Signo: int32(sig), Code: SiUser, FromKill: true}, false
	}
	info = l[0]
	l[0] = Siginfo{}
	if len(l) == 1 {
		q.info[sig] = nil
		q.set &^= Bit(sig)
	} else {
		q.info[sig] = l[1:]
	}
	info.left()
	return info, true
}

// flush discards every instance of the signals in bits and returns how
// many queued siginfos went.
func (q *sigQueue) flush(bits uint64) int {
	n := 0
	for sig := 1; sig <= Nsig && q.set&bits != 0; sig++ {
		if bits&Bit(sig) == 0 || q.set&Bit(sig) == 0 {
			continue
		}
		for i := range q.info[sig] {
			q.info[sig][i].left()
		}
		n += len(q.info[sig])
		q.info[sig] = nil
		q.set &^= Bit(sig)
	}
	return n
}

// left marks a siginfo a timer posted as no longer queued.
func (info *Siginfo) left() {
	if info.Gone != nil {
		info.Gone.Store(true)
	}
}

// lowestSig is the lowest signal in a non-empty set.
func lowestSig(set uint64) int {
	sig := 1
	for set&1 == 0 {
		set >>= 1
		sig++
	}
	return sig
}

// queued counts the guest's queued siginfos (RLIMIT_SIGPENDING).
var queued atomic.Int64

func unqueue(n int) {
	if n > 0 {
		queued.Add(-int64(n))
	}
}

// enqueue puts sig with info on q for receiver t (its limit), under q's
// lock: coalesced if a standard signal is pending there, the siginfo
// kept if the limit allows (override: always), else EAGAIN or the bit
// alone (see the head comment).
func enqueue(q *sigQueue, t *Process, sig int, info Siginfo, override bool) error {
	if sig < sigRTMin && q.set&Bit(sig) != 0 {
		info.left()
		return nil // legacy_queue: already pending
	}
	if sig == int(unix.SIGKILL) {
		q.set |= Bit(sig) // Linux keeps no siginfo for SIGKILL
		return nil
	}
	if sig < sigRTMin {
		override = override || info.Code >= 0
	}
	if n := queued.Add(1); n > maxQueued || !override && n > t.sigpendingLimit() {
		queued.Add(-1)
		info.left()
		if sig >= sigRTMin && info.Code != SiUser {
			return unix.EAGAIN
		}
		q.set |= Bit(sig) // the siginfo is lost
		return nil
	}
	q.set |= Bit(sig)
	q.info[sig] = append(q.info[sig], info)
	return nil
}

// sigpendingLimit is t's RLIMIT_SIGPENDING soft limit.
func (t *Process) sigpendingLimit() int64 {
	l, err := t.Rlimit(unix.RLIMIT_SIGPENDING)
	if err != nil || l.Cur > maxQueued {
		return maxQueued
	}
	return int64(l.Cur)
}

// ignores reports whether t would discard sig now (Linux's sig_ignored):
// not blocked (nor waited for), and ignored by its handler or by default.
func (t *Process) ignores(sig int) bool {
	if t.Sig.Act == nil || t.blocks(sig) || t.Sig.waiting.Load()&Bit(sig) != 0 {
		return false
	}
	h := t.Sig.Act.Get(sig).Handler
	return h == SigIgn || h == SigDfl && DefaultIgnored(sig)
}

// wants reports whether t can take sig now (Linux's wants_signal): it does
// not block it or waits for it. (A thread that is ending may be chosen:
// it passes the signal on as it ends, retarget.)
func (t *Process) wants(sig int) bool {
	return !t.blocks(sig) || t.Sig.waiting.Load()&Bit(sig) != 0
}

// pending is the union of t's own and its group's pending signals, and
// t's mask (read together under its SigMu: any task may ask).
func (t *Process) pending() (set, mask uint64) {
	t.Proc.SigMu.Lock()
	defer t.Proc.SigMu.Unlock()
	set = t.Sig.pend.set
	if g := t.Proc.Group; g != nil {
		g.sigMu.Lock()
		set |= g.shared.set
		g.sigMu.Unlock()
	}
	return set, t.Sig.Mask
}

// ready is the pending signals t does not block.
func (t *Process) ready() uint64 {
	set, mask := t.pending()
	return set &^ mask
}

// takeSig removes the lowest signal of set pending for t, its own queue
// first, then its group's: 0 when none. t.SigMu held.
func (t *Process) takeSig(set uint64) (int, Siginfo) {
	if ready := t.Sig.pend.set & set; ready != 0 {
		sig := lowestSig(ready)
		info, counted := t.Sig.pend.take(sig)
		if counted {
			unqueue(1)
		}
		return sig, info
	}
	g := t.Proc.Group
	if g == nil {
		return 0, Siginfo{}
	}
	g.sigMu.Lock()
	defer g.sigMu.Unlock()
	ready := g.shared.set & set
	if ready == 0 {
		return 0, Siginfo{}
	}
	sig := lowestSig(ready)
	info, counted := g.shared.take(sig)
	if counted {
		unqueue(1)
	}
	return sig, info
}

// postGroup sends sig to the thread group of l (a thread of it, the one
// the sender named) and wakes a thread that can take it. Kernel.Mu held.
func (l *Process) postGroup(sig int, info Siginfo) error {
	g := l.Proc.Group
	if g == nil || l.Proc.K == nil {
		return l.send(sig, info, false)
	}
	if sig == int(unix.SIGKILL) {
		// Fatal to the whole group at once, stopped threads too: every
		// thread gets it (complete_signal's fatal path).
		for t := range g.threads {
			_ = t.send(sig, info, false)
		}
		return nil
	}
	l.jobSignal(sig)
	defer l.Proc.K.cond.Broadcast() // waits that look at the table too (wait4 after a stop)
	if l.ignores(sig) {
		info.left()
		return nil
	}
	g.sigMu.Lock()
	err := enqueue(&g.shared, l, sig, info, info.Gone != nil)
	g.sigMu.Unlock()
	if err != nil {
		return err
	}
	if t := wakeTarget(l, sig); t != nil {
		t.sfdPosted(sig)
		t.wake()
	} else {
		l.sfdPosted(sig)
	}
	return nil
}

// wakeTarget is the thread of l's group that should take process signal
// sig (complete_signal's choice), nil when none can now. Kernel.Mu held.
func wakeTarget(l *Process, sig int) *Process {
	g := l.Proc.Group
	if g.threads[l] && l.wants(sig) {
		return l
	}
	for t := range g.threads {
		if t.wants(sig) {
			return t
		}
	}
	return nil
}

// wake makes t look at its signals: a sleeping wait returns to check, a
// running vCPU is kicked.
func (t *Process) wake() {
	t.pokeIntr()
	if task := t.Proc.task; task != nil {
		task.Kick()
	}
}

// send queues sig for thread t (its own queue) and wakes it; override
// skips the limit (a timer's preallocated siginfo). Kernel.Mu held when t
// has a Kernel.
func (t *Process) send(sig int, info Siginfo, override bool) error {
	if t.Proc.K != nil {
		t.jobSignal(sig)
		defer t.Proc.K.cond.Broadcast()
	}
	if t.ignores(sig) {
		info.left()
		return nil
	}
	t.Proc.SigMu.Lock()
	err := enqueue(&t.Sig.pend, t, sig, info, override)
	t.Proc.SigMu.Unlock()
	if err != nil {
		return err
	}
	t.sfdPosted(sig)
	t.wake()
	return nil
}

// retarget passes the group's pending signals in bits, which thread p no
// longer takes (it blocked them, stopped waiting for them, or is ending),
// to threads that can. Kernel.Mu not held.
func (p *Process) retarget(bits uint64) {
	g, k := p.Proc.Group, p.Proc.K
	if g == nil || k == nil || bits == 0 {
		return
	}
	g.sigMu.Lock()
	bits &= g.shared.set
	g.sigMu.Unlock()
	if bits == 0 {
		return
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	for sig := 1; sig <= Nsig; sig++ {
		if bits&Bit(sig) == 0 {
			continue
		}
		for t := range g.threads {
			if t != p && t.wants(sig) {
				t.wake()
				bits &^= t.unblocked(bits)
				break
			}
		}
	}
}

// unblocked is the part of bits t does not block.
func (t *Process) unblocked(bits uint64) uint64 {
	t.Proc.SigMu.Lock()
	defer t.Proc.SigMu.Unlock()
	return bits &^ t.Sig.Mask
}

// discard drops every pending instance of the signals in bits, from every
// thread of p's group and the group's queue (sigaction to an ignoring
// handler, Linux's flush_sigqueue_mask).
func (p *Process) discard(bits uint64) {
	k := p.Proc.K
	g := p.Proc.Group
	if k == nil || g == nil {
		p.Proc.SigMu.Lock()
		unqueue(p.Sig.pend.flush(bits))
		p.Proc.SigMu.Unlock()
		return
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	for t := range g.threads {
		t.Proc.SigMu.Lock()
		unqueue(t.Sig.pend.flush(bits))
		t.Proc.SigMu.Unlock()
	}
	g.sigMu.Lock()
	unqueue(g.shared.flush(bits))
	g.sigMu.Unlock()
}

// DiscardIgnored is sigaction's part: sig is now ignored by the process.
func (p *Process) DiscardIgnored(sig int) { p.discard(Bit(sig)) }

// flushOwn drops thread p's own queue (it has ended).
func (p *Process) flushOwn() {
	p.Proc.SigMu.Lock()
	unqueue(p.Sig.pend.flush(^uint64(0)))
	p.Proc.SigMu.Unlock()
}

// flushShared drops group g's queue (its last thread has ended).
func (g *threadGroup) flushShared() {
	g.sigMu.Lock()
	unqueue(g.shared.flush(^uint64(0)))
	g.sigMu.Unlock()
}

// Pending is rt_sigpending's answer: the signals pending for p, its own
// and its process's, that it blocks.
func (p *Process) Pending() uint64 {
	set, mask := p.pending()
	return set & mask
}

// Retarget passes process signals in bits that p now blocks to threads
// that can take them (rt_sigsuspend's temporary mask).
func (p *Process) Retarget(bits uint64) { p.retarget(bits) }
