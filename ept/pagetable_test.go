package ept

import (
	"testing"
)

func newPT(t *testing.T) (*Memory, *FlushQueue, *PageTable) {
	t.Helper()
	mem, err := NewMemory(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mem.Close() })
	q := NewFlushQueue(make([]byte, 4096))
	pt, err := NewPageTable(mem, q, 0xffff888000000000)
	if err != nil {
		t.Fatal(err)
	}
	return mem, q, pt
}

// walkByHand follows the tables through guest memory like the CPU does.
func walkByHand(mem *Memory, root, va uint64) (pte uint64, ok bool) {
	table := root
	for level := 3; level >= 0; level-- {
		e := le.Uint64(mem.Slice(table+8*index(va, level), 8))
		if e&PTEPresent == 0 {
			return 0, false
		}
		if level == 0 {
			return e, true
		}
		table = e & pteAddrMask
	}
	return 0, false
}

func TestMapWritesHardwareFormat(t *testing.T) {
	mem, q, pt := newPT(t)
	pa, _ := mem.Alloc()
	const va = 0x7ffff7ff0000
	if err := pt.Map(va, pa, PTEUser|PTEWritable|PTENoExec|PTEAccessed); err != nil {
		t.Fatal(err)
	}
	pte, ok := walkByHand(mem, pt.Root(), va)
	if !ok || Frame(pte) != pa {
		t.Fatalf("hand walk: pte %#x ok %v, want frame %#x", pte, ok, pa)
	}
	for _, bit := range []uint64{PTEPresent, PTEUser, PTEWritable, PTENoExec, PTEAccessed} {
		if pte&bit == 0 {
			t.Errorf("pte %#x lacks bit %#x", pte, bit)
		}
	}
	if q.Pending() {
		t.Error("mapping a not-present entry queued a guest write")
	}
	// Supervisor, read-only, executable: no U, W or NX.
	pa2, _ := mem.Alloc()
	if err := pt.Map(0xffffffff80000000, pa2, 0); err != nil {
		t.Fatal(err)
	}
	pte, _ = walkByHand(mem, pt.Root(), 0xffffffff80000000)
	if pte&(PTEUser|PTEWritable|PTENoExec) != 0 {
		t.Errorf("supervisor RX pte %#x has U/W/NX", pte)
	}
}

func TestPresentChangesAreQueuedInOrder(t *testing.T) {
	mem, q, pt := newPT(t)
	a, _ := mem.Alloc()
	b, _ := mem.Alloc()
	const va = 0x400000
	pt.Map(va, a, PTEUser|PTEAccessed)
	if _, ok, err := pt.Unmap(va); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if q.Len() != 1 {
		t.Fatalf("unmap of a present entry: %d queued writes, want 1", q.Len())
	}
	// Now not present in memory but with a write queued: a new mapping must
	// queue behind it, or the guest would apply the unmap last.
	if err := pt.Map(va, b, PTEUser); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 2 {
		t.Fatalf("map behind a queued write: %d queued, want 2", q.Len())
	}
	if v := le.Uint64(q.area[flushHeader+flushRecord+8:]); Frame(v) != b {
		t.Fatalf("last queued value %#x, want frame %#x", v, b)
	}
	if pte, ok := pt.Lookup(va); !ok || Frame(pte) != b {
		t.Fatalf("VMM view %#x, want frame %#x", pte, b)
	}
	// Once the guest consumed the queue, not-present writes go direct again.
	le.PutUint64(q.area, 0)
	q.Applied()
	pt.Unmap(va)
	le.PutUint64(q.area, 0)
	q.Applied()
	if err := pt.Map(va, a, PTEUser); err != nil || q.Pending() {
		t.Fatalf("map after the queue was applied: err %v, pending %v", err, q.Pending())
	}
}

func TestNeverUsedEntryChangesDirectly(t *testing.T) {
	mem, q, pt := newPT(t)
	a, _ := mem.Alloc()
	b, _ := mem.Alloc()
	const va = 0x400000
	// Mapped ahead (fault-around) and never used: no accessed bit.
	pt.Map(va, a, PTEUser)
	if err := pt.Map(va, b, PTEUser|PTEWritable); err != nil || q.Pending() {
		t.Fatalf("remap of a never-used entry: err %v, pending %v; want a direct write", err, q.Pending())
	}
	if _, _, err := pt.Unmap(va); err != nil || q.Pending() {
		t.Fatalf("unmap of a never-used entry: err %v, pending %v; want a direct write", err, q.Pending())
	}
	// Once the guest has used it (the bit is set in memory), changes queue.
	pt.Map(va, a, PTEUser)
	e, _, _ := pt.walk(va, 0, false)
	le.PutUint64(mem.Slice(e, 8), pt.read(e)|PTEAccessed)
	if _, _, err := pt.Unmap(va); err != nil || q.Len() != 1 {
		t.Fatalf("unmap of a used entry: err %v, %d queued; want 1", err, q.Len())
	}
}

func TestFullQueueWithoutDrainFails(t *testing.T) {
	mem, q, pt := newPT(t)
	n := (4096 - flushHeader) / flushRecord
	for i := 0; i <= n; i++ {
		pa, _ := mem.Alloc()
		va := uint64(0x400000 + i*PageSize)
		pt.Map(va, pa, PTEUser|PTEAccessed)
		if _, _, err := pt.Unmap(va); err != nil {
			if i != n || err != ErrFlushFull {
				t.Fatalf("unmap %d: %v", i, err)
			}
			return
		}
	}
	t.Fatalf("queue of %d took %d writes", n, q.Len())
}

func TestRangeSkipsAbsentTables(t *testing.T) {
	mem, _, pt := newPT(t)
	vas := []uint64{0x1000, 0x200000, 0x7ffffffff000 - PageSize}
	for _, va := range vas {
		pa, _ := mem.Alloc()
		pt.Map(va, pa, PTEUser)
	}
	var got []uint64
	pt.Range(0, 0x7ffffffff000, func(va, _ uint64) error { got = append(got, va); return nil })
	if len(got) != len(vas) {
		t.Fatalf("Range found %#x, want %#x", got, vas)
	}
	for i := range vas {
		if got[i] != vas[i] {
			t.Fatalf("Range found %#x, want %#x", got, vas)
		}
	}
}

func TestFreedFramesReadZero(t *testing.T) {
	mem, _, _ := newPT(t)
	pa, _ := mem.Alloc()
	mem.Page(pa)[100] = 7
	mem.Free(pa)
	again, _ := mem.Alloc()
	if again != pa || mem.Page(again)[100] != 0 {
		t.Fatalf("reused frame %#x (freed %#x) byte=%d, want zeroed reuse", again, pa, mem.Page(again)[100])
	}
}
