// Package ept owns guest-physical memory and the x86-64 page tables the VMM
// builds in it: memory slots over a memfd, a frame allocator, 4-level page
// tables, and the protocol that keeps the guest's TLB (or the hypervisor's
// shadow of the tables) consistent with them.
//
// Invariants:
//   - Guest-physical memory is one memfd, mapped shared into the VMM and
//     registered at guest-physical 0 as KVM slots 0..ramSlots-1, each
//     piece (ramPiece) once the allocator first hands out a frame in it:
//     KVM keeps per-page metadata for a slot's whole size, which it
//     allocates, zeroes and frees with the slot (~0.6 ms at start for the
//     default 1 GiB here), and most guests use a few MiB. The guest never
//     touches a frame not handed out, so an unregistered piece is never
//     reached; with StartSlots the first piece's registration may still
//     be under way while its frames are handed out, and no vCPU runs
//     before SlotsReady has returned nil. The host kernel fills the memfd lazily; a frame the guest
//     never touched costs no host memory.
//   - A frame has a reference count: 1 from Alloc, +1 for every further
//     owner (Ref; fork shares private pages copy-on-write). Free drops one
//     reference; the last one returns the frame. A frame is zero whenever
//     the allocator hands it out: fresh frames are zero; a returned frame is
//     kept resident (at most WarmFrames of them: warm) and zeroed when it
//     is handed out again, not when it is returned (most of what a guest
//     frees when it ends is never reused: python3 -c pass freed ~1150
//     frames that way), or hole-punched, which both gives it back to the
//     host and makes it read back as zero.
//   - A frame that has been a page table is not handed out again until
//     the hypervisor has dropped every shadow page (FreeTable retires it;
//     reclaimTables): a shadow MMU could still hold a shadow of its old
//     entries, and keep it write-protected. Only frames of tables no vCPU
//     can reach any more are retired (a whole address space, or a
//     vCPU's root after it left), so no shadow of them is made after
//     they are retired, and one flush of every shadow makes the frames
//     retired before it as good as never used. A retired frame's host
//     memory goes back to the host (hole-punched) in batches: up to
//     RetiredResident of them stay resident (retiredResident) until then,
//     counted with the warm frames against the limit.
//   - Guest-physical addresses at and above WindowBase are not RAM: they
//     are windows onto host files (filemap.go), never allocated or freed
//     here.
//   - Host memory held for the guest stays within the limit (the size
//     until SetLimit lowers it): resident RAM frames (used + warm +
//     retired frames not yet given back) plus what the personality
//     charged for buffers it holds for the guest in the host kernel
//     (pipes: Charge) never exceed it. Alloc refuses a frame that would
//     need new host memory beyond it; Charge and SetLimit give retired
//     and warm frames back to the host to make room.
//   - Memory is shared by every task of the VM (fork shares frames), so its
//     allocator, reference counts and file windows are guarded by mu, a
//     leaf lock (taken last: after any guestmm lock). The bytes of a frame
//     belong to whoever holds a reference, and need no lock here.
package ept

import (
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// PageSize is the size of a base page.
const PageSize = 4096

// ErrNoMemory means the guest has used all the memory --mem gave it.
var ErrNoMemory = errors.New("guest physical memory exhausted")

// Memory is the guest-physical address space [0, Size).
type Memory struct {
	fd   int
	host []byte
	size uint64
	// limit is the budget in bytes (Size; SetLimit), at most size.
	limit uint64
	// next is the lowest frame never handed out; free holds returned
	// frames given back to the host (hole-punched), warm returned frames
	// kept resident and zeroed for quick reuse.
	next uint64
	free []uint64
	warm []uint64
	// retired holds freed frames that were page tables (AllocTable),
	// until reclaimTables makes them free frames again; retiredResident
	// those of them still resident (not hole-punched yet: punchRetired).
	retired         []uint64
	retiredResident []uint64
	// reclaims counts the shadow flushes that reclaimed retired frames.
	reclaims int
	wasTable []bool // by frame number, below next
	used     uint64
	refs     []uint32 // by frame number, below next
	// charged is pages of host memory the personality holds for the
	// guest outside guest-physical memory (Charge).
	charged uint64
	// registered is the end of the RAM registered with the hypervisor
	// (register): whole pieces, at least up to next; StartSlots' once
	// slotsDone is closed (slotsErr nil).
	registered uint64
	slotsDone  chan struct{}
	slotsErr   error
	// populated is the end of the never-used frames made resident ahead
	// (alloc: a prefaultChunk from the first frame at or past it).
	populated uint64
	// frameNS is the measured host cost of making a frame resident, ns
	// per page, fixed point x16 (0: none measured yet): FrameNS. Atomic:
	// read without mu.
	frameNS atomic.Int64

	mu sync.Mutex

	files fileWindows

	// refault is the madvise that faults the VMM's view of RAM frames
	// back in after Invalidate dropped it (probeRefault).
	refault int

	// holder (Hold): the host thread whose freed frames are parked, not
	// handed out again, until Unhold (0: none).
	holder int
	parked []uint64
}

// NewMemory creates size bytes (rounded up to a page) of guest-physical memory.
func NewMemory(size uint64) (*Memory, error) {
	size = (size + PageSize - 1) &^ (PageSize - 1)
	if size < 16*PageSize {
		return nil, fmt.Errorf("guest memory size %d too small", size)
	}
	fd, err := unix.MemfdCreate("kshim-guest-ram", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("sizing guest memory to %d bytes: %w", size, err)
	}
	host, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_NORESERVE)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mapping guest memory: %w", err)
	}
	m := &Memory{fd: fd, host: host, size: size, limit: size}
	m.files.init(size)
	m.refault = m.probeRefault()
	return m, nil
}

// probeRefault picks how Invalidate maps the VMM's view of RAM frames
// back in. The pages are still in the memfd, so a read fault finds them,
// and the host maps up to 16 neighbours with it (fault-around); on a
// shared memfd mapping, which needs no dirty tracking, those entries are
// writable (measured here: 16 pages in ~6 µs against ~15 µs by write
// faults, and no fault when the VMM or KVM then writes). Whether the
// entries come back writable is measured on the last frame (the
// allocator hands it out last): refault it by a read, store to it, and
// count this thread's minor faults. A host where the store faulted (or
// without MADV_POPULATE_READ) keeps write faults, so KVM and the VMM
// never take a host fault on a frame Invalidate touched.
func (m *Memory) probeRefault() int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := m.host[m.size-PageSize:]
	defer func() {
		_ = unix.Fallocate(m.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(m.size-PageSize), PageSize)
	}()
	if unix.Madvise(p, unix.MADV_POPULATE_WRITE) != nil || unix.Madvise(p, unix.MADV_DONTNEED) != nil ||
		unix.Madvise(p, unix.MADV_POPULATE_READ) != nil {
		return unix.MADV_POPULATE_WRITE
	}
	var before, after unix.Rusage
	if unix.Getrusage(unix.RUSAGE_THREAD, &before) != nil {
		return unix.MADV_POPULATE_WRITE
	}
	storeByte(&p[0])
	if unix.Getrusage(unix.RUSAGE_THREAD, &after) != nil || after.Minflt != before.Minflt {
		return unix.MADV_POPULATE_WRITE
	}
	return unix.MADV_POPULATE_READ
}

// storeByte writes 0 to *b, a store the compiler keeps.
//
//go:noinline
func storeByte(b *byte) { *b = 0 }

// Close releases the memory. The Memory must not be used afterwards.
func (m *Memory) Close() error {
	m.SlotsReady() // StartSlots' goroutine is done with the mapping
	m.files.closeAll()
	var err error
	if m.host != nil {
		err = unix.Munmap(m.host)
		m.host = nil
	}
	if m.fd >= 0 {
		if cerr := unix.Close(m.fd); err == nil {
			err = cerr
		}
		m.fd = -1
	}
	return err
}

// Size returns the guest's memory in bytes: the limit (SetLimit), which
// is the size of guest-physical memory unless lowered.
func (m *Memory) Size() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.limit
}

// Reserved returns the size of guest-physical memory (the KVM slot).
func (m *Memory) Reserved() uint64 { return m.size }

// ErrLimitInUse: a limit below what the guest holds now.
var ErrLimitInUse = errors.New("below the memory the guest uses")

// SetLimit changes the guest's memory budget to n bytes (rounded up to
// a page), at most the reserved size; ErrLimitInUse when the guest's
// frames and charges already exceed it (nothing is taken away). Warm
// frames beyond it go back to the host.
func (m *Memory) SetLimit(n uint64) error {
	n = (n + PageSize - 1) &^ (PageSize - 1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if n > m.size {
		return fmt.Errorf("%d bytes is above the %d reserved for the guest", n, m.size)
	}
	if m.used+m.charged > n/PageSize {
		return fmt.Errorf("%d bytes: %w (%d bytes)", n, ErrLimitInUse, (m.used+m.charged)*PageSize)
	}
	m.limit = n
	m.trimWarm()
	return nil
}

// trimWarm gives retired and warm frames back to the host until used,
// warm, resident retired and charged pages fit the limit. m.mu held.
func (m *Memory) trimWarm() {
	if len(m.retiredResident) > 0 && m.used+uint64(len(m.warm)+len(m.retiredResident))+m.charged > m.limit/PageSize {
		m.punchRetired()
	}
	for len(m.warm) > 0 && m.used+uint64(len(m.warm))+m.charged > m.limit/PageSize {
		pa := m.warm[len(m.warm)-1]
		m.warm = m.warm[:len(m.warm)-1]
		if err := unix.Fallocate(m.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(pa), PageSize); err != nil {
			clear(m.host[pa : pa+PageSize]) // stays zero either way
		}
		m.free = append(m.free, pa)
	}
}

// HostAddr returns the VMM address where guest-physical 0 is mapped.
func (m *Memory) HostAddr() uintptr { return uintptrOf(m.host) }

// Used returns how many bytes of frames are allocated, plus the bytes
// charged for buffers held for the guest (Charge).
func (m *Memory) Used() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return (m.used + m.charged) * PageSize
}

// Charge counts n bytes (rounded up to pages) of host memory held for the
// guest outside guest-physical memory (pipe buffers) against the same
// budget as its frames. It fails with ErrNoMemory when frames in use plus
// charges would exceed the size; warm frames are given back to the host
// to make room.
func (m *Memory) Charge(n uint64) error {
	pages := (n + PageSize - 1) / PageSize
	m.mu.Lock()
	defer m.mu.Unlock()
	if pages > m.limit/PageSize || m.used+m.charged+pages > m.limit/PageSize {
		return ErrNoMemory
	}
	m.charged += pages
	m.trimWarm()
	return nil
}

// ChargeOver is Charge without the limit: the memory is already held
// (a tmpfs's pages, counted after they were written). Past the size,
// frame allocations fail until enough is uncharged or freed.
func (m *Memory) ChargeOver(n uint64) {
	pages := (n + PageSize - 1) / PageSize
	m.mu.Lock()
	defer m.mu.Unlock()
	m.charged += pages
	m.trimWarm()
}

// Uncharge returns what Charge(n) took.
func (m *Memory) Uncharge(n uint64) {
	pages := (n + PageSize - 1) / PageSize
	m.mu.Lock()
	defer m.mu.Unlock()
	if pages > m.charged {
		panic(fmt.Sprintf("ept: uncharge of %d pages with %d charged", pages, m.charged))
	}
	m.charged -= pages
}

// RetiredResident bounds the retired page-table frames kept resident
// before they go back to the host in one batch (punchRetired): 4 MiB.
// Each hole punch is a host call that also reaches KVM's MMU notifier,
// ~20 µs here, and a process's tables are ~10-20 frames: the busybox
// pipeline's ends and execs punched 63 of them one by one (~1.4 ms of
// its ~35 ms of CPU), on the exit and execve paths its parent waits for.
// Short runs now give none back (the machine's close frees them), long
// ones a batch per 1024 retired frames.
const RetiredResident = 1024

// WarmFrames bounds the freed frames kept resident (zeroed at reuse)
// instead of being given back to the host: 32 MiB. A frame the host must
// first allocate costs the guest's first touch several microseconds on a
// shadow-paging host; a resident one about one.
const WarmFrames = 8192

// RAM's KVM slots: piece 0 is [0, ramPiece0), piece i > 0 is
// [ramPiece0<<(i-1), ramPiece0<<i), the last one up to the end of memory;
// piece i is slot i. The file windows' slots follow (filemap.go).
const (
	ramPiece0 = 64 << 20
	ramSlots  = 16
)

// ramPiece returns the slot and range of the RAM piece holding pa, in
// memory of size bytes.
func ramPiece(pa, size uint64) (slot uint32, start, end uint64) {
	i := bits.Len64(pa / ramPiece0) // 0 below ramPiece0
	switch {
	case i == 0:
		start, end = 0, ramPiece0
	case i >= ramSlots-1:
		i, start, end = ramSlots-1, ramPiece0<<(ramSlots-2), size
	default:
		start, end = ramPiece0<<(i-1), ramPiece0<<i
	}
	return uint32(i), start, min(end, size)
}

// register makes sure the RAM below end is registered with the hypervisor
// (with no slot function, as in unit tests, there is nothing to do).
// Called with mu held, before a frame at or past registered is handed out.
func (m *Memory) register(end uint64) error {
	for m.files.setSlot != nil && m.registered < min(end, m.size) {
		slot, start, pend := ramPiece(m.registered, m.size)
		if err := m.files.setSlot(slot, start, pend-start, uintptrOf(m.host)+uintptr(start), false); err != nil {
			// Out of memory slots is the guest running out of memory.
			return fmt.Errorf("%w: registering guest memory [%#x, %#x): %v", ErrNoMemory, start, pend, err)
		}
		m.registered = pend
	}
	return nil
}

// prefaultChunk is how much never-used memory is made resident at once:
// 16 pages amortise the call (measured here: ~2.5 µs a page for runs of
// 16, 64 or 256 pages, ~4 µs one page at a time), and what is made
// resident and never handed out is at most 15 pages. A run made resident
// is paid twice, at the populate and when the memfd is freed at exit
// (~1 µs a page), so 256 KiB chunks left ~20-100 pages never handed out
// at every run (more than a static hello's guest used).
const prefaultChunk = 64 << 10

// zeroChunk is what populate writes into never-used frames.
var zeroChunk [prefaultChunk]byte

// Alloc returns a zeroed frame with one reference for guest data: a
// recently freed resident one first, then one given back to the host
// earlier, then a never-used one (made resident a chunk at a time, ahead of
// use). Frames that were page tables are not handed out (FreeTable).
func (m *Memory) Alloc() (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.alloc(true)
}

// AllocLazy is Alloc for a frame that is seldom written (most of a vCPU's
// flush area): a never-used frame is not made resident ahead, nor does it
// make the next chunk resident; the host fills it at its first write.
// Taken before a vCPU's other frames, such frames stay out of the chunk
// its next Alloc populates for the guest.
func (m *Memory) AllocLazy() (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.alloc(false)
}

// AllocTable returns a zeroed frame for a page table: never one that was
// a page table before the last flush of every shadow. A shadow MMU keeps
// its shadow of a guest page table by frame and learns of changes only
// from guest writes; a frame reused as a table with entries the VMM wrote
// could meet a stale shadow. Nor can such a frame serve guest data: it may
// still be write-protected, and a guest store the hypervisor cannot
// emulate (an AVX-512 one) then ends the VM (KVM internal error). So
// FreeTable keeps them out of use (retired), an exited process's
// page-table frames, tens of KiB each, until reclaimTables.
func (m *Memory) AllocTable() (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.alloc(true)
}

func (m *Memory) alloc(ahead bool) (uint64, error) {
	pa, err := m.alloc1(ahead)
	if errors.Is(err, ErrNoMemory) && len(m.parked) != 0 {
		// The holder's frames (Hold), before running out: every entry
		// that mapped one has changed already (frames are freed
		// after), so with their translations dropped now they are
		// free.
		if err := m.invalidateLocked(m.parked); err != nil {
			return 0, err
		}
		m.releaseParked()
		return m.alloc1(ahead)
	}
	return pa, err
}

func (m *Memory) alloc1(ahead bool) (uint64, error) {
	var pa uint64
	if n := len(m.warm); n > 0 {
		pa, m.warm = m.warm[n-1], m.warm[:n-1]
		clear(m.host[pa : pa+PageSize]) // returned as it was (free1)
	} else if m.used+m.charged >= m.limit/PageSize {
		// No warm frame: any other needs new host memory, beyond the
		// budget once charges are counted.
		return 0, ErrNoMemory
	} else if m.used+m.charged+uint64(len(m.retiredResident)) >= m.limit/PageSize && m.punchRetired() {
		// Room made: retried below with the retired frames given back.
		return m.alloc1(ahead)
	} else if len(m.free) > 0 || (m.next+PageSize > m.size && m.reclaimTables()) {
		pa, m.free = m.free[len(m.free)-1], m.free[:len(m.free)-1]
	} else {
		if m.next+PageSize > m.size {
			return 0, ErrNoMemory
		}
		if err := m.register(m.next + PageSize); err != nil {
			return 0, err
		}
		pa = m.next
		if ahead && pa >= m.populated {
			m.populated = min(pa+prefaultChunk, m.size)
			m.populate(pa, m.populated)
		}
		m.next += PageSize
		m.refs = append(m.refs, 0)
		m.wasTable = append(m.wasTable, false)
	}
	m.used++
	m.refs[pa/PageSize] = 1
	return pa, nil
}

// populate makes the never-used frames [pa, end) resident (best effort:
// MADV_POPULATE_WRITE needs Linux 5.14) and keeps the least that cost a
// page (FrameNS): a preempted call only ever costs more. m.mu held.
//
// Where a read fault leaves a memfd page writable (probeRefault), the
// frames are written into the memfd (zeros: what a never-used frame
// holds anyway) and then mapped by a read populate: the write makes the
// pages without the per-page write-fault path, and the read maps 16 at
// a time (fault-around). Measured here: ~2.6 µs a page against ~3.2 µs
// by MADV_POPULATE_WRITE (medians of 40 interleaved rounds of 64
// chunks), with the VMM's and KVM's later writes taking no host fault
// either way.
func (m *Memory) populate(pa, end uint64) {
	t0 := time.Now()
	if m.refault == unix.MADV_POPULATE_READ && end-pa <= uint64(len(zeroChunk)) {
		if n, err := unix.Pwrite(m.fd, zeroChunk[:end-pa], int64(pa)); err != nil || uint64(n) != end-pa ||
			unix.Madvise(m.host[pa:end], unix.MADV_POPULATE_READ) != nil {
			return
		}
	} else if unix.Madvise(m.host[pa:end], unix.MADV_POPULATE_WRITE) != nil {
		return
	}
	n := int64((end - pa) / PageSize)
	if n < 8 {
		return // mostly the call, not the pages
	}
	per := time.Since(t0).Nanoseconds() * 16 / n
	if old := m.frameNS.Load(); old == 0 || per < old {
		m.frameNS.Store(per)
	}
}

// FrameNS returns the measured host cost, in ns, of making a never-used
// frame resident (0: not measured yet): what a zero page mapped ahead of
// the guest costs beyond its entry (guestmm's policy). Freeing it at the
// end costs the host about a third of that again, which is not measured
// here (it happens when the machine is gone).
func (m *Memory) FrameNS() float64 { return float64(m.frameNS.Load()) / 16 }

// FreeTable returns a frame that held a page table; it will only be
// reused for guest data.
func (m *Memory) FreeTable(pa uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checkFrame(pa, "free table")
	m.wasTable[pa/PageSize] = true
	m.free1(pa)
}

// reclaimTables makes the retired frames free frames again, once the
// hypervisor has dropped every shadow page (fileWindows.dropShadows), and
// reports whether it freed any. It runs only when guest-physical memory
// has no never-used frame left: retired frames cost no host memory (they
// are hole-punched), and the flush makes every vCPU rebuild its shadow
// tables, so it is paid once per that many frames (with the default 1G,
// ~24,000 ended processes), not per exit. m.mu held: no frame is retired
// while it runs, so every frame it frees was retired before the flush.
func (m *Memory) reclaimTables() bool {
	if len(m.retired) == 0 {
		return false
	}
	if err := m.files.dropShadows(m.host); err != nil {
		return false // stay out of memory, as without retired frames
	}
	m.punchRetired() // free frames read as zero and hold no host memory
	m.reclaims++
	for _, pa := range m.retired {
		m.wasTable[pa/PageSize] = false
	}
	m.free = append(m.free, m.retired...)
	m.retired = m.retired[:0]
	return true
}

// Reclaims returns how many times retired page-table frames were
// reclaimed (reclaimTables).
func (m *Memory) Reclaims() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reclaims
}

// AllocRun returns n consecutive zeroed frames, each with one reference
// (for multi-page areas the VMM views as one slice: a new vCPU's): never-
// used ones while there are enough, else a run of returned ones
// (allocFreedRun). Once a guest has touched all of its memory (which
// reclaimTables makes the normal state of a long run), never-used frames
// are gone for good, and a vCPU beyond the most the guest had at once
// must still be had (a fork after thousands of ended processes).
func (m *Memory) AllocRun(n int) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	size := uint64(n) * PageSize
	if m.next+size > m.size {
		return m.allocFreedRun(n)
	}
	if (m.used+uint64(len(m.warm)+len(m.retiredResident))+m.charged)*PageSize+size > m.limit {
		m.punchRetired()
	}
	if (m.used+uint64(len(m.warm))+m.charged)*PageSize+size > m.limit {
		return 0, ErrNoMemory
	}
	if err := m.register(m.next + size); err != nil {
		return 0, err
	}
	pa := m.next
	for i := 0; i < n; i++ {
		m.refs = append(m.refs, 1)
		m.wasTable = append(m.wasTable, false)
	}
	m.next += size
	m.used += uint64(n)
	return pa, nil
}

// allocFreedRun is AllocRun once never-used frames are too few: n
// consecutive returned frames (warm or free; a retired one only after a
// drop of every shadow has made it free, reclaimTables), zeroed. It
// scans every frame, which is paid only for a vCPU beyond the most the
// guest had before. The budget is alloc's: frames in use and charges;
// warm frames past it go back to the host. m.mu held.
func (m *Memory) allocFreedRun(n int) (uint64, error) {
	if m.used+m.charged+uint64(n) > m.limit/PageSize {
		return 0, ErrNoMemory
	}
	pa, ok := m.findFreedRun(n)
	if !ok && m.reclaimTables() {
		pa, ok = m.findFreedRun(n)
	}
	if !ok {
		return 0, ErrNoMemory
	}
	end := pa + uint64(n)*PageSize
	in := func(f uint64) bool { return f >= pa && f < end }
	m.warm = slices.DeleteFunc(m.warm, in)
	m.free = slices.DeleteFunc(m.free, in)
	clear(m.host[pa:end]) // warm frames hold what they held (free1)
	for f := pa; f < end; f += PageSize {
		m.refs[f/PageSize] = 1
	}
	m.used += uint64(n)
	m.trimWarm()
	return pa, nil
}

// findFreedRun returns the first of n consecutive frames that are warm or
// free. m.mu held.
func (m *Memory) findFreedRun(n int) (uint64, bool) {
	avail := make([]bool, m.next/PageSize)
	for _, f := range m.warm {
		avail[f/PageSize] = true
	}
	for _, f := range m.free {
		avail[f/PageSize] = true
	}
	run := 0
	for i, ok := range avail {
		if !ok {
			run = 0
			continue
		}
		if run++; run == n {
			return uint64(i+1-n) * PageSize, true
		}
	}
	return 0, false
}

func (m *Memory) checkFrame(pa uint64, op string) {
	if pa%PageSize != 0 || pa >= m.next || m.refs[pa/PageSize] == 0 {
		panic(fmt.Sprintf("ept: %s of bad frame %#x", op, pa))
	}
}

// Ref adds an owner to an allocated frame.
func (m *Memory) Ref(pa uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checkFrame(pa, "ref")
	m.refs[pa/PageSize]++
}

// Refs returns the number of owners of an allocated frame (0 for a free
// frame or a file window address).
func (m *Memory) Refs(pa uint64) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if pa >= m.next {
		return 0
	}
	return int(m.refs[pa/PageSize])
}

// Free drops one reference to a frame. When the last goes, the frame is
// kept for reuse (zeroed then) if fewer than WarmFrames are kept, else its
// memory goes back to the host at once (hole-punched), so a long-running
// guest that unmaps memory does not keep it.
func (m *Memory) Free(pa uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checkFrame(pa, "free")
	m.free1(pa)
}

func (m *Memory) free1(pa uint64) {
	if m.refs[pa/PageSize]--; m.refs[pa/PageSize] != 0 {
		return
	}
	if m.holder != 0 && unix.Gettid() == m.holder {
		m.parked = append(m.parked, pa)
		return
	}
	m.release1(pa)
}

// Hold parks the frames the calling host thread frees until Unhold,
// which frees them: the fast syscall path's server (vmm/fast.go) runs a
// memory call while the task's vCPU runs, which may still hold
// translations of the frames the call frees until the call's end
// invalidates them (PageTable.EndOp); no other task may get them before.
// A frame parked has no reference left and counts as used; one Hold at a
// time. Other threads' frees go on (an OOM victim's memory).
func (m *Memory) Hold() {
	m.mu.Lock()
	m.holder = unix.Gettid()
	m.mu.Unlock()
}

// Unhold ends the Hold and frees the frames parked.
func (m *Memory) Unhold() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.holder = 0
	m.releaseParked()
}

// releaseParked frees the parked frames. m.mu held, and they must be
// invalidated: by the caller (Unhold: the operation's end did), or here.
func (m *Memory) releaseParked() {
	for _, pa := range m.parked {
		m.release1(pa)
	}
	m.parked = m.parked[:0]
}

// release1 makes frame pa, with no reference left, free. m.mu held.
func (m *Memory) release1(pa uint64) {
	m.used--
	if m.wasTable[pa/PageSize] {
		// Not handed out again before reclaimTables, so its memory can
		// go back to the host: with others, later (RetiredResident).
		m.retired = append(m.retired, pa)
		m.retiredResident = append(m.retiredResident, pa)
		if len(m.retiredResident) >= RetiredResident {
			m.punchRetired()
		}
		return
	}
	if len(m.warm) < WarmFrames {
		m.warm = append(m.warm, pa) // zeroed when handed out again (alloc)
		return
	}
	// A failed punch (old kernel, no support) must not leave stale data in a
	// frame that will be handed out as zero.
	if err := unix.Fallocate(m.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(pa), PageSize); err != nil {
		clear(m.host[pa : pa+PageSize])
	}
	m.free = append(m.free, pa)
}

// punchRetired gives the resident retired frames back to the host, a hole
// punch per run of consecutive frames (they then read as zero, as free
// frames must), and reports whether there were any. m.mu held.
func (m *Memory) punchRetired() bool {
	fs := m.retiredResident
	if len(fs) == 0 {
		return false
	}
	slices.Sort(fs)
	for i := 0; i < len(fs); {
		j := i + 1
		for j < len(fs) && fs[j] == fs[j-1]+PageSize {
			j++
		}
		start, end := fs[i], fs[j-1]+PageSize
		if err := unix.Fallocate(m.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(start), int64(end-start)); err != nil {
			clear(m.host[start:end]) // zero, if still resident
		}
		i = j
	}
	m.retiredResident = fs[:0]
	return true
}

// Page returns the VMM's view of the page at pa: a RAM frame, or a page of
// a file window.
func (m *Memory) Page(pa uint64) []byte {
	if pa >= m.files.base {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.files.page(pa)
	}
	return m.host[pa : pa+PageSize : pa+PageSize]
}

// Slice returns the VMM's view of [pa, pa+n), which must lie in memory.
func (m *Memory) Slice(pa, n uint64) []byte {
	return m.host[pa : pa+n : pa+n]
}
