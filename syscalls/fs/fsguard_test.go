package fs

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"kshim/syscalls/fs/mount"
)

// TestReadOnlyClone: a read-only path's host side refuses writes on the
// host itself (EROFS), below it too, while the original stays writable.
func TestReadOnlyClone(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("open_tree needs root")
	}
	d := t.TempDir()
	if err := os.MkdirAll(filepath.Join(d, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "sub", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(d, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	c := readOnlyClone(fd, &mount.Mount{NoExec: true})
	if c < 0 {
		t.Skip("the host makes no detached mount here")
	}
	defer unix.Close(c)
	if f, err := unix.Openat(c, "sub/f", unix.O_WRONLY, 0); err != unix.EROFS {
		unix.Close(f)
		t.Errorf("open for writing through the clone: %v, want EROFS", err)
	}
	if err := unix.Mkdirat(c, "new", 0o755); err != unix.EROFS {
		t.Errorf("mkdir through the clone: %v, want EROFS", err)
	}
	var sf unix.Statfs_t
	if err := unix.Fstatfs(c, &sf); err != nil || sf.Flags&unix.ST_RDONLY == 0 || sf.Flags&unix.ST_NOEXEC == 0 {
		t.Errorf("statfs flags %#x (%v), want rdonly and noexec", sf.Flags, err)
	}
	if f, err := unix.Openat(fd, "sub/f", unix.O_WRONLY|unix.O_CLOEXEC, 0); err != nil {
		t.Errorf("the original: %v", err)
	} else {
		unix.Close(f)
	}
}
