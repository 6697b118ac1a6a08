// fuzz_test.go: FuzzOps decodes its input into a sequence of memory
// operations on a small address window, so that they collide, and applies
// each to guestmm and to the reference model (model_test.go). After every
// step it compares:
//   - the result (address, errno, bytes copied, fault outcome);
//   - the layout, page by page: mm.VMAs() against the model's pages
//     (protection; Shared, Anonymous, Locked flags);
//   - the guest's view of memory: mm.CopyIn of every page of the window and
//     every mapped page must return the model's contents where the model
//     says the page is readable and fail with EFAULT (nothing copied)
//     elsewhere; mm.CopyOut must fail with EFAULT on every page the model
//     says is not writable or not mapped (writes themselves are operations
//     of the sequence, checked byte for byte);
//   - merging: for every two neighbouring guestmm VMAs L and R with the
//     same name (kshim names the heap "[heap]" and keeps it apart on
//     purpose), the last page of L and the first page of R must not be
//     ones the model says Linux certainly keeps in one VMA
//     (model.boundary's bMerged): private pages with equal protection,
//     VM_LOCKED and VM_ACCOUNT, contiguous vm_pgoff and no anon_vma on
//     either side, or consecutive pages of one shared mapping with equal
//     protection and VM_LOCKED. It must hold because Linux attempts a merge
//     with both neighbours at every operation that creates a VMA or changes
//     its flags, and with no anon_vma involved every such attempt between
//     such pages succeeds (the argument is spelled out at boundary; anon_vma
//     and VM_ACCOUNT are tracked conservatively, so the property is
//     asserted only where it is certain). While avoid.mergeAcrossCalls or
//     avoid.remapMerge is set it is asserted only for pages of one mmap or
//     brk call that mremap never placed;
//   - mm.CheckAll is on, so guestmm's own invariants hold after each call;
//     at the end everything is unmapped and no frame may remain but the
//     page tables' (a leak check).
//
// Input format: byte 0 configures the break start; then operations, each a
// kind byte and a fixed number of argument bytes (missing bytes read as 0).
// The enc* helpers below build inputs for the seed corpus and the
// regression tests.
package guestmm

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"kshim/ept"
)

// The fuzz window: 64 pages straddling MmapBase, where guestmm puts
// mappings without MAP_FIXED (top-down from MmapBase), so fixed and placed
// mappings and the break collide. A second window around MinAddr tests the
// lower limit.
const (
	winBase  = MmapBase - 48*PageSize
	winPages = 64
	lowBase  = MinAddr - 8*PageSize
	lowPages = 16
	maxOps   = 48
)

// Known guestmm bugs the fuzzer steers around, so that one bug does not
// hide others. Each has a failing regression test in regress_test.go; set a
// field to false once the bug is fixed.
var avoid = struct {
	// TestRegressMergeIntoSplitMapping: guestmm does not merge a new
	// mapping into a neighbour whose object is shared by several pieces.
	// While set, the merge assertion covers only pages made by one mmap
	// (or brk) call.
	mergeAcrossCalls bool
	// TestRegressDontunmapHint: guestmm accepts an unaligned, overlapping
	// or too high new_addr for MREMAP_DONTUNMAP without MREMAP_FIXED.
	// While set, such calls pass 0 instead.
	dontunmapHint bool
	// TestRegressMremapDuplicateShared: guestmm refuses old_len 0 on
	// shared mappings. While set, such calls get old_len = one page.
	mremapDup bool
	// TestRegressSharedValidateAnonymous: guestmm maps anonymous
	// MAP_SHARED_VALIDATE. While set, the fuzzer uses MAP_SHARED instead.
	sharedValidateAnon bool
	// TestRegressSharedGrowsDown: guestmm maps MAP_SHARED|MAP_GROWSDOWN.
	// While set, the fuzzer drops MAP_GROWSDOWN.
	sharedGrowsDown bool
	// TestRegressProtExtraBits: guestmm rejects prot bits Linux ignores
	// (mmap) or accepts (PROT_SEM, mprotect). While set, the fuzzer
	// generates none.
	protExtraBits bool
	// TestRegressBrkLimits: guestmm's brk refuses to grow past MmapBase
	// or within StackGap of any mapping, and shrinks over an unmapped
	// heap. While set, the fuzzer skips brk calls where that matters.
	brkLimits bool
	// TestRegressMmapErrnoOrder: guestmm checks the map type before the
	// address. While set, mmaps of an invalid type get no address.
	mmapErrnoOrder bool
	// TestRegressMremapChecks: guestmm's mremap checks old_len and the
	// old range before Linux does (and differently). While set, the
	// fuzzer skips the mremap calls where guestmm's early EINVAL or
	// EFAULT is not Linux's answer.
	mremapChecks bool
	// TestRegressMadvFreeShared: guestmm accepts MADV_FREE on shared
	// memory. While set, the fuzzer uses MADV_DONTNEED there.
	madvFreeShared bool
	// TestRegressMsyncInvalidateLocked: guestmm never gives EBUSY. While
	// set, the fuzzer drops MS_INVALIDATE over locked memory.
	msyncLocked bool
	// TestRegressMremapMerge: guestmm merges what mremap makes (moves,
	// in-place growth) only with pieces of the same object. While set, the
	// merge assertion skips pages mremap placed or left. (MREMAP_DONTUNMAP
	// of locked memory is never checked: the model cannot tell the extent
	// of the VMA Linux unlocks.)
	remapMerge bool
	// TestRegressMmapHintRounding: guestmm rounds hints up and ignores
	// hints below MinAddr. While set, hints are aligned and not below
	// MinAddr.
	hintRounding bool
	// TestRegressMprotectGrows: guestmm ignores PROT_GROWSDOWN and
	// PROT_GROWSUP in mprotect. While set, the fuzzer does not pass them.
	mprotectGrows bool
	// TestRegressLengthWrap: guestmm takes a length that rounds up to 0
	// as empty. While set, munmap, mprotect, madvise and mincore get one
	// page instead.
	lengthWrap bool
	// TestRegressMremapBelowMinAddr: guestmm's mremap(MREMAP_FIXED)
	// moves below MinAddr. While set, the fuzzer skips that.
	mremapMinAddr bool
	// TestRegressMremapGrowAliases: a growing move of part of a mapping
	// aliases the rest of it. While set, the fuzzer does not grow a range
	// that is not a whole guestmm VMA.
	growAlias bool
	// TestRegressMremapGrowSplit: guestmm does not grow a split mapping
	// in place. While set, its ENOMEM or move is accepted instead.
	growSplit bool
	// TestRegressMremapFixedWithinVMA: mremap(MREMAP_FIXED) into the VMA
	// of the old range uses a stale VMA. While set, the fuzzer skips it.
	fixedWithinVMA bool
}{
	// Still set: TestRegressMergeIntoSplitMapping, TestRegressMremapMerge
	// (knownRegressions in regress_test.go).
	mergeAcrossCalls: true,
	remapMerge:       true,
}

// Operation kinds (the kind byte modulo kinds).
const (
	kMmap = iota
	kMunmap
	kMprotect
	kMremap
	kBrk
	kMadvise
	kWrite
	kFault
	kSync
	kMlock
	kinds
)

// ---- argument decoding ----

type decoder struct {
	data []byte
	i    int
}

func (d *decoder) b() byte {
	if d.i >= len(d.data) {
		d.i++
		return 0
	}
	c := d.data[d.i]
	d.i++
	return c
}

func (d *decoder) more() bool { return d.i < len(d.data) }

// addr decodes an address: mostly a page of the window.
func (h *fuzzHarness) addr(b byte) uint64 {
	switch {
	case b < 192:
		return winBase + uint64(b%winPages)*PageSize
	case b < 208:
		return lowBase + uint64(b%lowPages)*PageSize
	case b < 240:
		if len(h.results) == 0 {
			return winBase + uint64(b%winPages)*PageSize
		}
		return h.results[int(b)%len(h.results)]
	case b < 248:
		return winBase + uint64(b%8)*5*PageSize + 123 // unaligned
	case b == 248:
		return 0
	case b == 249:
		return UserTop - PageSize
	case b == 250:
		return UserTop
	case b == 251:
		return 1 << 63
	default:
		return MmapBase
	}
}

// length decodes a length for operations on existing mappings.
func length(b byte) uint64 {
	switch {
	case b == 0:
		return 0
	case b < 200:
		return uint64(b%24+1) * PageSize
	case b < 220:
		return uint64(b%24+1)*PageSize - uint64(b%7)*100 - 1 // unaligned
	case b < 240:
		return uint64(b%64+1) * PageSize
	case b == 250:
		return ^uint64(0) // rounds up to 0
	case b == 251:
		return ^uint64(0) - 2*PageSize + 1
	case b == 252:
		return 1 << 40
	case b == 253:
		return UserTop
	default:
		return PageSize
	}
}

// mapLength is length without the huge values that would map terabytes.
func mapLength(b byte) uint64 {
	if b == 252 || b == 253 {
		return 2 * PageSize
	}
	return length(b)
}

var protTable = []int{
	unix.PROT_NONE, unix.PROT_READ, unix.PROT_READ | unix.PROT_WRITE, unix.PROT_READ | unix.PROT_WRITE,
	unix.PROT_READ | unix.PROT_WRITE, unix.PROT_READ | unix.PROT_EXEC, protRWX, unix.PROT_WRITE,
	unix.PROT_EXEC, unix.PROT_WRITE | unix.PROT_EXEC, unix.PROT_READ, unix.PROT_READ | unix.PROT_WRITE,
}

var protOdd = []int{
	unix.PROT_READ | protSem, unix.PROT_READ | 0x10, unix.PROT_READ | unix.PROT_WRITE | unix.PROT_GROWSDOWN,
	unix.PROT_GROWSDOWN | unix.PROT_GROWSUP, unix.PROT_READ | unix.PROT_GROWSUP,
}

func prot(b byte) int {
	if b >= 240 && avoid.protExtraBits && int(b-240)%len(protOdd) < 2 {
		return unix.PROT_READ
	}
	if b >= 240 {
		return protOdd[int(b-240)%len(protOdd)]
	}
	return protTable[int(b)%len(protTable)]
}

// Placements of an mmap (high nibble of its flags byte, modulo 4).
const (
	plFixed = iota
	plNoReplace
	plHint
	plNone
)

// mapFlags decodes mmap flags: the low nibble of f1 is the type, the high
// nibble the placement; f2 adds MAP_POPULATE (bit 0) and MAP_LOCKED (bits
// 1-2 both set).
func mapFlags(f1, f2 byte) (flags, placement int) {
	switch t := f1 & 15; {
	case t < 10:
		flags = unix.MAP_PRIVATE
	case t < 13:
		flags = unix.MAP_SHARED
	case t == 13 && avoid.sharedValidateAnon:
		flags = unix.MAP_SHARED
	case t == 13:
		flags = unix.MAP_SHARED_VALIDATE
	case t == 14:
		flags = 0
	case avoid.sharedGrowsDown:
		flags = unix.MAP_SHARED
	default:
		flags = unix.MAP_SHARED | unix.MAP_GROWSDOWN
	}
	flags |= unix.MAP_ANONYMOUS
	placement = int(f1>>4) % 4
	if avoid.mmapErrnoOrder && flags&unix.MAP_TYPE == 0 {
		placement = plNone // and a sane length: see op
	}
	switch placement {
	case plFixed:
		flags |= unix.MAP_FIXED
	case plNoReplace:
		flags |= unix.MAP_FIXED_NOREPLACE
	}
	if f2&1 != 0 {
		flags |= unix.MAP_POPULATE
	}
	if f2&6 == 6 {
		flags |= unix.MAP_LOCKED
	}
	return flags, placement
}

var remapFlags = []int{
	0, unix.MREMAP_MAYMOVE, unix.MREMAP_MAYMOVE | unix.MREMAP_FIXED, unix.MREMAP_MAYMOVE | unix.MREMAP_DONTUNMAP,
	unix.MREMAP_MAYMOVE | unix.MREMAP_FIXED | unix.MREMAP_DONTUNMAP, unix.MREMAP_FIXED, unix.MREMAP_DONTUNMAP, 8,
}

var advices = []int{unix.MADV_DONTNEED, unix.MADV_DONTNEED, unix.MADV_FREE, unix.MADV_REMOVE, unix.MADV_NORMAL, unix.MADV_WILLNEED, 12345}

var syncFlags = []int{
	unix.MS_ASYNC, unix.MS_SYNC, unix.MS_INVALIDATE, unix.MS_ASYNC | unix.MS_INVALIDATE,
	unix.MS_SYNC | unix.MS_INVALIDATE, unix.MS_ASYNC | unix.MS_SYNC, 0, 0x100,
}

// ---- the harness ----

type fuzzHarness struct {
	t       testing.TB
	mm      *MM
	mem     *ept.Memory
	pt      *ept.PageTable
	area    []byte
	q       *ept.FlushQueue
	m       *model
	log     []string
	results []uint64 // addresses returned by mmap and mremap, for reuse
}

func newFuzzHarness(t testing.TB, brkStart uint64) *fuzzHarness {
	t.Helper()
	mem, err := ept.NewMemory(32 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mem.Close() })
	h := &fuzzHarness{t: t, mem: mem, area: make([]byte, 64<<10), m: newModel(brkStart)}
	h.q = ept.NewFlushQueue(h.area)
	// The guest applies the queue whenever the VMM asks (the flush gate).
	h.q.Drain = func() error { binary.LittleEndian.PutUint64(h.area, 0); return nil }
	if h.pt, err = ept.NewPageTable(mem, h.q, 0xffff888000000000); err != nil {
		t.Fatal(err)
	}
	h.mm = New(mem, h.pt)
	h.mm.CheckAll = true
	h.mm.SetBrkStart(brkStart)
	h.log = append(h.log, fmt.Sprintf("SetBrkStart(%#x)", brkStart))
	return h
}

// guestRan simulates the guest running: it applies the flush queue.
func (h *fuzzHarness) guestRan() {
	binary.LittleEndian.PutUint64(h.area, 0)
	binary.LittleEndian.PutUint64(h.area[8:], 0)
	h.q.Applied()
}

func (h *fuzzHarness) fail(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf("%s\noperations so far:\n  %s", fmt.Sprintf(format, args...), strings.Join(h.log, "\n  "))
}

// outcome is an operation's result.
type outcome struct {
	val   uint64 // address, break, or FaultResult
	n     int    // bytes copied
	err   unix.Errno
	isVal bool // val is meaningful even when err != 0 (brk, faults)
}

func (o outcome) String() string {
	if o.err != 0 {
		return fmt.Sprintf("%v (n=%d, val=%#x)", o.err, o.n, o.val)
	}
	return fmt.Sprintf("ok val=%#x n=%d", o.val, o.n)
}

func en(err error) unix.Errno {
	if err == nil {
		return 0
	}
	return Errno(err)
}

// tryModel runs op on m, reporting an unknownOutcome instead of panicking.
func tryModel(m *model, op func(*model) outcome) (o outcome, why string) {
	defer func() {
		if r := recover(); r != nil {
			u, ok := r.(unknownOutcome)
			if !ok {
				panic(r)
			}
			why = u.why
		}
	}()
	return op(m), ""
}

// do applies one operation to guestmm (gm) and the model (md) and compares.
func (h *fuzzHarness) do(desc string, gm func() outcome, md func(*model) outcome) (outcome, bool) {
	h.t.Helper()
	return h.doTolerating(desc, gm, md, nil)
}

// doTolerating is do where tolerate, given guestmm's outcome, may return
// the model operation to apply instead of md: the outcome of a known
// guestmm bug (see avoid), accepted so the sequence can go on.
func (h *fuzzHarness) doTolerating(desc string, gm func() outcome, md func(*model) outcome, tolerate func(outcome) func(*model) outcome) (outcome, bool) {
	h.t.Helper()
	if _, why := tryModel(h.m.clone(), md); why != "" {
		h.log = append(h.log, "// skipped "+desc+": "+why)
		return outcome{}, false
	}
	h.log = append(h.log, desc)
	var got outcome
	func() {
		defer func() {
			if r := recover(); r != nil {
				h.fail("%s panicked: %v", desc, r)
			}
		}()
		got = gm()
	}()
	h.m.want, h.m.placeErr = 0, ""
	if got.err == 0 {
		h.m.want = got.val
	}
	if tolerate != nil {
		if alt := tolerate(got); alt != nil {
			md = alt
			h.log[len(h.log)-1] += " [tolerated: known bug]"
		}
	}
	want, why := tryModel(h.m, md)
	if why != "" {
		h.fail("%s: the model could not decide after all: %s", desc, why)
	}
	if h.m.placeErr != "" {
		h.fail("%s = %v: %s", desc, got, h.m.placeErr)
	}
	if got.err != want.err || got.n != want.n || (got.err == 0 || want.isVal) && got.val != want.val {
		h.fail("%s = %v, Linux gives %v", desc, got, want)
	}
	h.log[len(h.log)-1] += " = " + got.String()
	h.check()
	return got, true
}

type pageAttr struct {
	prot  int
	flags int
}

// check compares guestmm with the model after a step.
func (h *fuzzHarness) check() {
	h.t.Helper()
	h.guestRan()
	vs := h.mm.VMAs()
	got := map[uint64]pageAttr{}
	for _, v := range vs {
		if (v.End-v.Start)/PageSize > 1<<16 {
			h.fail("guestmm has a VMA of %d pages: %+v", (v.End-v.Start)/PageSize, v)
		}
		for a := v.Start; a < v.End; a += PageSize {
			got[a] = pageAttr{v.Prot, v.Flags}
		}
	}
	for a, p := range h.m.pages {
		w := pageAttr{p.prot, Anonymous}
		if p.shared {
			w.flags |= Shared
		}
		if p.locked {
			w.flags |= Locked
		}
		if g, ok := got[a]; !ok {
			h.fail("page %#x: not mapped in guestmm, Linux has %s", a, attrStr(w))
		} else if g != w {
			h.fail("page %#x: guestmm has %s, Linux has %s", a, attrStr(g), attrStr(w))
		}
	}
	for a, g := range got {
		if h.m.pages[a] == nil {
			h.fail("page %#x: guestmm maps it (%s), Linux does not", a, attrStr(g))
		}
	}
	for i := 1; i < len(vs); i++ {
		l, r := vs[i-1], vs[i]
		if l.End == r.Start && l.Name == r.Name && h.m.boundary(r.Start) == bMerged {
			p, q := h.m.pages[l.End-PageSize], h.m.pages[r.Start]
			if avoid.mergeAcrossCalls && p.lineage != q.lineage || avoid.remapMerge && (p.remapped || q.remapped) {
				continue
			}
			h.fail("VMAs [%#x,%#x) and [%#x,%#x) (%s, lineages %d and %d) are separate; Linux merges them",
				l.Start, l.End, r.Start, r.End, attrStr(got[r.Start]), p.lineage, q.lineage)
		}
	}
	// Contents and access, read back as the guest sees them.
	pages := map[uint64]bool{UserTop - PageSize: true}
	for i := uint64(0); i < winPages; i++ {
		pages[winBase+i*PageSize] = true
	}
	for i := uint64(0); i < lowPages; i++ {
		pages[lowBase+i*PageSize] = true
	}
	for a := range h.m.pages {
		pages[a] = true
	}
	for a := range got {
		pages[a] = true
	}
	order := make([]uint64, 0, len(pages))
	for a := range pages {
		order = append(order, a)
	}
	slices.Sort(order)
	// mm.CheckAll stays on for every operation of the sequence; for the
	// hundred-odd reads and write probes here it is off, and Check runs
	// once after them (it walks the page tables: once per read would make
	// fuzzing ten times slower).
	h.mm.CheckAll = false
	defer func() { h.mm.CheckAll = true }()
	buf := make([]byte, PageSize)
	for _, a := range order {
		p := h.m.pages[a]
		clear(buf)
		n, err := h.mm.CopyIn(a, buf)
		if p != nil && readable(p.prot) && !p.beyondEOF() {
			if n != PageSize || err != nil {
				h.fail("CopyIn(%#x): n=%d err=%v, Linux reads the page", a, n, err)
			}
			if msg := p.read(buf); msg != "" {
				h.fail("contents at %#x: %s", a, msg)
			}
		} else if n != 0 || en(err) != unix.EFAULT {
			h.fail("CopyIn(%#x): n=%d err=%v, Linux faults (EFAULT)", a, n, err)
		}
		if p == nil || !writable(p.prot) || p.beyondEOF() {
			if n, err := h.mm.CopyOut(a, []byte{0x5a}); n != 0 || en(err) != unix.EFAULT {
				h.fail("CopyOut(%#x): n=%d err=%v, Linux faults (EFAULT)", a, n, err)
			}
		}
	}
	if err := h.mm.Check(); err != nil {
		h.fail("guestmm invariant violated after reading memory back: %v", err)
	}
	h.guestRan()
}

func attrStr(a pageAttr) string {
	var fs []string
	for _, f := range []struct {
		bit  int
		name string
	}{{Shared, "shared"}, {Anonymous, "anon"}, {GrowsDown, "growsdown"}, {Locked, "locked"}} {
		if a.flags&f.bit != 0 {
			fs = append(fs, f.name)
		}
	}
	return protStr(a.prot) + " " + strings.Join(fs, "|")
}

func protStr(p int) string {
	s := []byte("---")
	if p&unix.PROT_READ != 0 {
		s[0] = 'r'
	}
	if p&unix.PROT_WRITE != 0 {
		s[1] = 'w'
	}
	if p&unix.PROT_EXEC != 0 {
		s[2] = 'x'
	}
	if extra := p &^ protRWX; extra != 0 {
		return fmt.Sprintf("%s|%#x", s, extra)
	}
	return string(s)
}

// finish unmaps everything and checks no frame leaked.
func (h *fuzzHarness) finish() {
	h.t.Helper()
	for _, v := range h.mm.VMAs() {
		if err := h.mm.Munmap(v.Start, v.End-v.Start); err != nil {
			h.fail("final munmap of %+v: %v", v, err)
		}
	}
	h.guestRan()
	if n := h.mm.Len(); n != 0 {
		h.fail("%d VMAs left after unmapping everything", n)
	}
	if n := h.mem.MappedFiles(); n != 0 {
		h.fail("after unmapping everything %d host files (shared memory) are still mapped", n)
	}
	if used, tables := h.mem.Used(), uint64(h.pt.Tables())*PageSize; used != tables {
		h.fail("after unmapping everything %d frames are in use, only the %d page-table frames should be", used/PageSize, tables/PageSize)
	}
}

// run decodes and applies data.
func (h *fuzzHarness) run(d *decoder) {
	h.t.Helper()
	for ops := 0; d.more() && ops < maxOps; ops++ {
		h.op(d)
	}
	h.finish()
}

func (h *fuzzHarness) op(d *decoder) {
	h.t.Helper()
	switch d.b() % kinds {
	case kMmap:
		addr, l, pr, f1, f2 := h.addr(d.b()), mapLength(d.b()), prot(d.b()), d.b(), d.b()
		flags, placement := mapFlags(f1, f2)
		if placement == plNone {
			addr = 0
		}
		if avoid.mmapErrnoOrder && flags&unix.MAP_TYPE == 0 && (pageUp(l) == 0 || l > UserTop) {
			l = PageSize
		}
		if avoid.hintRounding && placement == plHint {
			addr = max(addr&^(PageSize-1), MinAddr)
		}
		o, ok := h.do(fmt.Sprintf("Mmap(MmapArgs{Addr: %#x, Len: %#x, Prot: %#x, Flags: %#x})", addr, l, pr, flags),
			func() outcome {
				a, err := h.mm.Mmap(MmapArgs{Addr: addr, Len: l, Prot: pr, Flags: flags})
				return outcome{val: a, err: en(err)}
			},
			func(m *model) outcome { a, e := m.mmap(addr, l, pr, flags); return outcome{val: a, err: e} })
		h.result(o, ok)
	case kMunmap:
		addr, l := h.addr(d.b()), h.wrapLen(length(d.b()))
		h.do(fmt.Sprintf("Munmap(%#x, %#x)", addr, l),
			func() outcome { return outcome{err: en(h.mm.Munmap(addr, l))} },
			func(m *model) outcome { return outcome{err: m.munmap(addr, l)} })
	case kMprotect:
		addr, l, pr := h.addr(d.b()), h.wrapLen(length(d.b())), prot(d.b())
		if avoid.mprotectGrows && pr&(unix.PROT_GROWSDOWN|unix.PROT_GROWSUP) != unix.PROT_GROWSDOWN|unix.PROT_GROWSUP {
			pr &^= unix.PROT_GROWSDOWN | unix.PROT_GROWSUP
		}
		h.do(fmt.Sprintf("Mprotect(%#x, %#x, %#x)", addr, l, pr),
			func() outcome { return outcome{err: en(h.mm.Mprotect(addr, l, pr))} },
			func(m *model) outcome { return outcome{err: m.mprotect(addr, l, pr)} })
	case kMremap:
		old, ol, nb, fb, na := h.addr(d.b()), length(d.b()), d.b(), d.b(), h.addr(d.b())
		flags := remapFlags[int(fb)%len(remapFlags)]
		nl := mapLength(nb)
		if flags&unix.MREMAP_DONTUNMAP != 0 && fb&0x80 == 0 {
			nl = ol // DONTUNMAP needs equal lengths; mostly give it them
		}
		if ol > 1<<30 && nl == ol {
			nl = 2 * PageSize
		}
		if p := h.m.pages[old]; avoid.mremapDup && pageUp(ol) == 0 && p != nil && p.shared {
			ol = PageSize
		}
		if avoid.dontunmapHint && flags&(unix.MREMAP_DONTUNMAP|unix.MREMAP_FIXED) == unix.MREMAP_DONTUNMAP &&
			(na%PageSize != 0 || na > UserTop-pageUp(nl) || old+pageUp(ol) > na && na+pageUp(nl) > old) {
			na = 0
		}
		md := func(m *model) outcome { a, e := m.mremap(old, ol, nl, flags, na); return outcome{val: a, err: e} }
		{
			o, n := pageUp(ol), pageUp(nl)
			v, found := h.mm.FindVMA(old)
			// What guestmm answers before it looks any further: its
			// checks, in its order.
			var early unix.Errno
			switch {
			case flags&^(unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED|unix.MREMAP_DONTUNMAP) != 0 || old%PageSize != 0,
				flags&(unix.MREMAP_FIXED|unix.MREMAP_DONTUNMAP) != 0 && flags&unix.MREMAP_MAYMOVE == 0,
				o == 0 || n == 0, flags&unix.MREMAP_DONTUNMAP != 0 && o != n:
				early = unix.EINVAL
			case !found || old+o < old || old+o > v.End:
				early = unix.EFAULT
			}
			linux, unknown := tryModel(h.m.clone(), md)
			why := ""
			switch {
			case avoid.mremapChecks && unknown == "" && early != 0 && linux.err != early:
				why = "avoid.mremapChecks"
			case avoid.mremapMinAddr && flags&unix.MREMAP_FIXED != 0 && na < MinAddr:
				why = "avoid.mremapMinAddr"
			case avoid.growAlias && found && n > o && (old > v.Start || old+o < v.End):
				why = "avoid.growAlias"
			case avoid.fixedWithinVMA && found && flags&unix.MREMAP_FIXED != 0 && na < v.End && v.Start < na+n:
				why = "avoid.fixedWithinVMA"
			}
			if why != "" {
				h.log = append(h.log, fmt.Sprintf("// skipped Mremap(%#x, %#x, %#x, %#x, %#x): %s", old, ol, nl, flags, na, why))
				return
			}
		}
		var tolerate func(outcome) func(*model) outcome
		if o, n := pageUp(ol), pageUp(nl); avoid.growSplit && n > o && flags&(unix.MREMAP_FIXED|unix.MREMAP_DONTUNMAP) == 0 {
			tolerate = func(got outcome) func(*model) outcome {
				switch {
				case got.err == unix.ENOMEM && flags&unix.MREMAP_MAYMOVE == 0:
					return func(m *model) outcome { return outcome{err: unix.ENOMEM} }
				case got.err == 0 && got.val != old && flags&unix.MREMAP_MAYMOVE != 0:
					return func(m *model) outcome { return outcome{val: m.move(old, o, m.place(n), n, false)} }
				}
				return nil
			}
			if linux, unknown := tryModel(h.m.clone(), md); unknown != "" || linux.err != 0 || linux.val != old {
				tolerate = nil // not an in-place growth
			}
		}
		o, ok := h.doTolerating(fmt.Sprintf("Mremap(%#x, %#x, %#x, %#x, %#x)", old, ol, nl, flags, na),
			func() outcome {
				a, err := h.mm.Mremap(old, ol, nl, flags, na)
				return outcome{val: a, err: en(err)}
			}, md, tolerate)
		h.result(o, ok)
	case kBrk:
		b1, b2 := d.b(), d.b()
		var addr uint64
		switch b1 {
		case 255:
			addr = ^uint64(0)
		case 254:
			addr = 0
		case 253:
			addr = MmapBase + PageSize
		default:
			addr = h.m.brkStart - 4*PageSize + uint64(b1%48)*PageSize
			if b2%4 == 1 {
				addr += 123
			}
		}
		if avoid.brkLimits {
			m := h.m
			oldbrk, newbrk := pageUp(m.brk), pageUp(addr)
			grow := addr > m.brk && newbrk > oldbrk
			shrink := addr <= m.brk && newbrk < oldbrk && addr >= m.brkStart
			linuxMoves := m.clone().brkSet(addr) != m.brk
			if grow && !m.anyMapped(oldbrk, newbrk+PageSize) && m.anyMapped(newbrk+PageSize, newbrk+StackGap) ||
				addr >= MmapBase && linuxMoves || shrink && !m.anyMapped(newbrk, oldbrk) {
				h.log = append(h.log, fmt.Sprintf("// skipped Brk(%#x): avoid.brkLimits", addr))
				return
			}
		}
		h.do(fmt.Sprintf("Brk(%#x)", addr),
			func() outcome { return outcome{val: h.mm.Brk(addr), isVal: true} },
			func(m *model) outcome { return outcome{val: m.brkSet(addr), isVal: true} })
	case kMadvise:
		addr, l, adv := h.addr(d.b()), h.wrapLen(length(d.b())), advices[int(d.b())%len(advices)]
		if avoid.madvFreeShared && adv == unix.MADV_FREE && addr%PageSize == 0 &&
			slices.ContainsFunc(h.m.keysIn(addr, addr+pageUp(l)), func(a uint64) bool { return h.m.pages[a].shared }) {
			adv = unix.MADV_DONTNEED
		}
		h.do(fmt.Sprintf("Madvise(%#x, %#x, %d)", addr, l, adv),
			func() outcome { return outcome{err: en(h.mm.Madvise(addr, l, adv))} },
			func(m *model) outcome { return outcome{err: m.madvise(addr, l, adv)} })
	case kWrite:
		addr, off, lb, val := h.addr(d.b()), d.b(), d.b(), d.b()
		addr += uint64(off) * 16 % PageSize
		buf := make([]byte, 1+int(lb)*32)
		for i := range buf {
			buf[i] = val + byte(i) | 1
		}
		h.do(fmt.Sprintf("CopyOut(%#x, pattern(%d, %#x))", addr, len(buf), val),
			func() outcome { n, err := h.mm.CopyOut(addr, buf); return outcome{n: n, err: en(err)} },
			func(m *model) outcome { n, e := m.copyOut(addr, buf); return outcome{n: n, err: e} })
	case kFault:
		addr, off, ab := h.addr(d.b()), d.b(), d.b()
		addr += uint64(off) * 16 % PageSize
		acc := Access(int(ab) % 3)
		h.do(fmt.Sprintf("HandleFault(%#x, %d)", addr, acc),
			func() outcome { r, _ := h.mm.HandleFault(addr, acc); return outcome{val: uint64(r), isVal: true} },
			func(m *model) outcome { return outcome{val: uint64(m.fault(addr, acc)), isVal: true} })
	case kSync:
		sel, addr, l, fb := d.b(), h.addr(d.b()), length(d.b()), d.b()
		if sel%2 == 0 {
			fl := syncFlags[int(fb)%len(syncFlags)]
			if avoid.msyncLocked && fl&unix.MS_INVALIDATE != 0 && addr%PageSize == 0 &&
				slices.ContainsFunc(h.m.keysIn(addr, addr+pageUp(l)), func(a uint64) bool { return h.m.pages[a].locked }) {
				fl &^= unix.MS_INVALIDATE
			}
			h.do(fmt.Sprintf("Msync(%#x, %#x, %#x)", addr, l, fl),
				func() outcome { return outcome{err: en(h.mm.Msync(addr, l, fl))} },
				func(m *model) outcome { return outcome{err: m.msync(addr, l, fl)} })
		} else {
			l = h.wrapLen(l)
			h.do(fmt.Sprintf("Mincore(%#x, %#x)", addr, l),
				func() outcome { _, err := h.mm.Mincore(addr, l); return outcome{err: en(err)} },
				func(m *model) outcome { return outcome{err: m.mincore(addr, l)} })
		}
	case kMlock:
		addr, l, lb := h.addr(d.b()), length(d.b()), d.b()
		if lb&2 != 0 {
			addr += 77
		}
		lock := lb&1 == 0
		h.do(fmt.Sprintf("Mlock(%#x, %#x, %v)", addr, l, lock),
			func() outcome { return outcome{err: en(h.mm.Mlock(addr, l, lock))} },
			func(m *model) outcome { return outcome{err: m.mlock(addr, l, lock)} })
	}
}

// wrapLen applies avoid.lengthWrap.
func (h *fuzzHarness) wrapLen(l uint64) uint64 {
	if avoid.lengthWrap && l != 0 && pageUp(l) == 0 {
		return PageSize
	}
	return l
}

func (h *fuzzHarness) result(o outcome, ok bool) {
	if ok && o.err == 0 {
		h.results = append(h.results, o.val)
		if len(h.results) > 8 {
			h.results = h.results[1:]
		}
	}
}

func runOps(t testing.TB, data []byte) {
	t.Helper()
	d := &decoder{data: data}
	h := newFuzzHarness(t, winBase+uint64(4+d.b()%16)*PageSize)
	h.run(d)
}

// ---- encoders for seeds and regression tests ----

// Window page n as an address byte; lp(n) is a length of n pages.
func wp(n int) byte { return byte(n) }
func lp(n int) byte { return byte(n - 1) }

// Indexes into protTable.
const (
	pNone byte = 0
	pR    byte = 1
	pRW   byte = 2
	pRX   byte = 5
	pRWX  byte = 6
)

// Mmap type and placement byte.
func mf(placement int, shared bool) byte {
	t := byte(0)
	if shared {
		t = 10
	}
	return byte(placement<<4) | t
}

func encMmap(addr, l, pr, f1, f2 byte) []byte { return []byte{kMmap, addr, l, pr, f1, f2} }
func encMunmap(addr, l byte) []byte           { return []byte{kMunmap, addr, l} }
func encMprotect(addr, l, pr byte) []byte     { return []byte{kMprotect, addr, l, pr} }

// encMremap: fl indexes remapFlags (|0x80: keep the new length with DONTUNMAP).
func encMremap(old, ol, nl, fl, na byte) []byte { return []byte{kMremap, old, ol, nl, fl, na} }
func encBrk(page, sub byte) []byte              { return []byte{kBrk, page, sub} }
func encMadvise(addr, l, adv byte) []byte       { return []byte{kMadvise, addr, l, adv} }
func encWrite(addr, off, l, val byte) []byte    { return []byte{kWrite, addr, off, l, val} }
func encFault(addr, off, acc byte) []byte       { return []byte{kFault, addr, off, acc} }
func encMsync(addr, l, fl byte) []byte          { return []byte{kSync, 0, addr, l, fl} }
func encMincore(addr, l byte) []byte            { return []byte{kSync, 1, addr, l, 0} }
func encMlock(addr, l, lb byte) []byte          { return []byte{kMlock, addr, l, lb} }

func seq(cfg byte, ops ...[]byte) []byte {
	out := []byte{cfg}
	for _, o := range ops {
		out = append(out, o...)
	}
	return out
}

// seeds are interesting sequences; `go test` runs them as plain tests.
func seeds() [][]byte {
	priv, shared := mf(plFixed, false), mf(plFixed, true)
	return [][]byte{
		// Map, write, read back, protect a middle page, restore (must
		// merge back), unmap a hole, protect across it (ENOMEM).
		seq(0, encMmap(wp(8), lp(8), pRW, priv, 0), encWrite(wp(9), 3, 40, 7),
			encMprotect(wp(10), lp(1), pR), encMprotect(wp(10), lp(1), pRW),
			encMunmap(wp(13), lp(1)), encMprotect(wp(12), lp(2), pR)),
		// MAP_FIXED replacing the middle of a mapping; NOREPLACE -> EEXIST.
		seq(1, encMmap(wp(8), lp(6), pRW, priv, 0), encWrite(wp(8), 0, 255, 1),
			encMmap(wp(10), lp(2), pR, priv, 0), encMmap(wp(9), lp(2), pRW, mf(plNoReplace, false), 0),
			encMmap(wp(20), lp(2), pRW, mf(plNoReplace, false), 0)),
		// Non-fixed mappings (top-down below MmapBase) and hints.
		seq(2, encMmap(0, lp(3), pRW, mf(plNone, false), 0), encMmap(0, lp(2), pRW, mf(plNone, false), 0),
			encMmap(wp(30), lp(2), pRW, mf(plHint, false), 0), encMmap(wp(30), lp(2), pRW, mf(plHint, false), 0),
			encWrite(wp(30), 0, 10, 9)),
		// mremap: shrink, grow in place, move, fixed, dontunmap.
		seq(3, encMmap(wp(4), lp(4), pRW, priv, 0), encWrite(wp(4), 0, 255, 3),
			encMremap(wp(4), lp(4), lp(2), 0, 0), encMremap(wp(4), lp(2), lp(6), 0, 0),
			encMremap(wp(4), lp(6), lp(8), 1, 0), encMremap(wp(4), lp(2), lp(2), 2, wp(40)),
			encMremap(wp(40), lp(2), lp(2), 3, wp(50))),
		// brk up and down, with a mapping in the way.
		seq(4, encBrk(6, 0), encWrite(wp(8), 0, 100, 4), encBrk(10, 1), encBrk(5, 0),
			encMmap(wp(14), lp(1), pR, priv, 0), encBrk(12, 0), encBrk(2, 0)),
		// madvise: DONTNEED zeroes private pages, not shared ones; FREE.
		seq(5, encMmap(wp(8), lp(2), pRW, priv, 0), encMmap(wp(10), lp(2), pRW, shared, 0),
			encWrite(wp(8), 0, 255, 5), encWrite(wp(10), 0, 255, 6), encMadvise(wp(8), lp(4), 0),
			encWrite(wp(8), 0, 2, 7), encMadvise(wp(8), lp(1), 2), encMadvise(wp(10), lp(1), 3)),
		// Shared mappings: mremap dontunmap and duplicate keep the contents.
		seq(6, encMmap(wp(8), lp(2), pRW, shared, 0), encWrite(wp(8), 0, 40, 8),
			encMremap(wp(8), lp(2), lp(2), 3, wp(20)), encMremap(wp(8), 0, lp(2), 1, 0)),
		// Faults, msync, mincore, mlock.
		seq(7, encMmap(wp(8), lp(3), pR, priv, 0), encFault(wp(8), 0, 0), encFault(wp(8), 0, 1),
			encFault(wp(12), 0, 0), encMsync(wp(8), lp(3), 1), encMincore(wp(8), lp(4)),
			encMlock(wp(8), lp(2), 0), encMlock(wp(8), lp(2), 1)),
		// mremap(MREMAP_FIXED) into the VMA of the old range (found by a
		// random sweep; TestRegressMremapFixedWithinVMA).
		[]byte(")\xaa\xaf\xd4(\xe6\xda\xd5\xefe}b{"),
		// Low addresses and the top of the user half.
		seq(8, encMmap(192+4, lp(2), pRW, priv, 0), encMmap(192+10, lp(2), pRW, priv, 0),
			encMmap(249, lp(1), pRW, priv, 0), encMmap(249, lp(2), pRW, priv, 0)),
	}
}

func TestFuzzSeeds(t *testing.T) {
	for i, s := range seeds() {
		t.Run(fmt.Sprint(i), func(t *testing.T) { runOps(t, s) })
	}
}

func FuzzOps(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { runOps(t, data) })
}
