// Package kernel holds the guest's kernel objects: processes (Process, one
// per task, each on a vCPU of its own) and the process table (Kernel),
// fork, exit and wait, threads, signals, futexes, interval and POSIX
// timers, job control and terminals' foreground groups, rlimits and task
// limits, the OOM killer, the UTS names, and exec and the program loader;
// kshim's /proc is package proc, reached through ProcFS. Nothing here
// touches KVM: the VMM hands in the user registers (Regs) and an Arch for
// the few processor settings a syscall changes, and provides vCPUs
// through Host and Task.
//
// A Process embeds fs.Task, its file side, and implements fs.FileOwner, the
// only way package fs reaches back up. Each file's head gives its
// invariants; the main ones and the lock order are task.go's: Kernel.Mu,
// then a Process's SigMu (then its thread group's sigMu, sigqueue.go),
// then guestmm, then ept.Memory; nothing is held
// while the guest runs or across a blocking host call, except that waiters
// sleep on Kernel.cond. Futexes take fmu before the memory manager's lock
// (futex.go); timers take Kernel.Mu, then threadGroup.Tmu (timers.go).
// A process's dispositions (Actions, signal.go) have a leaf lock of their
// own, taken under any of these.
package kernel

import (
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"kshim/guestmm"
	"kshim/syscalls/fs"
)

// Regs is the user register state, laid out as KVM's struct kvm_regs.
type Regs struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	RIP, RFLAGS                            uint64
}

// Arch is what a syscall may change of the vCPU besides Regs.
type Arch interface {
	SetFSBase(uint64) error
	SetGSBase(uint64) error
	FSBase() uint64
	GSBase() uint64
	// SaveFPU returns the x87/SSE state in fxsave format (512 bytes);
	// RestoreFPU loads it back.
	SaveFPU() ([]byte, error)
	RestoreFPU([]byte) error
	// ResetFPU loads the initial FPU state (a signal handler's).
	ResetFPU() error
}

// FullFPU is an Arch that can give a new task the whole FPU state of the
// task that made it (the AVX registers besides the fxsave area), as
// Linux's fpu_clone does (RestoreFPU takes what SaveAllFPU returns), and
// a new image the initial state of all of it.
type FullFPU interface {
	SaveAllFPU() ([]byte, error)
	// InitFPU loads the initial state of every component (execve).
	InitFPU() error
}

// XFrameFPU is a FullFPU whose signal frames carry the XSAVE state
// (signal.go): XFrame gives the components and the image size (0, 0:
// fxsave-only frames), SaveXFrame the image, RestoreXFrame loads a
// frame's image (512 bytes: fxsave only) with the requested components,
// the others in their initial state.
type XFrameFPU interface {
	FullFPU
	XFrame() (features uint64, size int)
	SaveXFrame() ([]byte, error)
	RestoreXFrame(img []byte, rfbm uint64) error
}

// Process is one guest process.
type Process struct {
	fs.Task // memory, fd table, root and cwd (fs*.go)
	// ProcFS is kshim's /proc; a fork or a thread shares its creator's.
	ProcFS ProcFS
	Arch   Arch
	Log    *logrus.Logger
	// Exe is the absolute path of the program (/proc/self/exe).
	Exe string
	// Comm is the name PR_SET_NAME gave the thread (nil: the program's
	// base name); CommName in misc.go. Exe and Comm change under
	// Kernel.Mu (SetIdent), which /proc readers of other processes hold;
	// another thread may rename this one (its /proc comm), so a read
	// outside that lock is ThreadName (procinfo.go).
	Comm []byte
	// Attrs are the personality and priorities a child inherits
	// (misc.go); Kernel.Mu guards the priorities.
	Attrs procAttrs
	// Pid is the thread group's id (getpid), Tid this thread's (gettid).
	Pid, Tid int
	// PhysMem is the guest's physical memory, for /proc/meminfo (nil:
	// MemTotal is 0).
	PhysMem interface {
		Size() uint64
		Used() uint64
	}

	Started time.Time // for the times of generated /proc entries
	// sleeping counts the waits of this task's under way (SleepBegin):
	// /proc/PID/stat shows it sleeping (S) only then, running (R) in the
	// guest or in the rest of a syscall, as Linux does. Programs poll for
	// S to know a waiter waits before they wake it (sysv_msg), so a task
	// merely in a syscall must not show it.
	sleeping atomic.Int32
	// NoWait is set while the fast syscall path's server runs a call for
	// the task (vmm/fast.go): a wait the call would begin ends it at once,
	// before the call has any effect (ErrWouldWait), and sets WouldWait,
	// so the server leaves the call to the task's own thread. Both are
	// owned by whoever runs the task's calls.
	NoWait, WouldWait bool
	Sig               signals
	TidAddr           uint64
	// Warned: what was logged once (WarnOnce), by a key the caller makes
	// of a guest-chosen number.
	Warned map[uint64]bool
	// warnedWhat: features logged as unimplemented (unimplemented).
	warnedWhat map[string]bool
	// procNesting: LookupProc calls under way on the task's goroutine.
	procNesting int

	Rlimits    map[int]unix.Rlimit
	RobustList uint64
	Rseq       uint64
	RseqLen    uint32
	RseqSig    uint32

	Proc procState // its place in the process table (task.go)
	// Acct is the task's CPU time and resource use (cputime.go).
	Acct cpuAcct
	// exeHostPath is the host path of the program when Exe (the guest's
	// name for it) cannot be opened on the host as is.
	ExeHostPath string

	// Exited is set when the process has ended: with ExitStatus, or
	// killed by Signal.
	Exited     bool
	ExitStatus int
	Signal     unix.Signal
}

// ProcFS is kshim's /proc (package proc), which a process's file side
// reaches through the fs.FileOwner methods below: it generates the tree
// from the process table, above this package.
type ProcFS interface {
	Lookup(p *Process, comps []string, flags int, mode uint32) (fs.Resolved, error)
	// LookupSys is Lookup in kshim's /sys (its nodes work as /proc's).
	LookupSys(p *Process, comps []string, flags int, mode uint32) (fs.Resolved, error)
	// LookupMqueue is Lookup in the mqueue file system mounted at dest.
	LookupMqueue(p *Process, dest string, comps []string, flags int, mode uint32) (fs.Resolved, error)
	Stat(p *Process, n *fs.ProcNode) unix.Stat_t
	Open(p *Process, n *fs.ProcNode, flags int) (int, *fs.OpenFile, error)
	Dirents(p *Process, n *fs.ProcNode) []fs.ProcDirent
}

// LookupProc looks up the components after "/proc" in kshim's /proc.
// maxWarned bounds Warned: its keys are numbers the guest picks (syscall
// numbers, ioctl requests, prctl options), and one entry for each number
// tried grew kshim by ~60 bytes a call (135 MiB after 2 million unknown
// syscall numbers), host memory --mem does not bound. Past it nothing
// new is logged.
const maxWarned = 256

// WarnOnce reports whether key is new, marking it: the caller logs the
// first use of something unimplemented, once per key, for at most
// maxWarned keys per task.
func (p *Process) WarnOnce(key uint64) bool {
	if p.Warned[key] || len(p.Warned) >= maxWarned {
		return false
	}
	if p.Warned == nil {
		p.Warned = map[uint64]bool{}
	}
	p.Warned[key] = true
	return true
}

// maxProcNesting bounds lookups in /proc started while one runs (a
// link there, /proc/self/fd/N, cwd, /dev/fd, leads to a walk that may
// reach /proc again): each level follows at least one link, so past
// Linux's 40 (MAXSYMLINKS) it is ELOOP. A symlink "loop" ->
// "/dev/fd/N/loop" in the directory on fd N recursed until kshim itself
// ran out of fds (EMFILE for every process, one held per level).
const maxProcNesting = 40

// LookupProc looks up the components after "/proc" in kshim's /proc.
func (p *Process) LookupProc(comps []string, flags int, mode uint32) (fs.Resolved, error) {
	if p.procNesting >= maxProcNesting {
		return fs.Resolved{FD: -1}, unix.ELOOP
	}
	p.procNesting++
	defer func() { p.procNesting-- }()
	return p.ProcFS.Lookup(p, comps, flags, mode)
}

// LookupSys looks up the components after "/sys" in kshim's /sys.
func (p *Process) LookupSys(comps []string, flags int, mode uint32) (fs.Resolved, error) {
	return p.ProcFS.LookupSys(p, comps, flags, mode)
}

// LookupMqueue looks up comps in the mqueue file system mounted at dest.
func (p *Process) LookupMqueue(dest string, comps []string, flags int, mode uint32) (fs.Resolved, error) {
	return p.ProcFS.LookupMqueue(p, dest, comps, flags, mode)
}

// ProcStat is the stat of a /proc node.
func (p *Process) ProcStat(n *fs.ProcNode) unix.Stat_t { return p.ProcFS.Stat(p, n) }

// OpenNode gives a /proc node a host fd.
func (p *Process) OpenNode(n *fs.ProcNode, flags int) (int, *fs.OpenFile, error) {
	return p.ProcFS.Open(p, n, flags)
}

// ProcDirents lists a /proc directory.
func (p *Process) ProcDirents(n *fs.ProcNode) []fs.ProcDirent { return p.ProcFS.Dirents(p, n) }

// NewProcess creates a process whose fds 0, 1, 2 are the VMM's and whose
// root is the host's / read-only (SetFiles changes that).
func NewProcess(mm *guestmm.MM, arch Arch, exe string, log *logrus.Logger, procfs ProcFS) *Process {
	p := newProcess(mm, arch, exe, log, procfs)
	if err := p.SetFiles(fs.Files{}); err != nil {
		log.WithError(err).Warn("cannot open / for the guest: every path lookup fails")
	}
	return p
}

// NewProcessFiles is NewProcess with files' root and mounts from the
// start: one SetFiles, not the host's / first and then these (~0.1 ms of
// kshim's start-up). On an error p has no root (every lookup fails) and
// is still to be Closed.
func NewProcessFiles(mm *guestmm.MM, arch Arch, exe string, log *logrus.Logger, procfs ProcFS, files fs.Files) (*Process, error) {
	p := newProcess(mm, arch, exe, log, procfs)
	return p, p.SetFiles(files)
}

func newProcess(mm *guestmm.MM, arch Arch, exe string, log *logrus.Logger, procfs ProcFS) *Process {
	p := &Process{
		Task:   fs.Task{MM: mm, Files: fs.NewStdioTable()},
		ProcFS: procfs,
		Arch:   arch, Log: log, Exe: exe, Pid: unix.Getpid(), Tid: unix.Getpid(),
		Started: time.Now(),
		Warned:  map[uint64]bool{},
	}
	p.Owner = p
	p.Sig.Act = new(Actions)
	return p
}

// Close releases the process's host resources (fds, root, cwd).
func (p *Process) Close() {
	p.Files.CloseAll()
	p.FS.Close()
}
