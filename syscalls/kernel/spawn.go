// spawn.go: what an OCI runtime (oci/, through vmm.Guest) does to a
// running guest from the host: start another process in it (exec), send
// signals from outside, list its processes, set a process's limits and
// working directory before it runs.
//
// Invariants:
//   - A spawned process is a session and group leader with no parent:
//     kshim reaps it as init reaps orphans, and WaitExit reports its
//     status to the host. It counts against --max-tasks like a fork.
//   - Signals from the host carry si_pid 0 and si_uid 0 (a sender outside
//     the guest's pid namespace), and reach the first process (the
//     container's init) only when it handles them, or for SIGKILL and
//     SIGSTOP, as Linux treats a namespace's init.
package kernel

import (
	"sort"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"kshim/guestmm"
	"kshim/syscalls/fs"
)

// NewProcessStdio is NewProcess with dups of host fds stdio as the
// guest's 0, 1, 2 (a negative one is left closed).
func NewProcessStdio(mm *guestmm.MM, arch Arch, exe string, log *logrus.Logger, procfs ProcFS, stdio [3]int) *Process {
	p := NewProcess(mm, arch, exe, log, procfs)
	old := p.Files
	p.Files = fs.NewStdioTableFrom(stdio)
	old.CloseAll()
	return p
}

// AdoptSpawned adds p, a process started from the host into the running
// guest, on task: a new pid, its own session and group, no parent. It
// fails with EAGAIN past the guest's task limit.
func (k *Kernel) AdoptSpawned(p *Process, task Task) error {
	slot, err := k.reserveTask()
	if err != nil {
		return err
	}
	defer slot.cancel()
	k.Mu.Lock()
	defer k.Mu.Unlock()
	slot.settle()
	p.Pid = k.allocPID()
	p.Tid = p.Pid
	p.Proc = procState{K: k, task: task, children: map[*Process]bool{}, Pgid: p.Pid, Sid: p.Pid,
		exitSignal: int(unix.SIGCHLD)}
	p.Proc.Group = newThreadGroup(p)
	if k.Sb != nil {
		p.Files.Attach(k.Sb)
		p.MM.OnOOM = k.copyOOM
	}
	k.Procs[p.Pid] = p
	k.addTask(p)
	return nil
}

// WaitExit waits until every thread of p's group has ended and returns
// its exit status or killing signal.
func (k *Kernel) WaitExit(p *Process) (int, unix.Signal) {
	k.Mu.Lock()
	for p.Proc.Group.live > 0 {
		k.cond.Wait()
	}
	g := p.Proc.Group
	st, sig := g.leader.ExitStatus, g.leader.Signal
	if g.exiting {
		st, sig = g.status, g.signal
	}
	k.Mu.Unlock()
	return st, sig
}

// SignalFromHost sends sig to the process pid, or to every process when
// pid is -1, as a kill from outside the guest. ESRCH when none is alive;
// EINVAL for a bad signal. A signal the first process neither handles
// nor may be spared (SIGKILL, SIGSTOP) is dropped for it, as Linux drops
// it for a pid namespace's init.
func (k *Kernel) SignalFromHost(pid, sig int) error { return k.signalFromOutside(pid, sig, true) }

// RelaySignal sends sig, which kshim itself was sent, on to the guest's
// process pid, or to every process of group -pid when pid < -1 (kill(2)'s
// numbering). Where no pid namespace sets the guest apart (`kshim run`),
// the first process is an ordinary one: a default action applies to it.
func (k *Kernel) RelaySignal(pid, sig int) error { return k.signalFromOutside(pid, sig, false) }

func (k *Kernel) signalFromOutside(pid, sig int, firstIsInit bool) error {
	if sig < 0 || sig > Nsig {
		return unix.EINVAL
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	var targets []*Process
	for _, t := range k.Procs {
		if !t.Proc.zombie && (pid == -1 || t.Pid == pid || pid < -1 && t.Proc.Pgid == -pid) {
			targets = append(targets, t)
		}
	}
	if len(targets) == 0 {
		return unix.ESRCH
	}
	if sig == 0 {
		return nil
	}
	info := Siginfo{Signo: int32(sig), Code: SiUser, FromKill: true}
	for _, t := range targets {
		if firstIsInit && t.Proc.first && sig != int(unix.SIGKILL) && sig != int(unix.SIGSTOP) {
			if h := t.Sig.Act.Get(sig).Handler; h == SigDfl || h == SigIgn {
				continue
			}
		}
		_ = t.postGroup(sig, info) // the process (sigqueue.go); SI_USER never fails
		if pid < 0 {
			delayForForks(t, sig)
		}
	}
	return nil
}

// Pids returns the guest pids of the processes alive, in order.
func (k *Kernel) Pids() []int {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	var out []int
	for pid, t := range k.Procs {
		if !t.Proc.zombie {
			out = append(out, pid)
		}
	}
	sort.Ints(out)
	return out
}

// SetRlimits sets p's resource limits before it runs (a container's
// process.rlimits); limits not named stay the VMM's own.
func (p *Process) SetRlimits(l map[int]unix.Rlimit) {
	RlimitMu.Lock()
	defer RlimitMu.Unlock()
	if p.Rlimits == nil {
		p.Rlimits = map[int]unix.Rlimit{}
	}
	for res, v := range l {
		p.Rlimits[res] = v
	}
}

// Chdir makes the guest path dir p's working directory, with chdir(2)'s
// lookup and errors.
func (p *Process) Chdir(dir string) error {
	r, err := p.Lookup(unix.AT_FDCWD, dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	return p.SetCwd(r)
}

// FSTemplate is a copy of a process's file-system context (root, cwd,
// umask, mount table) taken before the guest runs, for processes started
// into it later (exec): they see the same mounts, whatever the first
// process has done since.
type FSTemplate struct{ t fs.Task }

// SnapshotFS copies p's file-system context. Call it before p runs (its
// own goroutine is the only one that may change it after).
func (p *Process) SnapshotFS() (*FSTemplate, error) {
	c, err := p.FS.Clone()
	if err != nil {
		return nil, err
	}
	return &FSTemplate{t: fs.Task{FS: c}}, nil
}

// UseFS gives p (not running yet) a copy of s as its file-system context.
func (p *Process) UseFS(s *FSTemplate) error {
	c, err := s.t.FS.Clone()
	if err != nil {
		return err
	}
	old := p.FS
	p.FS = c
	old.Close()
	return nil
}

// Close releases the template's copy.
func (s *FSTemplate) Close() { s.t.FS.Close() }
