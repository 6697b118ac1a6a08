// cputime.go: per-task CPU time and resource use (getrusage, times,
// wait4/waitid's rusage, the CPU-time clocks, /proc/PID/stat's times).
//
// What is measured, and how:
//   - Each task runs on a host thread of its own for its whole life (vmm:
//     one goroutine locked to a thread), so the task's CPU time, user and
//     system together, is that thread's CPU clock (the host scheduler's
//     sum_exec_runtime) now less its value when the task started: exact,
//     read on demand, nothing per exit.
//   - The user part is the time the thread spent inside KVM_RUN (the guest
//     running); the rest (kshim handling its syscalls and faults, the
//     host calls made for it) is its system time. KVM_RUN is timed with the
//     wall clock the exit loop already reads (Ran); a run that took at
//     least userSampleNS also reads the thread's CPU clock, and the user
//     time is never more than the CPU time actually spent since the last
//     such sample (a run the host preempted counts its CPU, not its wait).
//     So a short run the host preempted can add at most userSampleNS too
//     much user time (taken from system), and no exit pays a host call
//     unless it ran that long.
//   - minflt is the guest page faults kshim resolved for the task (one per
//     fault exit, however many pages it mapped ahead); majflt, nvcsw,
//     nivcsw, inblock and oublock are the task's host thread's own counts
//     (getrusage(RUSAGE_THREAD) on it: its major faults are the guest's
//     file pages the host had to read, its voluntary switches the guest's
//     waits, its block I/O the guest's). A thread samples them itself (at
//     its own getrusage/times/wait calls and when it ends), so another
//     live thread's show as of its last sample.
//   - maxrss is the largest resident size seen of the process's memory,
//     sampled at getrusage, wait, execve (the old image's) and exit; a
//     peak between those points is not seen.
//
// Invariants:
//   - A task's cpuAcct is written by its own goroutine only (atomics, so
//     other tasks read it); a thread group's dead and children totals and
//     maxRSS are guarded by Kernel.Mu.
//   - A thread's use is folded into its group's dead total when it leaves
//     the group (threadExit), so a process's total never loses an ended
//     thread; a reaped child's total (its own and its reaped children's)
//     is added to the parent's children total at the wait that reaps it,
//     as Linux's wait_task_zombie (a child reaped because SIGCHLD is
//     ignored adds nothing).
package kernel

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// userSampleNS is the shortest KVM_RUN (wall time) after which the exit
// loop also reads the thread's CPU clock to bound the user time.
const userSampleNS = 50_000

// Rusage is what getrusage reports of a task, a process or its children.
type Rusage struct {
	User, Sys                     time.Duration
	MaxRSS                        int64 // kB
	Minflt, Majflt, Nvcsw, Nivcsw int64
	Inblock, Oublock              int64
}

func (r *Rusage) add(o Rusage) {
	r.User += o.User
	r.Sys += o.Sys
	r.MaxRSS = max(r.MaxRSS, o.MaxRSS)
	r.Minflt += o.Minflt
	r.Majflt += o.Majflt
	r.Nvcsw += o.Nvcsw
	r.Nivcsw += o.Nivcsw
	r.Inblock += o.Inblock
	r.Oublock += o.Oublock
}

// hostUse is the part of the host thread's own rusage a task reports.
type hostUse struct{ majflt, nvcsw, nivcsw, inblock, oublock int64 }

// cpuAcct is one task's accounting (see the head comment).
type cpuAcct struct {
	start atomic.Int64 // host thread CPU ns when the task started (0: not yet)
	tid   atomic.Int32 // the host thread (0: not started or ended)
	user  atomic.Int64 // ns in the guest, up to the last exit
	// runSince is when the current KVM_RUN began (monotonic ns, 0: not
	// in one), so a spinning task's user time is seen before it exits;
	// seq is odd while the owner changes user and runSince together.
	runSince atomic.Int64
	seq      atomic.Uint64
	ended    atomic.Bool
	total    atomic.Int64 // CPU ns, once ended
	minflt   atomic.Int64
	host     atomic.Pointer[hostUse] // since start, as last sampled
	base     hostUse                 // the thread's own counts at start (owner only)
	lastCPU  atomic.Int64            // thread CPU ns at the last sample
	lastUsr  atomic.Int64            // user ns at the last sample
}

// threadCPU is the calling host thread's CPU clock in ns.
func threadCPU() int64 {
	var ts unix.Timespec
	// Raw: it never blocks, and it runs on the exit path.
	if _, _, e := unix.RawSyscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_THREAD_CPUTIME_ID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return ts.Nano()
}

func threadHostUse() hostUse {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_THREAD, &ru) != nil {
		return hostUse{}
	}
	return hostUse{ru.Majflt, ru.Nvcsw, ru.Nivcsw, ru.Inblock, ru.Oublock}
}

// CPUStart is called by the VMM on the task's own host thread before it
// first runs the guest: the thread's CPU time from here on is the task's.
func (p *Process) CPUStart() {
	a := &p.Acct
	a.base = threadHostUse()
	now := threadCPU()
	a.lastCPU.Store(now)
	a.lastUsr.Store(0)
	a.host.Store(&hostUse{})
	a.tid.Store(int32(unix.Gettid()))
	a.start.Store(max(now, 1))
}

// monoBase is the origin of runSince's clock.
var monoBase = time.Now()

func monoNow() int64 { return max(int64(time.Since(monoBase)), 1) }

// Entering is called by the VMM on the task's thread right before a
// KVM_RUN that runs the task's user code.
func (p *Process) Entering() {
	a := &p.Acct
	a.seq.Add(1)
	a.runSince.Store(monoNow())
	a.seq.Add(1)
}

// Ran is called by the VMM on the task's thread after each KVM_RUN that
// ran the task's user code, with its wall-clock duration.
func (p *Process) Ran(ns int64) {
	a := &p.Acct
	if a.start.Load() == 0 {
		a.runSince.Store(0)
		return
	}
	u := a.user.Load() + ns
	sample := ns >= userSampleNS
	var now int64
	if sample {
		now = threadCPU()
		u = min(u, a.lastUsr.Load()+(now-a.lastCPU.Load()))
	}
	a.seq.Add(1)
	a.user.Store(u)
	a.runSince.Store(0)
	if sample {
		a.lastCPU.Store(now)
		a.lastUsr.Store(u)
	}
	a.seq.Add(1)
}

// userNow is the task's user time so far, its current run included (as
// Ran will count it: never more than the thread's CPU time since the last
// sample, so it never goes back); cpu is the thread's CPU clock now.
func (a *cpuAcct) userNow(cpu int64) int64 {
	for {
		s := a.seq.Load()
		if s&1 != 0 {
			continue
		}
		u, since, lc, lu := a.user.Load(), a.runSince.Load(), a.lastCPU.Load(), a.lastUsr.Load()
		if a.seq.Load() != s {
			continue
		}
		if since != 0 {
			u = min(u+max(monoNow()-since, 0), lu+(cpu-lc))
		}
		return u
	}
}

// Faulted counts a guest page fault kshim resolved for the task (minflt)
// and for the machine (Faults).
func (p *Process) Faulted() {
	p.Acct.minflt.Add(1)
	if k := p.Proc.K; k != nil {
		k.faults.Add(1)
	}
}

// faultCount is the guest page faults kshim has resolved for every task
// since the machine started (Linux's pgfault: all of them, however the
// task ended).
type faultCount struct{ atomic.Int64 }

// Faults is the guest page faults kshim has resolved since the machine
// started, for /proc/vmstat's pgfault (each task's are its minflt).
func (k *Kernel) Faults() int64 { return k.faults.Load() }

// sampleHost refreshes the calling task's own host counts (its thread only).
func (p *Process) sampleHost() {
	a := &p.Acct
	if a.start.Load() == 0 || a.ended.Load() {
		return
	}
	h := threadHostUse()
	b := a.base
	a.host.Store(&hostUse{h.majflt - b.majflt, h.nvcsw - b.nvcsw, h.nivcsw - b.nivcsw, h.inblock - b.inblock, h.oublock - b.oublock})
}

// CPUStop is called by the VMM on the task's thread when it has left the
// guest for good: its times are final from here.
func (p *Process) CPUStop() {
	a := &p.Acct
	if a.start.Load() == 0 {
		return
	}
	p.sampleHost()
	a.total.Store(max(threadCPU()-a.start.Load(), 0))
	a.ended.Store(true)
	a.tid.Store(0)
}

// taskCPU is t's CPU time so far and the user part of it; any task may ask.
func (t *Process) taskCPU() (total, user int64) {
	a := &t.Acct
	start := a.start.Load()
	if start == 0 {
		return 0, 0
	}
	if a.ended.Load() {
		total = a.total.Load()
		return total, min(a.user.Load(), total)
	}
	// The thread runs until after CPUStop has set ended, so its clock
	// reads; should it not, the user time is all that is known. Once the
	// task has ended its thread may run another task (vmm keeps its
	// threads), so a clock read then is not the task's: ended, set after
	// the final total, says so.
	var ts unix.Timespec
	if tid := a.tid.Load(); tid != 0 && unix.ClockGettime(makeThreadClock(int(tid), cpuclockSched), &ts) == nil && !a.ended.Load() {
		total = max(ts.Nano()-start, 0)
		return total, min(a.userNow(ts.Nano()), total)
	}
	if a.ended.Load() {
		total = a.total.Load()
		return total, min(a.user.Load(), total)
	}
	u := a.user.Load()
	return u, u
}

// taskUsage is t's own use (without maxrss, a process's).
func (t *Process) taskUsage() Rusage {
	total, user := t.taskCPU()
	r := Rusage{User: time.Duration(user), Sys: time.Duration(total - user), Minflt: t.Acct.minflt.Load()}
	if h := t.Acct.host.Load(); h != nil {
		r.Majflt, r.Nvcsw, r.Nivcsw, r.Inblock, r.Oublock = h.majflt, h.nvcsw, h.nivcsw, h.inblock, h.oublock
	}
	return r
}

// groupUsage is the use of every thread of g, live and ended, with the
// process's maxrss. Kernel.Mu held.
func (g *threadGroup) usage() Rusage {
	r := g.dead
	for t := range g.threads {
		r.add(t.taskUsage())
	}
	r.MaxRSS = max(r.MaxRSS, g.maxRSS)
	return r
}

// noteRSS records the resident size of p's memory for maxrss (the peak
// seen). Kernel.Mu held; p's memory manager still there.
func (p *Process) noteRSS() {
	g := p.Proc.Group
	if g == nil || p.MM == nil || p.Proc.mmGone {
		return
	}
	g.maxRSS = max(g.maxRSS, int64(p.MM.Present()*4)) // pages of 4 KiB, in kB
}

// Usage answers getrusage(who) for p: RUSAGE_SELF (0), RUSAGE_CHILDREN
// (-1), RUSAGE_THREAD (1); anything else is EINVAL.
func (p *Process) Usage(who int) (Rusage, error) {
	const (
		self     = unix.RUSAGE_SELF
		children = unix.RUSAGE_CHILDREN
		thread   = unix.RUSAGE_THREAD
	)
	if who != self && who != children && who != thread {
		return Rusage{}, unix.EINVAL
	}
	p.sampleHost()
	k := p.Proc.K
	if k == nil || p.Proc.Group == nil {
		return p.taskUsage(), nil
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	g := p.Proc.Group
	switch who {
	case children:
		return g.children, nil
	case thread:
		p.noteRSS()
		r := p.taskUsage()
		r.MaxRSS = g.maxRSS
		return r, nil
	}
	p.noteRSS()
	return g.usage(), nil
}

// ProcessTimes is times(2)'s answer: the process's user and system time
// and its reaped children's.
func (p *Process) ProcessTimes() (self, children Rusage) {
	p.sampleHost()
	k := p.Proc.K
	if k == nil || p.Proc.Group == nil {
		return p.taskUsage(), Rusage{}
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	return p.Proc.Group.usage(), p.Proc.Group.children
}

// childUsage is what wait4 and waitid report of child c: its own use and
// its reaped children's (Linux's RUSAGE_BOTH). Kernel.Mu held.
func childUsage(c *Process) Rusage {
	g := c.Proc.Group
	if g == nil {
		return c.taskUsage()
	}
	r := g.usage()
	ch := g.children
	r.add(ch)
	r.MaxRSS = max(r.MaxRSS, ch.MaxRSS)
	return r
}

// reaped adds reaped child c's use to p's children total. Kernel.Mu held.
func (p *Process) reaped(c *Process) {
	if p.Proc.Group == nil {
		return
	}
	p.Proc.Group.children.add(childUsage(c))
}

// RusageBytes is r as the guest's 144-byte struct rusage.
func RusageBytes(r Rusage) []byte {
	b := make([]byte, 144)
	put := func(off int, v int64) {
		for i := 0; i < 8; i++ {
			b[off+i] = byte(uint64(v) >> (8 * i))
		}
	}
	put(0, int64(r.User/time.Second))
	put(8, int64(r.User%time.Second/time.Microsecond))
	put(16, int64(r.Sys/time.Second))
	put(24, int64(r.Sys%time.Second/time.Microsecond))
	put(32, r.MaxRSS)
	put(64, r.Minflt)
	put(72, r.Majflt)
	put(88, r.Inblock)
	put(96, r.Oublock)
	put(128, r.Nvcsw)
	put(136, r.Nivcsw)
	return b
}
