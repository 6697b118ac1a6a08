// task.go: processes as tasks on vCPUs: the process table (Kernel), fork,
// exit, wait, process groups, and what the VMM provides for them (Host,
// Task).
//
// Invariants and locking:
//   - A process runs on one vCPU (its Task); only that vCPU's goroutine
//     touches the process's registers, memory manager, fd table and signal
//     dispositions. Other goroutines only post signals (under the target's
//     SigMu), read the table (under Kernel.Mu), and unmap a truncated
//     file's pages (FileShrunk, under Kernel.Mu, which exec holds to swap
//     a process's memory manager and exit to mark it released).
//   - Kernel.Mu guards the table: pids, parent/child links, exit states,
//     process groups and sessions. Lock order: Kernel.Mu, then a
//     Process's SigMu, then guestmm, then ept.Memory. Nothing is held
//     while the guest runs or across a blocking host call, except that
//     waiters sleep on Kernel.cond.
//   - fork takes guestmm's snapshot (MM.Fork) on the parent's goroutine,
//     which is the only one that could change the parent's memory, so the
//     child never sees half an update.
//   - A CLONE_VM child (vfork, posix_spawn) runs on its parent's MM, as a
//     thread does (the MM's lock serialises them); the MM counts its
//     processes (Share, Unshare) and only the last to leave it, by exit or
//     execve, destroys it and its tables (dropMM). A vfork parent's
//     calling thread waits for the child's exec or exit (vforkDone), or
//     until it is sent SIGKILL (waitVfork).
//   - A process that has exited is a zombie until its parent waits for it
//     (or at once when its parent ignores SIGCHLD or is gone); its vCPU and
//     memory are released when it exits, not when it is reaped.
package kernel

import (
	"errors"
	"math/bits"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"kshim/ept"
	"kshim/guestmm"
	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
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
	// next enters the guest, with FS.base and GS.base 0.
	Switch(pt *ept.PageTable) error
	// Join gives this task a root in pt, another task's address space
	// (a new thread); Leave drops it (the thread ended).
	Join(pt *ept.PageTable) error
	Leave(pt *ept.PageTable)
	// Kick makes the task's vCPU leave the guest soon, so a signal posted
	// by another task is delivered.
	Kick()
	// Away tells that the calling task runs no guest code until back is
	// called (a vfork parent's wait), so the others on its memory need
	// not stop for it meanwhile.
	Away() (back func())
	// Release gives the vCPU back (exit, or a task that never started).
	Release()
}

// Kernel is the guest's process table.
type Kernel struct {
	Mu      sync.Mutex
	cond    *sync.Cond       // broadcast on every exit, exec and signal post
	Procs   map[int]*Process // by pid: the thread group leaders
	Threads map[int]*Process // by tid: every live thread
	live    int              // tasks not yet fully ended (threadGroup.live, summed)
	failure error            // the first VMM error of any task (Fail)
	fg      map[uint64]int   // terminal rdev -> the guest's foreground pgid (tty.go)
	ptys    ptyTable         // the guest's own terminals' sessions (tty.go)
	// kshim's host parent's group and session: the first process's
	// parent, for orphaned process groups (jobctl.go).
	hostParentPgid, hostParentSid int
	nextPID                       int
	host                          Host
	faults                        faultCount // cputime.go: /proc/vmstat's pgfault

	fmu   sync.Mutex // futex.go
	futex futexTable

	Sb  *fs.Sandbox // limits.go: the guest's limits (nil: none)
	IPC any         // the guest's System V IPC namespace (syscalls/ipc.Of)
	oom oomState    // oom.go (used only with sb)

	// IRETSelectors: user mode is entered as on a VMX/SVM host, where
	// Linux returns with IRET (ReturnSegments); set once before the first
	// task runs.
	IRETSelectors bool
	// ExitAfter: the host process exits once the guest has (`kshim
	// run`), so the memory of the guest's last task to end is left to
	// the machine's close and that exit, which free it at once, instead
	// of being torn down VMA by VMA (frames freed one by one, each file
	// window released while the VM still tracks it). Set once before the
	// first task runs.
	ExitAfter bool
}

// Counts are the guest's live threads and the last pid it was given
// (/proc/loadavg's last fields).
func (k *Kernel) Counts() (threads, lastPID int) {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	return len(k.Threads), k.nextPID - 1
}

// NewKernel creates an empty process table; the first process added takes
// pid as its own (the VMM's pid, what getpid showed before processes).
func NewKernel(host Host) *Kernel {
	k := &Kernel{Procs: map[int]*Process{}, Threads: map[int]*Process{}, host: host}
	k.cond = sync.NewCond(&k.Mu)
	return k
}

// procState is a process's place in the table (guarded by Kernel.Mu).
type procState struct {
	K        *Kernel
	task     Task
	Parent   *Process
	children map[*Process]bool
	Pgid     int
	Sid      int
	zombie   bool
	waitStat uint32 // wait status once a zombie
	// vforkDone is closed when a vfork child execs or exits.
	vforkDone chan struct{}
	// exitSignal is sent to the parent at exit (clone's low byte).
	exitSignal int
	first      bool       // the process kshim started
	SigMu      sync.Mutex // guards sig.pending and sig.info against posters
	Group      *threadGroup
	intrCh     chan struct{} // poked by post, for waits that must notice signals (made by the first of either)
	mmGone     bool          // exit is releasing the memory manager (FileShrunk skips it)
	wakeFD     int           // an eventfd post writes, for host polls (0: none yet)
}

// intr returns the channel post pokes when a signal arrives for p.
func (p *Process) intr() <-chan struct{} {
	p.Proc.SigMu.Lock()
	defer p.Proc.SigMu.Unlock()
	if p.Proc.intrCh == nil {
		p.Proc.intrCh = make(chan struct{}, 1)
	}
	return p.Proc.intrCh
}

// Adopt makes p the table's first process, running on task.
func (k *Kernel) Adopt(p *Process, task Task) {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	p.Proc.K, p.Proc.task = k, task
	p.Proc.children = map[*Process]bool{}
	// The process group and session kshim was started in, as a program
	// started natively would be: a group leader only if kshim is one
	// (else setsid, as daemons call it, would fail with EPERM).
	p.Proc.Pgid, p.Proc.Sid = unix.Getpgrp(), p.Pid
	if sid, err := unix.Getsid(0); err == nil {
		p.Proc.Sid = sid
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
	p.Proc.exitSignal = int(unix.SIGCHLD)
	p.Proc.first = true
	p.Proc.Group = newThreadGroup(p)
	k.Procs[p.Pid] = p
	k.addTask(p)
	k.nextPID = p.Pid + 1
}

// Fail ends the whole guest because the VMM cannot go on running p (a KVM
// error, a broken shim state): every task is killed, and Failure reports
// err to whoever launched the guest. One task's VMM error must not leave
// the others waiting on it forever.
func (p *Process) Fail(err error) {
	p.Exited, p.Signal = true, unix.SIGKILL
	k := p.Proc.K
	if k == nil {
		return
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	if k.failure == nil {
		k.failure = err
	}
	k.cond.Broadcast()
	for _, q := range k.Threads {
		q.post(int(unix.SIGKILL), Siginfo{Signo: int32(unix.SIGKILL), FromKill: true})
	}
}

// Failure is the first error passed to Fail, if any.
func (k *Kernel) Failure() error {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	return k.failure
}

// WaitAll waits until every task of the guest has ended (the first
// process has; orphans run on as on Linux), or a VMM error ends the guest.
func (k *Kernel) WaitAll() {
	k.Mu.Lock()
	defer k.Mu.Unlock()
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
		if k.Procs[pid] == nil && k.Threads[pid] == nil && !k.groupID(pid) {
			return pid
		}
	}
}

// groupID reports whether n is the id of a live process group or session
// (Linux never hands out such a number as a pid). Kernel.Mu held.
func (k *Kernel) groupID(n int) bool {
	for _, q := range k.Procs {
		if q.Proc.Pgid == n || q.Proc.Sid == n {
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
	k.Mu.Lock()
	defer k.Mu.Unlock()
	for _, q := range k.Threads {
		q.post(int(unix.SIGKILL), Siginfo{Signo: int32(unix.SIGKILL), FromKill: true})
	}
	deadline := time.Now().Add(time.Second)
	for k.live > 0 && time.Now().Before(deadline) {
		k.Mu.Unlock()
		time.Sleep(time.Millisecond)
		k.Mu.Lock()
	}
	return k.live == 0
}

// WaitProcess waits (a second at most: a thread may be stuck in a host
// call) until every thread of leader's group has ended and returns the
// process's exit status or killing signal.
func (k *Kernel) WaitProcess(leader *Process) (int, unix.Signal) {
	deadline := time.Now().Add(time.Second)
	k.Mu.Lock()
	for leader.Proc.Group.live > 0 && time.Now().Before(deadline) {
		k.Mu.Unlock()
		time.Sleep(time.Millisecond)
		k.Mu.Lock()
	}
	g := leader.Proc.Group
	// g.leader: a thread's execve may have made it the leader.
	st, sig := g.leader.ExitStatus, g.leader.Signal
	if g.exiting {
		st, sig = g.status, g.signal
	}
	k.Mu.Unlock()
	return st, sig
}

// FileShrunk tells every address space that the host file open at h may
// have shrunk (truncate, ftruncate, O_TRUNC), so pages past its new end
// stop being mapped, as Linux does on truncate.
func (p *Process) FileShrunk(h int) {
	var st unix.Stat_t
	if unix.Fstat(h, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return
	}
	p.MM.Truncated(st.Dev, st.Ino, st.Size)
	k := p.Proc.K
	if k == nil {
		return
	}
	// Under Kernel.Mu: no other process can release or replace its memory
	// manager meanwhile (exit marks mmGone and exec swaps MM under it).
	k.Mu.Lock()
	defer k.Mu.Unlock()
	done := map[*guestmm.MM]bool{p.MM: true} // CLONE_VM relatives share one
	for _, q := range k.Procs {
		if !q.Proc.zombie && !q.Proc.mmGone && !done[q.MM] {
			done[q.MM] = true
			q.MM.Truncated(st.Dev, st.Ino, st.Size)
		}
	}
}

// Clone flags kshim understands for new processes.
const (
	CloneVM            = unix.CLONE_VM
	CloneVfork         = unix.CLONE_VFORK
	cloneSettls        = unix.CLONE_SETTLS
	cloneParentSettid  = unix.CLONE_PARENT_SETTID
	cloneChildSettid   = unix.CLONE_CHILD_SETTID
	cloneChildCleartid = unix.CLONE_CHILD_CLEARTID
	cloneThreadFlags   = unix.CLONE_THREAD | unix.CLONE_SIGHAND
)

// cloneTask is what clone needs first for a process or a thread, in
// copy_process's order: RLIMIT_NPROC, the TLS base (copy_thread's
// check), a place under --max-tasks, and a vCPU. The caller defers
// slot.cancel (it gives the place back unless settled).
func (p *Process) cloneTask(flags, tls uint64) (*taskSlot, Task, error) {
	if err := p.nprocOK(); err != nil { // limits.go: RLIMIT_NPROC
		return nil, nil, err
	}
	if err := settlsOK(flags, tls); err != nil {
		return nil, nil, err
	}
	k := p.Proc.K
	slot, err := k.reserveTask() // limits.go: EAGAIN past --max-tasks
	if err != nil {
		return nil, nil, err
	}
	t, err := k.host.NewTask()
	if err != nil {
		slot.cancel()
		return nil, nil, unix.EAGAIN
	}
	return slot, t, nil
}

// Fork creates a child process: a copy-on-write snapshot of the memory, a
// copy of the fd table (same open files), the signal dispositions and
// mask, and the registers with RAX 0. With CLONE_VM (vfork, posix_spawn)
// the child runs on the parent's address space itself, as a thread would
// (the same MM and page tables, its own vCPU root), with its own fd table,
// signal state and pid, until its execve gives it an address space of its
// own or it exits (MM.Share, Unshare: the last user destroys the MM). With
// CLONE_VFORK the calling thread waits for that moment; its other threads
// go on.
func (p *Process) Fork(r *Regs, flags, stack, ptid, ctid, tls uint64) (uint64, error) {
	k := p.Proc.K
	if k == nil {
		return 0, unix.ENOSYS
	}
	if flags&unix.CLONE_THREAD != 0 {
		return p.newThread(r, flags, stack, ptid, ctid, tls)
	}
	if flags&unix.CLONE_SIGHAND != 0 && flags&CloneVM == 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.CLONE_PIDFD != 0 && flags&cloneParentSettid != 0 {
		return 0, unix.EINVAL // both would write parent_tid
	}
	const known = unix.CLONE_PIDFD | 0xff | CloneVM | CloneVfork | cloneSettls | cloneParentSettid | cloneChildSettid |
		cloneChildCleartid | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SYSVSEM | unix.CLONE_IO | unix.CLONE_SIGHAND
	if flags&^uint64(known) != 0 {
		return 0, unix.EINVAL
	}
	// A signal pending now is taken before the fork, which then runs
	// again (Linux's ERESTARTNOINTR); one sent to several processes
	// while it goes on is the child's too (forks).
	delayed := new(uint64)
	k.Mu.Lock()
	if p.Interrupted() {
		k.Mu.Unlock()
		return 0, ErrRestartNoIntr
	}
	g := p.Proc.Group
	if g.forks == nil {
		g.forks = map[*uint64]bool{}
	}
	g.forks[delayed] = true
	k.Mu.Unlock()
	defer func() {
		k.Mu.Lock()
		delete(g.forks, delayed)
		k.Mu.Unlock()
	}()
	slot, t, err := p.cloneTask(flags, tls)
	if err != nil {
		return 0, err
	}
	defer slot.cancel()
	var cmm *guestmm.MM
	if flags&CloneVM != 0 {
		// The parent's address space itself: a root in its tables for
		// the child's vCPU, as for a thread.
		if err := t.Join(p.MM.PageTable()); err != nil {
			t.Release()
			return 0, unix.ENOMEM
		}
		cmm = p.MM
		cmm.Share()
	} else {
		pt, err := t.NewAddressSpace()
		if err != nil {
			t.Release()
			return 0, unix.ENOMEM
		}
		if cmm, err = p.MM.Fork(pt); err != nil {
			pt.Free()
			t.Release()
			return 0, unix.ENOMEM
		}
		mmHook(cmm, p.Pid, true) // ipchooks.go
	}
	undo := func() { // before the child is in the table
		dropMM(cmm, t, p.Pid)
		t.Release()
	}
	files, err := p.Files.Clone()
	if err != nil {
		undo()
		return 0, err
	}
	fsc, err := p.FS.Clone()
	if err != nil {
		files.CloseAll()
		undo()
		return 0, err
	}
	c := &Process{
		Task:   fs.Task{MM: cmm, Files: files, FS: fsc},
		ProcFS: p.ProcFS,
		Arch:   t.Arch(), Log: p.Log, Exe: p.Exe, ExeHostPath: p.ExeHostPath, PhysMem: p.PhysMem,
		Started: p.Started, Warned: map[uint64]bool{},
		Rlimits: p.childRlimits(false),
	}
	c.Owner = c
	c.Sig.Act, c.Sig.Mask = p.Sig.Act.Copy(), p.Sig.Mask
	if flags&(CloneVM|CloneVfork) != CloneVM {
		// Linux resets the alternate stack only for CLONE_VM without
		// CLONE_VFORK (the child would share the parent's).
		c.Sig.AltSP, c.Sig.AltSize, c.Sig.AltOn, c.Sig.AltSetFlags = p.Sig.AltSP, p.Sig.AltSize, p.Sig.AltOn, p.Sig.AltSetFlags
	}
	cr, fpu := p.childStart(c, r, flags, stack, tls)

	k.Mu.Lock()
	if p.fatalPending() {
		// Killed meanwhile: no child outlives the fork (Linux's "let
		// kill terminate clone/fork in the middle"), whatever signal
		// ends the process (fatalPending).
		k.Mu.Unlock()
		fsc.Close()
		files.CloseAll()
		undo()
		return 0, ErrRestartNoIntr
	}
	slot.settle()
	c.Pid = k.allocPID()
	c.Tid = c.Pid
	c.Attrs = p.Attrs.forked(p) // under Kernel.Mu, which guards the priorities (sched.go)
	c.Attrs.forChild()          // no parent-death signal; the slack default (misc.go)
	c.Comm = p.Comm             // under Kernel.Mu: another thread may rename p (procinfo.go)
	c.Proc = procState{K: k, task: t, Parent: p.Proc.Group.leader, children: map[*Process]bool{},
		Pgid: p.Proc.Pgid, Sid: p.Proc.Sid, exitSignal: int(flags & 0xff)}
	c.Proc.Group = newThreadGroup(c)
	c.sfdFork()
	k.addTask(c)
	if flags&CloneVfork != 0 {
		c.Proc.vforkDone = make(chan struct{})
	}
	k.Procs[c.Pid] = c
	p.Proc.Group.leader.Proc.children[c] = true
	for set := *delayed; set != 0; set &= set - 1 {
		// Process-wide, as Linux's copy_process sets the child's
		// shared_pending (ShdPnd in /proc/PID/status).
		sig := bits.TrailingZeros64(set) + 1
		_ = c.postGroup(sig, Siginfo{Signo: int32(sig), Code: SiUser})
	}
	pidfdH, pidfdErr := -1, error(nil)
	if flags&unix.CLONE_PIDFD != 0 {
		pidfdH, pidfdErr = pidfdHost(c, false) // pidfd.go
	}
	k.Mu.Unlock()
	if pidfdErr == nil && pidfdH >= 0 {
		if fd, err := p.installPidfd(pidfdH, c); err == nil {
			var b [4]byte
			abi.Put32(b[:], uint32(fd))
			_, _ = p.MM.CopyOut(ptid, b[:])
		}
	}

	var tid [4]byte
	abi.Put32(tid[:], uint32(c.Pid))
	if flags&cloneParentSettid != 0 {
		_, _ = p.MM.CopyOut(ptid, tid[:])
	}
	if flags&cloneChildSettid != 0 {
		_, _ = cmm.CopyOut(ctid, tid[:]) // the parent's memory with CLONE_VM
	}
	if flags&cloneChildCleartid != 0 {
		c.TidAddr = ctid
	}
	vforkDone := c.Proc.vforkDone // the child clears it (under Kernel.Mu) once running
	back := func() {}
	if vforkDone != nil && p.Proc.task != nil {
		// From here until the wait ends the caller runs no guest code:
		// the child, alone to run on the memory, may use the VMM's fast
		// path from its first instruction.
		back = p.Proc.task.Away()
	}
	if err := t.Start(c, &cr, fpu); err != nil {
		back()
		c.exit()
		return 0, unix.EAGAIN
	}
	if vforkDone != nil {
		p.waitVfork(vforkDone)
	}
	back()
	return uint64(c.Pid), nil
}

// waitVfork waits for a vfork child's exec or exit (done closed). Only a
// signal that ends the caller ends the wait early (fatalPending: Linux's
// killable vfork wait, which a fatal signal reaches as the SIGKILL
// complete_signal makes of it): the caller then dies on its way out
// while the child runs on (the memory manager stays while the child uses
// it: dropMM). A signal it handles waits for the child, as natively.
func (p *Process) waitVfork(done <-chan struct{}) {
	p.SleepBegin()
	defer p.SleepEnd()
	for {
		select {
		case <-done:
			return
		case <-p.intr():
			if p.fatalPending() {
				return
			}
		}
	}
}

// dropMM ends a process's use of mm (exit, execve, a clone undone): the
// last user destroys it and frees its tables; while another process still
// runs on it (a CLONE_VM relative) only task t's root in its tables goes.
func dropMM(mm *guestmm.MM, t Task, pid int) {
	pt := mm.PageTable()
	if mm.Unshare() {
		mmHook(mm, pid, false) // ipchooks.go
		mm.Destroy()
		pt.Free()
		return
	}
	if t != nil {
		t.Leave(pt)
	}
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
	if l := p.Proc.Group; l != nil && l.leader != p {
		l.leader.ExitStatus, l.leader.Signal = p.ExitStatus, p.Signal
		l.leader.Proc.task = p.Proc.task
		p = l.leader
	}
	if ExitHook != nil {
		ExitHook(p.Proc.K, p.Pid) // ipchooks.go
	}
	k := p.Proc.K
	leave := false
	if k != nil {
		k.Mu.Lock()
		p.noteRSS()          // cputime.go: maxrss
		p.Proc.mmGone = true // FileShrunk must not touch it any more
		// No live thread left anywhere (so none to make another
		// process or share this memory): nothing reads it again.
		leave = k.ExitAfter && len(k.Threads) == 0
		k.Mu.Unlock()
	}
	p.Proc.Group.timers.stopTimers(true)
	p.Proc.Group.flushShared() // sigqueue.go: the count of queued siginfos
	if !leave {
		dropMM(p.MM, p.Proc.task, p.Pid)
	}
	p.Close()
	if k == nil {
		return
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	p.Proc.zombie = true
	k.ttyLeaderExit(p) // its session's terminal goes (tty.go)
	pidfdExited(p)     // its pidfds turn readable (pidfd.go)
	p.Proc.waitStat = p.WaitStatus()
	delete(k.Threads, p.Tid)
	if p.Proc.vforkDone != nil {
		close(p.Proc.vforkDone)
		p.Proc.vforkDone = nil
	}
	k.orphan(p)
	parent := p.Proc.Parent
	switch {
	case parent == nil:
		delete(k.Procs, p.Pid)
	case ignoresChildren(parent):
		delete(parent.Proc.children, p)
		delete(k.Procs, p.Pid)
	}
	if parent != nil && p.Proc.exitSignal != 0 {
		code := int32(CldExited)
		status := int32(p.ExitStatus)
		if p.Signal != 0 {
			code, status = CldKilled, int32(p.Signal)
		}
		_ = parent.postGroup(p.Proc.exitSignal, Siginfo{Signo: int32(p.Proc.exitSignal), Code: code,
			Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), Status: status, FromKill: true})
	}
	if p.Proc.task != nil {
		p.Proc.task.Release()
		p.Proc.task = nil
	}
	k.taskDone(p)
}

// orphan gives the children of p, which is ending, a new parent as
// forget_original_parent does: each of their threads that asked for a
// parent-death signal gets it (sent to its process), and each child goes
// to the nearest live ancestor that is a child subreaper, which a zombie
// among them notifies as its parent now. Without one, an orphan is reaped
// by kshim itself when it exits (the role of init). Kernel.Mu held.
//
// Linux sends the parent-death signal when the thread that forked the
// child ends; kshim keeps children per process, so it is sent when the
// parent process ends (the usual case: a single-threaded parent).
func (k *Kernel) orphan(p *Process) {
	var reaper *Process
	for q := p.Proc.Parent; q != nil; q = q.Proc.Parent {
		if q.Proc.Group != nil && q.Proc.Group.subreaper && !q.Proc.zombie {
			reaper = q
			break
		}
	}
	for c := range p.Proc.children {
		for t := range c.Proc.Group.threads {
			if sig := t.Attrs.Pdeathsig; sig != 0 {
				_ = c.postGroup(sig, Siginfo{Signo: int32(sig), Code: SiUser, Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), FromKill: true})
			}
		}
		c.Proc.Parent = reaper
		if reaper == nil {
			if c.Proc.zombie {
				delete(k.Procs, c.Pid)
			}
			continue
		}
		c.Proc.exitSignal = int(unix.SIGCHLD) // reparent_leader: "we don't want people slaying init"
		reaper.Proc.children[c] = true
		if !c.Proc.zombie {
			continue
		}
		if ignoresChildren(reaper) {
			delete(reaper.Proc.children, c) // do_notify_parent: auto-reaped
			delete(k.Procs, c.Pid)
			continue
		}
		code, status := int32(CldExited), int32(c.ExitStatus)
		if c.Signal != 0 {
			code, status = CldKilled, int32(c.Signal)
		}
		_ = reaper.postGroup(int(unix.SIGCHLD), Siginfo{Signo: int32(unix.SIGCHLD), Code: code,
			Pid: uint32(c.Pid), UID: uint32(unix.Getuid()), Status: status, FromKill: true})
	}
	p.Proc.children = nil
	k.cond.Broadcast() // a subreaper's wait may have a zombie to reap now
}

// SetSubreaper is PR_SET_CHILD_SUBREAPER; Subreaper is PR_GET's answer.
func (p *Process) SetSubreaper(on bool) {
	if k := p.Proc.K; k != nil {
		k.Mu.Lock()
		p.Proc.Group.subreaper = on
		k.Mu.Unlock()
	}
}

// Subreaper reports PR_GET_CHILD_SUBREAPER.
func (p *Process) Subreaper() bool {
	k := p.Proc.K
	if k == nil {
		return false
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	return p.Proc.Group.subreaper
}

// SetPdeathsig is PR_SET_PDEATHSIG (Kernel.Mu guards it against the
// parent's exit reading it).
func (p *Process) SetPdeathsig(sig int) {
	if k := p.Proc.K; k != nil {
		k.Mu.Lock()
		defer k.Mu.Unlock()
	}
	p.Attrs.Pdeathsig = sig
}

// Pdeathsig is PR_GET_PDEATHSIG's answer.
func (p *Process) Pdeathsig() int {
	if k := p.Proc.K; k != nil {
		k.Mu.Lock()
		defer k.Mu.Unlock()
	}
	return p.Attrs.Pdeathsig
}

// pokeIntr wakes a wait of p's that must notice a signal (futex, sleeps,
// and host calls that block: WaitReady). It makes the channel when no
// wait has yet: a waiter checks for signals before it takes the channel
// (intr), so a post between the two must leave its token there.
func (p *Process) pokeIntr() {
	p.Proc.SigMu.Lock()
	if p.Proc.intrCh == nil {
		p.Proc.intrCh = make(chan struct{}, 1)
	}
	ch, efd := p.Proc.intrCh, p.Proc.wakeFD
	p.Proc.SigMu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
	}
	if efd > 0 {
		var one = [8]byte{1}
		_, _ = unix.Write(efd, one[:])
	}
}

// WaitOpen implements fs.FileOwner: open runs on another thread while p
// waits for it or a signal; on a signal, release makes open return, both
// fds are closed and the call is ErrRestart (restarted or EINTR).
func (p *Process) WaitOpen(open, release func() (int, error)) (int, error) {
	if p.Proc.K == nil {
		return open()
	}
	if p.wouldWait() {
		return -1, ErrWouldWait
	}
	type result struct {
		fd  int
		err error
	}
	done := make(chan result, 1)
	go func() {
		fd, err := open()
		done <- result{fd, err}
	}()
	p.SleepBegin()
	defer p.SleepEnd()
	for {
		select {
		case r := <-done:
			return r.fd, r.err
		case <-p.intr():
			if !p.Interrupted() {
				continue
			}
			partner, perr := release()
			r := <-done // released by the partner (or it had just finished)
			if perr == nil {
				unix.Close(partner)
			}
			if r.err == nil {
				unix.Close(r.fd)
			}
			return -1, ErrRestart
		}
	}
}

// ErrRestart is Linux's ERESTARTSYS: a blocking call interrupted by a
// signal, restarted or failed with EINTR depending on the handler
// (table.go).
var ErrRestart = errors.New("interrupted: restart or EINTR")

// ErrRestartNoIntr ends a call that runs again once the signal that
// interrupted it was taken, whatever its handler's flags (Linux's
// ERESTARTNOINTR: fork).
var ErrRestartNoIntr = errors.New("interrupted: restart")

// delayForForks notes sig, sent to several processes at once (a group, a
// session, all), for the forks of t's group under way: their children
// get it too (threadGroup.forks). Kernel.Mu held.
func delayForForks(t *Process, sig int) {
	if g := t.Proc.Group; g != nil {
		for set := range g.forks {
			*set |= Bit(sig)
		}
	}
}

// ErrWouldWait ends a call that would wait while p.NoWait is set (the
// fast syscall path: vmm/fast.go), at a point where it has had no effect.
var ErrWouldWait = errors.New("would wait (fast path)")

// wouldWait reports, for a call about to wait, whether it must not
// (p.NoWait), and notes it.
func (p *Process) wouldWait() bool {
	if p.NoWait {
		p.WouldWait = true
	}
	return p.NoWait
}

// RefusesWait reports, for a call that would wait if waits() (asked only
// under NoWait: it may cost a look), whether it must not, noting it
// (WouldWait): the fast syscall path's server leaves the call, which has
// had no effect, to the task's thread (fs's FIFO opens).
func (p *Process) RefusesWait(waits func() bool) bool {
	return p.NoWait && waits() && p.wouldWait()
}

// Restartable reports whether the signal that will be delivered next lets
// the interrupted syscall restart (SA_RESTART, or no handler runs).
func (p *Process) Restartable() bool {
	ready := p.ready()
	for sig := 1; ready != 0; sig, ready = sig+1, ready>>1 {
		if ready&1 == 0 {
			continue
		}
		act := p.Sig.Act.Get(sig)
		if act.Handler == SigIgn || act.Handler == SigDfl {
			continue // nothing runs for it (or the process dies anyway)
		}
		return act.Flags&saRestart != 0
	}
	return true
}

// WaitReady blocks until host fd h is ready for events (POLLIN, POLLOUT)
// or a signal for p arrives while it waits (ErrRestart). Host calls that can block (a
// pipe, a terminal, a socket) wait here first, so a signal from another
// task is not held up behind them. Regular files, directories and
// non-blocking fds return at once.
func (p *Process) WaitReady(h int, events int16) error { return p.WaitReadyType(h, events, 0) }

// WaitReadyType is WaitReady for a host fd whose S_IFMT the caller knows
// (typ, from the open description; 0: not known, look): an open file
// description never changes type, so the look would tell nothing new.
func (p *Process) WaitReadyType(h int, events int16, typ uint32) error {
	if p.Proc.K == nil {
		return nil
	}
	if typ == 0 {
		var st unix.Stat_t
		if unix.Fstat(h, &st) != nil {
			return nil // let the call itself report it
		}
		typ = st.Mode & unix.S_IFMT
	}
	switch typ {
	case unix.S_IFREG, unix.S_IFDIR, unix.S_IFBLK:
		return nil
	}
	// Ready now (or an error poll reports: the call tells it): no
	// need to know the flags, whatever they are the call goes ahead.
	// Not under NoWait: the blocking call that follows a ready poll
	// still waits when another reader (writer) of the pipe took the
	// data (room) in between, which the fast path's server must never.
	if n, _ := unix.Poll([]unix.PollFd{{Fd: int32(h), Events: events}}, 0); n > 0 && !p.NoWait {
		return nil
	}
	fl, err := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK != 0 ||
		events == unix.POLLIN && fl&unix.O_ACCMODE == unix.O_WRONLY ||
		events == unix.POLLOUT && fl&unix.O_ACCMODE == unix.O_RDONLY {
		return nil // the call itself fails at once (EBADF) or does not block
	}
	if p.wouldWait() {
		return ErrWouldWait
	}
	wake := p.WakeFD()
	if wake < 0 {
		return nil
	}
	for {
		// A call that need not wait goes ahead even with a signal
		// pending, as on Linux (a pipe write with room, a read with
		// data: no EINTR); only a wait is interrupted.
		ready := []unix.PollFd{{Fd: int32(h), Events: events}}
		if n, _ := unix.Poll(ready, 0); n > 0 {
			return nil
		}
		if p.Interrupted() {
			return ErrRestart
		}
		fds := []unix.PollFd{{Fd: int32(h), Events: events}, {Fd: int32(wake), Events: unix.POLLIN}}
		if _, err := p.PollAsleep(fds, -1); err != nil && err != unix.EINTR {
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

// WakeFD returns p's wake-up eventfd (non-blocking), made on first use.
func (p *Process) WakeFD() int {
	p.Proc.SigMu.Lock()
	defer p.Proc.SigMu.Unlock()
	if p.Proc.wakeFD == 0 {
		fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			return -1
		}
		p.Proc.wakeFD = fd
	}
	return p.Proc.wakeFD
}

// si_code values for SIGCHLD, and sa_flags.
const (
	CldExited   = 1
	CldKilled   = 2
	saNocldwait = 2
)

// post queues sig for thread p from another task (or p itself) and wakes
// it: a sleeping waiter returns to check, a running vCPU is kicked
// (sigqueue.go's send, for signals that cannot fail: the kernel's own).
// Kernel.Mu must be held when k is non-nil.
func (p *Process) post(sig int, info Siginfo) { _ = p.send(sig, info, false) }

// SignalPending reports whether a signal waits that p would act on (for
// the VMM, after a kick).
func (p *Process) SignalPending() bool { return p.Interrupted() }

// Interrupted reports whether a signal is pending that p would act on (not
// blocked, not ignored): a blocking syscall must return EINTR for it.
func (p *Process) Interrupted() bool {
	if g := p.Proc.Group; g != nil && g.stopped.Load() {
		return true // the call restarts once the group continues
	}
	ready := p.ready() // sigqueue.go
	for sig := 1; ready != 0; sig, ready = sig+1, ready>>1 {
		if ready&1 == 0 {
			continue
		}
		h := p.Sig.Act.Get(sig).Handler
		if h != SigIgn && !(h == SigDfl && DefaultIgnored(sig)) {
			return true
		}
	}
	return false
}

// fatalPending reports whether p ends as it takes a pending signal:
// SIGKILL, or one it does not block whose action is the default one that
// ends the process (not a stop, not ignored). Linux makes such a signal
// a SIGKILL of the whole group as it is sent (complete_signal), so a
// fork it meets gives up; kshim acts on it only at delivery, so Fork
// asks this instead: a child born after kill(2) returned would outlive
// its parent's death by a signal that natively prevented its birth.
func (p *Process) fatalPending() bool {
	if p.killPending() {
		return true
	}
	ready := p.ready() // sigqueue.go
	for sig := 1; ready != 0; sig, ready = sig+1, ready>>1 {
		if ready&1 != 0 && !DefaultIgnored(sig) && !isStopSignal(sig) && p.Sig.Act.Get(sig).Handler == SigDfl {
			return true
		}
	}
	return false
}

func (p *Process) ZeroSiginfo(addr uint64) error {
	if addr == 0 {
		return nil
	}
	var si [128]byte
	_, err := p.MM.CopyOut(addr, si[:])
	return err
}

func (p *Process) WaitChild(pid, opts int, use *Rusage) (int, uint32, error) {
	return p.WaitChildOpts(pid, opts&unix.WNOHANG != 0, false,
		WaitWant{Exited: true, Stopped: opts&unix.WUNTRACED != 0, Continued: opts&unix.WCONTINUED != 0}, use)
}

// WaitWant is what a wait reports: exits, stops, continues.
type WaitWant struct{ Exited, Stopped, Continued bool }

// WaitChildOpts waits for a child matching pid (wait4's encoding: >0 that
// child, -1 any, 0 p's group, < -1 group -pid) to exit, stop or continue
// as want asks, and reaps an exited one unless nowait. It returns 0 with
// nohang when nothing is to be reported yet. use, when not nil, gets the
// reported child's resource use (its own and its reaped children's).
func (p *Process) WaitChildOpts(pid int, nohang, nowait bool, want WaitWant, use *Rusage) (int, uint32, error) {
	k := p.Proc.K
	if k == nil {
		return 0, 0, unix.ECHILD
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	for {
		matched := false
		for c := range p.Proc.children {
			switch {
			case pid > 0 && c.Pid != pid,
				pid == 0 && c.Proc.Pgid != p.Proc.Pgid,
				pid < -1 && c.Proc.Pgid != -pid:
				continue
			}
			matched = true
			if !c.Proc.zombie {
				if st, ok := c.stopState(want.Stopped, want.Continued, nowait); ok {
					if use != nil {
						*use = childUsage(c)
					}
					return c.Pid, st, nil
				}
				continue
			}
			if !want.Exited {
				continue
			}
			if use != nil {
				*use = childUsage(c)
			}
			if !nowait {
				p.reaped(c) // cputime.go: RUSAGE_CHILDREN
				delete(p.Proc.children, c)
				delete(k.Procs, c.Pid)
			}
			return c.Pid, c.Proc.waitStat, nil
		}
		if !matched {
			return 0, 0, unix.ECHILD
		}
		if nohang {
			return 0, 0, nil
		}
		if p.Interrupted() {
			return 0, 0, ErrRestart
		}
		p.SleepBegin()
		k.cond.Wait()
		p.SleepEnd()
	}
}

// signalTargets returns the processes kill(pid) reaches; Kernel.Mu held.
func (k *Kernel) signalTargets(from *Process, pid int) []*Process {
	var out []*Process
	switch {
	case pid > 0:
		if t := k.Procs[pid]; t != nil && !t.Proc.zombie {
			out = append(out, t)
		}
	case pid == -1:
		for _, t := range k.Procs {
			if t != from && !t.Proc.zombie {
				out = append(out, t)
			}
		}
	default:
		g := -pid
		if pid == 0 {
			g = from.Proc.Pgid
		}
		for _, t := range k.Procs {
			if t.Proc.Pgid == g && !t.Proc.zombie {
				out = append(out, t)
			}
		}
	}
	return out
}

// KillOthers implements kill(2) once processes exist.
func (p *Process) KillOthers(pid, sig int) (uint64, error) {
	if sig < 0 || sig > Nsig {
		return 0, unix.EINVAL
	}
	k := p.Proc.K
	k.Mu.Lock()
	targets := k.signalTargets(p, pid)
	if len(targets) == 0 {
		k.Mu.Unlock()
		return 0, unix.ESRCH
	}
	if sig != 0 {
		info := Siginfo{Signo: int32(sig), Code: SiUser, Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), FromKill: true}
		for _, t := range targets {
			_ = t.postGroup(sig, info) // SI_USER never fails
			if pid <= 0 {
				delayForForks(t, sig)
			}
		}
	}
	k.Mu.Unlock()
	return 0, nil
}

// Ppid is getppid(2)'s answer for p (also /proc/PID/status's PPid).
func (p *Process) Ppid() int {
	k := p.Proc.K
	if k == nil {
		return unix.Getppid()
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	// The process's parent, whichever thread asks: the leader's, which
	// a reparenting changes (a thread's own copy is its creator's at
	// clone, and the first process's threads have no parent in the
	// table: they answered 1).
	l := p
	if g := p.Proc.Group; g != nil && g.leader != nil {
		l = g.leader
	}
	if l.Proc.Parent != nil {
		return l.Proc.Parent.Pid
	}
	if l.Proc.first {
		// The first process's parent is whoever started kshim.
		return unix.Getppid()
	}
	return 1 // orphans belong to init
}

// ProcOrSelf is the process a pid argument names, 0 being p itself (nil:
// none). Kernel.Mu held.
func (k *Kernel) ProcOrSelf(p *Process, arg uint64) *Process {
	if pid := int(int32(arg)); pid != 0 {
		return k.Procs[pid]
	}
	return p
}

// ReturnWork reports whether p's return to user code has work that only
// the VMM's return does (DeliverPending): a signal it does not block
// (taken even when ignored), a group stop, a mask to restore, an exit.
// The fast syscall path asks it after each call it ran (vmm/fast.go).
func (p *Process) ReturnWork() bool {
	if p.Exited || p.Sig.RestoreMask {
		return true
	}
	if g := p.Proc.Group; g != nil && g.stopped.Load() {
		return true
	}
	return p.ready() != 0
}
