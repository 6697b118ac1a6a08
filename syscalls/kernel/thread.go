// thread.go: threads. clone(CLONE_VM|CLONE_THREAD|CLONE_SIGHAND...) runs a
// new task on another vCPU in the same address space; thread exit, group
// exit, thread-directed signals and the scheduler calls threads use.
//
// Invariants (Kernel.Mu guards group membership):
//   - A thread group is the tasks sharing one memory manager, fd table, fs
//     context and signal dispositions; its leader (Tid == Pid) is the
//     Process the table and the parent know. Every live thread is in
//     Kernel.threads by tid.
//   - The group ends (a zombie for its parent, its memory and files
//     released) when its last thread ends. A thread that ends before only
//     clears its child tid (waking a joiner), leaves the address space and
//     gives back its vCPU.
//   - exit_group and a fatal signal end the group: every other thread gets
//     SIGKILL, and the group's status is the one they set.
package kernel

import (
	"kshim/guestmm"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
)

// threadGroup is what the threads of a process share besides memory,
// files and handlers.
type threadGroup struct {
	leader  *Process
	threads map[*Process]bool
	exiting bool // exit_group or a fatal signal: status/signal below win
	status  int
	signal  unix.Signal
	// live counts the group's tasks that have not finished ending: a
	// thread leaves threads when it starts to end, and live only once it
	// has left the address space and given back its vCPU (and, for the
	// last, once the memory manager is destroyed). execve and teardown
	// wait on it, not on threads.
	live int
	// execer is the thread in execve waiting for the others to end
	// (de_thread): a SIGKILL then ends only the thread that takes it.
	execer *Process
	// Job control (jobctl.go): the group is stopped by stopSig; a stop or
	// a continue waits to be reported to the parent's wait.
	stopped                atomic.Bool
	stopSig                int
	stopping               bool // stopped, and not every thread has parked yet
	parked                 int  // threads parked in stopWait
	stopReport, contReport bool
	timers                 timerSet // timers.go
	// subreaper is PR_SET_CHILD_SUBREAPER: orphaned descendants become
	// this process's children (Kernel.Mu).
	subreaper bool
	// forks holds, for each fork of a process of the group's under way
	// (Fork), the signals sent meanwhile to several processes at once
	// that reached the group (delayForForks): the child gets them too, so
	// a group's signal is either before the fork (the fork restarts after
	// it) or reaches both. Kernel.Mu guards it.
	forks map[*uint64]bool
	// dead is the use of the group's threads that have ended, children
	// that of its reaped children; maxRSS the largest resident size seen
	// (kB). cputime.go; Kernel.Mu guards them.
	dead, children Rusage
	maxRSS         int64
	// shared is the process's pending signals, guarded by sigMu, taken
	// after a thread's SigMu (sigqueue.go).
	sigMu  sync.Mutex
	shared sigQueue
}

func newThreadGroup(leader *Process) *threadGroup {
	return &threadGroup{leader: leader, threads: map[*Process]bool{leader: true}}
}

// addTask records a new task of group g in the table. Kernel.Mu held.
func (k *Kernel) addTask(p *Process) {
	k.Threads[p.Tid] = p
	p.Proc.Group.threads[p] = true
	p.Proc.Group.live++
	k.live++
}

// taskDone records that p's task has fully ended. Kernel.Mu held.
func (k *Kernel) taskDone(p *Process) {
	p.Proc.Group.live--
	k.live--
	k.cond.Broadcast()
}

// newThread is clone with CLONE_THREAD.
func (p *Process) newThread(r *Regs, flags, stack, ptid, ctid, tls uint64) (uint64, error) {
	const need = CloneVM | unix.CLONE_SIGHAND | unix.CLONE_THREAD
	if flags&need != need || flags&CloneVfork != 0 {
		return 0, unix.EINVAL
	}
	k := p.Proc.K
	slot, t, err := p.cloneTask(flags, tls) // task.go
	if err != nil {
		return 0, err
	}
	defer slot.cancel()
	if err := t.Join(p.MM.PageTable()); err != nil {
		t.Release()
		return 0, unix.ENOMEM
	}
	c := &Process{
		Task:   fs.Task{MM: p.MM, Files: p.Files, FS: p.FS},
		ProcFS: p.ProcFS,
		Arch:   t.Arch(), Log: p.Log, Exe: p.Exe, ExeHostPath: p.ExeHostPath, PhysMem: p.PhysMem,
		Started: p.Started, Warned: map[uint64]bool{},
		Rlimits: p.childRlimits(true), Pid: p.Pid,
	}
	c.Owner = c
	c.Sig.Act, c.Sig.Mask = p.Sig.Act, p.Sig.Mask
	cr, fpu := p.childStart(c, r, flags, stack, tls)

	k.Mu.Lock()
	slot.settle()
	c.Tid = k.allocPID()
	c.Attrs = p.Attrs.forked(p) // under Kernel.Mu, which guards the priorities (sched.go)
	c.Attrs.forChild()          // no parent-death signal; the slack default (misc.go)
	c.Comm = p.Comm             // under Kernel.Mu: another thread may rename p (procinfo.go)
	c.Proc = procState{K: k, task: t, Parent: p.Proc.Parent, children: p.Proc.children,
		Pgid: p.Proc.Pgid, Sid: p.Proc.Sid, Group: p.Proc.Group}
	k.addTask(c)
	k.Mu.Unlock()

	var tid [4]byte
	abi.Put32(tid[:], uint32(c.Tid))
	if flags&cloneParentSettid != 0 {
		_, _ = p.MM.CopyOut(ptid, tid[:])
	}
	if flags&cloneChildSettid != 0 {
		_, _ = p.MM.CopyOut(ctid, tid[:])
	}
	if flags&cloneChildCleartid != 0 {
		c.TidAddr = ctid
	}
	if err := t.Start(c, &cr, fpu); err != nil {
		c.exit()
		return 0, unix.EAGAIN
	}
	return uint64(c.Tid), nil
}

// childStart gives a new task c the calling thread's TLS bases (or tls
// with CLONE_SETTLS) and returns the registers it starts with (the
// settlsOK is copy_thread's check of CLONE_SETTLS's base (as
// arch_prctl(ARCH_SET_FS)'s): one beyond the user half is EPERM, never a
// base the child would run with (KVM refuses a non-canonical one; a
// kernel-half one would point user code's %fs at the shim).
func settlsOK(flags, tls uint64) error {
	if flags&cloneSettls != 0 && tls >= guestmm.UserTop {
		return unix.EPERM
	}
	return nil
}

// caller's, RAX 0, RSP stack when given) and the caller's FPU state.
func (p *Process) childStart(c *Process, r *Regs, flags, stack, tls uint64) (Regs, []byte) {
	_ = c.Arch.SetFSBase(p.Arch.FSBase())
	_ = c.Arch.SetGSBase(p.Arch.GSBase())
	if flags&cloneSettls != 0 {
		_ = c.Arch.SetFSBase(tls)
	}
	save := p.Arch.SaveFPU
	if f, ok := p.Arch.(FullFPU); ok {
		save = f.SaveAllFPU // the ymm registers too (fpu_clone)
	}
	fpu, err := save()
	if err != nil {
		fpu = nil
	}
	cr := *r
	cr.RAX = 0
	if stack != 0 {
		cr.RSP = stack
	}
	return cr, fpu
}

// GroupExit ends every thread of p's group with status (or signal).
func (p *Process) GroupExit(status int, sig unix.Signal) {
	p.Exited, p.ExitStatus, p.Signal = true, status, sig
	k := p.Proc.K
	if k == nil {
		return
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	g := p.Proc.Group
	if !g.exiting {
		g.exiting, g.status, g.signal = true, status, sig
	}
	for t := range g.threads {
		if t != p {
			t.post(int(unix.SIGKILL), Siginfo{Signo: int32(unix.SIGKILL), FromKill: true})
		}
	}
}

// threadExit ends thread p; it reports whether p was the last of its
// group (the caller then ends the process). Kernel.Mu is not held.
func (p *Process) threadExit() (last bool) {
	p.Proc.SigMu.Lock()
	if p.Proc.wakeFD > 0 {
		unix.Close(p.Proc.wakeFD)
		p.Proc.wakeFD = -1
	}
	p.Proc.SigMu.Unlock()
	if p.TidAddr != 0 {
		var zero [4]byte
		if _, err := p.MM.CopyOut(p.TidAddr, zero[:]); err == nil {
			p.FutexWake(p.TidAddr, false, 1, FutexBitsetAny) // a shared wake, as mm_release
		}
		p.TidAddr = 0
	}
	k := p.Proc.K
	if k == nil {
		return true
	}
	k.Mu.Lock()
	g := p.Proc.Group
	if g.threads[p] {
		g.dead.add(p.taskUsage()) // cputime.go: the process keeps its time
	}
	delete(g.threads, p)
	delete(k.Threads, p.Tid)
	last = len(g.threads) == 0
	if !last {
		g.stopDone(k) // p may have been the one thread not stopped yet
	}
	if last {
		if g.exiting {
			p.ExitStatus, p.Signal = g.status, g.signal
		}
		k.Mu.Unlock()
		p.flushOwn()
		sfdGroupGone(g)
		return true
	}
	t := p.Proc.task
	p.Proc.task = nil
	k.cond.Broadcast()
	k.Mu.Unlock()
	p.flushOwn()            // sigqueue.go: its own pending signals go with it
	p.retarget(^p.Sig.Mask) // the process's it would have taken, to another
	if t != nil {
		t.Leave(p.MM.PageTable())
		t.Release()
	}
	k.Mu.Lock()
	k.taskDone(p)
	k.Mu.Unlock()
	return false
}

// deThread ends every other thread of p's group before execve's point of
// no return, as Linux's de_thread, and makes p the group's leader (it
// takes the process's pid as its tid). It fails when the group is being
// killed meanwhile; the caller then returns and takes its signal.
func (p *Process) deThread() error {
	k := p.Proc.K
	if k == nil {
		return nil
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	g := p.Proc.Group
	if g.live > 1 {
		g.execer = p
		for t := range g.threads {
			if t != p {
				t.post(int(unix.SIGKILL), Siginfo{Signo: int32(unix.SIGKILL), FromKill: true})
			}
		}
		for g.live > 1 && !g.exiting && !p.killPending() {
			k.cond.Wait()
		}
		g.execer = nil
		if g.live > 1 {
			return unix.EAGAIN
		}
	}
	if l := g.leader; l != p {
		p.takeLeader(l)
	}
	return nil
}

// killedByExec reports whether a SIGKILL for p comes from another
// thread's execve (deThread) rather than a kill of the whole group.
func (p *Process) killedByExec() bool {
	k := p.Proc.K
	if k == nil {
		return false
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	g := p.Proc.Group
	return g.execer != nil && g.execer != p && !g.exiting
}

// killPending reports whether a SIGKILL waits for p.
func (p *Process) killPending() bool {
	p.Proc.SigMu.Lock()
	defer p.Proc.SigMu.Unlock()
	return p.Sig.pend.set&Bit(int(unix.SIGKILL)) != 0
}

// takeLeader makes p, the only thread left of old's group, the process
// the table and its parent know. Kernel.Mu held.
func (p *Process) takeLeader(old *Process) {
	k := p.Proc.K
	delete(k.Threads, p.Tid)
	p.Tid = p.Pid
	k.Threads[p.Tid] = p
	k.Procs[p.Pid] = p
	o := &old.Proc
	p.Proc.Parent, p.Proc.children = o.Parent, o.children
	p.Proc.exitSignal, p.Proc.first = o.exitSignal, o.first
	p.Proc.vforkDone, o.vforkDone = o.vforkDone, nil
	if par := o.Parent; par != nil && par.Proc.children != nil {
		delete(par.Proc.children, old)
		par.Proc.children[p] = true
	}
	for c := range p.Proc.children {
		c.Proc.Parent = p
	}
	p.Proc.Group.leader = p
	delete(p.Proc.Group.threads, old)
}

// liveThread picks the thread of leader's group that takes a signal
// directed at the process: one that does not block it, else the leader if
// it still runs, else any. Kernel.Mu held.
func liveThread(leader *Process, sig int) *Process {
	g := leader.Proc.Group
	if g == nil {
		return leader
	}
	var any *Process
	for t := range g.threads {
		if !t.blocks(sig) {
			if t == leader {
				return t
			}
			any = t
		}
	}
	if any != nil {
		return any
	}
	if g.threads[leader] {
		return leader
	}
	for t := range g.threads {
		return t
	}
	return leader
}

// tgkill(tgid, tid, sig) and tkill(tid, sig): a signal for one thread.
func (p *Process) KillThread(tgid, tid, sig int) (uint64, error) {
	if tid <= 0 || tgid == 0 || tgid < -1 || sig < 0 || sig > Nsig {
		return 0, unix.EINVAL
	}
	k := p.Proc.K
	if k == nil {
		if tid != p.Tid || tgid > 0 && tgid != p.Pid {
			return 0, unix.ESRCH
		}
		return p.Kill(sig, SiTkill)
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	t := k.Threads[tid]
	if t == nil || tgid > 0 && t.Pid != tgid {
		return 0, unix.ESRCH
	}
	if sig != 0 {
		// A realtime signal over RLIMIT_SIGPENDING is EAGAIN (sigqueue.go).
		return 0, t.send(sig, Siginfo{Signo: int32(sig), Code: SiTkill, Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), FromKill: true}, false)
	}
	return 0, nil
}

// SleepUntil sleeps until deadline or a signal for p (EINTR, and the time
// left).
func (p *Process) SleepUntil(deadline time.Time) (time.Duration, error) {
	for {
		if time.Until(deadline) <= 0 {
			return 0, nil
		}
		if p.Interrupted() {
			return max(time.Until(deadline), 0), unix.EINTR
		}
		p.AwaitPost(deadline)
	}
}

// AwaitPost blocks until a signal is posted to p or deadline (none when
// zero) passes; the caller checks which.
func (p *Process) AwaitPost(deadline time.Time) {
	p.SleepBegin()
	defer p.SleepEnd()
	if deadline.IsZero() {
		<-p.intr()
		return
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-p.intr():
	case <-t.C:
	}
}

func (p *Process) TimespecIn(addr uint64) (time.Duration, error) {
	var ts [16]byte
	if _, err := p.MM.CopyIn(addr, ts[:]); err != nil {
		return 0, err
	}
	sec, nsec := int64(abi.Le64(ts[:])), int64(abi.Le64(ts[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, unix.EINVAL
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), nil
}

func (p *Process) TimespecOut(addr uint64, d time.Duration) error {
	if addr == 0 {
		return nil
	}
	var ts [16]byte
	abi.Put64(ts[:], uint64(d/time.Second))
	abi.Put64(ts[8:], uint64(d%time.Second))
	_, err := p.MM.CopyOut(addr, ts[:])
	return err
}
