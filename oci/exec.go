// exec.go: `kshim exec`, another process in a running container's guest.
// The process runs inside the container's kshim (same personality, root,
// network, memory); on the host it is stood for by an exec kshim, the
// process whose pid the engine gets (--pid-file with --detach) and waits
// for: it hands over its stdio, relays the signals it gets into the guest
// process and exits with the guest process's status (128+signal when a
// signal killed it). Killing it (SIGKILL) kills the guest process too.
package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

type envFlag []string

func (e *envFlag) String() string     { return fmt.Sprint(*e) }
func (e *envFlag) Set(s string) error { *e = append(*e, s); return nil }

func (g *global) exec(args []string) int {
	fs := flags("exec")
	var procFile, pidFile, console, cwd, user string
	var detach, tty, ignore bool
	var env envFlag
	strFlag(fs, &procFile, "process", "p")
	strFlag(fs, &pidFile, "pid-file")
	strFlag(fs, &console, "console-socket")
	strFlag(fs, &cwd, "cwd")
	strFlag(fs, &user, "user", "u")
	boolFlag(fs, &detach, "detach", "d")
	boolFlag(fs, &tty, "tty", "t")
	boolFlag(fs, &ignore, "no-new-privs")
	fs.Var(&env, "env", "")
	fs.Var(&env, "e", "")
	if err := fs.Parse(args); err != nil {
		return g.fail(err)
	}
	if fs.NArg() < 1 {
		return g.fail(errors.New("exec: want a container id"))
	}
	c, err := g.load(fs.Arg(0))
	if err != nil {
		return g.fail(err)
	}
	plan, err := c.plan()
	if err != nil {
		return g.fail(err)
	}
	var pr specs.Process
	if procFile != "" {
		b, err := os.ReadFile(procFile)
		if err == nil {
			err = json.Unmarshal(b, &pr)
		}
		if err != nil {
			return g.fail(fmt.Errorf("exec: --process %s: %v", procFile, err))
		}
	} else {
		if fs.NArg() < 2 {
			return g.fail(errors.New("exec: want a command (or --process)"))
		}
		pr = plan.Process
		pr.Args = fs.Args()[1:]
		pr.Terminal = tty
		pr.Env = append(append([]string{}, plan.Process.Env...), env...)
		if cwd != "" {
			pr.Cwd = cwd
		}
		if user != "" {
			us, gs, _ := cutColon(user)
			u, err1 := strconv.ParseUint(us, 10, 32)
			gid := uint64(pr.User.GID)
			var err2 error
			if gs != "" {
				gid, err2 = strconv.ParseUint(gs, 10, 32)
			}
			if err1 != nil || err2 != nil {
				return g.fail(fmt.Errorf("exec: bad --user %q (want UID[:GID])", user))
			}
			pr.User.UID, pr.User.GID = uint32(u), uint32(gid)
		}
	}
	if st := c.status(); st != specs.StateRunning {
		return g.fail(fmt.Errorf("cannot exec in a container in the %s state", st))
	}
	if pr.Terminal && console == "" {
		return g.fail(errors.New("exec: a terminal needs --console-socket"))
	}
	if !detach {
		if pr.Terminal {
			return g.fail(errors.New("exec: a terminal is supported with --detach only"))
		}
		return g.runExec(c.dir, &pr, nil)
	}
	// Detached: an exec kshim of its own stands for the process.
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return g.fail(err)
	}
	defer readyR.Close()
	procR, procW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return g.fail(err)
	}
	child := exec.Command("/proc/self/exe", g.globalArgs("oci-exec", c.dir)...)
	child.Args[0] = "kshim"
	child.ExtraFiles = []*os.File{readyW, procR}
	child.Env = []string{}
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
	attr := &unix.SysProcAttr{}
	var master *os.File
	if pr.Terminal {
		m, s, err := newPty(pr.ConsoleSize)
		if err != nil {
			readyW.Close()
			procR.Close()
			procW.Close()
			return g.fail(err)
		}
		defer s.Close()
		defer m.Close()
		master = m
		child.Stdin, child.Stdout, child.Stderr = s, s, s
		attr.Setsid, attr.Setctty, attr.Ctty = true, true, 0
	}
	child.SysProcAttr = attr
	err = child.Start()
	readyW.Close()
	procR.Close()
	if err != nil {
		procW.Close()
		return g.fail(fmt.Errorf("exec: %v", err))
	}
	b, _ := json.Marshal(&pr)
	_, _ = procW.Write(b)
	procW.Close()
	if master != nil {
		if err := sendConsole(console, master); err != nil {
			_ = child.Process.Kill()
			_ = child.Wait()
			return g.fail(err)
		}
	}
	msg, _ := io.ReadAll(readyR)
	if string(msg) != "ok" {
		_ = child.Wait()
		if len(msg) == 0 {
			msg = []byte("exec: the exec's kshim ended before the process started")
		}
		return g.fail(errors.New(string(msg)))
	}
	if pidFile != "" {
		if err := writeAtomic(pidFile, []byte(strconv.Itoa(child.Process.Pid)), 0o644); err != nil {
			_ = child.Process.Kill()
			_ = child.Wait()
			return g.fail(fmt.Errorf("pid file: %v", err))
		}
	}
	_ = child.Process.Release()
	return 0
}

func cutColon(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// globalArgs repeats the global flags for a child kshim.
func (g *global) globalArgs(rest ...string) []string {
	a := []string{"--root", g.root, "--log-format", g.logFormat}
	if g.logPath != "" {
		a = append(a, "--log", g.logPath)
	}
	return append(a, rest...)
}

// execProxy is `kshim oci-exec DIR`: the detached exec kshim.
func (g *global) execProxy(dir string, ready, procIn *os.File) int {
	b, err := io.ReadAll(procIn)
	procIn.Close()
	var pr specs.Process
	if err == nil {
		err = json.Unmarshal(b, &pr)
	}
	if err != nil {
		fmt.Fprintf(ready, "exec: reading the process: %v", err)
		ready.Close()
		return 1
	}
	return g.runExec(dir, &pr, ready)
}

// runExec starts pr in the container at dir with this process's stdio,
// tells ready (when not nil) "ok" or the error, relays signals and returns
// the process's status.
func (g *global) runExec(dir string, pr *specs.Process, ready *os.File) int {
	failed := func(err error) int {
		if ready != nil {
			fmt.Fprint(ready, err.Error())
			ready.Close()
			g.log.Error(err.Error())
			return 1
		}
		return g.fail(err)
	}
	s, err := dial(dir)
	if err != nil {
		return failed(fmt.Errorf("exec: the container is not running (%v)", err))
	}
	defer unix.Close(s)
	// Signals are taken before the process exists, so none is lost.
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	if err := send(s, request{Op: "exec", Process: pr, Pid: os.Getpid()}, 0, 1, 2); err != nil {
		return failed(fmt.Errorf("exec: %v", err))
	}
	var r reply
	if _, err := recv(s, &r); err != nil {
		return failed(fmt.Errorf("exec: %v", err))
	}
	if r.Error != "" {
		return failed(errors.New(r.Error))
	}
	if ready != nil {
		fmt.Fprint(ready, "ok")
		ready.Close()
	}
	exits := make(chan reply, 1)
	go func() {
		for {
			var m reply
			if _, err := recv(s, &m); err != nil {
				exits <- reply{Exit: &exit{Status: 128 + int(unix.SIGKILL), Signal: -1}}
				return
			}
			if m.Exit != nil {
				exits <- m
				return
			}
		}
	}()
	for {
		select {
		case m := <-exits:
			switch {
			case m.Exit.Signal > 0:
				return 128 + m.Exit.Signal
			case m.Exit.Signal < 0:
				g.log.Error("exec: the container's kshim went away")
				return m.Exit.Status
			}
			return m.Exit.Status
		case sig := <-sigs:
			n, ok := sig.(unix.Signal)
			if !ok || n == unix.SIGCHLD || n == unix.SIGURG || n == unix.SIGPIPE || n == unix.SIGWINCH {
				continue
			}
			_ = send(s, request{Op: "signal", Signal: int(n)})
		}
	}
}
