// cli.go: kshim's OCI runtime command line, runc's contract as
// containerd's runc shim (io.containerd.runc.v2), Docker and CRI use it:
//
//	kshim [--root DIR] [--log FILE] [--log-format text|json] [--debug] [--systemd-cgroup] COMMAND ...
//
// with create, start, state, kill, delete, pause, resume, ps, exec,
// update, list and features. Errors go to stderr and, as one
// `level=error` line, to --log, whose last error line the shim shows the
// user. Every command that fails leaves the container as it found it
// (create: no state directory, no process).
package oci

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Commands are the OCI verbs Main serves.
var Commands = map[string]bool{"create": true, "start": true, "state": true, "kill": true, "delete": true,
	"pause": true, "resume": true, "ps": true, "exec": true, "update": true, "list": true, "features": true,
	"oci-init": true, "oci-exec": true}

// global is the state every command shares.
type global struct {
	root, logPath, logFormat string
	log                      *logrus.Logger
}

// newLog logs to path (stderr when empty) as text or json.
func newLog(path, format string) *logrus.Logger {
	log := logrus.New()
	log.SetLevel(logrus.InfoLevel)
	if format == "json" {
		log.SetFormatter(&logrus.JSONFormatter{})
	}
	log.SetOutput(os.Stderr)
	if path != "" {
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			log.SetOutput(f)
		}
	}
	return log
}

// fail reports err as the command's one error line and returns 1.
func (g *global) fail(err error) int {
	g.log.Error(err.Error())
	if g.logPath != "" {
		fmt.Fprintf(os.Stderr, "kshim: %v\n", err)
	}
	return 1
}

// Main runs kshim's OCI command line (args without the program name).
func Main(args []string) int {
	fs := flag.NewFlagSet("kshim", flag.ContinueOnError)
	g := &global{}
	fs.StringVar(&g.root, "root", DefaultRoot, "directory for the containers' state")
	fs.StringVar(&g.logPath, "log", "", "log file (default stderr)")
	fs.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	debug := fs.Bool("debug", false, "log debug messages")
	fs.Bool("systemd-cgroup", false, "accepted for runc compatibility; kshim manages no cgroups")
	fs.String("rootless", "auto", "accepted for runc compatibility")
	fs.String("criu", "", "accepted for runc compatibility; checkpointing is not supported")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	g.log = newLog(g.logPath, g.logFormat)
	if *debug {
		g.log.SetLevel(logrus.DebugLevel)
	}
	if fs.NArg() == 0 {
		return g.fail(errors.New("missing command"))
	}
	verb, rest := fs.Arg(0), fs.Args()[1:]
	if r, err := filepath.Abs(g.root); err == nil {
		g.root = r
	}
	switch verb {
	case "create":
		return g.create(rest)
	case "start":
		return g.start(rest)
	case "state":
		return g.stateCmd(rest)
	case "kill":
		return g.kill(rest)
	case "delete":
		return g.delete(rest)
	case "pause", "resume":
		return g.pause(verb, rest)
	case "ps":
		return g.ps(rest)
	case "exec":
		return g.exec(rest)
	case "update":
		return g.update(rest)
	case "list":
		return g.list(rest)
	case "features":
		return g.features()
	case "oci-init":
		if len(rest) != 1 {
			return 2
		}
		return RunInit(rest[0], os.NewFile(3, "ready"))
	case "oci-exec":
		if len(rest) != 1 {
			return 2
		}
		return g.execProxy(rest[0], os.NewFile(3, "ready"), os.NewFile(4, "process"))
	case "run":
		return g.fail(errors.New("kshim has no OCI run command: use create, then start (`kshim run PROG` runs a program directly)"))
	}
	return g.fail(fmt.Errorf("unknown command %q", verb))
}

// flags makes a command's flag set; -x and --x are the same to Go's flag
// package, and runc's one-letter aliases are registered beside.
func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func strFlag(fs *flag.FlagSet, p *string, names ...string) {
	for _, n := range names {
		fs.StringVar(p, n, "", "")
	}
}

func boolFlag(fs *flag.FlagSet, p *bool, names ...string) {
	for _, n := range names {
		fs.BoolVar(p, n, false, "")
	}
}

// parse parses args and wants exactly want positional arguments (-1: at
// least one).
func parse(fs *flag.FlagSet, args []string, want int) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%s: %v", fs.Name(), err)
	}
	// runc allows flags after the id too.
	pos := fs.Args()
	if want == 1 && len(pos) > 1 {
		if err := fs.Parse(pos[1:]); err != nil {
			return nil, fmt.Errorf("%s: %v", fs.Name(), err)
		}
		pos = append([]string{pos[0]}, fs.Args()...)
	}
	if (want >= 0 && len(pos) != want) || (want < 0 && len(pos) == 0) {
		return nil, fmt.Errorf("%s: want a container id", fs.Name())
	}
	return pos, nil
}

func (g *global) create(args []string) int {
	fs := flags("create")
	var bundle, pidFile, console string
	var ignore bool
	var preserve int
	strFlag(fs, &bundle, "bundle", "b")
	strFlag(fs, &pidFile, "pid-file")
	strFlag(fs, &console, "console-socket")
	boolFlag(fs, &ignore, "no-pivot", "no-new-keyring")
	fs.IntVar(&preserve, "preserve-fds", 0, "")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return g.fail(err)
	}
	id := pos[0]
	if err := CheckID(id); err != nil {
		return g.fail(err)
	}
	if preserve != 0 {
		return g.fail(errors.New("create: --preserve-fds is not supported by kshim"))
	}
	if bundle == "" {
		bundle = "."
	}
	plan, err := LoadBundle(bundle, func(w string) { g.log.Debug(w) })
	if err != nil {
		return g.fail(err)
	}
	if plan.Process.Terminal && console == "" {
		return g.fail(errors.New("create: process.terminal needs --console-socket"))
	}
	plan.ID, plan.Log, plan.LogFormat = id, g.logPath, g.logFormat
	if err := os.MkdirAll(g.root, 0o711); err != nil {
		return g.fail(fmt.Errorf("state directory %s: %v", g.root, err))
	}
	dir := stateDir(g.root, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return g.fail(fmt.Errorf("container with id %q already exists", id))
		}
		return g.fail(fmt.Errorf("state directory %s: %v", dir, err))
	}
	// From here every failure removes what was made.
	var child *exec.Cmd
	cleanup := func(err error) int {
		if child != nil && child.Process != nil {
			_ = child.Process.Kill()
			_ = child.Wait()
		}
		os.RemoveAll(dir)
		return g.fail(err)
	}
	b, _ := json.Marshal(plan)
	if err := writeAtomic(filepath.Join(dir, "plan.json"), b, 0o600); err != nil {
		return cleanup(err)
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return cleanup(err)
	}
	defer readyR.Close()
	child = exec.Command("/proc/self/exe", "oci-init", dir)
	child.Args[0] = "kshim"
	child.ExtraFiles = []*os.File{readyW}
	child.Env = []string{}
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
	attr := &unix.SysProcAttr{Setsid: true}
	var master *os.File
	if plan.Process.Terminal {
		m, s, err := newPty(plan.Process.ConsoleSize)
		if err != nil {
			readyW.Close()
			child = nil
			return cleanup(err)
		}
		defer s.Close()
		master = m
		defer master.Close()
		child.Stdin, child.Stdout, child.Stderr = s, s, s
		attr.Setctty, attr.Ctty = true, 0
	}
	switch plan.Net {
	case "host":
	case "new":
		attr.Cloneflags = unix.CLONE_NEWNET
	default:
		// Join the namespace on this thread only, and start the child
		// from it: a new process takes its creator thread's namespaces.
		runtime.LockOSThread()
		nfd, err := unix.Open(plan.Net, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			err = unix.Setns(nfd, unix.CLONE_NEWNET)
			unix.Close(nfd)
		}
		if err != nil {
			readyW.Close()
			child = nil
			return cleanup(fmt.Errorf("network namespace %s: %v", plan.Net, err))
		}
	}
	child.SysProcAttr = attr
	err = child.Start()
	readyW.Close()
	if err != nil {
		child = nil
		return cleanup(fmt.Errorf("starting the container's kshim: %v", err))
	}
	if master != nil {
		if err := sendConsole(console, master); err != nil {
			return cleanup(err)
		}
	}
	msg, _ := io.ReadAll(readyR)
	if string(msg) != "ok" {
		if len(msg) == 0 {
			msg = []byte("the container's kshim ended during set-up")
		}
		return cleanup(errors.New(string(msg)))
	}
	pid := child.Process.Pid
	start, _ := procStart(pid)
	c := &container{dir: dir, rec: record{ID: id, Bundle: plan.Bundle, Pid: pid, StartTime: start,
		Created: time.Now().UTC(), Annotations: plan.Annotations}}
	if err := c.save(); err != nil {
		return cleanup(err)
	}
	if h := plan.Hooks; h != nil {
		st := specs.State{Version: specs.Version, ID: id, Status: specs.StateCreating, Pid: pid, Bundle: plan.Bundle, Annotations: plan.Annotations}
		if err := runHooks("prestart", h.Prestart, st); err != nil {
			return cleanup(err)
		}
		if err := runHooks("createRuntime", h.CreateRuntime, st); err != nil {
			return cleanup(err)
		}
	}
	if pidFile != "" {
		if err := writeAtomic(pidFile, []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return cleanup(fmt.Errorf("pid file: %v", err))
		}
	}
	// The child outlives create: the engine's shim (a subreaper) adopts it.
	_ = child.Process.Release()
	return 0
}

func (g *global) load(id string) (*container, error) { return loadContainer(g.root, id) }

// target parses a verb's flags, which leave exactly the container's id, and
// loads that container: the opening of most verbs.
func (g *global) target(fs *flag.FlagSet, args []string) (*container, error) {
	pos, err := parse(fs, args, 1)
	if err != nil {
		return nil, err
	}
	return g.load(pos[0])
}

func (g *global) start(args []string) int {
	c, err := g.target(flags("start"), args)
	if err != nil {
		return g.fail(err)
	}
	if st := c.status(); st != specs.StateCreated {
		return g.fail(fmt.Errorf("cannot start a container in the %s state", st))
	}
	if _, err := c.call(request{Op: "start"}); err != nil {
		return g.fail(fmt.Errorf("start: %v", err))
	}
	if plan, err := c.plan(); err == nil && plan.Hooks != nil {
		st := c.state()
		if err := runHooks("poststart", plan.Hooks.Poststart, st); err != nil {
			g.log.Warn(err.Error()) // the spec: warn, the container goes on
		}
	}
	return 0
}

func (g *global) stateCmd(args []string) int {
	c, err := g.target(flags("state"), args)
	if err != nil {
		return g.fail(err)
	}
	b, _ := json.MarshalIndent(c.state(), "", "  ")
	fmt.Println(string(b))
	return 0
}

// parseSignal reads 9, KILL or SIGKILL.
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal %q", s)
}

func (g *global) kill(args []string) int {
	fs := flags("kill")
	var all bool
	boolFlag(fs, &all, "all", "a")
	if err := fs.Parse(args); err != nil {
		return g.fail(err)
	}
	pos := fs.Args()
	if len(pos) < 1 || len(pos) > 2 {
		return g.fail(errors.New("kill: want a container id and an optional signal"))
	}
	sig := unix.SIGTERM
	if len(pos) == 2 {
		var err error
		if sig, err = parseSignal(pos[1]); err != nil {
			return g.fail(err)
		}
	}
	c, err := g.load(pos[0])
	if err != nil {
		return g.fail(err)
	}
	if c.status() == specs.StateStopped {
		return g.fail(errors.New("container not running"))
	}
	if _, err := c.call(request{Op: "kill", Signal: int(sig), All: all}); err != nil {
		if errors.Is(err, errClosed) && !c.alive() {
			return g.fail(errors.New("container not running"))
		}
		return g.fail(err)
	}
	return 0
}

func (g *global) delete(args []string) int {
	fs := flags("delete")
	var force bool
	boolFlag(fs, &force, "force", "f")
	c, err := g.target(fs, args)
	if err != nil {
		var ne errNotExist
		if force && errors.As(err, &ne) {
			return 0 // deleting twice is not an error with --force
		}
		return g.fail(err)
	}
	if st := c.status(); st != specs.StateStopped {
		if st != specs.StateCreated && !force {
			return g.fail(fmt.Errorf("cannot delete container %s that is not stopped: %s", c.rec.ID, st))
		}
		if err := c.stop(); err != nil {
			return g.fail(err)
		}
	}
	if plan, err := c.plan(); err == nil && plan.Hooks != nil {
		st := specs.State{Version: specs.Version, ID: c.rec.ID, Status: specs.StateStopped, Bundle: c.rec.Bundle, Annotations: c.rec.Annotations}
		if err := runHooks("poststop", plan.Hooks.Poststop, st); err != nil {
			g.log.Warn(err.Error())
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return g.fail(err)
	}
	return 0
}

// stop kills the container's kshim (every guest task is one of its
// threads) and waits until it is gone.
func (c *container) stop() error {
	if !c.alive() {
		return nil
	}
	if err := unix.Kill(c.rec.Pid, unix.SIGKILL); err != nil && err != unix.ESRCH {
		return fmt.Errorf("killing the container's kshim (pid %d): %v", c.rec.Pid, err)
	}
	for i := 0; i < 1000 && c.alive(); i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if c.alive() {
		return fmt.Errorf("the container's kshim (pid %d) did not end", c.rec.Pid)
	}
	return nil
}

func (g *global) pause(verb string, args []string) int {
	c, err := g.target(flags(verb), args)
	if err != nil {
		return g.fail(err)
	}
	st := c.status()
	if verb == "pause" && st != specs.StateRunning || verb == "resume" && st != "paused" {
		return g.fail(fmt.Errorf("cannot %s a container in the %s state", verb, st))
	}
	if _, err := c.call(request{Op: verb}); err != nil {
		return g.fail(err)
	}
	return 0
}

func (g *global) ps(args []string) int {
	fs := flags("ps")
	var format string
	strFlag(fs, &format, "format", "f")
	if err := fs.Parse(args); err != nil {
		return g.fail(err)
	}
	if fs.NArg() < 1 {
		return g.fail(errors.New("ps: want a container id"))
	}
	c, err := g.load(fs.Arg(0))
	if err != nil {
		return g.fail(err)
	}
	var pids []int
	if c.status() != specs.StateStopped {
		r, err := c.call(request{Op: "ps"})
		if err != nil {
			return g.fail(err)
		}
		pids = r.Pids
	}
	sort.Ints(pids)
	if pids == nil {
		pids = []int{}
	}
	if format == "json" {
		b, _ := json.Marshal(pids)
		fmt.Println(string(b))
		return 0
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 1, ' ', 0)
	fmt.Fprintln(w, "PID\tCMD")
	for _, p := range pids {
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		fmt.Fprintf(w, "%d\t%s\n", p, strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " ")))
	}
	w.Flush()
	return 0
}

func (g *global) update(args []string) int {
	fs := flags("update")
	var res string
	strFlag(fs, &res, "resources", "r")
	c, err := g.target(fs, args)
	if err != nil {
		return g.fail(err)
	}
	var r specs.LinuxResources
	if res != "" {
		var b []byte
		if res == "-" {
			b, err = io.ReadAll(os.Stdin)
		} else {
			b, err = os.ReadFile(res)
		}
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		if err != nil {
			return g.fail(fmt.Errorf("update: resources: %v", err))
		}
	}
	if c.status() == specs.StateStopped {
		return g.fail(errors.New("container not running"))
	}
	if _, err := c.call(request{Op: "update", Resources: &r}); err != nil {
		return g.fail(err)
	}
	return 0
}

func (g *global) list(args []string) int {
	fs := flags("list")
	var format string
	var quiet bool
	strFlag(fs, &format, "format", "f")
	boolFlag(fs, &quiet, "quiet", "q")
	if err := fs.Parse(args); err != nil {
		return g.fail(err)
	}
	ents, _ := os.ReadDir(g.root)
	var out []specs.State
	for _, e := range ents {
		if c, err := g.load(e.Name()); err == nil {
			out = append(out, c.state())
		}
	}
	switch {
	case quiet:
		for _, s := range out {
			fmt.Println(s.ID)
		}
	case format == "json":
		b, _ := json.Marshal(out)
		fmt.Println(string(b))
	default:
		w := tabwriter.NewWriter(os.Stdout, 0, 8, 1, ' ', 0)
		fmt.Fprintln(w, "ID\tPID\tSTATUS\tBUNDLE")
		for _, s := range out {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle)
		}
		w.Flush()
	}
	return 0
}

func (g *global) features() int {
	f := map[string]any{
		"ociVersionMin": "1.0.0",
		"ociVersionMax": specs.Version,
		"hooks":         []string{"prestart", "createRuntime", "poststart", "poststop"},
		// What kshim's mount table (syscalls/fs/mount) takes.
		"mountOptions": []string{"ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "relatime",
			"noatime", "strictatime", "norelatime", "nodiratime", "diratime", "bind", "rbind", "private",
			"rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable", "defaults",
			"size", "mode", "uid", "gid"},
		"linux": map[string]any{
			"namespaces": []string{"pid", "network", "ipc", "uts", "mount", "cgroup"},
		},
	}
	b, _ := json.MarshalIndent(f, "", "  ")
	fmt.Println(string(b))
	return 0
}
