package ept

import "testing"

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
