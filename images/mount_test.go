// mount_test.go: the guest's mounts (`kshim run -v/--mount/--tmpfs`,
// syscalls/fsmount.go). TestMountsDiff runs fs_escape natively in a mount
// namespace with real bind and tmpfs mounts over a read-only root (chroot,
// as the guest's user) and under kshim with the same mounts, and compares
// the output byte for byte: reads, writes, EROFS, EXDEV, EBUSY, statfs,
// ENOSPC, and ".." and symlinks leading out of a bind mount, which must
// land in the guest's tree and never in the mount's host surroundings.
package images

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTree builds TMP/root (the guest's root, with mount points),
// TMP/hro and TMP/hrw (host directories to bind), TMP/hfile (a file to
// bind) and TMP/secret.txt beside them.
func mountTree(t *testing.T, prog string) (tmp, root string) {
	t.Helper()
	tmp = guestTempDir(t)
	root = filepath.Join(tmp, "root")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"root/etc", "root/proc", "root/mnt/ro", "root/mnt/rw", "root/tmp", "hro/sub", "hrw/inner"} {
		must(os.MkdirAll(filepath.Join(tmp, d), 0o755))
	}
	files := map[string]string{
		"root/etc/passwd": "INSIDE passwd\n", "root/etc/hosts": "root hosts\n", "hro/data": "RO data\n",
		"hrw/data": "RW data\n", "secret.txt": secret + "\n", "hro/secret.txt": "SECRET beside\n", "hfile": "bound file\n",
	}
	for name, text := range files {
		must(os.WriteFile(filepath.Join(tmp, name), []byte(text), 0o644))
	}
	for link, target := range map[string]string{
		"hro/up": "../../..", "hro/sub/up": "../../../..", "hro/abs": "/etc/passwd", "hro/sec": "../secret.txt",
		"hro/hostabs": filepath.Join(tmp, "secret.txt"), "hro/toproc": "/proc/self/root/etc/passwd",
	} {
		must(os.Symlink(target, filepath.Join(tmp, link)))
	}
	must(syscall.Mkfifo(filepath.Join(tmp, "hro/fifo"), 0o666))
	b, err := os.ReadFile(prog)
	must(err)
	must(os.WriteFile(filepath.Join(root, "fs_escape"), b, 0o755))
	chownTree(t, tmp)
	must(os.Chown(filepath.Join(tmp, "secret.txt"), 0, 0))
	must(os.Chmod(filepath.Join(tmp, "secret.txt"), 0o600))
	return tmp, root
}

var mountOps = []string{
	// A read-only bind mount.
	"read:/mnt/ro/data", "append:/mnt/ro/data", "truncate:/mnt/ro/data", "access:/mnt/ro/data",
	"create:/mnt/ro/new", "mkdir:/mnt/ro/d", "unlink:/mnt/ro/data", "rename:/mnt/ro/data:/mnt/ro/data2",
	"symlink:x:/mnt/ro/sl", "statfs:/mnt/ro", "statfs:/mnt/ro/data", "list:/mnt", "list:/mnt/ro",
	// Out of it: ".." and symlinks are the guest's, never the host's.
	"read:/mnt/ro/up/etc/passwd", "read:/mnt/ro/sub/up/etc/passwd", "read:/mnt/ro/abs", "read:/mnt/ro/sec",
	"read:/mnt/ro/hostabs", "read:/mnt/ro/../../etc/passwd", "read:/mnt/ro/sub/../../../etc/passwd",
	"read:/mnt/ro/../secret.txt", "readat:/mnt/ro/sub:../../../etc/passwd", "readat:/mnt/ro/sub:../../secret.txt",
	"readat:/mnt/ro:../ro/data", "readat:/mnt/ro:../../../../secret.txt", "readlink:/mnt/ro/up",
	"cd:/mnt/ro/sub", "read:../data", "cd:..", "cd:..", "read:ro/data", "read:../etc/hosts", "cd:ro/up", "cd:/",
	// A writable bind mount, with a tmpfs inside it.
	"read:/mnt/rw/data", "append:/mnt/rw/data", "read:/mnt/rw/data", "create:/mnt/rw/new", "access:/mnt/rw/new",
	"rename:/mnt/rw/new:/mnt/rw/new2", "rename:/mnt/rw/new2:/tmp/x", "link:/mnt/rw/new2:/tmp/x",
	"link:/mnt/rw/new2:/mnt/rw/l", "rename:/mnt/rw/new2:/mnt/ro/x", "symlink:/mnt/ro/data:/mnt/rw/sl",
	"read:/mnt/rw/sl", "statfs:/mnt/rw", "list:/mnt/rw",
	"create:/mnt/rw/inner/f", "rename:/mnt/rw/inner/f:/mnt/rw/f", "link:/mnt/rw/inner/f:/mnt/rw/f",
	"rmdir:/mnt/rw/inner", "unlink:/mnt/rw/inner", "rename:/mnt/rw/inner:/mnt/rw/o", "mkdir:/mnt/rw/inner",
	"statfs:/mnt/rw/inner", "fill:/mnt/rw/inner/big", "cd:/mnt/rw/inner", "cd:..", "cd:/",
	// A tmpfs on the read-only root.
	"create:/tmp/t", "read:/tmp/t", "rename:/tmp/t:/tmp/t2", "link:/tmp/t2:/tmp/t3", "rename:/tmp/t2:/t2",
	"statfs:/tmp", "fill:/tmp/big", "unlink:/tmp/big", "mkdir:/tmp/d", "rmdir:/tmp/d", "list:/tmp",
	// noexec: execve and executable mappings refused, plain ones fine.
	"copy:/fs_escape:/tmp/prog", "exec:/tmp/prog", "mmapx:/tmp/prog",
	"copy:/fs_escape:/mnt/rw/inner/prog", "exec:/mnt/rw/inner/prog", "mmapx:/mnt/rw/inner/prog",
	"read:/mnt/rw/inner/prog", "statfs:/mnt/rw/inner/prog",
	// The read-only root around them.
	"create:/etc/x", "append:/etc/hosts", "statfs:/", "rmdir:/tmp", "rmdir:/mnt/rw", "unlink:/mnt/ro",
	"mkdir:/tmp", "rename:/mnt/rw:/mnt/x", "read:/etc/hosts",
	// A bind-mounted file.
	"read:/etc/hostfile", "append:/etc/hostfile", "read:/etc/hostfile", "rmdir:/etc/hostfile", "statfs:/etc/hostfile",
	// /proc/self/maps names mapped files by their guest paths, through
	// the mounts (never the host's), following a rename and marking a
	// removed name " (deleted)".
	"map:/mnt/ro/data", "map:/mnt/ro/sub/../data", "map:/mnt/rw/data", "map:/mnt/rw/inner/prog", "map:/tmp/t3",
	"map:/etc/hostfile", "map:/etc/hosts", "names:-",
	"rename:/mnt/rw/data:/mnt/rw/data3", "unlink:/tmp/t3", "unlink:/mnt/rw/inner/prog", "names:-",
	"rename:/mnt/rw/data3:/mnt/rw/data",
	// A mapping of a noexec mount's file cannot become executable
	// (mprotect EACCES: no VM_MAYEXEC); other mounts' can.
	"copy:/fs_escape:/mnt/rw/inner/prog2", "mprotx:/mnt/rw/inner/prog2", "mprotx:/tmp/t2", "mprotx:/mnt/ro/data",
	"mprotx:/etc/hostfile",
	// A FIFO in a read-only mount opens for writing (it changes nothing
	// on the mount), a regular file there does not.
	"fifo:/mnt/ro/fifo", "append:/mnt/ro/data",
}

func TestMountsDiff(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: native mounts in a mount namespace, and a tmpfs for kshim")
	}
	tools := map[string]string{}
	for _, tool := range []string{"unshare", "mount", "chroot"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s: %v", tool, err)
		}
		tools[tool] = p
	}
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "fs_escape")
	requireFile(t, prog)
	tmp, root := mountTree(t, prog)
	hro, hrw, hfile := filepath.Join(tmp, "hro"), filepath.Join(tmp, "hrw"), filepath.Join(tmp, "hfile")
	// The guest's /etc/hostfile: a mount point must exist natively.
	if err := os.WriteFile(filepath.Join(root, "etc", "hostfile"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	uid, gid := guestID()
	script := `set -e
R=$1 HRO=$2 HRW=$3 HF=$4 ID=$5 PATH=$6:$7:$PATH; shift 7
mount --make-rprivate /
mount --bind "$R" "$R"
mount --bind "$HRO" "$R/mnt/ro"
mount -o remount,bind,ro "$R/mnt/ro"
mount --bind "$HRW" "$R/mnt/rw"
mount -t tmpfs -o size=4m,mode=1777,noexec,nosuid,nodev tmpfs "$R/mnt/rw/inner"
mount -t tmpfs -o size=1m,mode=1777 tmpfs "$R/tmp"
mount --bind "$HF" "$R/etc/hostfile"
mount -t proc proc "$R/proc"
mount -o remount,bind,ro "$R"
exec chroot --userspec="$ID" --groups="${ID#*:}" "$R" /fs_escape "$@"`
	id := strconv.Itoa(uid) + ":" + strconv.Itoa(gid)
	argv := append([]string{tools["unshare"], "-m", "sh", "-c", script, "sh", root, hro, hrw, hfile, id,
		filepath.Dir(tools["mount"]), filepath.Dir(tools["chroot"])}, mountOps...)
	native := run(argv, baseEnv, "")
	if native.timedOut || native.err != nil || native.exit != 0 {
		t.Fatalf("native: %s\nstdout:\n%s\nstderr:\n%s", native.status(), clip(native.stdout), clip(native.stderr))
	}

	// kshim: a fresh tree (native changed the first), the same mounts.
	tmp2, root2 := mountTree(t, prog)
	if err := os.WriteFile(filepath.Join(root2, "etc", "hostfile"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	kargs := []string{kshim, "run", "--root", root2,
		"-v", filepath.Join(tmp2, "hro") + ":/mnt/ro:ro",
		"--mount", "type=bind,source=" + filepath.Join(tmp2, "hrw") + ",destination=/mnt/rw",
		"--tmpfs", "/mnt/rw/inner:size=4m,noexec,nosuid,nodev",
		"--tmpfs", "/tmp:size=1m",
		"-v", filepath.Join(tmp2, "hfile") + ":/etc/hostfile",
		filepath.Join(root2, "fs_escape")}
	got := run(append(kargs, mountOps...), baseEnv, "")
	if got.timedOut || got.err != nil || got.exit != 0 {
		t.Fatalf("kshim: %s\nstdout:\n%s\nstderr:\n%s", got.status(), clip(got.stdout), clip(got.stderr))
	}
	if !bytes.Equal(native.stdout, got.stdout) {
		t.Errorf("kshim differs from native:\n%s", lineDiff(string(native.stdout), string(got.stdout)))
	}
	for _, out := range [][]byte{native.stdout, got.stdout} {
		if bytes.Contains(out, []byte("SECRET")) {
			t.Errorf("a secret beside the mounts was read:\n%s", out)
		}
	}
	// Nothing of the trees changed but the writable mounts.
	for _, name := range []string{"root/etc/x", "root/t2", "root/mnt/x", "hro/new", "hro/x"} {
		if _, err := os.Lstat(filepath.Join(tmp2, name)); err == nil {
			t.Errorf("%s was created", name)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(tmp2, "hrw", "data")); string(b) != "RW data\nmore\n" {
		t.Errorf("hrw/data = %q after an append through the mount", b)
	}
}

// lineDiff shows the lines that differ, native first.
func lineDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	for i := 0; i < max(len(la), len(lb)); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			out.WriteString("native: " + x + "\nkshim:  " + y + "\n")
		}
	}
	return out.String()
}

// TestMountsNoEscape: kshim only (natively these paths mean other things):
// symlinks from a bind mount into /proc are the guest's /proc; the host's
// procfs below a bound host directory is never opened; /proc/self/cwd and
// /proc/self/fd name paths through the mounts; /proc/mounts lists them.
func TestMountsNoEscape(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "fs_escape")
	requireFile(t, prog)
	tmp, root := mountTree(t, prog)
	if err := os.MkdirAll(filepath.Join(root, "host"), 0o755); err != nil {
		t.Fatal(err)
	}
	ops := []string{
		"readat:/mnt/ro/sub:../data", // leaves the directory open as fd 3
		"read:/mnt/ro/toproc", "read:/host/proc/self/status", "list:/host/proc/self", "read:/host/proc/1/environ",
		"readat:/host:proc/self/status", "cd:/mnt/ro/sub", "readlink:/proc/self/cwd", "read:/proc/self/cwd/../data",
		"read:/proc/self/cwd/../../../etc/passwd", "read:/proc/self/root/mnt/ro/data", "readlink:/proc/self/fd/3", "cd:/",
		"read:/proc/self/mounts", "read:/proc/mounts", "read:/proc/self/mountinfo",
	}
	out := runEscape(t, tmp, []string{"--root", root, "-v", filepath.Join(tmp, "hro") + ":/mnt/ro:ro",
		"-v", "/:/host:ro", "--user", "0:0"}, ops...)
	expect(t, out, map[string]string{
		"read:/mnt/ro/toproc": `"INSIDE passwd"`, "read:/host/proc/self/status": "EACCES",
		"list:/host/proc/self": "EACCES", "read:/host/proc/1/environ": "EACCES", "readat:/host:proc/self/status": "EACCES",
		"readlink:/proc/self/cwd": `"/mnt/ro/sub"`, "read:/proc/self/cwd/../data": `"RO data"`,
		"read:/proc/self/cwd/../../../etc/passwd": `"INSIDE passwd"`, "read:/proc/self/root/mnt/ro/data": `"RO data"`,
		"readlink:/proc/self/fd/3": `"/mnt/ro/sub"`, "readat:/mnt/ro/sub:../data": `"RO data"`,
	})
	// The first line of each listing is the root's.
	for _, op := range []string{"read:/proc/self/mounts", "read:/proc/mounts"} {
		if !strings.Contains(out[op], " / ") || !strings.Contains(out[op], " ro,") {
			t.Errorf("%s -> %s, want the read-only root's line", op, out[op])
		}
	}
	if !strings.HasPrefix(out["read:/proc/self/mountinfo"], `"21 `) {
		t.Errorf("mountinfo -> %s", out["read:/proc/self/mountinfo"])
	}
}

// TestMountsRace: renames and symlink swaps racing with lookups never
// lead a path out of the guest's tree (".." from a directory being moved
// around a bind mount) nor a write into a read-only mount (a directory
// turned into a symlink to it between kshim's EROFS check and the open).
// A stress test: the window is narrow and rarely hit here, so
// syscalls' TestWalkReadOnlyGuard checks the guard for that case directly.
func TestMountsRace(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "fs_mount_race")
	requireFile(t, prog)
	tmp := guestTempDir(t)
	root := filepath.Join(tmp, "root")
	for _, d := range []string{"root/etc", "root/proc", "root/mnt/ro", "root/mnt/rw", "h/rw", "h/ro"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range map[string]string{"root/etc/passwd": "INSIDE passwd\n", "h/secret.txt": secret + "\n",
		"h/ro/data": "RO data\n", "root/secret.txt": "INSIDE root\n"} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chownTree(t, tmp)
	// kshim's own checks, without the sandbox's Landlock (which grants the
	// read-only mount no writing) behind them. The race runs 2 s, longer
	// where everything is slower (KSHIM_RUN_TIMEOUT above 30 s: make
	// test-svm's emulated CPU made 65 opens in 2 s), so that it still
	// makes the attempts counted below.
	secs := strconv.Itoa(max(2, int(2*runTimeout/(30*time.Second))))
	r := run([]string{kshim, "run", "--no-sandbox", "--root", root, "-v", filepath.Join(tmp, "h/rw") + ":/mnt/rw",
		"-v", filepath.Join(tmp, "h/ro") + ":/mnt/ro:ro", prog, secs}, baseEnv, "")
	if r.timedOut || r.err != nil || r.exit != 0 {
		t.Fatalf("kshim: %s\nstdout:\n%s\nstderr:\n%s", r.status(), clip(r.stdout), clip(r.stderr))
	}
	var bad, opens, written, writes int
	if _, err := fmt.Sscanf(string(r.stdout), "escapes %d of %d opens, read-only writes %d of %d", &bad, &opens, &written, &writes); err != nil {
		t.Fatalf("output %q: %v", r.stdout, err)
	}
	t.Logf("%s", r.stdout)
	if bad != 0 || written != 0 || opens < 100 || writes < 20 {
		t.Errorf("%s", r.stdout)
	}
	if b, _ := os.ReadFile(filepath.Join(tmp, "h/ro/data")); string(b) != "RO data\n" {
		t.Errorf("the read-only mount's file is now %q", b)
	}
	if _, err := os.Stat(filepath.Join(tmp, "h/ro/new")); err == nil {
		t.Error("a file was created in the read-only mount")
	}
}

// TestMountsBadFlags: a bad mount flag is one line on stderr and status 2,
// before anything runs.
func TestMountsBadFlags(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "hello")
	requireFile(t, prog)
	for _, args := range [][]string{
		{"-v", "/nonexistent-kshim-source:/x"}, {"-v", "relative:/x"}, {"-v", "/tmp"},
		{"--tmpfs", "/proc/x"}, {"--tmpfs", "/t:size=0"}, {"--tmpfs", "/t:color=red"},
		{"--mount", "type=sysfs,dst=/sys"}, {"--mount", "type=bind,src=/tmp,dst=/x,ro=maybe"},
		{"--tmpfs", "/sys/fs/cgroup"}, {"--tmpfs", "/a/b", "--tmpfs", "/a"},
	} {
		r := run(append(append([]string{kshim, "run"}, args...), prog), baseEnv, "")
		lines := strings.Split(strings.TrimSuffix(string(r.stderr), "\n"), "\n")
		if r.exit != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "kshim: ") || len(r.stdout) != 0 {
			t.Errorf("%q: %s, stdout %q, stderr %q; want status 2 and one line", args, r.status(), r.stdout, r.stderr)
		}
	}
}

// TestTmpfsChargedByUse: kshim only (the native side's memory is the
// host's): a tmpfs costs the guest's --mem nothing until files are
// written, then what they hold (MemFree drops by it), ENOSPC at the
// mount's size, and the memory comes back when they are removed.
func TestTmpfsChargedByUse(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a tmpfs needs root")
	}
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "fs_escape")
	requireFile(t, prog)
	got := run([]string{kshim, "run", "--mem", "64M", "--tmpfs", "/tmp:size=16m", "--tmpfs", "/big",
		"--tmpfs", "/huge:size=128m", prog, // larger than --mem, as Linux allows
		"memfree:-", "fill:/tmp/f", "memfree:-", "unlink:/tmp/f", "memfree:-"}, baseEnv, "")
	if got.timedOut || got.err != nil || got.exit != 0 {
		t.Fatalf("kshim: %s\n%s", got.status(), clip(got.stderr))
	}
	out := string(got.stdout)
	var free []int
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 5 && f[0] == "memfree:-" {
			n, err := strconv.Atoi(f[3])
			if err != nil {
				t.Fatalf("%q", l)
			}
			free = append(free, n)
		}
	}
	if len(free) != 3 {
		t.Fatalf("output:\n%s", out)
	}
	if !strings.Contains(out, "fill:/tmp/f -> 16384 KiB, ENOSPC") {
		t.Errorf("filling the 16 MiB tmpfs:\n%s", out)
	}
	// Unused, the tmpfs (one of the default size, 32 MiB, one past
	// --mem) cost nothing: the guest has nearly all of its 64 MiB.
	if free[0] < 48<<10 {
		t.Errorf("MemFree %d kB before any tmpfs file, of 64 MiB", free[0])
	}
	if d := free[0] - free[1]; d < 16<<10 || d > 17<<10 {
		t.Errorf("16 MiB in the tmpfs took %d kB of MemFree (%d -> %d)", d, free[0], free[1])
	}
	if d := free[2] - free[0]; d < -(1<<10) || d > 1<<10 {
		t.Errorf("after removing the file MemFree is %d kB, was %d", free[2], free[0])
	}
}
