// guardattack_test.go: a hostile guest against masked and read-only paths
// (images/guard_attack.c; the tree, flags and native mounts of
// guardpaths_test.go). TestGuardAttackDiff: the same attacks natively,
// with the paths mounted as runc mounts them, and under kshim, byte for
// byte, and nothing guarded read or changed. TestGuardAttackRace: renames
// and symlink swaps racing with opens through them (kshim and native).
// TestGuardAttackReexec: /proc/self/exe re-run. TestGuardAttackCwd: a
// VMM started inside a masked or read-only directory.
// TestGuardAttackMountRename: renaming above a mount. TestGuardAttackHanded: a directory handed in as fd 0 below
// one.
package images

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// guardAttackTree is guardTree with guard_attack in it too.
func guardAttackTree(t *testing.T) (tmp, root string) {
	t.Helper()
	kshim, dir := paths(t)
	requireFile(t, kshim)
	esc, prog := filepath.Join(dir, "fs_escape"), filepath.Join(dir, "guard_attack")
	requireFile(t, esc)
	requireFile(t, prog)
	tmp, root = guardTree(t, esc)
	b, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "guard_attack"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	chownTree(t, tmp)
	return tmp, root
}

// guardUnchanged checks that nothing guarded changed in root.
func guardUnchanged(t *testing.T, root string) {
	t.Helper()
	for name, want := range map[string]string{"masked-file": "SECRET file\n", "masked-dir/secret": "SECRET in dir\n",
		"masked-dir/sub/secret": "SECRET below\n", "etc/secret2": "SECRET linked\n", "ro-file": "immutable\n",
		"ro-dir/data": "RO data\n", "ro-dir/sub/file": "RO below\n"} {
		if b, err := os.ReadFile(filepath.Join(root, name)); err != nil || string(b) != want {
			t.Errorf("%s is now %q (%v)", name, b, err)
		}
	}
	for _, name := range []string{"ro-file", "ro-dir/data", "ro-dir/sub", "ro-dir/sub/file"} {
		st, err := os.Stat(filepath.Join(root, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if m := st.Mode().Perm(); m != 0o644 && m != 0o755 {
			t.Errorf("%s's mode is now %o", name, m)
		}
	}
	// The root's directory under the tmpfs at /ro-dir/t (the guest
	// writes only to the tmpfs).
	if ents, err := os.ReadDir(filepath.Join(root, "ro-dir/t")); err != nil || len(ents) > 0 {
		t.Errorf("ro-dir/t below the tmpfs holds %v (%v)", ents, err)
	}
	for _, name := range []string{"ro-dir/tf", "ro-dir/tf2", "masked-dir/x", "ro-dir/new"} {
		if _, err := os.Lstat(filepath.Join(root, name)); err == nil {
			t.Errorf("%s was created", name)
		}
	}
}

// guardAttackOps are guard_attack's operations for guardTree (root: the
// tree's host path, which a tmpfs path mirrors for exeas).
func guardAttackOps(root string) []string {
	long := "/" + strings.Repeat("other/../", 440) + "etc/secret2" // ~4 KiB, below PATH_MAX
	tooLong := "/" + strings.Repeat("other/../", 460) + "etc/secret2"
	return []string{
		// Masked: by every way of naming them.
		"rdat:/masked-dir:secret", "rdat:/masked-dir:../masked-dir/secret", "rdat:/other:../masked-dir/secret",
		"rdat:/etc:secret2", "rdat:/etc:./secret2", "rdat:/:etc/secret2", "rd://masked-dir//secret",
		"rd:/masked-dir/./secret", "rd:/masked-dir/sub/../secret", "rd:/etc//secret2", "rd:/etc/secret2/",
		"rd:/etc/./secret2", "rd:/etc/../etc/secret2", "rd:/proc/self/root/etc/secret2",
		"rd:/proc/self/root/masked-dir/secret", "rd:/proc/self/cwd/masked-file", "rd:/ETC/secret2",
		"rd:/Masked-dir/secret", "rd:" + long, "rd:" + tooLong, "rd:/lnk", "rdat:/other:../lnk",
		"fdrd:/etc:secret2", "fdrd:/other:../masked-dir/secret", "fdrd:/masked-dir:../etc/secret2",
		"fdrd:/masked-dir:sub/secret", "fdrd:/:masked-file", "ls:/masked-dir", "ls:/etc",
		// Read-only: data, metadata, links, and by every name.
		"wr:/ro-file", "wr://ro-dir//data", "wr:/ro-dir/./data", "wr:/ro-dir/sub/../data", "wr:/ro-file/",
		"wrat:/ro-dir:data", "wrat:/ro-dir/sub:../data", "wrat:/other:../ro-dir/data", "wrat:/:ro-file",
		"wr:/proc/self/root/ro-dir/data", "wr:/proc/self/cwd/ro-dir/sub/file", "wr:/lnk",
		"tmpfile:/ro-dir:/ro-dir/tf", "tmpfile:/other:/ro-dir/tf2", "tmpfile:/masked-dir:/masked-dir/x",
		"cfr:/other/data:/ro-file", "sendfile:/other/data:/ro-dir/data", "splice:/other/data:/ro-dir/sub/file",
		"setxattr:/ro-file", "setxattr:/ro-dir/data", "setxattr:/ro-dir", "utimes:/ro-dir/data", "utimes:/ro-dir",
		"chown:/ro-file", "chown:/ro-dir/sub", "trunc:/ro-dir/data", "trunc:/ro-file", "falloc:/ro-dir/data",
		"mmapro:/ro-dir/data", "reowr:/ro-dir/data", "reotrunc:/ro-file", "reotrunc:/ro-dir/sub/file", "ls:/ro-dir",
		// The running program's /proc/self/exe, run from a tmpfs at a
		// path that mirrors the root's host name for a masked file.
		"exeas:/ro-dir/t" + root + "/masked-dir/secret", "exeas:/ro-dir/t" + root + "/etc/secret2",
		"exeas:/ro-dir/t/nowhere/prog",
		"rd:/masked-dir/secret",
		// A unix socket's node in a tmpfs below a read-only path: in
		// the tmpfs, not in the root's directory under it.
		"bind:/ro-dir/t/s", "bind:/ro-dir/s", "bind:/masked-dir/s", "ls:/ro-dir/t",
	}
}

func TestGuardAttackDiff(t *testing.T) {
	tools := guardTools(t)
	kshim, _ := paths(t)
	_, root := guardAttackTree(t)
	native := runGuardedNative(t, tools, root, "/guard_attack", guardAttackOps(root))
	if native.timedOut || native.err != nil || native.exit != 0 {
		t.Fatalf("native: %s\nstdout:\n%s\nstderr:\n%s", native.status(), clip(native.stdout), clip(native.stderr))
	}
	_, root2 := guardAttackTree(t)
	// The exeas paths mirror each run's own root (only the lines of
	// what the program read are printed, the same either way).
	kargs := append([]string{kshim, "run", "--rw", "--root", root2}, guardFlags...)
	kargs = append(kargs, filepath.Join(root2, "guard_attack"))
	got := run(append(kargs, guardAttackOps(root2)...), baseEnv, "")
	compareGuarded(t, native, got)
	guardUnchanged(t, root)
	guardUnchanged(t, root2)
}

// TestGuardAttackRace: two threads swap a directory and symlinks into the
// masked and read-only paths (rename, RENAME_EXCHANGE, unlink) while two
// others open through them, for a bounded time; nothing masked is read,
// nothing read-only written, natively and under kshim. Then chdir and
// fchdir race with lookups from the cwd (kshim holds the cwd's host fd by
// reference: fs.heldCwd) and with fd churn: every name reads as one of
// the directories' own files. Then short reads and getdents64 race with
// 1 MiB reads of another thread: kshim's pooled buffers (fs.Scratch)
// bring nothing of one call into another's result.
func TestGuardAttackRace(t *testing.T) {
	tools := guardTools(t)
	kshim, _ := paths(t)
	secs := "2"
	if testing.Short() {
		secs = "0.5"
	}
	want := "race:" + secs + " -> read: none wrote: none\ncwdrace:" + secs + " -> ok\nscratch:" + secs + " -> ok\n"
	ops := []string{"race:" + secs, "cwdrace:" + secs, "scratch:" + secs}
	_, root := guardAttackTree(t)
	native := runGuardedNative(t, tools, root, "/guard_attack", ops)
	if native.timedOut || native.err != nil || native.exit != 0 || string(native.stdout) != want {
		t.Fatalf("native: %s\nstdout:\n%s\nstderr:\n%s", native.status(), clip(native.stdout), clip(native.stderr))
	}
	_, root2 := guardAttackTree(t)
	argv := append([]string{kshim, "run", "--rw", "--root", root2}, guardFlags...)
	got := run(append(append(argv, filepath.Join(root2, "guard_attack")), ops...), baseEnv, "")
	if got.timedOut || got.err != nil || got.exit != 0 {
		t.Fatalf("kshim: %s\nstdout:\n%s\nstderr:\n%s", got.status(), clip(got.stdout), clip(got.stderr))
	}
	if string(got.stdout) != want {
		t.Errorf("kshim: %s", got.stdout)
	}
	t.Logf("native: %skshim: %s", native.stderr, got.stderr)
	guardUnchanged(t, root2)
}

// TestGuardAttackReexec: a program re-run through /proc/self/exe finds
// itself there again, with the guest's mounts, whether it was started
// by a host path outside the root or inside it (kernel's OpenExeAt reopens
// one found in the root by its guest path, through the mounts).
func TestGuardAttackReexec(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a masked directory is a tmpfs: needs root")
	}
	kshim, dir := paths(t)
	_, root := guardAttackTree(t)
	// Write permission first: the build's copy is root's, the tree's
	// the guest's.
	for prog, w := range map[string]string{filepath.Join(dir, "guard_attack"): "EACCES", filepath.Join(root, "guard_attack"): "ETXTBSY"} {
		want := "exe -> ELF\nexe w -> " + w + "\nrd:/masked-dir/secret -> ENOENT\n"
		argv := append([]string{kshim, "run", "--rw", "--root", root}, guardFlags...)
		r := run(append(argv, prog, "reexec:-", "rd:/masked-dir/secret"), baseEnv, "")
		if r.timedOut || r.err != nil || r.exit != 0 {
			t.Fatalf("%s: %s\n%s", prog, r.status(), clip(r.stderr))
		}
		if got := string(r.stdout); got != want {
			t.Errorf("%s:\n%s", prog, got)
		}
	}
}

// TestGuardAttackCwd: a VMM started in a directory that a mask hides or
// that is read-only gives the guest that directory as a container's
// process finds it after its mounts (the masked tmpfs, the read-only
// bind), never what the root's host directory holds there.
func TestGuardAttackCwd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a masked directory is a tmpfs: needs root")
	}
	_, root := guardAttackTree(t)
	flags := append([]string{"--rw", "--root", root}, guardFlags...)
	out := runEscape(t, filepath.Join(root, "masked-dir"), flags, "read:secret", "list:.", "readlink:/proc/self/cwd", "create:new")
	expect(t, out, map[string]string{"read:secret": "ENOENT", "list:.": ". ..", "readlink:/proc/self/cwd": `"/masked-dir"`, "create:new": "EROFS"})
	out = runEscape(t, filepath.Join(root, "ro-dir", "sub"), flags, "append:file", "create:new", "readlink:/proc/self/cwd", "read:file")
	expect(t, out, map[string]string{"append:file": "EROFS", "create:new": "EROFS", "readlink:/proc/self/cwd": `"/ro-dir/sub"`, "read:file": `"RO below"`})
	// Below a masked directory: gone; the guest starts at the root.
	out = runEscape(t, filepath.Join(root, "masked-dir", "sub"), flags, "read:secret", "readlink:/proc/self/cwd")
	expect(t, out, map[string]string{"read:secret": "ENOENT", "readlink:/proc/self/cwd": `"/"`})
	guardUnchanged(t, root)
}

// TestGuardAttackMountRename: a directory above a tmpfs (or any mount)
// is not renamed (EBUSY): kshim's table is by path, so the tmpfs would
// stay at the old name and the root's own files it hides show at the new
// one. Linux moves the mount with the directory; both hide them.
func TestGuardAttackMountRename(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a tmpfs: needs root")
	}
	_, root := guardAttackTree(t)
	if err := os.MkdirAll(filepath.Join(root, "data/cache/deep"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "data/cache/deep/old"), []byte("SECRET under the tmpfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	chownTree(t, root)
	flags := []string{"--rw", "--root", root, "--tmpfs", "/data/cache", "--tmpfs", "/other/t"}
	out := runEscape(t, root, flags, "list:/data/cache", "rename:/data:/data2", "rename:/other:/o2",
		"list:/data2/cache", "read:/data2/cache/deep/old", "read:/data/cache/deep/old", "rename:/data/cache:/data/c2", "rename:/etc:/e2")
	expect(t, out, map[string]string{"list:/data/cache": ". ..", "rename:/data:/data2": "EBUSY", "rename:/other:/o2": "EBUSY",
		"list:/data2/cache": "ENOENT", "read:/data2/cache/deep/old": "ENOENT", "read:/data/cache/deep/old": "ENOENT",
		"rename:/data/cache:/data/c2": "EBUSY", "rename:/etc:/e2": "ok"})
}

// TestGuardAttackHanded: a directory handed in as fd 0 is used only where
// the guest would find it by its path (fspath.go FindInRoot): one below a
// masked or read-only path is what the mount hides, and lookups below it
// are EACCES, as for a handed-in directory outside the root.
func TestGuardAttackHanded(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a masked directory is a tmpfs: needs root")
	}
	kshim, _ := paths(t)
	_, root := guardAttackTree(t)
	handed := func(dir string, ops ...string) string {
		t.Helper()
		f, err := os.Open(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		argv := append([]string{"run", "--rw", "--root", root}, guardFlags...)
		cmd := exec.CommandContext(ctx, kshim, append(append(argv, filepath.Join(root, "guard_attack")), ops...)...)
		cmd.Stdin, cmd.Env = f, baseEnv
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v\n%s%s", err, out, stderr.Bytes())
		}
		return string(out)
	}
	for _, c := range []struct{ dir, want string }{
		{"masked-dir", "fd0rd:secret -> EACCES\nfd0rd:sub/secret -> EACCES\n"},
		{"ro-dir", "fd0wr:data -> EACCES\nfd0mk:new -> EACCES\nfd0wr:sub/file -> EACCES\n"},
		{"other", "fd0rd:data -> \"other data|\"\nfd0rd:../masked-dir/secret -> ENOENT\nfd0wr:../ro-dir/data -> EROFS\n"},
	} {
		var ops []string
		for _, l := range strings.Split(strings.TrimSuffix(c.want, "\n"), "\n") {
			op, _, _ := strings.Cut(l, " -> ")
			ops = append(ops, op)
		}
		if got := handed(c.dir, ops...); got != c.want {
			t.Errorf("fd 0 %s:\n%s\nwant:\n%s", c.dir, got, c.want)
		}
	}
	guardUnchanged(t, root)
}
