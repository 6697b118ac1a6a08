package fs

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// hostPipe returns a fresh host fd (the read end of a pipe; the write end
// is closed by the test's cleanup).
func hostPipe(t *testing.T) int {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[1]) })
	return p[0]
}

func hostOpen(h int) bool {
	_, err := unix.FcntlInt(uintptr(h), unix.F_GETFD, 0)
	return err == nil
}

func TestFDTableLowestFree(t *testing.T) {
	var tab FDTable
	defer tab.CloseAll()
	f := &OpenFile{}
	for want := 0; want < 5; want++ {
		fd, err := tab.Install(FDEntry{Host: hostPipe(t), File: f}, 0, 100)
		if err != nil || fd != want {
			t.Fatalf("install = %d, %v; want %d", fd, err, want)
		}
	}
	if err := tab.Close(2); err != nil {
		t.Fatal(err)
	}
	if err := tab.Close(2); err != unix.EBADF {
		t.Fatalf("second close(2) = %v, want EBADF", err)
	}
	if fd, _ := tab.Install(FDEntry{Host: hostPipe(t), File: f}, 0, 100); fd != 2 {
		t.Errorf("after close(2), install = %d, want 2", fd)
	}
	if fd, _ := tab.Install(FDEntry{Host: hostPipe(t), File: f}, 3, 100); fd != 5 {
		t.Errorf("install(min 3) = %d, want 5", fd)
	}
	if fd, _ := tab.Install(FDEntry{Host: hostPipe(t), File: f}, 50, 100); fd != 50 {
		t.Errorf("install(min 50) = %d, want 50", fd)
	}
	if got, want := tab.List(), []int{0, 1, 2, 3, 4, 5, 50}; !reflect.DeepEqual(got, want) {
		t.Errorf("list = %v, want %v", got, want)
	}
}

func TestFDTableLimit(t *testing.T) {
	var tab FDTable
	defer tab.CloseAll()
	for i := 0; i < 3; i++ {
		if _, err := tab.Install(FDEntry{Host: hostPipe(t), File: &OpenFile{}}, 0, 3); err != nil {
			t.Fatal(err)
		}
	}
	if tab.HasFree(3) {
		t.Error("hasFree(3) with fds 0-2 open")
	}
	h := hostPipe(t)
	if fd, err := tab.Install(FDEntry{Host: h, File: &OpenFile{}}, 0, 3); err != unix.EMFILE || fd != -1 {
		t.Fatalf("install beyond the limit = %d, %v; want EMFILE", fd, err)
	}
	if hostOpen(h) {
		t.Error("a refused install left its host fd open")
	}
	if !tab.HasFree(4) {
		t.Error("hasFree(4) with fds 0-2 open")
	}
}

func TestFDTableInstallAt(t *testing.T) {
	var tab FDTable
	defer tab.CloseAll()
	old := hostPipe(t)
	tab.InstallAt(7, FDEntry{Host: old, File: &OpenFile{}})
	nw := hostPipe(t)
	tab.InstallAt(7, FDEntry{Host: nw, Cloexec: true, File: &OpenFile{}})
	if hostOpen(old) {
		t.Error("dup2 over an open fd left the old host fd open")
	}
	e, ok := tab.Get(7)
	if !ok || e.Host != nw || !e.Cloexec {
		t.Errorf("get(7) = %+v, %v", e, ok)
	}
	if _, ok := tab.Get(6); ok {
		t.Error("fd 6 open after installAt(7)")
	}
	if _, ok := tab.Get(-1); ok {
		t.Error("fd -1 open")
	}
}

func TestFDTableCloneSharesDescriptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var tab FDTable
	defer tab.CloseAll()
	f := &OpenFile{Path: "/f"}
	tab.InstallAt(3, FDEntry{Host: h, Cloexec: true, File: f})
	tab.InstallAt(4, FDEntry{Host: hostPipe(t), File: &OpenFile{}})
	c, err := tab.Clone()
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseAll()
	e, ok := c.Get(3)
	if !ok || e.Host == h || e.File != f || !e.Cloexec {
		t.Fatalf("clone's fd 3 = %+v, %v: want a new host fd, the same openFile and FD_CLOEXEC", e, ok)
	}
	// Same description: the offset moves for both.
	if _, err := unix.Seek(h, 4, 0); err != nil {
		t.Fatal(err)
	}
	if off, _ := unix.Seek(e.Host, 0, 1); off != 4 {
		t.Errorf("clone's offset = %d, want 4 (shared description)", off)
	}
	// Independent tables: closing in one leaves the other.
	if err := tab.Close(3); err != nil {
		t.Fatal(err)
	}
	if !hostOpen(e.Host) {
		t.Error("closing the parent's fd closed the clone's")
	}
	c.CloseOnExec()
	if _, ok := c.Get(3); ok {
		t.Error("CloseOnExec kept an FD_CLOEXEC fd")
	}
	if _, ok := c.Get(4); !ok {
		t.Error("CloseOnExec closed an fd without FD_CLOEXEC")
	}
	if hostOpen(e.Host) {
		t.Error("CloseOnExec left the host fd open")
	}
}

func TestFDTableCloseRange(t *testing.T) {
	var tab FDTable
	defer tab.CloseAll()
	var hosts []int
	for fd := 0; fd < 6; fd++ {
		h := hostPipe(t)
		hosts = append(hosts, h)
		tab.InstallAt(fd, FDEntry{Host: h, File: &OpenFile{}})
	}
	tab.CloseRange(1, 2, true)
	for fd := 0; fd < 6; fd++ {
		e, _ := tab.Get(fd)
		if e.Cloexec != (fd == 1 || fd == 2) {
			t.Errorf("fd %d cloexec = %v", fd, e.Cloexec)
		}
	}
	tab.CloseRange(2, ^uint(0)>>1, false)
	if got := tab.List(); len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Errorf("after close_range(2, ~0): %v", got)
	}
	if hostOpen(hosts[3]) {
		t.Error("close_range left a host fd open")
	}
}

func TestFDTableMaxFDSet(t *testing.T) {
	var tab FDTable
	defer tab.CloseAll()
	tab.InstallAt(0, FDEntry{Host: hostPipe(t), File: &OpenFile{}})
	if n := tab.MaxFDSet(); n != 64 {
		t.Errorf("maxFDSet = %d, want 64", n)
	}
	tab.InstallAt(100, FDEntry{Host: hostPipe(t), File: &OpenFile{}})
	if n := tab.MaxFDSet(); n != 256 {
		t.Errorf("maxFDSet with fd 100 = %d, want 256", n)
	}
	tab.InstallAt(300, FDEntry{Host: hostPipe(t), File: &OpenFile{}})
	if n := tab.MaxFDSet(); n != 512 {
		t.Errorf("maxFDSet with fd 300 = %d, want 512", n)
	}
}

func TestFDArg(t *testing.T) {
	for in, want := range map[uint64]int{5: 5, 1<<32 | 5: 5, 0xffffffff: -1, 1 << 31: -(1 << 31), 0xffffff9c: -100} {
		if got := FDArg(in); got != want {
			t.Errorf("fdArg(%#x) = %d, want %d", in, got, want)
		}
	}
}
