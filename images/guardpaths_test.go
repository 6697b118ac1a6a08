// guardpaths_test.go: an OCI config's linux.maskedPaths and
// linux.readonlyPaths (`kshim run --masked-path/--readonly-path`,
// syscalls/fs/fsguard.go). TestGuardPathsDiff runs fs_escape natively in a
// mount namespace where the paths are mounted as runc mounts them (a bind
// of /dev/null over a masked file, an empty read-only tmpfs over a masked
// directory, a read-only recursive bind of a read-only path onto itself)
// and under kshim with the flags, and compares the output byte for byte.
// TestGuardPathsHold: kshim only, what the guest must not undo and what
// refuses to start.
package images

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// guardTree builds TMP/root, a writable root holding the paths to guard,
// each with something to hide or protect.
func guardTree(t *testing.T, prog string) (tmp, root string) {
	t.Helper()
	tmp = guestTempDir(t)
	root = filepath.Join(tmp, "root")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"etc", "proc", "masked-dir/sub", "ro-dir/sub", "ro-dir/t", "other"} {
		must(os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	for name, text := range map[string]string{
		"masked-file": "SECRET file\n", "masked-dir/secret": "SECRET in dir\n", "masked-dir/sub/secret": "SECRET below\n",
		"etc/secret2": "SECRET linked\n", "ro-file": "immutable\n", "ro-dir/data": "RO data\n",
		"ro-dir/sub/file": "RO below\n", "other/data": "other data\n", "etc/hosts": "hosts\n",
	} {
		must(os.WriteFile(filepath.Join(root, name), []byte(text), 0o644))
	}
	must(os.Symlink("etc/secret2", filepath.Join(root, "lnk")))
	must(syscall.Mkfifo(filepath.Join(root, "ro-dir/fifo"), 0o666))
	b, err := os.ReadFile(prog)
	must(err)
	must(os.WriteFile(filepath.Join(root, "fs_escape"), b, 0o755))
	chownTree(t, tmp)
	return tmp, root
}

// guardFlags are kshim's flags for guardTree: a tmpfs below a read-only
// path; runc applies the read-only paths first, then the masks; /nope is
// not there (left alone).
var guardFlags = []string{"--tmpfs", "/ro-dir/t:size=4m", "--readonly-path", "/ro-dir", "--readonly-path", "/ro-file", "--readonly-path", "/nope",
	"--masked-path", "/masked-file", "--masked-path", "/masked-dir", "--masked-path", "/lnk",
	"--masked-path", "/masked-dir/sub", "--masked-path", "/nope/x"}

var guardOps = []string{
	// A masked file is /dev/null: empty, writes go nowhere.
	"read:/masked-file", "kind:/masked-file", "append:/masked-file", "otrunc:/masked-file", "read:/masked-file",
	"mmapw:/masked-file", "chmod:/masked-file", "truncate:/masked-file", "read:/masked-dir/../masked-file", "readat:/masked-dir:../masked-file",
	// A masked directory is empty and read-only.
	"list:/masked-dir", "kind:/masked-dir", "read:/masked-dir/secret", "read:/masked-dir/sub/secret",
	"create:/masked-dir/x", "mkdir:/masked-dir/d", "statfs:/masked-dir", "cd:/masked-dir", "read:../masked-dir/secret", "cd:/",
	// Masked through a symlink: the file it leads to.
	"read:/lnk", "kind:/etc/secret2", "read:/etc/secret2", "readlink:/lnk",
	// Not removed, renamed, linked or replaced.
	"unlink:/masked-file", "rename:/masked-file:/m2", "rmdir:/masked-dir", "rename:/masked-dir:/md2",
	"link:/masked-file:/hl", "rename:/other/data:/masked-file", "rename:/other/data:/etc/secret2",
	// A read-only file.
	"read:/ro-file", "append:/ro-file", "otrunc:/ro-file", "truncate:/ro-file", "chmod:/ro-file", "access:/ro-file",
	"mmapw:/ro-file", "unlink:/ro-file", "rename:/ro-file:/x", "rename:/other/data:/ro-file", "link:/ro-file:/hl2",
	"read:/ro-file",
	// A read-only directory, and what is below it.
	"read:/ro-dir/data", "create:/ro-dir/new", "mkdir:/ro-dir/d", "unlink:/ro-dir/data", "rmdir:/ro-dir/sub",
	"rename:/ro-dir/data:/ro-dir/d2", "rename:/ro-dir/data:/data", "rename:/other/data:/ro-dir/data3",
	"link:/ro-dir/data:/ro-dir/l", "symlink:x:/ro-dir/sl", "append:/ro-dir/sub/file", "otrunc:/ro-dir/sub/file",
	"chmod:/ro-dir/sub", "chmod:/ro-dir/sub/file", "mmapw:/ro-dir/data", "access:/ro-dir/sub/file",
	"statfs:/ro-dir", "statfs:/ro-dir/sub/file", "cd:/ro-dir/sub", "create:../x", "append:file", "cd:/",
	"readat:/ro-dir/sub:../data", "fifo:/ro-dir/fifo", "list:/ro-dir",
	// A mount below a read-only path stays as it was (runc's recursive
	// bind carries it; only the top is remounted read-only).
	"create:/ro-dir/t/x", "read:/ro-dir/t/x", "statfs:/ro-dir/t", "rename:/ro-dir/t/x:/ro-dir/x", "rmdir:/ro-dir/t",
	// The root around them stays writable.
	"mmapw:/other/data", "create:/other/new", "statfs:/other", "list:/",
}

// compareGuarded fails t unless kshim's run got ended well with the
// native run's output, byte for byte, and neither read a secret.
func compareGuarded(t *testing.T, native, got result) {
	t.Helper()
	if got.timedOut || got.err != nil || got.exit != 0 {
		t.Fatalf("kshim: %s\nstdout:\n%s\nstderr:\n%s", got.status(), clip(got.stdout), clip(got.stderr))
	}
	if os.Getenv("GUARD_SHOW") != "" {
		t.Logf("native:\n%s\nkshim:\n%s", native.stdout, got.stdout)
	}
	if !bytes.Equal(native.stdout, got.stdout) {
		t.Errorf("kshim differs from native:\n%s", lineDiff(string(native.stdout), string(got.stdout)))
	}
	for _, out := range [][]byte{native.stdout, got.stdout} {
		if bytes.Contains(out, []byte("SECRET")) {
			t.Errorf("a masked file was read:\n%s", out)
		}
	}
}

// runGuardedNative runs guest program prog (a path in guardTree's root)
// with args natively as the guest identity, chrooted in root with
// guardTree's mounts made as runc makes them: runc's readonlyPath and
// maskPath, by hand (the symlink followed as mount(2) follows it; the
// masked directory's subdirectory is gone under the tmpfs, as /nope is
// not there: both left alone). tools has unshare, mount and chroot.
func runGuardedNative(t *testing.T, tools map[string]string, root, prog string, args []string) result {
	t.Helper()
	uid, gid := guestID()
	script := `set -e
R=$1 ID=$2 PATH=$3:$4:$PATH PROG=$5; shift 5
mount --make-rprivate /
mount --bind "$R" "$R"
mount -t tmpfs -o size=4m tmpfs "$R/ro-dir/t"
for p in ro-dir ro-file; do mount --rbind "$R/$p" "$R/$p"; mount -o remount,bind,ro "$R/$p"; done
mount --bind /dev/null "$R/masked-file"
mount -t tmpfs -o ro tmpfs "$R/masked-dir"
mount --bind /dev/null "$R/etc/secret2"
mount -t proc proc "$R/proc"
exec chroot --userspec="$ID" --groups="${ID#*:}" "$R" "$PROG" "$@"`
	id := strconv.Itoa(uid) + ":" + strconv.Itoa(gid)
	argv := append([]string{tools["unshare"], "-m", "sh", "-c", script, "sh", root, id,
		filepath.Dir(tools["mount"]), filepath.Dir(tools["chroot"]), prog}, args...)
	return run(argv, baseEnv, "")
}

// guardTools finds the native side's tools (skips without them or root).
func guardTools(t *testing.T) map[string]string {
	t.Helper()
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
	return tools
}

func TestGuardPathsDiff(t *testing.T) {
	tools := guardTools(t)
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "fs_escape")
	requireFile(t, prog)
	_, root := guardTree(t, prog)
	native := runGuardedNative(t, tools, root, "/fs_escape", guardOps)
	if native.timedOut || native.err != nil || native.exit != 0 {
		t.Fatalf("native: %s\nstdout:\n%s\nstderr:\n%s", native.status(), clip(native.stdout), clip(native.stderr))
	}

	_, root2 := guardTree(t, prog)
	kargs := append([]string{kshim, "run", "--rw", "--root", root2}, guardFlags...)
	got := run(append(append(kargs, filepath.Join(root2, "fs_escape")), guardOps...), baseEnv, "")
	compareGuarded(t, native, got)
	// Nothing guarded changed in kshim's tree.
	for name, want := range map[string]string{"masked-file": "SECRET file\n", "masked-dir/secret": "SECRET in dir\n",
		"etc/secret2": "SECRET linked\n", "ro-file": "immutable\n", "ro-dir/data": "RO data\n", "ro-dir/sub/file": "RO below\n"} {
		if b, err := os.ReadFile(filepath.Join(root2, name)); err != nil || string(b) != want {
			t.Errorf("%s is now %q (%v)", name, b, err)
		}
	}
	for _, name := range []string{"masked-dir/x", "ro-dir/new", "ro-dir/x", "ro-dir/sub/x", "ro-dir/d", "m2", "md2", "x"} {
		if _, err := os.Lstat(filepath.Join(root2, name)); err == nil {
			t.Errorf("%s was created", name)
		}
	}
	if st, err := os.Stat(filepath.Join(root2, "ro-file")); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("ro-file's mode: %v %v", st, err)
	}
}

// TestGuardPathsHold: kshim only. A masked file is the host's /dev/null,
// which no guest identity changes (runc's container has a /dev/null of
// its own). Linux lets a directory above a mount be
// renamed (the mount moves with it); kshim's mount table is by path and
// follows no rename, so it refuses (EBUSY) for a directory above a masked
// or read-only path: fail closed. The guest has no umount (nor mount).
// /proc/self/fd and /proc/self/cwd stay in
// the mount. mountinfo lists the paths as runc's container does. A
// symlink loop, a relative path or a path of kshim's own /proc refuse to
// start, a missing one is left alone.
func TestGuardPathsHold(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a masked directory is a tmpfs: needs root")
	}
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "fs_escape")
	requireFile(t, prog)
	tmp, root := guardTree(t, prog)
	for _, d := range []string{"a/b/ro", "a/b/m"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range map[string]string{"a/b/ro/f": "deep ro\n", "a/b/m/f": "SECRET deep\n"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chownTree(t, tmp)
	flags := append([]string{"--rw", "--root", root, "--readonly-path", "/a/b/ro", "--masked-path", "/a/b/m"}, guardFlags...)
	ops := []string{
		"rename:/a:/z", "rename:/a/b:/a/c", "rename:/etc:/etc2", "rename:/ro-dir:/r2", "rename:/other:/o2",
		"mkdir:/y", "rename:/y:/a", "rmdir:/a/b", "umount:/masked-file", "umount:/ro-dir",
		"read:/a/b/m/f", "append:/a/b/ro/f", "readat:/a/b/ro:f", "cd:/a/b/ro", "readlink:/proc/self/cwd",
		"append:/proc/self/cwd/f", "read:/proc/self/cwd/../m/f", "cd:/",
	}
	out := runEscape(t, tmp, flags, ops...)
	expect(t, out, map[string]string{
		"rename:/a:/z": "EBUSY", "rename:/a/b:/a/c": "EBUSY", "rename:/etc:/etc2": "EBUSY", "rename:/ro-dir:/r2": "EBUSY",
		"rename:/other:/o2": "ok", "mkdir:/y": "ok", "rename:/y:/a": "ENOTEMPTY", "rmdir:/a/b": "ENOTEMPTY",
		"umount:/masked-file": "ENOSYS", "umount:/ro-dir": "ENOSYS", // no mount table changes at all
		"read:/a/b/m/f": "ENOENT", "append:/a/b/ro/f": "EROFS", "readat:/a/b/ro:f": `"deep ro"`,
		"readlink:/proc/self/cwd": `"/a/b/ro"`, "append:/proc/self/cwd/f": "EROFS", "read:/proc/self/cwd/../m/f": "ENOENT",
	})
	// As uid 0 too, the host's /dev/null behind a masked file never
	// changes.
	var before syscall.Stat_t
	if err := syscall.Stat("/dev/null", &before); err != nil {
		t.Fatal(err)
	}
	out0 := runEscape(t, tmp, append([]string{"--user", "0:0"}, flags...), "chmod:/masked-file", "truncate:/masked-file", "read:/masked-file")
	expect(t, out0, map[string]string{"chmod:/masked-file": "EPERM", "truncate:/masked-file": "EINVAL", "read:/masked-file": `""`})
	var after syscall.Stat_t
	if err := syscall.Stat("/dev/null", &after); err != nil || after.Mode != before.Mode || after.Uid != before.Uid {
		t.Errorf("the host's /dev/null changed: mode %o -> %o, uid %d -> %d", before.Mode, after.Mode, before.Uid, after.Uid)
	}
	// runc's container lists each: the read-only binds ro, the masks'
	// /dev/null (rw, as bound) and read-only tmpfs.
	r := run(append(append([]string{kshim, "run"}, flags...), prog, "cat:/proc/self/mountinfo"), baseEnv, "")
	if r.exit != 0 {
		t.Fatalf("mountinfo: %s\n%s", r.status(), clip(r.stderr))
	}
	mi := string(r.stdout)
	for _, c := range []struct{ dest, opts, fstype string }{
		{"/ro-dir", "ro,", ""}, {"/ro-file", "ro,", ""}, {"/a/b/ro", "ro,", ""},
		{"/masked-file", "rw,", ""}, {"/etc/secret2", "rw,", ""}, {"/masked-dir", "ro,", "tmpfs"}, {"/a/b/m", "ro,", "tmpfs"},
	} {
		found := false
		for _, l := range strings.Split(mi, "\n") {
			f := strings.Fields(l)
			if len(f) > 8 && f[4] == c.dest && strings.HasPrefix(f[5], c.opts) && (c.fstype == "" || f[len(f)-3] == c.fstype) {
				found = true
			}
		}
		if !found {
			t.Errorf("no mountinfo line for %s (%s %s) in:\n%s", c.dest, c.opts, c.fstype, mi)
		}
	}
	for _, gone := range []string{" /masked-dir/sub ", " /nope"} {
		if strings.Contains(mi, gone) {
			t.Errorf("mountinfo lists %s:\n%s", gone, mi)
		}
	}
	// Refused at start: one line, status 2 or kshim's error status, and
	// the program never runs.
	for _, bad := range [][]string{
		{"--masked-path", "relative"}, {"--readonly-path", "relative"},
		{"--masked-path", "/loop"}, {"--readonly-path", "/loop"},
		{"--masked-path", "/proc/self/status"}, {"--readonly-path", "/proc/self"}, {"--masked-path", "/dev/null"},
	} {
		if err := os.Symlink("loop", filepath.Join(root, "loop")); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
		r := run(append(append([]string{kshim, "run", "--rw", "--root", root}, bad...), filepath.Join(root, "fs_escape"), "read:/etc/hosts"), baseEnv, "")
		if r.exit == 0 || strings.Contains(string(r.stdout), "hosts") || !strings.Contains(string(r.stderr), bad[1]) {
			t.Errorf("%q: %s, stdout %q, stderr %q; want a refusal naming the path", bad, r.status(), r.stdout, r.stderr)
		}
	}
}
