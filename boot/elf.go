// ELF parsing and loading for x86-64 Linux executables and their
// interpreters (PT_INTERP names one; syscalls/kernel/loader.go maps it).
//
// The input file is untrusted: every header field is range-checked before it
// is used, all arithmetic on file-supplied values is overflow-checked, and no
// allocation depends on a file-supplied size beyond a fixed cap (64 KiB of
// program headers, 1 MiB copy buffer). Parse produces an Image whose PT_LOAD
// segments are non-empty, in ascending address order, byte-disjoint, inside
// the user half of the address space and backed by the file; Load relies on
// exactly those properties (and rechecks them, since Images can be built by
// hand).

package boot

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"golang.org/x/sys/unix"
)

// Error kinds returned (wrapped) by Parse and Load; test with errors.Is.
var (
	ErrNotELF    = errors.New("not an ELF executable")
	ErrNotX86_64 = errors.New("ELF for another machine")
	ErrCorrupt   = errors.New("truncated or corrupt ELF")
	// ErrInterp is a PT_INTERP Linux refuses with ENOEXEC (too short,
	// longer than PATH_MAX, not NUL-terminated); ErrInterpRead one
	// that lies past the end of the file (EIO).
	ErrInterp = errors.New("bad PT_INTERP")
	// ErrLate marks the problems Linux finds only while mapping the
	// segments (after execve's point of no return): the segments
	// themselves, and an interpreter's ELF type.
	ErrLate       = errors.New("found while loading")
	ErrInterpRead = errors.New("PT_INTERP past end of file")
	errBadImage   = errors.New("boot: invalid image")
	errNegSize    = errors.New("boot: negative file size")
	errBiasAlign  = errors.New("boot: load bias not page aligned")
)

const (
	elfPage = 4096

	// userAddrLimit is TASK_SIZE_MAX on x86-64 with 4-level paging: the first
	// address user space may not map.
	userAddrLimit = 0x7ffffffff000

	// maxImageSpan bounds the address range an image may cover, so that a
	// hostile memsz cannot make the memory manager reserve terabytes.
	maxImageSpan = 1 << 40

	ehdrSize  = 64
	phentSize = 56

	// maxPhdrBytes is Linux's limit on the program header table
	// (load_elf_phdrs), i.e. at most 1170 entries.
	maxPhdrBytes = 65536

	// maxInterp is PATH_MAX; Linux rejects longer PT_INTERP strings.
	maxInterp = 4096

	// copyChunk bounds the buffer Load uses to move file data.
	copyChunk = 1 << 20
)

// Segment is one PT_LOAD segment. Vaddr already includes the load bias.
// Prot is a combination of unix.PROT_READ, PROT_WRITE and PROT_EXEC.
type Segment struct {
	Vaddr, Memsz, Filesz, Offset uint64
	Prot                         int
}

// Image describes a parsed executable, with every address biased.
type Image struct {
	Entry uint64 // entry point

	// Phdr is the guest address of the program header table: from
	// PT_PHDR, else derived from the PT_LOAD containing e_phoff, else 0.
	Phdr         uint64
	Phent, Phnum uint64

	Bias     uint64 // load bias; 0 for ET_EXEC
	Dyn      bool   // ET_DYN: may be loaded at any page-aligned bias
	Segments []Segment

	// Interp is the program interpreter PT_INTERP names, up to its
	// first NUL as Linux opens it; HasInterp tells a static program
	// from one whose PT_INTERP is empty (ENOENT when opened).
	Interp    string
	HasInterp bool
	// Align is the largest power-of-two p_align of the PT_LOAD
	// segments, at least a page (maximum_alignment).
	Align uint64

	// ExecStack reports PT_GNU_STACK with PF_X. A missing PT_GNU_STACK
	// gives a non-executable stack, as on x86-64 Linux since 5.8.
	ExecStack bool

	BrkStart uint64 // page-aligned end of the highest segment
}

// Memory is the part of the guest memory manager the loader needs.
type Memory interface {
	// MapAnon maps private anonymous zeroed memory at exactly
	// [addr, addr+length), both page aligned, with prot.
	MapAnon(addr, length uint64, prot int) error
	// WriteAt copies data into guest memory at addr, ignoring page
	// protections (the loader fills read-only segments).
	WriteAt(addr uint64, data []byte) error
}

// lateError is a problem Linux meets only while mapping the file, after
// execve's point of no return (it then kills the process with SIGSEGV
// instead of failing the call): errors.Is reports its kind and ErrLate.
type lateError struct {
	kind error
	msg  string
}

func (e *lateError) Error() string        { return e.msg }
func (e *lateError) Is(target error) bool { return target == e.kind || target == ErrLate }

// lateCorruptf is errCorruptf for the segments: a late ErrCorrupt.
func lateCorruptf(format string, args ...any) error {
	return &lateError{ErrCorrupt, fmt.Sprintf("%v: %s", ErrCorrupt, fmt.Sprintf(format, args...))}
}

func errCorruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

func elfPageDown(x uint64) uint64 { return x &^ (elfPage - 1) }

// elfPageUp rounds up; callers guarantee x <= userAddrLimit so it cannot overflow.
func elfPageUp(x uint64) uint64 { return (x + elfPage - 1) &^ (elfPage - 1) }

// readFullAt reads exactly len(p) bytes at off, reporting a short file as
// corruption described by what.
func readFullAt(r io.ReaderAt, p []byte, off int64, what string) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errCorruptf("%s extends past end of file", what)
	}
	return fmt.Errorf("reading %s: %w", what, err)
}

func protOf(flags elf.ProgFlag) int {
	var p int
	if flags&elf.PF_R != 0 {
		p |= unix.PROT_READ
	}
	if flags&elf.PF_W != 0 {
		p |= unix.PROT_WRITE
	}
	if flags&elf.PF_X != 0 {
		p |= unix.PROT_EXEC
	}
	return p
}

// Parse validates the ELF file r of the given size and describes how to load
// it. dynBias is added to every address of an ET_DYN (PIE) file and must be
// page aligned; it is ignored for ET_EXEC. Rebase moves an ET_DYN image
// parsed with bias 0.
//
// debug/elf is used for constants and field layouts only: its NewFile also
// insists on sane section headers, which the kernel ignores and stripped or
// packed executables need not have.
func Parse(r io.ReaderAt, size int64, dynBias uint64) (*Image, error) {
	return parse(r, size, dynBias, false)
}

// ParseInterp is Parse for a program interpreter: its own PT_INTERP is
// ignored, as load_elf_interp ignores it.
func ParseInterp(r io.ReaderAt, size int64) (*Image, error) {
	return parse(r, size, 0, true)
}

func parse(r io.ReaderAt, size int64, dynBias uint64, interp bool) (*Image, error) {
	if size < 0 {
		return nil, errNegSize
	}
	if size < 4 {
		return nil, ErrNotELF
	}
	var hdr [ehdrSize]byte
	n := min(size, ehdrSize)
	if err := readFullAt(r, hdr[:n], 0, "ELF header"); err != nil {
		return nil, err
	}
	if string(hdr[:4]) != elf.ELFMAG {
		return nil, ErrNotELF
	}
	if n < elf.EI_NIDENT {
		return nil, errCorruptf("truncated ELF header")
	}
	switch elf.Class(hdr[elf.EI_CLASS]) {
	case elf.ELFCLASS64:
	case elf.ELFCLASS32:
		return nil, fmt.Errorf("%w (32-bit ELF)", ErrNotX86_64)
	default:
		return nil, errCorruptf("bad ELF class %d", hdr[elf.EI_CLASS])
	}
	switch elf.Data(hdr[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
	case elf.ELFDATA2MSB:
		return nil, fmt.Errorf("%w (big-endian)", ErrNotX86_64)
	default:
		return nil, errCorruptf("bad ELF data encoding %d", hdr[elf.EI_DATA])
	}
	if n < ehdrSize {
		return nil, errCorruptf("truncated ELF header")
	}
	le := binary.LittleEndian
	typ := elf.Type(le.Uint16(hdr[16:]))
	mach := elf.Machine(le.Uint16(hdr[18:]))
	entry := le.Uint64(hdr[24:])
	phoff := le.Uint64(hdr[32:])
	phentsize := le.Uint16(hdr[54:])
	phnum := le.Uint16(hdr[56:])

	if mach != elf.EM_X86_64 {
		return nil, fmt.Errorf("%w (%v)", ErrNotX86_64, mach)
	}
	var bias uint64
	switch typ {
	case elf.ET_EXEC:
	case elf.ET_DYN:
		if dynBias%elfPage != 0 {
			return nil, errBiasAlign
		}
		bias = dynBias
	default:
		if interp {
			// load_elf_interp refuses it after the point of no return.
			return nil, &lateError{ErrNotELF, fmt.Sprintf("%v (%v)", ErrNotELF, typ)}
		}
		return nil, fmt.Errorf("%w (%v)", ErrNotELF, typ)
	}

	if phentsize != phentSize {
		return nil, errCorruptf("program header entry size %d, want %d", phentsize, phentSize)
	}
	if phnum == 0 {
		return nil, errCorruptf("no program headers")
	}
	// phnum is at most 0xffff (PN_XNUM is rejected here too), so the
	// product cannot overflow.
	phsize := uint64(phnum) * phentSize
	if phsize > maxPhdrBytes {
		return nil, errCorruptf("too many program headers (%d)", phnum)
	}
	if phoff > uint64(size) || phsize > uint64(size)-phoff {
		return nil, errCorruptf("program headers extend past end of file")
	}
	ph := make([]byte, phsize)
	if err := readFullAt(r, ph, int64(phoff), "program headers"); err != nil {
		return nil, err
	}
	progs := make([]elf.Prog64, phnum)
	for i := range progs {
		b := ph[i*phentSize:]
		progs[i] = elf.Prog64{
			Type:   le.Uint32(b[0:]),
			Flags:  le.Uint32(b[4:]),
			Off:    le.Uint64(b[8:]),
			Vaddr:  le.Uint64(b[16:]),
			Paddr:  le.Uint64(b[24:]),
			Filesz: le.Uint64(b[32:]),
			Memsz:  le.Uint64(b[40:]),
			Align:  le.Uint64(b[48:]),
		}
	}

	img := &Image{
		Bias:  bias,
		Dyn:   typ == elf.ET_DYN,
		Phent: phentSize,
		Phnum: uint64(phnum),
		Align: elfPage,
	}
	// The first PT_INTERP counts, checked as load_elf_binary does.
	for _, p := range progs {
		if elf.ProgType(p.Type) == elf.PT_INTERP && !interp {
			name, err := readInterp(r, size, p)
			if err != nil {
				return nil, err
			}
			img.Interp, img.HasInterp = name, true
			break
		}
	}
	var (
		havePhdr bool
		prevEnd  uint64 // end of the previous PT_LOAD, biased
	)
	for i, p := range progs {
		switch elf.ProgType(p.Type) {
		case elf.PT_GNU_STACK:
			img.ExecStack = elf.ProgFlag(p.Flags)&elf.PF_X != 0
		case elf.PT_PHDR:
			if p.Vaddr > math.MaxUint64-bias {
				return nil, lateCorruptf("PT_PHDR address overflows")
			}
			img.Phdr = p.Vaddr + bias
			havePhdr = true
		case elf.PT_LOAD:
			if p.Filesz > p.Memsz {
				return nil, lateCorruptf("segment %d: file size %#x exceeds memory size %#x", i, p.Filesz, p.Memsz)
			}
			if p.Off > uint64(size) || p.Filesz > uint64(size)-p.Off {
				return nil, lateCorruptf("segment %d extends past end of file", i)
			}
			if p.Align > 1 && p.Align&(p.Align-1) != 0 {
				return nil, lateCorruptf("segment %d: alignment %#x not a power of two", i, p.Align)
			}
			if p.Align > img.Align && p.Align <= maxImageSpan {
				img.Align = p.Align
			}
			// Linux maps file pages, so the file offset and address
			// must agree within a page.
			if (p.Vaddr-p.Off)%elfPage != 0 {
				return nil, lateCorruptf("segment %d: address %#x and offset %#x differ within a page", i, p.Vaddr, p.Off)
			}
			if p.Memsz == 0 {
				continue // maps nothing, like Linux
			}
			if p.Vaddr > math.MaxUint64-bias {
				return nil, lateCorruptf("segment %d: address overflows", i)
			}
			va := p.Vaddr + bias
			if va >= userAddrLimit || p.Memsz > userAddrLimit-va {
				return nil, lateCorruptf("segment %d [%#x, +%#x) outside the user address space", i, va, p.Memsz)
			}
			if va < prevEnd {
				return nil, lateCorruptf("segment %d overlaps or precedes the previous segment", i)
			}
			prevEnd = va + p.Memsz
			img.Segments = append(img.Segments, Segment{
				Vaddr:  va,
				Memsz:  p.Memsz,
				Filesz: p.Filesz,
				Offset: p.Off,
				Prot:   protOf(elf.ProgFlag(p.Flags)),
			})
		}
	}
	segs := img.Segments
	if len(segs) == 0 {
		return nil, lateCorruptf("no loadable segments")
	}
	if span := prevEnd - elfPageDown(segs[0].Vaddr); span > maxImageSpan {
		return nil, lateCorruptf("segments span %#x bytes", span)
	}
	img.BrkStart = elfPageUp(prevEnd)

	if entry > math.MaxUint64-bias {
		return nil, lateCorruptf("entry point overflows")
	}
	img.Entry = entry + bias
	if !inExec(segs, img.Entry) {
		return nil, lateCorruptf("entry point %#x not in an executable segment", img.Entry)
	}

	if !havePhdr {
		// As Linux does since 5.18: find the headers in the file image.
		for _, s := range segs {
			if s.Offset <= phoff && phoff-s.Offset < s.Filesz && phsize <= s.Filesz-(phoff-s.Offset) {
				img.Phdr = s.Vaddr + (phoff - s.Offset)
				break
			}
		}
	}
	return img, nil
}

func inExec(segs []Segment, addr uint64) bool {
	for _, s := range segs {
		if s.Prot&unix.PROT_EXEC != 0 && addr >= s.Vaddr && addr-s.Vaddr < s.Memsz {
			return true
		}
	}
	return false
}

// readInterp reads the interpreter's name with load_elf_binary's checks.
func readInterp(r io.ReaderAt, size int64, p elf.Prog64) (string, error) {
	if p.Filesz > maxInterp || p.Filesz < 2 {
		return "", fmt.Errorf("%w: %d bytes", ErrInterp, p.Filesz)
	}
	if p.Off > uint64(size) || p.Filesz > uint64(size)-p.Off {
		return "", ErrInterpRead
	}
	buf := make([]byte, p.Filesz)
	if err := readFullAt(r, buf, int64(p.Off), "PT_INTERP"); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInterpRead, err)
	}
	if buf[len(buf)-1] != 0 {
		return "", fmt.Errorf("%w: not NUL-terminated", ErrInterp)
	}
	return string(buf[:bytes.IndexByte(buf, 0)]), nil
}

// Rebase returns a copy of img, an ET_DYN image parsed with bias 0, with
// every address moved by bias (page aligned), checked as Parse checks.
func (img *Image) Rebase(bias uint64) (*Image, error) {
	if !img.Dyn || img.Bias != 0 {
		return nil, fmt.Errorf("%w: rebase of a fixed image", errBadImage)
	}
	if bias%elfPage != 0 {
		return nil, errBiasAlign
	}
	n := *img
	n.Bias = bias
	n.Segments = append([]Segment(nil), img.Segments...)
	for i := range n.Segments {
		s := &n.Segments[i]
		if s.Vaddr > math.MaxUint64-bias || s.Vaddr+bias >= userAddrLimit || s.Memsz > userAddrLimit-(s.Vaddr+bias) {
			return nil, errCorruptf("segment %d outside the user address space at bias %#x", i, bias)
		}
		s.Vaddr += bias
	}
	last := n.Segments[len(n.Segments)-1]
	n.BrkStart = elfPageUp(last.Vaddr + last.Memsz)
	n.Entry += bias
	if n.Phdr != 0 {
		n.Phdr += bias
	}
	return &n, nil
}

// Span is the page-aligned size the segments cover (total_mapping_size).
func (img *Image) Span() uint64 {
	segs := img.Segments
	if len(segs) == 0 {
		return 0
	}
	last := segs[len(segs)-1]
	return elfPageUp(last.Vaddr+last.Memsz) - elfPageDown(segs[0].Vaddr)
}

// segMap is one MapAnon call.
type segMap struct {
	addr, length uint64
	prot         int
}

// segMaps turns byte-disjoint ascending segments into page ranges that
// never overlap. A page shared by neighbouring segments gets the union of
// their protections, so neither loses access to its bytes.
func segMaps(segs []Segment) []segMap {
	var ms []segMap
	for _, s := range segs {
		start, end := elfPageDown(s.Vaddr), elfPageUp(s.Vaddr+s.Memsz)
		if n := len(ms); n > 0 && ms[n-1].addr+ms[n-1].length > start {
			// Segments are byte-disjoint and ascending, so the
			// overlap is exactly the page at start, which is the
			// last page of ms[n-1].
			last := &ms[n-1]
			if last.length > elfPage {
				last.length -= elfPage
				ms = append(ms, segMap{start, elfPage, last.prot | s.Prot})
			} else {
				last.prot |= s.Prot
			}
			start += elfPage
		}
		if start < end {
			ms = append(ms, segMap{start, end - start, s.Prot})
		}
	}
	// Merge neighbours with equal protection to save map calls.
	out := ms[:0]
	for _, m := range ms {
		if n := len(out); n > 0 && out[n-1].prot == m.prot && out[n-1].addr+out[n-1].length == m.addr {
			out[n-1].length += m.length
			continue
		}
		out = append(out, m)
	}
	return out
}

// checkSegments verifies the invariants segMaps and Load rely on.
func checkSegments(segs []Segment) error {
	var prevEnd uint64
	for i, s := range segs {
		switch {
		case s.Memsz == 0 || s.Filesz > s.Memsz:
			return fmt.Errorf("%w: segment %d sizes", errBadImage, i)
		case s.Vaddr >= userAddrLimit || s.Memsz > userAddrLimit-s.Vaddr:
			return fmt.Errorf("%w: segment %d outside user space", errBadImage, i)
		case s.Vaddr < prevEnd:
			return fmt.Errorf("%w: segment %d out of order", errBadImage, i)
		case s.Offset > math.MaxInt64 || s.Filesz > math.MaxInt64-s.Offset:
			return fmt.Errorf("%w: segment %d file range", errBadImage, i)
		}
		prevEnd = s.Vaddr + s.Memsz
	}
	return nil
}

// Load maps img's segments into mem and copies their file contents from r.
// Memory past each segment's file size is left as MapAnon zeroed it.
func Load(r io.ReaderAt, img *Image, mem Memory) error {
	if err := checkSegments(img.Segments); err != nil {
		return err
	}
	for _, m := range segMaps(img.Segments) {
		if err := mem.MapAnon(m.addr, m.length, m.prot); err != nil {
			return fmt.Errorf("segMap [%#x, %#x): %w", m.addr, m.addr+m.length, err)
		}
	}
	var buf []byte
	for i, s := range img.Segments {
		for done := uint64(0); done < s.Filesz; {
			n := min(s.Filesz-done, copyChunk)
			if uint64(len(buf)) < n {
				buf = make([]byte, n)
			}
			chunk := buf[:n]
			if err := readFullAt(r, chunk, int64(s.Offset+done), fmt.Sprintf("segment %d", i)); err != nil {
				return err
			}
			if err := mem.WriteAt(s.Vaddr+done, chunk); err != nil {
				return fmt.Errorf("writing segment %d at %#x: %w", i, s.Vaddr+done, err)
			}
			done += n
		}
	}
	return nil
}
