// procinfo.go: what kshim's /proc (package proc) shows of any guest
// process, /proc/PID for every pid of the table, not only the caller's.
//
// Invariants:
//   - Only the guest's processes are shown (the table's pids), never the
//     host's.
//   - Info is taken under Kernel.Mu, which exec holds to swap a process's
//     memory manager and names (Exe, Comm: SetIdent) and exit to mark its
//     memory manager gone, so an MM read here is never a destroyed one;
//     guestmm's lock comes after Kernel.Mu in the lock order, and its
//     readers (Cmdline, Resident, VMAs) take it. A zombie's or an exiting
//     process's memory is not read: its cmdline is empty and its sizes 0,
//     as Linux's for a process whose mm is gone.
//   - Signal dispositions are read as exit reads a parent's (the owner
//     writes them without a lock; one word each).
//   - A snapshot shows one task of the process (TaskInfo): its name,
//     state, own pending and blocked signals and CPU time are that
//     thread's, as Linux's /proc/PID/task/TID and /proc/TID show them; the
//     rest is the process's. /proc/PID shows its leader.
//   - A thread's name (Comm) changes under Kernel.Mu, by the thread itself
//     (PR_SET_NAME, exec) or another of its process's (its /proc comm,
//     SetTaskComm), so a read outside the lock is ThreadName.
package kernel

import (
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// ProcInfo is a snapshot of one process for /proc/PID, as one of its
// tasks (Tid) sees it.
type ProcInfo struct {
	Pid, Ppid, Pgid, Sid int
	// Tid is the task shown: the leader's (Pid) for /proc/PID, a thread's
	// for /proc/PID/task/TID and /proc/TID. Comm, State, Pending, Blocked
	// and TaskUTime, TaskSTime are that task's.
	Tid int
	// State is Linux's letter: R running (in the guest, or the reader
	// itself), S sleeping (in a syscall), T stopped, Z zombie (the
	// process, or a leader that ended before its other threads).
	State      byte
	Comm, Exe  string
	ExeHost    string
	Threads    int
	Tids       []int
	Nice       int
	Started    time.Time
	HasMM      bool
	VSize, RSS uint64 // bytes, pages
	Cmdline    []byte
	// Pending is the task's own pending signals (SigPnd), ShdPending
	// the process's (ShdPnd); Blocked is the task's mask.
	Pending, ShdPending uint64
	// SigQueued is the guest's queued siginfos (Linux counts its user's,
	// all guest tasks being one user), SigLimit the task's
	// RLIMIT_SIGPENDING: status's SigQ.
	SigQueued, SigLimit uint64
	Blocked             uint64
	Ignored             uint64
	Caught              uint64
	ExitSignal          int
	ExitCode            uint32 // a zombie's wait status
	Umask               uint32
	FDSize              int
	// UTime, STime are the process's user and system time, its ended
	// threads' included (cputime.go); TaskUTime, TaskSTime the task's own.
	UTime, STime         time.Duration
	TaskUTime, TaskSTime time.Duration
	Zombie               bool
	// TaskGone: the task shown has ended (a leader before its other
	// threads), so it has no umask, files or memory to show.
	TaskGone bool
	// TtyNr is the controlling terminal's device number as /proc/PID/stat
	// encodes it (0: none, or a terminal kshim was handed), Tpgid its
	// foreground group (-1: none); tty.go.
	TtyNr, Tpgid int
}

// SetIdent runs f, which changes p's Exe or Comm, under Kernel.Mu.
func (p *Process) SetIdent(f func()) {
	k := p.Proc.K
	if k == nil {
		f()
		return
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	f()
}

// PIDs are the guest's process ids (thread group leaders, zombies too),
// in order.
func (k *Kernel) PIDs() []int {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	out := make([]int, 0, len(k.Procs))
	for pid := range k.Procs {
		out = append(out, pid)
	}
	sort.Ints(out)
	return out
}

// Lookup is the process with id pid (a leader), or nil.
func (k *Kernel) Lookup(pid int) *Process {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	return k.Procs[pid]
}

// Info snapshots q for a /proc reader, self (cmdline and memory sizes only
// when mem), as /proc/PID shows it: as its leader. ok is false when q has
// been reaped meanwhile.
func (self *Process) Info(q *Process, mem bool) (ProcInfo, bool) {
	return self.TaskInfo(q, 0, mem)
}

// TaskInfo is Info as task tid of q's process shows it (0: its leader);
// ok is false when either is gone, or tid is no thread of q's.
func (self *Process) TaskInfo(q *Process, tid int, mem bool) (ProcInfo, bool) {
	k := self.Proc.K
	t := self
	if k == nil { // no table: only self exists
		q = self
		if tid != 0 && tid != self.Tid {
			return ProcInfo{}, false
		}
	} else {
		k.Mu.Lock()
		defer k.Mu.Unlock()
		if l := k.Procs[q.Pid]; l != q {
			// A thread other than the leader reads its own process
			// (/proc/self is the thread group's): the leader's entry.
			if l == nil || q.Proc.Group == nil || l.Proc.Group != q.Proc.Group {
				return ProcInfo{}, false
			}
			q = l
		}
		if t = k.taskOf(q, tid); t == nil {
			return ProcInfo{}, false
		}
	}
	in := ProcInfo{Pid: q.Pid, Tid: t.Tid, Comm: t.CommName(), Exe: q.Exe, ExeHost: q.ExeHostPath,
		Nice: q.NiceOf(), Started: q.Started, Zombie: q.Proc.zombie,
		Pgid: q.Proc.Pgid, Sid: q.Proc.Sid, ExitSignal: q.Proc.exitSignal, Tpgid: -1}
	if k != nil && !q.Proc.zombie {
		in.TtyNr, in.Tpgid = k.cttyNr(q)
	}
	switch {
	case q.Proc.Parent != nil:
		in.Ppid = q.Proc.Parent.Pid
	case q.Proc.first || k == nil:
		in.Ppid = unix.Getppid()
	default:
		in.Ppid = 1
	}
	g := q.Proc.Group
	// The leader's thread ended before the others (pthread_exit from
	// main): Linux keeps it as a zombie task, counted and listed.
	leaderGone := g != nil && len(g.threads) > 0 && !g.threads[q]
	in.Threads = 1
	if g != nil && len(g.threads) > 0 {
		in.Threads = len(g.threads)
		for t := range g.threads {
			in.Tids = append(in.Tids, t.Tid)
		}
		if leaderGone {
			in.Threads++
			in.Tids = append(in.Tids, q.Pid)
		}
		sort.Ints(in.Tids)
	} else {
		in.Tids = []int{q.Pid}
	}
	switch {
	case q.Proc.zombie, leaderGone && t == q:
		in.State = 'Z'
	case g != nil && g.stopped.Load():
		in.State = 'T'
	case t == self || t.sleeping.Load() == 0:
		in.State = 'R'
	default:
		in.State = 'S'
	}
	if q.Proc.zombie || q.Proc.mmGone {
		in.ExitCode = q.Proc.waitStat
		return in, true
	}
	in.TaskGone = leaderGone && t == q // no fs, files or mm of its own
	if !in.TaskGone {
		in.Umask = q.FS.Umask()
		in.FDSize = q.Files.MaxFDSet()
	}
	if g != nil {
		u := g.usage() // cputime.go
		in.UTime, in.STime = u.User, u.Sys
		if g.threads[t] {
			u = t.taskUsage()
			in.TaskUTime, in.TaskSTime = u.User, u.Sys
		}
	}
	if q.Sig.Act != nil {
		acts := q.Sig.Act.All()
		for sig := 1; sig <= Nsig; sig++ {
			switch acts[sig].Handler {
			case SigDfl:
			case SigIgn:
				in.Ignored |= Bit(sig)
			default:
				in.Caught |= Bit(sig)
			}
		}
	}
	in.Pending, in.ShdPending, in.Blocked = t.sigState()
	in.SigQueued = uint64(max(queued.Load(), 0))
	if l, err := q.Rlimit(unix.RLIMIT_SIGPENDING); err == nil {
		in.SigLimit = l.Cur
	}
	if mem && q.MM != nil && !in.TaskGone {
		in.HasMM = true
		for _, v := range q.MM.VMAs() {
			in.VSize += v.End - v.Start
		}
		in.RSS = q.MM.Present()
		in.Cmdline = q.MM.Cmdline()
	}
	return in, true
}

// taskOf is thread tid of leader q's process (0: q itself), or nil.
// Kernel.Mu held.
func (k *Kernel) taskOf(q *Process, tid int) *Process {
	if tid == 0 || tid == q.Pid {
		return q
	}
	t := k.Threads[tid]
	if t == nil || t.Proc.Group == nil || t.Proc.Group != q.Proc.Group {
		return nil
	}
	return t
}

// LookupThread is the leader of the process whose thread tid is, when
// that thread is not its leader (/proc/TID of such a thread), or nil.
func (k *Kernel) LookupThread(tid int) *Process {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	t := k.Threads[tid]
	if t == nil || t.Tid == t.Pid || t.Proc.Group == nil {
		return nil
	}
	return t.Proc.Group.leader
}

// sigState is t's own pending signals, its process's and t's mask
// (status's SigPnd, ShdPnd, SigBlk). Kernel.Mu held; lock order as
// pending's (sigqueue.go).
func (t *Process) sigState() (own, shared, mask uint64) {
	t.Proc.SigMu.Lock()
	defer t.Proc.SigMu.Unlock()
	if g := t.Proc.Group; g != nil {
		g.sigMu.Lock()
		shared = g.shared.set
		g.sigMu.Unlock()
	}
	return t.Sig.pend.set, shared, t.Sig.Mask
}

// ThreadName is p's name (CommName) read under Kernel.Mu: another thread
// of its process may rename it (SetTaskComm).
func (p *Process) ThreadName() string {
	var c string
	p.SetIdent(func() { c = p.CommName() })
	return c
}

// SetTaskComm names thread tid of q's process (0: its leader; q nil: p's
// own process), for p writing that thread's /proc comm: Linux's
// comm_write, which renames only a thread of the writer's own process
// (EINVAL for another's) and ESRCH once the thread is gone.
func (p *Process) SetTaskComm(q *Process, tid int, name []byte) error {
	if q == nil {
		q = p
	}
	k := p.Proc.K
	if k == nil {
		if q != p || tid != 0 && tid != p.Tid {
			return unix.ESRCH
		}
		p.Comm = append([]byte{}, name...)
		return nil
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	l := k.Procs[q.Pid]
	if l == nil || l.Proc.Group == nil || l.Proc.Group != q.Proc.Group || l.Proc.zombie {
		return unix.ESRCH
	}
	t := k.taskOf(l, tid)
	if t == nil {
		return unix.ESRCH
	}
	if t.Proc.Group != p.Proc.Group {
		return unix.EINVAL
	}
	t.Comm = append([]byte{}, name...) // non-nil even when empty
	return nil
}

// Peek runs f with q held still for reader p, for the /proc/PID files
// that look into another process (exe, cwd, root, fd/, fdinfo/, maps,
// environ, mounts): under Kernel.Mu, with q still the table's and neither
// a zombie nor exiting, so its memory manager, fd table and fs context
// are not torn down until f returns (exit marks mmGone under this lock
// before it closes them, exec swaps the MM under it). f must only copy
// (dup host fds, read strings, walk VMAs) and take no lock but the
// FDTable's, guestmm's and fs's cwdMu, which come after Kernel.Mu; it
// must not block (no open of what it found: the caller does that after).
//
// Errors as Linux's: ESRCH when q has been reaped, ENOENT when it has no
// address space, files or fs any more (a zombie), EACCES when p may not
// look into q: the guest's processes all have kshim's identity, so what
// ptrace_may_access(PTRACE_MODE_READ) checks for them is that q's address
// space is dumpable (PR_SET_DUMPABLE), unless q is p's own process; the
// guest has no CAP_SYS_PTRACE.
func (p *Process) Peek(q *Process, f func() error) error {
	k := p.Proc.K
	if k == nil {
		if q != p {
			return unix.ESRCH
		}
		return f()
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	if k.Procs[q.Pid] != q {
		return unix.ESRCH
	}
	if q.Proc.zombie || q.Proc.mmGone {
		return unix.ENOENT
	}
	if q.Pid != p.Pid && !q.MM.Dumpable() {
		return unix.EACCES
	}
	return f()
}

// MayPeek says whether p may look into q (Peek's access rule alone), for
// a listing's mode bits and owners; false once q is gone.
func (p *Process) MayPeek(q *Process) bool {
	return p.Peek(q, func() error { return nil }) == nil
}

// DumpOwner says whether q's /proc/PID files (but its 0555 directories)
// belong to root rather than the identity: Linux's task_dump_owner, for a
// process that is not dumpable or has no address space (a zombie).
func (p *Process) DumpOwner(q *Process) bool {
	k := p.Proc.K
	if k != nil {
		k.Mu.Lock()
		defer k.Mu.Unlock()
		if k.Procs[q.Pid] != q {
			return false
		}
	}
	return q.Proc.zombie || q.Proc.mmGone || !q.MM.Dumpable()
}
