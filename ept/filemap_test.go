package ept

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestWindowsShareOneSlot: windows of many files, opened and released one
// after another, live in one arena: one KVM slot registered once and
// never deleted (a slot per file cost milliseconds each), the released
// window's range reused for the next file, which reads its own bytes
// there; a file opened for writing gets an arena (slot) of its own mode.
func TestWindowsShareOneSlot(t *testing.T) {
	m, err := NewMemory(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	type call struct {
		slot     uint32
		size     uint64
		readonly bool
	}
	var calls []call
	m.SetSlotFunc(func(slot uint32, gpa, size uint64, host uintptr, readonly bool) error {
		calls = append(calls, call{slot, size, readonly})
		return nil
	})
	dir := t.TempDir()
	var first uint64
	for i := 0; i < 20; i++ {
		path := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(path, []byte(fmt.Sprintf("file %d", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		mf, err := m.MapFile(int(f.Fd()))
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		pa, err := mf.Frame(0)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = pa
		} else if pa != first {
			t.Errorf("file %d's window at %#x, want the released one at %#x", i, pa, first)
		}
		if got, want := string(m.Page(pa)[:len(fmt.Sprintf("file %d", i))]), fmt.Sprintf("file %d", i); got != want {
			t.Errorf("window reads %q, want %q", got, want)
		}
		mf.Release()
	}
	if len(calls) != 1 || calls[0].size != arenaWindows*WindowChunk || !calls[0].readonly {
		t.Fatalf("slot calls %+v, want one read-only arena registration", calls)
	}
	path := filepath.Join(dir, "rw")
	if err := os.WriteFile(path, []byte("rw"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mf, err := m.MapFile(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Release()
	if _, err := mf.Frame(0); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[1].readonly || calls[1].slot == calls[0].slot {
		t.Fatalf("slot calls %+v, want a writable arena of its own", calls)
	}
}
