// sandbox_test.go: kshim confines itself once set up (sandbox/, docs/
// ARCHITECTURE.md "Threat model"). These tests look at a running kshim
// from outside (/proc/PID/status of every thread: seccomp mode, no_new_privs,
// capabilities, ids) and check that a guest cannot use kshim's host rights
// to write to a read-only file it was handed (the 0444 stdin of issue 9,
// item 7) nor change the host's devices, and that an unusual stdin (a
// memfd) still runs confined. They also hold the helpers that make the differential tests'
// native runs use the identity kshim gives its guests, so that native
// Linux stays the oracle: when the tests run as root, kshim runs guests as
// 65534:65534, so native programs run as that user too, in directories
// that user owns.
package images

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// guestID is the identity kshim runs guests as by default: 65534:65534
// when started as root (sandbox.Nobody), else its own.
func guestID() (uid, gid int) {
	if os.Geteuid() == 0 {
		return 65534, 65534
	}
	return os.Geteuid(), os.Getegid()
}

// guestCred is the credential for native runs (nil: the test's own).
func guestCred() *syscall.Credential {
	if os.Geteuid() != 0 {
		return nil
	}
	uid, gid := guestID()
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{uint32(gid)}}
}

// guestTempDir is t.TempDir(), reachable and owned by the guest's user.
func guestTempDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for _, p := range []string{filepath.Dir(d), d} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	chownTree(t, d)
	return d
}

// chownTree gives everything under dir to the guest's user (as root).
func chownTree(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	uid, gid := guestID()
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// reachableDir is dir when the guest's user can reach it, else a copy of
// its files that it can (made once per directory and test binary, removed
// by TestMain): a checkout under a directory only root may enter (/root)
// must not turn every native run into EACCES.
func reachableDir(t *testing.T, dir string) string {
	t.Helper()
	if os.Geteuid() != 0 || reachable(dir) {
		return dir
	}
	copiesMu.Lock()
	defer copiesMu.Unlock()
	if c, ok := copies[dir]; ok {
		return c
	}
	c, err := os.MkdirTemp("", "kshim-test-"+filepath.Base(dir)+"-")
	if err == nil {
		err = os.Chmod(c, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	copies[dir] = c
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		st, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil {
			err = os.WriteFile(filepath.Join(c, e.Name()), b, st.Mode().Perm())
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return c
}

var (
	copiesMu sync.Mutex
	copies   = map[string]string{}
)

// reachable: every directory from / to dir lets others search it (the
// guest's user owns none of them).
func reachable(dir string) bool {
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil || st.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == "/" {
			return true
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range copies {
		os.RemoveAll(c)
	}
	os.Exit(code)
}

// procStatus reads the fields of /proc/PID/task/TID/status for every
// thread of pid.
func procStatus(pid int) ([]map[string]string, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		return nil, fmt.Errorf("no threads for pid %d: %v", pid, err)
	}
	var out []map[string]string
	for _, path := range tasks {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the thread exited
		}
		m := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
				m[k] = strings.Join(strings.Fields(v), " ")
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// confinedStatus starts kshim with flags on the stdin program, whose stdin
// is a pipe the test holds open (so the guest waits in a read, with every
// layer in place), waits until the main thread reports seccomp mode 2 (or
// kshim exits), and returns every thread's status fields.
func confinedStatus(t *testing.T, flags ...string) []map[string]string {
	t.Helper()
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "stdin")
	requireFile(t, prog)
	g := startGuest(t, append(append([]string{kshim, "run"}, flags...), prog)...)
	defer func() {
		if _, err := g.finish(); err != nil {
			t.Errorf("kshim %v: %v\n%s", flags, err, g.stderr.String())
		}
	}()
	for {
		st, err := procStatus(g.pid())
		if err != nil {
			t.Fatalf("kshim %v: %v\n%s", flags, err, g.stderr.String())
		}
		// Seccomp comes last and TSYNC sets it on every thread at once.
		// Polling, not a timed assertion: the run's timeout bounds it.
		if st[0]["Seccomp"] == "2" && len(st) > 1 {
			return st
		}
		if g.ctx.Err() != nil {
			t.Fatalf("kshim %v never confined itself:\n%v", flags, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSandboxConfined: every thread of a running kshim has the seccomp
// filter (mode 2), no_new_privs, no capability in any set and, when it was
// started as root, the unprivileged identity; --user 0:0 keeps uid 0 and
// the file capabilities only; with --no-sandbox the guest has kshim's own
// identity.
func TestSandboxConfined(t *testing.T) {
	uid, gid := guestID()
	zero := "0000000000000000"
	check := func(t *testing.T, st []map[string]string, want map[string]string) {
		t.Helper()
		for i, m := range st {
			for k, v := range want {
				if m[k] != v {
					t.Errorf("thread %d of %d: %s: %q, want %q", i, len(st), k, m[k], v)
				}
			}
		}
	}
	t.Run("default", func(t *testing.T) {
		ids := fmt.Sprintf("%d %d %d %d", uid, uid, uid, uid)
		gids := fmt.Sprintf("%d %d %d %d", gid, gid, gid, gid)
		want := map[string]string{"Seccomp": "2", "NoNewPrivs": "1", "CapEff": zero, "CapPrm": zero,
			"CapInh": zero, "CapAmb": zero, "Uid": ids, "Gid": gids}
		if os.Geteuid() == 0 {
			want["CapBnd"] = zero
			want["Groups"] = fmt.Sprint(gid)
		}
		check(t, confinedStatus(t), want)
	})
	t.Run("user_0_0", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root")
		}
		// chown, dac_override, dac_read_search, fowner, fsetid.
		caps := "000000000000001f"
		check(t, confinedStatus(t, "--user", "0:0"), map[string]string{"Seccomp": "2", "NoNewPrivs": "1",
			"CapEff": caps, "CapPrm": caps, "CapBnd": caps, "CapInh": zero, "CapAmb": zero,
			"Uid": "0 0 0 0", "Gid": "0 0 0 0", "Groups": "0"})
	})
	t.Run("no_sandbox", func(t *testing.T) {
		// Nothing changes: the guest has kshim's own identity.
		kshim, _ := paths(t)
		requireBusybox(t)
		r := run([]string{kshim, "run", "--no-sandbox", busyboxBin, "sh", "-c", "id -u; id -g"}, baseEnv, "")
		if want := fmt.Sprintf("%d\n%d\n", os.Geteuid(), os.Getegid()); r.exit != 0 || string(r.stdout) != want {
			t.Errorf("--no-sandbox: %s, ids %q, want %q\n%s", r.status(), r.stdout, want, r.stderr)
		}
	})
}

// runWithStdin runs argv with stdin the file at path (opened read-only).
func runWithStdin(t *testing.T, argv []string, path string, cred *syscall.Credential) result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = baseEnv
	cmd.Stdin = f
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	r := result{stdout: out.Bytes(), stderr: errb.Bytes(), timedOut: ctx.Err() != nil}
	if ee, ok := err.(*exec.ExitError); ok {
		r.exit = ee.ExitCode()
	} else if err != nil {
		r.err = err
	}
	return r
}

// TestSandboxReadOnlyStdin (issue 9, item 7): a mode 0444 file handed as
// stdin, reopened through /dev/stdin, /proc/self/fd/0 and /dev/fd/0 for
// writing, truncating or appending, is refused (EACCES) and left as it
// was. With the default identity this is a differential row (natively the
// same user gets EACCES from the host). With --user 0:0 kshim keeps root's
// file rights, which natively would let the reopen truncate the file: the
// fd the guest was handed is read-only, so kshim refuses (a spec test).
func TestSandboxReadOnlyStdin(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "fs_reopen")
	requireFile(t, prog)
	const content = "read-only content\n"
	file := filepath.Join(t.TempDir(), "ro.txt")
	if err := os.WriteFile(file, []byte(content), 0o444); err != nil {
		t.Fatal(err)
	}
	modes := []string{"r", "w", "rw", "wt", "rt", "a"}
	unchanged := func(t *testing.T) {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil || string(b) != content {
			t.Fatalf("the read-only stdin file changed: %q, %v", b, err)
		}
		if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o444 {
			t.Fatalf("the read-only stdin file's mode changed: %v, %v", st.Mode(), err)
		}
	}
	checkRefused := func(t *testing.T, r result, errno string) {
		t.Helper()
		if r.timedOut || r.err != nil || r.exit != 0 {
			t.Fatalf("%s\nstderr:\n%s", r.status(), clip(r.stderr))
		}
		out := string(r.stdout)
		for _, m := range modes {
			for _, n := range []string{"/dev/stdin", "/proc/self/fd/0", "/dev/fd/0"} {
				line := fmt.Sprintf("open(%s, %s) -> ", n, m)
				want := line + errno
				if m == "r" {
					want = line + "ok"
				}
				if !strings.Contains(out, want+"\n") {
					t.Errorf("want %q in:\n%s", want, out)
				}
			}
		}
		if !strings.Contains(out, "stdin holds: \""+content+"\"\n") {
			t.Errorf("the guest's view of stdin changed:\n%s", out)
		}
	}
	t.Run("default", func(t *testing.T) {
		guest := runWithStdin(t, append([]string{kshim, "run", prog}, modes...), file, nil)
		unchanged(t)
		if os.Geteuid() == 0 {
			checkRefused(t, guest, "EACCES")
			native := runWithStdin(t, append([]string{prog}, modes...), file, guestCred())
			unchanged(t)
			compare(t, "kshim", native, guest, false)
		} else if guest.exit != 0 {
			t.Fatalf("%s\n%s", guest.status(), guest.stderr)
		}
	})
	t.Run("user_0_0", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root")
		}
		// With root's file rights the file layer refuses: the file is in
		// the (read-only) root, so EROFS, as mayReopen answers.
		r := runWithStdin(t, append([]string{kshim, "run", "--user", "0:0", prog}, modes...), file, nil)
		unchanged(t)
		checkRefused(t, r, "EROFS")
	})
}

// TestSandboxHostDevices: the host devices a guest reaches by exact path
// (/dev/null and the like) keep their mode, owner and times whatever the
// guest tries, by path or fd, even with --user 0:0 (root's file
// capabilities): they are the host's, not the root's. (A syscall fuzzer
// under an unconfined kshim running as root once made the host's
// /dev/null mode 0000 and owned by a random uid.)
func TestSandboxHostDevices(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "fs_hostdev")
	requireFile(t, prog)
	devs := []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/urandom"}
	statAll := func() string {
		var b strings.Builder
		for _, d := range devs {
			var st syscall.Stat_t
			if err := syscall.Stat(d, &st); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %o %d:%d ctime %d.%d; ", d, st.Mode, st.Uid, st.Gid, st.Ctim.Sec, st.Ctim.Nsec)
		}
		return b.String()
	}
	for _, c := range []struct {
		name  string
		flags []string
	}{{"default", nil}, {"user_0_0", []string{"--user", "0:0"}}} {
		t.Run(c.name, func(t *testing.T) {
			if c.flags != nil && os.Geteuid() != 0 {
				t.Skip("needs root")
			}
			before := statAll()
			r := run(append(append([]string{kshim, "run"}, c.flags...), prog), baseEnv, "")
			after := statAll()
			if r.timedOut || r.err != nil || r.exit != 0 {
				t.Fatalf("%s\nstderr:\n%s", r.status(), clip(r.stderr))
			}
			lines := strings.Split(strings.TrimSuffix(string(r.stdout), "\n"), "\n")
			if len(lines) != 6*len(devs) {
				t.Fatalf("want %d results, got:\n%s", 6*len(devs), r.stdout)
			}
			for _, l := range lines {
				if !strings.HasSuffix(l, " -> EPERM") {
					t.Errorf("%s, want EPERM", l)
				}
			}
			if before != after {
				t.Errorf("host devices changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// TestSandboxMemfdStdin: stdin may be a file of an internal filesystem (a
// memfd), for which Landlock takes no rule: kshim still confines itself
// and runs the guest as natively.
func TestSandboxMemfdStdin(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "stdin")
	requireFile(t, prog)
	memfd := func() string {
		fd, err := unix.MemfdCreate("kshim-test-stdin", unix.MFD_CLOEXEC)
		if err != nil {
			t.Skipf("memfd_create: %v", err)
		}
		f := os.NewFile(uintptr(fd), "memfd")
		t.Cleanup(func() { f.Close() })
		if _, err := f.WriteString("from a memfd\nsecond line\n"); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("/proc/self/fd/%d", fd)
	}
	native := runWithStdin(t, []string{prog}, memfd(), guestCred())
	guest := runWithStdin(t, []string{kshim, "run", prog}, memfd(), nil)
	compare(t, "kshim", native, guest, false)
}
