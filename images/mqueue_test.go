package images

// mqueue_test.go: the mqueue file system (syscalls/ipc/mqfs.go) against
// Linux's: images/mqfs.c natively mounts one at a directory itself, in
// private IPC and mount namespaces, as root, and then runs as the guest's
// identity; under kshim the directory is `--mount type=mqueue`.

import (
	"os"
	"path/filepath"
	"strconv"
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
