// limits_test.go: the run controls of `kshim run` (issue 9): the guest's
// environment (--env, --clear-env) and host name (--hostname), differential
// against env(1) and `unshare -u` natively; and the limits, where Linux has
// no native oracle we can run without changing the host (cgroups), checked
// against exact expected behaviour: --timeout (status 124), --max-tasks
// (EAGAIN), --max-fds (ENFILE), the OOM killer's choice, pipe buffers
// charged to --mem, and kshim's own resident memory under --mem.
package images

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// image returns kshim's path and the path of build/images/name.
func image(t *testing.T, name string) (kshim, prog string) {
	t.Helper()
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog = filepath.Join(dir, name)
	requireFile(t, prog)
	return kshim, prog
}

// TestRunEnv: the guest's environment is env(1)'s for the same request.
func TestRunEnv(t *testing.T) {
	kshim, prog := image(t, "environ")
	base := append(append([]string(nil), baseEnv...), "KSHIM_TEST_KEEP=kept")
	cases := []struct {
		name   string
		native []string // env(1) arguments before the program
		flags  []string // kshim run flags
	}{
		{"inherit", nil, nil},
		{"clear", []string{"-i"}, []string{"--clear-env"}},
		{"clear_set", []string{"-i", "A=1", "B=x=y", "A=2"}, []string{"--clear-env", "--env", "A=1", "--env", "B=x=y", "--env", "A=2"}},
		{"override_and_add", []string{"LC_ALL=POSIX", "NEW=v"}, []string{"--env", "LC_ALL=POSIX", "--env", "NEW=v"}},
		{"empty_value", []string{"-i", "E="}, []string{"--clear-env", "--env", "E="}},
		// A bare NAME passes kshim's own value, as env -i NAME="$NAME".
		{"pass_through", []string{"-i", "KSHIM_TEST_KEEP=kept"}, []string{"--clear-env", "--env", "KSHIM_TEST_KEEP", "--env", "KSHIM_TEST_UNSET"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			native := run(append(append([]string{"env"}, c.native...), prog), base, "")
			guest := run(append(append([]string{kshim, "run"}, c.flags...), prog), base, "")
			if native.err != nil || native.exit != 0 {
				t.Fatalf("native env: %s\n%s", native.status(), native.stderr)
			}
			compare(t, "kshim", native, guest, false)
		})
	}
	bad := run([]string{kshim, "run", "--env", "=v", prog}, base, "")
	if bad.exit != 2 || !strings.Contains(string(bad.stderr), "--env") {
		t.Errorf("--env =v: %s, stderr %q; want status 2 and a message", bad.status(), bad.stderr)
	}
}

// TestRunHostname: uname/gethostname and sethostname/setdomainname in the
// guest match a root process in a UTS namespace of its own (unshare -u)
// whose host name was set to the same name.
func TestRunHostname(t *testing.T) {
	kshim, prog := image(t, "uts")
	if os.Geteuid() != 0 {
		t.Skip("needs root: natively sethostname is EPERM, and under kshim the guest is not root either")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare(1) not installed: no native oracle")
	}
	const name = "kshim-guest"
	host, _ := os.Hostname()
	native := run([]string{"unshare", "-u", "sh", "-c", "hostname " + name + " && exec " + prog}, baseEnv, "")
	if native.err != nil || native.exit != 0 {
		t.Skipf("unshare -u does not work here (%s): %s", native.status(), native.stderr)
	}
	// The native oracle runs as root (a UTS namespace's root may rename
	// it): so does the guest, --user 0:0. The default identity is not
	// euid 0 and gets EPERM, as an unprivileged user does.
	guest := run([]string{kshim, "run", "--user", "0:0", "--hostname", name, prog}, baseEnv, "")
	compare(t, "kshim", native, guest, false)
	if r := run([]string{kshim, "run", "--hostname", name, prog}, baseEnv, ""); os.Geteuid() == 0 &&
		!bytes.Contains(r.stdout, []byte("sethostname renamed -> EPERM\n")) {
		t.Errorf("the default (unprivileged) identity renamed the host:\n%s", r.stdout)
	}
	if !bytes.Contains(guest.stdout, []byte("nodename="+name+" ")) {
		t.Errorf("--hostname not seen by the guest:\n%s", guest.stdout)
	}
	if h, _ := os.Hostname(); h != host {
		t.Errorf("the host's name changed: %q", h)
	}
	bad := run([]string{kshim, "run", "--hostname", strings.Repeat("h", 65), prog}, baseEnv, "")
	if bad.exit != 2 {
		t.Errorf("--hostname of 65 bytes: %s, want status 2", bad.status())
	}
}

// TestRunTimeout: the whole guest (a spinning process, a thread blocked in
// a pipe read, a sleeping child) is killed after --timeout; kshim exits
// 124 like timeout(1), with one line on stderr.
func TestRunTimeout(t *testing.T) {
	kshim, prog := image(t, "hang")
	// 3 s: time enough for the guest to start on a loaded host.
	r := run([]string{kshim, "run", "--timeout", "3", prog}, baseEnv, "")
	if r.timedOut || r.err != nil || r.sig != 0 || r.exit != 124 {
		t.Fatalf("%s, want exit status 124\nstderr:\n%s", r.status(), r.stderr)
	}
	if string(r.stdout) != "started\n" {
		t.Errorf("stdout %q, want \"started\\n\"", r.stdout)
	}
	if want := "kshim: " + prog + ": timed out after 3s\n"; string(r.stderr) != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	for _, bad := range []string{"-1", "x", "1y"} {
		if r := run([]string{kshim, "run", "--timeout", bad, prog}, baseEnv, ""); r.exit != 2 {
			t.Errorf("--timeout %s: %s, want status 2", bad, r.status())
		}
	}
}

// expectRun runs kshim with flags and prog and requires exit status 0 and
// exactly want on stdout (any stdout when want is "": the caller checks).
func expectRun(t *testing.T, flags []string, name, want string) result {
	t.Helper()
	kshim, prog := image(t, name)
	r := run(append(append([]string{kshim, "run"}, flags...), prog), baseEnv, "")
	if r.timedOut || r.err != nil || r.sig != 0 || r.exit != 0 {
		t.Fatalf("%s\nstdout:\n%s\nstderr:\n%s", r.status(), clip(r.stdout), clip(r.stderr))
	}
	if want != "" && string(r.stdout) != want {
		t.Errorf("stdout:\n%s", firstDiff([]byte(want), r.stdout, "kshim"))
	}
	return r
}

// TestRunMaxTasks: a fork bomb stops at --max-tasks with EAGAIN (as
// RLIMIT_NPROC or a pids cgroup stop it), and the guest goes on: reaped
// children free their slots, threads count against the same limit.
func TestRunMaxTasks(t *testing.T) {
	expectRun(t, []string{"--max-tasks", "16"}, "fork_bomb", `forked 15 children, then fork: EAGAIN
reaped 15
fork after reaping: ok
created 15 threads, then pthread_create: EAGAIN
joined 15
`)
}

// TestRunMaxFDs: --max-fds bounds the fds of all the guest's processes
// together: ENFILE for a new open file (Linux's system-wide file-max),
// EMFILE for another fd of an open one and for a fork whose copies do not
// fit; a child's fds count too, and closing gives room back.
func TestRunMaxFDs(t *testing.T) {
	expectRun(t, []string{"--max-fds", "64"}, "fd_limit", `opened 61, then open: ENFILE
dup: EMFILE
pipe: ENFILE
fork: EMFILE
child: opened 32, then open: ENFILE
after the child: opened 48 more
`)
}

// TestOOMKillsLargest: when a small process runs guest memory out, in a
// page fault or in a syscall's copy into its memory (read(2) into a fresh
// buffer), the OOM killer ends the process with the most resident memory
// (big), says so on stderr, and the small one goes on once big's memory
// is free.
func TestOOMKillsLargest(t *testing.T) {
	for _, mode := range []string{"touched", "read"} {
		t.Run(mode, func(t *testing.T) {
			kshim, prog := image(t, "oom_pick")
			r := run([]string{kshim, "run", "--mem", "64M", prog, mode}, baseEnv, "")
			if r.timedOut || r.err != nil || r.sig != 0 || r.exit != 0 {
				t.Fatalf("%s\nstdout:\n%s\nstderr:\n%s", r.status(), clip(r.stdout), clip(r.stderr))
			}
			out := string(r.stdout)
			m := regexp.MustCompile(`^big pid (\d+) holds 36 MiB, medium holds 6 MiB\n`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no big pid line:\n%s", out)
			}
			want := m[0] + "small: " + mode + ` 24 MiB
small: exit 0
big: killed by signal 9
medium: exit 0
`
			if out != want {
				t.Fatalf("stdout:\n%s\nstderr:\n%s", firstDiff([]byte(want), r.stdout, "kshim"), clip(r.stderr))
			}
			if !strings.Contains(string(r.stderr), "out of memory (raise --mem): killed process "+m[1]+" (oom_pick)") {
				t.Errorf("stderr does not name the victim %s:\n%s", m[1], r.stderr)
			}
		})
	}
}

// TestOOMVforkSharers: a vfork child that runs guest memory out is the
// victim, and its parent, on the same memory, dies with it (Linux's
// oom_kill_process kills every process sharing the victim's mm).
func TestOOMVforkSharers(t *testing.T) {
	kshim, prog := image(t, "oom_vfork")
	r := run([]string{kshim, "run", "--mem", "64M", prog}, baseEnv, "")
	if r.timedOut || r.err != nil || r.sig != 0 || r.exit != 0 {
		t.Fatalf("%s\nstdout:\n%s\nstderr:\n%s", r.status(), clip(r.stdout), clip(r.stderr))
	}
	if want := "vfork parent: killed by signal 9\n"; string(r.stdout) != want {
		t.Fatalf("stdout:\n%s", firstDiff([]byte(want), r.stdout, "kshim"))
	}
}

// TestPipeBuffersCharged: pipes the guest fills hold host memory; with
// --mem 64M, pipe buffers and guest RAM together stay within 64 MiB
// (before, 600 MiB and more in pipes alone), pipe2 then fails with ENFILE
// as Linux's does past pipe-user-pages-hard, the charge comes back when
// the pipes are closed, and F_SETPIPE_SZ follows Linux's rules for an
// unprivileged user.
func TestPipeBuffersCharged(t *testing.T) {
	kshim, prog := image(t, "pipe_fill")
	g := startGuest(t, kshim, "run", "--mem", "64M", prog, "hold")
	// While the guest holds its pipes full: the host memory kshim holds
	// for it is its guest RAM (the memfd's allocated blocks) and the pipe
	// buffers.
	var out strings.Builder
	out.WriteString(g.readUntil("holding"))
	ram, ramErr := guestRAM(g.pid())
	rest, werr := g.finish()
	out.WriteString(rest)
	if werr != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", werr, out.String(), g.stderr.String())
	}
	head := `default size 65536
F_SETPIPE_SZ 2 MiB -> EPERM
F_SETPIPE_SZ 1 MiB -> 1048576
F_SETPIPE_SZ 3000 -> 4096
F_SETPIPE_SZ 0 -> 4096
F_SETPIPE_SZ 2 GiB+1 -> EINVAL
`
	if !strings.HasPrefix(out.String(), head) {
		t.Errorf("F_SETPIPE_SZ:\n%s", firstDiff([]byte(head), []byte(out.String()), "kshim"))
	}
	m := regexp.MustCompile(`\npipes (\d+) \((\d+) of 64 KiB, (\d+) smaller\), then pipe2: (\w+)\nheld (\d+) KiB\nholding\npipe after closing all: size 65536\n$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("unexpected output:\n%s", out.String())
	}
	held, _ := strconv.Atoi(m[5])
	if ramErr != nil {
		t.Fatal(ramErr)
	}
	t.Logf("%s pipes (%s of 64 KiB): %d KiB in pipe buffers + %d KiB of guest RAM", m[1], m[2], held, ram>>10)
	if m[4] != "ENFILE" {
		t.Errorf("pipe2 stopped with %s, want ENFILE (the budget), not a per-process limit", m[4])
	}
	// The budget, plus the 256 KiB kshim makes resident ahead of use.
	if total := held<<10 + int(ram); total > 64<<20+256<<10 {
		t.Errorf("%d KiB in pipes + %d KiB of guest RAM exceed --mem 64M", held, ram>>10)
	}
	if held < 48<<10 {
		t.Errorf("only %d KiB could be held in pipes: the charge is not returned or is too coarse", held)
	}
}

// guestRAM returns the bytes of guest RAM the host holds for kshim process
// pid: the allocated blocks of its guest-memory memfd.
func guestRAM(pid int) (int64, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		if l, _ := os.Readlink(filepath.Join(dir, e.Name())); strings.HasPrefix(l, "/memfd:kshim-guest-ram") {
			var st syscall.Stat_t
			if err := syscall.Stat(filepath.Join(dir, e.Name()), &st); err != nil {
				return 0, err
			}
			return st.Blocks * 512, nil
		}
	}
	return 0, fmt.Errorf("no guest memory memfd among kshim's fds")
}

// TestHostMemoryBounded: an anonymous-memory hog in a 64 MiB guest is
// OOM-killed, and kshim's own peak resident set (VmHWM: guest RAM it
// maps, its heap and text) stays within the 64 MiB plus a fixed overhead.
func TestHostMemoryBounded(t *testing.T) {
	kshim, prog := image(t, "mem_hog")
	g := startGuest(t, kshim, "run", "--mem", "64M", prog)
	line := g.readUntil("hog: killed by signal 9")
	status, serr := os.ReadFile(fmt.Sprintf("/proc/%d/status", g.pid()))
	_, werr := g.finish()
	if line != "hog: killed by signal 9\n" {
		t.Fatalf("hog: %q (exit: %v)\nstderr:\n%s", line, werr, g.stderr.String())
	}
	if werr != nil || serr != nil {
		t.Fatalf("exit %v, status %v\nstderr:\n%s", werr, serr, g.stderr.String())
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		t.Fatalf("no VmHWM in\n%s", status)
	}
	hwm, _ := strconv.Atoi(string(m[1]))
	const overhead = 40 << 10 // KiB: Go runtime, kshim's text, page tables
	t.Logf("kshim VmHWM %d KiB with --mem 64M", hwm)
	if hwm > 64<<10+overhead {
		t.Errorf("kshim's peak resident set %d KiB exceeds --mem 64M + %d KiB", hwm, overhead)
	}
}

// TestRunNofileSoft: the guest's RLIMIT_NOFILE soft limit is the one kshim
// was started with, not the one the Go runtime raised kshim's to (the hard
// limit less one): a shell's 1024 stays 1024, as select(2) users expect.
func TestRunNofileSoft(t *testing.T) {
	kshim, _ := paths(t)
	requireFile(t, kshim)
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Max < 2000 {
		t.Skipf("hard RLIMIT_NOFILE %d: too low to lower the soft limit below it", l.Max)
	}
	for _, soft := range []string{"1000", strconv.FormatUint(l.Max-1, 10), strconv.FormatUint(l.Max, 10)} {
		script := "ulimit -Sn " + soft + " && exec " + kshim + " run /bin/sh -c 'ulimit -Sn'"
		out, err := exec.Command("/bin/sh", "-c", script).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != soft {
			t.Errorf("started with soft RLIMIT_NOFILE %s, the guest's is %q (%v)", soft, out, err)
		}
	}
}
