package ept

import (
	"errors"
	"runtime"
	"testing"
)

// TestCharge: charges (pipe buffers) and frames share the budget: a charge
// that does not fit fails, frames cannot be allocated past what charges
// left, warm frames are given back to make room, and uncharging frees it.
func TestCharge(t *testing.T) {
	const pages = 64
	m, err := NewMemory(pages * PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var frames []uint64
	for i := 0; i < 40; i++ {
		pa, err := m.Alloc()
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, pa)
	}
	if err := m.Charge(25 * PageSize); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("charge of 25 pages with 24 left: %v, want ErrNoMemory", err)
	}
	if err := m.Charge(20*PageSize + 1); err != nil { // rounds up to 21 pages
		t.Fatal(err)
	}
	if got := m.Used(); got != 61*PageSize {
		t.Fatalf("Used %d, want 61 pages", got/PageSize)
	}
	for i := 0; i < 3; i++ {
		if _, err := m.Alloc(); err != nil {
			t.Fatalf("frame %d of the 3 left: %v", i, err)
		}
	}
	if _, err := m.Alloc(); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("frame past the budget: %v, want ErrNoMemory", err)
	}
	// Freed frames stay warm (resident); a charge needing their room
	// gives them back to the host.
	for _, pa := range frames[:10] {
		m.Free(pa)
	}
	if len(m.warm) != 10 {
		t.Fatalf("%d warm frames, want 10", len(m.warm))
	}
	if err := m.Charge(8 * PageSize); err != nil {
		t.Fatal(err)
	}
	if resident := m.used + uint64(len(m.warm)) + m.charged; resident > pages {
		t.Fatalf("resident frames %d + warm %d + charged %d exceed %d pages", m.used, len(m.warm), m.charged, pages)
	}
	m.Uncharge(8 * PageSize)
	m.Uncharge(20*PageSize + 1)
	if got := m.Used(); got != 33*PageSize {
		t.Fatalf("Used %d after uncharging, want 33 pages", got/PageSize)
	}
	for i := 0; i < 31; i++ {
		if _, err := m.Alloc(); err != nil {
			t.Fatalf("frame %d after uncharging: %v", i, err)
		}
	}
}

// TestSetLimit: a limit below the reserved size bounds frames and
// charges as the size did; it cannot go below what is in use or above
// the reservation; lowering it gives warm frames back.
func TestSetLimit(t *testing.T) {
	const pages = 64
	m, err := NewMemory(pages * PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.SetLimit(16 * PageSize); err != nil {
		t.Fatal(err)
	}
	if m.Size() != 16*PageSize || m.Reserved() != pages*PageSize {
		t.Fatalf("Size %d Reserved %d", m.Size(), m.Reserved())
	}
	var frames []uint64
	for i := 0; i < 16; i++ {
		pa, err := m.Alloc()
		if err != nil {
			t.Fatalf("frame %d of 16: %v", i, err)
		}
		frames = append(frames, pa)
	}
	if _, err := m.Alloc(); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("frame past the limit: %v, want ErrNoMemory", err)
	}
	if err := m.Charge(PageSize); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("charge past the limit: %v, want ErrNoMemory", err)
	}
	if err := m.SetLimit(8 * PageSize); !errors.Is(err, ErrLimitInUse) {
		t.Fatalf("limit below use: %v, want ErrLimitInUse", err)
	}
	if err := m.SetLimit(pages*PageSize + 1); err == nil {
		t.Fatal("limit above the reservation accepted")
	}
	if err := m.SetLimit(32 * PageSize); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Alloc(); err != nil {
		t.Fatalf("frame after raising the limit: %v", err)
	}
	for _, pa := range frames[:12] {
		m.Free(pa)
	}
	if err := m.SetLimit(6 * PageSize); err != nil {
		t.Fatal(err)
	}
	if resident := m.used + uint64(len(m.warm)) + m.charged; resident > 6 {
		t.Fatalf("resident %d pages after lowering the limit to 6", resident)
	}
}

// TestFreedFrameZero: a frame handed out again is zero, whether it comes
// back warm (kept resident, zeroed when reused) or hole-punched (past
// WarmFrames).
func TestFreedFrameZero(t *testing.T) {
	m, err := NewMemory(2 * (WarmFrames + 16) * PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var frames []uint64
	for i := 0; i < WarmFrames+8; i++ {
		pa, err := m.Alloc()
		if err != nil {
			t.Fatal(err)
		}
		p := m.Page(pa)
		p[0], p[PageSize/2], p[PageSize-1] = 1, 2, 3
		frames = append(frames, pa)
	}
	for _, pa := range frames {
		m.Free(pa)
	}
	if len(m.warm) != WarmFrames || len(m.free) != 8 {
		t.Fatalf("%d warm, %d punched frames, want %d and 8", len(m.warm), len(m.free), WarmFrames)
	}
	for range frames {
		pa, err := m.Alloc()
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range m.Page(pa) {
			if b != 0 {
				t.Fatalf("frame %#x handed out again with byte %d = %d", pa, i, b)
			}
		}
	}
}

// TestReclaimTables: page-table frames freed by an ended address space
// are not reused until the memory has no never-used frame left; then one
// drop of every shadow (a one-page slot registered and deleted where no
// other slot is) makes them free frames again, zero, for data or tables.
func TestReclaimTables(t *testing.T) {
	const pages = 64
	m, err := NewMemory(pages * PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	type call struct {
		slot      uint32
		gpa, size uint64
	}
	var calls []call
	if err := m.SetSlotFunc(func(slot uint32, gpa, size uint64, host uintptr, readonly bool) error {
		calls = append(calls, call{slot, gpa, size})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ram := len(calls) // RAM's first piece
	var tables []uint64
	for i := 0; i < 16; i++ {
		pa, err := m.AllocTable()
		if err != nil {
			t.Fatal(err)
		}
		m.Page(pa)[8] = 0x27 // an entry
		tables = append(tables, pa)
	}
	for _, pa := range tables {
		m.FreeTable(pa)
	}
	// The rest of memory is handed out first, never a retired frame.
	retired := map[uint64]bool{}
	for _, pa := range tables {
		retired[pa] = true
	}
	var data []uint64
	for i := 0; i < pages-16; i++ {
		pa, err := m.Alloc()
		if err != nil {
			t.Fatalf("frame %d of %d never used: %v", i, pages-16, err)
		}
		if retired[pa] {
			t.Fatalf("retired table frame %#x handed out with never-used frames left", pa)
		}
		data = append(data, pa)
	}
	if len(calls) != ram || m.Reclaims() != 0 {
		t.Fatalf("shadows dropped before memory ran out: %d slot calls, %d reclaims", len(calls)-ram, m.Reclaims())
	}
	// Now every frame in use or retired: the next ones are the retired,
	// after one drop.
	for i := 0; i < 16; i++ {
		alloc := m.Alloc
		if i%2 == 1 {
			alloc = m.AllocTable
		}
		pa, err := alloc()
		if err != nil {
			t.Fatalf("frame %d of the 16 retired: %v", i, err)
		}
		if !retired[pa] {
			t.Fatalf("frame %#x handed out, want a retired one", pa)
		}
		delete(retired, pa)
		for j, b := range m.Page(pa) {
			if b != 0 {
				t.Fatalf("reclaimed frame %#x has byte %d = %#x", pa, j, b)
			}
		}
	}
	if m.Reclaims() != 1 {
		t.Fatalf("%d reclaims, want 1", m.Reclaims())
	}
	drop := calls[ram:]
	if len(drop) != 2 || drop[0].size != PageSize || drop[1].size != 0 || drop[0].slot != drop[1].slot || drop[0].gpa != drop[1].gpa {
		t.Fatalf("shadow drop made slot calls %+v, want one page registered and deleted", drop)
	}
	for _, c := range calls[:ram] {
		if c.slot == drop[0].slot || drop[0].gpa < c.gpa+c.size && c.gpa < drop[0].gpa+PageSize {
			t.Fatalf("shadow drop's slot %+v meets RAM's %+v", drop[0], c)
		}
	}
	if _, err := m.Alloc(); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("frame past every frame: %v, want ErrNoMemory", err)
	}
	if m.Reclaims() != 1 {
		t.Fatalf("a drop with nothing retired: %d reclaims, want 1", m.Reclaims())
	}
}

// TestAllocRunFreed: once every frame has been handed out at least once,
// AllocRun (a new vCPU's areas) takes a run of returned frames, warm or
// given back, zeroed; a run of retired table frames after a drop of
// every shadow; and fails only when no run of free frames is left.
func TestAllocRunFreed(t *testing.T) {
	const pages = 64
	m, err := NewMemory(pages * PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	drops := 0
	if err := m.SetSlotFunc(func(slot uint32, gpa, size uint64, host uintptr, readonly bool) error {
		if size == 0 {
			drops++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var frames []uint64
	for i := 0; i < pages; i++ {
		alloc := m.Alloc
		if i >= 40 && i < 44 {
			alloc = m.AllocTable
		}
		pa, err := alloc()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if pa != uint64(i)*PageSize {
			t.Fatalf("frame %d at %#x: the test wants them in order", i, pa)
		}
		m.Page(pa)[100] = 0xee
		frames = append(frames, pa)
	}
	// Every other frame of 0..15 returned: no run of 2.
	for i := 0; i < 16; i += 2 {
		m.Free(frames[i])
	}
	if _, err := m.AllocRun(2); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("AllocRun(2) with no two free frames side by side: %v, want ErrNoMemory", err)
	}
	// Frames 20..23 returned (warm: they keep their bytes until reused).
	for i := 20; i < 24; i++ {
		m.Free(frames[i])
	}
	pa, err := m.AllocRun(4)
	if err != nil {
		t.Fatalf("AllocRun(4) with frames 20..23 free: %v", err)
	}
	if pa != frames[20] {
		t.Fatalf("AllocRun(4) = %#x, want frame 20 (%#x)", pa, frames[20])
	}
	for i := 20; i < 24; i++ {
		if m.Refs(frames[i]) != 1 || !allZero(m.Page(frames[i])) {
			t.Fatalf("frame %d of the run: %d refs, zero %v", i, m.Refs(frames[i]), allZero(m.Page(frames[i])))
		}
	}
	// The run's frames are no longer free: single frames come from 0..15.
	for i := 0; i < 8; i++ {
		f, err := m.Alloc()
		if err != nil {
			t.Fatal(err)
		}
		if f >= frames[16] || f%(2*PageSize) != 0 {
			t.Fatalf("Alloc after the run = %#x, want an even frame below 16", f)
		}
	}
	// The table frames 40..43, retired: a run only after a drop.
	for i := 40; i < 44; i++ {
		m.FreeTable(frames[i])
	}
	if pa, err = m.AllocRun(4); err != nil || pa != frames[40] {
		t.Fatalf("AllocRun(4) with table frames 40..43 retired: %#x, %v; want frame 40", pa, err)
	}
	if drops != 1 || m.Reclaims() != 1 {
		t.Fatalf("%d slot deletions, %d reclaims; want one drop", drops, m.Reclaims())
	}
	for i := 40; i < 44; i++ {
		if !allZero(m.Page(frames[i])) {
			t.Fatalf("reclaimed frame %d not zero", i)
		}
	}
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// TestRetiredBatched: retired page-table frames stay resident until
// RetiredResident of them have gathered, then all go back to the host at
// once; before that, a frame that needs new host memory past the limit
// gives them back first, so resident frames never exceed the limit.
func TestRetiredBatched(t *testing.T) {
	const pages = 2 * RetiredResident
	m, err := NewMemory(pages * PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	table := func() uint64 {
		t.Helper()
		pa, err := m.AllocTable()
		if err != nil {
			t.Fatal(err)
		}
		m.Page(pa)[8] = 0x27 // an entry: the frame is resident now
		return pa
	}
	var tables []uint64
	for i := 0; i < RetiredResident-1; i++ {
		tables = append(tables, table())
	}
	for _, pa := range tables {
		m.FreeTable(pa)
	}
	for _, pa := range tables {
		if !resident(t, m, pa) {
			t.Fatalf("retired frame %#x given back before %d gathered", pa, RetiredResident)
		}
	}
	last := table()
	m.FreeTable(last)
	for _, pa := range append(tables, last) {
		if resident(t, m, pa) {
			t.Fatalf("retired frame %#x still resident with %d retired", pa, RetiredResident)
		}
	}

	// Below the bound, with a limit: 8 retired frames resident, and the
	// guest's frames up to the limit.
	m2, err := NewMemory(64 * PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if err := m2.SetLimit(16 * PageSize); err != nil {
		t.Fatal(err)
	}
	var t2 []uint64
	for i := 0; i < 8; i++ {
		pa, err := m2.AllocTable()
		if err != nil {
			t.Fatal(err)
		}
		m2.Page(pa)[8] = 0x27
		t2 = append(t2, pa)
	}
	for _, pa := range t2 {
		m2.FreeTable(pa)
	}
	for i := 0; i < 16; i++ {
		pa, err := m2.Alloc()
		if err != nil {
			t.Fatalf("frame %d of 16 under the limit: %v", i, err)
		}
		m2.Page(pa)[0] = 1
		if n := m2.used + uint64(len(m2.warm)+len(m2.retiredResident)) + m2.charged; n > 16 {
			t.Fatalf("%d frames resident by the count after frame %d, limit 16", n, i)
		}
	}
	for _, pa := range t2 {
		if resident(t, m2, pa) {
			t.Fatalf("retired frame %#x still resident with the guest at its limit", pa)
		}
	}
}

// TestHold: the frames the holding thread frees are handed out to no one
// until Unhold (the fast path's server: their translations may be live
// until its call's end); another thread's frees are not parked (an OOM
// victim's memory); and an allocation that would run out takes the
// parked frames rather than fail.
func TestHold(t *testing.T) {
	const pages = 64
	m, err := NewMemory(pages * PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	runtime.LockOSThread() // Hold is the thread's
	defer runtime.UnlockOSThread()
	var frames []uint64
	for {
		pa, err := m.Alloc()
		if err != nil {
			break
		}
		frames = append(frames, pa)
	}
	if len(frames) < 8 {
		t.Fatalf("%d frames", len(frames))
	}
	m.Hold()
	held, other := frames[0], frames[1]
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // another host thread
		defer runtime.UnlockOSThread()
		m.Free(other)
		close(done)
	}()
	<-done
	m.Free(held) // the newest free frame, the first handed out unparked
	pa, err := m.Alloc()
	if err != nil || pa != other {
		t.Fatalf("allocation with one frame freed by another thread: %#x, %v; want %#x", pa, err, other)
	}
	// Nothing else is free: the parked frame is taken, not ErrNoMemory.
	pa, err = m.Alloc()
	if err != nil || pa != held {
		t.Fatalf("allocation with only the parked frame left: %#x, %v; want %#x", pa, err, held)
	}
	m.Free(frames[2])
	m.Unhold()
	if pa, err := m.Alloc(); err != nil || pa != frames[2] {
		t.Fatalf("after Unhold: %#x, %v; want the frame parked, %#x", pa, err, frames[2])
	}
}
