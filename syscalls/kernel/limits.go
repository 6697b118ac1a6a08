// limits.go (kernel): the task side of the guest's limits: the Sandbox
// (fs/limits.go, whose head gives the invariants and lock order) a
// Kernel carries, the task slots fork and clone take (PendingTasks,
// under Kernel.Mu), and killing the whole guest.
package kernel

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
)

// SetSandbox puts the guest under sb: the processes already in the table
// (the first one) have their fds counted and their pipes charged, and
// their memory manager calls the OOM killer when a copy runs out.
func (k *Kernel) SetSandbox(sb *fs.Sandbox) {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	k.Sb = sb
	sb.PtyGen = k.ptyGen                                              // tty.go
	sb.PtyHangup = func(n int, gen uint64) { go k.ptyHungUp(n, gen) } // after the caller's locks
	for _, p := range k.Procs {
		p.Files.Attach(sb)
		p.MM.OnOOM = k.copyOOM // oom.go; forks and execs inherit it
	}
}

// Sandbox is the guest's limits for p's file side (nil: none).
func (p *Process) Sandbox() *fs.Sandbox {
	if k := p.Proc.K; k != nil {
		return k.Sb
	}
	return nil
}

// taskSlot is a task reserved by a clone in progress.
type taskSlot struct {
	k    *Kernel
	held bool
}

// reserveTask takes a task slot for a clone (EAGAIN when the guest has
// MaxTasks already). The caller settles it (under Kernel.Mu) once the new
// task is in the table, and cancels it (a no-op after settle) on return.
func (k *Kernel) reserveTask() (*taskSlot, error) {
	s := &taskSlot{k: k}
	if k.Sb == nil {
		return s, nil
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	n := len(k.Threads) + k.Sb.PendingTasks
	for _, q := range k.Procs {
		if q.Proc.zombie {
			n++
		}
	}
	if n >= k.Sb.Lim.MaxTasks {
		return nil, unix.EAGAIN
	}
	k.Sb.PendingTasks++
	s.held = true
	return s, nil
}

// settle releases the reservation; the task is in the table now.
// Kernel.Mu held.
func (s *taskSlot) settle() {
	if s.held {
		s.held = false
		s.k.Sb.PendingTasks--
	}
}

// cancel releases the reservation if the clone failed before settle.
func (s *taskSlot) cancel() {
	if !s.held {
		return
	}
	s.k.Mu.Lock()
	s.settle()
	s.k.Mu.Unlock()
}

// KillAll kills every task of the guest with SIGKILL (--timeout).
func (k *Kernel) KillAll() {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	for _, q := range k.Threads {
		q.post(int(unix.SIGKILL), Siginfo{Signo: int32(unix.SIGKILL), FromKill: true})
	}
}

// nprocOK is RLIMIT_NPROC at fork and clone (copy_process): past the
// limit, a user other than root without CAP_SYS_RESOURCE gets EAGAIN.
// Linux counts every task of the real uid on the machine; kshim counts
// the guest's (the host's other tasks of that user are not the guest's
// to see), so it refuses no later than Linux would for the guest alone.
func (p *Process) nprocOK() error {
	k := p.Proc.K
	if k == nil || unix.Getuid() == 0 {
		return nil
	}
	l, err := p.Rlimit(unix.RLIMIT_NPROC)
	if err != nil || l.Cur == unix.RLIM_INFINITY {
		return nil
	}
	k.Mu.Lock()
	n := len(k.Threads)
	k.Mu.Unlock()
	if uint64(n) >= l.Cur {
		return unix.EAGAIN
	}
	return nil
}
