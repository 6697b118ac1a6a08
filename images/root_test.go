// root_test.go: the guest's root directory. kshim runs fs_escape (and
// fs_rofs) with --root on a temporary tree beside a secret file and checks
// that no path trick reaches outside the root, that a writable root only
// changes files inside it, that the host's /proc is never opened for the
// guest, and that a read-only root answers as a read-only mount would.
//
// These are spec tests, not differential ones: natively the same paths do
// reach the host's files.
package images

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const secret = "SECRET outside the root"

// escapeTree builds TMP/secret.txt (outside) and the guest's root TMP/root:
//
//	etc/passwd   "INSIDE passwd"
//	sub/deep/    a directory two levels down
//	abs -> /     an absolute symlink
//	sub/up -> ../../../../../../..
//	sec -> ../secret.txt, sec2 -> TMP/secret.txt (host path)
//	pr -> /proc/self/root
func escapeTree(t *testing.T) (tmp, root string) {
	t.Helper()
	tmp = guestTempDir(t)
	root = filepath.Join(tmp, "root")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "sub", "deep"), 0o755))
	must(os.WriteFile(filepath.Join(tmp, "secret.txt"), []byte(secret+"\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("INSIDE passwd\n"), 0o644))
	must(os.Symlink("/", filepath.Join(root, "abs")))
	must(os.Symlink("../../../../../../..", filepath.Join(root, "sub", "up")))
	must(os.Symlink("../secret.txt", filepath.Join(root, "sec")))
	must(os.Symlink(filepath.Join(tmp, "secret.txt"), filepath.Join(root, "sec2")))
	must(os.Symlink("/proc/self/root", filepath.Join(root, "pr")))
	chownTree(t, root) // the guest's, as kshim runs it (secret.txt stays root's)
	return tmp, root
}

// runEscape runs fs_escape under kshim with flags, from cwd, and returns
// its output lines by operation.
func runEscape(t *testing.T, cwd string, flags []string, ops ...string) map[string]string {
	t.Helper()
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "fs_escape")
	requireFile(t, prog)
	argv := append(append([]string{kshim, "run"}, flags...), prog)
	argv = append(argv, ops...)
	old, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(cwd); err != nil {
		t.Fatal(err)
	}
	r := run(argv, baseEnv, "")
	if err := os.Chdir(old); err != nil {
		t.Fatal(err)
	}
	if r.timedOut || r.err != nil || r.sig != 0 || r.exit != 0 {
		t.Fatalf("kshim run fs_escape: %s\nstdout:\n%s\nstderr:\n%s", r.status(), clip(r.stdout), clip(r.stderr))
	}
	if strings.Contains(string(r.stdout), "SECRET") {
		t.Errorf("the guest read the secret outside its root:\n%s", r.stdout)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(r.stdout), "\n"), "\n") {
		op, res, ok := strings.Cut(line, " -> ")
		if !ok {
			t.Fatalf("unexpected output line %q", line)
		}
		out[op] = res
	}
	for _, op := range ops {
		if _, ok := out[op]; !ok {
			t.Errorf("no result for %s in:\n%s", op, r.stdout)
		}
	}
	return out
}

func expect(t *testing.T, out map[string]string, want map[string]string) {
	t.Helper()
	for op, w := range want {
		if got := out[op]; got != w {
			t.Errorf("%s -> %s, want %s", op, got, w)
		}
	}
}

const inside = `"INSIDE passwd"`

// TestRootNoEscape: reads through "..", absolute and climbing symlinks,
// chdir(".."), dirfds and /proc/self/{root,cwd,fd} all stay in the root.
func TestRootNoEscape(t *testing.T) {
	tmp, root := escapeTree(t)
	ops := map[string]string{
		"read:../../etc/passwd":                    inside,
		"read:/../../etc/passwd":                   inside,
		"read:/../../../../../../../etc/passwd":    inside,
		"read:abs/etc/passwd":                      inside,
		"read:abs/../../etc/passwd":                inside,
		"read:sub/up/etc/passwd":                   inside,
		"read:sub/up/secret.txt":                   "ENOENT",
		"read:/sub/up/../secret.txt":               "ENOENT",
		"read:sec":                                 "ENOENT",
		"read:sec2":                                "ENOENT",
		"read:/proc/self/root/etc/passwd":          inside,
		"read:/proc/self/root/../secret.txt":       "ENOENT",
		"read:/proc/self/cwd/../../secret.txt":     "ENOENT",
		"read:/proc/self/fd/0/../secret.txt":       "ENOTDIR",
		"read:pr/etc/passwd":                       "ENOENT",
		"read:/proc/1/root/etc/passwd":             "ENOENT",
		"readat:/sub/deep:../../../secret.txt":     "ENOENT",
		"readat:/sub/deep:../../etc/passwd":        inside,
		"readat:/sub/deep:/etc/passwd":             inside,
		"read:/etc/hostname":                       "ENOENT",
		"readlink:/proc/self/root":                 `"/"`,
		"readlink:abs":                             `"/"`,
		"read:/dev/null":                           `""`,
		"read:" + filepath.Join(tmp, "secret.txt"): "ENOENT",
	}
	var list []string
	for op := range ops {
		list = append(list, op)
	}
	// The cwd is outside the root, so the guest starts at its root.
	out := runEscape(t, tmp, []string{"--root", root}, list...)
	expect(t, out, ops)

	// chdir("..") as often as you like: the root is the top.
	seq := []string{"cd:/sub/deep", "cd:..", "cd:../../..", "cd:../../../../..", "read:etc/passwd", "read:../secret.txt",
		"stat:/", "stat:/..", "stat:/../..", "list:..", "readlink:/proc/self/cwd"}
	out = runEscape(t, tmp, []string{"--root", root}, seq...)
	expect(t, out, map[string]string{
		"cd:/sub/deep": "cwd /sub/deep", "cd:..": "cwd /sub", "cd:../../..": "cwd /", "cd:../../../../..": "cwd /",
		"read:etc/passwd": inside, "read:../secret.txt": "ENOENT", "readlink:/proc/self/cwd": `"/"`,
		"list:..": ". .. abs etc pr sec sec2 sub",
	})
	if out["stat:/"] != out["stat:/.."] || out["stat:/"] != out["stat:/../.."] {
		t.Errorf("/.. is not / inside the root: %s, %s, %s", out["stat:/"], out["stat:/.."], out["stat:/../.."])
	}

	// A cwd inside the root is kept, with the root's name for it.
	out = runEscape(t, filepath.Join(root, "sub", "deep"), []string{"--root", root},
		"readlink:/proc/self/cwd", "read:../../etc/passwd", "read:../../../secret.txt")
	expect(t, out, map[string]string{
		"readlink:/proc/self/cwd": `"/sub/deep"`, "read:../../etc/passwd": inside, "read:../../../secret.txt": "ENOENT",
	})
}

// TestRootWritableStaysInside: with --rw, creating, linking and renaming
// through escaping paths and symlinks only changes the root.
func TestRootWritableStaysInside(t *testing.T) {
	tmp, root := escapeTree(t)
	ops := []string{
		"create:/../../escaped.txt",
		"symlink:../outside.txt:/lnk",
		"create:/lnk",
		"symlink:" + filepath.Join(tmp, "viahost.txt") + ":/lnk2",
		"create:/lnk2",
		"mkdir:/../../newdir",
		"rename:/etc/passwd:/../../stolen",
		"link:/sec2:/hardlink",
		"create:sub/up/climbed.txt",
		"create:/proc/self/root/../viaproc.txt",
		"unlink:/../secret.txt",
	}
	out := runEscape(t, tmp, []string{"--root", root, "--rw"}, ops...)
	expect(t, out, map[string]string{
		"create:/../../escaped.txt": "ok", "create:/lnk": "ok", "create:/lnk2": "ENOENT",
		"mkdir:/../../newdir": "ok", "rename:/etc/passwd:/../../stolen": "ok", "link:/sec2:/hardlink": "ok",
		"create:sub/up/climbed.txt": "ok", "create:/proc/self/root/../viaproc.txt": "ok",
		"unlink:/../secret.txt": "ENOENT",
	})
	for _, name := range []string{"escaped.txt", "outside.txt", "newdir", "stolen", "climbed.txt", "viaproc.txt", "viahost.txt"} {
		if _, err := os.Lstat(filepath.Join(tmp, name)); err == nil {
			t.Errorf("%s was created outside the root", name)
		}
	}
	for _, name := range []string{"escaped.txt", "outside.txt", "newdir", "stolen", "climbed.txt", "viaproc.txt"} {
		if _, err := os.Lstat(filepath.Join(root, name)); err != nil {
			t.Errorf("%s was not created inside the root: %v", name, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(tmp, "secret.txt")); err != nil || string(b) != secret+"\n" {
		t.Errorf("the secret outside the root changed: %q, %v", b, err)
	}
	// The hard link is to the symlink itself, which still points out
	// (and still resolves inside the root only).
	if target, err := os.Readlink(filepath.Join(root, "hardlink")); err != nil || target != filepath.Join(tmp, "secret.txt") {
		t.Errorf("hardlink: %q, %v", target, err)
	}
}

// TestRootHostProc: with the host's / as root, a path the host resolves
// into its own /proc (which describes kshim, not the guest) is looked up
// again in the guest's /proc, kshim's: what that has reads as on Linux
// (mounts, so /etc/mtab, lists the guest's mount table; environ the
// guest's own environment, from its stack), the rest (mem) is ENOENT,
// never kshim's.
func TestRootHostProc(t *testing.T) {
	tmp := guestTempDir(t)
	for name, target := range map[string]string{"env": "/proc/self/environ", "mem": "/proc/self/mem",
		"proc": "/proc", "mtab": "/proc/mounts"} {
		if err := os.Symlink(target, filepath.Join(tmp, name)); err != nil {
			t.Fatal(err)
		}
	}
	// --user 0:0: the file layer must hold with root's file rights (the
	// default identity would stop these earlier, with EACCES).
	out := runEscape(t, tmp, []string{"--user", "0:0"},
		"read:env", "read:mem", "read:mtab", "stat:mtab", "list:proc/self/fd", "read:proc/self/status",
		"read:/proc/self/environ", "read:/proc/self/mem", "list:/proc/self", "readlink:/proc/self/root")
	expect(t, out, map[string]string{
		"read:env": `"PATH=/usr/bin:/bin"`, "read:mem": "ENOENT", // fs_escape prints up to the first NUL
		"read:/proc/self/environ": `"PATH=/usr/bin:/bin"`, "read:/proc/self/mem": "ENOENT",
		"list:/proc/self": ". .. cmdline comm cwd environ exe fd fdinfo limits maps mountinfo mounts root stat status task", "readlink:/proc/self/root": `"/"`,
		"list:proc/self/fd": ". .. 0 1 2 3",
	})
	// The root's line, read-only (no --rw), from kshim's table.
	if m := out["read:mtab"]; !strings.Contains(m, " / ") || !strings.Contains(m, " ro,") {
		t.Errorf("read:mtab -> %s, want the guest's root mount, read-only", m)
	}
	// What kshim's /proc has reads through the symlink as it does natively
	// (fd lists differ: a native run inherits what the test runner leaks).
	_, dir := paths(t)
	old, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(tmp); err != nil {
		t.Fatal(err)
	}
	n := run([]string{filepath.Join(dir, "fs_escape"), "read:proc/self/status"}, baseEnv, "")
	if err := os.Chdir(old); err != nil {
		t.Fatal(err)
	}
	want := "read:proc/self/status -> " + out["read:proc/self/status"] + "\n"
	if string(n.stdout) != want {
		t.Errorf("through a symlink into /proc, native:\n%skshim:\n%s", n.stdout, want)
	}
}

// roExpected is what Linux prints for fs_rofs on a read-only mount (taken
// from a native run on a tmpfs remounted read-only): EROFS exactly where
// mnt_want_write fails, the lookup errors where they come first.
const roExpected = `open(f, O_RDONLY)                  -> ok
read(f)                            -> ok
contents=hi
ftruncate(rdonly fd)               -> EINVAL
fchmod(rdonly fd)                  -> EROFS
fchown(rdonly fd, -1, -1)          -> EROFS
futimens(rdonly fd)                -> EROFS
access(f, R_OK)                    -> ok
access(f, W_OK)                    -> EROFS
access(d, W_OK)                    -> EROFS
access(p, W_OK)                    -> ok
access(/dev/null, W_OK)            -> ok
access(missing, W_OK)              -> ENOENT
open(f, O_WRONLY)                  -> EROFS
open(f, O_RDWR)                    -> EROFS
open(f, O_RDONLY|O_TRUNC)          -> EROFS
open(f, O_RDONLY|O_CREAT)          -> ok
open(f, O_CREAT|O_EXCL)            -> EEXIST
open(new, O_CREAT)                 -> EROFS
open(nodir/new, O_CREAT)           -> ENOENT
open(f/new, O_CREAT)               -> ENOTDIR
open(d, O_WRONLY)                  -> EISDIR
open(d, O_RDONLY|O_CREAT)          -> EISDIR
open(l, O_WRONLY|O_NOFOLLOW)       -> ELOOP
open(l, O_WRONLY)                  -> EROFS
open(p, O_RDWR)                    -> ok
open(d, O_TMPFILE)                 -> EROFS
open(/dev/null, O_WRONLY)          -> ok
creat(new)                         -> EROFS
mkdir(new)                         -> EROFS
mkdir(d)                           -> EEXIST
mkdir(nodir/x)                     -> ENOENT
link(f, g)                         -> EROFS
link(f, d)                         -> EEXIST
link(missing, h)                   -> ENOENT
symlink(f, s)                      -> EROFS
symlink(f, l)                      -> EEXIST
mknod(fifo2)                       -> EROFS
truncate(g, 1)                     -> ENOENT
truncate(d, 0)                     -> EISDIR
truncate(missing, 0)               -> ENOENT
chmod(f)                           -> EROFS
chmod(missing)                     -> ENOENT
chown(f, -1, -1)                   -> EROFS
lchown(l, -1, -1)                  -> EROFS
utimes(f)                          -> EROFS
utimensat(f, OMIT, OMIT)           -> ok
rename(s, s2)                      -> EROFS
rename(missing, s3)                -> EROFS
rmdir(.)                           -> EINVAL
rmdir(missing)                     -> EROFS
rmdir(d)                           -> EROFS
unlink(missing)                    -> EROFS
unlink(nodir/x)                    -> ENOENT
unlink(g)                          -> EROFS
f after: present size=3
`

// TestRootReadOnly: without --rw the root behaves as a read-only mount,
// both as the host's / and as --root DIR, and nothing in it changes.
func TestRootReadOnly(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "fs_rofs")
	requireFile(t, prog)
	tree := guestTempDir(t)
	if err := os.Mkdir(filepath.Join(tree, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "f"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("f", filepath.Join(tree, "l")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(tree, "p"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The guest's own files, as on the mount the expectations come from.
	chownTree(t, tree)
	before := listTree(t, tree)
	for _, c := range []struct {
		name string
		argv []string
	}{
		{"host_root", []string{kshim, "run", prog, tree}},
		{"root_dir", []string{kshim, "run", "--root", tree, prog, "/"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := run(c.argv, baseEnv, "")
			if r.timedOut || r.err != nil || r.exit != 0 {
				t.Fatalf("%s\nstderr:\n%s", r.status(), clip(r.stderr))
			}
			if string(r.stdout) != roExpected {
				t.Errorf("read-only root differs from a read-only mount:\n%s", firstDiff([]byte(roExpected), r.stdout, "kshim"))
			}
			if after := listTree(t, tree); after != before {
				t.Errorf("the read-only tree changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// listTree describes every entry under dir (name, mode, size, mtime).
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		b.WriteString(rel + " " + fi.Mode().String() + " " + fi.ModTime().String())
		if fi.Mode().IsRegular() {
			b.WriteString(" " + strings.Repeat("#", int(fi.Size())))
		}
		b.WriteString("; ")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// handedFDs are the host objects fs_handed is started with: fd 0, fd 1
// and, from fd 3 on, inherited fds; its results come on stderr.
type handedFDs struct {
	stdin, stdout *os.File
	extra         []*os.File
}

// runHanded runs argv (fs_handed, natively or under kshim) from cwd with
// fds and ops, and returns its stderr lines by operation.
func runHanded(t *testing.T, argv []string, cwd string, fds handedFDs, ops []string) (map[string]string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], ops...)...)
	cmd.Env, cmd.Dir = baseEnv, cwd
	cmd.Stdin, cmd.Stdout, cmd.ExtraFiles = fds.stdin, fds.stdout, fds.extra
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\nstderr:\n%s", argv, err, clip(errb.Bytes()))
	}
	if strings.Contains(errb.String(), "SECRET") {
		t.Errorf("the guest read the secret outside its root:\n%s", errb.String())
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(errb.String(), "\n"), "\n") {
		op, res, ok := strings.Cut(line, " -> ")
		if !ok {
			t.Fatalf("unexpected output line %q in:\n%s", line, errb.String())
		}
		out[op] = res
	}
	for _, op := range ops {
		if _, ok := out[op]; !ok {
			t.Errorf("no result for %s in:\n%s", op, errb.String())
		}
	}
	return out, errb.String()
}

// hostState describes every entry under dir but skip, and the host's
// devices: type and mode, owner, links, size, contents of files and, with
// times, mtime and ctime (which shows even a change back to the same
// value); without, two runs' trees compare.
func hostState(t *testing.T, dir, skip string, times bool) string {
	t.Helper()
	var b strings.Builder
	describe := func(name string, fi os.FileInfo) {
		st := fi.Sys().(*syscall.Stat_t)
		fmt.Fprintf(&b, "%s %v uid=%d gid=%d nlink=%d size=%d", name, fi.Mode(), st.Uid, st.Gid, st.Nlink, st.Size)
		if times {
			fmt.Fprintf(&b, " mtime=%d.%d ctime=%d.%d", st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
		}
		b.WriteString("\n")
	}
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if path == skip {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(dir, path)
		describe(rel, fi)
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "  %q\n", data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{"/dev/null", "/dev/zero"} {
		fi, err := os.Stat(dev)
		if err != nil {
			t.Fatal(err)
		}
		describe(dev, fi)
	}
	return b.String()
}

// handedTree builds TMP/root (the guest's root: etc/passwd, and in/ with
// file), TMP/hostdir (outside: secret, sub/), TMP/log (outside) and a copy
// of fs_handed in TMP/prog (outside: the program file the guest runs).
func handedTree(t *testing.T, prog string) (tmp string) {
	t.Helper()
	tmp = t.TempDir()
	data, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		os.MkdirAll(filepath.Join(tmp, "root", "etc"), 0o755),
		os.MkdirAll(filepath.Join(tmp, "root", "in"), 0o755),
		os.MkdirAll(filepath.Join(tmp, "hostdir", "sub"), 0o755),
		os.Mkdir(filepath.Join(tmp, "prog"), 0o755),
		os.WriteFile(filepath.Join(tmp, "root", "etc", "passwd"), []byte("INSIDE passwd\n"), 0o644),
		os.WriteFile(filepath.Join(tmp, "root", "in", "file"), []byte("INSIDE file\n"), 0o644),
		os.WriteFile(filepath.Join(tmp, "root", "log"), []byte("LOG inside\n"), 0o640),
		os.WriteFile(filepath.Join(tmp, "hostdir", "secret"), []byte(secret+"\n"), 0o644),
		os.WriteFile(filepath.Join(tmp, "log"), []byte("LOG\n"), 0o640),
		os.WriteFile(filepath.Join(tmp, "prog", "fs_handed"), data, 0o755),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Old times, so that a change to "now" shows.
	old := time.Unix(1e9, 0)
	for _, name := range []string{"log", "hostdir", "hostdir/secret", "prog/fs_handed"} {
		if err := os.Chtimes(filepath.Join(tmp, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	return tmp
}

func openFDs(t *testing.T, stdin, stdout string, extra ...string) handedFDs {
	t.Helper()
	open := func(name string, flag int) *os.File {
		f, err := os.OpenFile(name, flag, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	fds := handedFDs{stdin: open(stdin, os.O_RDONLY), stdout: open(stdout, os.O_WRONLY)}
	for _, name := range extra {
		fds.extra = append(fds.extra, open(name, os.O_RDONLY))
	}
	return fds
}

// handedOutside is what the guest gets when its fd 0 is a host directory
// outside its root, fd 1 a host file outside it, fd 3 an inherited host
// directory, and its program file is outside it too, whether or not the
// root is writable: lookups from fd 0 are EACCES (no path starts outside
// the root), fd 3 is not the guest's (EBADF: kshim hands in fds 0-2 only),
// and no host object's attributes, size or links change (EPERM, EXDEV for
// a link; ETXTBSY for writing the running program; EACCES for reopening a
// file with more access than it was handed in with). Linux has no oracle
// for this: a native chroot does let a process look up paths below a
// directory fd it was handed.
var handedOutside = map[string]string{
	// Lookups starting at the handed-in directory.
	"openat:0:secret": "EACCES", "openat:0:.": "EACCES", "openat:0:..": "EACCES",
	"openatw:0:new": "EACCES", "fstatat:0:secret": "EACCES", "mkdirat:0:newdir": "EACCES",
	"mknodat:0:fifo": "EACCES", "symlinkat:0:sym": "EACCES", "readlinkat:0:secret": "EACCES",
	"unlinkat:0:secret": "EACCES", "rmdirat:0:sub": "EACCES", "renameat:0:secret:/stolen": "EACCES",
	"renameto:0:/etc/passwd:moved": "EACCES", "linkat:0:secret:/stolen": "EACCES",
	"linkto:0:/etc/passwd:linked": "EACCES", "fchownat:0:secret": "EACCES", "fchmodat:0:secret": "EACCES",
	"utimensat:0:secret": "EACCES", "faccessat:0:secret": "EACCES", "execveat:0:secret": "EACCES",
	"fchdir:0": "EACCES", "creat:viacwd": "", // the root's rule: the cwd is still its /
	// ... and through /proc/self/fd and /dev/fd.
	"read:/proc/self/fd/0/secret": "EACCES", "read:/dev/fd/0/secret": "EACCES",
	"creat:/dev/fd/0/newfile": "EACCES", "mkdir:/proc/self/fd/0/newdir": "EACCES",
	"unlink:/proc/self/fd/0/secret": "EACCES", "symlink:/proc/self/fd/0/sym": "EACCES",
	"rename:/etc/passwd:/proc/self/fd/0/moved": "EACCES", "link:/etc/passwd:/dev/fd/0/linked": "EACCES",
	"chdir:/proc/self/fd/0": "EACCES", "chdir:/dev/fd/0": "EACCES", "chdir:/dev/stdin": "EACCES",
	// Looking at the object itself is allowed.
	"statempty:0": "ok", "getdents:0": "ok",
	// fd 3 was inherited by kshim, not handed to the guest.
	"openat:3:secret": "EBADF", "fstatat:3:secret": "EBADF", "mkdirat:3:x": "EBADF", "fchdir:3": "EBADF",
	"statempty:3": "EBADF", "read:/proc/self/fd/3/secret": "ENOENT", "read:/dev/fd/3": "ENOENT",
	// The handed-in file (stdout) and directory (stdin) never change.
	"ftruncate:1": "EPERM", "fallocate:1": "EPERM", "fchmod:1": "EPERM", "fchown:1": "EPERM",
	"futimens:1": "EPERM", "fchownempty:1": "EPERM", "fchmodempty:1": "EPERM", "utimensempty:1": "EPERM",
	"truncate:/proc/self/fd/1": "EPERM", "chmod:/dev/stdout": "EPERM", "chown:/proc/self/fd/1": "EPERM",
	"lchown:/dev/stdout": "EPERM", "utimes:/dev/stdout": "EPERM", "open:/dev/stdout:wt": "EPERM",
	"open:/dev/stdout:r": "EACCES", "open:/proc/self/fd/1:rw": "EACCES", "open:/dev/stdin:w": "EISDIR",
	"linkempty:1:/stolenlog": "", "link:/dev/stdout:/stolenlog2": "", // EROFS, then EXDEV
	"fchmod:0": "EPERM", "fchown:0": "EPERM", "futimens:0": "EPERM", "chmod:/proc/self/fd/0": "EPERM",
	"utimes:/dev/stdin": "EPERM", "fchmodempty:0": "EPERM",
	// Neither a mapping nor an O_PATH detour gains access: a shared
	// writable mapping needs the fd's read and write access (EACCES), as
	// does making a shared one writable; the O_PATH fd keeps the grant.
	"mmapw:1": "EACCES", "mprotw:1": "EACCES", "mmapw:5": "EACCES", "mprotw:5": "EACCES",
	"pathopen:1:rw": "EACCES", "pathopen:1:r": "EACCES", "pathopen:1:wt": "EPERM", "pathopen:5:w": "ETXTBSY",
	"pathopen:5:r": "ok",
	// The program file, outside the root, is only read.
	"truncate:/proc/self/exe": "EPERM", "chmod:/proc/self/exe": "EPERM", "chown:/proc/self/exe": "EPERM",
	"utimes:/proc/self/exe": "EPERM", "open:/proc/self/exe:w": "ETXTBSY", "openas:5:/proc/self/exe": "ok",
	"fchmod:5": "EPERM", "fchown:5": "EPERM", "futimens:5": "EPERM", "open:/proc/self/fd/5:w": "ETXTBSY",
	"open:/proc/self/fd/5:r": "ok", "linkempty:5:/exelink": "",
	// The host's devices: used, never changed (the "same" ops set what
	// the device already has, so even a wrong success changes nothing
	// but its ctime, which the test checks).
	"open:/dev/null:wt": "ok", "open:/dev/null:rw": "ok", "truncate:/dev/null": "EINVAL",
	"samechmod:/dev/null": "EPERM", "samechown:/dev/null": "EPERM", "sametimes:/dev/null": "EPERM",
	"fsamechmod:/dev/null": "EPERM", "fsamechown:/dev/null": "EPERM", "samechmod:/dev/zero": "EPERM",
}

// handedOrder runs fchdir before creat:viacwd and openas before the ops on
// fd 5; the rest in any order.
func handedOrder(ops map[string]string) []string {
	first := []string{"fchdir:0", "creat:viacwd", "openas:5:/proc/self/exe"}
	list := append([]string(nil), first...)
	for op := range ops {
		if !slices.Contains(first, op) {
			list = append(list, op)
		}
	}
	return list
}

// TestRootHandedOutside: host objects handed to the guest from outside
// its root are I/O only, read-only root or --rw, and nothing outside the
// root changes (contents, sizes, modes, owners, times, links).
func TestRootHandedOutside(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	requireFile(t, filepath.Join(dir, "fs_handed"))
	for _, c := range []struct {
		name  string
		flags []string
		// creat answers creating in the root; link, linking a host
		// object into it (filename_create's EROFS comes before EXDEV).
		creat, link string
	}{{"ro", nil, "EROFS", "EROFS"}, {"rw", []string{"--rw"}, "ok", "EXDEV"}} {
		t.Run(c.name, func(t *testing.T) {
			tmp := handedTree(t, filepath.Join(dir, "fs_handed"))
			root, hostdir := filepath.Join(tmp, "root"), filepath.Join(tmp, "hostdir")
			fds := openFDs(t, hostdir, filepath.Join(tmp, "log"), hostdir)
			before := hostState(t, tmp, root, true)
			want := maps.Clone(handedOutside)
			want["creat:viacwd"] = c.creat
			for _, op := range []string{"linkempty:1:/stolenlog", "link:/dev/stdout:/stolenlog2", "linkempty:5:/exelink"} {
				want[op] = c.link
			}
			argv := append(append([]string{kshim, "run", "--user", "0:0", "--root", root}, c.flags...), filepath.Join(tmp, "prog", "fs_handed"))
			out, _ := runHanded(t, argv, tmp, fds, handedOrder(want))
			expect(t, out, want)
			if after := hostState(t, tmp, root, true); after != before {
				t.Errorf("the host changed outside the root:\n%s", firstDiff([]byte(before), []byte(after), "after"))
			}
			for _, name := range []string{"stolen", "moved", "linked", "stolenlog", "stolenlog2", "exelink", "newdir", "newfile"} {
				if _, err := os.Lstat(filepath.Join(root, name)); err == nil {
					t.Errorf("%s was made in the root", name)
				}
			}
		})
	}
}

// handedIO are the calls the guest may make on what it was handed:
// reading, writing, status flags and locks. Under kshim (with fds as in
// TestRootHandedOutside) they answer as natively.
var handedIO = []string{"write:1", "fstat:0", "fstat:1", "statempty:0", "statempty:1", "getdents:0", "poll:0",
	"poll:1", "flock:0", "flock:1", "setlk:1", "setfl:0", "setfl:1", "faccessat:1:", "open:/dev/stdout:w",
	"open:/dev/stdout:a", "open:/dev/stdin:r", "read:/dev/null", "open:/dev/null:w"}

// TestRootHandedIO: the I/O the guest may do on host objects from outside
// its root is Linux's (a native run is the oracle), and its writes land.
func TestRootHandedIO(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	requireFile(t, filepath.Join(dir, "fs_handed"))
	var outs [2]string
	for i, under := range []bool{false, true} {
		tmp := handedTree(t, filepath.Join(dir, "fs_handed"))
		root, hostdir, prog := filepath.Join(tmp, "root"), filepath.Join(tmp, "hostdir"), filepath.Join(tmp, "prog", "fs_handed")
		fds := openFDs(t, hostdir, filepath.Join(tmp, "log"))
		argv := []string{prog}
		if under {
			argv = []string{kshim, "run", "--user", "0:0", "--root", root, prog}
		}
		_, outs[i] = runHanded(t, argv, tmp, fds, handedIO)
		if b, err := os.ReadFile(filepath.Join(tmp, "log")); err != nil || string(b) != "guest\n" {
			t.Errorf("under kshim %v: the log holds %q, %v; want the guest's write over LOG", under, b, err)
		}
	}
	if outs[0] != outs[1] {
		t.Errorf("I/O on handed-in objects differs from native:\n%s", firstDiff([]byte(outs[0]), []byte(outs[1]), "kshim"))
	}
}

// handedInside: fd 0 a directory and fd 1 a file inside the root, the cwd
// the root; relative paths only, so that a native run (no root) is the
// oracle for --rw.
var handedInside = []string{"openat:0:file", "fstatat:0:file", "mkdirat:0:made", "openatw:0:new", "fchmod:1",
	"fchown:1", "futimens:1", "ftruncate:1", "fallocate:1", "fchmodempty:1", "utimensempty:1",
	"chmod:/proc/self/fd/1", "truncate:/dev/stdout", "open:/dev/stdout:wt", "open:/proc/self/fd/1:rw",
	"open:/dev/stdin:r", "linkempty:1:loglink", "fchdir:0", "read:file", "creat:viacwd", "chdir:/dev/fd/0"}

// TestRootHandedInside: handed-in objects that are also inside the root
// follow the root's rule: with --rw everything answers and changes as
// natively; read-only, every change is EROFS as on a read-only mount.
func TestRootHandedInside(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	requireFile(t, filepath.Join(dir, "fs_handed"))
	var outs, states [2]string
	for i, under := range []bool{false, true} {
		tmp := handedTree(t, filepath.Join(dir, "fs_handed"))
		root, prog := filepath.Join(tmp, "root"), filepath.Join(tmp, "prog", "fs_handed")
		fds := openFDs(t, filepath.Join(root, "in"), filepath.Join(root, "log"))
		argv := []string{prog}
		if under {
			argv = []string{kshim, "run", "--user", "0:0", "--root", root, "--rw", prog}
		}
		_, outs[i] = runHanded(t, argv, root, fds, handedInside)
		states[i] = hostState(t, root, "", false)
	}
	if outs[0] != outs[1] {
		t.Errorf("--rw root: handed-in objects inside it differ from native:\n%s", firstDiff([]byte(outs[0]), []byte(outs[1]), "kshim"))
	}
	if states[0] != states[1] {
		t.Errorf("--rw root: the tree differs from a native run's:\n%s", firstDiff([]byte(states[0]), []byte(states[1]), "kshim"))
	}

	tmp := handedTree(t, filepath.Join(dir, "fs_handed"))
	root := filepath.Join(tmp, "root")
	fds := openFDs(t, filepath.Join(root, "in"), filepath.Join(root, "log"))
	before := hostState(t, tmp, "", true)
	out, _ := runHanded(t, []string{kshim, "run", "--user", "0:0", "--root", root, filepath.Join(tmp, "prog", "fs_handed")}, root, fds, handedInside)
	expect(t, out, map[string]string{
		"openat:0:file": `"INSIDE file"`, "fstatat:0:file": "ok", "mkdirat:0:made": "EROFS", "openatw:0:new": "EROFS",
		"fchmod:1": "EROFS", "fchown:1": "EROFS", "futimens:1": "EROFS", "ftruncate:1": "EROFS", "fallocate:1": "EROFS",
		"fchmodempty:1": "EROFS", "utimensempty:1": "EROFS", "chmod:/proc/self/fd/1": "EROFS",
		"truncate:/dev/stdout": "EROFS", "open:/dev/stdout:wt": "EROFS", "open:/proc/self/fd/1:rw": "ok",
		"open:/dev/stdin:r": "ok", "linkempty:1:loglink": "EROFS", "fchdir:0": "ok", "read:file": `"INSIDE file"`,
		"creat:viacwd": "EROFS", "chdir:/dev/fd/0": "ok",
	})
	if after := hostState(t, tmp, "", true); after != before {
		t.Errorf("the read-only root changed:\n%s", firstDiff([]byte(before), []byte(after), "after"))
	}
}

// TestRootExeSwapped: with --rw, the guest cannot make /proc/self/exe (or
// an exec of it) lead out of the root by putting a symlink where its
// program was: the program's name is resolved in the root, as any path.
func TestRootExeSwapped(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	requireFile(t, filepath.Join(dir, "fs_handed"))
	tmp := handedTree(t, filepath.Join(dir, "fs_handed"))
	root, hostdir := filepath.Join(tmp, "root"), filepath.Join(tmp, "hostdir")
	data, err := os.ReadFile(filepath.Join(dir, "fs_handed"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "x", "fs_handed"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hostdir, "fs_handed"), []byte(secret+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	fds := openFDs(t, "/dev/null", filepath.Join(tmp, "log"))
	ops := []string{"rename:/x:/x.old", "symlinkto:" + hostdir + ":/x", "read:/proc/self/exe", "execveat:-100:/proc/self/exe"}
	out, _ := runHanded(t, []string{kshim, "run", "--user", "0:0", "--root", root, "--rw", filepath.Join(root, "x", "fs_handed")}, tmp, fds, ops)
	expect(t, out, map[string]string{
		"rename:/x:/x.old": "ok", "symlinkto:" + hostdir + ":/x": "ok",
		"read:/proc/self/exe": "ENOENT", "execveat:-100:/proc/self/exe": "ENOENT",
	})
}

// TestDevLinksBareRoot: /dev/fd and /dev/std* are kshim's whatever the
// root holds, links to lstat and readlink, the fds to open: in a root
// with no /dev at all the guest sees what Linux shows on a host
// (dev_links natively, on the host's /dev).
func TestDevLinksBareRoot(t *testing.T) {
	kshim, dir := paths(t)
	prog := filepath.Join(dir, "dev_links")
	requireFile(t, prog)
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	native := runNative([]string{prog}, nil, "")
	if native.err != nil || native.exit != 0 {
		t.Fatalf("native: %s\n%s", native.status(), native.stderr)
	}
	got := run([]string{kshim, "run", "--root", root, prog}, nil, "")
	if got.err != nil || got.exit != 0 {
		t.Fatalf("kshim: %s\n%s", got.status(), got.stderr)
	}
	if !bytes.Equal(native.stdout, got.stdout) {
		t.Errorf("in a bare root:\n%s", firstDiff(native.stdout, got.stdout, "kshim"))
	}
}
