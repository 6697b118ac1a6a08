// limits.go: the controls a whole guest runs under (`kshim run`'s
// --max-tasks, --max-fds, --mem for buffers, --timeout): the Sandbox a
// Kernel carries, the task slots fork and clone take, and the guest-wide
// count of open fds.
//
// Invariants and locking:
//   - A guest has at most MaxTasks tasks: live threads, zombies not yet
//     reaped and clones in progress (PendingTasks), as Linux's pids cgroup
//     counts them; a clone beyond gets EAGAIN before anything is made.
//     PendingTasks is guarded by Kernel.Mu.
//   - Sandbox.mu guards fds and the pipe charges (pipebuf.go). It is
//     taken after FDTable.mu and Kernel.Mu and before ept.Memory.mu;
//     nothing else is taken with it held.
//   - fds counts the entries of every fd table attached to the sandbox:
//     +1 when an entry is installed, -1 when its host fd is closed. Every
//     entry's host fd is kshim's, so this bounds the host fds the guest
//     makes kshim hold.
package fs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Charger is the budget host buffers held for the guest are charged to:
// guest memory (ept.Memory), so --mem covers them too.
type Charger interface {
	Charge(bytes uint64) error
	Uncharge(bytes uint64)
}

// UseCharger is a Charger that also takes a charge past the budget
// (memory the host already holds for the guest: a tmpfs's pages, charged
// by use) and says how large the budget is (a tmpfs's default size).
type UseCharger interface {
	Charger
	ChargeOver(bytes uint64)
	Size() uint64
}

// Limits are a guest's limits (zero: the defaults below).
type Limits struct {
	MaxTasks int     // tasks (threads) alive or unreaped in the whole guest
	MaxFDs   int     // open fds in all of the guest's processes together
	Mem      Charger // what pipe buffers are charged to (nil: not charged)
}

// DefaultMaxTasks is --max-tasks' default: KVM's usual limit of vCPUs per
// VM (KVM_CAP_MAX_VCPUS), since every task is a vCPU.
const DefaultMaxTasks = 1024

// DefaultMaxFDs is --max-fds' default for a guest of maxTasks tasks:
// 65536, or less so that the guest's fds together with kshim's own (a
// vCPU fd and a wake-up eventfd per task, and a few more) fit in kshim's
// host RLIMIT_NOFILE, which every guest fd counts against.
func DefaultMaxFDs(maxTasks int) int {
	n := 65536
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur < 1<<30 {
		n = min(n, int(rl.Cur)-2*maxTasks-256)
	}
	return max(n, 64)
}

// Sandbox is the state of a guest's limits, shared by all its processes.
type Sandbox struct {
	Lim Limits

	PendingTasks int // clones between reserveTask and settle; Kernel.Mu

	mu    sync.Mutex
	fds   int // open fds in every table
	Pipes map[pipeKey]*pipeCharge

	UTS utsState // uts.go

	// PtyGen is guest pty number n's generation (a new master makes a
	// new one), taken before a master's host close; PtyHangup is told
	// that the master of that generation has had its last close (pty.go),
	// for the session side's SIGHUP. Both may be called with an fd
	// table's lock held: they take no lock of the kernel's but its own.
	PtyGen    func(n int) uint64
	PtyHangup func(n int, gen uint64)
}

// NewSandbox returns the state for a guest with limits l (zero fields get
// the defaults).
func NewSandbox(l Limits) *Sandbox {
	if l.MaxTasks <= 0 {
		l.MaxTasks = DefaultMaxTasks
	}
	if l.MaxFDs <= 0 {
		l.MaxFDs = DefaultMaxFDs(l.MaxTasks)
	}
	return &Sandbox{Lim: l, Pipes: map[pipeKey]*pipeCharge{}}
}

// FDs returns the number of open fds in the guest (for tests).
func (sb *Sandbox) FDs() int {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.fds
}

// addFD counts a new entry for f in the guest's tables (ENFILE when the
// guest holds MaxFDs and f is a new open file, EMFILE when it is another
// fd for one already open: Linux's system-wide limit counts open files,
// and only a new one can hit it) and takes a reference on f's pipe charge.
// A new host file is looked at once, with h its host fd, to find whether
// it is a pipe (pipebuf.go). With check false (an entry replacing
// another, which release uncounts) the limit is not checked.
func (sb *Sandbox) addFD(f *OpenFile, h int, check bool) error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if check && sb.fds >= sb.Lim.MaxFDs {
		if f != nil && !f.counted {
			return unix.ENFILE
		}
		return unix.EMFILE
	}
	if err := sb.lockedRef(f, h, false); err != nil {
		return err
	}
	sb.fds++
	return nil
}

// lockedRef takes a reference for one more entry on f's pipe charge,
// finding out first (f's first entry) whether f is a pipe: ENOMEM when it
// is one whose buffer does not fit (unless force). Sandbox.mu held.
func (sb *Sandbox) lockedRef(f *OpenFile, h int, force bool) error {
	if f == nil {
		return nil
	}
	if !f.counted {
		if f.Kind == KindHost && (f.Type == 0 || f.Type == unix.S_IFIFO) {
			c, err := sb.lockedPipeFor(h, force)
			if err != nil {
				return err
			}
			f.Pipe = c
		}
		f.counted = true
	}
	if f.Pipe != nil {
		f.Pipe.Refs++
	}
	return nil
}

// dropFD undoes addFD for one entry whose host fd is being closed.
func (sb *Sandbox) dropFD(f *OpenFile) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.fds--
	if f != nil && f.Pipe != nil {
		sb.lockedUnref(f.Pipe)
	}
}

// UtsLen is Linux's __NEW_UTS_LEN: a name is at most 64 bytes.
const UtsLen = 64

type utsState struct {
	Mu                   sync.Mutex
	Nodename, Domainname []byte // nil: the host's
}

// SetHostname sets the guest's nodename (--hostname); EINVAL when it is
// longer than Linux allows or holds a NUL.
func (sb *Sandbox) SetHostname(name string) error {
	if len(name) > UtsLen {
		return unix.EINVAL
	}
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return unix.EINVAL
		}
	}
	sb.UTS.Mu.Lock()
	sb.UTS.Nodename = []byte(name)
	sb.UTS.Mu.Unlock()
	return nil
}
