package images

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPtyPrivate: the guest's /dev/pts is kshim's own devpts instance. A
// host pty the test holds (its slave given to the guest's user, so only
// kshim's rule stands in the way) is neither listed in the guest's
// /dev/pts nor reached through a symlink to its host path: that path
// names the guest's own /dev/pts/N, which does not exist. The host's
// ptmx node by a relative path allocates from the guest's instance.
func TestPtyPrivate(t *testing.T) {
	kshim, _ := paths(t)
	requireFile(t, kshim)
	if os.Geteuid() != 0 {
		t.Skip("kshim's devpts instance needs root")
	}
	m, n, slave := hostPty(t)
	defer unix.Close(m)
	dir := guestTempDir(t)
	link := filepath.Join(dir, "l")
	if err := os.Symlink(slave, link); err != nil {
		t.Fatal(err)
	}
	chownTree(t, dir)
	// Last, the host's /dev/ptmx by a relative name: a pty of the
	// guest's instance, listed in its /dev/pts (a host pty would not be).
	script := "ls -a /dev/pts; echo leaked > " + link + " && echo opened; " +
		"ls /dev/pts/" + strconv.Itoa(n) + "; cd /dev && exec 3<>ptmx && echo relative; ls /dev/pts; exit 0"
	r := run([]string{kshim, "run", "--rw", "/bin/sh", "-c", script}, baseEnv, "")
	out := string(r.stdout)
	if r.exit != 0 || r.err != nil {
		t.Fatalf("%s\nstdout:\n%s\nstderr:\n%s", r.status(), out, r.stderr)
	}
	if !strings.HasPrefix(out, ".\n..\nptmx\n") {
		t.Errorf("guest's /dev/pts: %q, want only . .. ptmx\nstderr: %s", out, r.stderr)
	}
	if !strings.HasSuffix(out, "relative\n0\nptmx\n") {
		t.Errorf("ptmx opened relative to /dev is not the guest's pty 0:\n%s", out)
	}
	if strings.Contains(out, "opened") {
		t.Errorf("the guest opened the host's %s through a symlink:\n%s", slave, out)
	}
	unix.SetNonblock(m, true)
	buf := make([]byte, 256)
	if k, _ := unix.Read(m, buf); k > 0 {
		t.Errorf("the host pty received %q from the guest", buf[:k])
	}
	if !strings.Contains(string(r.stderr), "No such file") {
		t.Errorf("want ENOENT for the host pty's path in the guest, stderr:\n%s", r.stderr)
	}
}

// TestPtyHanded: a host terminal kshim is handed as stdin keeps its name
// in the guest (tty(1), ttyname(3) stat /dev/pts/N), as natively; under
// kshim with no more access than it was handed with.
func TestPtyHanded(t *testing.T) {
	kshim, _ := paths(t)
	requireFile(t, kshim)
	m, _, slave := hostPty(t)
	defer unix.Close(m)
	f, err := os.OpenFile(slave, os.O_RDONLY|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	script := "tty; echo x > " + slave + " && echo wrote"
	for _, side := range []struct {
		name string
		argv []string
	}{{"native", []string{"/bin/sh", "-c", script}}, {"kshim", []string{kshim, "run", "/bin/sh", "-c", script}}} {
		cmd := exec.Command(side.argv[0], side.argv[1:]...)
		cmd.Env = baseEnv
		cmd.Stdin = f
		if side.name == "native" {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: guestCred()}
		}
		out, _ := cmd.Output()
		if first, _, _ := strings.Cut(string(out), "\n"); first != slave {
			t.Errorf("%s: tty printed %q, want %s", side.name, out, slave)
		}
		// Read-only as handed: under kshim a write through the name is
		// refused (natively DAC allows it: the slave is the user's).
		if side.name == "kshim" && strings.Contains(string(out), "wrote") {
			t.Errorf("kshim: the guest opened its read-only stdin terminal for writing: %q", out)
		}
	}
}

// TestPtyDotDot: /dev/pts/.. is /dev, through the mounts too (kshim run
// mounts a tmpfs at /dev/shm): the walk once handed /dev/pts/.. back to
// itself until kshim ran out of fds (EMFILE).
func TestPtyDotDot(t *testing.T) {
	kshim, _ := paths(t)
	requireFile(t, kshim)
	for _, flags := range [][]string{nil, {"--no-shm"}} {
		argv := append(append([]string{kshim, "run"}, flags...), "/usr/bin/stat", "-c", "%F", "/dev/pts/..", "/dev/pts/../pts", "/dev/pts/")
		r := run(argv, baseEnv, "")
		if r.exit != 0 || string(r.stdout) != "directory\ndirectory\ndirectory\n" {
			t.Errorf("%v: %s\nstdout: %q\nstderr: %s", flags, r.status(), r.stdout, r.stderr)
		}
	}
}

// hostPty opens a host pty pair's master (the test closes it), unlocks
// it, and gives its slave to the guest's identity (when the test runs as
// root, as kshim's sandbox switches to that identity): the master, the
// pty's number and the slave's path. No host ptys: the test is skipped.
func hostPty(t *testing.T) (int, int, string) {
	t.Helper()
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skip("no host ptys:", err)
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(m)
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(m, unix.TIOCGPTN)
	if err != nil {
		unix.Close(m)
		t.Fatal(err)
	}
	slave := "/dev/pts/" + strconv.Itoa(n)
	uid, gid := guestID()
	if err := os.Chown(slave, uid, gid); err != nil && os.Geteuid() == 0 {
		unix.Close(m)
		t.Fatal(err)
	}
	return m, n, slave
}
