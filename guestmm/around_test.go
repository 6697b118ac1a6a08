package guestmm

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"kshim/ept"
)

// slowExits is the policy of a shadow-paging host: a fault round trip of
// 100 µs, 200 ns per page mapped ahead, a page copy 1 µs.
func slowExits() *Tuning {
	t := NewTuning()
	t.ObserveFault(100_000)
	t.observePages(200*64, 64)
	t.observeCopy(1000*64, 64)
	return t
}

// fastExits is a VMX/SVM host with EPT/NPT: 2 µs faults.
func fastExits() *Tuning {
	t := NewTuning()
	t.ObserveFault(2000)
	t.observePages(200*64, 64)
	t.observeCopy(1000*64, 64)
	return t
}

func TestPolicySizes(t *testing.T) {
	var none *Tuning
	for _, c := range []struct {
		name         string
		t            *Tuning
		spec, stream int
	}{
		{"nil", none, minAround, 4 * minAround},
		{"unmeasured", NewTuning(), minAround, 4 * minAround},
		{"shadow paging", slowExits(), 64, maxAround}, // 100000/200/4 = 125 -> 64
		{"EPT", fastExits(), minAround, 32},           // 2000/200*4 = 40 -> 32
	} {
		spec, stream := c.t.Around()
		if c.t == nil {
			spec, stream = c.t.around(false), c.t.around(true)
		}
		if spec != c.spec || stream != c.stream {
			t.Errorf("%s: around = %d, %d; want %d, %d", c.name, spec, stream, c.spec, c.stream)
		}
	}
	// The cheapest fault wins; a slower one does not raise it.
	tu := NewTuning()
	tu.ObserveFault(50_000)
	tu.ObserveFault(80_000)
	tu.ObserveFault(40_000)
	if tu.FaultNS() != 40_000 {
		t.Errorf("FaultNS = %d, want the minimum 40000", tu.FaultNS())
	}
}

// TestPolicyAnonAhead: a zero page mapped ahead of a streaming program is
// priced with its frame, so the run is four faults' worth of entries and
// frames together, not of entries alone.
func TestPolicyAnonAhead(t *testing.T) {
	var none *Tuning
	for _, c := range []struct {
		name    string
		t       *Tuning
		frameNS float64
		want    int
	}{
		{"nil", none, 2500, 4 * minAround},
		{"unmeasured", NewTuning(), 2500, 4 * minAround},
		{"no frame cost", slowExits(), 0, maxAround}, // as around(true)
		{"shadow paging", slowExits(), 2500, 128},    // 400000/2700 = 148
		{"dear frames", slowExits(), 12_000, 32},     // 400000/12200 = 32
		{"EPT", fastExits(), 2500, minAround},        // 8000/2700 = 2
		{"EPT, no frame cost", fastExits(), 0, 32},   // 8000/200 = 40
	} {
		if got := c.t.anonAhead(c.frameNS); got != c.want {
			t.Errorf("%s: anonAhead(%v) = %d, want %d", c.name, c.frameNS, got, c.want)
		}
	}
}

// TestAnonStreamingPricesFrames: a demand-zero fault just above a used
// page, with unused ones below it, maps the run anonAhead gives for the
// memory's measured frame cost, not the file streaming run (512 pages
// here): what a fresh frame costs the host is measured when the allocator
// makes frames resident. A stream that goes on past the run it was given
// gets twice that run each time, up to the streaming run; one whose
// pages below were all used gets the streaming run at once.
func TestAnonStreamingPricesFrames(t *testing.T) {
	mm := newTestMM(t)
	mm.Tune = slowExits()
	rw := unix.PROT_READ | unix.PROT_WRITE
	p := mustMmap(t, mm, anon(4096*PageSize, rw))
	// use marks the page at a used, as the processor does on an access.
	use := func(a uint64) {
		t.Helper()
		pte, ok := mm.pt.Lookup(a)
		if !ok {
			t.Fatalf("page %#x is not mapped", a)
		}
		if err := mm.pt.Map(a, ept.Frame(pte), pte&^ept.Frame(pte)&^ept.PTEPresent|ept.PTEAccessed); err != nil {
			t.Fatal(err)
		}
	}
	if res, _, n := mm.HandleFaultPages(p, Write); res != Resolved || n != minAround {
		t.Fatalf("first fault: %v mapping %d pages, want %d", res, n, minAround)
	}
	frame := mm.mem.FrameNS()
	if frame <= 0 {
		t.Skip("no MADV_POPULATE_WRITE on this host: no frame cost measured")
	}
	stream := mm.Tune.around(true)
	if a := mm.Tune.anonAhead(frame); a >= stream {
		t.Fatalf("frame cost %v ns: anonAhead %d not below the streaming run %d", frame, a, stream)
	}
	// The frame cost is the least measured so far, so it may fall while
	// the test runs (and anonAhead grow): each run is at least twice the
	// one before, as a stream that goes on gets.
	next, prev := p+minAround*PageSize, minAround
	for i := 0; i < 6; i++ {
		use(next - PageSize)
		res, kind, n := mm.HandleFaultPages(next, Write)
		if res != Resolved || kind != KindDemandZero || n < min(2*prev, stream) || n > stream {
			t.Fatalf("streaming fault %d: %v %v mapping %d pages, want demand-zero mapping %d to %d", i, res, kind, n, min(2*prev, stream), stream)
		}
		if i == 0 && n >= stream {
			t.Errorf("first streaming fault mapped %d pages: the streaming run for entries alone", n)
		}
		next += uint64(n) * PageSize
		prev = n
	}
	if prev != stream {
		t.Errorf("a long stream's run is %d pages, want the streaming run %d", prev, stream)
	}
	// A program that used every page of the run below (writing a buffer
	// through) gets the streaming run at once: its pages will be used.
	q := mustMmap(t, mm, anon(4096*PageSize, rw))
	if _, _, n := mm.HandleFaultPages(q, Write); n != minAround {
		t.Fatalf("first fault: mapping %d pages, want %d", n, minAround)
	}
	for i := uint64(1); i < minAround; i++ {
		use(q + i*PageSize)
	}
	if res, kind, n := mm.HandleFaultPages(q+minAround*PageSize, Write); res != Resolved || kind != KindDemandZero || n != stream {
		t.Errorf("dense streaming fault: %v %v mapping %d pages, want demand-zero mapping %d", res, kind, n, stream)
	}
}

func TestPolicyEagerFork(t *testing.T) {
	mem, err := ept.NewMemory(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	small, err := ept.NewMemory(256 << 10)
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	for _, c := range []struct {
		name string
		t    *Tuning
		n    int
		mem  *ept.Memory
		want bool
	}{
		{"shadow paging, 100 pages", slowExits(), 100, mem, true},
		{"shadow paging, 1600 pages (16 faults' worth of copies)", slowExits(), 1600, mem, true},
		{"shadow paging, 1700 pages", slowExits(), 1700, mem, false},
		{"no room for the copy", slowExits(), 100, small, false},
		{"EPT, 100 pages", fastExits(), 100, mem, false},
		{"EPT, 16 pages", fastExits(), 16, mem, true},
		{"nothing measured", NewTuning(), 16, mem, false},
		{"no policy", nil, 16, mem, false},
	} {
		if got := c.t.eagerFork(c.n, c.mem); got != c.want {
			t.Errorf("%s: eager %v, want %v", c.name, got, c.want)
		}
	}
}

// fileMM returns an address space with slowExits and a mapping of a file
// of pages whole pages and 100 bytes, mapped over mapPages at a 2 MiB
// aligned address (fault-around windows are aligned in the address space,
// as Linux's).
func fileMM(t *testing.T, pages, mapPages int, prot, flags int) (*MM, uint64, *os.File) {
	t.Helper()
	mm := newTestMM(t)
	mm.Tune = slowExits()
	f, err := os.CreateTemp(t.TempDir(), "around")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	buf := make([]byte, pages*PageSize+100)
	for i := range buf {
		buf[i] = byte('a' + i/PageSize%26)
	}
	if _, err := f.Write(buf); err != nil {
		t.Fatal(err)
	}
	p := mustMmap(t, mm, MmapArgs{Addr: 0x200000000, Len: uint64(mapPages) * PageSize, Prot: prot, Flags: flags | unix.MAP_FIXED, FD: int(f.Fd())})
	// Drop what mmap mapped ahead (TestMmapMapsPrivateFileAhead): these
	// tests time fault-around itself. The entries were never used, so the
	// host-side clear is what the VMM may do anyway.
	if err := mm.pt.UnmapRange(p, p+uint64(mapPages)*PageSize); err != nil {
		t.Fatalf("dropping the mmap-time entries: %v", err)
	}
	return mm, p, f
}

// TestMmapMapsPrivateFileAhead: a private file mapping gets its first
// pages mapped at mmap, as far as one fault's cost buys (policy.go's
// mmapAround), through the file window: read-only even where writable (a
// write still copies), old (unused), never past end of file, no RAM; so
// does a read-only shared one; a writable shared one, and one without a
// policy, get nothing.
func TestMmapMapsPrivateFileAhead(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pages int
		flags int
		exec  bool
		tune  *Tuning
		want  int
		ro    bool
	}{
		{"private, long file", 1000, unix.MAP_PRIVATE, false, slowExits(), 256, false}, // 100 µs faults / 200 ns a page = 500, rounded down
		{"private code: four faults' worth", 2000, unix.MAP_PRIVATE, true, slowExits(), 1000, false},
		{"private, 40 pages and a bit", 40, unix.MAP_PRIVATE, false, slowExits(), 41, false},
		{"private, fast exits", 1000, unix.MAP_PRIVATE, false, fastExits(), minAround, false},
		{"shared", 1000, unix.MAP_SHARED, false, slowExits(), 0, false},
		{"shared, read-only", 1000, unix.MAP_SHARED, false, slowExits(), 256, true},
		{"no policy", 1000, unix.MAP_PRIVATE, false, nil, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mm := newTestMM(t)
			mm.Tune = tc.tune
			f, err := os.CreateTemp(t.TempDir(), "ahead")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Write(make([]byte, tc.pages*PageSize+100)); err != nil {
				t.Fatal(err)
			}
			prot := unix.PROT_READ | unix.PROT_WRITE
			if tc.exec {
				prot = unix.PROT_READ | unix.PROT_EXEC
			}
			if tc.ro {
				prot = unix.PROT_READ
			}
			p := mustMmap(t, mm, MmapArgs{Addr: 0x200000000, Len: 1000 * PageSize, Prot: prot, Flags: tc.flags | unix.MAP_FIXED, FD: int(f.Fd())})
			got := 0
			for i := 0; i < 1000; i++ {
				pte, ok := mm.pt.Lookup(p + uint64(i)*PageSize)
				if !ok {
					continue
				}
				got++
				if i != got-1 || pte&(ept.PTEWritable|ept.PTEAccessed) != 0 || !mm.mem.IsWindow(ept.Frame(pte)) {
					t.Fatalf("page %d: pte %#x; want the first pages only, read-only, old, in the file window", i, pte)
				}
			}
			if got != tc.want {
				t.Errorf("mmap mapped %d pages, want %d", got, tc.want)
			}
			if r := mm.Resident(); r != 0 {
				t.Errorf("%d pages of RAM mapped, want none", r)
			}
			if tc.want > 0 && !tc.exec && !tc.ro {
				write(t, mm, p, "x")
				if pte, _ := mm.pt.Lookup(p); mm.mem.IsWindow(ept.Frame(pte)) {
					t.Error("a write to a page mapped ahead did not copy it")
				}
			}
		})
	}
}

func TestFileAroundMapsTheWindowUpToEOF(t *testing.T) {
	rw := unix.PROT_READ | unix.PROT_WRITE
	mm, p, _ := fileMM(t, 40, 200, rw, unix.MAP_PRIVATE)
	// A private copy of page 3 (a write), then its entry dropped, so the
	// fault-around finds the object holding it.
	write(t, mm, p+3*PageSize, "copy")
	if _, _, err := mm.pt.Unmap(p + 3*PageSize); err != nil {
		t.Fatal(err)
	}
	res, kind, n := mm.HandleFaultPages(p+10*PageSize+5, Read)
	if res != Resolved || kind != KindFile {
		t.Fatalf("fault = %v, %v", res, kind)
	}
	// Speculative window of 64 pages around page 10: [0, 64), clipped to
	// the 41 pages before end of file; page 3 is a private copy.
	if n != 40 {
		t.Errorf("fault mapped %d pages, want 40 (41 file pages less the private copy)", n)
	}
	for i := 0; i < 200; i++ {
		pte, ok := mm.pt.Lookup(p + uint64(i)*PageSize)
		switch {
		case i == 3:
			if ok {
				t.Errorf("page 3 (a private copy) mapped by fault-around: %#x", pte)
			}
		case i <= 40:
			if !ok {
				t.Errorf("page %d not mapped", i)
				continue
			}
			if !mm.mem.IsWindow(ept.Frame(pte)) || pte&ept.PTEWritable != 0 {
				t.Errorf("page %d: pte %#x, want the file window, read-only", i, pte)
			}
			if (pte&ept.PTEAccessed != 0) != (i == 10) {
				t.Errorf("page %d: accessed bit %v, want it only on the faulting page", i, pte&ept.PTEAccessed != 0)
			}
			if got := read(t, mm, p+uint64(i)*PageSize, 1)[0]; got != byte('a'+i%26) {
				t.Errorf("page %d reads %q", i, got)
			}
		default:
			if ok {
				t.Errorf("page %d past end of file mapped", i)
			}
		}
	}
	if res, _ := mm.HandleFault(p+41*PageSize, Read); res != BusErr {
		t.Errorf("page past EOF: %v, want BusErr", res)
	}
}

func TestFileAroundStreamingAndShared(t *testing.T) {
	mm, p, _ := fileMM(t, 1000, 1000, unix.PROT_READ, unix.MAP_SHARED)
	if _, _, n := mm.HandleFaultPages(p, Read); n != 64 {
		t.Fatalf("first fault mapped %d, want 64", n)
	}
	// The program used page 63 (the hypervisor set its accessed bit).
	pte, _ := mm.pt.Lookup(p + 63*PageSize)
	if err := mm.pt.Map(p+63*PageSize, ept.Frame(pte), pte&^ept.Frame(pte)&^ept.PTEPresent|ept.PTEAccessed); err != nil {
		t.Fatal(err)
	}
	_, _, n := mm.HandleFaultPages(p+64*PageSize, Read)
	if n != maxAround {
		t.Fatalf("streaming fault mapped %d, want %d", n, maxAround)
	}
	for _, i := range []int{64, 65, 64 + maxAround - 1} {
		pte, ok := mm.pt.Lookup(p + uint64(i)*PageSize)
		if !ok || pte&ept.PTEAccessed == 0 {
			t.Errorf("page %d: %#x, %v; want mapped accessed", i, pte, ok)
		}
	}
	if _, ok := mm.pt.Lookup(p + uint64(64+maxAround)*PageSize); ok {
		t.Error("mapped past the streaming run")
	}
}

func TestCowAroundCopiesTheRun(t *testing.T) {
	mm := newTestMM(t)
	tu := slowExits()
	tu.copyNS.Store(1e9) // copies dear: a copy-on-write fork
	mm.Tune = tu
	rw := unix.PROT_READ | unix.PROT_WRITE
	p := mustMmap(t, mm, anon(100*PageSize, rw))
	for i := uint64(0); i < 100; i++ {
		if res, _ := mm.HandleFault(p+i*PageSize, Write); res != Resolved {
			t.Fatal(res)
		}
		write(t, mm, p+i*PageSize, "old")
		pte, _ := mm.pt.Lookup(p + i*PageSize)
		if i != 50 {
			// The program used it (page 50 it never did).
			if err := mm.pt.Map(p+i*PageSize, ept.Frame(pte), pte&^ept.Frame(pte)&^ept.PTEPresent|ept.PTEAccessed); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := forkChild(t, mm)
	if pte, _ := mm.pt.Lookup(p); pte&ept.PTEWritable != 0 {
		t.Fatal("fork was eager: want copy-on-write")
	}
	if _, kind, n := mm.HandleFaultPages(p, Write); kind != KindCopyOnWrite || n != 1 {
		t.Fatalf("first write: %v, %d pages; want one copy", kind, n)
	}
	// Sequential: page 0 is written, so page 1's fault copies ahead up to
	// the page the program never used.
	if _, kind, n := mm.HandleFaultPages(p+PageSize, Write); kind != KindCopyOnWrite || n != 49 {
		t.Fatalf("second write: %v, %d pages; want 49 (pages 1-49)", kind, n)
	}
	for i := uint64(0); i < 100; i++ {
		pte, _ := mm.pt.Lookup(p + i*PageSize)
		cpte, _ := c.pt.Lookup(p + i*PageSize)
		if want := i < 50; (pte&ept.PTEWritable != 0) != want || (ept.Frame(pte) != ept.Frame(cpte)) != want {
			t.Errorf("page %d: parent %#x child %#x; copied want %v", i, pte, cpte, want)
		}
	}
	write(t, mm, p+10*PageSize, "new")
	if got := string(read(t, c, p+10*PageSize, 3)); got != "old" {
		t.Errorf("child sees %q after the parent's write", got)
	}
}

func TestEagerForkCopies(t *testing.T) {
	mm := newTestMM(t)
	mm.Tune = slowExits()
	rw := unix.PROT_READ | unix.PROT_WRITE
	p := mustMmap(t, mm, anon(32*PageSize, rw))
	if res, _ := mm.HandleFault(p, Write); res != Resolved {
		t.Fatal(res)
	}
	write(t, mm, p, "parent")
	before, _ := mm.pt.Lookup(p + PageSize) // mapped ahead, old
	// A page the VMM provides and keeps updating (the vDSO's data page):
	// shared, never copied.
	vvar, _ := mm.mem.Alloc()
	if _, err := mm.MapSpecial(0x7000000, Special{Frames: []uint64{vvar}, Prot: unix.PROT_READ, Name: "[vvar]"}); err != nil {
		t.Fatal(err)
	}
	// Pages 1-15 were mapped ahead and never used (old): page 3 holds
	// data the VMM wrote, the others are zero.
	write(t, mm, p+3*PageSize, "data")
	used := mm.mem.Used()
	c := forkChild(t, mm)
	if grew := (mm.mem.Used() - used) / PageSize; grew != 2+uint64(c.pt.Tables()) {
		t.Errorf("fork took %d frames, want 2 copies (the used page, the one with data) and %d tables", grew, c.pt.Tables())
	}
	// An untouched zero page is left to the child's own demand-zero
	// fault: not mapped there, and zero when read.
	if cpte, ok := c.pt.Lookup(p + PageSize); ok {
		t.Errorf("child maps untouched zero page 1: %#x", cpte)
	}
	if got := read(t, c, p+PageSize, 4); string(got) != "\x00\x00\x00\x00" {
		t.Errorf("child reads %q from untouched page 1", got)
	}
	if got := string(read(t, c, p+3*PageSize, 4)); got != "data" {
		t.Errorf("child reads %q from page 3, want its copy of %q", got, "data")
	}
	if pte, ok := c.pt.Lookup(0x7000000); !ok || ept.Frame(pte) != vvar {
		t.Errorf("child's [vvar] entry %#x %v, want the VMM's frame %#x", pte, ok, vvar)
	}
	pte, _ := mm.pt.Lookup(p)
	cpte, _ := c.pt.Lookup(p)
	if pte&ept.PTEWritable == 0 || cpte&ept.PTEWritable == 0 || ept.Frame(pte) == ept.Frame(cpte) {
		t.Fatalf("parent %#x child %#x: want both writable, different frames", pte, cpte)
	}
	if cold, _ := c.pt.Lookup(p + 5*PageSize); cold&ept.PTEAccessed != 0 || before&ept.PTEAccessed != 0 {
		t.Errorf("an untouched page is accessed: parent %#x child %#x", before, cold)
	}
	write(t, mm, p, "PARENT")
	write(t, c, p, "child!")
	if a, b := string(read(t, mm, p, 6)), string(read(t, c, p, 6)); a != "PARENT" || b != "child!" {
		t.Errorf("parent reads %q, child %q", a, b)
	}
	c.Destroy()
}

// TestEagerForkSharedTables: a fork from tables another vCPU runs (a
// thread, a vfork child) copies every page: that vCPU could write an
// untouched page while the fork runs.
func TestEagerForkSharedTables(t *testing.T) {
	mm := newTestMM(t)
	mm.Tune = slowExits()
	rw := unix.PROT_READ | unix.PROT_WRITE
	p := mustMmap(t, mm, anon(32*PageSize, rw))
	if res, _ := mm.HandleFault(p, Write); res != Resolved {
		t.Fatal(res)
	}
	for i := 0; i < 2; i++ {
		k, err := ept.NewPageTable(mm.mem, ept.NewFlushQueue(make([]byte, 1<<20)), 0xffff888000000000)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mm.pt.Attach(k.Root()); err != nil {
			t.Fatal(err)
		}
	}
	used := mm.mem.Used()
	c := forkChild(t, mm)
	if grew := (mm.mem.Used() - used) / PageSize; grew != 16+uint64(c.pt.Tables()) {
		t.Errorf("fork took %d frames, want 16 copies and %d tables", grew, c.pt.Tables())
	}
	if _, ok := c.pt.Lookup(p + PageSize); !ok {
		t.Error("child has no copy of an untouched page of shared tables")
	}
	c.Destroy()
}

func TestPrepopulateSmallAnon(t *testing.T) {
	mm := newTestMM(t)
	rw := unix.PROT_READ | unix.PROT_WRITE
	p := mustMmap(t, mm, anon(16*PageSize, rw))
	if _, ok := mm.pt.Lookup(p); ok {
		t.Fatal("populated without a measured policy")
	}
	mm.Tune = slowExits()
	p = mustMmap(t, mm, anon(16*PageSize, rw))
	big := mustMmap(t, mm, anon(17*PageSize, rw))
	ro := mustMmap(t, mm, anon(4*PageSize, unix.PROT_READ))
	for i := uint64(0); i < 16; i++ {
		pte, ok := mm.pt.Lookup(p + i*PageSize)
		if !ok || pte&ept.PTEAccessed != 0 || pte&ept.PTEWritable == 0 {
			t.Fatalf("page %d: %#x %v; want mapped old and writable", i, pte, ok)
		}
	}
	if _, ok := mm.pt.Lookup(big); ok {
		t.Error("a mapping larger than the fault-around size was populated")
	}
	if _, ok := mm.pt.Lookup(ro); ok {
		t.Error("a read-only mapping was populated")
	}
	vec, err := mm.Mincore(p, 16*PageSize)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range vec {
		if b != 0 {
			t.Errorf("mincore page %d = %d, want 0 (never touched)", i, b)
		}
	}
}

// TestFuzzSeedsFaultAround replays the fuzz seeds against the model with
// the policy of a shadow-paging host, so every fault-around path runs
// under the invariant checker and the model's view of the guest.
func TestFuzzSeedsFaultAround(t *testing.T) {
	for i, s := range seeds() {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			d := &decoder{data: s}
			h := newFuzzHarness(t, winBase+uint64(4+d.b()%16)*PageSize)
			h.mm.Tune = slowExits()
			h.run(d)
		})
	}
}

// TestPopulate: a loader's Populate maps file pages up to EOF (read-only,
// old) and zero frames for anonymous memory, leaves PROT_NONE and
// unmapped parts alone, and mincore still says what Linux says.
func TestPopulate(t *testing.T) {
	mm, p, _ := fileMM(t, 10, 16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	rw := unix.PROT_READ | unix.PROT_WRITE
	a := mustMmap(t, mm, MmapArgs{Addr: p + 32*PageSize, Len: 40 * PageSize, Prot: rw, Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED})
	none := mustMmap(t, mm, MmapArgs{Addr: p + 72*PageSize, Len: 2 * PageSize, Prot: unix.PROT_NONE, Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED})
	mm.Populate(p, 80*PageSize) // file, a hole, anonymous, PROT_NONE, beyond
	for i := uint64(0); i < 80; i++ {
		pte, ok := mm.pt.Lookup(p + i*PageSize)
		switch {
		case i <= 10: // 10 whole pages and a partial one
			if !ok || !mm.mem.IsWindow(ept.Frame(pte)) || pte&(ept.PTEWritable|ept.PTEAccessed) != 0 {
				t.Errorf("file page %d: %#x %v; want the window, read-only, old", i, pte, ok)
			}
		case i >= 32 && i < 72:
			if !ok || mm.mem.IsWindow(ept.Frame(pte)) || pte&ept.PTEAccessed != 0 {
				t.Errorf("anonymous page %d: %#x %v; want a frame, old", i, pte, ok)
			}
		default:
			if ok {
				t.Errorf("page %d (past EOF, a hole, PROT_NONE or beyond) mapped: %#x", i, pte)
			}
		}
	}
	vec, err := mm.Mincore(a, 40*PageSize)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range vec {
		if b != 0 {
			t.Fatalf("mincore of populated, untouched anonymous page %d = %d", i, b)
		}
	}
	if res, _ := mm.HandleFault(p+11*PageSize, Read); res != BusErr {
		t.Errorf("past EOF after Populate: %v, want BusErr", res)
	}
	if res, _ := mm.HandleFault(none, Read); res != SegvAccErr {
		t.Errorf("PROT_NONE after Populate: %v, want SegvAccErr", res)
	}
	mm.Populate(UserTop-PageSize, 1<<40) // wraps past the user half: ignored
}

// TestPopulatePrivateCopy: Populate over a private file mapping maps the
// file pages through the window, a run at a time, but a page the mapping
// holds a copy of is mapped to that copy (as its fault would), never to
// the file, and entries already present stay as they are.
func TestPopulatePrivateCopy(t *testing.T) {
	mm, p, _ := fileMM(t, 40, 64, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	write(t, mm, p+3*PageSize, "copy")
	copyPTE, _ := mm.pt.Lookup(p + 3*PageSize)
	if _, _, err := mm.pt.Unmap(p + 3*PageSize); err != nil {
		t.Fatal(err)
	}
	write(t, mm, p+5*PageSize, "kept") // a copy still mapped
	keptPTE, _ := mm.pt.Lookup(p + 5*PageSize)
	mm.Populate(p, 64*PageSize)
	for i := uint64(0); i < 64; i++ {
		pte, ok := mm.pt.Lookup(p + i*PageSize)
		switch {
		case i == 3:
			if !ok || ept.Frame(pte) != ept.Frame(copyPTE) || pte&ept.PTEAccessed != 0 {
				t.Errorf("page 3 (a private copy): %#x %v; want the copy %#x, old", pte, ok, ept.Frame(copyPTE))
			}
		case i == 5:
			if pte != keptPTE {
				t.Errorf("page 5 (mapped): %#x, want it unchanged %#x", pte, keptPTE)
			}
		case i <= 40:
			if !ok || !mm.mem.IsWindow(ept.Frame(pte)) || pte&(ept.PTEWritable|ept.PTEAccessed) != 0 {
				t.Errorf("file page %d: %#x %v; want the window, read-only, old", i, pte, ok)
			} else if got := read(t, mm, p+i*PageSize, 1)[0]; got != byte('a'+i%26) {
				t.Errorf("file page %d reads %q", i, got)
			}
		default:
			if ok {
				t.Errorf("page %d past EOF mapped: %#x", i, pte)
			}
		}
	}
	if got := string(read(t, mm, p+3*PageSize, 4)); got != "copy" {
		t.Errorf("page 3 reads %q, want the copy's", got)
	}
}

// TestLoadAndBrkPopulate: with a measured policy, a small ELF segment
// (MapAnon) and small brk growth are mapped at once, old; large ones are
// left to faults.
func TestLoadAndBrkPopulate(t *testing.T) {
	mm := newTestMM(t)
	mm.Tune = slowExits()
	rw := unix.PROT_READ | unix.PROT_WRITE
	if err := mm.MapAnon(0x600000, 12*PageSize, rw); err != nil {
		t.Fatal(err)
	}
	if err := mm.MapAnon(0x800000, 200*PageSize, rw); err != nil {
		t.Fatal(err)
	}
	if pte, ok := mm.pt.Lookup(0x600000 + 11*PageSize); !ok || pte&ept.PTEAccessed != 0 {
		t.Errorf("small segment: %#x %v, want mapped old", pte, ok)
	}
	if _, ok := mm.pt.Lookup(0x800000); ok {
		t.Error("a 200-page segment was populated")
	}
	mm.SetBrkStart(0x1000000)
	mm.Brk(0x1000000 + 8*PageSize)
	if pte, ok := mm.pt.Lookup(0x1000000 + 7*PageSize); !ok || pte&ept.PTEAccessed != 0 {
		t.Errorf("small brk growth: %#x %v, want mapped old", pte, ok)
	}
	mm.Brk(0x1000000 + 108*PageSize)
	if _, ok := mm.pt.Lookup(0x1000000 + 8*PageSize); ok {
		t.Error("large brk growth was populated")
	}
	// A heap used up to its top when it grows: the fault there recorded
	// a run of 16 ending at the old break, so the growth is mapped as a
	// fault there would be, twice that run, old.
	top := uint64(0x1000000 + 107*PageSize)
	if _, _, n := mm.HandleFaultPages(top, Write); n != 1 {
		t.Fatalf("fault at the heap's top page mapped %d pages, want 1", n)
	}
	mm.Brk(0x1000000 + 200*PageSize)
	for i := uint64(108); i < 140; i++ {
		if pte, ok := mm.pt.Lookup(0x1000000 + i*PageSize); !ok || pte&ept.PTEAccessed != 0 {
			t.Fatalf("heap page %d after growth past a used top: %#x %v, want mapped old", i, pte, ok)
		}
	}
	if _, ok := mm.pt.Lookup(0x1000000 + 140*PageSize); ok {
		t.Error("growth past a used top mapped more than 32 pages")
	}
	// A fault just past that run (the program walks on): twice it, to
	// the break; the next growth, following that run, the cap of 64.
	if _, _, n := mm.HandleFaultPages(0x1000000+140*PageSize, Write); n != 60 {
		t.Errorf("fault just past the growth's run mapped %d pages, want 60 (to the break)", n)
	}
	mm.Brk(0x1000000 + 300*PageSize)
	for i := uint64(200); i < 264; i++ {
		if _, ok := mm.pt.Lookup(0x1000000 + i*PageSize); !ok {
			t.Fatalf("heap page %d after growth following a run: not mapped, want 64 pages mapped", i)
		}
	}
	if _, ok := mm.pt.Lookup(0x1000000 + 264*PageSize); ok {
		t.Error("growth following a run mapped more than 64 pages")
	}
	// Without a policy, nothing.
	lin := newTestMM(t)
	lin.SetBrkStart(0x1000000)
	lin.Brk(0x1000000 + 100*PageSize)
	lin.HandleFaultPages(0x1000000+99*PageSize, Write)
	lin.Brk(0x1000000 + 200*PageSize)
	if _, ok := lin.pt.Lookup(0x1000000 + 100*PageSize); ok {
		t.Error("brk growth mapped ahead without a policy")
	}
}

// TestAnonAroundFollowsRuns: a demand-zero fault just past a recent run
// (an allocator carving an arena upwards, touching a page here and
// there, so the page below the fault is old) maps twice that run, up to
// four times Linux's size; a fault elsewhere, or without a policy, maps
// Linux's 16; a fault whose page above is used, and so maps nothing
// above (a stack growing down), maps 16 pages below instead. Everything
// mapped ahead is old: mincore says 0.
func TestAnonAroundFollowsRuns(t *testing.T) {
	rw := unix.PROT_READ | unix.PROT_WRITE
	check := func(mm *MM, p uint64, steps []struct{ page, want int }) {
		t.Helper()
		for _, c := range steps {
			res, kind, n := mm.HandleFaultPages(p+uint64(c.page)*PageSize, Write)
			if res != Resolved || kind != KindDemandZero || n != c.want {
				t.Errorf("fault at page %d: %v %v mapping %d pages, want demand-zero mapping %d", c.page, res, kind, n, c.want)
			}
		}
	}
	mm := newTestMM(t)
	mm.Tune = slowExits()
	p := mustMmap(t, mm, anon(1024*PageSize, rw))
	check(mm, p, []struct{ page, want int }{
		{0, 16},   // Linux's size
		{16, 32},  // at the run's end (its page 15 is old): twice it
		{48, 64},  // again: four times Linux's size, the cap
		{112, 64}, // the cap holds
		{200, 64}, // 24 pages past the last end: within four runs' length
		{600, 16}, // far from any run
		{900, 16}, // far from any run
		{899, 17}, // page 900 used and mapped: 883..898 below
	})
	vec, err := mm.Mincore(p+883*PageSize, 18*PageSize)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range vec {
		want := byte(0)
		if i >= 16 {
			want = 1 // pages 899 and 900, touched
		}
		if b != want {
			t.Errorf("mincore page %d = %d, want %d", 883+i, b, want)
		}
	}
	// Without a policy: Linux's size only, upwards only.
	lin := newTestMM(t)
	q := mustMmap(t, lin, anon(1024*PageSize, rw))
	check(lin, q, []struct{ page, want int }{{100, 16}, {116, 16}, {99, 1}})
}

// TestFileAroundWindowFromTheVMAStart: as Linux's do_fault_around, the
// aligned window's start is clamped to the VMA and the window runs its
// full size from there: a small file mapped one page before an alignment
// boundary is mapped whole by its first fault, not just that page.
func TestFileAroundWindowFromTheVMAStart(t *testing.T) {
	mm := newTestMM(t)
	mm.Tune = slowExits() // 64-page speculative windows
	f, err := os.CreateTemp(t.TempDir(), "around")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 7*PageSize-100)); err != nil {
		t.Fatal(err)
	}
	addr := uint64(0x200000000 + 64*PageSize - PageSize)
	p := mustMmap(t, mm, MmapArgs{Addr: addr, Len: 7 * PageSize, Prot: unix.PROT_READ, Flags: unix.MAP_SHARED | unix.MAP_FIXED, FD: int(f.Fd())})
	if err := mm.pt.UnmapRange(p, p+7*PageSize); err != nil {
		t.Fatal(err)
	}
	if res, kind, n := mm.HandleFaultPages(p, Read); res != Resolved || kind != KindFile || n != 7 {
		t.Errorf("fault at the mapping's first page: %v %v mapping %d pages, want a file fault mapping all 7", res, kind, n)
	}
}

// TestStackAhead: the 16 stack pages below a new program's stack pointer
// are mapped at load, old (mincore 0, zero), within the stack VMA; none
// without a policy.
func TestStackAhead(t *testing.T) {
	for _, policy := range []bool{true, false} {
		mm := newTestMM(t)
		if policy {
			mm.Tune = slowExits()
		}
		if err := mm.SetLayout(FixedLayout()); err != nil {
			t.Fatal(err)
		}
		mm.MapStack()
		top := FixedLayout().StackTop
		sp := top - 3*PageSize + 0x238 // what the loader wrote lies above
		if err := mm.WriteAt(sp, make([]byte, 3*PageSize-0x238)); err != nil {
			t.Fatal(err)
		}
		mm.StackAhead(sp)
		below := (sp &^ (PageSize - 1)) - 16*PageSize
		for i := uint64(0); i < 17; i++ {
			pte, ok := mm.pt.Lookup(below - PageSize + i*PageSize)
			want := policy && i > 0
			if ok != want || ok && pte&ept.PTEAccessed != 0 {
				t.Errorf("policy %v: stack page %d below sp's: %#x %v, want mapped %v, old", policy, 16-i+1, pte, ok, want)
			}
		}
		vec, err := mm.Mincore(below, 16*PageSize)
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range vec {
			if b != 0 {
				t.Errorf("policy %v: mincore of stack page %d below sp = %d, want 0", policy, 16-i, b)
			}
		}
	}
}
