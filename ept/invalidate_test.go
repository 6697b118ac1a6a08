package ept

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestInvalidateKeepsData: invalidating frames (MADV_DONTNEED on the VMM's
// shared view) changes no byte of them, runs of consecutive frames and
// duplicates included; frames outside memory are ignored.
func TestInvalidateKeepsData(t *testing.T) {
	m, err := NewMemory(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var frames []uint64
	for i := 0; i < 8; i++ {
		pa, err := m.Alloc()
		if err != nil {
			t.Fatal(err)
		}
		for j := range m.Page(pa) {
			m.Page(pa)[j] = byte(i + j)
		}
		frames = append(frames, pa)
	}
	list := append([]uint64{frames[5], frames[0], frames[0], 1 << 40}, frames...)
	if err := m.Invalidate(list); err != nil {
		t.Fatal(err)
	}
	for i, pa := range frames {
		for j, b := range m.Page(pa) {
			if b != byte(i+j) {
				t.Fatalf("frame %d byte %d is %d after Invalidate, want %d", i, j, b, byte(i+j))
			}
		}
	}
}

// TestInvalidateRefaultWritable: after Invalidate, the VMM's view of the
// frames is mapped again and writable (the VMM's copies into guest memory
// and KVM's writable lookups take no host fault), whichever advice
// probeRefault picked; the probe's frame is left zero.
func TestInvalidateRefaultWritable(t *testing.T) {
	m, err := NewMemory(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	t.Logf("refault advice: %d (MADV_POPULATE_READ=%d)", m.refault, unix.MADV_POPULATE_READ)
	for _, b := range m.host[m.size-PageSize:] {
		if b != 0 {
			t.Fatal("probeRefault left its frame non-zero")
		}
	}
	var frames []uint64
	for i := 0; i < 16; i++ {
		pa, err := m.Alloc()
		if err != nil {
			t.Fatal(err)
		}
		m.Page(pa)[0] = byte(i + 1)
		frames = append(frames, pa)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := m.Invalidate(frames); err != nil {
		t.Fatal(err)
	}
	var before, after unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &before); err != nil {
		t.Fatal(err)
	}
	for _, pa := range frames {
		storeByte(&m.Page(pa)[1])
	}
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &after); err != nil {
		t.Fatal(err)
	}
	if n := after.Minflt - before.Minflt; n != 0 {
		t.Errorf("%d host faults writing 16 frames after Invalidate, want 0", n)
	}
	for i, pa := range frames {
		if got := m.Page(pa)[0]; got != byte(i+1) {
			t.Fatalf("frame %d byte 0 is %d after Invalidate, want %d", i, got, i+1)
		}
	}
}
