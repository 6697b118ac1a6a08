// launch.go: from a program path to a running guest: open the program,
// the machine and the guest's root, confine kshim itself (sandbox/), load
// the ELF (or the interpreter a `#!` script names, and a dynamic
// program's interpreter, both from inside the guest root) into a fresh
// address space, build the initial stack, boot, run.
package vmm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/ept"
	"kshim/guestmm"
	"kshim/sandbox"
	"kshim/syscalls/fs"
	"kshim/syscalls/fs/mount"
	"kshim/syscalls/kernel"
	"kshim/syscalls/net"
	"kshim/syscalls/proc"
)

// Config is what `kshim run` asks for.
type Config struct {
	Path            string   // the program as the user named it
	Argv            []string // argv[0] included
	Env             []string
	MemSize         uint64
	CheckInvariants bool
	Log             *logrus.Logger
	Root            string // host directory the guest sees as / ("" is the host's /)
	Writable        bool   // --rw: the guest may change files under Root
	// Mounts are mounted over Root, in order (bind, tmpfs, proc;
	// syscalls/fs/fsmount.go): `kshim run --mount/-v/--tmpfs`, and the
	// OCI runtime's config.json mounts.
	Mounts  []mount.Spec
	Net     net.NetMode      // --net: the guest's network (syscalls/net/netns.go)
	Latency *LatencyRecorder // optional: records each exception's VMM time (latency.go)
	// KillOrphans ends every process when the first one ends (a
	// container's init); by default the others run on, as on Linux, and
	// the run ends when the last one does.
	KillOrphans bool
	// Limits for the whole guest (zero: syscalls' defaults): tasks, fds,
	// and a wall-clock timeout after which every task is killed.
	MaxTasks, MaxFDs int
	Timeout          time.Duration
	Hostname         string // the guest's nodename ("": the host's)
	// Sandbox confines kshim once set-up is done (sandbox.Apply; Root,
	// Writable and Exe are filled in from here). nil: not confined.
	Sandbox *sandbox.Config
	// NoASLR starts the guest with personality ADDR_NO_RANDOMIZE (as
	// `setarch -R`): fixed addresses, also for the images it execs.
	NoASLR bool
	// FastSyscalls chooses the fast syscall path (fast.go): auto, on, off.
	FastSyscalls FastMode
	Stats        *RunStats // optional: collects `run --stats` (stats.go)
	// LinuxFaultAround maps ahead only as much as Linux would instead of
	// the measured policy (guestmm/policy.go): `kshim faultlat
	// --fault-around=linux`, to time single faults.
	LinuxFaultAround bool
	// For an OCI runtime (oci/): the first process's working directory (a
	// guest path; "": kshim's cwd when inside Root, else /) and resource
	// limits, and Ready, called once the image is loaded and kshim is
	// confined, before the guest's first instruction, with the handle
	// that drives the running guest (guest.go). An error from Ready ends
	// Launch with it and nothing runs.
	Cwd     string
	Rlimits map[int]unix.Rlimit
	Ready   func(*Guest) error
	// Ignored are the signals the first process starts ignoring, as a
	// program exec'd by kshim's caller would (an ignored signal stays
	// ignored across execve: nohup's SIGHUP, a background job's SIGINT).
	Ignored []unix.Signal
	// ExitAfter: the caller exits once Launch returns (`kshim run`), so
	// the guest's last process leaves its memory to the machine's close
	// and that exit (kernel.Kernel.ExitAfter).
	ExitAfter bool
	// LeaveClose: the caller exits once Launch returns and leaves the
	// machine's release (the VM, guest memory) to that exit: Launch does
	// not close it (`kshim run`, whose exit leaves the release to package
	// teardown's helper, after the caller has the status).
	LeaveClose bool
	// MemReserve is the guest-physical memory to reserve when more than
	// MemSize, so that Guest.SetMemoryLimit can raise the limit up to it
	// later (`kshim update`). Reserved memory costs no host memory until
	// used (KVM keeps ~2 MiB of metadata per GiB).
	MemReserve uint64
	// MaskedPaths and ReadonlyPaths: an OCI config's linux.maskedPaths
	// and linux.readonlyPaths (syscalls/fs/fsguard.go).
	MaskedPaths, ReadonlyPaths []string
	// MakeMountParents: create the mounts' missing parent directories
	// first, as runc does (the OCI runtime; syscalls/fs/fsmkpoint.go).
	MakeMountParents bool
}

// Result is how the guest ended.
type Result struct {
	ExitStatus int
	Signal     unix.Signal // nonzero when killed by a signal
	Stats      Stats
	Path       string // the probed syscall path
	TimedOut   bool   // Config.Timeout passed and the guest was killed
}

// LoadError is a problem with the program itself; Status is the shell's
// exit status for it (127 not found, 126 not runnable).
type LoadError struct {
	Status int
	Err    error
}

func (e *LoadError) Error() string { return e.Err.Error() }
func (e *LoadError) Unwrap() error { return e.Err }

func openProgram(path string) (*os.File, *boot.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		status := 126
		if errors.Is(err, os.ErrNotExist) {
			status = 127
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, &LoadError{status, fmt.Errorf("%s: %v", path, describeErrno(err))}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, &LoadError{126, fmt.Errorf("%s: %v", path, err)}
	}
	if st.IsDir() {
		f.Close()
		return nil, nil, &LoadError{126, fmt.Errorf("%s: Is a directory", path)}
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, &LoadError{126, fmt.Errorf("%s: not a regular file", path)}
	}
	img, err := boot.Parse(f, st.Size(), 0) // LoadImage places it
	if err != nil {
		var head [2]byte
		if n, _ := f.ReadAt(head[:], 0); n == 2 && string(head[:]) == "#!" {
			return f, nil, nil // a script: Launch follows its #! line in the guest root
		}
		f.Close()
		return nil, nil, &LoadError{126, fmt.Errorf("%s: %v", path, err)}
	}
	return f, img, nil
}

func describeErrno(err error) string {
	var e unix.Errno
	if errors.As(err, &e) {
		s := e.Error()
		return string(s[0]-'a'+'A') + s[1:]
	}
	return err.Error()
}

// Launch runs the program to completion.
func Launch(c Config) (*Result, error) {
	res, err := launch(c)
	if c.LeaveClose {
		c.Stats.Mark(PhaseLeftToExit)
	} else {
		c.Stats.Mark(PhaseTornDown) // launch's deferred closes have run
	}
	return res, err
}

// filesSetting is the first process being made on its own goroutine
// (setFiles): its files set, and Landlock's ruleset prepared for them.
type filesSetting struct {
	done  chan struct{}
	p     *kernel.Process
	err   error
	taken bool
}

// setFiles starts making the first process with files. It gets its
// memory and vCPU state (MM, Arch; NewProcessFiles only stores them)
// once wait has returned it.
func setFiles(c Config, exe string, files fs.Files, confine *sandbox.Pending) *filesSetting {
	s := &filesSetting{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.p, s.err = kernel.NewProcessFiles(nil, nil, exe, c.Log, proc.FS{}, files)
		if s.err == nil && confine != nil {
			// It opens the paths the rules name; it confines nothing
			// until Finish, which comes after wait.
			confine.Prepare(sandboxConfig(c, exe, s.p))
		}
	}()
	return s
}

// wait returns the process (closed, with the error, when setting its
// files failed); it is the caller's from then on.
func (s *filesSetting) wait() (*kernel.Process, error) {
	<-s.done
	s.taken = true
	if s.err != nil {
		s.p.Close()
		return nil, s.err
	}
	return s.p, nil
}

// drop waits for the goroutine and closes the process unless wait has
// handed it over.
func (s *filesSetting) drop() {
	if s.taken {
		return
	}
	<-s.done
	s.taken = true
	s.p.Close()
}

// sandboxConfig is c.Sandbox with the set-up's results filled in: the
// root, the program, the first process's mounts.
func sandboxConfig(c Config, exe string, p *kernel.Process) sandbox.Config {
	sc := *c.Sandbox
	sc.Root, sc.Writable, sc.Exe = c.Root, c.Writable, exe
	sc.Mounts = slices.Clone(sc.Mounts) // each call its own
	for _, r := range p.MountRules() {
		sc.Mounts = append(sc.Mounts, sandbox.MountRule{Path: r.Path, Writable: r.Writable, Dir: r.Dir})
	}
	return sc
}

func launch(c Config) (*Result, error) {
	f, img, err := openProgram(c.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var confine *sandbox.Pending
	if c.Sandbox != nil {
		// Its slow first part (the bounding set: one all-threads call
		// per capability, each a signal to every thread) now, while
		// kshim has the fewest threads.
		confine = sandbox.Begin(*c.Sandbox)
		c.Stats.Mark(PhaseSandboxBegun)
	}
	caller := callerRlimits() // starts a child: before the sandbox
	// The guest's network namespace is made on the network's own thread
	// while this one makes the machine (Start below waits for it); made
	// now, while kshim may still do so (before the sandbox drops the
	// privilege).
	nw := net.PrepareNetwork(c.Net)
	defer nw.Close()
	exe, err := filepath.Abs(c.Path)
	if err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
	}

	// The process: its root is where the program's interpreter is
	// looked up. Its files (the root, mounts, devpts, /dev/shm: host
	// calls on kshim's own files; ~0.5 ms) are set on a goroutine of
	// their own from the moment the guest memory exists (a tmpfs's
	// default size is half of it), while this one makes the VM, the
	// first vCPU and the address space, and so is Landlock's ruleset,
	// which names them. Not beside the probe, which must wait for Finish
	// (below). Should the machine fail after, the goroutine only reads
	// the closed memory's size.
	var fset *filesSetting
	m, err := newMachine(max(c.MemSize, c.MemReserve), func(mem *ept.Memory) error {
		if c.MemReserve > c.MemSize {
			if err := mem.SetLimit(c.MemSize); err != nil {
				return fmt.Errorf("guest memory size %d too small: %w", c.MemSize, err)
			}
		}
		files := fs.Files{Root: c.Root, Writable: c.Writable, Mounts: c.Mounts, Mem: mem, OwnerUID: -1, OwnerGID: -1,
			MaskedPaths: c.MaskedPaths, ReadonlyPaths: c.ReadonlyPaths, MakeParents: c.MakeMountParents}
		if c.Sandbox != nil && c.Sandbox.User != nil {
			// A tmpfs belongs to the guest's identity, as a container's to its root.
			files.OwnerUID, files.OwnerGID = c.Sandbox.User.UID, c.Sandbox.User.GID
		}
		fset = setFiles(c, exe, files, confine)
		return nil
	})
	if err != nil {
		if fset != nil {
			fset.drop()
		}
		if c.MemReserve > c.MemSize && errors.Is(err, ept.ErrNoMemory) {
			// The limit, set before the machine took its own pages,
			// leaves it none.
			return nil, fmt.Errorf("guest memory size %d too small: %w", c.MemSize, err)
		}
		return nil, err
	}
	c.Stats.Mark(PhaseMachineMade)
	maxTasks := c.MaxTasks
	if maxTasks <= 0 {
		maxTasks = fs.DefaultMaxTasks
	}
	m.SetMaxVCPUs(maxTasks) // spare vCPUs (spare.go) within the task limit
	m.fastMode = c.FastSyscalls
	closeMachine := true
	defer func() {
		if closeMachine {
			m.Close()
		}
	}()
	defer fset.drop() // an error return before the join below
	c0, err := m.NewVCPU()
	if err != nil {
		return nil, err
	}
	pt, err := c0.NewAddressSpace()
	if err != nil {
		return nil, fmt.Errorf("building the address space: %w", err)
	}
	mm := guestmm.New(m.Mem, pt)
	mm.CheckAll, mm.Tune = c.CheckInvariants, m.tune
	if c.LinuxFaultAround {
		mm.Tune = nil
	}
	if c.Stats != nil {
		m.stats, c.Stats.tune, c.Stats.mem = c.Stats, m.tune, m.Mem
	}
	m.setupVDSO(c0)
	c.Stats.Mark(PhaseVCPUMade)
	p, err := fset.wait()
	if err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			return nil, fmt.Errorf("--root %s: %v", c.Root, describeErrno(err))
		}
		return nil, err
	}
	p.MM, p.Arch, p.PhysMem = mm, c0.Arch(), m.Mem
	c.Stats.Mark(PhaseFilesSet)
	sb := fs.NewSandbox(fs.Limits{MaxTasks: c.MaxTasks, MaxFDs: c.MaxFDs, Mem: m.Mem})
	if c.Hostname != "" {
		if err := sb.SetHostname(c.Hostname); err != nil {
			p.Close()
			return nil, fmt.Errorf("--hostname %q: %v", c.Hostname, err)
		}
	}
	k := kernel.NewKernel(m)
	k.ExitAfter = c.ExitAfter
	k.Adopt(p, c0)
	k.SetSandbox(sb)
	if err := nw.Start(k, p); err != nil {
		p.Close()
		return nil, err
	}
	c.Stats.Mark(PhaseNetworkReady)
	// Set-up is done (KVM, memory, the program, the root are open): from
	// here on kshim runs confined, before it loads the guest's image, so
	// the image's AT_UID/AT_GID are the identity the guest will see.
	if c.Sandbox != nil {
		// The first vCPU's CPUID table, which it otherwise gets at its
		// first load, now: Open's goroutine reads it with an ioctl the
		// sandbox refuses, and the vCPU waits for it here, not when made
		// (kvm.go's newCPU).
		if err := c0.CPU.setCPUID(); err != nil {
			p.Close()
			return nil, err
		}
		t0 := time.Now()
		rep, err := confine.Finish(sandboxConfig(c, exe, p))
		if err != nil {
			p.Close()
			return nil, err
		}
		c.Log.WithFields(logrus.Fields{"sandbox": rep.String(), "took": time.Since(t0)}).Debug("confined")
		c.Stats.Mark(PhaseSandboxFinished)
	}
	// Probe before loading: its exit is the policy's first measure of an
	// exit's cost, which decides how much the loader maps ahead. After
	// Finish: the first KVM_RUN starts KVM's worker thread in kshim with
	// this thread's identity (sandbox's invariants).
	if err := c0.ensureProbed(pt); err != nil {
		p.Close()
		return nil, err
	}
	c.Stats.Mark(PhaseProbed)
	if c.NoASLR {
		p.SetNoRandomize()
	}
	if c.Cwd != "" {
		if err := p.Chdir(c.Cwd); err != nil {
			p.Close()
			return nil, fmt.Errorf("working directory %s: %v", c.Cwd, describeErrno(err))
		}
	}
	if caller != nil {
		p.SetRlimits(caller) // rlimit.go: RLIMIT_NOFILE as kshim's caller had it
	}
	if c.Rlimits != nil {
		p.SetRlimits(c.Rlimits)
	}
	for _, sig := range c.Ignored {
		p.Sig.Act.Swap(int(sig), kernel.Sigaction{Handler: kernel.SigIgn})
	}
	prog, argv := f, c.Argv
	if img == nil {
		head := make([]byte, 256)
		n, _ := f.ReadAt(head, 0)
		prog, img, argv, err = p.StartScript(head[:n], c.Path, c.Argv)
		if err == nil {
			defer prog.Close()
		}
	}
	var im kernel.Image
	if err == nil {
		im, err = p.LoadImage(mm, prog, img, argv, c.Env, c.Path, m.HWCap(), m.VDSO())
	}
	if err != nil {
		p.Close()
		var ee *kernel.ExecError
		var le *kernel.LateError
		switch {
		case errors.As(err, &le):
			// Linux kills the process past execve's point of no return.
			c.Log.WithError(err).Debug("loading failed after the point of no return")
			return &Result{Signal: unix.SIGSEGV, Path: m.Path()}, nil
		case errors.As(err, &ee):
			status := 126
			if ee.Errno == unix.ENOENT {
				status = 127 // as a shell reports a missing interpreter
			}
			return nil, &LoadError{status, fmt.Errorf("%s: cannot execute: %v: %s", c.Path, err, describeErrno(ee.Errno))}
		case errors.Is(err, unix.ENOMEM) || errors.Is(err, ept.ErrNoMemory):
			return nil, fmt.Errorf("%s: does not fit in guest memory (raise --mem): %w", c.Path, err)
		}
		return nil, &LoadError{126, fmt.Errorf("%s: %v", c.Path, err)}
	}
	c.Stats.Mark(PhaseImageLoaded)
	if c.Ready != nil {
		tmpl, err := p.SnapshotFS() // for exec, taken before the guest runs
		if err != nil {
			p.Close()
			return nil, err
		}
		defer tmpl.Close()
		if err := c.Ready(&Guest{m: m, k: k, first: p, c: c, fs: tmpl}); err != nil {
			p.Close()
			return nil, err
		}
	}
	if err := c0.Boot(pt, im.Entry, im.SP); err != nil {
		p.Close()
		return nil, err
	}
	// Boot probed the platform: on VMX/SVM Linux would return to user
	// mode with IRET, on PVM through the hypervisor (rt_sigreturn's
	// segment faults differ; kernel.Kernel.IRETSelectors).
	k.IRETSelectors = m.Path() == (cpl0Path{}).Name()
	c.Log.WithFields(logrus.Fields{"entry": fmt.Sprintf("%#x", im.Entry), "interp": im.Interp, "path": m.Path()}).Debug("guest booted")
	// Whatever still runs when Launch returns is killed (with
	// KillOrphans that is as soon as the first process ends, as in a
	// PID namespace).
	defer func() {
		// A task that would not stop (stuck in a host call) may still
		// touch guest memory: leave the machine to the process's exit.
		closeMachine = k.Shutdown() && !c.LeaveClose
	}()
	res := &Result{Path: m.Path()}
	res.Stats.Latency = c.Latency
	var timedOut atomic.Bool
	if c.Timeout > 0 {
		t := time.AfterFunc(c.Timeout, func() {
			timedOut.Store(true)
			k.KillAll()
		})
		defer t.Stop()
	}
	if err := c0.Run(p, &res.Stats); err != nil {
		p.Fail(err)
		p.Finish()
		return nil, err
	}
	// The main thread is done; the process is done when its last thread
	// is (its status may come from another thread's exit_group).
	p.Finish()
	res.ExitStatus, res.Signal = k.WaitProcess(p)
	if !c.KillOrphans {
		k.WaitAll()
	}
	res.TimedOut = timedOut.Load()
	c.Stats.Mark(PhaseGuestExited)
	if c.Stats != nil {
		c.Stats.setHypervisor(m.hypervisorCounters()) // kvmstats.go
	}
	if err := k.Failure(); err != nil {
		return nil, err // another task's VMM error ended the guest
	}
	return res, nil
}
