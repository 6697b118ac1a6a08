package guestmm

import (
	"testing"

	"golang.org/x/sys/unix"

	"kshim/ept"
)

// views is every VMA's View, by start address, as /proc/PID/maps reads
// them (under the lock).
func views(mm *MM) map[uint64]FileView {
	out := map[uint64]FileView{}
	mm.EachVMA(func(v *VMA, _ int) {
		if fv, ok := v.View(); ok {
			out[v.Start] = fv
		}
	})
	return out
}

// TestVMAView checks what /proc/PID/maps shows of a mapping's file, as
// Linux's vm_pgoff and vm_file: a file mapping's offset follows the file
// offset it was mapped from through mprotect splits, mremap moves and
// fork; shared anonymous memory shows its memfd from offset 0; the
// loader's copy of a file (MmapArgs.Like) shows that file's offsets in
// the same way; private anonymous memory shows nothing.
func TestVMAView(t *testing.T) {
	mm := newTestMM(t)
	f := tempFile(t, 8)
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	id := ept.FileID{Dev: st.Dev, Ino: st.Ino}
	p, err := mm.Mmap(MmapArgs{Len: 3 * PageSize, Prot: unix.PROT_READ, Flags: unix.MAP_PRIVATE,
		FD: int(f.Fd()), Off: 2 * PageSize})
	if err != nil {
		t.Fatal(err)
	}
	if err := mm.Mprotect(p+PageSize, PageSize, unix.PROT_READ|unix.PROT_WRITE); err != nil {
		t.Fatal(err)
	}
	moved, err := mm.Mremap(p+2*PageSize, PageSize, PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, 0x70000000)
	if err != nil {
		t.Fatal(err)
	}
	like := ept.FileID{Dev: 7, Ino: 42}
	q, err := mm.Mmap(MmapArgs{Len: 3 * PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE,
		Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, FD: -1, Off: 5 * PageSize, Like: &like, Name: "copy"})
	if err != nil {
		t.Fatal(err)
	}
	if err := mm.WriteAt(q, []byte("data")); err != nil {
		t.Fatal(err)
	}
	if err := mm.Mprotect(q, PageSize, unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	// Grown in place or moved, the tail keeps its file pages (detach).
	tail, err := mm.Mremap(q+2*PageSize, PageSize, 2*PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, 0x71000000)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := mm.Mmap(MmapArgs{Len: 2 * PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE,
		Flags: unix.MAP_SHARED | unix.MAP_ANONYMOUS, FD: -1, Off: 9 * PageSize})
	if err != nil {
		t.Fatal(err)
	}
	if err := mm.Mprotect(shared+PageSize, PageSize, unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	anon, err := mm.Mmap(MmapArgs{Len: PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE,
		Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, FD: -1, Off: 3 * PageSize})
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]FileView{
		p:            {2 * PageSize, id},
		p + PageSize: {3 * PageSize, id},
		moved:        {4 * PageSize, id},
		q:            {5 * PageSize, like},
		q + PageSize: {6 * PageSize, like},
		tail:         {7 * PageSize, like},
	}
	check := func(name string, mm *MM) {
		t.Helper()
		got := views(mm)
		if _, ok := got[anon]; ok {
			t.Errorf("%s: private anonymous memory shows a file: %+v", name, got[anon])
		}
		s0, s1 := got[shared], got[shared+PageSize]
		if s0.ID == (ept.FileID{}) || s1.ID != s0.ID || s0.Off != 0 || s1.Off != PageSize {
			t.Errorf("%s: shared anonymous memory shows %+v, %+v; want its memfd from offset 0", name, s0, s1)
		}
		for a, w := range want {
			if got[a] != w {
				t.Errorf("%s: VMA at %#x shows %+v, want %+v", name, a, got[a], w)
			}
		}
	}
	check("parent", mm)
	check("fork child", forkChild(t, mm))
}
