package ept

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
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
	if q.Len() != recordSlots+1 {
		t.Fatalf("unmap of a present entry: %d queued slots, want one record", q.Len())
	}
	// Now not present in memory but with a write queued: a new mapping must
	// queue behind it, or the guest would apply the unmap last.
	if err := pt.Map(va, b, PTEUser); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 2*(recordSlots+1) {
		t.Fatalf("map behind a queued write: %d queued slots, want two records", q.Len())
	}
	if v := q.get(2*recordSlots + 1); Frame(v) != b {
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
	if _, _, err := pt.Unmap(va); err != nil || q.Len() != recordSlots+1 {
		t.Fatalf("unmap of a used entry: err %v, %d queued slots; want one record", err, q.Len())
	}
}

func TestFullQueueWithoutDrainFails(t *testing.T) {
	mem, q, pt := newPT(t)
	n := (4096 - flushHeader) / 8 / (recordSlots + 1)
	for i := 0; i <= n; i++ {
		pa, _ := mem.Alloc()
		va := uint64(0x400000 + 2*i*PageSize) // not consecutive: no runs
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

// TestCountPresent: CountPresent counts what Range visits, within the
// range and below the frame limit, a leaf table's last entry and a range
// that starts and ends inside tables included.
func TestCountPresent(t *testing.T) {
	mem, _, pt := newPT(t)
	vas := []uint64{0x1000, 0x2000, 0x1ff000, 0x200000, 0x40000000, 0x7ffffffff000 - PageSize}
	var frames []uint64
	for _, va := range vas {
		pa, _ := mem.Alloc()
		frames = append(frames, pa)
		pt.Map(va, pa, PTEUser)
	}
	limit := max(frames[2], frames[3]) // some frames below, some not
	for _, r := range [][2]uint64{{0, 0x7ffffffff000}, {0x2000, 0x200001}, {0x1ff000, 0x40000000}, {0x40001000, 0x7ffffffff000}} {
		for _, lim := range []uint64{^uint64(0), limit} {
			want := uint64(0)
			pt.Range(r[0], r[1], func(_, pte uint64) error {
				if Frame(pte) < lim {
					want++
				}
				return nil
			})
			if got := pt.CountPresent(r[0], r[1], lim); got != want {
				t.Errorf("CountPresent(%#x, %#x, %#x) = %d, Range counts %d", r[0], r[1], lim, got, want)
			}
		}
	}
	if got := pt.CountPresent(0, 0x7ffffffff000, ^uint64(0)); got != uint64(len(vas)) {
		t.Errorf("CountPresent of the user half = %d, want %d", got, len(vas))
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

// TestConsecutiveWritesBecomeRuns: queued writes to consecutive entries
// for consecutive pages share one run record (its values in the slots
// after it), until the guest may have started on it (Seal), a table ends,
// or the order breaks.
func TestConsecutiveWritesBecomeRuns(t *testing.T) {
	mem, q, pt := newPT(t)
	const base = 0x400000 + 510*PageSize // entries 510, 511, then the next table
	var vals []uint64
	for i := uint64(0); i < 6; i++ {
		pa, _ := mem.Alloc()
		pt.Map(base+i*PageSize, pa, PTEUser|PTEAccessed)
	}
	q.Reset()
	for i := uint64(0); i < 2; i++ {
		pa, _ := mem.Alloc()
		if err := pt.Map(base+i*PageSize, pa, PTEUser|PTEAccessed); err != nil {
			t.Fatal(err)
		}
		vals = append(vals, pa|PTEUser|PTEAccessed|PTEPresent)
	}
	// Entries 510 and 511: one record of two, its values after it.
	rec := q.area[flushHeader:]
	e510, _, _ := pt.walk(base, 0, false)
	if q.Len() != recordSlots+2 || le.Uint64(rec) != pt.directMap+e510 || le.Uint64(rec[8:]) != 2 || le.Uint64(rec[16:]) != base {
		t.Fatalf("slots %d, record %#x %d %#x; want a run of 2 at %#x", q.Len(), le.Uint64(rec), le.Uint64(rec[8:]), le.Uint64(rec[16:]), pt.directMap+e510)
	}
	if le.Uint64(rec[24:]) != vals[0] || le.Uint64(rec[32:]) != vals[1] {
		t.Fatalf("run values %#x %#x, want %#x", le.Uint64(rec[24:]), le.Uint64(rec[32:]), vals)
	}
	// The next page's entry is in another table: a record of its own.
	second := recordSlots + 2
	if _, _, err := pt.Unmap(base + 2*PageSize); err != nil || q.Len() != second+recordSlots+1 {
		t.Fatalf("write in the next table: err %v, %d slots; want %d", err, q.Len(), second+recordSlots+1)
	}
	// Three more join it: a run of 4, and a full flush.
	for i := uint64(3); i < 6; i++ {
		pt.Unmap(base + i*PageSize)
	}
	if q.Len() != second+recordSlots+4 || q.get(second+1) != 4 || le.Uint64(q.area[8:]) == 0 {
		t.Fatalf("%d slots, run count %d, full flush %d; want %d slots, a run of 4, a full flush",
			q.Len(), q.get(second+1), le.Uint64(q.area[8:]), second+recordSlots+4)
	}
	// Once the vCPU may have run, nothing joins an earlier record.
	pa, _ := mem.Alloc()
	pt.Map(base+6*PageSize, pa, PTEUser|PTEAccessed)
	q.Seal()
	before := q.Len()
	pt.Unmap(base + 6*PageSize)
	if q.Len() != before+recordSlots+1 || q.get(before+1) != 1 {
		t.Fatalf("write after Seal: %d slots (was %d); want a single record of its own", q.Len(), before)
	}
}

// TestHostWritesQueue: with the host-writes protocol (hosts where the
// VMM's edit is seen after a guest invlpg) a change of a used entry is
// made in memory at once and queues an invlpg alone (entry address 0),
// nothing waits behind it, and a long operation ends in one CR3 reload
// instead of filling the queue (no drain).
func TestHostWritesQueue(t *testing.T) {
	mem, q, pt := newPT(t)
	q.SetHostWrites(true)
	q.Drain = func() error { t.Fatal("drain in host-writes mode"); return nil }
	used := func(va uint64) {
		pa, _ := mem.Alloc()
		if err := pt.Map(va, pa, PTEUser|PTEAccessed); err != nil {
			t.Fatal(err)
		}
	}
	used(0x400000)
	if _, _, err := pt.Unmap(0x400000); err != nil || q.Len() != recordSlots {
		t.Fatalf("unmap of a used entry: err %v, %d slots queued; want one record (%d)", err, q.Len(), recordSlots)
	}
	if q.get(0) != 0 || q.get(1) != 0 || q.get(2) != 0x400000 {
		t.Fatalf("record {%#x, %#x, %#x}, want {0, 0, 0x400000}: an invlpg of 0x400000 alone", q.get(0), q.get(1), q.get(2))
	}
	if single, _ := q.Single(); single {
		t.Fatal("an invlpg alone taken for kflush1's record of values")
	}
	if _, ok := walkByHand(mem, pt.Root(), 0x400000); ok {
		t.Fatal("the entry is still present in memory")
	}
	// Mapping it again is a direct write: no write waits to be ordered.
	pa, _ := mem.Alloc()
	if err := pt.Map(0x400000, pa, PTEUser); err != nil || q.Len() != recordSlots {
		t.Fatalf("map of the unmapped entry: err %v, %d slots queued; want still one record", err, q.Len())
	}
	n := (4096 - flushHeader) / (8 * recordSlots)
	for i := 0; i < 2*n; i++ {
		va := uint64(0x800000 + 2*i*PageSize)
		used(va)
		if _, _, err := pt.Unmap(va); err != nil {
			t.Fatalf("unmap %d: %v", i, err)
		}
	}
	if q.Len() > invlpgMax*recordSlots || le.Uint64(q.area[8:]) == 0 {
		t.Fatalf("%d slots, full flush %d; want at most %d records and a full flush", q.Len(), le.Uint64(q.area[8:]), invlpgMax)
	}
	for i := 0; i < q.Len(); i += recordSlots {
		if q.get(i) != 0 || q.get(i+1) != 0 {
			t.Fatalf("record at slot %d is {%#x, %d, ...}, not an invlpg alone", i, q.get(i), q.get(i+1))
		}
	}
}

// TestSingleRecord: the queue tells when it holds one record and nothing
// else, which the guest applies with kflush1 (a few pages: invlpg) or
// kflush1r (a long run, or a full flush requested: CR3 reload).
func TestSingleRecord(t *testing.T) {
	mem, q, pt := newPT(t)
	const base = 0x400000
	for i := uint64(0); i < 8; i++ {
		pa, _ := mem.Alloc()
		pt.Map(base+i*PageSize, pa, PTEUser|PTEAccessed)
	}
	q.Reset()
	if single, _ := q.Single(); single {
		t.Fatal("an empty queue is a single record")
	}
	pt.Unmap(base)
	if single, reload := q.Single(); !single || reload {
		t.Fatalf("one write: single %v reload %v; want kflush1", single, reload)
	}
	for i := uint64(1); i < 5; i++ {
		pt.Unmap(base + i*PageSize)
	}
	if single, reload := q.Single(); !single || !reload {
		t.Fatalf("a run of 5: single %v reload %v; want kflush1r", single, reload)
	}
	pt.Unmap(base + 7*PageSize) // not consecutive: a second record
	if single, _ := q.Single(); single {
		t.Fatal("two records taken for one")
	}
	q.Reset()
	pt.Unmap(base + 5*PageSize)
	q.FlushAll()
	if single, reload := q.Single(); !single || !reload {
		t.Fatalf("one write and a full flush requested: single %v reload %v; want kflush1r", single, reload)
	}
}

// A root freed by the last user's Free and then detached by its own
// vCPU's Leave (the order a group exit can take) frees nothing twice:
// before, the second Detach freed frame 0, the shim's kernel text.
func TestDetachAfterFree(t *testing.T) {
	mem, _, _ := newPT(t)
	// newPT's table took frame 0; a data frame stands in for the shim's.
	first, err := mem.Alloc()
	if err != nil {
		t.Fatal(err)
	}
	q := NewFlushQueue(make([]byte, 4096))
	kernel, err := NewPageTable(mem, q, 0xffff888000000000)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := NewPageTable(mem, q, 0xffff888000000000)
	if err != nil {
		t.Fatal(err)
	}
	r, err := pt.Attach(kernel.Root())
	if err != nil {
		t.Fatal(err)
	}
	frame := r.Root()
	pt.Free()
	if r.Root() != 0 || mem.Refs(frame) != 0 {
		t.Fatalf("after Free: root %#x, its frame's refs %d; want 0, 0", r.Root(), mem.Refs(frame))
	}
	r.Detach() // must not free frame 0 (or panic on the retired root)
	if n := mem.Refs(0); n != 1 {
		t.Errorf("frame 0 has %d references after a second Detach, want 1", n)
	}
	if n := mem.Refs(first); n != 1 {
		t.Errorf("frame %#x has %d references, want 1", first, n)
	}
}

// TestFlushQueuePages: a flush area the VMM sees as separate pages (a
// vCPU's, from frames not side by side) holds, page by page, the bytes a
// contiguous one does for the same writes, records crossing pages; and
// it is full at the same point.
func TestFlushQueuePages(t *testing.T) {
	const pages = 3
	area := make([]byte, pages*PageSize)
	one := NewFlushQueue(area)
	var parts [][]byte
	for i := 0; i < pages; i++ {
		parts = append(parts, make([]byte, PageSize))
	}
	split := NewFlushQueuePages(parts)
	n := 0
	for ; ; n++ {
		va := uint64(0x400000 + n*PageSize)
		e1, e2 := one.Invlpg(va), split.Invlpg(va)
		if (e1 == nil) != (e2 == nil) {
			t.Fatalf("invlpg %d: %v contiguous, %v in pages", n, e1, e2)
		}
		if e1 != nil {
			break
		}
	}
	if n < 2*PageSize/(8*recordSlots) {
		t.Fatalf("full after %d records: the pages were not all used", n)
	}
	for i, p := range parts {
		if string(p) != string(area[i*PageSize:(i+1)*PageSize]) {
			t.Fatalf("page %d of the split area differs from the contiguous one", i)
		}
	}
	if one.Len() != split.Len() || one.Len() != n*recordSlots {
		t.Fatalf("lengths %d and %d, want %d", one.Len(), split.Len(), n*recordSlots)
	}
}

// TestMapRun: a run maps each page not yet present to the frame at its
// offset, across a page-table boundary (one walk per table), leaves a
// present entry alone, and queues nothing for not-present entries.
func TestMapRun(t *testing.T) {
	mem, q, pt := newPT(t)
	const va = 0x7f0000200000 - 3*PageSize // three pages below a 2 MiB boundary
	const pa = 0x40000000                  // a window's frames need not be RAM's
	keep, _ := mem.Alloc()
	if err := pt.Map(va+PageSize, keep, PTEUser); err != nil {
		t.Fatal(err)
	}
	n, err := pt.MapRun(va, pa, 6, PTEUser|PTENoExec)
	if err != nil || n != 5 {
		t.Fatalf("MapRun = %d, %v; want 5 pages mapped", n, err)
	}
	for i := uint64(0); i < 6; i++ {
		pte, ok := walkByHand(mem, pt.Root(), va+i*PageSize)
		want := pa + i*PageSize
		if i == 1 {
			want = keep
		}
		if !ok || Frame(pte) != want {
			t.Errorf("page %d: pte %#x ok %v, want frame %#x", i, pte, ok, want)
		}
		if i != 1 && (pte&PTENoExec == 0 || pte&PTEUser == 0 || pte&PTEWritable != 0) {
			t.Errorf("page %d: pte %#x, want user, no-exec, read-only", i, pte)
		}
	}
	if _, ok := walkByHand(mem, pt.Root(), va+6*PageSize); ok {
		t.Error("MapRun mapped past its run")
	}
	if q.Pending() {
		t.Error("mapping not-present entries queued a guest write")
	}
	if _, err := pt.MapRun(va+1, pa, 1, 0); err == nil {
		t.Error("MapRun took a misaligned address")
	}
}

// TestQueueRouting: writes go to the queue of the thread that makes them
// (SetThread), the lone thread's to any caller, and the server's
// (SetServer) to the queue it was lent, also once another thread comes
// back to the tables meanwhile.
func TestQueueRouting(t *testing.T) {
	runtime.LockOSThread() // the routing is by host thread
	defer runtime.UnlockOSThread()
	_, def, pt := newPT(t)
	me := int32(unix.Gettid())
	a, b := NewFlushQueue(make([]byte, 4096)), NewFlushQueue(make([]byte, 4096))
	if pt.queue() != def {
		t.Fatalf("no thread: not the tables' own queue")
	}
	pt.SetThread(me+1, a)
	if pt.queue() != a {
		t.Fatalf("one thread: its queue is not everyone's")
	}
	pt.SetServer(me, a) // this thread serves the lone one
	if pt.queue() != a {
		t.Fatalf("server, one thread: not the lent queue")
	}
	pt.SetThread(me+2, b) // another comes back during the call
	if pt.queue() != a {
		t.Fatalf("server, two threads: not the lent queue")
	}
	pt.SetServer(0, nil)
	if pt.queue() != def {
		t.Fatalf("two threads, neither this one: not the tables' own queue")
	}
}
