// limits.go: the controls a whole guest runs under (`kshim run`'s
// --max-tasks, --max-fds, --mem for buffers, --timeout): the Sandbox a
// Kernel carries, the task slots fork and clone take, and the guest-wide
// count of open fds.
//
// Invariants and locking:
//   - A guest has at most MaxTasks tasks: live threads, zombies not yet
//     reaped and clones in progress (pendingTasks), as Linux's pids cgroup
//     counts them; a clone beyond gets EAGAIN before anything is made.
//     pendingTasks is guarded by Kernel.mu.
//   - Sandbox.mu guards fds and the pipe charges (pipebuf.go). It is
//     taken after FDTable.mu and Kernel.mu and before ept.Memory.mu;
//     nothing else is taken with it held.
//   - fds counts the entries of every fd table attached to the sandbox:
//     +1 when an entry is installed, -1 when its host fd is closed. Every
//     entry's host fd is kshim's, so this bounds the host fds the guest
//     makes kshim hold.
package syscalls

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
	lim Limits

	pendingTasks int // clones between reserveTask and settle; Kernel.mu

	mu    sync.Mutex
	fds   int // open fds in every table
	pipes map[pipeKey]*pipeCharge

	uts utsState // uts.go
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
	return &Sandbox{lim: l, pipes: map[pipeKey]*pipeCharge{}}
}

// SetSandbox puts the guest under sb: the processes already in the table
// (the first one) have their fds counted and their pipes charged, and
// their memory manager calls the OOM killer when a copy runs out.
func (k *Kernel) SetSandbox(sb *Sandbox) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sb = sb
	for _, p := range k.procs {
		p.files.attach(sb)
		p.MM.OnOOM = k.copyOOM // oom.go; forks and execs inherit it
	}
}

// sandbox is the guest's limits for p's file side (nil: none).
func (p *Process) sandbox() *Sandbox {
	if k := p.proc.k; k != nil {
		return k.sb
	}
	return nil
}

// FDs returns the number of open fds in the guest (for tests).
func (sb *Sandbox) FDs() int {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.fds
}

// taskSlot is a task reserved by a clone in progress.
type taskSlot struct {
	k    *Kernel
	held bool
}

// reserveTask takes a task slot for a clone (EAGAIN when the guest has
// MaxTasks already). The caller settles it (under Kernel.mu) once the new
// task is in the table, and cancels it (a no-op after settle) on return.
func (k *Kernel) reserveTask() (*taskSlot, error) {
	s := &taskSlot{k: k}
	if k.sb == nil {
		return s, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	n := len(k.threads) + k.sb.pendingTasks
	for _, q := range k.procs {
		if q.proc.zombie {
			n++
		}
	}
	if n >= k.sb.lim.MaxTasks {
		return nil, unix.EAGAIN
	}
	k.sb.pendingTasks++
	s.held = true
	return s, nil
}

// settle releases the reservation; the task is in the table now.
// Kernel.mu held.
func (s *taskSlot) settle() {
	if s.held {
		s.held = false
		s.k.sb.pendingTasks--
	}
}

// cancel releases the reservation if the clone failed before settle.
func (s *taskSlot) cancel() {
	if !s.held {
		return
	}
	s.k.mu.Lock()
	s.settle()
	s.k.mu.Unlock()
}

// KillAll kills every task of the guest with SIGKILL (--timeout).
func (k *Kernel) KillAll() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, q := range k.threads {
		q.post(int(unix.SIGKILL), Siginfo{Signo: int32(unix.SIGKILL), FromKill: true})
	}
}

// addFD counts a new entry for f in the guest's tables (ENFILE when the
// guest holds MaxFDs and f is a new open file, EMFILE when it is another
// fd for one already open: Linux's system-wide limit counts open files,
// and only a new one can hit it) and takes a reference on f's pipe charge.
// A new host file is looked at once, with h its host fd, to find whether
// it is a pipe (pipebuf.go). With check false (an entry replacing
// another, which release uncounts) the limit is not checked.
func (sb *Sandbox) addFD(f *openFile, h int, check bool) error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if check && sb.fds >= sb.lim.MaxFDs {
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
func (sb *Sandbox) lockedRef(f *openFile, h int, force bool) error {
	if f == nil {
		return nil
	}
	if !f.counted {
		if f.kind == kindHost {
			c, err := sb.lockedPipeFor(h, force)
			if err != nil {
				return err
			}
			f.pipe = c
		}
		f.counted = true
	}
	if f.pipe != nil {
		f.pipe.refs++
	}
	return nil
}

// dropFD undoes addFD for one entry whose host fd is being closed.
func (sb *Sandbox) dropFD(f *openFile) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.fds--
	if f != nil && f.pipe != nil {
		sb.lockedUnref(f.pipe)
	}
}
