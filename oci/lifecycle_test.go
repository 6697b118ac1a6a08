package oci

// The runtime's whole life cycle through its command line, as an engine
// drives it, with this test binary as kshim (TestMain hands runc-style
// invocations, the container's kshim's included, to Main). Needs root and
// /dev/kvm, and busybox-static for the container's programs.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (Commands[os.Args[1]] || os.Args[1] == "--root") {
		os.Exit(Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// rig is a state root and a busybox bundle.
type rig struct {
	t            *testing.T
	root, bundle string
	log          string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := os.Stat("/dev/kvm"); err != nil {
		t.Skip("needs /dev/kvm")
	}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("needs busybox-static")
	}
	d := t.TempDir()
	r := &rig{t: t, root: filepath.Join(d, "state"), bundle: filepath.Join(d, "bundle"), log: filepath.Join(d, "log.json")}
	rootfs := filepath.Join(r.bundle, "rootfs")
	for _, sub := range []string{"bin", "tmp", "proc", "dev"} {
		if err := os.MkdirAll(filepath.Join(rootfs, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin/busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"sh", "echo", "sleep", "cat", "test", "hostname", "pwd", "true", "id", "head", "kill", "nc"} {
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// config writes config.json: process args, plus edit applied to the spec.
func (r *rig) config(args []string, edit func(*specs.Spec)) {
	s := &specs.Spec{Version: "1.0.2", Root: &specs.Root{Path: "rootfs"}, Hostname: "kbox",
		Process: &specs.Process{Args: args, Env: []string{"PATH=/bin"}, Cwd: "/tmp"},
		Mounts:  []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}},
		Linux:   &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: "pid"}, {Type: "network"}, {Type: "mount"}}},
	}
	if edit != nil {
		edit(s)
	}
	b, _ := json.Marshal(s)
	if err := os.WriteFile(filepath.Join(r.bundle, "config.json"), b, 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// kshim runs the runtime's command line; stdout, stderr (the log goes to
// r.log) and exit status.
func (r *rig) kshim(stdin string, args ...string) (string, string, int) {
	r.t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--root", r.root, "--log", r.log, "--log-format", "json"}, args...)...)
	// Files, not pipes: a container's kshim keeps create's stdio (as
	// with an engine's fifos), and a pipe would not end with create.
	dir := r.t.TempDir()
	out, err1 := os.Create(filepath.Join(dir, "out"))
	errf, err2 := os.Create(filepath.Join(dir, "err"))
	if err1 != nil || err2 != nil {
		r.t.Fatal(err1, err2)
	}
	defer out.Close()
	defer errf.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), out, errf
	err := cmd.Run()
	st := 0
	if ee, ok := err.(*exec.ExitError); ok {
		st = ee.ExitCode()
	} else if err != nil {
		r.t.Fatal(err)
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	return string(o), string(e), st
}

func (r *rig) must(args ...string) string {
	r.t.Helper()
	out, errs, st := r.kshim("", args...)
	if st != 0 {
		r.t.Fatalf("kshim %s: status %d: %s", strings.Join(args, " "), st, errs)
	}
	return out
}

func (r *rig) status(id string) string {
	r.t.Helper()
	var s specs.State
	if err := json.Unmarshal([]byte(r.must("state", id)), &s); err != nil {
		r.t.Fatal(err)
	}
	return string(s.Status)
}

func (r *rig) waitStatus(id, want string) {
	r.t.Helper()
	for i := 0; i < 200; i++ {
		if r.status(id) == want {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	r.t.Fatalf("%s: status %s, want %s", id, r.status(id), want)
}

// lastError is the log's last level=error message (what containerd shows).
func (r *rig) lastError() string {
	b, _ := os.ReadFile(r.log)
	msg := ""
	for _, l := range strings.Split(string(b), "\n") {
		var e struct{ Level, Msg string }
		if json.Unmarshal([]byte(l), &e) == nil && e.Level == "error" {
			msg = e.Msg
		}
	}
	return msg
}

// leftovers lists processes whose command line names this rig's state
// root (a container's or an exec's kshim still running).
func (r *rig) leftovers() []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(b, []byte(r.root)) {
			if st, ok := procStart(atoi(e.Name())); ok && st > 0 {
				out = append(out, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
			}
		}
	}
	return out
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func TestLifecycle(t *testing.T) {
	r := newRig(t)
	hooks := filepath.Join(filepath.Dir(r.bundle), "hooks")
	if err := os.Mkdir(hooks, 0o755); err != nil {
		t.Fatal(err)
	}
	hook := func(name string) specs.Hook {
		// Each hook saves the state it is given on stdin.
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > " + filepath.Join(hooks, name)}}
	}
	r.config([]string{"sh", "-c", "echo $$ > /tmp/pid; i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done"}, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Prestart: []specs.Hook{hook("prestart")}, CreateRuntime: []specs.Hook{hook("createRuntime")},
			Poststart: []specs.Hook{hook("poststart")}, Poststop: []specs.Hook{hook("poststop")}}
		s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		adj := 500
		s.Process.OOMScoreAdj = &adj
	})
	pidFile := filepath.Join(r.root, "..", "init.pid")
	r.must("create", "--bundle", r.bundle, "--pid-file", pidFile, "c1")
	defer r.kshim("", "delete", "--force", "c1")
	if st := r.status("c1"); st != "created" {
		t.Fatalf("after create: %s", st)
	}
	pidb, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"prestart", "createRuntime"} {
		var s specs.State
		b, _ := os.ReadFile(filepath.Join(hooks, h))
		if err := json.Unmarshal(b, &s); err != nil || s.ID != "c1" || fmt.Sprint(s.Pid) != string(pidb) {
			t.Errorf("%s hook got %q (%v), want c1's state with pid %s", h, b, err, pidb)
		}
	}
	if b, err := os.ReadFile("/proc/" + string(pidb) + "/oom_score_adj"); err != nil || string(b) != "500\n" {
		t.Errorf("the container's kshim's oom_score_adj: %q %v, want 500", b, err)
	}
	// The container's kshim lives in the container's own network
	// namespace (a prestart hook may configure it through
	// /proc/PID/ns/net), where the sysctl was set.
	ns, err := os.Readlink("/proc/" + string(pidb) + "/ns/net")
	own, _ := os.Readlink("/proc/self/ns/net")
	if err != nil || ns == own {
		t.Errorf("the container's network namespace %q (%v) is the host's %q", ns, err, own)
	}
	if out, err := exec.Command("nsenter", "--net=/proc/"+string(pidb)+"/ns/net", "cat", "/proc/sys/net/ipv4/ip_forward").Output(); err != nil || string(out) != "1\n" {
		t.Errorf("net.ipv4.ip_forward in the container's namespace: %q %v", out, err)
	}
	if _, err := os.Stat(filepath.Join(r.bundle, "rootfs/tmp/pid")); err == nil {
		t.Errorf("the guest ran before start")
	}
	r.must("start", "c1")
	r.waitStatus("c1", "running")
	if _, err := os.Stat(filepath.Join(hooks, "poststart")); err != nil {
		t.Errorf("poststart hook: %v", err)
	}

	// exec: output, status, same file system and host name.
	out, errs, st := r.kshim("", "exec", "c1", "sh", "-c", "cat /tmp/pid >/dev/null && hostname && pwd && exit 4")
	if st != 4 || out != "kbox\n/tmp\n" {
		t.Errorf("exec: status %d out %q err %q", st, out, errs)
	}
	// A detached exec: its kshim's pid is the process the engine waits on.
	xpid := filepath.Join(filepath.Dir(r.root), "exec.pid")
	proc := filepath.Join(filepath.Dir(r.root), "proc.json")
	pj, _ := json.Marshal(specs.Process{Args: []string{"sh", "-c", "exit 9"}, Cwd: "/", Env: []string{"PATH=/bin"}})
	os.WriteFile(proc, pj, 0o644)
	r.must("exec", "--process", proc, "--detach", "--pid-file", xpid, "c1")
	if b, err := os.ReadFile(xpid); err != nil || atoi(string(b)) <= 0 {
		t.Errorf("exec --pid-file: %q %v", b, err)
	}
	// An exec of a missing program fails with one clear line.
	if _, _, st := r.kshim("", "exec", "c1", "nosuch"); st == 0 || !strings.Contains(r.lastError(), "executable file not found") {
		t.Errorf("exec nosuch: status %d, log %q", st, r.lastError())
	}

	var pids []int
	if err := json.Unmarshal([]byte(r.must("ps", "--format", "json", "c1")), &pids); err != nil || len(pids) == 0 || fmt.Sprint(pids[0]) != string(pidb) {
		t.Errorf("ps: %v %v", pids, err)
	}

	// update: the memory limit moves within what was reserved at create
	// (1G: no limit in the spec), and the guest sees it.
	if _, errs, st := r.kshim(`{"memory":{"limit":536870912}}`, "update", "--resources", "-", "c1"); st != 0 {
		t.Errorf("update to 512M: status %d: %s", st, errs)
	}
	if out, _, _ := r.kshim("", "exec", "c1", "sh", "-c", "head -1 /proc/meminfo"); !strings.Contains(out, " 524288 kB") {
		t.Errorf("MemTotal after update to 512M: %q", out)
	}
	if _, _, st := r.kshim(`{"memory":{"limit":4294967296}}`, "update", "--resources", "-", "c1"); st == 0 || !strings.Contains(r.lastError(), "reserved") {
		t.Errorf("update to 4G: status %d, log %q", st, r.lastError())
	}

	count := func() string {
		b, _ := os.ReadFile(filepath.Join(r.bundle, "rootfs/tmp/n"))
		return string(b)
	}
	r.must("pause", "c1")
	if st := r.status("c1"); st != "paused" {
		t.Errorf("after pause: %s", st)
	}
	n1 := count()
	time.Sleep(500 * time.Millisecond)
	if n2 := count(); n2 != n1 {
		t.Errorf("the guest counted while paused: %q -> %q", n1, n2)
	}
	if _, _, st := r.kshim("", "exec", "c1", "true"); st == 0 {
		t.Errorf("exec into a paused container worked")
	}
	r.must("resume", "c1")
	if st := r.status("c1"); st != "running" {
		t.Errorf("after resume: %s", st)
	}
	for i := 0; count() == n1; i++ {
		if i == 200 {
			t.Fatalf("the guest does not count after resume (%q)", n1)
		}
		time.Sleep(25 * time.Millisecond)
	}

	// SIGTERM to an init without a handler is dropped, as for a pid
	// namespace's init; SIGKILL ends it.
	r.must("kill", "c1", "TERM")
	time.Sleep(200 * time.Millisecond)
	if st := r.status("c1"); st != "running" {
		t.Errorf("after SIGTERM: %s", st)
	}
	if _, _, st := r.kshim("", "delete", "c1"); st == 0 {
		t.Errorf("delete of a running container without --force worked")
	}
	r.must("kill", "--all", "c1", "KILL")
	r.waitStatus("c1", "stopped")
	r.must("delete", "c1")
	if _, err := os.Stat(filepath.Join(r.root, "c1")); !os.IsNotExist(err) {
		t.Errorf("state directory after delete: %v", err)
	}
	if _, err := os.Stat(filepath.Join(hooks, "poststop")); err != nil {
		t.Errorf("poststop hook: %v", err)
	}
	r.must("delete", "--force", "c1") // again: fine with --force
	if _, _, st := r.kshim("", "delete", "c1"); st == 0 {
		t.Errorf("delete of a deleted container without --force worked")
	}
	if l := r.leftovers(); len(l) > 0 {
		t.Errorf("processes left: %q", l)
	}
}

// A bad bundle: one error line in the log, no state directory, no process.
func TestCreateFailures(t *testing.T) {
	r := newRig(t)
	for _, c := range []struct {
		name string
		args []string
		edit func(*specs.Spec)
		want string
	}{
		{"missing program", []string{"nosuch"}, nil, "executable file not found in $PATH"},
		{"missing path", []string{"/bin/nosuch"}, nil, "no such file or directory"},
		{"not executable", []string{"/tmp"}, nil, "not an executable file"},
		{"bad cwd", []string{"true"}, func(s *specs.Spec) { s.Process.Cwd = "/nosuch" }, "working directory /nosuch"},
		{"bind source missing", []string{"true"}, func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "bind", Source: "/nonexistent-kshim", Options: []string{"rbind"}})
		}, "/nonexistent-kshim"},
		{"bad mount", []string{"true"}, func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=lots"}})
		}, `"size=lots"`},
		{"failing hook", []string{"true"}, func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook says no >&2; exit 3"}}}}
		}, "hook says no"},
		{"tiny memory", []string{"true"}, func(s *specs.Spec) {
			l := int64(4096)
			s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &l}}
		}, "too small"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r.config(c.args, c.edit)
			_, errs, st := r.kshim("", "create", "--bundle", r.bundle, "bad")
			if st == 0 {
				r.kshim("", "delete", "--force", "bad")
				t.Fatalf("create worked")
			}
			if got := r.lastError(); !strings.Contains(got, c.want) {
				t.Errorf("log's last error %q, want %q (stderr %q)", got, c.want, errs)
			}
			if _, err := os.Stat(filepath.Join(r.root, "bad")); !os.IsNotExist(err) {
				t.Errorf("state directory left: %v", err)
			}
			if l := r.leftovers(); len(l) > 0 {
				t.Errorf("processes left: %q", l)
			}
		})
	}
}

// process.terminal: the pty master arrives on the console socket and the
// guest's stdio is the terminal.
func TestConsoleSocket(t *testing.T) {
	r := newRig(t)
	r.config([]string{"sh", "-c", "test -t 0 && test -t 1 && echo on a tty"}, func(s *specs.Spec) { s.Process.Terminal = true })
	sock := filepath.Join(filepath.Dir(r.root), "console.sock")
	ls, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ls)
	if err := unix.Bind(ls, &unix.SockaddrUnix{Name: sock}); err != nil {
		t.Fatal(err)
	}
	unix.Listen(ls, 1)
	got := make(chan int, 1)
	go func() {
		c, _, err := unix.Accept4(ls, unix.SOCK_CLOEXEC)
		if err != nil {
			got <- -1
			return
		}
		defer unix.Close(c)
		buf, oob := make([]byte, 256), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := unix.Recvmsg(c, buf, oob, 0)
		if err != nil {
			got <- -1
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		if len(msgs) == 1 {
			if fds, err := unix.ParseUnixRights(&msgs[0]); err == nil && len(fds) == 1 {
				got <- fds[0]
				return
			}
		}
		got <- -1
	}()
	r.must("create", "--bundle", r.bundle, "--console-socket", sock, "tty")
	defer r.kshim("", "delete", "--force", "tty")
	m := <-got
	if m < 0 {
		t.Fatal("no pty master on the console socket")
	}
	master := os.NewFile(uintptr(m), "ptmx")
	defer master.Close()
	r.must("start", "tty")
	var all []byte
	buf := make([]byte, 256)
	master.SetReadDeadline(time.Now().Add(20 * time.Second))
	for !bytes.Contains(all, []byte("on a tty")) {
		n, err := master.Read(buf)
		all = append(all, buf[:n]...)
		if err != nil {
			break
		}
	}
	t.Logf("terminal output %q", all)
	if !bytes.Contains(all, []byte("on a tty")) {
		t.Errorf("terminal output %q", all)
	}
}

// A kill before start ends the container as it would end its init; the
// kill itself succeeds.
func TestKillCreated(t *testing.T) {
	r := newRig(t)
	r.config([]string{"true"}, nil)
	r.must("create", "--bundle", r.bundle, "k")
	defer r.kshim("", "delete", "--force", "k")
	r.must("kill", "k", "KILL")
	r.waitStatus("k", "stopped")
	if _, _, st := r.kshim("", "kill", "k", "KILL"); st == 0 {
		t.Errorf("kill of a stopped container worked")
	}
	r.must("delete", "k")
	if l := r.leftovers(); len(l) > 0 {
		t.Errorf("processes left: %q", l)
	}
}

// A detached exec's kshim relays the signals it gets into the guest
// process and exits with that process's status, as the engine (a
// subreaper, like this test) sees it; SIGKILL to it kills the process.
func TestExecSignals(t *testing.T) {
	r := newRig(t)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Skip("cannot be a subreaper:", err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	r.config([]string{"sh", "-c", "while :; do sleep 1; done"}, nil)
	r.must("create", "--bundle", r.bundle, "x")
	defer r.kshim("", "delete", "--force", "x")
	r.must("start", "x")
	dir := filepath.Dir(r.root)
	exe := func(name string, args ...string) int {
		pj, _ := json.Marshal(specs.Process{Args: args, Cwd: "/", Env: []string{"PATH=/bin"}})
		proc := filepath.Join(dir, name+".json")
		os.WriteFile(proc, pj, 0o644)
		pidf := filepath.Join(dir, name+".pid")
		r.must("exec", "--process", proc, "--detach", "--pid-file", pidf, "x")
		b, _ := os.ReadFile(pidf)
		return atoi(string(b))
	}
	wait := func(pid int) unix.WaitStatus {
		var ws unix.WaitStatus
		done := make(chan error, 1)
		go func() { _, err := unix.Wait4(pid, &ws, 0, nil); done <- err }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("wait4 %d: %v", pid, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("exec kshim %d did not end", pid)
		}
		return ws
	}
	pid := exe("trap", "sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.1; done")
	time.Sleep(300 * time.Millisecond) // let the trap be set
	unix.Kill(pid, unix.SIGTERM)
	if ws := wait(pid); !ws.Exited() || ws.ExitStatus() != 7 {
		t.Errorf("trapped SIGTERM: wait status %#x, want exit 7", ws)
	}
	pid = exe("plain", "sleep", "100")
	unix.Kill(pid, unix.SIGINT)
	if ws := wait(pid); !ws.Exited() || ws.ExitStatus() != 128+int(unix.SIGINT) {
		t.Errorf("SIGINT: wait status %#x, want exit %d", ws, 128+int(unix.SIGINT))
	}
	// SIGKILL ends the exec kshim itself; its guest process goes too.
	pid = exe("killed", "sh", "-c", "echo $$ > /tmp/killed; while :; do sleep 0.1; done")
	time.Sleep(300 * time.Millisecond)
	unix.Kill(pid, unix.SIGKILL)
	wait(pid)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var pids []int
		json.Unmarshal([]byte(r.must("ps", "--format", "json", "x")), &pids)
		out, _, _ := r.kshim("", "exec", "x", "sh", "-c", "kill -0 $(cat /tmp/killed) 2>/dev/null && echo alive")
		if len(pids) == 1 && out == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after SIGKILL of its exec kshim: ps %v, the guest process: %q", pids, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// config.json's mounts go to kshim's mount table: a bind mount of a host
// directory (read-write and read-only) and a tmpfs, seen alike by the
// first process and by an exec.
func TestMounts(t *testing.T) {
	r := newRig(t)
	vol := filepath.Join(filepath.Dir(r.root), "vol")
	ro := filepath.Join(filepath.Dir(r.root), "ro")
	for _, d := range []string{vol, ro} {
		if err := os.Mkdir(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(ro, "x"), []byte("read only\n"), 0o644)
	for _, d := range []string{"data", "ro", "scratch"} {
		os.Mkdir(filepath.Join(r.bundle, "rootfs", d), 0o755)
	}
	r.config([]string{"sh", "-c", "echo first > /data/f; echo tmp > /scratch/t; cat /ro/x; echo no > /ro/y || echo refused; while :; do sleep 1; done"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/data", Type: "bind", Source: vol, Options: []string{"rbind", "rw"}},
			specs.Mount{Destination: "/ro", Type: "bind", Source: ro, Options: []string{"rbind", "ro"}},
			specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m", "mode=1777"}})
	})
	out := filepath.Join(filepath.Dir(r.root), "out")
	f, _ := os.Create(out)
	cmd := exec.Command(os.Args[0], "--root", r.root, "--log", r.log, "--log-format", "json", "create", "--bundle", r.bundle, "m")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		t.Fatalf("create: %v: %s", err, r.lastError())
	}
	f.Close()
	defer r.kshim("", "delete", "--force", "m")
	r.must("start", "m")
	for i := 0; ; i++ {
		if b, _ := os.ReadFile(out); strings.Contains(string(b), "refused") {
			if string(b) != "read only\nrefused\n" && !strings.HasPrefix(string(b), "read only\n") {
				t.Errorf("guest output %q", b)
			}
			break
		}
		if i == 400 {
			b, _ := os.ReadFile(out)
			t.Fatalf("guest output %q", b)
		}
		time.Sleep(25 * time.Millisecond)
	}
	if b, err := os.ReadFile(filepath.Join(vol, "f")); err != nil || string(b) != "first\n" {
		t.Errorf("the bind mount on the host: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(ro, "y")); err == nil {
		t.Errorf("a write through the read-only bind reached the host")
	}
	if _, err := os.Stat(filepath.Join(r.bundle, "rootfs/scratch/t")); err == nil {
		t.Errorf("the tmpfs file is in the rootfs")
	}
	o, errs, st := r.kshim("", "exec", "m", "sh", "-c", "cat /scratch/t /data/f && echo exec > /data/g")
	if st != 0 || o != "tmp\nfirst\n" {
		t.Errorf("exec through the mounts: status %d out %q err %q", st, o, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(vol, "g")); string(b) != "exec\n" {
		t.Errorf("exec's write through the bind: %q", b)
	}
}

// process.user's additional gids are the guest's groups; of the
// capabilities, the file ones in the effective set are what a uid 0
// guest keeps: without CAP_DAC_OVERRIDE another user's 0600 file is
// closed to it.
func TestIdentity(t *testing.T) {
	r := newRig(t)
	secret := filepath.Join(r.bundle, "rootfs/tmp/secret")
	os.WriteFile(secret, []byte("s\n"), 0o600)
	os.Chown(secret, 1000, 1000)
	for _, c := range []struct {
		name string
		caps []string
		want string
	}{
		{"dac_override", []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL"}, "0 10 20\ns\n"},
		{"no_dac_override", []string{"CAP_CHOWN", "CAP_KILL"}, "0 10 20\nclosed\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r.config([]string{"sh", "-c", "id -G; cat /tmp/secret 2>/dev/null || echo closed"}, func(s *specs.Spec) {
				s.Process.User.AdditionalGids = []uint32{10, 20}
				s.Process.Capabilities = &specs.LinuxCapabilities{Effective: c.caps, Bounding: c.caps, Permitted: c.caps}
			})
			out := filepath.Join(filepath.Dir(r.root), "out-"+c.name)
			f, _ := os.Create(out)
			cmd := exec.Command(os.Args[0], "--root", r.root, "--log", r.log, "create", "--bundle", r.bundle, c.name)
			cmd.Stdout, cmd.Stderr = f, f
			if err := cmd.Run(); err != nil {
				t.Fatalf("create: %v: %s", err, r.lastError())
			}
			f.Close()
			defer r.kshim("", "delete", "--force", c.name)
			r.must("start", c.name)
			r.waitStatus(c.name, "stopped")
			if b, _ := os.ReadFile(out); string(b) != c.want {
				t.Errorf("guest output %q, want %q", b, c.want)
			}
		})
	}
}

// A network namespace path: the container's kshim runs in that namespace
// and the guest's sockets are made there.
func TestNetnsPath(t *testing.T) {
	r := newRig(t)
	holder := exec.Command("unshare", "-n", "sleep", "100")
	if err := holder.Start(); err != nil {
		t.Skip("unshare:", err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	ns := fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)
	var want string
	for i := 0; i < 100; i++ { // until unshare has made the namespace
		want, _ = os.Readlink(ns)
		if own, _ := os.Readlink("/proc/self/ns/net"); want != "" && want != own {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.config([]string{"nc", "-l", "-p", "7777"}, func(s *specs.Spec) {
		s.Linux.Namespaces = []specs.LinuxNamespace{{Type: "network", Path: ns}}
	})
	pidFile := filepath.Join(filepath.Dir(r.root), "n.pid")
	r.must("create", "--bundle", r.bundle, "--pid-file", pidFile, "n")
	defer r.kshim("", "delete", "--force", "n")
	pid, _ := os.ReadFile(pidFile)
	if got, _ := os.Readlink("/proc/" + string(pid) + "/ns/net"); got != want {
		t.Errorf("the container's kshim is in %q, want %q", got, want)
	}
	r.must("start", "n")
	for i := 0; ; i++ {
		out, _ := exec.Command("nsenter", "--net="+ns, "cat", "/proc/net/tcp", "/proc/net/tcp6").Output()
		if strings.Contains(string(out), ":1E61 ") {
			break
		}
		if i == 400 {
			t.Fatalf("no listener on port 7777 in the namespace:\n%s", out)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// The masked and read-only paths Docker (and containerd) put in every
// container's config.
var (
	engineMasked = []string{"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
		"/sys/devices/virtual/powercap"}
	engineReadonly = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// startUntil creates container id from the rig's bundle with its output
// in a file, starts it, and returns the output once done says it is
// complete (failing the test after ~10 s).
func (r *rig) startUntil(id string, done func(string) bool) string {
	r.t.Helper()
	out := filepath.Join(filepath.Dir(r.root), "out-"+id)
	f, err := os.Create(out)
	if err != nil {
		r.t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "--root", r.root, "--log", r.log, "--log-format", "json", "create", "--bundle", r.bundle, id)
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	f.Close()
	if err != nil {
		r.t.Fatalf("create: %v: %s", err, r.lastError())
	}
	r.must("start", id)
	for i := 0; ; i++ {
		b, _ := os.ReadFile(out)
		if done(string(b)) {
			return string(b)
		}
		if i == 400 {
			r.t.Fatalf("guest output %q", b)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// linux.maskedPaths and readonlyPaths reach the container's mount table
// (syscalls/fs/fsguard.go): a masked file reads empty, a masked directory
// is empty, a read-only file refuses a write, for the first process and
// an exec alike; a path that cannot be guarded (a symlink loop) fails
// create with one error line.
func TestGuardedPathsRun(t *testing.T) {
	r := newRig(t)
	rootfs := filepath.Join(r.bundle, "rootfs")
	os.MkdirAll(filepath.Join(rootfs, "sdir"), 0o755)
	for name, text := range map[string]string{"secret": "SECRET\n", "sdir/f": "SECRET in dir\n", "rofile": "immutable\n"} {
		if err := os.WriteFile(filepath.Join(rootfs, name), []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	r.config([]string{"sh", "-c", "cat /secret /sdir/f; echo more > /rofile || echo refused; cat /rofile; while :; do sleep 1; done"}, func(s *specs.Spec) {
		// With Docker's and containerd's defaults, all of kshim's own
		// /proc and /sys, which has none of them: were one added there,
		// create would refuse every such container (fsguard.go) and this
		// test says so.
		s.Linux.MaskedPaths = append([]string{"/secret", "/sdir", "/nothere"}, engineMasked...)
		s.Linux.ReadonlyPaths = append([]string{"/rofile"}, engineReadonly...)
	})
	defer r.kshim("", "delete", "--force", "g")
	b := r.startUntil("g", func(b string) bool { return strings.Contains(b, "immutable") })
	if strings.Contains(b, "SECRET") || !strings.Contains(b, "refused") || strings.Contains(b, "more") {
		t.Errorf("guest output %q", b)
	}
	o, errs, st := r.kshim("", "exec", "g", "sh", "-c", "cat /secret; ls -A /sdir; echo x > /rofile || echo refused")
	if st != 0 || o != "refused\n" {
		t.Errorf("exec: status %d out %q err %q", st, o, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(rootfs, "rofile")); string(b) != "immutable\n" {
		t.Errorf("rofile is now %q", b)
	}

	r2 := newRig(t)
	os.Symlink("loop", filepath.Join(r2.bundle, "rootfs", "loop"))
	r2.config([]string{"true"}, func(s *specs.Spec) { s.Linux.MaskedPaths = []string{"/loop"} })
	_, errs, st = r2.kshim("", "create", "--bundle", r2.bundle, "bad")
	if st == 0 || !strings.Contains(r2.lastError(), "/loop") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		r2.kshim("", "delete", "--force", "bad")
		t.Errorf("create with a masked symlink loop: status %d, stderr %q, log %q", st, errs, r2.lastError())
	}
}

// A mount whose parent directories the image lacks gets them, as runc
// makes them (in the mount that holds them: here the rootfs); a symlink
// on the way is not followed out of the rootfs: the mount is refused and
// nothing is made where the link leads.
func TestMountParents(t *testing.T) {
	r := newRig(t)
	vol := filepath.Join(filepath.Dir(r.root), "vol")
	os.Mkdir(vol, 0o777)
	os.WriteFile(filepath.Join(vol, "v"), []byte("volume\n"), 0o644)
	r.config([]string{"sh", "-c", "cat /new/a/b/v; ls -A /new/a; echo t > /deep/x/y/t && cat /deep/x/y/t"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/new/a/b", Type: "bind", Source: vol, Options: []string{"rbind", "ro", "mode=755"}},
			specs.Mount{Destination: "/deep/x/y", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}})
	})
	defer r.kshim("", "delete", "--force", "p")
	r.startUntil("p", func(b string) bool { return b == "volume\nb\nt\n" })
	for _, d := range []string{"new/a", "deep/x"} {
		if st, err := os.Stat(filepath.Join(r.bundle, "rootfs", d)); err != nil || !st.IsDir() {
			t.Errorf("rootfs/%s: %v", d, err)
		}
	}

	r2 := newRig(t)
	outside := t.TempDir()
	os.Symlink(outside, filepath.Join(r2.bundle, "rootfs", "evil"))
	r2.config([]string{"true"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/evil/x/y", Type: "tmpfs", Source: "tmpfs"})
	})
	if _, errs, st := r2.kshim("", "create", "--bundle", r2.bundle, "bad"); st == 0 {
		r2.kshim("", "delete", "--force", "bad")
		t.Errorf("create through a symlink out of the rootfs: status 0, stderr %q", errs)
	}
	if _, err := os.Lstat(filepath.Join(outside, "x")); err == nil {
		t.Errorf("a directory was made where the rootfs's symlink leads")
	}
}
