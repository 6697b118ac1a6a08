package images

// mqueue_test.go: the mqueue file system (syscalls/ipc/mqfs.go) against
// Linux's: images/mqfs.c natively mounts one at a directory itself, in
// private IPC and mount namespaces, as root, and then runs as the guest's
// identity; under kshim the directory is `--mount type=mqueue`.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestMqueueFS(t *testing.T) {
	kshim, dir := paths(t)
	if os.Geteuid() != 0 {
		t.Skip("mounting an mqueue file system for the native run needs root")
	}
	prog := filepath.Join(dir, "mqfs")
	if _, err := os.Stat(prog); err != nil {
		t.Fatalf("%v (%s)", err, buildHint)
	}
	mnt := guestTempDir(t)
	uid, gid := guestID()
	native := runAttr([]string{prog, mnt, "mount", strconv.Itoa(uid), strconv.Itoa(gid)}, baseEnv, "",
		&syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWIPC | syscall.CLONE_NEWNS})
	if native.err != nil || native.timedOut || native.exit != 0 {
		t.Fatalf("native: %s\nstdout:\n%s\nstderr:\n%s", native.status(), native.stdout, native.stderr)
	}
	got := run([]string{kshim, "run", "--mount", "type=mqueue,destination=" + mnt, prog, mnt}, baseEnv, "")
	compare(t, "kshim", native, got, false)
}

// TestHostMqueueHidden: a host mqueue file system inside the guest's root
// (the host's /dev/mqueue, with --root /) is never the guest's: it cannot
// list, read, create or remove the host's queues there, by the walk
// across mounts (the default /dev/shm mount) or the host's whole-path
// resolution (--no-shm). The host side runs in private IPC and mount
// namespaces.
func TestHostMqueueHidden(t *testing.T) {
	kshim, _ := paths(t)
	if os.Geteuid() != 0 {
		t.Skip("mounting an mqueue file system needs root")
	}
	d := guestTempDir(t)
	guest := "ls " + d + " 2>&1; cat " + d + "/hostq 2>&1; touch " + d + "/made 2>&1; rm -f " + d + "/hostq 2>&1; cd " + d + "/.. && echo x > " + filepath.Base(d) + "/rel 2>&1; true"
	for _, opt := range []string{"--rw", "--no-shm"} {
		script := "mount -t mqueue mqueue " + d + " && : > " + d + "/hostq && " + kshim + " run --rw " + opt + " /bin/sh -c '" + guest + "'; echo host:; ls " + d
		r := runAttr([]string{"/bin/sh", "-c", script}, baseEnv, "", &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWIPC | syscall.CLONE_NEWNS})
		got := string(r.stdout)
		if r.exit != 0 || !strings.HasSuffix(got, "host:\nhostq\n") || strings.Contains(got, "QSIZE") || strings.Count(got+string(r.stderr), "Permission denied") != 5 {
			t.Errorf("%s: %s\nstdout:\n%s\nstderr:\n%s (want each of the 5 guest calls refused)", opt, r.status(), got, r.stderr)
		}
	}
}
