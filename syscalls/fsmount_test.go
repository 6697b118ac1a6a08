package syscalls

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/fs/mount"
	"kshim/syscalls/kernel"
	"kshim/syscalls/proc"
)

// mountFixture: DIR/root (the root: etc/passwd, mnt/), DIR/h (a host
// directory to bind: data, sub/, links out of it), DIR/f (a file to bind),
// DIR/secret beside them.
func mountFixture(t *testing.T) (dir string, specs []mount.Spec) {
	t.Helper()
	dir = t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	for _, err := range []error{
		os.MkdirAll(p("root/etc"), 0o755), os.MkdirAll(p("root/mnt"), 0o755), os.MkdirAll(p("h/sub"), 0o755),
		os.MkdirAll(p("root/dev"), 0o755),
		os.WriteFile(p("root/etc/passwd"), []byte("inside"), 0o644),
		os.WriteFile(p("h/data"), []byte("hdata"), 0o644),
		os.WriteFile(p("f"), []byte("file"), 0o644),
		os.WriteFile(p("secret"), []byte("secret"), 0o644),
		os.Symlink("../secret", p("h/rel")), os.Symlink(p("secret"), p("h/hostabs")),
		os.Symlink("../../..", p("h/sub/up")), os.Symlink("/etc/passwd", p("h/abs")),
		os.Symlink("loop2", p("h/loop1")), os.Symlink("loop1", p("h/loop2")),
		os.Symlink("/mnt/w/data", p("h/toother")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	specs = []mount.Spec{
		{Type: "bind", Source: p("h"), Destination: "/mnt/ro", Options: []string{"ro"}},
		{Type: "bind", Source: p("h"), Destination: "/mnt/w"},
		{Type: "bind", Source: p("f"), Destination: "/etc/file", Options: []string{"ro"}},
	}
	return dir, specs
}

// bareProcess is testProcess without files yet.
func bareProcess() *kernel.Process {
	p := &kernel.Process{Task: fs.Task{Files: &fs.FDTable{}}, ProcFS: proc.FS{}, Log: logrus.New(), Pid: unix.Getpid(), Warned: map[uint64]bool{}}
	p.Owner = p
	p.Sig.Act = new(kernel.Actions)
	return p
}

func readPath(t *testing.T, p *kernel.Process, dirfd int, path string) (string, error) {
	t.Helper()
	r, err := p.Lookup(dirfd, path, unix.O_RDONLY, 0)
	if err != nil {
		return "", err
	}
	if r.FD < 0 {
		r.Close()
		return "", unix.EINVAL
	}
	return readResolved(t, r), nil
}

// TestWalkMounts: the walk crosses into mounts and out of them by "..",
// follows the guest's symlinks (never the host's meaning of them), and
// stays inside each mount's host directory.
func TestWalkMounts(t *testing.T) {
	dir, specs := mountFixture(t)
	p := testProcess(t, fs.Files{Root: filepath.Join(dir, "root"), Mounts: specs})
	for path, want := range map[string]string{
		"/mnt/ro/data": "hdata", "/mnt/w/data": "hdata", "/etc/file": "file", "/etc/passwd": "inside",
		"/mnt/ro/../../etc/passwd": "inside", "/mnt/ro/sub/../../ro/data": "hdata",
		"/mnt/ro/sub/up/etc/passwd": "inside", "/mnt/ro/abs": "inside", "/mnt/ro/toother": "hdata",
		"mnt/ro/data": "hdata", "/mnt/ro/./sub/../data": "hdata",
		"/mnt/ro/sub/up/../../../../mnt/w/data": "hdata",
	} {
		got, err := readPath(t, p, unix.AT_FDCWD, path)
		if err != nil || got != want {
			t.Errorf("read %s = %q, %v; want %q", path, got, err, want)
		}
	}
	for path, want := range map[string]error{
		"/mnt/ro/rel": unix.ENOENT, "/mnt/ro/hostabs": unix.ENOENT, "/mnt/ro/../secret": unix.ENOENT,
		"/mnt/ro/loop1": unix.ELOOP, "/etc/file/x": unix.ENOTDIR, "/mnt/ro/data/": unix.ENOTDIR,
		"/mnt/ro/nope": unix.ENOENT, "/etc/file/": unix.ENOTDIR,
	} {
		if _, err := readPath(t, p, unix.AT_FDCWD, path); err != want {
			t.Errorf("read %s: %v, want %v", path, err, want)
		}
	}
	// A directory fd inside a mount: relative lookups climb out through
	// its mount point, and getcwd names the mount's path.
	d, err := p.Lookup(unix.AT_FDCWD, "/mnt/ro/sub", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.Mnt == nil || d.Guest != "/mnt/ro/sub" {
		t.Errorf("/mnt/ro/sub fs.Resolved to %q in %v", d.Guest, d.Mnt)
	}
	if err := p.SetCwd(d); err != nil {
		t.Fatal(err)
	}
	if g, err := p.Getcwd(); err != nil || g != "/mnt/ro/sub" {
		t.Errorf("getcwd = %q, %v", g, err)
	}
	for path, want := range map[string]string{"../data": "hdata", "../../../etc/passwd": "inside", "../../w/data": "hdata"} {
		if got, err := readPath(t, p, unix.AT_FDCWD, path); err != nil || got != want {
			t.Errorf("read %s from the cwd = %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := readPath(t, p, unix.AT_FDCWD, "../../../../secret"); err != unix.ENOENT {
		t.Errorf("climbing past the root from inside a mount: %v", err)
	}
	// The same host directory, mounted twice: each file knows its mount.
	ro, _ := p.Lookup(unix.AT_FDCWD, "/mnt/ro/data", unix.O_PATH, 0)
	rw, _ := p.Lookup(unix.AT_FDCWD, "/mnt/w/data", unix.O_PATH, 0)
	defer ro.Close()
	defer rw.Close()
	if ro.Mnt == nil || rw.Mnt == nil || ro.Mnt == rw.Mnt || !p.FS.RO(ro.Mnt) || p.FS.RO(rw.Mnt) {
		t.Errorf("mounts of /mnt/ro/data and /mnt/w/data: %v, %v", ro.Mnt, rw.Mnt)
	}
}

// TestWalkReadOnlyGuard: even a lookup that skipped fsopen's EROFS check
// (a rename raced with it) never creates or truncates on a read-only
// mount, nor opens a file there for writing.
func TestWalkReadOnlyGuard(t *testing.T) {
	dir, specs := mountFixture(t)
	p := testProcess(t, fs.Files{Root: filepath.Join(dir, "root"), Writable: true, Mounts: specs})
	for _, c := range []struct {
		path  string
		flags int
	}{
		{"/mnt/ro/new", unix.O_CREAT | unix.O_WRONLY},
		{"/mnt/ro/data", unix.O_WRONLY | unix.O_TRUNC},
		{"/mnt/ro/data", unix.O_RDONLY | unix.O_TRUNC},
		{"/mnt/ro/data", unix.O_RDWR},
		{"/etc/file", unix.O_WRONLY},
	} {
		r, err := p.Lookup(unix.AT_FDCWD, c.path, c.flags, 0o644)
		if err == nil {
			r.Close()
		}
		if err != unix.EROFS && err != unix.ENOENT {
			t.Errorf("%s with %#x: %v, want EROFS", c.path, c.flags, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "h", "new")); err == nil {
		t.Error("a file was created through the read-only mount")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "h", "data")); string(b) != "hdata" {
		t.Errorf("h/data = %q: truncated through the read-only mount", b)
	}
	// The writable mount of the same directory does write.
	r, err := p.Lookup(unix.AT_FDCWD, "/mnt/w/new", unix.O_CREAT|unix.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("create in the writable mount: %v", err)
	}
	r.Close()
}

type testCharger struct{ size, left, charged uint64 }

func (c *testCharger) Charge(n uint64) error {
	if n > c.left {
		return errors.New("full")
	}
	c.left -= n
	c.charged += n
	return nil
}

func (c *testCharger) ChargeOver(n uint64) {
	c.charged += n
	c.left -= min(n, c.left)
}

func (c *testCharger) Uncharge(n uint64) { c.charged -= n; c.left = c.size - min(c.charged, c.size) }

func (c *testCharger) Size() uint64 { return c.size }

// TestTmpfsCharged: a tmpfs's pages are charged to --mem as they are used
// (nothing at mount time), past the budget too (the pages exist), and
// given back when the files go; ENOSPC comes at the mount's size; the
// default size is half of --mem (Linux's half of RAM); the last process
// to close the mounts returns what is charged.
func TestTmpfsCharged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a tmpfs needs root")
	}
	dir, _ := mountFixture(t)
	mem := &testCharger{size: 3 << 20, left: 3 << 20}
	c := fs.Files{Root: filepath.Join(dir, "root"), Mem: mem, Mounts: []mount.Spec{
		{Type: "tmpfs", Destination: "/dev/shm", Options: []string{"size=2m"}},
		{Type: "tmpfs", Destination: "/mnt"}, // the default size
	}}
	p := testProcess(t, c)
	if mem.charged != 0 {
		t.Errorf("charged %d at mount time, want 0", mem.charged)
	}
	statfs := func(path string) unix.Statfs_t {
		t.Helper()
		r, err := p.Lookup(unix.AT_FDCWD, path, unix.O_PATH, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var sf unix.Statfs_t
		if err := unix.Fstatfs(r.FD, &sf); err != nil || sf.Type != unix.TMPFS_MAGIC {
			t.Fatalf("statfs %s: %+v, %v", path, sf, err)
		}
		return sf
	}
	if sf := statfs("/dev/shm"); uint64(sf.Blocks)*uint64(sf.Bsize) != 2<<20 {
		t.Errorf("/dev/shm's size %d, want 2 MiB", uint64(sf.Blocks)*uint64(sf.Bsize))
	}
	if sf := statfs("/mnt"); uint64(sf.Blocks)*uint64(sf.Bsize) != 3<<19 {
		t.Errorf("the default size %d, want half of --mem, 1.5 MiB", uint64(sf.Blocks)*uint64(sf.Bsize))
	}
	if b, _ := p.ProcMounts(false); !strings.Contains(string(b), "tmpfs /mnt tmpfs rw,relatime,size=1536k") {
		t.Errorf("the default size in /proc/mounts:\n%s", b)
	}
	write := func(path string, n int) error {
		t.Helper()
		r, err := p.Lookup(unix.AT_FDCWD, path, unix.O_CREAT|unix.O_WRONLY|unix.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		_, err = unix.Write(r.FD, make([]byte, n))
		return err
	}
	if err := write("/dev/shm/a", 1<<20); err != nil {
		t.Fatal(err)
	}
	p.TmpfsUsage()
	if mem.charged != 1<<20 {
		t.Errorf("after 1 MiB written: charged %d", mem.charged)
	}
	if err := write("/mnt/b", 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := write("/dev/shm/a", 1<<20); err != nil {
		t.Fatal(err)
	}
	p.TmpfsUsage()
	if mem.charged != 3<<20 || mem.left != 0 {
		t.Errorf("after 3 MiB written in two tmpfs: charged %d, left %d", mem.charged, mem.left)
	}
	if err := write("/dev/shm/a", 4096); err != unix.ENOSPC {
		t.Errorf("a write past the mount's size: %v, want ENOSPC", err)
	}
	// Past --mem: charged all the same (a pipe's buffer then does not fit).
	if err := write("/mnt/c", 256<<10); err != nil {
		t.Fatal(err)
	}
	p.TmpfsUsage()
	if mem.charged != 3<<20+256<<10 {
		t.Errorf("past --mem: charged %d", mem.charged)
	}
	if err := mem.Charge(4096); err == nil {
		t.Error("a charge succeeded with the tmpfs past the budget")
	}
	d, err := p.LookupParent(unix.AT_FDCWD, "/dev/shm/a")
	if err != nil {
		t.Fatal(err)
	}
	err = unix.Unlinkat(d.FD, d.Name, 0)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	p.TmpfsUsage()
	if mem.charged != 1<<20+256<<10 {
		t.Errorf("after removing 2 MiB: charged %d", mem.charged)
	}
	child, err := p.FS.Clone()
	if err != nil {
		t.Fatal(err)
	}
	p.FS.Close()
	if mem.charged == 0 {
		t.Errorf("a fork child still holds the tmpfs, but nothing is charged")
	}
	child.Close()
	if mem.charged != 0 || mem.left != mem.size {
		t.Errorf("after the last close: charged %d, left %d", mem.charged, mem.left)
	}
}

// TestProcMounts: /proc/self/mounts and mountinfo list the table.
func TestProcMounts(t *testing.T) {
	dir, specs := mountFixture(t)
	p := testProcess(t, fs.Files{Root: filepath.Join(dir, "root"), Mounts: specs})
	b, err := p.ProcMounts(false)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	dests := []string{"/", "/mnt/ro", "/mnt/w", "/etc/file", "/proc", "/sys"}
	if len(lines) != len(dests) {
		t.Fatalf("mounts:\n%s", b)
	}
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) != 6 || f[1] != dests[i] || f[4] != "0" || f[5] != "0" {
			t.Errorf("line %d %q, want a mount at %s", i, l, dests[i])
		}
	}
	if f := strings.Fields(lines[1]); !strings.HasPrefix(f[3], "ro,") {
		t.Errorf("read-only bind: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); !strings.HasPrefix(f[3], "rw,") {
		t.Errorf("writable bind: %q", lines[2])
	}
	b, _ = p.ProcMounts(true)
	info := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	hostH, _ := filepath.EvalSymlinks(filepath.Join(dir, "h"))
	if f := strings.Fields(info[1]); len(f) < 10 || f[0] != "22" || f[1] != "21" || f[4] != "/mnt/ro" || !strings.HasSuffix(hostH, f[3]) {
		t.Errorf("mountinfo of /mnt/ro: %q (host dir %s)", info[1], hostH)
	}
}

// TestProcMountsDevpts: a devpts mount at /dev/pts (an OCI config's) is
// listed in its place as the guest's instance, whose device a stat of
// /dev/pts shows.
func TestProcMountsDevpts(t *testing.T) {
	dir, specs := mountFixture(t)
	specs = append(specs, mount.Spec{Type: "tmpfs", Destination: "/dev"},
		mount.Spec{Type: "devpts", Source: "devpts", Destination: "/dev/pts", Options: []string{"nosuid", "noexec", "newinstance", "gid=5"}},
		mount.Spec{Type: "tmpfs", Destination: "/dev/shm"})
	p := testProcess(t, fs.Files{Root: filepath.Join(dir, "root"), Mounts: specs})
	b, err := p.ProcMounts(true)
	if err != nil {
		t.Fatal(err)
	}
	var dests []string
	var pts []string
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		f := strings.Fields(l)
		dests = append(dests, f[4])
		if f[4] == "/dev/pts" {
			pts = f
		}
	}
	if got, want := strings.Join(dests, " "), "/ /mnt/ro /mnt/w /etc/file /dev /dev/pts /dev/shm /proc /sys"; got != want {
		t.Fatalf("mountinfo lists %q, want %q:\n%s", got, want, b)
	}
	if len(pts) < 10 || pts[5] != "rw,nosuid,noexec,relatime" || pts[7] != "devpts" || pts[8] != "devpts" ||
		!strings.Contains(pts[9], "ptmxmode=666") {
		t.Errorf("/dev/pts line %q", pts)
	}
	r, err := p.LookupAbs("/dev/pts", unix.O_PATH, 0)
	if err != nil {
		t.Skipf("no devpts instance here: %v", err)
	}
	defer r.Close()
	var st unix.Stat_t
	if err := unix.Fstat(r.FD, &st); err != nil {
		t.Fatal(err)
	}
	if dev := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev)); pts[2] != dev {
		t.Errorf("/dev/pts listed as device %s, stat says %s", pts[2], dev)
	}
}

// TestMountPointParentMissing: a mount whose parent directory is not in
// the tree is refused at set-up, with the path that is missing.
func TestMountPointParentMissing(t *testing.T) {
	dir, _ := mountFixture(t)
	p := bareProcess()
	defer p.Close()
	err := p.SetFiles(fs.Files{Root: filepath.Join(dir, "root"),
		Mounts: []mount.Spec{{Type: "bind", Source: filepath.Join(dir, "h"), Destination: "/no/such/x"}}})
	if err == nil || !strings.Contains(err.Error(), `"/no/such/x": /no/such`) {
		t.Errorf("SetFiles: %v", err)
	}
}

// BenchmarkLookupMounts: the host-side cost of a lookup of a 5-component
// path: the whole-path openat2 without mounts, kshim's walk with one.
func BenchmarkLookupMounts(b *testing.B) {
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "root/a/b/c/d"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "root/a/b/c/d/f"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	// Links as on a merged-/usr system: /lib -> usr/lib, lib.so -> lib.so.1.
	if err := os.Symlink("a/b", filepath.Join(dir, "root/l")); err != nil {
		b.Fatal(err)
	}
	if err := os.Symlink("f", filepath.Join(dir, "root/a/b/c/d/fl")); err != nil {
		b.Fatal(err)
	}
	bind := []mount.Spec{{Type: "bind", Source: dir, Destination: "/mnt"}}
	for _, c := range []struct {
		name   string
		mounts []mount.Spec
		path   string
	}{
		{"none", nil, "/a/b/c/d/f"},
		{"walk", bind, "/a/b/c/d/f"},
		{"walk-links", bind, "/l/c/d/fl"},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := bareProcess()
			defer p.Close()
			if err := p.SetFiles(fs.Files{Root: filepath.Join(dir, "root"), Mounts: c.mounts}); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				r, err := p.Lookup(unix.AT_FDCWD, c.path, unix.O_PATH, 0)
				if err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}

// TestTmpfsDev: a tmpfs at /dev holds the served devices and Linux's
// links, and a tmpfs lists the mount points of the mounts on it.
func TestTmpfsDev(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a tmpfs needs root")
	}
	dir, _ := mountFixture(t)
	p := testProcess(t, fs.Files{Root: filepath.Join(dir, "root"), Mounts: []mount.Spec{
		{Type: "tmpfs", Destination: "/dev", Options: []string{"mode=755"}},
		{Type: "tmpfs", Destination: "/dev/shm"},
		{Type: "bind", Source: filepath.Join(dir, "f"), Destination: "/dev/x/file"},
	}})
	r, err := p.Lookup(unix.AT_FDCWD, "/dev", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(r.FD), "/dev")
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	got := strings.Join(names, " ")
	if want := "fd full null ptmx random shm stderr stdin stdout tty urandom x zero"; got != want {
		t.Errorf("/dev lists %q, want %q", got, want)
	}
	if s, err := readPath(t, p, unix.AT_FDCWD, "/dev/x/file"); err != nil || s != "file" {
		t.Errorf("/dev/x/file: %q, %v", s, err)
	}
}

// TestBindSourceMoved: a bind mount follows its source directory when
// that is moved (here by the guest, in its writable root): paths inside
// the mount keep their guest names.
func TestBindSourceMoved(t *testing.T) {
	dir, _ := mountFixture(t)
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "src", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := testProcess(t, fs.Files{Root: root, Writable: true,
		Mounts: []mount.Spec{{Type: "bind", Source: filepath.Join(root, "src"), Destination: "/mnt/b"}}})
	if err := os.Rename(filepath.Join(root, "src"), filepath.Join(root, "moved")); err != nil {
		t.Fatal(err)
	}
	d, err := p.Lookup(unix.AT_FDCWD, "/mnt/b/sub", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetCwd(d); err != nil {
		t.Fatal(err)
	}
	if g, err := p.Getcwd(); err != nil || g != "/mnt/b/sub" {
		t.Errorf("getcwd = %q, %v; want /mnt/b/sub", g, err)
	}
	if got, err := readPath(t, p, unix.AT_FDCWD, "../../../etc/passwd"); err != nil || got != "inside" {
		t.Errorf("../../../etc/passwd from /mnt/b/sub: %q, %v", got, err)
	}
}

// TestMountID: statx's mount ID is the one mountinfo shows for the
// file's mount (the same host directory mounted twice gives two).
func TestMountID(t *testing.T) {
	dir, specs := mountFixture(t)
	p := testProcess(t, fs.Files{Root: filepath.Join(dir, "root"), Mounts: specs})
	b, err := p.ProcMounts(true)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{} // mount point -> ID
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		f := strings.Fields(l)
		ids[f[4]] = f[0]
	}
	for path, mp := range map[string]string{"/etc/passwd": "/", "/mnt/ro/data": "/mnt/ro", "/mnt/w/data": "/mnt/w",
		"/etc/file": "/etc/file", "/proc/self/status": "/proc", "/mnt": "/"} {
		r, err := p.Lookup(unix.AT_FDCWD, path, unix.O_PATH, 0)
		if err != nil {
			t.Fatal(err)
		}
		id, ok := p.MountID(r)
		r.Close()
		if !ok || strconv.FormatUint(id, 10) != ids[mp] {
			t.Errorf("%s: mount ID %d, %v; mountinfo says %s for %s", path, id, ok, ids[mp], mp)
		}
	}
}

// TestWalkSymlinkRuns: a run of names the walk hands to the host at once
// meets a symlink (ELOOP) first, last or in the middle, through a
// directory link or to a file, and the walk finds it with its shortcuts
// (the run's other names opened as a directory, the link read by its one
// name): every result is the guest's, as a component-at-a-time walk
// gives it. Links never climb out of the root, a link into a mount
// crosses into the mount (not into what the root holds under its mount
// point), one into /proc reaches kshim's, and with O_NOFOLLOW the last
// link is the link itself.
func TestWalkSymlinkRuns(t *testing.T) {
	dir, specs := mountFixture(t)
	p := func(s string) string { return filepath.Join(dir, "root", s) }
	for _, err := range []error{
		os.MkdirAll(p("usr/lib/x/y"), 0o755), os.MkdirAll(p("mnt/ro"), 0o755),
		os.WriteFile(p("usr/lib/x/y/f.so.1.2"), []byte("lib"), 0o644),
		os.WriteFile(p("mnt/ro/data"), []byte("hidden"), 0o644), // under the mount point
		os.Symlink("usr/lib", p("lib")),                         // first name of a run
		os.Symlink("f.so.1.2", p("usr/lib/x/y/f.so.1")),         // last name of a run
		os.Symlink("x", p("usr/lib/xl")),                        // in the middle
		os.Symlink("../../../../../..", p("usr/lib/x/up")),      // climbs past the root
		os.Symlink("/mnt/ro", p("usr/lib/x/toro")),              // into a mount
		os.Symlink("/proc/self", p("usr/lib/x/me")),             // into kshim's /proc
		os.Symlink("y/nope", p("usr/lib/x/dangling")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	proc := testProcess(t, fs.Files{Root: filepath.Join(dir, "root"), Mounts: specs})
	for path, want := range map[string]string{
		"/lib/x/y/f.so.1": "lib", "/usr/lib/x/y/f.so.1": "lib", "/usr/lib/xl/y/f.so.1": "lib",
		"/lib/xl/y/f.so.1.2": "lib", "/usr/lib/x/up/etc/passwd": "inside",
		"/usr/lib/x/up/usr/lib/xl/y/f.so.1": "lib", "/usr/lib/x/toro/data": "hdata",
		"/usr/lib/x/toro/sub/../data": "hdata", "usr/lib/xl/y/f.so.1": "lib",
	} {
		if got, err := readPath(t, proc, unix.AT_FDCWD, path); err != nil || got != want {
			t.Errorf("read %s = %q, %v; want %q", path, got, err, want)
		}
	}
	for path, want := range map[string]error{
		"/usr/lib/x/dangling": unix.ENOENT, "/usr/lib/x/y/f.so.1/": unix.ENOTDIR,
		"/usr/lib/x/up/secret": unix.ENOENT, "/usr/lib/x/y/f.so.1/z": unix.ENOTDIR,
		"/usr/lib/x/up/mnt/ro/loop1": unix.ELOOP,
	} {
		if _, err := readPath(t, proc, unix.AT_FDCWD, path); err != want {
			t.Errorf("read %s: %v, want %v", path, err, want)
		}
	}
	// kshim's /proc through a link in a run.
	if r, err := proc.Lookup(unix.AT_FDCWD, "/usr/lib/x/me/status", unix.O_RDONLY, 0); err != nil || r.Node == nil {
		t.Errorf("/usr/lib/x/me/status: %+v, %v; want kshim's /proc/self/status", r, err)
	} else {
		r.Close()
	}
	// O_NOFOLLOW: the run's last link is the link itself, and the stat
	// the lookup hands on is the host's fstat of what it opened.
	r, err := proc.Lookup(unix.AT_FDCWD, "/lib/x/y/f.so.1", unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var st unix.Stat_t
	if err := unix.Fstat(r.FD, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
		t.Errorf("lstat /lib/x/y/f.so.1: mode %o, %v; want the link", st.Mode, err)
	}
	if r.Stat == nil || *r.Stat != st {
		t.Errorf("lookup's stat %+v, fstat %+v", r.Stat, st)
	}
}
