package guestmm

import (
	"testing"

	"golang.org/x/sys/unix"

	"kshim/ept"
)

// newTestMM returns an address space over fresh guest memory, no KVM
// needed: the tests look at the range map and the page tables.
func newTestMM(t *testing.T) *MM {
	t.Helper()
	mem, err := ept.NewMemory(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mem.Close() })
	area := make([]byte, 1<<20)
	pt, err := ept.NewPageTable(mem, ept.NewFlushQueue(area), 0xffff888000000000)
	if err != nil {
		t.Fatal(err)
	}
	mm := New(mem, pt)
	mm.CheckAll = true
	return mm
}

func mustMmap(t *testing.T, mm *MM, a MmapArgs) uint64 {
	t.Helper()
	addr, err := mm.Mmap(a)
	if err != nil {
		t.Fatalf("mmap %+v: %v", a, err)
	}
	return addr
}

func anon(length uint64, prot int) MmapArgs {
	return MmapArgs{Len: length, Prot: prot, Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS}
}

func TestMprotectHoleAtEnd(t *testing.T) {
	mm := newTestMM(t)
	p := mustMmap(t, mm, anon(8*PageSize, unix.PROT_READ|unix.PROT_WRITE))
	if err := mm.Munmap(p+3*PageSize, PageSize); err != nil {
		t.Fatal(err)
	}
	if err := mm.Mprotect(p+2*PageSize, 2*PageSize, unix.PROT_READ); err != unix.ENOMEM {
		t.Fatalf("mprotect over a hole: %v, want ENOMEM; map %+v", err, mm.VMAs())
	}
}

func TestMprotectSplitMergeThenHole(t *testing.T) {
	mm := newTestMM(t)
	rw := unix.PROT_READ | unix.PROT_WRITE
	p := mustMmap(t, mm, anon(4*PageSize, rw))
	for _, st := range []struct {
		off, n uint64
		prot   int
	}{{1, 1, unix.PROT_READ}, {2, 1, unix.PROT_NONE}, {0, 4, rw}, {0, 1, unix.PROT_WRITE}, {0, 1, rw}} {
		if err := mm.Mprotect(p+st.off*PageSize, st.n*PageSize, st.prot); err != nil {
			t.Fatal(err)
		}
	}
	if n := mm.Len(); n != 1 {
		t.Fatalf("after restoring RW the mapping is in %d pieces, want 1 (merged): %+v", n, mm.VMAs())
	}
	if err := mm.Munmap(p+3*PageSize, PageSize); err != nil {
		t.Fatal(err)
	}
	if err := mm.Mprotect(p+2*PageSize, 2*PageSize, unix.PROT_READ); err != unix.ENOMEM {
		t.Fatalf("mprotect over a hole: %v, want ENOMEM; map %+v", err, mm.VMAs())
	}
}
