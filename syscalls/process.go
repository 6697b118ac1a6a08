// Package syscalls is kshim's Linux personality: the syscall table and its
// handlers, signals and the per-process state they act on. Nothing here
// touches KVM: the VMM hands in the user registers and an Arch for the few
// processor settings a syscall changes.
//
// Invariants:
//   - Every guest pointer is untrusted: it reaches memory only through
//     guestmm's CopyIn/CopyOut/ReadString, which check the range map and
//     protections and return EFAULT.
//   - A syscall either completes or returns an errno; it never leaves
//     partially applied state (guestmm guarantees this for memory).
//   - An unimplemented syscall returns ENOSYS and is logged once.
package syscalls

import (
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"kshim/guestmm"
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

// Process is one guest process.
type Process struct {
	fsTask // memory, fd table, root and cwd (fs*.go)
	Arch   Arch
	Log    *logrus.Logger
	// Exe is the absolute path of the program (/proc/self/exe).
	Exe string
	// comm is the name PR_SET_NAME gave the thread (nil: the program's
	// base name); commName in misc.go.
	comm []byte
	// attrs are the personality and priorities a child inherits
	// (misc.go); Kernel.mu guards the priorities.
	attrs procAttrs
	// Pid is the thread group's id (getpid), Tid this thread's (gettid).
	Pid, Tid int
	// PhysMem is the guest's physical memory, for /proc/meminfo (nil:
	// MemTotal is 0).
	PhysMem interface {
		Size() uint64
		Used() uint64
	}

	started time.Time // for the times of generated /proc entries
	sig     signals
	tidAddr uint64
	warned  map[uint64]bool
	// warnedWhat: features logged as unimplemented (unimplemented).
	warnedWhat map[string]bool

	rlimits    map[int]unix.Rlimit
	robustList uint64
	rseq       uint64
	rseqLen    uint32
	rseqSig    uint32

	proc procState // its place in the process table (task.go)
	// exeHostPath is the host path of the program when Exe (the guest's
	// name for it) cannot be opened on the host as is.
	exeHostPath string

	// Exited is set when the process has ended: with ExitStatus, or
	// killed by Signal.
	Exited     bool
	ExitStatus int
	Signal     unix.Signal
}

// NewProcess creates a process whose fds 0, 1, 2 are the VMM's and whose
// root is the host's / read-only (SetFiles changes that).
func NewProcess(mm *guestmm.MM, arch Arch, exe string, log *logrus.Logger) *Process {
	p := &Process{
		fsTask: fsTask{MM: mm, files: newStdioTable()},
		Arch:   arch, Log: log, Exe: exe, Pid: unix.Getpid(), Tid: unix.Getpid(),
		started: time.Now(),
		warned:  map[uint64]bool{},
	}
	p.owner = p
	p.sig.act = new([nsig + 1]sigaction)
	if err := p.SetFiles(Files{}); err != nil {
		log.WithError(err).Warn("cannot open / for the guest: every path lookup fails")
	}
	return p
}

// Close releases the process's host resources (fds, root, cwd).
func (p *Process) Close() {
	p.files.CloseAll()
	p.fs.close()
}
