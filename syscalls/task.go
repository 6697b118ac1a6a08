// task.go: processes as tasks on vCPUs: the process table (Kernel), fork,
// exit, wait, process groups, and what the VMM provides for them (Host,
// Task).
//
// Invariants and locking:
//   - A process runs on one vCPU (its Task); only that vCPU's goroutine
//     touches the process's registers, memory manager, fd table and signal
//     dispositions. Other goroutines only post signals (under the target's
//     sigMu), read the table (under Kernel.mu), and unmap a truncated
//     file's pages (fileShrunk, under Kernel.mu, which exec holds to swap
//     a process's memory manager and exit to mark it released).
//   - Kernel.mu guards the table: pids, parent/child links, exit states,
//     process groups and sessions. Lock order: Kernel.mu, then a
//     Process's sigMu, then guestmm, then ept.Memory. Nothing is held
//     while the guest runs or across a blocking host call, except that
//     waiters sleep on Kernel.cond.
//   - fork takes guestmm's snapshot (MM.Fork) on the parent's goroutine,
//     which is the only one that could change the parent's memory, so the
//     child never sees half an update.
//   - A process that has exited is a zombie until its parent waits for it
//     (or at once when its parent ignores SIGCHLD or is gone); its vCPU and
//     memory are released when it exits, not when it is reaped.
package syscalls

import (
	"errors"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"kshim/ept"
)

// Host is what the personality needs from the VMM to make tasks.
type Host interface {
	// NewTask returns a vCPU for a new process.
	NewTask() (Task, error)
	// HWCap is AT_HWCAP for new images.
	HWCap() uint64
	// VDSO is the vDSO to map into new images (nil: none).
	VDSO() *VDSO
}

// Task is one vCPU as a process sees it.
type Task interface {
	Arch() Arch
	// NewAddressSpace returns empty page tables (shim pages only) for this
	// task's vCPU.
	NewAddressSpace() (*ept.PageTable, error)
	// Start runs p on this task from user registers r and FPU state fpu
	// (an fxsave image) in a goroutine of its own, until p exits.
	Start(p *Process, r *Regs, fpu []byte) error
	// Switch makes the calling task use page tables pt (execve) when it
	// next enters the guest.
	Switch(pt *ept.PageTable) error
	// Join gives this task a root in pt, another task's address space
	// (a new thread); Leave drops it (the thread ended).
	Join(pt *ept.PageTable) error
	Leave(pt *ept.PageTable)
	// Kick makes the task's vCPU leave the guest soon, so a signal posted
	// by another task is delivered.
	Kick()
	// Release gives the vCPU back (exit, or a task that never started).
	Release()
}

// Kernel is the guest's process table.
type Kernel struct {
	mu      sync.Mutex
	cond    *sync.Cond       // broadcast on every exit, exec and signal post
	procs   map[int]*Process // by pid: the thread group leaders
	threads map[int]*Process // by tid: every live thread
	live    int              // tasks not yet fully ended (threadGroup.live, summed)
	failure error            // the first VMM error of any task (Fail)
	fg      map[uint64]int   // terminal rdev -> the guest's foreground pgid (tty.go)
	// kshim's host parent's group and session: the first process's
	// parent, for orphaned process groups (jobctl.go).
	hostParentPgid, hostParentSid int
	nextPID                       int
	host                          Host

	fmu   sync.Mutex // futex.go
	futex futexTable

	sb  *Sandbox // limits.go: the guest's limits (nil: none)
	oom oomState // oom.go (used only with sb)
}

// NewKernel creates an empty process table; the first process added takes
// pid as its own (the VMM's pid, what getpid showed before processes).
func NewKernel(host Host) *Kernel {
	k := &Kernel{procs: map[int]*Process{}, threads: map[int]*Process{}, host: host}
	k.cond = sync.NewCond(&k.mu)
	return k
}

// procState is a process's place in the table (guarded by Kernel.mu).
type procState struct {
	k        *Kernel
	task     Task
	parent   *Process
	children map[*Process]bool
	pgid     int
	sid      int
	zombie   bool
	waitStat uint32 // wait status once a zombie
	// vforkDone is closed when a vfork child execs or exits.
	vforkDone chan struct{}
	// exitSignal is sent to the parent at exit (clone's low byte).
	exitSignal int
	first      bool       // the process kshim started
	sigMu      sync.Mutex // guards sig.pending and sig.info against posters
	group      *threadGroup
	intrCh     chan struct{} // poked by post, for waits that must notice signals
	mmGone     bool          // exit is releasing the memory manager (fileShrunk skips it)
	wakeFD     int           // an eventfd post writes, for host polls (0: none yet)
}

// intr returns the channel post pokes when a signal arrives for p.
func (p *Process) intr() <-chan struct{} {
	p.proc.sigMu.Lock()
	defer p.proc.sigMu.Unlock()
	if p.proc.intrCh == nil {
		p.proc.intrCh = make(chan struct{}, 1)
	}
	return p.proc.intrCh
}

// Adopt makes p the table's first process, running on task.
func (k *Kernel) Adopt(p *Process, task Task) {
	k.mu.Lock()
	defer k.mu.Unlock()
	p.proc.k, p.proc.task = k, task
	p.proc.children = map[*Process]bool{}
	// The process group and session kshim was started in, as a program
	// started natively would be: a group leader only if kshim is one
	// (else setsid, as daemons call it, would fail with EPERM).
	p.proc.pgid, p.proc.sid = unix.Getpgrp(), p.Pid
	if sid, err := unix.Getsid(0); err == nil {
		p.proc.sid = sid
	}
	k.hostParentPgid, k.hostParentSid = -1, -1
	if pp := unix.Getppid(); pp > 0 {
		if g, err := unix.Getpgid(pp); err == nil {
			k.hostParentPgid = g
		}
		if s, err := unix.Getsid(pp); err == nil {
			k.hostParentSid = s
		}
	}
	p.proc.exitSignal = int(unix.SIGCHLD)
	p.proc.first = true
	p.proc.group = newThreadGroup(p)
	k.procs[p.Pid] = p
	k.addTask(p)
	k.nextPID = p.Pid + 1
}

// Fail ends the whole guest because the VMM cannot go on running p (a KVM
// error, a broken shim state): every task is killed, and Failure reports
// err to whoever launched the guest. One task's VMM error must not leave
// the others waiting on it forever.
func (p *Process) Fail(err error) {
	p.Exited, p.Signal = true, unix.SIGKILL
	k := p.proc.k
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.failure == nil {
		k.failure = err
	}
	k.cond.Broadcast()
	for _, q := range k.threads {
		q.post(int(unix.SIGKILL), Siginfo{Signo: int32(unix.SIGKILL), FromKill: true})
	}
}

// Failure is the first error passed to Fail, if any.
func (k *Kernel) Failure() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.failure
}

// WaitAll waits until every task of the guest has ended (the first
// process has; orphans run on as on Linux), or a VMM error ends the guest.
func (k *Kernel) WaitAll() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for k.live > 0 && k.failure == nil {
		k.cond.Wait()
	}
}

func (k *Kernel) allocPID() int {
	for {
		pid := k.nextPID
		k.nextPID++
		if k.nextPID > 1<<22 {
			k.nextPID = 300
		}
		if k.procs[pid] == nil && k.threads[pid] == nil && !k.groupID(pid) {
			return pid
		}
	}
}

// groupID reports whether n is the id of a live process group or session
// (Linux never hands out such a number as a pid). Kernel.mu held.
func (k *Kernel) groupID(n int) bool {
	for _, q := range k.procs {
		if q.proc.pgid == n || q.proc.sid == n {
			return true
		}
	}
	return false
}

// Shutdown kills every process still running (the first one has ended)
// and waits a little for their tasks to stop. It reports whether they all
// did: a task stuck in a host call may still touch guest memory, so then
// the caller must not release it.
func (k *Kernel) Shutdown() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, q := range k.threads {
		q.post(int(unix.SIGKILL), Siginfo{Signo: int32(unix.SIGKILL), FromKill: true})
	}
	deadline := time.Now().Add(time.Second)
	for k.live > 0 && time.Now().Before(deadline) {
		k.mu.Unlock()
		time.Sleep(time.Millisecond)
		k.mu.Lock()
	}
	return k.live == 0
}

// WaitProcess waits (a second at most: a thread may be stuck in a host
// call) until every thread of leader's group has ended and returns the
// process's exit status or killing signal.
func (k *Kernel) WaitProcess(leader *Process) (int, unix.Signal) {
	deadline := time.Now().Add(time.Second)
	k.mu.Lock()
	for leader.proc.group.live > 0 && time.Now().Before(deadline) {
		k.mu.Unlock()
		time.Sleep(time.Millisecond)
		k.mu.Lock()
	}
	g := leader.proc.group
	// g.leader: a thread's execve may have made it the leader.
	st, sig := g.leader.ExitStatus, g.leader.Signal
	if g.exiting {
		st, sig = g.status, g.signal
	}
	k.mu.Unlock()
	return st, sig
}

// fileShrunk tells every address space that the host file open at h may
// have shrunk (truncate, ftruncate, O_TRUNC), so pages past its new end
// stop being mapped, as Linux does on truncate.
func (p *Process) fileShrunk(h int) {
	var st unix.Stat_t
	if unix.Fstat(h, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return
	}
	p.MM.Truncated(st.Dev, st.Ino, st.Size)
	k := p.proc.k
	if k == nil {
		return
	}
	// Under Kernel.mu: no other process can release or replace its memory
	// manager meanwhile (exit marks mmGone and exec swaps MM under it).
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, q := range k.procs {
		if !q.proc.zombie && !q.proc.mmGone && q.MM != p.MM {
			q.MM.Truncated(st.Dev, st.Ino, st.Size)
		}
	}
}

// Clone flags kshim understands for new processes.
const (
	cloneVM            = unix.CLONE_VM
	cloneVfork         = unix.CLONE_VFORK
	cloneSettls        = unix.CLONE_SETTLS
	cloneParentSettid  = unix.CLONE_PARENT_SETTID
	cloneChildSettid   = unix.CLONE_CHILD_SETTID
	cloneChildCleartid = unix.CLONE_CHILD_CLEARTID
	cloneThreadFlags   = unix.CLONE_THREAD | unix.CLONE_SIGHAND
)

func sysFork(p *Process, r *Regs, _ *args) (uint64, error) {
	return p.fork(r, uint64(unix.SIGCHLD), 0, 0, 0, 0)
}

func sysVfork(p *Process, r *Regs, _ *args) (uint64, error) {
	return p.fork(r, cloneVM|cloneVfork|uint64(unix.SIGCHLD), 0, 0, 0, 0)
}

// clone(flags, stack, parent_tid, child_tid, tls) on x86-64.
func sysClone(p *Process, r *Regs, a *args) (uint64, error) {
	return p.fork(r, a[0], a[1], a[2], a[3], a[4])
}

// fork creates a child process: a copy-on-write snapshot of the memory, a
// copy of the fd table (same open files), the signal dispositions and
// mask, and the registers with RAX 0. CLONE_VM without CLONE_THREAD (vfork,
// posix_spawn) is served as a copy-on-write fork whose parent waits for the
// child's exec or exit: programs that follow vfork's rules (only exec or
// _exit in the child) see no difference.
func (p *Process) fork(r *Regs, flags, stack, ptid, ctid, tls uint64) (uint64, error) {
	k := p.proc.k
	if k == nil {
		return 0, unix.ENOSYS
	}
	if flags&unix.CLONE_THREAD != 0 {
		return p.newThread(r, flags, stack, ptid, ctid, tls)
	}
	if flags&unix.CLONE_SIGHAND != 0 && flags&cloneVM == 0 {
		return 0, unix.EINVAL
	}
	const known = 0xff | cloneVM | cloneVfork | cloneSettls | cloneParentSettid | cloneChildSettid |
		cloneChildCleartid | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SYSVSEM | unix.CLONE_IO | unix.CLONE_SIGHAND
	if flags&^uint64(known) != 0 {
		return 0, unix.EINVAL
	}
	slot, err := k.reserveTask() // limits.go: EAGAIN past --max-tasks
	if err != nil {
		return 0, err
	}
	defer slot.cancel()
	t, err := k.host.NewTask()
	if err != nil {
		return 0, unix.EAGAIN
	}
	pt, err := t.NewAddressSpace()
	if err != nil {
		t.Release()
		return 0, unix.ENOMEM
	}
	cmm, err := p.MM.Fork(pt)
	if err != nil {
		pt.Free()
		t.Release()
		return 0, unix.ENOMEM
	}
	files, err := p.files.Clone()
	if err != nil {
		cmm.Destroy()
		pt.Free()
		t.Release()
		return 0, err
	}
	fsc, err := p.fs.clone()
	if err != nil {
		files.CloseAll()
		cmm.Destroy()
		pt.Free()
		t.Release()
		return 0, err
	}
	c := &Process{
		fsTask: fsTask{MM: cmm, files: files, fs: fsc},
		Arch:   t.Arch(), Log: p.Log, Exe: p.Exe, PhysMem: p.PhysMem,
		started: p.started, warned: map[uint64]bool{},
		rlimits: p.childRlimits(false), comm: p.comm,
	}
	c.owner = c
	acts := *p.sig.act
	c.sig.act, c.sig.mask = &acts, p.sig.mask
	c.sig.altSP, c.sig.altSize, c.sig.altOn = p.sig.altSP, p.sig.altSize, p.sig.altOn
	cr, fpu := p.childStart(c, r, flags, stack, tls)

	k.mu.Lock()
	slot.settle()
	c.Pid = k.allocPID()
	c.Tid = c.Pid
	c.attrs = p.attrs // under Kernel.mu, which guards the priorities
	c.proc = procState{k: k, task: t, parent: p.proc.group.leader, children: map[*Process]bool{},
		pgid: p.proc.pgid, sid: p.proc.sid, exitSignal: int(flags & 0xff)}
	c.proc.group = newThreadGroup(c)
	k.addTask(c)
	if flags&cloneVfork != 0 {
		c.proc.vforkDone = make(chan struct{})
	}
	k.procs[c.Pid] = c
	p.proc.group.leader.proc.children[c] = true
	k.mu.Unlock()

	var tid [4]byte
	put32(tid[:], uint32(c.Pid))
	if flags&cloneParentSettid != 0 {
		_, _ = p.MM.CopyOut(ptid, tid[:])
	}
	if flags&cloneChildSettid != 0 {
		_, _ = cmm.CopyOut(ctid, tid[:])
	}
	if flags&cloneChildCleartid != 0 {
		c.tidAddr = ctid
	}
	vforkDone := c.proc.vforkDone // the child clears it (under Kernel.mu) once running
	if err := t.Start(c, &cr, fpu); err != nil {
		c.exit()
		return 0, unix.EAGAIN
	}
	if vforkDone != nil {
		<-vforkDone // the child's exec or exit
	}
	return uint64(c.Pid), nil
}

// Finish is called by the VMM when p's task has stopped for good: p is
// released and becomes a zombie for its parent.
func (p *Process) Finish() { p.exit() }

// WaitStatus is p's wait status (valid once p has exited).
func (p *Process) WaitStatus() uint32 {
	if p.Signal != 0 {
		return uint32(p.Signal) & 0x7f
	}
	return uint32(p.ExitStatus&0xff) << 8
}

func (p *Process) exit() {
	if !p.threadExit() {
		return // other threads go on
	}
	// The last thread: the process ends. Its table entry is the leader's.
	if l := p.proc.group; l != nil && l.leader != p {
		l.leader.ExitStatus, l.leader.Signal = p.ExitStatus, p.Signal
		l.leader.proc.task = p.proc.task
		p = l.leader
	}
	k := p.proc.k
	if k != nil {
		k.mu.Lock()
		p.proc.mmGone = true // fileShrunk must not touch it any more
		k.mu.Unlock()
	}
	p.proc.group.timers.stopTimers(true)
	p.MM.Destroy()
	p.MM.PageTable().Free()
	p.Close()
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	p.proc.zombie = true
	p.proc.waitStat = p.WaitStatus()
	delete(k.threads, p.Tid)
	if p.proc.vforkDone != nil {
		close(p.proc.vforkDone)
		p.proc.vforkDone = nil
	}
	// Orphans are reaped by kshim itself when they exit (the role of init).
	for c := range p.proc.children {
		c.proc.parent = nil
		if c.proc.zombie {
			delete(k.procs, c.Pid)
		}
	}
	p.proc.children = nil
	parent := p.proc.parent
	switch {
	case parent == nil:
		delete(k.procs, p.Pid)
	case parent.sig.act[unix.SIGCHLD].handler == sigIgn || parent.sig.act[unix.SIGCHLD].flags&saNocldwait != 0:
		delete(parent.proc.children, p)
		delete(k.procs, p.Pid)
	}
	if parent != nil && p.proc.exitSignal != 0 {
		code := int32(cldExited)
		status := int32(p.ExitStatus)
		if p.Signal != 0 {
			code, status = cldKilled, int32(p.Signal)
		}
		parent.post(p.proc.exitSignal, Siginfo{Signo: int32(p.proc.exitSignal), Code: code,
			Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), Status: status, FromKill: true})
	}
	if p.proc.task != nil {
		p.proc.task.Release()
		p.proc.task = nil
	}
	k.taskDone(p)
}

// pokeIntr wakes a wait of p's that must notice a signal (futex, sleeps,
// and host calls that block: waitReady).
func (p *Process) pokeIntr() {
	p.proc.sigMu.Lock()
	ch, efd := p.proc.intrCh, p.proc.wakeFD
	p.proc.sigMu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	if efd > 0 {
		var one = [8]byte{1}
		_, _ = unix.Write(efd, one[:])
	}
}

// errRestart is Linux's ERESTARTSYS: a blocking call interrupted by a
// signal, restarted or failed with EINTR depending on the handler
// (table.go).
var errRestart = errors.New("interrupted: restart or EINTR")

// restartable reports whether the signal that will be delivered next lets
// the interrupted syscall restart (SA_RESTART, or no handler runs).
func (p *Process) restartable() bool {
	p.proc.sigMu.Lock()
	ready := p.sig.pending &^ p.sig.mask
	p.proc.sigMu.Unlock()
	for sig := 1; ready != 0; sig, ready = sig+1, ready>>1 {
		if ready&1 == 0 {
			continue
		}
		act := p.sig.act[sig]
		if act.handler == sigIgn || act.handler == sigDfl {
			continue // nothing runs for it (or the process dies anyway)
		}
		return act.flags&saRestart != 0
	}
	return true
}

// waitReady blocks until host fd h is ready for events (POLLIN, POLLOUT)
// or a signal for p arrives (errRestart). Host calls that can block (a
// pipe, a terminal, a socket) wait here first, so a signal from another
// task is not held up behind them. Regular files, directories and
// non-blocking fds return at once.
func (p *Process) waitReady(h int, events int16) error {
	if p.proc.k == nil {
		return nil
	}
	var st unix.Stat_t
	if unix.Fstat(h, &st) != nil {
		return nil // let the call itself report it
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR, unix.S_IFBLK:
		return nil
	}
	fl, err := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK != 0 ||
		events == unix.POLLIN && fl&unix.O_ACCMODE == unix.O_WRONLY ||
		events == unix.POLLOUT && fl&unix.O_ACCMODE == unix.O_RDONLY {
		return nil // the call itself fails at once (EBADF) or does not block
	}
	wake := p.wakeFD()
	if wake < 0 {
		return nil
	}
	for {
		if p.interrupted() {
			return errRestart
		}
		fds := []unix.PollFd{{Fd: int32(h), Events: events}, {Fd: int32(wake), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			return nil
		}
		if fds[1].Revents != 0 {
			var b [8]byte
			_, _ = unix.Read(wake, b[:])
		}
		if fds[0].Revents != 0 {
			return nil
		}
	}
}

// wakeFD returns p's wake-up eventfd (non-blocking), made on first use.
func (p *Process) wakeFD() int {
	p.proc.sigMu.Lock()
	defer p.proc.sigMu.Unlock()
	if p.proc.wakeFD == 0 {
		fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			return -1
		}
		p.proc.wakeFD = fd
	}
	return p.proc.wakeFD
}

// si_code values for SIGCHLD, and sa_flags.
const (
	cldExited   = 1
	cldKilled   = 2
	saNocldwait = 2
)

// post queues sig for p from another task (or p itself) and wakes it:
// a sleeping waiter returns to check, a running vCPU is kicked.
// Kernel.mu must be held when k is non-nil.
func (p *Process) post(sig int, info Siginfo) {
	if p.proc.k != nil {
		p.jobSignal(sig)
	}
	p.proc.sigMu.Lock()
	p.sig.pending |= bit(sig)
	p.sig.info[sig] = info
	p.proc.sigMu.Unlock()
	p.pokeIntr()
	if t := p.proc.task; t != nil {
		t.Kick()
	}
	if p.proc.k != nil {
		p.proc.k.cond.Broadcast()
	}
}

// SignalPending reports whether a signal waits that p would act on (for
// the VMM, after a kick).
func (p *Process) SignalPending() bool { return p.interrupted() }

// interrupted reports whether a signal is pending that p would act on (not
// blocked, not ignored): a blocking syscall must return EINTR for it.
func (p *Process) interrupted() bool {
	if g := p.proc.group; g != nil && g.stopped.Load() {
		return true // the call restarts once the group continues
	}
	p.proc.sigMu.Lock()
	ready := p.sig.pending &^ p.sig.mask
	p.proc.sigMu.Unlock()
	for sig := 1; ready != 0; sig, ready = sig+1, ready>>1 {
		if ready&1 == 0 {
			continue
		}
		h := p.sig.act[sig].handler
		if h != sigIgn && !(h == sigDfl && defaultIgnored(sig)) {
			return true
		}
	}
	return false
}

// wait4(pid, wstatus, options, rusage).
func sysWait4(p *Process, _ *Regs, a *args) (uint64, error) {
	const known = unix.WNOHANG | unix.WUNTRACED | unix.WCONTINUED | unix.WALL | unix.WCLONE | 0x40000000 // __WNOTHREAD
	if a[2]&^uint64(known) != 0 {
		return 0, unix.EINVAL
	}
	c, status, err := p.waitChild(int(int32(a[0])), int(a[2]))
	if err != nil || c == 0 {
		return uint64(c), err
	}
	if a[1] != 0 {
		var b [4]byte
		put32(b[:], status)
		if _, err := p.MM.CopyOut(a[1], b[:]); err != nil {
			return 0, err
		}
	}
	if a[3] != 0 {
		var ru [144]byte // struct rusage: kshim does not account; zero
		if _, err := p.MM.CopyOut(a[3], ru[:]); err != nil {
			return 0, err
		}
	}
	return uint64(c), nil
}

// waitid(idtype, id, infop, options, rusage).
func sysWaitid(p *Process, _ *Regs, a *args) (uint64, error) {
	const known = unix.WNOHANG | unix.WEXITED | unix.WSTOPPED | unix.WCONTINUED | unix.WNOWAIT | unix.WALL | unix.WCLONE | 0x40000000
	opts := int(a[3])
	if opts&^known != 0 || opts&(unix.WEXITED|unix.WSTOPPED|unix.WCONTINUED) == 0 {
		return 0, unix.EINVAL
	}
	var pid int
	switch a[0] {
	case unix.P_ALL:
		pid = -1
	case unix.P_PID:
		pid = int(int32(a[1]))
		if pid <= 0 {
			return 0, unix.EINVAL
		}
	case unix.P_PGID:
		pid = -int(int32(a[1]))
		if a[1] == 0 {
			pid = 0
		}
	default:
		return 0, unix.EINVAL
	}
	c, status, err := p.waitChildOpts(pid, opts&unix.WNOHANG != 0, opts&unix.WNOWAIT != 0,
		waitWant{exited: opts&unix.WEXITED != 0, stopped: opts&unix.WSTOPPED != 0, continued: opts&unix.WCONTINUED != 0})
	if err != nil {
		return 0, err
	}
	if c == 0 {
		return 0, p.zeroSiginfo(a[2])
	}
	if a[2] != 0 {
		var si [128]byte
		put32(si[0:], uint32(unix.SIGCHLD))
		code, st := uint32(cldExited), status>>8&0xff
		switch {
		case status == 0xffff:
			code, st = cldContinued, uint32(unix.SIGCONT)
		case status&0xff == 0x7f:
			code = cldStopped
		case status&0x7f != 0:
			code, st = cldKilled, status&0x7f
		}
		put32(si[8:], code)
		put32(si[16:], uint32(c))
		put32(si[20:], uint32(unix.Getuid()))
		put32(si[24:], st)
		if _, err := p.MM.CopyOut(a[2], si[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func (p *Process) zeroSiginfo(addr uint64) error {
	if addr == 0 {
		return nil
	}
	var si [128]byte
	_, err := p.MM.CopyOut(addr, si[:])
	return err
}

func (p *Process) waitChild(pid, opts int) (int, uint32, error) {
	return p.waitChildOpts(pid, opts&unix.WNOHANG != 0, false,
		waitWant{exited: true, stopped: opts&unix.WUNTRACED != 0, continued: opts&unix.WCONTINUED != 0})
}

// waitWant is what a wait reports: exits, stops, continues.
type waitWant struct{ exited, stopped, continued bool }

// waitChildOpts waits for a child matching pid (wait4's encoding: >0 that
// child, -1 any, 0 p's group, < -1 group -pid) to exit, stop or continue
// as want asks, and reaps an exited one unless nowait. It returns 0 with
// nohang when nothing is to be reported yet.
func (p *Process) waitChildOpts(pid int, nohang, nowait bool, want waitWant) (int, uint32, error) {
	k := p.proc.k
	if k == nil {
		return 0, 0, unix.ECHILD
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for {
		matched := false
		for c := range p.proc.children {
			switch {
			case pid > 0 && c.Pid != pid,
				pid == 0 && c.proc.pgid != p.proc.pgid,
				pid < -1 && c.proc.pgid != -pid:
				continue
			}
			matched = true
			if !c.proc.zombie {
				if st, ok := c.stopState(want.stopped, want.continued, nowait); ok {
					return c.Pid, st, nil
				}
				continue
			}
			if !want.exited {
				continue
			}
			if !nowait {
				delete(p.proc.children, c)
				delete(k.procs, c.Pid)
			}
			return c.Pid, c.proc.waitStat, nil
		}
		if !matched {
			return 0, 0, unix.ECHILD
		}
		if nohang {
			return 0, 0, nil
		}
		if p.interrupted() {
			return 0, 0, errRestart
		}
		k.cond.Wait()
	}
}

// signalTargets returns the processes kill(pid) reaches; Kernel.mu held.
func (k *Kernel) signalTargets(from *Process, pid int) []*Process {
	var out []*Process
	switch {
	case pid > 0:
		if t := k.procs[pid]; t != nil && !t.proc.zombie {
			out = append(out, t)
		}
	case pid == -1:
		for _, t := range k.procs {
			if t != from && !t.proc.zombie {
				out = append(out, t)
			}
		}
	default:
		g := -pid
		if pid == 0 {
			g = from.proc.pgid
		}
		for _, t := range k.procs {
			if t.proc.pgid == g && !t.proc.zombie {
				out = append(out, t)
			}
		}
	}
	return out
}

// killOthers implements kill(2) once processes exist.
func (p *Process) killOthers(pid, sig int) (uint64, error) {
	if sig < 0 || sig > nsig {
		return 0, unix.EINVAL
	}
	k := p.proc.k
	k.mu.Lock()
	targets := k.signalTargets(p, pid)
	if len(targets) == 0 {
		k.mu.Unlock()
		return 0, unix.ESRCH
	}
	if sig != 0 {
		info := Siginfo{Signo: int32(sig), Code: siUser, Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), FromKill: true}
		for _, t := range targets {
			liveThread(t, sig).post(sig, info)
		}
	}
	k.mu.Unlock()
	return 0, nil
}

func sysGetppidK(p *Process, _ *Regs, _ *args) (uint64, error) {
	return uint64(p.ppid()), nil
}

// ppid is getppid(2)'s answer for p (also /proc/PID/status's PPid).
func (p *Process) ppid() int {
	k := p.proc.k
	if k == nil {
		return unix.Getppid()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if p.proc.parent != nil {
		return p.proc.parent.Pid
	}
	if p.proc.first {
		// The first process's parent is whoever started kshim.
		return unix.Getppid()
	}
	return 1 // orphans belong to init
}

func sysSetpgid(p *Process, _ *Regs, a *args) (uint64, error) {
	pid, pgid := int(int32(a[0])), int(int32(a[1]))
	if pgid < 0 {
		return 0, unix.EINVAL
	}
	k := p.proc.k
	k.mu.Lock()
	defer k.mu.Unlock()
	t := p
	if pid != 0 && pid != p.Pid {
		t = k.procs[pid]
		if t == nil || t.proc.parent != p {
			return 0, unix.ESRCH
		}
		if t.proc.sid != p.proc.sid {
			return 0, unix.EPERM
		}
	}
	if t.proc.sid == t.Pid {
		return 0, unix.EPERM // a session leader cannot move
	}
	if pgid == 0 {
		pgid = t.Pid
	}
	if pgid != t.Pid {
		ok := false
		for _, q := range k.procs {
			if q.proc.pgid == pgid && q.proc.sid == t.proc.sid {
				ok = true
				break
			}
		}
		if !ok {
			return 0, unix.EPERM
		}
	}
	t.proc.pgid = pgid
	return 0, nil
}

func sysGetpgid(p *Process, _ *Regs, a *args) (uint64, error) {
	k := p.proc.k
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.procOrSelf(p, a[0])
	if t == nil {
		return 0, unix.ESRCH
	}
	return uint64(t.proc.pgid), nil
}

func sysGetpgrp(p *Process, r *Regs, _ *args) (uint64, error) {
	return sysGetpgid(p, r, &args{})
}

func sysSetsid(p *Process, _ *Regs, _ *args) (uint64, error) {
	k := p.proc.k
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, q := range k.procs {
		if q.proc.pgid == p.Pid {
			return 0, unix.EPERM // already a group leader
		}
	}
	p.proc.sid, p.proc.pgid = p.Pid, p.Pid
	return uint64(p.Pid), nil
}

func sysGetsid(p *Process, _ *Regs, a *args) (uint64, error) {
	k := p.proc.k
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.procOrSelf(p, a[0])
	if t == nil {
		return 0, unix.ESRCH
	}
	return uint64(t.proc.sid), nil
}

// procOrSelf is the process a pid argument names, 0 being p itself (nil:
// none). Kernel.mu held.
func (k *Kernel) procOrSelf(p *Process, arg uint64) *Process {
	if pid := int(int32(arg)); pid != 0 {
		return k.procs[pid]
	}
	return p
}

// clone gives a fork child its own root and cwd references (Linux's
// copy_fs_struct).
func (fs *fsContext) clone() (*fsContext, error) {
	c := *fs
	var err error
	if fs.root >= 0 {
		if c.root, err = unix.FcntlInt(uintptr(fs.root), unix.F_DUPFD_CLOEXEC, 0); err != nil {
			return nil, err
		}
	}
	if fs.cwd >= 0 {
		if c.cwd, err = unix.FcntlInt(uintptr(fs.cwd), unix.F_DUPFD_CLOEXEC, 0); err != nil {
			if c.root >= 0 {
				unix.Close(c.root)
			}
			return nil, err
		}
	}
	return &c, nil
}

func init() {
	// Processes (task.go, exec.go). table.go's init has run: the go tool
	// initialises a package's files in file name order (table < task).
	for nr, h := range map[uint64]handler{
		unix.SYS_FORK:     sysFork,
		unix.SYS_VFORK:    sysVfork,
		unix.SYS_CLONE:    sysClone,
		unix.SYS_WAIT4:    sysWait4,
		unix.SYS_WAITID:   sysWaitid,
		unix.SYS_EXECVE:   sysExecve,
		unix.SYS_EXECVEAT: sysExecveat,
		unix.SYS_GETPPID:  sysGetppidK,
		unix.SYS_SETPGID:  sysSetpgid,
		unix.SYS_GETPGID:  sysGetpgid,
		unix.SYS_GETPGRP:  sysGetpgrp,
		unix.SYS_SETSID:   sysSetsid,
		unix.SYS_GETSID:   sysGetsid,
		// Threads (thread.go, futex.go).
		unix.SYS_GETTID:            sysGettid,
		unix.SYS_SET_TID_ADDRESS:   sysSetTidAddress2,
		unix.SYS_EXIT:              sysExitThread,
		unix.SYS_EXIT_GROUP:        sysExitGroup,
		unix.SYS_TGKILL:            sysTgkill2,
		unix.SYS_TKILL:             sysTkill2,
		unix.SYS_FUTEX:             sysFutex,
		unix.SYS_SCHED_GETAFFINITY: sysSchedGetaffinity,
		unix.SYS_SCHED_SETAFFINITY: sysSchedSetaffinity,
		unix.SYS_SCHED_YIELD:       sysSchedYield,
		unix.SYS_EVENTFD2:          sysEventfd2,
		unix.SYS_EVENTFD:           sysEventfd,
		unix.SYS_NANOSLEEP:         sysNanosleep,
		unix.SYS_CLOCK_NANOSLEEP:   sysClockNanosleep,
	} {
		table[nr] = h
	}
}
