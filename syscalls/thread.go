// thread.go: threads. clone(CLONE_VM|CLONE_THREAD|CLONE_SIGHAND...) runs a
// new task on another vCPU in the same address space; thread exit, group
// exit, thread-directed signals and the scheduler calls threads use.
//
// Invariants (Kernel.mu guards group membership):
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
package syscalls

import (
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
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
}

func newThreadGroup(leader *Process) *threadGroup {
	return &threadGroup{leader: leader, threads: map[*Process]bool{leader: true}}
}

// addTask records a new task of group g in the table. Kernel.mu held.
func (k *Kernel) addTask(p *Process) {
	k.threads[p.Tid] = p
	p.proc.group.threads[p] = true
	p.proc.group.live++
	k.live++
}

// taskDone records that p's task has fully ended. Kernel.mu held.
func (k *Kernel) taskDone(p *Process) {
	p.proc.group.live--
	k.live--
	k.cond.Broadcast()
}

// newThread is clone with CLONE_THREAD.
func (p *Process) newThread(r *Regs, flags, stack, ptid, ctid, tls uint64) (uint64, error) {
	const need = cloneVM | unix.CLONE_SIGHAND | unix.CLONE_THREAD
	if flags&need != need || flags&cloneVfork != 0 {
		return 0, unix.EINVAL
	}
	k := p.proc.k
	slot, err := k.reserveTask() // limits.go: EAGAIN past --max-tasks
	if err != nil {
		return 0, err
	}
	defer slot.cancel()
	t, err := k.host.NewTask()
	if err != nil {
		return 0, unix.EAGAIN
	}
	if err := t.Join(p.MM.PageTable()); err != nil {
		t.Release()
		return 0, unix.ENOMEM
	}
	c := &Process{
		fsTask: fsTask{MM: p.MM, files: p.files, fs: p.fs},
		Arch:   t.Arch(), Log: p.Log, Exe: p.Exe, exeHostPath: p.exeHostPath, PhysMem: p.PhysMem,
		started: p.started, warned: map[uint64]bool{},
		rlimits: p.childRlimits(true), Pid: p.Pid, comm: p.comm,
	}
	c.owner = c
	c.sig.act, c.sig.mask = p.sig.act, p.sig.mask
	cr, fpu := p.childStart(c, r, flags, stack, tls)

	k.mu.Lock()
	slot.settle()
	c.Tid = k.allocPID()
	c.attrs = p.attrs // under Kernel.mu, which guards the priorities
	c.proc = procState{k: k, task: t, parent: p.proc.parent, children: p.proc.children,
		pgid: p.proc.pgid, sid: p.proc.sid, group: p.proc.group}
	k.addTask(c)
	k.mu.Unlock()

	var tid [4]byte
	put32(tid[:], uint32(c.Tid))
	if flags&cloneParentSettid != 0 {
		_, _ = p.MM.CopyOut(ptid, tid[:])
	}
	if flags&cloneChildSettid != 0 {
		_, _ = p.MM.CopyOut(ctid, tid[:])
	}
	if flags&cloneChildCleartid != 0 {
		c.tidAddr = ctid
	}
	if err := t.Start(c, &cr, fpu); err != nil {
		c.exit()
		return 0, unix.EAGAIN
	}
	return uint64(c.Tid), nil
}

// childStart gives a new task c the calling thread's TLS bases (or tls
// with CLONE_SETTLS) and returns the registers it starts with (the
// caller's, RAX 0, RSP stack when given) and the caller's FPU state.
func (p *Process) childStart(c *Process, r *Regs, flags, stack, tls uint64) (Regs, []byte) {
	_ = c.Arch.SetFSBase(p.Arch.FSBase())
	_ = c.Arch.SetGSBase(p.Arch.GSBase())
	if flags&cloneSettls != 0 {
		_ = c.Arch.SetFSBase(tls)
	}
	fpu, err := p.Arch.SaveFPU()
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

// groupExit ends every thread of p's group with status (or signal).
func (p *Process) groupExit(status int, sig unix.Signal) {
	p.Exited, p.ExitStatus, p.Signal = true, status, sig
	k := p.proc.k
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	g := p.proc.group
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
// group (the caller then ends the process). Kernel.mu is not held.
func (p *Process) threadExit() (last bool) {
	p.proc.sigMu.Lock()
	if p.proc.wakeFD > 0 {
		unix.Close(p.proc.wakeFD)
		p.proc.wakeFD = -1
	}
	p.proc.sigMu.Unlock()
	if p.tidAddr != 0 {
		var zero [4]byte
		if _, err := p.MM.CopyOut(p.tidAddr, zero[:]); err == nil {
			p.futexWake(p.tidAddr, 1, futexBitsetAny)
		}
		p.tidAddr = 0
	}
	k := p.proc.k
	if k == nil {
		return true
	}
	k.mu.Lock()
	g := p.proc.group
	delete(g.threads, p)
	delete(k.threads, p.Tid)
	last = len(g.threads) == 0
	if !last {
		g.stopDone(k) // p may have been the one thread not stopped yet
	}
	if last {
		if g.exiting {
			p.ExitStatus, p.Signal = g.status, g.signal
		}
		k.mu.Unlock()
		return true
	}
	t := p.proc.task
	p.proc.task = nil
	k.cond.Broadcast()
	k.mu.Unlock()
	if t != nil {
		t.Leave(p.MM.PageTable())
		t.Release()
	}
	k.mu.Lock()
	k.taskDone(p)
	k.mu.Unlock()
	return false
}

// deThread ends every other thread of p's group before execve's point of
// no return, as Linux's de_thread, and makes p the group's leader (it
// takes the process's pid as its tid). It fails when the group is being
// killed meanwhile; the caller then returns and takes its signal.
func (p *Process) deThread() error {
	k := p.proc.k
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	g := p.proc.group
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
	k := p.proc.k
	if k == nil {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	g := p.proc.group
	return g.execer != nil && g.execer != p && !g.exiting
}

// killPending reports whether a SIGKILL waits for p.
func (p *Process) killPending() bool {
	p.proc.sigMu.Lock()
	defer p.proc.sigMu.Unlock()
	return p.sig.pending&bit(int(unix.SIGKILL)) != 0
}

// takeLeader makes p, the only thread left of old's group, the process
// the table and its parent know. Kernel.mu held.
func (p *Process) takeLeader(old *Process) {
	k := p.proc.k
	delete(k.threads, p.Tid)
	p.Tid = p.Pid
	k.threads[p.Tid] = p
	k.procs[p.Pid] = p
	o := &old.proc
	p.proc.parent, p.proc.children = o.parent, o.children
	p.proc.exitSignal, p.proc.first = o.exitSignal, o.first
	p.proc.vforkDone, o.vforkDone = o.vforkDone, nil
	if par := o.parent; par != nil && par.proc.children != nil {
		delete(par.proc.children, old)
		par.proc.children[p] = true
	}
	for c := range p.proc.children {
		c.proc.parent = p
	}
	p.proc.group.leader = p
	delete(p.proc.group.threads, old)
}

// liveThread picks the thread of leader's group that takes a signal
// directed at the process: one that does not block it, else the leader if
// it still runs, else any. Kernel.mu held.
func liveThread(leader *Process, sig int) *Process {
	g := leader.proc.group
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

func sysGettid(p *Process, _ *Regs, _ *args) (uint64, error) { return uint64(p.Tid), nil }

func sysSetTidAddress2(p *Process, _ *Regs, a *args) (uint64, error) {
	p.tidAddr = a[0]
	return uint64(p.Tid), nil
}

func sysExitThread(p *Process, _ *Regs, a *args) (uint64, error) {
	p.Exited, p.ExitStatus = true, int(a[0]&0xff)
	return 0, errNoReturn
}

func sysExitGroup(p *Process, _ *Regs, a *args) (uint64, error) {
	p.groupExit(int(a[0]&0xff), 0)
	return 0, errNoReturn
}

// tgkill(tgid, tid, sig) and tkill(tid, sig): a signal for one thread.
func (p *Process) killThread(tgid, tid, sig int) (uint64, error) {
	if tid <= 0 || tgid == 0 || tgid < -1 || sig < 0 || sig > nsig {
		return 0, unix.EINVAL
	}
	k := p.proc.k
	if k == nil {
		if tid != p.Tid || tgid > 0 && tgid != p.Pid {
			return 0, unix.ESRCH
		}
		return p.kill(sig, siTkill)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.threads[tid]
	if t == nil || tgid > 0 && t.Pid != tgid {
		return 0, unix.ESRCH
	}
	if sig != 0 {
		t.post(sig, Siginfo{Signo: int32(sig), Code: siTkill, Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), FromKill: true})
	}
	return 0, nil
}

func sysTgkill2(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.killThread(int(int32(a[0])), int(int32(a[1])), int(int32(a[2])))
}

func sysTkill2(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.killThread(-1, int(int32(a[0])), int(int32(a[1])))
}

// sched_getaffinity(pid, len, mask): the vCPUs kshim may run at once are
// the host's CPUs.
func sysSchedGetaffinity(p *Process, _ *Regs, a *args) (uint64, error) {
	n := runtime.NumCPU()
	size := (n + 63) / 64 * 8
	if a[1] < uint64(size) || a[1]%8 != 0 {
		return 0, unix.EINVAL
	}
	if pid := int(int32(a[0])); pid != 0 && pid != p.Pid && pid != p.Tid {
		if k := p.proc.k; k != nil {
			k.mu.Lock()
			ok := k.threads[pid] != nil || k.procs[pid] != nil
			k.mu.Unlock()
			if !ok {
				return 0, unix.ESRCH
			}
		}
	}
	mask := make([]byte, size)
	for i := 0; i < n; i++ {
		mask[i/8] |= 1 << (i % 8)
	}
	if _, err := p.MM.CopyOut(a[2], mask); err != nil {
		return 0, err
	}
	return uint64(size), nil
}

func sysSchedSetaffinity(p *Process, _ *Regs, a *args) (uint64, error) {
	if a[1] == 0 {
		return 0, unix.EINVAL
	}
	buf := make([]byte, min(a[1], 1024))
	if _, err := p.MM.CopyIn(a[2], buf); err != nil {
		return 0, err
	}
	return 0, nil // accepted; kshim does not pin vCPUs
}

func sysSchedYield(*Process, *Regs, *args) (uint64, error) {
	runtime.Gosched()
	return 0, nil
}

// eventfd2(initval, flags) and eventfd(initval): a host eventfd, like a
// pipe the guest's fd table holds (the Go runtime's netpoller uses one).
func sysEventfd2(p *Process, _ *Regs, a *args) (uint64, error) {
	flags := int(a[1])
	if flags&^(unix.EFD_CLOEXEC|unix.EFD_NONBLOCK|unix.EFD_SEMAPHORE) != 0 {
		return 0, unix.EINVAL
	}
	h, err := unix.Eventfd(uint(uint32(a[0])), flags|unix.EFD_CLOEXEC)
	if err != nil {
		return 0, err
	}
	fd, err := p.newFD(h, flags&unix.EFD_CLOEXEC != 0, &openFile{kind: kindHost})
	if err != nil {
		unix.Close(h)
		return 0, err
	}
	return fd, nil
}

func sysEventfd(p *Process, r *Regs, a *args) (uint64, error) {
	return sysEventfd2(p, r, &args{a[0], 0})
}

// sleepUntil sleeps until deadline or a signal for p (EINTR, and the time
// left).
func (p *Process) sleepUntil(deadline time.Time) (time.Duration, error) {
	for {
		if time.Until(deadline) <= 0 {
			return 0, nil
		}
		if p.interrupted() {
			return max(time.Until(deadline), 0), unix.EINTR
		}
		p.awaitPost(deadline)
	}
}

// awaitPost blocks until a signal is posted to p or deadline (none when
// zero) passes; the caller checks which.
func (p *Process) awaitPost(deadline time.Time) {
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

func (p *Process) timespecIn(addr uint64) (time.Duration, error) {
	var ts [16]byte
	if _, err := p.MM.CopyIn(addr, ts[:]); err != nil {
		return 0, err
	}
	sec, nsec := int64(le64(ts[:])), int64(le64(ts[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, unix.EINVAL
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), nil
}

func (p *Process) timespecOut(addr uint64, d time.Duration) error {
	if addr == 0 {
		return nil
	}
	var ts [16]byte
	put64(ts[:], uint64(d/time.Second))
	put64(ts[8:], uint64(d%time.Second))
	_, err := p.MM.CopyOut(addr, ts[:])
	return err
}

// nanosleep(req, rem).
func sysNanosleep(p *Process, _ *Regs, a *args) (uint64, error) {
	d, err := p.timespecIn(a[0])
	if err != nil {
		return 0, err
	}
	left, err := p.sleepUntil(time.Now().Add(d))
	if err == unix.EINTR {
		if werr := p.timespecOut(a[1], left); werr != nil {
			return 0, werr
		}
	}
	return 0, err
}

// clock_nanosleep(clock, flags, req, rem).
func sysClockNanosleep(p *Process, _ *Regs, a *args) (uint64, error) {
	clock := int32(a[0])
	switch clock {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
	case unix.CLOCK_PROCESS_CPUTIME_ID, unix.CLOCK_THREAD_CPUTIME_ID:
		return 0, unix.EINVAL
	default:
		return 0, unix.EINVAL
	}
	if a[1]&^uint64(unix.TIMER_ABSTIME) != 0 {
		return 0, unix.EINVAL
	}
	d, err := p.timespecIn(a[2])
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(d)
	if a[1]&unix.TIMER_ABSTIME != 0 {
		var now unix.Timespec
		_ = unix.ClockGettime(clock, &now)
		deadline = time.Now().Add(d - time.Duration(now.Nano()))
	}
	left, err := p.sleepUntil(deadline)
	if err == unix.EINTR && a[1]&unix.TIMER_ABSTIME == 0 {
		if werr := p.timespecOut(a[3], left); werr != nil {
			return 0, werr
		}
	}
	return 0, err
}
