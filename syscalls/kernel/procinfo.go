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
package kernel

import (
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// ProcInfo is a snapshot of one process for /proc/PID.
type ProcInfo struct {
	Pid, Ppid, Pgid, Sid int
	// State is Linux's letter: R running (in the guest, or the reader
	// itself), S sleeping (in a syscall), T stopped, Z zombie.
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
	Pending    uint64
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
	// threads' included (cputime.go).
	UTime, STime time.Duration
	Zombie, Self bool
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
// when mem). ok is false when q has been reaped meanwhile.
func (self *Process) Info(q *Process, mem bool) (ProcInfo, bool) {
	k := self.Proc.K
	if k == nil { // no table: only self exists
		q = self
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
	}
	in := ProcInfo{Pid: q.Pid, Comm: q.CommName(), Exe: q.Exe, ExeHost: q.ExeHostPath,
		Nice: q.NiceOf(), Started: q.Started, Zombie: q.Proc.zombie, Self: q.Pid == self.Pid,
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
	in.Threads = 1
	if g != nil && len(g.threads) > 0 {
		in.Threads = len(g.threads)
		for t := range g.threads {
			in.Tids = append(in.Tids, t.Tid)
		}
		sort.Ints(in.Tids)
	} else {
		in.Tids = []int{q.Pid}
	}
	switch {
	case q.Proc.zombie:
		in.State = 'Z'
	case g != nil && g.stopped.Load():
		in.State = 'T'
	case in.Self || !q.InSyscall.Load():
		in.State = 'R'
	default:
		in.State = 'S'
	}
	if q.Proc.zombie || q.Proc.mmGone {
		in.ExitCode = q.Proc.waitStat
		return in, true
	}
	in.Umask = q.FS.Umask()
	in.FDSize = q.Files.MaxFDSet()
	if g != nil {
		u := g.usage() // cputime.go
		in.UTime, in.STime = u.User, u.Sys
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
	in.Pending, in.Blocked = q.pending() // its own and the process's (sigqueue.go)
	in.SigQueued = uint64(max(queued.Load(), 0))
	if l, err := q.Rlimit(unix.RLIMIT_SIGPENDING); err == nil {
		in.SigLimit = l.Cur
	}
	if mem && q.MM != nil {
		in.HasMM = true
		for _, v := range q.MM.VMAs() {
			in.VSize += v.End - v.Start
		}
		in.RSS = q.MM.Present()
		in.Cmdline = q.MM.Cmdline()
	}
	return in, true
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
