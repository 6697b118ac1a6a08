// guest.go: a guest as an OCI runtime drives it once it is set up
// (Config.Ready hands out the handle): signals from the host, pausing and
// resuming every vCPU, and processes started into the running guest
// (`exec`), which share its personality, root, network, limits and
// memory.
//
// Invariants:
//   - While the machine is frozen no vCPU enters KVM_RUN for guest code
//     (runGuest waits before enterGuest); Freeze returns once none is in
//     it. Tasks blocked in host calls finish them and then wait. A drain
//     (shim code only, in the middle of an exit) still runs.
//   - Exec builds the new process completely (vCPU, address space, fds,
//     root, cwd, image) before its first instruction; on failure
//     everything it made is released and nothing of the guest changed.
package vmm

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/guestmm"
	"kshim/syscalls/kernel"
	"kshim/syscalls/proc"
)

// Guest is a running (or about to run) guest.
type Guest struct {
	m     *Machine
	k     *kernel.Kernel
	first *kernel.Process
	c     Config
	fs    *kernel.FSTemplate // the first process's root, cwd and mounts before it ran
}

// freezer holds every vCPU out of the guest while on.
type freezer struct {
	on   atomic.Bool
	mu   sync.Mutex
	cond *sync.Cond
}

// waitThawed is called before each KVM_RUN of guest code.
func (m *Machine) waitThawed() {
	if !m.frz.on.Load() {
		return
	}
	m.frz.mu.Lock()
	for m.frz.on.Load() {
		m.frz.cond.Wait()
	}
	m.frz.mu.Unlock()
}

// FirstPid is the guest pid of the first process.
func (g *Guest) FirstPid() int { return g.first.Pid }

// Signal sends sig to guest process pid (-1: every process) from the
// host (kernel.Kernel.SignalFromHost).
func (g *Guest) Signal(pid int, sig unix.Signal) error { return g.k.SignalFromHost(pid, int(sig)) }

// Relay sends sig, which kshim was sent, on to guest process pid, or to
// process group -pid when pid < -1, with no pid namespace's rule for the
// first process (kernel.Kernel.RelaySignal).
func (g *Guest) Relay(pid int, sig unix.Signal) error { return g.k.RelaySignal(pid, int(sig)) }

// Pids lists the guest's live processes.
func (g *Guest) Pids() []int { return g.k.Pids() }

// Freeze stops every vCPU and returns once none runs guest code (or after
// a few seconds, with an error, when one keeps running).
func (g *Guest) Freeze() error {
	m := g.m
	m.frz.mu.Lock()
	if m.frz.cond == nil {
		m.frz.cond = sync.NewCond(&m.frz.mu)
	}
	m.frz.on.Store(true)
	m.frz.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m.mu.Lock()
		all := append([]*VCPU(nil), m.all...)
		m.mu.Unlock()
		running := false
		for _, c := range all {
			if atomic.LoadInt32(&c.inRun) == 1 {
				running = true
				c.Kick()
			}
		}
		if !running {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("a vCPU did not leave the guest")
		}
		time.Sleep(time.Millisecond)
	}
}

// Thaw lets every vCPU run again.
func (g *Guest) Thaw() {
	m := g.m
	m.frz.mu.Lock()
	m.frz.on.Store(false)
	if m.frz.cond != nil {
		m.frz.cond.Broadcast()
	}
	m.frz.mu.Unlock()
}

// SetMemoryLimit changes the guest's memory limit (ept.Memory.SetLimit:
// at most what was reserved at launch, at least what the guest uses).
func (g *Guest) SetMemoryLimit(n uint64) error { return g.m.Mem.SetLimit(n) }

// MemoryLimit is the guest's memory limit now.
func (g *Guest) MemoryLimit() uint64 { return g.m.Mem.Size() }

// Frozen reports whether the guest is paused.
func (g *Guest) Frozen() bool { return g.m.frz.on.Load() }

// ExecConfig is a process to start in the running guest.
type ExecConfig struct {
	Prog     *os.File // the program, opened inside the guest's root (the caller keeps it)
	HostPath string   // the host's name for Prog (/proc/self/exe)
	Path     string   // the guest's name for it (AT_EXECFN)
	Argv     []string
	Env      []string
	Cwd      string // guest path ("": /)
	Stdio    [3]int // host fds for the guest's 0, 1, 2 (dups are taken)
	Rlimits  map[int]unix.Rlimit
}

// Process is a process Exec started.
type Process struct {
	g *Guest
	p *kernel.Process
}

// Pid is its guest pid.
func (e *Process) Pid() int { return e.p.Pid }

// Wait waits for it to end: its exit status, or the signal that killed it.
func (e *Process) Wait() (int, unix.Signal) { return e.g.k.WaitExit(e.p) }

// Signal sends it sig from the host.
func (e *Process) Signal(sig unix.Signal) error { return e.g.k.SignalFromHost(e.p.Pid, int(sig)) }

// Exec starts a process in the running guest. Errors for the program
// itself are *LoadError, as Launch's.
func (g *Guest) Exec(e ExecConfig) (*Process, error) {
	st, err := e.Prog.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &LoadError{126, fmt.Errorf("%s: not a regular file", e.Path)}
	}
	img, perr := boot.Parse(e.Prog, st.Size(), 0)
	m := g.m
	t, err := m.NewVCPU()
	if err != nil {
		return nil, err
	}
	pt, err := t.NewAddressSpace()
	if err != nil {
		t.Release()
		return nil, fmt.Errorf("building the address space: %w", err)
	}
	mm := guestmm.New(m.Mem, pt)
	mm.CheckAll, mm.Tune = g.c.CheckInvariants, m.tune
	p := kernel.NewProcessStdio(mm, t.Arch(), e.HostPath, g.c.Log, proc.FS{}, e.Stdio)
	p.PhysMem = m.Mem
	undo := func() {
		p.Close()
		mm.Destroy()
		pt.Free()
		t.Release()
	}
	if err := p.UseFS(g.fs); err != nil {
		undo()
		return nil, fmt.Errorf("the guest's root: %v", describeErrno(err))
	}
	if err := g.k.AdoptSpawned(p, t); err != nil {
		undo()
		return nil, fmt.Errorf("no task left in the guest (--max-tasks): %v", err)
	}
	// From here the process is in the table: on failure it exits (which
	// releases its memory, fds and vCPU) as one that never ran.
	fail := func(err error) (*Process, error) {
		p.Exited, p.ExitStatus = true, 127
		p.Finish()
		return nil, err
	}
	if g.c.NoASLR {
		p.SetNoRandomize()
	}
	if e.Cwd != "" {
		if err := p.Chdir(e.Cwd); err != nil {
			return fail(fmt.Errorf("working directory %s: %v", e.Cwd, describeErrno(err)))
		}
	}
	if e.Rlimits != nil {
		p.SetRlimits(e.Rlimits)
	}
	prog, argv := e.Prog, e.Argv
	if perr != nil {
		head := make([]byte, 256)
		n, _ := e.Prog.ReadAt(head, 0)
		if n < 2 || head[0] != '#' || head[1] != '!' {
			return fail(&LoadError{126, fmt.Errorf("%s: %v", e.Path, perr)})
		}
		prog, img, argv, err = p.StartScript(head[:n], e.Path, e.Argv)
		if err != nil {
			return fail(&LoadError{126, fmt.Errorf("%s: cannot execute: %v", e.Path, err)})
		}
		defer prog.Close()
	}
	im, err := p.LoadImage(mm, prog, img, argv, e.Env, e.Path, m.HWCap(), m.VDSO())
	if err != nil {
		return fail(&LoadError{126, fmt.Errorf("%s: cannot execute: %v", e.Path, err)})
	}
	if err := t.Start(p, &kernel.Regs{RIP: im.Entry, RSP: im.SP, RFLAGS: 0x202}, nil); err != nil {
		return fail(err)
	}
	return &Process{g: g, p: p}, nil
}
