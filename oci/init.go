// init.go: the container's kshim, the process `create` leaves behind (its
// pid is the engine's container init). It sets the guest up from the
// plan, says "ready" to create, serves the control socket, boots the guest
// at `start` and exits with the first process's status (128+signal when
// a signal killed it, as a shell and containerd's shim report it), after
// killing whatever else still runs in the guest.
//
// Invariants:
//   - Until `start` no guest instruction runs; a kill before it ends this
//     process as the signal would have ended the container's init.
//   - Every exec'd process is tied to its control connection: when the
//     exec's kshim goes away the process is killed.
//   - Only this process touches the guest; the CLI's other commands
//     reach it through the control socket (control.go).
package oci

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"kshim/sandbox"
	sysnet "kshim/syscalls/net"
	"kshim/vmm"
)

// server is the container's kshim's side of the control socket.
type server struct {
	plan *Plan
	log  *logrus.Logger

	mu      sync.Mutex
	guest   *vmm.Guest
	started bool
	startCh chan struct{}
	execs   map[int]bool // host pids of exec'd processes' kshims (ps)
}

// RunInit is `kshim oci-init STATEDIR`: it runs the container whose plan
// is in STATEDIR, telling create on fd ready whether set-up worked ("ok"
// or the error), and returns the exit status.
func RunInit(dir string, ready *os.File) int {
	plan, err := readPlan(dir)
	if err != nil {
		fmt.Fprintf(ready, "reading the plan: %v", err)
		return 1
	}
	log := newLog(plan.Log, plan.LogFormat)
	srv := &server{plan: plan, log: log, startCh: make(chan struct{}), execs: map[int]bool{}}
	readySent := false
	failSetup := func(err error) int {
		if !readySent {
			fmt.Fprint(ready, err.Error())
			ready.Close()
		}
		log.Error(err.Error())
		return 1
	}
	ls, err := listen(dir)
	if err != nil {
		return failSetup(err)
	}
	if a := plan.Process.OOMScoreAdj; a != nil {
		// The host's OOM killer weighs the container's kshim, which
		// holds the guest's memory, as runc's init would be weighed.
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(*a)), 0); err != nil {
			return failSetup(fmt.Errorf("process.oomScoreAdj %d: %v", *a, unwrapPathErr(err)))
		}
	}
	for k, v := range plan.Sysctl {
		// This process is in the container's network namespace, so
		// /proc/sys/net is that namespace's.
		f := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := os.WriteFile(f, []byte(v), 0); err != nil {
			return failSetup(fmt.Errorf("linux.sysctl %s=%s: %v", k, v, unwrapPathErr(err)))
		}
	}
	prog, guestPath, err := resolveProgram(plan.Rootfs, &plan.Process)
	if err != nil {
		return failSetup(err)
	}
	net := sysnet.NetJoined
	if plan.Net == "host" {
		net = sysnet.NetHost
	}
	uid, gid := int(plan.Process.User.UID), int(plan.Process.User.GID)
	box := &sandbox.Config{User: &sandbox.Identity{UID: uid, GID: gid}, FileCaps: fileCaps(plan.Process.Capabilities)}
	for _, g := range plan.Process.User.AdditionalGids {
		box.Groups = append(box.Groups, int(g))
	}
	if os.Geteuid() != 0 {
		box.User = nil // an unprivileged engine: keep kshim's own identity
	}
	go srv.serve(ls)
	res, err := vmm.Launch(vmm.Config{
		Path: fmt.Sprintf("/proc/self/fd/%d", prog.Fd()), Argv: plan.Process.Args, Env: plan.Process.Env,
		MemSize: plan.Mem, MemReserve: max(plan.Mem, DefaultMem), Log: log, Root: plan.Rootfs, Writable: !plan.Readonly, Net: net,
		KillOrphans: true, MaxTasks: plan.MaxTasks, Hostname: plan.Hostname, Sandbox: box,
		Cwd: plan.Process.Cwd, Rlimits: Rlimits(&plan.Process), Mounts: plan.Mounts,
		MaskedPaths: plan.MaskedPaths, ReadonlyPaths: plan.ReadonlyPaths, MakeMountParents: true,
		Ready: func(g *vmm.Guest) error {
			srv.mu.Lock()
			srv.guest = g
			srv.mu.Unlock()
			fmt.Fprint(ready, "ok")
			ready.Close()
			readySent = true
			<-srv.startCh
			return nil
		},
	})
	_ = guestPath
	if err != nil {
		var le *vmm.LoadError
		if errors.As(err, &le) {
			failSetup(fmt.Errorf("%s: %v", plan.Process.Args[0], le.Err))
			return le.Status
		}
		return failSetup(err)
	}
	if res.Signal != 0 {
		return 128 + int(res.Signal)
	}
	return res.ExitStatus
}

// fileCaps are the file capabilities (the only ones a kshim guest's
// identity uses: sandbox/identity.go) in the process's effective set;
// none without a capabilities section, as for runc.
func fileCaps(c *specs.LinuxCapabilities) []int {
	names := map[string]int{"CAP_CHOWN": unix.CAP_CHOWN, "CAP_DAC_OVERRIDE": unix.CAP_DAC_OVERRIDE,
		"CAP_DAC_READ_SEARCH": unix.CAP_DAC_READ_SEARCH, "CAP_FOWNER": unix.CAP_FOWNER, "CAP_FSETID": unix.CAP_FSETID}
	out := []int{}
	if c == nil {
		return out
	}
	for _, n := range c.Effective {
		if v, ok := names[n]; ok {
			out = append(out, v)
		}
	}
	return out
}

// resolveProgram opens process.args[0] inside the rootfs as execvp would
// find it (PATH from the process's environment), never leaving the rootfs.
func resolveProgram(rootfs string, pr *specs.Process) (*os.File, string, error) {
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", fmt.Errorf("rootfs %s: %v", rootfs, err)
	}
	defer unix.Close(root)
	name := pr.Args[0]
	var cands []string
	search := false
	switch {
	case strings.HasPrefix(name, "/"):
		cands = []string{name}
	case strings.Contains(name, "/"):
		cands = []string{path.Join(pr.Cwd, name)}
	default:
		search = true
		p := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		for _, e := range pr.Env {
			if v, ok := strings.CutPrefix(e, "PATH="); ok {
				p = v
			}
		}
		for _, d := range strings.Split(p, ":") {
			if d == "" {
				d = "."
			}
			if !strings.HasPrefix(d, "/") {
				d = path.Join(pr.Cwd, d)
			}
			cands = append(cands, path.Join(d, name))
		}
	}
	var firstErr error
	for _, c := range cands {
		fd, err := unix.Openat2(root, c, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK,
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
		if err != nil {
			if firstErr == nil && err != unix.ENOENT {
				firstErr = fmt.Errorf("exec: %q: %s: %v", name, c, err)
			}
			continue
		}
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0 {
			unix.Close(fd)
			if firstErr == nil {
				firstErr = fmt.Errorf("exec: %q: %s: permission denied (not an executable file)", name, c)
			}
			continue
		}
		return os.NewFile(uintptr(fd), c), c, nil
	}
	if firstErr != nil {
		return nil, "", firstErr
	}
	if !search {
		return nil, "", fmt.Errorf("exec: %q: no such file or directory in the container", name)
	}
	return nil, "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

// serve accepts control connections until the process ends.
func (s *server) serve(ls int) {
	for {
		c, _, err := unix.Accept4(ls, unix.SOCK_CLOEXEC)
		if err != nil {
			if err == unix.EINTR || err == unix.ECONNABORTED {
				continue
			}
			s.log.WithError(err).Error("control socket")
			return
		}
		go s.handle(c)
	}
}

func (s *server) handle(c int) {
	var req request
	fds, err := recv(c, &req)
	if err != nil {
		unix.Close(c)
		return
	}
	if req.Op == "exec" {
		s.exec(c, &req, fds) // owns c and fds
		return
	}
	closeAll(fds)
	defer unix.Close(c)
	r := s.do(&req)
	_ = send(c, r)
	if r.exitAfter != 0 {
		// Killed before start: the reply is out, now end as the
		// signal would have ended the container's init.
		os.Exit(r.exitAfter)
	}
}

// statusLocked is the container's status; s.mu held.
func (s *server) statusLocked() string {
	switch {
	case !s.started:
		return string(specs.StateCreated)
	case s.guest.Frozen():
		return "paused"
	}
	return string(specs.StateRunning)
}

func (s *server) do(req *request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.guest == nil {
		return reply{Error: "the container is still being created"}
	}
	switch req.Op {
	case "state":
		return reply{Status: s.statusLocked()}
	case "start":
		if s.started {
			return reply{Error: "the container has already been started"}
		}
		s.started = true
		close(s.startCh)
		return reply{}
	case "kill":
		sig := unix.Signal(req.Signal)
		if !s.started {
			// Nothing runs yet: the container's init ends as the
			// signal would end it (runc's init waits with default
			// dispositions too).
			if defaultIgnored(sig) || sig == 0 {
				return reply{}
			}
			s.log.WithField("signal", unix.SignalName(sig)).Debug("killed before start")
			return reply{exitAfter: 128 + int(sig)}
		}
		pid := s.guest.FirstPid()
		if req.All {
			pid = -1
		}
		err := s.guest.Signal(pid, sig)
		if sig == unix.SIGKILL && s.guest.Frozen() {
			s.guest.Thaw() // a paused container's processes die when killed
		}
		if err != nil {
			return reply{Error: fmt.Sprintf("kill: %v", err)}
		}
		return reply{}
	case "pause":
		if !s.started {
			return reply{Error: "the container is not running"}
		}
		if err := s.guest.Freeze(); err != nil {
			s.guest.Thaw()
			return reply{Error: fmt.Sprintf("pause: %v", err)}
		}
		return reply{}
	case "resume":
		if !s.guest.Frozen() {
			return reply{Error: "the container is not paused"}
		}
		s.guest.Thaw()
		return reply{}
	case "ps":
		pids := []int{os.Getpid()}
		for p := range s.execs {
			pids = append(pids, p)
		}
		return reply{Pids: pids}
	case "update":
		if s.guest == nil {
			return reply{Error: "the container is not set up"}
		}
		return s.update(req.Resources)
	}
	return reply{Error: fmt.Sprintf("unknown request %q", req.Op)}
}

// defaultIgnored: signals whose default action is to do nothing.
func defaultIgnored(sig unix.Signal) bool {
	switch sig {
	case unix.SIGCHLD, unix.SIGCONT, unix.SIGURG, unix.SIGWINCH:
		return true
	}
	return false
}

// update applies new resource limits where kshim can.
func (s *server) update(r *specs.LinuxResources) reply {
	if r == nil {
		return reply{}
	}
	if m := r.Memory; m != nil && m.Limit != nil && *m.Limit != 0 {
		// -1 (unlimited) is as much as was reserved at create.
		n := max(s.plan.Mem, DefaultMem)
		if *m.Limit > 0 {
			n = uint64(*m.Limit)
		}
		if err := s.guest.SetMemoryLimit(n); err != nil {
			return reply{Error: fmt.Sprintf("update: memory limit: %v", err)}
		}
	}
	if r.Pids != nil && r.Pids.Limit > 0 && int(r.Pids.Limit) != s.plan.MaxTasks {
		return reply{Error: "update: kshim cannot change a running container's pids limit"}
	}
	return reply{}
}

// exec runs one exec request: start the process, reply with its pid,
// relay signals, send its exit.
func (s *server) exec(c int, req *request, fds []int) {
	defer unix.Close(c)
	fail := func(format string, a ...any) {
		closeAll(fds)
		_ = send(c, reply{Error: fmt.Sprintf(format, a...)})
	}
	s.mu.Lock()
	g, started := s.guest, s.started
	s.mu.Unlock()
	if g == nil || !started {
		fail("exec: the container is not running")
		return
	}
	pr := req.Process
	if pr == nil || len(pr.Args) == 0 {
		fail("exec: no process args")
		return
	}
	if len(fds) != 3 {
		fail("exec: want 3 stdio fds, got %d", len(fds))
		return
	}
	if pr.Cwd == "" {
		pr.Cwd = "/"
	}
	if err := checkProcess(pr, func(string) {}); err != nil {
		fail("exec: %v", err)
		return
	}
	if pr.User.UID != s.plan.Process.User.UID || pr.User.GID != s.plan.Process.User.GID {
		fail("exec: user %d:%d differs from the container's %d:%d: every process of a kshim guest runs as one host identity",
			pr.User.UID, pr.User.GID, s.plan.Process.User.UID, s.plan.Process.User.GID)
		return
	}
	prog, guestPath, err := resolveProgram(s.plan.Rootfs, pr)
	if err != nil {
		fail("%v", err)
		return
	}
	defer prog.Close()
	host, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", prog.Fd()))
	if err != nil {
		host = guestPath
	}
	p, err := g.Exec(vmm.ExecConfig{Prog: prog, HostPath: host, Path: guestPath, Argv: pr.Args, Env: pr.Env,
		Cwd: pr.Cwd, Stdio: [3]int{fds[0], fds[1], fds[2]}, Rlimits: Rlimits(pr)})
	closeAll(fds)
	if err != nil {
		_ = send(c, reply{Error: fmt.Sprintf("exec: %v", err)})
		return
	}
	s.mu.Lock()
	s.execs[req.Pid] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.execs, req.Pid)
		s.mu.Unlock()
	}()
	if err := send(c, reply{Pid: p.Pid()}); err != nil {
		_ = p.Signal(unix.SIGKILL)
	}
	done := make(chan exit, 1)
	go func() {
		st, sig := p.Wait()
		done <- exit{Status: st, Signal: int(sig)}
	}()
	// The reader ends when the connection does; shutdown (not close)
	// wakes its recvmsg, so no goroutine reads an fd number that may be
	// reused.
	msgs, quit, readerDone := make(chan request), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			var m request
			fds, err := recv(c, &m)
			closeAll(fds)
			if err != nil {
				close(msgs)
				return
			}
			select {
			case msgs <- m:
			case <-quit:
				return
			}
		}
	}()
	defer func() {
		close(quit)
		_ = unix.Shutdown(c, unix.SHUT_RDWR)
		<-readerDone
	}()
	for {
		select {
		case e := <-done:
			_ = send(c, reply{Exit: &e})
			return
		case m, ok := <-msgs:
			if !ok {
				// The exec's kshim is gone: so is the process.
				_ = p.Signal(unix.SIGKILL)
				msgs = nil
				continue
			}
			if m.Op == "signal" {
				_ = p.Signal(unix.Signal(m.Signal))
			}
		}
	}
}
