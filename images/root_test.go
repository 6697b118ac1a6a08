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
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
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

// TestRootHostProc: with the host's / as root, a symlink into the host's
// /proc (which describes kshim, not the guest) is refused, and the guest's
// /proc is kshim's own.
func TestRootHostProc(t *testing.T) {
	tmp := guestTempDir(t)
	for name, target := range map[string]string{"env": "/proc/self/environ", "mem": "/proc/self/mem", "proc": "/proc"} {
		if err := os.Symlink(target, filepath.Join(tmp, name)); err != nil {
			t.Fatal(err)
		}
	}
	out := runEscape(t, tmp, nil,
		"read:env", "read:mem", "list:proc/self/fd", "read:proc/self/status", "read:/proc/self/environ",
		"read:/proc/self/mem", "list:/proc/self", "readlink:/proc/self/root")
	expect(t, out, map[string]string{
		"read:env": "EACCES", "read:mem": "EACCES", "list:proc/self/fd": "EACCES", "read:proc/self/status": "EACCES",
		"read:/proc/self/environ": "ENOENT", "read:/proc/self/mem": "ENOENT",
		"list:/proc/self": ". .. cwd exe fd maps root status", "readlink:/proc/self/root": `"/"`,
	})
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
