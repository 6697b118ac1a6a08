package ept

import (
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
