package syscalls

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"kshim/ept"
	"kshim/guestmm"
	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
	"kshim/syscalls/proc"
)

// testRoot builds DIR/outside (a secret) and DIR/root:
//
//	etc/passwd "inside"   sub/deep/   abs -> /   up -> ../../../..
//	fifo (a FIFO)        out -> ../outside
func testRoot(t *testing.T) (dir, root string) {
	t.Helper()
	dir = t.TempDir()
	root = filepath.Join(dir, "root")
	for _, err := range []error{
		os.MkdirAll(filepath.Join(root, "etc"), 0o755),
		os.MkdirAll(filepath.Join(root, "sub", "deep"), 0o755),
		os.WriteFile(filepath.Join(dir, "outside"), []byte("secret"), 0o644),
		os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("inside"), 0o644),
		os.Symlink("/", filepath.Join(root, "abs")),
		os.Symlink("../../../..", filepath.Join(root, "up")),
		os.Symlink("../outside", filepath.Join(root, "out")),
		unix.Mkfifo(filepath.Join(root, "fifo"), 0o644),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir, root
}

// testProcess is a Process with files only (no memory: path handling).
func testProcess(t *testing.T, c fs.Files) *kernel.Process {
	t.Helper()
	log := logrus.New()
	log.SetOutput(os.Stderr)
	p := &kernel.Process{Task: fs.Task{Files: &fs.FDTable{}}, ProcFS: proc.FS{}, Log: log, Pid: unix.Getpid(), Warned: map[uint64]bool{}}
	p.Owner = p
	p.Sig.Act = new(kernel.Actions)
	if err := p.SetFiles(c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func readResolved(t *testing.T, r fs.Resolved) string {
	t.Helper()
	defer r.Close()
	b := make([]byte, 64)
	n, err := unix.Read(r.FD, b)
	if err != nil {
		t.Fatal(err)
	}
	return string(b[:n])
}

func TestLookupStaysInRoot(t *testing.T) {
	_, root := testRoot(t)
	p := testProcess(t, fs.Files{Root: root})
	for _, path := range []string{
		"/etc/passwd", "etc/passwd", "../../etc/passwd", "/../../../etc/passwd", "abs/etc/passwd",
		"up/etc/passwd", "/up/up/etc/passwd", "sub/deep/../../etc/passwd", "/proc/self/root/etc/passwd",
		"/proc/self/root/../etc/passwd", "/proc/self/cwd/../etc/passwd",
	} {
		r, err := p.Lookup(unix.AT_FDCWD, path, unix.O_RDONLY, 0)
		if err != nil {
			t.Errorf("lookup(%q): %v", path, err)
			continue
		}
		if got := readResolved(t, r); got != "inside" {
			t.Errorf("lookup(%q) read %q, want the root's /etc/passwd", path, got)
		}
	}
	for _, path := range []string{"out", "/../outside", "up/outside", "../outside", "/proc/self/root/../outside"} {
		r, err := p.Lookup(unix.AT_FDCWD, path, unix.O_RDONLY, 0)
		if err == nil {
			t.Errorf("lookup(%q) escaped the root: read %q", path, readResolved(t, r))
		}
	}
}

func TestLookupFromDirfd(t *testing.T) {
	_, root := testRoot(t)
	p := testProcess(t, fs.Files{Root: root})
	r, err := p.Lookup(unix.AT_FDCWD, "/sub/deep", unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := p.NewFD(r.FD, false, &fs.OpenFile{Path: r.Guest, Origin: fs.FromRoot})
	if err != nil {
		t.Fatal(err)
	}
	// Within the directory (RESOLVE_BENEATH), then climbing out of it
	// (from the root, by the directory's guest path), then out of the root.
	for path, want := range map[string]string{"../../etc/passwd": "inside", "../../../../../etc/passwd": "inside", "/etc/passwd": "inside"} {
		r, err := p.Lookup(int(fd), path, unix.O_RDONLY, 0)
		if err != nil {
			t.Errorf("lookupat(%q): %v", path, err)
			continue
		}
		if got := readResolved(t, r); got != want {
			t.Errorf("lookupat(%q) read %q, want %q", path, got, want)
		}
	}
	if _, err := p.Lookup(int(fd), "../../../outside", unix.O_RDONLY, 0); err != unix.ENOENT {
		t.Errorf("lookupat(../../../outside) = %v, want ENOENT", err)
	}
	if _, err := p.Lookup(99, "x", unix.O_RDONLY, 0); err != unix.EBADF {
		t.Errorf("lookup with a closed dirfd = %v, want EBADF", err)
	}
	if r, err := p.Lookup(99, "/etc/passwd", unix.O_RDONLY, 0); err != nil {
		t.Errorf("an absolute path ignores a bad dirfd: %v", err)
	} else {
		r.Close()
	}
	// A dirfd that is not a directory.
	r, err = p.Lookup(unix.AT_FDCWD, "/etc/passwd", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	ffd, _ := p.NewFD(r.FD, false, &fs.OpenFile{Path: r.Guest, Origin: fs.FromRoot})
	if _, err := p.Lookup(int(ffd), "x", unix.O_RDONLY, 0); err != unix.ENOTDIR {
		t.Errorf("lookup relative to a file = %v, want ENOTDIR", err)
	}
}

func TestLookupParent(t *testing.T) {
	_, root := testRoot(t)
	p := testProcess(t, fs.Files{Root: root})
	for path, want := range map[string]struct {
		name  string
		slash bool
	}{
		"a": {"a", false}, "sub/x": {"x", false}, "sub/deep/": {"deep", true}, "/": {"", true},
		"//": {"", true}, "/etc": {"etc", false}, "sub/..": {"..", false}, "../../x": {"x", false},
	} {
		d, err := p.LookupParent(unix.AT_FDCWD, path)
		if err != nil {
			t.Errorf("lookupParent(%q): %v", path, err)
			continue
		}
		if d.Name != want.name || d.Slash != want.slash {
			t.Errorf("lookupParent(%q) = %q, slash %v; want %q, %v", path, d.Name, d.Slash, want.name, want.slash)
		}
		d.Close()
	}
	if _, err := p.LookupParent(unix.AT_FDCWD, "nodir/x"); err != unix.ENOENT {
		t.Errorf("lookupParent(nodir/x) = %v, want ENOENT", err)
	}
	if _, err := p.LookupParent(unix.AT_FDCWD, "etc/passwd/x"); err != unix.ENOTDIR {
		t.Errorf("lookupParent(etc/passwd/x) = %v, want ENOTDIR", err)
	}
	if _, err := p.LookupParent(unix.AT_FDCWD, ""); err != unix.ENOENT {
		t.Errorf("lookupParent(\"\") = %v, want ENOENT", err)
	}
}

// TestHostProcRefused: with the host's / as root, a path the host
// resolves into its own /proc (which describes kshim) is looked up again in
// kshim's /proc: a symlink to /proc/self/mem finds nothing there, one to
// /proc/self/status, environ (or /etc/mtab's /proc/mounts) the guest's
// node.
func TestHostProcRefused(t *testing.T) {
	dir := t.TempDir()
	for name, target := range map[string]string{"env": "/proc/self/environ", "status": "/proc/self/status",
		"mounts": "/proc/mounts", "proc": "/proc"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	p := testProcess(t, fs.Files{})
	for _, name := range []string{"proc/self/mem", "proc/" + abi.Itoa(unix.Getpid()) + "/mem"} {
		if r, err := p.Lookup(unix.AT_FDCWD, filepath.Join(dir, name), unix.O_RDONLY, 0); err != unix.ENOENT {
			r.Close()
			t.Errorf("open of %s through a symlink to the host's /proc = %v, want ENOENT (not in kshim's /proc)", name, err)
		}
	}
	for _, path := range []string{"/proc/self/environ", filepath.Join(dir, "env"), filepath.Join(dir, "proc/self/environ")} {
		if r, err := p.Lookup(unix.AT_FDCWD, path, unix.O_RDONLY, 0); err != nil || r.Node == nil ||
			r.Node.Path != "/proc/"+abi.Itoa(p.Pid)+"/environ" {
			t.Errorf("%s = %+v, %v; want kshim's /proc/PID/environ", path, r, err)
		}
	}
	if r, err := p.Lookup(unix.AT_FDCWD, filepath.Join(dir, "mounts"), unix.O_RDONLY, 0); err != nil ||
		r.Node == nil || r.Node.Path != "/proc/"+abi.Itoa(p.Pid)+"/mounts" {
		t.Errorf("mounts (as /etc/mtab) = %+v, %v; want kshim's /proc/PID/mounts", r, err)
	}
	want := "/proc/" + abi.Itoa(p.Pid) + "/status"
	for _, path := range []string{"/proc/self/status", filepath.Join(dir, "status"), filepath.Join(dir, "proc/self/status")} {
		r, err := p.Lookup(unix.AT_FDCWD, path, unix.O_RDONLY, 0)
		if err != nil || r.Node == nil || r.Node.Path != want {
			t.Errorf("%s = %+v, %v; want kshim's node %s", path, r, err, want)
		}
		r.Close()
	}
	r, err := p.Lookup(unix.AT_FDCWD, filepath.Join(dir, "proc"), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil || r.Node == nil || r.Node.Path != "/proc" {
		t.Errorf("a symlink to /proc = %+v, %v; want kshim's /proc", r, err)
	}
}

func TestReadOnlyOpen(t *testing.T) {
	_, root := testRoot(t)
	p := testProcess(t, fs.Files{Root: root})
	for _, c := range []struct {
		path  string
		flags int
		want  error
	}{
		{"/etc/passwd", unix.O_WRONLY, unix.EROFS},
		{"/etc/passwd", unix.O_RDONLY | unix.O_TRUNC, unix.EROFS},
		{"/etc/passwd", unix.O_RDONLY | unix.O_CREAT, nil},
		{"/etc/passwd", unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL, unix.EEXIST},
		{"/etc/new", unix.O_WRONLY | unix.O_CREAT, unix.EROFS},
		{"/nodir/new", unix.O_WRONLY | unix.O_CREAT, unix.ENOENT},
		{"/etc", unix.O_WRONLY, unix.EISDIR},
		{"/fifo", unix.O_RDWR, nil},
		{"/dev/null", unix.O_WRONLY, nil},
		{"/abs", unix.O_WRONLY | unix.O_NOFOLLOW, unix.ELOOP},
	} {
		r, err := p.OpenReadOnly(unix.AT_FDCWD, c.path, c.flags, 0o644)
		r.Close()
		if err != c.want {
			t.Errorf("open(%s, %#x) without --rw = %v, want %v", c.path, c.flags, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "etc", "new")); err == nil {
		t.Error("a read-only root got a new file")
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc", "passwd")); string(b) != "inside" {
		t.Errorf("a read-only root's file changed: %q", b)
	}
}

// TestProcMaps checks /proc/self/maps lines byte for byte against
// Linux's format: 8+ hex digits, perms, offset, dev, inode, then the name
// at column 73, or "0 " ending a nameless line.
func TestProcMaps(t *testing.T) {
	mem, err := ept.NewMemory(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	pt, err := ept.NewPageTable(mem, ept.NewFlushQueue(make([]byte, 1<<20)), 0xffff888000000000)
	if err != nil {
		t.Fatal(err)
	}
	mm := guestmm.New(mem, pt)
	mm.MapStack()
	if _, err := mm.Mmap(guestmm.MmapArgs{Addr: 0x10000000, Len: 3 * guestmm.PageSize, Prot: unix.PROT_READ,
		Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED, FD: -1}); err != nil {
		t.Fatal(err)
	}
	if err := mm.Mprotect(0x10001000, guestmm.PageSize, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC); err != nil {
		t.Fatal(err)
	}
	p := testProcess(t, fs.Files{})
	p.MM = mm
	b, err := proc.ProcMaps(p)
	if err != nil {
		t.Fatal(err)
	}
	stack := guestmm.VMA{}
	for _, v := range mm.VMAs() {
		if v.Name == "[stack]" {
			stack = v
		}
	}
	want := "10000000-10001000 r--p 00000000 00:00 0 \n" +
		"10001000-10002000 rwxp 00000000 00:00 0 \n" +
		"10002000-10003000 r--p 00000000 00:00 0 \n"
	head := fmt.Sprintf("%x-%x rw-p 00000000 00:00 0 ", stack.Start, stack.End)
	want += head + strings.Repeat(" ", 72-len(head)) + " [stack]\n"
	if string(b) != want {
		t.Errorf("maps:\n%q\nwant\n%q", b, want)
	}
	if i := strings.Index(string(b), "[stack]") - strings.LastIndex(string(b[:strings.Index(string(b), "[stack]")]), "\n") - 1; i != 73 {
		t.Errorf("[stack] at column %d, want 73", i)
	}
}

// handFD gives p host object name, opened with flags, as a handed-in fd
// (what NewStdioTable makes of kshim's fds 0-2).
func handFD(t *testing.T, p *kernel.Process, name string, flags int) uint64 {
	t.Helper()
	h, err := unix.Open(name, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := p.NewFD(h, false, &fs.OpenFile{Kind: fs.KindHost, Origin: fs.FromHost, Grant: flags & unix.O_ACCMODE})
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// TestHandedDirLookups: no lookup starts from a handed-in directory outside
// the root (EACCES); one the root also holds is used as the root's.
func TestHandedDirLookups(t *testing.T) {
	dir, root := testRoot(t)
	p := testProcess(t, fs.Files{Root: root, Writable: true})
	out := int(handFD(t, p, dir, unix.O_RDONLY|unix.O_DIRECTORY))
	for _, path := range []string{"outside", ".", "..", "root/etc/passwd"} {
		if r, err := p.Lookup(out, path, unix.O_RDONLY, 0); err != unix.EACCES {
			r.Close()
			t.Errorf("lookup(%q) below a handed-in directory outside the root = %v, want EACCES", path, err)
		}
	}
	if d, err := p.LookupParent(out, "new"); err != unix.EACCES {
		d.Close()
		t.Errorf("lookupParent below a handed-in directory outside the root = %v, want EACCES", err)
	}
	if d, err := p.LookupParent(unix.AT_FDCWD, "/proc/self/fd/"+abi.Itoa(out)+"/new"); err != unix.EACCES {
		d.Close()
		t.Errorf("lookupParent through /proc/self/fd = %v, want EACCES", err)
	}
	if _, err := sysFchdir(p, nil, &args{uint64(out)}); err != unix.EACCES {
		t.Errorf("fchdir to a handed-in directory outside the root = %v, want EACCES", err)
	}
	in := int(handFD(t, p, filepath.Join(root, "sub"), unix.O_RDONLY|unix.O_DIRECTORY))
	r, err := p.Lookup(in, "../etc/passwd", unix.O_RDONLY, 0)
	if err != nil || r.Origin != fs.FromRoot {
		t.Fatalf("lookup below a handed-in directory inside the root: %+v, %v", r, err)
	}
	if got := readResolved(t, r); got != "inside" {
		t.Errorf("read %q, want the root's /etc/passwd", got)
	}
	if _, err := sysFchdir(p, nil, &args{uint64(in)}); err != nil {
		t.Errorf("fchdir to a handed-in directory inside the root: %v", err)
	}
	if g, err := p.Getcwd(); err != nil || g != "/sub" {
		t.Errorf("getcwd = %q, %v; want /sub", g, err)
	}
	// With the host's / as root, every host directory is the root's.
	q := testProcess(t, fs.Files{})
	r, err = q.Lookup(int(handFD(t, q, dir, unix.O_RDONLY|unix.O_DIRECTORY)), "outside", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("lookup below a host directory with root /: %v", err)
	}
	if got := readResolved(t, r); got != "secret" {
		t.Errorf("read %q, want the host file", got)
	}
}

// TestHandedNeverChanges: handed-in files and the host's devices never
// change (EPERM) unless the root holds them and is writable; reopening a
// handed-in file never gains access it was not handed in with.
func TestHandedNeverChanges(t *testing.T) {
	dir, root := testRoot(t)
	for _, writable := range []bool{false, true} {
		p := testProcess(t, fs.Files{Root: root, Writable: writable})
		out := handFD(t, p, filepath.Join(dir, "outside"), unix.O_RDONLY)
		if _, err := sysFchmod(p, nil, &args{out, 0o600}); err != unix.EPERM {
			t.Errorf("rw=%v: fchmod of a handed-in file outside the root = %v, want EPERM", writable, err)
		}
		if _, err := p.Lookup(unix.AT_FDCWD, "/proc/self/fd/"+abi.Itoa(int(out)), unix.O_WRONLY, 0); err != unix.EACCES {
			t.Errorf("rw=%v: reopening a read-only handed-in file for writing = %v, want EACCES", writable, err)
		}
		r, err := p.Lookup(unix.AT_FDCWD, "/proc/self/fd/"+abi.Itoa(int(out)), unix.O_RDONLY, 0)
		if err != nil {
			t.Errorf("rw=%v: reopening it for reading: %v", writable, err)
		} else if got := readResolved(t, r); got != "secret" {
			t.Errorf("rw=%v: reopened, read %q", writable, got)
		}
		in := handFD(t, p, filepath.Join(root, "etc", "passwd"), unix.O_RDONLY)
		var want error = unix.EROFS
		if writable {
			want = nil
		}
		if _, err := sysFchmod(p, nil, &args{in, 0o644}); err != want {
			t.Errorf("rw=%v: fchmod of a handed-in file inside the root = %v, want %v", writable, err, want)
		}
		r, err = p.Lookup(unix.AT_FDCWD, "/dev/null", unix.O_PATH, 0)
		if err != nil || r.Origin != fs.FromDevice {
			t.Fatalf("/dev/null: %+v, %v", r, err)
		}
		if err := p.MayChange(nil, r.Origin, r.FD, r.Mnt); err != unix.EPERM {
			t.Errorf("rw=%v: changing /dev/null = %v, want EPERM", writable, err)
		}
		r.Close()
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "outside"), &st); err != nil || st.Mode&0o777 != 0o644 {
		t.Errorf("the handed-in file outside the root changed: mode %o, %v", st.Mode&0o777, err)
	}
}

// TestDevicesServed: the host's devices open as the host opens them (the
// host is the oracle), by their exact path whatever the root holds, and
// are never created or truncated.
func TestDevicesServed(t *testing.T) {
	_, root := testRoot(t)
	p := testProcess(t, fs.Files{Root: root})
	for _, c := range []struct {
		path  string
		flags int
	}{
		{"/dev/null", unix.O_RDONLY}, {"/dev/null", unix.O_WRONLY | unix.O_TRUNC}, {"/dev/null", unix.O_RDWR | unix.O_CREAT},
		{"/dev/null", unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL}, {"/dev/null", unix.O_RDONLY | unix.O_DIRECTORY},
		{"/dev/null/", unix.O_RDONLY}, {"/dev/zero", unix.O_RDONLY | unix.O_NOFOLLOW}, {"/dev/null", unix.O_PATH},
		{"/dev/full", unix.O_WRONLY | unix.O_APPEND},
	} {
		h, herr := unix.Open(c.path, c.flags|unix.O_CLOEXEC, 0)
		if herr == nil {
			unix.Close(h)
		}
		r, err := p.Lookup(unix.AT_FDCWD, c.path, c.flags, 0)
		if err != herr {
			t.Errorf("open(%s, %#x) = %v, host says %v", c.path, c.flags, err, herr)
		}
		if err == nil && r.Origin != fs.FromDevice {
			t.Errorf("open(%s) is not the host's device: %+v", c.path, r)
		}
		r.Close()
	}
}
