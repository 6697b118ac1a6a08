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
// Invariants:
//   - A window covers WindowChunk bytes of one file, at a WindowChunk-aligned
//     file offset, at guest-physical base + (slot-1)*WindowChunk. Slot 0 is
//     RAM.
//   - One MappedFile per host file and access mode: every mapping of the
//     file shares its windows, so the slots in use grow with the distinct
//     file ranges mapped, not with the number of mmap calls.
//   - A MappedFile and its windows live until its last reference is
//     released; the memory manager releases it only when no page-table
//     entry points into its windows any more, so a slot is never deleted
//     under a live translation.
//   - The VMM touches a window page only after checking that the page
//     starts before end of file (guestmm's beyondEOF); a truncation by
//     another host process in between is caught as a memory fault by the
//     copy routine (guestmm), never a crash.
package ept

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// WindowChunk is the size of one file window.
const WindowChunk = 64 << 20

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
	slot uint32
}

type fileWindows struct {
	base  uint64
	byKey map[fileKey]*MappedFile
	slots []*window // by slot-1; nil is free
	// setSlot tells the hypervisor; nil (unit tests) keeps windows VMM-only.
	setSlot SlotFunc
}

func (w *fileWindows) init(ramSize uint64) {
	const align = 1 << 30
	w.base = (ramSize + align - 1) &^ (align - 1)
	w.byKey = map[fileKey]*MappedFile{}
}

// SetSlotFunc installs the hook that registers windows with the hypervisor.
func (m *Memory) SetSlotFunc(f SlotFunc) { m.files.setSlot = f }

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

func (w *fileWindows) closeAll() {
	for _, f := range w.byKey {
		f.refs = 1
		f.release()
	}
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
	m.mu.Lock()
	defer m.mu.Unlock()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return nil, err
	}
	key := fileKey{dev: st.Dev, ino: st.Ino, writable: fl&unix.O_ACCMODE == unix.O_RDWR}
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
	idx := -1
	for i, s := range fw.slots {
		if s == nil {
			idx = i
			break
		}
	}
	if idx < 0 {
		idx = len(fw.slots)
		fw.slots = append(fw.slots, nil)
	}
	prot := unix.PROT_READ
	if f.key.writable {
		prot |= unix.PROT_WRITE
	}
	host, err := unix.Mmap(f.fd, int64(chunk*WindowChunk), WindowChunk, prot, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping a file window: %w", err)
	}
	w := &window{file: f, host: host, gpa: fw.base + uint64(idx)*WindowChunk, slot: uint32(idx + 1)}
	if fw.setSlot != nil {
		if err := fw.setSlot(w.slot, w.gpa, WindowChunk, uintptrOf(host), !f.key.writable); err != nil {
			unix.Munmap(host)
			// Out of memory slots is the guest running out of memory.
			return nil, fmt.Errorf("%w: %v", ErrNoMemory, err)
		}
	}
	fw.slots[idx] = w
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
		if fw.setSlot != nil {
			// Deleting a slot cannot fail for a slot we created.
			_ = fw.setSlot(w.slot, w.gpa, 0, 0, false)
		}
		unix.Munmap(w.host)
		fw.slots[w.slot-1] = nil
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
