package guestmm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// tempFile creates a file of n pages, page i filled with the letter 'a'+i,
// and returns it open read-write.
func tempFile(t *testing.T, pages int) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(t.TempDir(), "data"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	for i := 0; i < pages; i++ {
		if _, err := f.WriteString(strings.Repeat(string(rune('a'+i)), PageSize)); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func fileMap(t *testing.T, mm *MM, f *os.File, pages int, prot, flags int) uint64 {
	t.Helper()
	return mustMmap(t, mm, MmapArgs{Len: uint64(pages) * PageSize, Prot: prot, Flags: flags, FD: int(f.Fd())})
}

func TestSharedFileMappingIsCoherent(t *testing.T) {
	mm := newTestMM(t)
	f := tempFile(t, 3)
	p := fileMap(t, mm, f, 3, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if got := read(t, mm, p+PageSize, 3); string(got) != "bbb" {
		t.Fatalf("mapping reads %q, want the file's bbb", got)
	}
	write(t, mm, p+10, "XYZ")
	b := make([]byte, 3)
	if _, err := f.ReadAt(b, 10); err != nil || string(b) != "XYZ" {
		t.Fatalf("pread after a store through the mapping: %q %v", b, err)
	}
	if _, err := f.WriteAt([]byte("pw"), 2*PageSize+5); err != nil {
		t.Fatal(err)
	}
	if got := read(t, mm, 2*PageSize+p+5, 2); string(got) != "pw" {
		t.Fatalf("mapping reads %q after pwrite, want pw", got)
	}
	// A second mapping of the same file shares the window (and the data).
	q := fileMap(t, mm, f, 1, unix.PROT_READ, unix.MAP_SHARED)
	if got := read(t, mm, q+10, 3); string(got) != "XYZ" {
		t.Fatalf("second mapping reads %q", got)
	}
	if n := mm.mem.MappedFiles(); n != 1 {
		t.Fatalf("%d mapped files for one file", n)
	}
	if err := mm.Munmap(p, 3*PageSize); err != nil {
		t.Fatal(err)
	}
	if err := mm.Munmap(q, PageSize); err != nil {
		t.Fatal(err)
	}
	if n := mm.mem.MappedFiles(); n != 0 {
		t.Fatalf("%d mapped files left after unmapping everything", n)
	}
}

func TestPrivateFileMappingCopiesOnWrite(t *testing.T) {
	mm := newTestMM(t)
	f := tempFile(t, 2)
	p := fileMap(t, mm, f, 2, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if res, kind := mm.HandleFault(p, Read); res != Resolved || kind != KindFile {
		t.Fatalf("read fault: %v %v", res, kind)
	}
	write(t, mm, p, "mine")
	b := make([]byte, 4)
	if _, err := f.ReadAt(b, 0); err != nil || string(b) != "aaaa" {
		t.Fatalf("file changed by a private store: %q %v", b, err)
	}
	// Not yet copied: the second page follows the file, the first does not.
	if _, err := f.WriteAt([]byte("new!"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("file"), PageSize); err != nil {
		t.Fatal(err)
	}
	if got := read(t, mm, p, 4); string(got) != "mine" {
		t.Fatalf("copied page reads %q", got)
	}
	if got := read(t, mm, p+PageSize, 4); string(got) != "file" {
		t.Fatalf("uncopied page reads %q, want the file's new data", got)
	}
	// MADV_DONTNEED drops the copy: the file shows through again.
	if err := mm.Madvise(p, PageSize, unix.MADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	if got := read(t, mm, p, 4); string(got) != "new!" {
		t.Fatalf("after DONTNEED reads %q, want new!", got)
	}
}

func TestFileMappingBeyondEOFAndReadOnly(t *testing.T) {
	mm := newTestMM(t)
	f := tempFile(t, 1)
	p := fileMap(t, mm, f, 3, unix.PROT_READ, unix.MAP_SHARED)
	if res, _ := mm.HandleFault(p+PageSize, Read); res != BusErr {
		t.Fatalf("fault past EOF: %v, want BusErr", res)
	}
	ro, err := os.Open(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	q := fileMap(t, mm, ro, 1, unix.PROT_READ, unix.MAP_SHARED)
	if err := mm.Mprotect(q, PageSize, unix.PROT_READ|unix.PROT_WRITE); err != unix.EACCES {
		t.Fatalf("mprotect(PROT_WRITE) of a read-only shared file mapping: %v, want EACCES", err)
	}
	if _, err := mm.CopyOut(q, []byte("x")); err != unix.EFAULT {
		t.Fatalf("store into a read-only mapping: %v, want EFAULT", err)
	}
}

// A mapping made with MmapArgs.NoExec (a file of a noexec mount) cannot
// gain PROT_EXEC later, as Linux clears VM_MAYEXEC; the rest of the range
// stays as it was (the check precedes any change). EachVMA hands over the
// file's host fd and the caller's File record.
func TestFileMappingNoExec(t *testing.T) {
	mm := newTestMM(t)
	f := tempFile(t, 2)
	rec := &struct{ name string }{"record"}
	p, err := mm.Mmap(MmapArgs{Len: 2 * PageSize, Prot: unix.PROT_READ, Flags: unix.MAP_PRIVATE,
		FD: int(f.Fd()), NoExec: true, File: rec})
	if err != nil {
		t.Fatal(err)
	}
	if err := mm.Mprotect(p, PageSize, unix.PROT_READ|unix.PROT_EXEC); err != unix.EACCES {
		t.Fatalf("mprotect(PROT_EXEC) of a noexec file mapping: %v, want EACCES", err)
	}
	if err := mm.Mprotect(p, 2*PageSize, unix.PROT_READ|unix.PROT_WRITE); err != nil {
		t.Fatalf("mprotect(PROT_WRITE) of a private noexec file mapping: %v", err)
	}
	var st, fst unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	seen := false
	mm.EachVMA(func(v *VMA, fd int) {
		if v.Start != p {
			return
		}
		seen = true
		if v.Prot != unix.PROT_READ|unix.PROT_WRITE || v.File != rec {
			t.Errorf("VMA prot %#x file %v, want rw and the record", v.Prot, v.File)
		}
		if fd < 0 || unix.Fstat(fd, &fst) != nil || fst.Ino != st.Ino || fst.Dev != st.Dev {
			t.Errorf("EachVMA's fd %d is not the mapped file", fd)
		}
	})
	if !seen {
		t.Fatal("EachVMA did not visit the mapping")
	}
	q, err := mm.Mmap(MmapArgs{Len: PageSize, Prot: unix.PROT_READ, Flags: unix.MAP_PRIVATE, FD: int(f.Fd())})
	if err != nil {
		t.Fatal(err)
	}
	if err := mm.Mprotect(q, PageSize, unix.PROT_READ|unix.PROT_EXEC); err != nil {
		t.Fatalf("mprotect(PROT_EXEC) of a plain file mapping: %v", err)
	}
}
