package ept

import (
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resident reports whether the host holds frame pa of m (mincore: in the
// memfd's page cache).
func resident(t *testing.T, m *Memory, pa uint64) bool {
	t.Helper()
	var v byte
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m.host[pa])), PageSize, uintptr(unsafe.Pointer(&v))); e != 0 {
		t.Fatal(e)
	}
	return v&1 != 0
}

// TestAllocLazy: frames taken with AllocLazy are not made resident ahead,
// nor do they make the chunk after them resident; the next Alloc makes
// its chunk resident as before.
func TestAllocLazy(t *testing.T) {
	m, err := NewMemory(4 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var lazy []uint64
	for i := 0; i < 8; i++ {
		pa, err := m.AllocLazy()
		if err != nil {
			t.Fatal(err)
		}
		lazy = append(lazy, pa)
	}
	for _, pa := range lazy {
		if resident(t, m, pa) {
			t.Fatalf("lazy frame %#x is resident before any write", pa)
		}
	}
	pa, err := m.Alloc()
	if err != nil {
		t.Fatal(err)
	}
	if pa != lazy[len(lazy)-1]+PageSize {
		t.Fatalf("Alloc after the lazy frames gave %#x, want %#x", pa, lazy[len(lazy)-1]+PageSize)
	}
	// Made resident with the frames after it (best effort: a host
	// without MADV_POPULATE_WRITE has none).
	if unix.Madvise(m.host[pa:pa+PageSize], unix.MADV_POPULATE_WRITE) == nil {
		if !resident(t, m, pa+prefaultChunk-PageSize) {
			t.Error("Alloc did not make its chunk resident")
		}
	}
	for _, pa := range lazy {
		if resident(t, m, pa) {
			t.Errorf("lazy frame %#x made resident by the Alloc after it", pa)
		}
	}
	// A lazy frame is still zeroed guest memory.
	for _, pa := range lazy {
		if !allZero(m.Page(pa)) {
			t.Errorf("lazy frame %#x not zero", pa)
		}
	}
}

// TestPopulateChunk: a never-used frame handed out by Alloc makes its
// chunk resident, and no more (what is made resident and never handed
// out is paid at the populate and again when the memfd is freed); the
// cost a page is measured for the fault-around policy (FrameNS).
func TestPopulateChunk(t *testing.T) {
	m, err := NewMemory(4 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.FrameNS() != 0 {
		t.Fatalf("FrameNS = %v before any frame was made resident", m.FrameNS())
	}
	pa, err := m.Alloc()
	if err != nil {
		t.Fatal(err)
	}
	if unix.Madvise(m.host[m.size-PageSize:], unix.MADV_POPULATE_WRITE) != nil {
		t.Skip("no MADV_POPULATE_WRITE on this host")
	}
	for f := pa; f < pa+prefaultChunk; f += PageSize {
		if !resident(t, m, f) {
			t.Fatalf("frame %#x of the chunk not resident", f)
		}
	}
	if resident(t, m, pa+prefaultChunk) {
		t.Errorf("frame %#x past the chunk made resident", pa+prefaultChunk)
	}
	if m.FrameNS() <= 0 {
		t.Errorf("FrameNS = %v after a chunk was made resident", m.FrameNS())
	}
	// The rest of the chunk is handed out without another populate; the
	// next chunk starts at the first frame past it.
	for f := pa + PageSize; f <= pa+prefaultChunk; f += PageSize {
		if got, err := m.Alloc(); err != nil || got != f {
			t.Fatalf("Alloc = %#x, %v; want %#x", got, err, f)
		}
	}
	if !resident(t, m, pa+2*prefaultChunk-PageSize) || resident(t, m, pa+2*prefaultChunk) {
		t.Error("the next chunk is not exactly the chunk after the first")
	}
}

// TestPopulateMapped: a chunk made resident is also mapped writable in
// the VMM's view, zero: the VMM's stores (and KVM's, which take the same
// host entries) into its frames take no host fault, whichever way
// populate made it (a zero write and a read populate where probeRefault
// found read faults leave memfd pages writable, a write populate else).
func TestPopulateMapped(t *testing.T) {
	m, err := NewMemory(4 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if unix.Madvise(m.host[m.size-PageSize:], unix.MADV_POPULATE_WRITE) != nil {
		t.Skip("no MADV_POPULATE_WRITE on this host")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pa, err := m.Alloc()
	if err != nil {
		t.Fatal(err)
	}
	var before, after unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &before); err != nil {
		t.Fatal(err)
	}
	for f := pa; f < pa+prefaultChunk; f += PageSize {
		storeByte(&m.host[f])
	}
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &after); err != nil {
		t.Fatal(err)
	}
	// A chunk left unmapped takes a write fault per page (16).
	if n := after.Minflt - before.Minflt; n >= 4 {
		t.Errorf("stores into the %d frames of a populated chunk took %d host faults (refault %d)", prefaultChunk/PageSize, n, m.refault)
	}
	// storeByte wrote zeros: the frames must still read as zero.
	for f := pa; f < pa+prefaultChunk; f += PageSize {
		if !allZero(m.host[f : f+PageSize]) {
			t.Fatalf("frame %#x of the chunk not zero", f)
		}
	}
}
