// filemap.go: windows of guest-physical address space onto host files.
//
// A shared file mapping must be coherent with read(2)/write(2) on the same
// file, by the guest or by anyone on the host. Copying pages in and out
// cannot give that, so the guest's page tables point straight at the host
// page cache instead: a window is a range of guest-physical addresses above
// RAM, registered as a KVM memory slot of its own over a host
// mmap(MAP_SHARED) of the file. Private file mappings read through the same
// windows until a write copies the page into RAM (copy-on-write).
//
// Windows live in *arenas*: one KVM memory slot over a host address range
// reserved once (PROT_NONE) and never deleted, into which each window's
// file range is mapped (MAP_FIXED) and, when released, replaced by the
// reservation again. Creating or deleting a KVM slot costs milliseconds
// (the memslot update waits for SRCU readers, and deleting one zaps every
// shadow page of the VM on a shadow-paging host), where a host mmap costs
// microseconds and KVM's MMU notifier drops just the translations of the
// range it replaces. A program that maps and unmaps many small files (git
// reading loose objects) paid a slot creation and deletion, with the
// whole VM's shadow rebuilt after, for each (7.6 ms per mmap/munmap of a
// one-page file, against 8 µs natively).
//
// Invariants:
//   - A window covers WindowChunk bytes of one file, at a WindowChunk-aligned
//     file offset, at guest-physical base + g*WindowChunk, g its index.
//     Arena k holds arenaSize(k) windows (64 MiB for the first, doubling
//     up to 1 GiB: KVM's per-page metadata for a slot's whole size cost
//     ~0.6 ms at start for a 1 GiB one here), the windows g of [a.first,
//     a.first+a.n), as KVM slot ramSlots+k (RAM's pieces come first:
//     memory.go), never over APICPage (the windows an arena skips for
//     it are in none); its windows are all read-only or all writable (the
//     slot's flag). An arena's slot lives as long as the Memory (the
//     VM, which goes first, takes it along: closeAll); a free
//     window's range is the reservation (no host page). StartSlots adds
//     the first, read-only arena before its slot is registered (on its
//     goroutine): no vCPU runs before SlotsReady.
//   - One MappedFile per host file and access mode: every mapping of the
//     file shares its windows, so windows in use grow with the distinct
//     file ranges mapped, not with the number of mmap calls.
//   - A MappedFile and its windows live until its last reference is
//     released; the memory manager releases it only when no page-table
//     entry points into its windows any more, so a window's range is never
//     given to another file under a live translation.
//   - At most fileWindows.max windows are open at once (windowCap): each
//     is a host mapping of its own and may split its arena's reservation,
//     so without a bound a guest touching one page every other 2 MiB of a
//     large file mapping used up the host's mapping count
//     (vm.max_map_count), and kshim's own next mmap (its Go heap's
//     growth) failed: a crash. Past it a fault finds ErrNoMemory (the OOM
//     path), as when an arena's slot cannot be had.
//   - The VMM touches a window page only after checking that the page
//     starts before end of file (guestmm's beyondEOF); a truncation by
//     another host process in between is caught as a memory fault by the
//     copy routine (guestmm), never a crash.
package ept

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// WindowChunk is the size of one file window: one page table's span, so
// a file fault-around (at most one page table, within one window) is not
// cut short by the window, and a small file takes little of an arena.
const WindowChunk = 2 << 20

// arenaWindows is the number of windows in the largest arena (1 GiB): KVM
// keeps per-page metadata for a slot's whole size (8 bytes a page for the
// shadow MMU's reverse map), so arenas are added as windows are needed,
// small first (arenaSize).
const arenaWindows = 512

// arenaSize is the number of windows of arena k: 32 (64 MiB) for the first,
// doubling up to arenaWindows.
func arenaSize(k int) int { return arenaWindows >> max(4-k, 0) }

// APICPage is the guest-physical page of the local APIC (its default
// base). When the vCPUs have KVM's local APIC (vmm's splitIRQChip), KVM
// may keep a memory slot of its own there (VMX's APIC access page with
// FlexPriority, AVIC's), and a slot of kshim's over it would fail: vmm
// gives the vCPUs one only when RAM ends below it, and no arena covers it
// (clearOfAPIC).
const APICPage = 0xfee00000

// clearOfAPIC returns g, or when the windows [g, g+n) would cover
// APICPage, the first window past it: the windows between are in no
// arena, so nothing hands them out.
func (w *fileWindows) clearOfAPIC(g, n int) int {
	lo := w.base + uint64(g)*WindowChunk
	if lo <= APICPage && APICPage < lo+uint64(n)*WindowChunk {
		return int((APICPage + WindowChunk - w.base) / WindowChunk)
	}
	return g
}

// SlotFunc registers (size > 0) or deletes (size == 0) KVM memory slot
// slot at gpa over the VMM's memory at host.
type SlotFunc func(slot uint32, gpa, size uint64, host uintptr, readonly bool) error

type fileKey struct {
	dev, ino uint64
	writable bool
}

type window struct {
	file *MappedFile
	host []byte
	gpa  uint64
	idx  int // g: its place in fileWindows.slots
}

// arena is one KVM slot holding the windows [first, first+n).
type arena struct {
	host     []byte // the reserved range, n*WindowChunk
	first, n int
	writable bool
	slot     uint32 // its KVM slot, at guest-physical gpa
	gpa      uint64
}

type fileWindows struct {
	base   uint64
	byKey  map[fileKey]*MappedFile
	slots  []*window // by window index g; nil is free
	arenas []*arena  // in order of their windows (arenaOf)
	// open counts the slots in use (their ranges host-mapped to a file),
	// at most max.
	open, max int
	// setSlot tells the hypervisor; nil (unit tests) keeps windows VMM-only.
	setSlot SlotFunc
}

func (w *fileWindows) init(ramSize uint64) {
	const align = 1 << 30
	w.base = (ramSize + align - 1) &^ (align - 1)
	w.byKey = map[fileKey]*MappedFile{}
	w.max = windowCap(hostMapLimit())
}

// mapHeadroom is how many host mappings are left to kshim besides its
// file windows: its Go heap and stacks, a run area per vCPU (at most
// 1024), the arenas' reservations (a few dozen).
const mapHeadroom = 8192

// windowCap returns how many windows may be open at once on a host that
// allows limit mappings: each window may cost two (itself, and the piece
// of reservation it splits off), and mapHeadroom (or half the limit, if
// that is less) stays for the rest.
func windowCap(limit int) int {
	return (limit - min(mapHeadroom, limit/2)) / 2
}

// SetSlotFunc installs the hook that registers guest memory with the
// hypervisor, and registers RAM's first piece (memory.go) and any frame
// already handed out; the rest of RAM and the file windows are
// registered as they come into use.
func (m *Memory) SetSlotFunc(f SlotFunc) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files.setSlot = f
	return m.register(max(m.next, 1))
}

// StartSlots is SetSlotFunc with that first registration, and the first
// read-only file arena's, made on a goroutine, which SlotsReady waits for: a slot's creation waits for the
// hypervisor's SRCU grace period, whose work items must get a CPU (~0.05
// ms on an idle host, 0.35-0.65 ms in kshim's start-up, with its other
// threads busy), and the VMM's set-up goes on meanwhile, using the
// memory (the RAM counts as registered: no vCPU can reach it before
// SlotsReady). A later piece is registered as SetSlotFunc's are. The
// caller calls SlotsReady, and succeeds, before any vCPU runs, and
// before it closes what f's calls use.
func (m *Memory) StartSlots(f SlotFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files.setSlot = f
	type piece struct {
		slot       uint32
		start, end uint64
	}
	var ps []piece
	for end := min(max(m.next, 1), m.size); m.registered < end; {
		slot, start, pend := ramPiece(m.registered, m.size)
		ps = append(ps, piece{slot, start, pend})
		m.registered = pend
	}
	// The first read-only file arena too: every program's image is read
	// through a window (~0.1 ms of its load here, slot and all, after
	// Finish, when the main thread runs alone). Its windows may be handed
	// out meanwhile: the guest reaches none before SlotsReady.
	var ar *arena
	if len(m.files.arenas) == 0 {
		if a, err := m.files.newArena(false); err == nil {
			m.files.addArena(a)
			ar = a
		}
	}
	done := make(chan struct{})
	m.slotsDone = done
	host := uintptrOf(m.host) // Close waits for the goroutine
	go func() {
		defer close(done)
		for _, p := range ps {
			if err := f(p.slot, p.start, p.end-p.start, host+uintptr(p.start), false); err != nil {
				m.slotsErr = fmt.Errorf("%w: registering guest memory [%#x, %#x): %v", ErrNoMemory, p.start, p.end, err)
				return
			}
		}
		if ar != nil {
			if err := ar.register(f); err != nil {
				m.slotsErr = fmt.Errorf("%w: registering the file windows' first arena: %v", ErrNoMemory, err)
			}
		}
	}()
}

// SlotsReady waits for StartSlots' registration and returns its error (nil
// without StartSlots).
func (m *Memory) SlotsReady() error {
	m.mu.Lock()
	done := m.slotsDone
	m.mu.Unlock()
	if done == nil {
		return nil
	}
	<-done
	return m.slotsErr
}

// dropShadows makes the hypervisor drop every shadow page it holds for
// the VM (reclaimTables): it registers a one-page slot where the next
// arena would go (a slot number and guest-physical range nothing else
// uses; host is any VMM memory, since the guest never reaches the page)
// and deletes it. Deleting a memory slot zaps every shadow page of a
// default x86 VM (kvm_arch_flush_shadow_memslot: since Linux 5.3, and
// since 6.12 unless userspace turns KVM_X86_QUIRK_SLOT_ZAP_ALL off, which
// kshim does not), which also ends the write protection of the frames
// those shadows were of; on a nested-paging host there are no shadows of
// guest tables to begin with. A vCPU in the guest meanwhile is kicked
// out and rebuilds its shadow from the guest's tables, which never name
// a retired frame. With no hypervisor (unit tests) there is nothing to
// drop.
func (w *fileWindows) dropShadows(host []byte) error {
	if w.setSlot == nil {
		return nil
	}
	slot := uint32(ramSlots + len(w.arenas))
	gpa := w.base + uint64(w.clearOfAPIC(len(w.slots), 1))*WindowChunk
	if err := w.setSlot(slot, gpa, PageSize, uintptrOf(host), true); err != nil {
		return err
	}
	return w.setSlot(slot, gpa, 0, 0, false)
}

// WindowBase is the first guest-physical address of the file windows.
func (m *Memory) WindowBase() uint64 { return m.files.base }

func (w *fileWindows) page(pa uint64) []byte {
	i := (pa - w.base) / WindowChunk
	if i >= uint64(len(w.slots)) || w.slots[i] == nil {
		panic(fmt.Sprintf("ept: no file window at %#x", pa))
	}
	off := (pa - w.base) % WindowChunk
	return w.slots[i].host[off : off+PageSize : off+PageSize]
}

// closeAll ends the windows with the memory (Memory.Close): each file is
// closed and each arena unmapped whole, its windows with it (a release
// would first map the reservation over each window again, for a range
// nothing will hand out any more). The arenas' slots are not deleted:
// the VM goes before its memory (vmm's Machine.Close), and its slots with
// it; deleting them then was an ioctl on the VM's closed fd, whose number
// may name another file by then, and deleting them before would cost a
// slot update each for a VM about to go.
func (w *fileWindows) closeAll() {
	for _, f := range w.byKey {
		unix.Close(f.fd)
	}
	clear(w.byKey)
	for _, a := range w.arenas {
		unix.Munmap(a.host)
	}
	w.arenas, w.slots, w.open = nil, nil, 0
}

// reserve maps PROT_NONE memory over length bytes at addr (MAP_FIXED), or
// anywhere when addr is nil: an arena, or a released window's range.
func reserve(addr unsafe.Pointer, length uintptr) (unsafe.Pointer, error) {
	flags := unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_NORESERVE
	if addr != nil {
		flags |= unix.MAP_FIXED
	}
	return unix.MmapPtr(-1, 0, addr, length, unix.PROT_NONE, flags)
}

// freeWindow returns the index of a free window in an arena of the given
// mode, adding an arena (and its slot) when every one is full.
func (w *fileWindows) freeWindow(writable bool) (int, error) {
	for _, a := range w.arenas {
		if a.writable != writable {
			continue
		}
		for g := a.first; g < a.first+a.n; g++ {
			if w.slots[g] == nil {
				return g, nil
			}
		}
	}
	a, err := w.newArena(writable)
	if err != nil {
		return 0, err
	}
	if w.setSlot != nil {
		if err := a.register(w.setSlot); err != nil {
			unix.Munmap(a.host)
			// Out of memory slots is the guest running out of memory.
			return 0, fmt.Errorf("%w: %v", ErrNoMemory, err)
		}
	}
	w.addArena(a)
	return a.first, nil
}

// newArena reserves the next arena's host range (arena k = len(arenas),
// placed after the windows so far); addArena then adds it, once its slot
// is registered, or is being (StartSlots).
func (w *fileWindows) newArena(writable bool) (*arena, error) {
	k := len(w.arenas)
	n := arenaSize(k)
	first := w.clearOfAPIC(len(w.slots), n)
	size := uintptr(n * WindowChunk)
	p, err := reserve(nil, size)
	if err != nil {
		return nil, fmt.Errorf("%w: reserving a file window arena: %v", ErrNoMemory, err)
	}
	return &arena{host: unsafe.Slice((*byte)(p), size), first: first, n: n, writable: writable,
		slot: uint32(ramSlots + k), gpa: w.base + uint64(first)*WindowChunk}, nil
}

func (w *fileWindows) addArena(a *arena) {
	w.arenas = append(w.arenas, a)
	w.slots = append(w.slots, make([]*window, a.first+a.n-len(w.slots))...)
}

// register makes the arena's KVM slot.
func (a *arena) register(setSlot SlotFunc) error {
	return setSlot(a.slot, a.gpa, uint64(len(a.host)), uintptrOf(a.host), !a.writable)
}

// arenaOf returns the arena holding window g.
func (w *fileWindows) arenaOf(g int) *arena {
	for _, a := range w.arenas {
		if g >= a.first && g < a.first+a.n {
			return a
		}
	}
	panic(fmt.Sprintf("ept: no arena holds window %d", g))
}

// MappedFile is a host file whose pages the guest can map directly.
type MappedFile struct {
	m       *Memory
	key     fileKey
	fd      int // owned
	refs    int
	windows map[uint64]*window // by chunk index
}

// MapFile returns the MappedFile for the host file open at fd (which the
// caller keeps), with one new reference.
func (m *Memory) MapFile(fd int) (*MappedFile, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return nil, err
	}
	return m.MapFileOf(fd, FileID{Dev: st.Dev, Ino: st.Ino}, fl)
}

// MapFileOf is MapFile for a caller that has just read fd's file
// identity (fstat) and status flags (F_GETFL), as mmap's checks do: two
// host calls fewer at each file mmap.
func (m *Memory) MapFileOf(fd int, id FileID, flags int) (*MappedFile, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := fileKey{dev: id.Dev, ino: id.Ino, writable: flags&unix.O_ACCMODE == unix.O_RDWR}
	if f := m.files.byKey[key]; f != nil {
		f.refs++
		return f, nil
	}
	own, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := &MappedFile{m: m, key: key, fd: own, refs: 1, windows: map[uint64]*window{}}
	m.files.byKey[key] = f
	return f, nil
}

// Ref adds a reference.
func (f *MappedFile) Ref() {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	f.refs++
}

// FD is kshim's host fd of the file (valid while f is referenced).
func (f *MappedFile) FD() int { return f.fd }

// Writable reports whether the file is open for writing, so shared
// mappings of it may be writable.

func (f *MappedFile) Writable() bool { return f.key.writable }

// Size returns the file's current size.
func (f *MappedFile) Size() (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(f.fd, &st); err != nil {
		return 0, err
	}
	return st.Size, nil
}

// ReadAt reads from the file (for filling private copies).
func (f *MappedFile) ReadAt(b []byte, off int64) (int, error) {
	return unix.Pread(f.fd, b, off)
}

// Punch frees n pages of the file from page pgoff on (MADV_REMOVE): they
// read back as zero through every window and file descriptor.
func (f *MappedFile) Punch(pgoff, n uint64) error {
	return unix.Fallocate(f.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(pgoff*PageSize), int64(n*PageSize))
}

// Same reports whether f is the host file open at fd.
func (f *MappedFile) Same(dev, ino uint64) bool { return f.key.dev == dev && f.key.ino == ino }

// FileID names a host file by device and inode.
type FileID struct{ Dev, Ino uint64 }

// ID is the file's FileID: the same for every mapping of the file, in any
// process, whatever their protections.
func (f *MappedFile) ID() FileID { return FileID{f.key.dev, f.key.ino} }

// Frame returns the guest-physical address of file page pgoff, opening the
// window over it if needed.
func (f *MappedFile) Frame(pgoff uint64) (uint64, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	off := pgoff * PageSize
	chunk := off / WindowChunk
	w := f.windows[chunk]
	if w == nil {
		var err error
		if w, err = f.open(chunk); err != nil {
			return 0, err
		}
	}
	return w.gpa + off%WindowChunk, nil
}

// Window returns the guest-physical address of file page pgoff and the
// file pages [lo, hi) its window covers (file page q of them is at
// pa + (q-pgoff)*PageSize), opening the window if needed.
func (f *MappedFile) Window(pgoff uint64) (pa, lo, hi uint64, err error) {
	if pa, err = f.Frame(pgoff); err != nil {
		return 0, 0, 0, err
	}
	lo = pgoff &^ (WindowChunk/PageSize - 1)
	return pa, lo, lo + WindowChunk/PageSize, nil
}

func (f *MappedFile) open(chunk uint64) (*window, error) {
	fw := &f.m.files
	if fw.open >= fw.max {
		return nil, fmt.Errorf("%w: %d file windows open (the host's mapping count bounds them)", ErrNoMemory, fw.open)
	}
	g, err := fw.freeWindow(f.key.writable)
	if err != nil {
		return nil, err
	}
	a := fw.arenaOf(g)
	prot := unix.PROT_READ
	if f.key.writable {
		prot |= unix.PROT_WRITE
	}
	host := a.host[(g-a.first)*WindowChunk:][:WindowChunk:WindowChunk]
	if _, err := unix.MmapPtr(f.fd, int64(chunk*WindowChunk), unsafe.Pointer(&host[0]), WindowChunk, prot, unix.MAP_SHARED|unix.MAP_FIXED); err != nil {
		return nil, fmt.Errorf("mapping a file window: %w", err)
	}
	w := &window{file: f, host: host, gpa: fw.base + uint64(g)*WindowChunk, idx: g}
	fw.slots[g] = w
	fw.open++
	f.windows[chunk] = w
	return w, nil
}

// Release drops a reference; the last one closes the windows.
func (f *MappedFile) Release() {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	f.release()
}

func (f *MappedFile) release() {
	if f.refs--; f.refs > 0 {
		return
	}
	fw := &f.m.files
	for _, w := range f.windows {
		// The reservation again: the host drops the file's pages from the
		// range, and KVM (its MMU notifier) the translations of the range.
		if _, err := reserve(unsafe.Pointer(&w.host[0]), WindowChunk); err != nil {
			// Keep the index out of use rather than hand out a range the
			// file may still be mapped at.
			continue
		}
		fw.slots[w.idx] = nil
		fw.open--
	}
	unix.Close(f.fd)
	delete(fw.byKey, f.key)
}

// IsWindow reports whether pa lies in a file window rather than RAM.
func (m *Memory) IsWindow(pa uint64) bool { return pa >= m.files.base }

// MappedFiles returns how many host files have open windows (for tests
// and leak checks).
func (m *Memory) MappedFiles() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.files.byKey)
}

// hostMapLimit returns the host's limit on a process's memory mappings
// (vm.max_map_count; Linux's default when it cannot be read).
func hostMapLimit() int {
	b, err := os.ReadFile("/proc/sys/vm/max_map_count")
	if err != nil {
		return 65530
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return 65530
	}
	return n
}
