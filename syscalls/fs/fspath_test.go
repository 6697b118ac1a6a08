package fs

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"kshim/syscalls/fs/mount"
)

func TestInProc(t *testing.T) {
	for path, want := range map[string][]string{
		"/proc":                  {},
		"/proc/self/maps":        {"self", "maps"},
		"//proc//self":           {"", "self"},
		"/a/../proc/x":           {"x"},
		"/./proc/self/root/../x": {"self", "root", "..", "x"},
		"/../../proc/meminfo":    {"meminfo"},
	} {
		got, ok := inProc(path)
		if !ok || !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("inProc(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
	for _, path := range []string{"/", "/procx", "/a/proc", "/etc/proc/self", "/sub/../a/proc"} {
		if got, ok := inProc(path); ok {
			t.Errorf("inProc(%q) = %q, want not /proc", path, got)
		}
	}
}

func TestToGuest(t *testing.T) {
	fs := &fsContext{RootHost: "/srv/root"}
	for host, want := range map[string]string{"/srv/root": "/", "/srv/root/a/b": "/a/b"} {
		if got, ok := fs.ToGuest(host); !ok || got != want {
			t.Errorf("toGuest(%q) = %q, %v; want %q", host, got, ok, want)
		}
	}
	for _, host := range []string{"/srv/rootx", "/srv", "/etc/passwd", "pipe:[12]", ""} {
		if got, ok := fs.ToGuest(host); ok {
			t.Errorf("toGuest(%q) = %q, want outside", host, got)
		}
	}
	fs.RootHost = "/"
	if got, ok := fs.ToGuest("/etc"); !ok || got != "/etc" {
		t.Errorf("toGuest with root / = %q, %v", got, ok)
	}
}

// TestLookStat: the one look a lookup takes (statx, and the file system
// from the mount's unique ID once known) gives exactly the host's fstat
// and fstatfs, for each kind of file, the second time too (from
// fsTypes); a procfs file is one, known or not.
func TestLookStat(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("f", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "p"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{filepath.Join(dir, "f"), dir, filepath.Join(dir, "l"),
		filepath.Join(dir, "p"), "/dev/null", "/proc/self/status", "/proc", "/sys/kernel"} {
		fd, err := unix.Open(name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		var want unix.Stat_t
		var sf unix.Statfs_t
		if err := unix.Fstat(fd, &want); err != nil {
			t.Fatal(err)
		}
		if err := unix.Fstatfs(fd, &sf); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			st, ok, typ := lookStat(fd)
			if !ok || st != want || typ != sf.Type {
				t.Errorf("%s (look %d): %+v, %v, %#x; want %+v, %#x", name, i, st, ok, typ, want, sf.Type)
			}
		}
		unix.Close(fd)
	}
	// Closed fd: nothing told, so a procfs (refused) and no stat.
	if _, ok, typ := lookStat(-1); ok || typ != unix.PROC_SUPER_MAGIC {
		t.Errorf("lookStat(-1) = %v, %#x; want no stat, a procfs", ok, typ)
	}
}

// TestSymlinkAt: only the named entry is read, never followed through.
func TestSymlinkAt(t *testing.T) {
	dir := t.TempDir()
	d, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(d)
	for _, err := range []error{os.Symlink("/etc", filepath.Join(dir, "l")), os.WriteFile(filepath.Join(dir, "f"), nil, 0o644)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, err := symlinkAt(d, "l"); err != nil || got != "/etc" {
		t.Errorf("symlinkAt(l) = %q, %v", got, err)
	}
	for name, want := range map[string]error{"f": unix.EINVAL, "nope": unix.ENOENT} {
		if got, err := symlinkAt(d, name); err != want {
			t.Errorf("symlinkAt(%s) = %q, %v; want %v", name, got, err, want)
		}
	}
}

// TestScratch: a scratch buffer is as long as asked, whatever was
// returned before, and one too small is never handed out.
func TestScratch(t *testing.T) {
	for _, n := range []int{10, scratchMin, 100 << 10, 5, IoChunk, 1} {
		b := Scratch(n)
		if len(*b) != n || cap(*b) < n {
			t.Errorf("Scratch(%d): len %d cap %d", n, len(*b), cap(*b))
		}
		PutScratch(b)
	}
}

// TestRunPlain: run's shortcut below a directory no mount point is under
// takes the same names to the same place as looking at each name.
func TestRunPlain(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"root", "h"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h := filepath.Join(dir, "h")
	fs, err := newFS(filepath.Join(dir, "root"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	if err := fs.setupMounts(Files{Mounts: []mount.Spec{
		{Type: "bind", Source: h, Destination: "/a/b/m"}, {Type: "bind", Source: h, Destination: "/x"},
		{Type: "bind", Source: h, Destination: "/x/y/z"},
	}}); err != nil {
		t.Fatal(err)
	}
	// ref is run looking at every name.
	ref := func(m *mount.Mount, rel string, rest []string, c string) (int, string) {
		k := 0
		for i := -1; i < len(rest); i++ {
			name := c
			if i >= 0 {
				name = rest[i]
			}
			if name == "" || name == "." || name == ".." {
				break
			}
			nm, nrel := fs.ns.table.Child(m, rel, name)
			g := nm.Guest(nrel)
			if nm != m || g == "/proc" || g == "/sys" || g == "/dev" || strings.HasPrefix(g, "/dev/") {
				break
			}
			k, rel = k+1, nrel
		}
		if k < 2 {
			return 0, ""
		}
		return k, rel
	}
	x := fs.ns.table.At("/x")
	for _, c := range []struct {
		m    *mount.Mount
		rel  string
		path string
	}{
		{fs.ns.table.Root(), "", "usr/lib/python3/os.py"}, {fs.ns.table.Root(), "", "a/b/c/d/e"},
		{fs.ns.table.Root(), "", "a/b/m/d"}, {fs.ns.table.Root(), "", "a/c/m/d/e"},
		{fs.ns.table.Root(), "usr", "lib/x/../y"}, {fs.ns.table.Root(), "", "etc/proc/sys/dev/x"},
		{fs.ns.table.Root(), "", "proc/self"}, {fs.ns.table.Root(), "", "dev/shm/x"},
		{fs.ns.table.Root(), "", "a/q/r/s//t"}, {fs.ns.table.Root(), "", "a/q/r/./t"},
		{x, "", "y/w/v"}, {x, "", "y/z/w"}, {x, "", "q/y/z/w"}, {x, "y", "q/r/s"},
		{fs.ns.table.Root(), "", "a"}, {fs.ns.table.Root(), "", "a/b"},
	} {
		comps := strings.Split(c.path, "/")
		k, rel := fs.run(c.m, c.rel, comps[1:], comps[0])
		wk, wrel := ref(c.m, c.rel, comps[1:], comps[0])
		if k != wk || rel != wrel {
			t.Errorf("run(%s, %q, %q) = %d, %q; want %d, %q", c.m.Dest, c.rel, c.path, k, rel, wk, wrel)
		}
	}
}

// TestHeldCwd: a lookup from the cwd holds the cwd's own host fd, which a
// chdir meanwhile (a sibling thread's) closes only after that lookup.
func TestHeldCwd(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"a", "b"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := newFS(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	p := &Task{FS: fs}
	defer fs.Close()
	var root unix.Stat_t
	if err := unix.Stat(dir, &root); err != nil {
		t.Fatal(err)
	}
	c, ref, err := heldCwd(p)
	if err != nil || c.FD != fs.Cwd {
		t.Fatalf("heldCwd = %+v, %v; want the cwd's own fd %d", c, err, fs.Cwd)
	}
	fd, err := unix.Open(filepath.Join(dir, "a"), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetCwd(Resolved{FD: fd, Guest: "/a", Origin: FromRoot}); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(c.FD, &st); err != nil || st.Ino != root.Ino {
		t.Errorf("held cwd after chdir: %v, ino %d; want the old cwd (ino %d) still open", err, st.Ino, root.Ino)
	}
	ref.put(nil)
	if err := unix.Fstat(c.FD, &st); err != unix.EBADF {
		t.Errorf("old cwd after its last lookup: %v, want closed (EBADF)", err)
	}
	// The new cwd is held the same way; closing the context while a
	// lookup holds it leaves it open until that lookup's put.
	c, ref, err = heldCwd(p)
	if err != nil || c.FD != fd {
		t.Fatalf("heldCwd after chdir = %+v, %v; want fd %d", c, err, fd)
	}
	fs.Close()
	if err := unix.Fstat(c.FD, &st); err != nil {
		t.Errorf("held cwd after the context closed: %v", err)
	}
	ref.put(nil)
	if err := unix.Fstat(c.FD, &st); err != unix.EBADF {
		t.Errorf("cwd after its last holder: %v, want closed", err)
	}
}

// TestHostInfoDetached: for a tmpfs kshim mounts and attaches nowhere
// (fsmount), what the device alone gives (hostInfoFrom with no
// mountinfo, as makeTmpfs asks) is what a lookup in the host's mountinfo
// gives, which never lists it; and a mountinfo reader shared by several
// lookups reads the file once, giving each the same answer as its own read.
func TestHostInfoDetached(t *testing.T) {
	sfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		t.Skipf("fsopen: %v (needs privilege)", err)
	}
	defer unix.Close(sfd)
	if err := unix.FsconfigCreate(sfd); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Fsmount(sfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	full, dev := hostInfo(fd, "/"), hostInfoFrom(fd, "/", nil)
	if full != dev || dev.Major == 0 && dev.Minor == 0 {
		t.Fatalf("detached tmpfs: device only %+v, through mountinfo %+v", dev, full)
	}
	root, err := unix.Open("/", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(root)
	mi := &mountinfo{}
	if pts := hostPtsOptionsFrom(mi); fmt.Sprint(pts) != fmt.Sprint(hostPtsOptions()) {
		t.Errorf("devpts options through the shared read %v, own read %v", pts, hostPtsOptions())
	}
	if shared := hostInfoFrom(root, "/", mi); shared != hostInfo(root, "/") || shared.FSType == "none" {
		t.Fatalf("root through the shared read %+v, own read %+v", shared, hostInfo(root, "/"))
	}
	mi.data = nil // read once: the lookups now find nothing
	if again := hostInfoFrom(root, "/", mi); again.FSType != "none" {
		t.Errorf("the shared reader read mountinfo again: %+v", again)
	}
}
