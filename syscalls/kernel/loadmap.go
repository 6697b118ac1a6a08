// loadmap.go: an ELF's segments as private mappings of its file, as
// load_elf_binary and load_elf_interp map them.
//
// Invariants:
//   - A segment with file contents is a MAP_PRIVATE|MAP_FIXED mapping of
//     the file from the page holding its first byte to the page holding
//     its last (so /proc/self/maps names the file, its pages are the host
//     page cache until written, and fork copies nothing of them); a later
//     segment sharing a page replaces it there, as on Linux.
//   - A writable segment's last file page is zeroed past the file contents
//     (padzero), and the bss beyond it is anonymous read-write memory.
//   - A file-mapped segment's first pages are mapped at load, old and
//     read-only (guestmm's PopulateSegment: four faults' worth), so the
//     program's first uses of its text do not fault one window at a time.
//   - The program's writable segments (.data) are anonymous memory filled
//     from the file instead (the bytes a file mapping would show, padzero
//     included), named after the file: programs write most of their data
//     at start-up (python3 writes ~300 pages), and each first write to a
//     private file page is a copy-on-write fault, an exit on a PVM host;
//     copying them at load costs ~1 µs a page. (Until written, a file
//     mapping would show later changes to the file; the copy does not, as
//     kshim's program loading never did.) The interpreter's are small and
//     stay file mappings. The copy is named by the file's guest path (or
//     not at all): /proc/self/maps never shows a host path, and shows the
//     file's device, inode and the segment's offset, as for the file
//     mapping Linux makes (guestmm's MmapArgs.Like). Its bss past
//     the last file page is unnamed anonymous memory, as for a mapped
//     segment (and as Linux shows it).
//   - A program whose segments cannot be mapped from its file (file offset
//     and address not congruent modulo the page size, or no host file
//     behind the reader) is copied into anonymous memory instead.
package kernel

import (
	"io"
	"os"

	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/ept"
	"kshim/guestmm"
	"kshim/syscalls/fs"
)

// loadProgram maps the program img (placed, read from r) into mm.
// Mapping its file instead of copying it saves the copy at every execve
// (2 MB for busybox, 7 MB for python3) and makes a fork share its pages
// the way Linux's does: an eager fork (guestmm/fork.go) copies only the
// pages the program wrote.
func (p *Process) loadProgram(mm *guestmm.MM, r io.ReaderAt, img *boot.Image) error {
	fd := -1
	switch f := r.(type) {
	case fdReader:
		fd = int(f)
	case *os.File:
		fd = int(f.Fd())
	}
	if fd < 0 || !mappable(img) {
		return boot.Load(r, img, mm)
	}
	host := fs.HostPath(fd)
	guest, ok := p.FS.ToGuest(host)
	var like *ept.FileID
	var st unix.Stat_t
	if !ok {
		guest = ""
	} else if unix.Fstat(fd, &st) == nil {
		like = &ept.FileID{Dev: st.Dev, Ino: st.Ino}
	}
	return mapSegments(mm, img, 0, fd, host, guest, nil, true, like)
}

// mappable reports whether every segment with file contents can be a
// mapping of the file: its offset and address congruent modulo the page
// size, as mmap needs (Linux refuses to load such a program otherwise).
func mappable(img *boot.Image) bool {
	for _, s := range img.Segments {
		if s.Filesz > 0 && s.Offset%guestmm.PageSize != s.Vaddr%guestmm.PageSize {
			return false
		}
	}
	return true
}

// mapSegments maps img's segments at base from the host file fd (host
// path name, file the caller's record for /proc/self/maps: fs.MapsName);
// with copyWritable, writable segments are anonymous memory filled from
// the file, named guestName, standing for file like's pages (nil: none).
func mapSegments(mm *guestmm.MM, img *boot.Image, base uint64, fd int, name, guestName string, file *fs.OpenFile, copyWritable bool, like *ept.FileID) error {
	for _, s := range img.Segments {
		va := base + s.Vaddr
		zeroStart := pageDown(va)
		if s.Filesz > 0 && copyWritable && s.Prot&unix.PROT_WRITE != 0 {
			if err := copySegment(mm, s, va, fd, guestName, like); err != nil {
				return err
			}
			continue
		}
		if s.Filesz > 0 {
			start := pageDown(va)
			_, err := mm.Mmap(guestmm.MmapArgs{Addr: start, Len: pageUp(va+s.Filesz) - start, Prot: s.Prot,
				Flags: unix.MAP_PRIVATE | unix.MAP_FIXED, FD: fd, Off: pageDown(s.Offset), Name: name, File: file})
			if err != nil {
				return err
			}
			// Its pages ahead of the first use, as far as the policy says
			// (the host page cache: entries, no memory).
			mm.PopulateSegment(start, pageUp(va+s.Filesz)-start)
			zeroStart = va + s.Filesz
			if s.Memsz > s.Filesz && s.Prot&unix.PROT_WRITE != 0 && zeroStart != pageUp(zeroStart) {
				if err := mm.WriteAt(zeroStart, make([]byte, pageUp(zeroStart)-zeroStart)); err != nil {
					return err
				}
			}
		}
		if s.Memsz <= s.Filesz {
			continue
		}
		lo, hi := pageUp(zeroStart), pageUp(va+s.Memsz)
		if lo < hi {
			prot := unix.PROT_READ | unix.PROT_WRITE | s.Prot&unix.PROT_EXEC
			if _, err := mm.Mmap(guestmm.MmapArgs{Addr: lo, Len: hi - lo, Prot: prot,
				Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED, FD: -1}); err != nil {
				return err
			}
		}
	}
	return nil
}

// copySegment makes the writable segment s at va anonymous memory (named
// name) holding what its file mapping would: the file's bytes from the
// start of the segment's first page to its end of file contents, zeros
// after (padzero). /proc/PID/maps shows it as that file mapping: file
// like's device and inode, the segment's file offset (MmapArgs.Like). The bss past the last file page is unnamed anonymous
// memory, as mapSegments (and Linux) map it: a mapping of its own, whose
// first fault is not taken for a walk up from the copied pages below it
// (which the loader wrote, not the program: python3 had 37 bss pages
// mapped, 3 of them used; 21 now).
func copySegment(mm *guestmm.MM, s boot.Segment, va uint64, fd int, name string, like *ept.FileID) error {
	start, end := pageDown(va), pageUp(va+s.Filesz)
	if _, err := mm.Mmap(guestmm.MmapArgs{Addr: start, Len: end - start, Prot: s.Prot,
		Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED, FD: -1, Name: name,
		Off: pageDown(s.Offset), Like: like}); err != nil {
		return err
	}
	if bss := pageUp(va + s.Memsz); bss > end {
		prot := unix.PROT_READ | unix.PROT_WRITE | s.Prot&unix.PROT_EXEC
		if _, err := mm.Mmap(guestmm.MmapArgs{Addr: end, Len: bss - end, Prot: prot,
			Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED, FD: -1}); err != nil {
			return err
		}
	}
	// Through one small buffer, a chunk at a time: a buffer the segment's
	// size cost a host page fault per page to fill (python3's 1.3 MB
	// .data: ~0.9 ms here, against ~0.1 ms this way).
	const chunk = 64 << 10
	size := va + s.Filesz - start
	buf := make([]byte, min(chunk, size))
	for done := uint64(0); done < size; {
		part := buf[:min(uint64(len(buf)), size-done)]
		n, err := preadFull(fd, part, int64(pageDown(s.Offset)+done))
		if err != nil {
			return err
		}
		if n == 0 {
			break // past end of file (boot.Parse checked it is not): zeros
		}
		if err := mm.WriteAt(start+done, part[:n]); err != nil {
			return err
		}
		done += uint64(n)
	}
	return nil
}

// preadFull reads len(buf) bytes at off, fewer only at end of file.
func preadFull(fd int, buf []byte, off int64) (int, error) {
	done := 0
	for done < len(buf) {
		n, err := unix.Pread(fd, buf[done:], off+int64(done))
		if err != nil {
			return done, err
		}
		if n == 0 {
			break
		}
		done += n
	}
	return done, nil
}
