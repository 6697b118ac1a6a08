package ept

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
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
	if err := m.SetSlotFunc(func(slot uint32, gpa, size uint64, host uintptr, readonly bool) error {
		if slot >= ramSlots { // RAM's are TestRAMPieces'
			calls = append(calls, call{slot, size, readonly})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var first uint64
	for i := 0; i < 20; i++ {
		path := filepath.Join(dir, fmt.Sprint(i))
		mf := mapNewFile(t, m, path, []byte(fmt.Sprintf("file %d", i)), os.O_RDONLY)
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
	if len(calls) != 1 || calls[0].size != uint64(arenaSize(0))*WindowChunk || !calls[0].readonly {
		t.Fatalf("slot calls %+v, want one read-only arena registration", calls)
	}
	mf := mapNewFile(t, m, filepath.Join(dir, "rw"), []byte("rw"), os.O_RDWR)
	defer mf.Release()
	if _, err := mf.Frame(0); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[1].readonly || calls[1].slot == calls[0].slot {
		t.Fatalf("slot calls %+v, want a writable arena of its own", calls)
	}
}

// mapNewFile writes data to a new file at path and maps it, opened with
// mode (os.O_RDONLY or os.O_RDWR: the MappedFile keeps an fd of its own;
// the test's is closed).
func mapNewFile(t *testing.T, m *Memory, path string, data []byte, mode int) *MappedFile {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, mode, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mf, err := m.MapFile(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return mf
}

type slotCall struct {
	slot            uint32
	gpa, size, host uint64
	readonly        bool
}

func captureSlots(t *testing.T, m *Memory) *[]slotCall {
	t.Helper()
	var calls []slotCall
	if err := m.SetSlotFunc(func(slot uint32, gpa, size uint64, host uintptr, readonly bool) error {
		calls = append(calls, slotCall{slot, gpa, size, uint64(host), readonly})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return &calls
}

// TestRAMPieces: RAM is registered piece by piece as frames are first
// handed out (64 MiB, then pieces doubling, the last up to the end of
// memory), each piece once, contiguous in guest-physical and host
// addresses, before any frame in it is handed out.
func TestRAMPieces(t *testing.T) {
	const size = 200 << 20
	m, err := NewMemory(size)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	calls := captureSlots(t, m)
	want := []slotCall{{0, 0, ramPiece0, uint64(m.HostAddr()), false}}
	check := func(when string) {
		t.Helper()
		if fmt.Sprint(*calls) != fmt.Sprint(want) {
			t.Fatalf("%s: slot calls %+v, want %+v", when, *calls, want)
		}
	}
	check("at set-up")
	if _, err := m.AllocRun(ramPiece0/PageSize - 1); err != nil { // to the piece's last frame
		t.Fatal(err)
	}
	if _, err := m.Alloc(); err != nil {
		t.Fatal(err)
	}
	check("64 MiB handed out")
	pa, err := m.Alloc()
	if err != nil {
		t.Fatal(err)
	}
	if pa != ramPiece0 {
		t.Fatalf("frame %#x, want %#x", pa, ramPiece0)
	}
	want = append(want, slotCall{1, ramPiece0, ramPiece0, uint64(m.HostAddr()) + ramPiece0, false})
	check("a frame past 64 MiB")
	// A run across two pieces registers both; the last piece stops at
	// the end of memory.
	if _, err := m.AllocRun((size - ramPiece0 - PageSize) / PageSize); err != nil {
		t.Fatal(err)
	}
	want = append(want, slotCall{2, 2 * ramPiece0, size - 2*ramPiece0, uint64(m.HostAddr()) + 2*ramPiece0, false})
	check("all of it")
	if _, err := m.Alloc(); err == nil {
		t.Fatal("a frame past the end of memory")
	}
	check("past the end")
}

// TestArenaGrowth: file window arenas grow from 64 MiB, each a slot of
// its own after RAM's, their windows contiguous in guest-physical space,
// and every window of a full arena still reads its own file.
func TestArenaGrowth(t *testing.T) {
	m, err := NewMemory(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	calls := captureSlots(t, m)
	dir := t.TempDir()
	n := arenaSize(0) + 2
	var files []*MappedFile
	defer func() {
		for _, mf := range files {
			mf.Release()
		}
	}()
	for i := 0; i < n; i++ {
		path := filepath.Join(dir, fmt.Sprint(i))
		mf := mapNewFile(t, m, path, []byte(fmt.Sprintf("file %d", i)), os.O_RDONLY)
		files = append(files, mf)
		pa, err := mf.Frame(0)
		if err != nil {
			t.Fatal(err)
		}
		if want := m.WindowBase() + uint64(i)*WindowChunk; pa != want {
			t.Errorf("file %d's window at %#x, want %#x", i, pa, want)
		}
		if got, want := string(m.Page(pa)[:len(fmt.Sprintf("file %d", i))]), fmt.Sprintf("file %d", i); got != want {
			t.Errorf("window %d reads %q, want %q", i, got, want)
		}
	}
	var arenas []slotCall
	for _, c := range *calls {
		if c.slot >= ramSlots {
			arenas = append(arenas, c)
		}
	}
	w0, w1 := uint64(arenaSize(0))*WindowChunk, uint64(arenaSize(1))*WindowChunk
	if len(arenas) != 2 || arenas[0].slot != ramSlots || arenas[0].gpa != m.WindowBase() || arenas[0].size != w0 ||
		arenas[1].slot != ramSlots+1 || arenas[1].gpa != m.WindowBase()+w0 || arenas[1].size != w1 || w1 != 2*w0 {
		t.Fatalf("arena slots %+v, want %d MiB at the window base then %d MiB after it", arenas, w0>>20, w1>>20)
	}
}

// TestWindowsLeaveHostMaps: a guest that opens windows over many ranges
// of a file (one page touched every other 2 MiB of a large sparse
// mapping) is refused more (ErrNoMemory) well before the windows use up
// the host's memory-map count (vm.max_map_count): before the cap, the
// windows took every host mapping kshim could make, and the Go runtime's
// next heap growth failed ("fatal error: runtime: out of memory").
func TestWindowsLeaveHostMaps(t *testing.T) {
	limit := hostMapLimit()
	if limit > 1<<18 {
		t.Skipf("vm.max_map_count is %d: too many windows to open in a test", limit)
	}
	m, err := NewMemory(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Every other chunk, so that neighbouring windows map file ranges
	// that are not contiguous and the host cannot merge their mappings.
	chunks := uint64(limit) * 2
	if err := f.Truncate(int64(chunks * WindowChunk)); err != nil {
		t.Fatal(err)
	}
	mf, err := m.MapFile(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	opened := 0
	for c := uint64(0); c < chunks; c += 2 {
		if _, err := mf.Frame(c * WindowChunk / PageSize); err != nil {
			if !errors.Is(err, ErrNoMemory) {
				t.Fatalf("window %d: %v, want ErrNoMemory", opened, err)
			}
			break
		}
		opened++
	}
	if opened == 0 || opened >= limit/2 {
		t.Errorf("%d windows opened with vm.max_map_count %d: want some, and well under half", opened, limit)
	}
	// The host can still map: kshim's own heap, a vCPU's run area.
	var held [][]byte
	defer func() {
		for _, b := range held {
			unix.Munmap(b)
		}
	}()
	for i := 0; i < 512; i++ {
		prot := unix.PROT_READ
		if i%2 == 0 {
			prot |= unix.PROT_WRITE // alternating, so they stay separate
		}
		b, err := unix.Mmap(-1, 0, PageSize, prot, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			t.Fatalf("host mmap %d after %d windows: %v", i, opened, err)
		}
		held = append(held, b)
	}
	// Released windows count no more.
	mf.Release()
	if mf, err = m.MapFile(int(f.Fd())); err != nil {
		t.Fatal(err)
	}
	defer mf.Release()
	if _, err := mf.Frame(0); err != nil {
		t.Errorf("a window after the others were released: %v", err)
	}
}

// TestCloseEndsWindows: closing the memory closes every mapped file's fd,
// released or not, and deletes no arena slot (the VM, closed first,
// takes its slots along; a deletion then was an ioctl on its closed fd).
func TestCloseEndsWindows(t *testing.T) {
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skipf("no /proc/self/fd: %v", err)
		}
		return len(ents)
	}
	before := fds()
	m, err := NewMemory(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	calls := captureSlots(t, m)
	path := filepath.Join(t.TempDir(), "f")
	mf := mapNewFile(t, m, path, []byte("data"), os.O_RDONLY)
	if _, err := mf.Frame(0); err != nil {
		t.Fatal(err)
	}
	if fds() <= before+1 { // the memfd, and the file's own
		t.Fatalf("a mapped file holds no fd of its own (%d fds, %d before the memory)", fds(), before)
	}
	n := len(*calls)
	m.Close()
	if got := fds(); got != before {
		t.Errorf("%d fds after Close, %d before the memory was made", got, before)
	}
	for _, c := range (*calls)[n:] {
		t.Errorf("Close made slot call %+v", c)
	}
	if m.MappedFiles() != 0 {
		t.Errorf("%d mapped files after Close", m.MappedFiles())
	}
}

// TestArenaClearOfAPIC: an arena whose windows would cover the local
// APIC's page (KVM may hold a slot of its own there) starts past it, and
// windows in no arena are never handed out; an arena below it, and the
// one-page slot dropShadows makes where the next arena would go, stay put.
func TestArenaClearOfAPIC(t *testing.T) {
	m, err := NewMemory(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	type call struct{ gpa, size uint64 }
	var calls []call
	if err := m.SetSlotFunc(func(slot uint32, gpa, size uint64, host uintptr, readonly bool) error {
		if slot >= ramSlots {
			calls = append(calls, call{gpa, size})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w := &m.files
	below := int((APICPage - w.base) / WindowChunk) // the window at the APIC page
	n := arenaSize(0)
	// The windows before the arena are taken (as if by earlier arenas):
	// the first arena then ends right below the page.
	w.slots = make([]*window, below-n)
	g, err := w.freeWindow(false)
	if err != nil {
		t.Fatal(err)
	}
	if g != below-n || calls[0].gpa+calls[0].size != APICPage {
		t.Fatalf("arena below the APIC page: window %d, slot %+v; want window %d ending at %#x", g, calls[0], below-n, APICPage)
	}
	if err := w.dropShadows(m.host); err != nil {
		t.Fatal(err)
	}
	if c := calls[1]; c.gpa != APICPage+WindowChunk || c.size != PageSize {
		t.Errorf("dropShadows' slot %+v at the APIC page, want it at %#x", c, APICPage+WindowChunk)
	}
	// Every window of the first arena in use: the next one would start
	// at the page, and starts past it.
	for i := g; i < g+n; i++ {
		w.slots[i] = &window{idx: i}
	}
	g, err = w.freeWindow(false)
	if err != nil {
		t.Fatal(err)
	}
	a := calls[len(calls)-1]
	if a.gpa <= APICPage || w.base+uint64(g)*WindowChunk != a.gpa || a.gpa != APICPage+WindowChunk {
		t.Fatalf("arena over the APIC page: window %d, slot at %#x; want both at %#x", g, a.gpa, APICPage+WindowChunk)
	}
	for _, ar := range w.arenas {
		if ar.first < g && ar.first+ar.n > below {
			t.Errorf("arena of windows [%d, %d) holds the APIC page's window %d", ar.first, ar.first+ar.n, below)
		}
	}
	for i := g; i < g+arenaSize(1); i++ {
		w.slots[i] = &window{idx: i}
	}
	if g2, err := w.freeWindow(false); err != nil || w.base+uint64(g2)*WindowChunk <= APICPage {
		t.Errorf("third arena's window %d (%v), want one past the APIC page", g2, err)
	}
}

// TestStartSlots: StartSlots registers RAM's first piece on a goroutine
// (SlotsReady waits for it and returns its error, as ErrNoMemory), while
// frames of that piece are handed out meanwhile without a call of their
// own; a later piece is registered when first used, as with SetSlotFunc.
func TestStartSlots(t *testing.T) {
	m, err := NewMemory(2 * ramPiece0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	release := make(chan struct{})
	var mu sync.Mutex
	var calls []slotCall
	m.StartSlots(func(slot uint32, gpa, size uint64, host uintptr, readonly bool) error {
		if slot == 0 {
			<-release // the first piece's registration is slow
		}
		mu.Lock()
		calls = append(calls, slotCall{slot, gpa, size, uint64(host), readonly})
		mu.Unlock()
		return nil
	})
	pa, err := m.Alloc() // while the registration waits
	if err != nil || pa >= ramPiece0 {
		t.Fatalf("frame %#x (%v) during the first registration", pa, err)
	}
	mu.Lock()
	n := len(calls)
	mu.Unlock()
	if n != 0 {
		t.Fatalf("%d slot calls before the first one returned", n)
	}
	close(release)
	if err := m.SlotsReady(); err != nil {
		t.Fatal(err)
	}
	a := m.files.arenas[0]
	want := []slotCall{{0, 0, ramPiece0, uint64(m.HostAddr()), false},
		{ramSlots, m.files.base, uint64(arenaSize(0)) * WindowChunk, uint64(uintptrOf(a.host)), true}}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("slot calls %+v, want RAM's first piece and the first read-only arena: %+v", calls, want)
	}
	// A read-only file's window goes into that arena: no slot call.
	mf := mapNewFile(t, m, filepath.Join(t.TempDir(), "f"), []byte("file"), os.O_RDONLY)
	if pa, err := mf.Frame(0); err != nil || pa < m.files.base || string(m.Page(pa)[:4]) != "file" {
		t.Fatalf("window frame %#x (%v)", pa, err)
	}
	mf.Release()
	if _, err := m.AllocRun(ramPiece0/PageSize - 1); err != nil { // to the piece's end
		t.Fatal(err)
	}
	if _, err := m.Alloc(); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 || calls[2].slot != 1 {
		t.Fatalf("slot calls %+v, want the second piece's registered when first used", calls)
	}

	bad, err := NewMemory(ramPiece0)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	bad.StartSlots(func(slot uint32, gpa, size uint64, host uintptr, readonly bool) error { return unix.ENOMEM })
	if err := bad.SlotsReady(); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("SlotsReady: %v, want ErrNoMemory", err)
	}
}
