// launch.go: from a program path to a running guest: load the ELF into a
// fresh address space, build the initial stack, boot, run.
package vmm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/ept"
	"kshim/guestmm"
	"kshim/syscalls"
)

// Config is what `kshim run` asks for.
type Config struct {
	Path            string   // the program as the user named it
	Argv            []string // argv[0] included
	Env             []string
	MemSize         uint64
	CheckInvariants bool
	Log             *logrus.Logger
	Root            string           // host directory the guest sees as / ("" is the host's /)
	Writable        bool             // --rw: the guest may change files under Root
	Net             syscalls.NetMode // --net: the guest's network (syscalls/netns.go)
	Latency         *LatencyRecorder // optional: records each exception's VMM time (latency.go)
}

// Result is how the guest ended.
type Result struct {
	ExitStatus int
	Signal     unix.Signal // nonzero when killed by a signal
	Stats      Stats
	Path       string // the probed syscall path
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
	img, err := boot.Parse(f, st.Size(), guestmm.DynBase)
	if err != nil {
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
	f, img, err := openProgram(c.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	exe, err := filepath.Abs(c.Path)
	if err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
	}

	m, err := NewMachine(c.MemSize)
	if err != nil {
		return nil, err
	}
	closeMachine := true
	defer func() {
		if closeMachine {
			m.Close()
		}
	}()
	c0, err := m.NewVCPU()
	if err != nil {
		return nil, err
	}
	pt, err := c0.NewAddressSpace()
	if err != nil {
		return nil, fmt.Errorf("building the address space: %w", err)
	}
	mm := guestmm.New(m.Mem, pt)
	mm.CheckAll = c.CheckInvariants
	m.setupVDSO(c0)
	im, err := syscalls.LoadImage(mm, f, img, c.Argv, c.Env, c.Path, m.h.hwcap(), m.VDSO())
	if err != nil {
		if errors.Is(err, unix.ENOMEM) || errors.Is(err, ept.ErrNoMemory) {
			return nil, fmt.Errorf("%s: does not fit in guest memory (raise --mem): %w", c.Path, err)
		}
		return nil, &LoadError{126, fmt.Errorf("%s: %v", c.Path, err)}
	}
	if err := c0.Boot(pt, im.Entry, im.SP); err != nil {
		return nil, err
	}
	c.Log.WithFields(logrus.Fields{"entry": fmt.Sprintf("%#x", img.Entry), "path": m.Path()}).Debug("guest booted")
	p := syscalls.NewProcess(mm, c0.Arch(), exe, c.Log)
	p.PhysMem = m.Mem
	if err := p.SetFiles(syscalls.Files{Root: c.Root, Writable: c.Writable}); err != nil {
		p.Close()
		return nil, fmt.Errorf("--root %s: %v", c.Root, describeErrno(err))
	}
	k := syscalls.NewKernel(m)
	k.Adopt(p, c0)
	// The network namespace is made now, while kshim may still do so.
	nw, err := syscalls.StartNetwork(k, c.Net, p)
	if err != nil {
		p.Close()
		return nil, err
	}
	defer nw.Close()
	// The first process is the guest's init: when it ends, everything
	// else ends with it (as in a PID namespace).
	defer func() {
		// A task that would not stop (stuck in a host call) may still
		// touch guest memory: leave the machine to the process's exit.
		closeMachine = k.Shutdown()
	}()
	res := &Result{Path: m.Path()}
	res.Stats.Latency = c.Latency
	if err := c0.Run(p, &res.Stats); err != nil {
		p.Fail(err)
		p.Finish()
		return nil, err
	}
	// The main thread is done; the process is done when its last thread
	// is (its status may come from another thread's exit_group).
	p.Finish()
	res.ExitStatus, res.Signal = k.WaitProcess(p)
	if err := k.Failure(); err != nil {
		return nil, err // another task's VMM error ended the guest
	}
	return res, nil
}
