package fs

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
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
