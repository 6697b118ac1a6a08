// model_test.go: a reference model of a Linux x86-64 address space, page by
// page, for FuzzOps (fuzz_test.go) to compare guestmm against.
//
// The model knows nothing of VMAs, objects or page tables. Each mapped page
// has its protection, its flags (private or shared, locked; every page is
// anonymous) and its contents. Operations follow Linux's code (mm/mmap.c,
// mm/mremap.c, mm/mprotect.c, mm/madvise.c, mm/mlock.c, mm/msync.c,
// arch/x86/kernel/sys_x86_64.c of a current kernel), including the order in
// which errors are detected, for an unprivileged process with unlimited
// rlimits (RLIMIT_MEMLOCK, RLIMIT_DATA, RLIMIT_AS), vm.mmap_min_addr=65536,
// no transparent huge pages in play (the fuzz window is smaller than 2 MiB),
// and a CPU without protection keys (so PROT_EXEC alone is readable).
//
// Deliberate simplifications:
//   - mprotect and mlock over a range with a hole fail with ENOMEM and change
//     nothing. Linux applies the change to the VMAs before the hole first;
//     guestmm validates first, which is the better behaviour, and the model
//     takes it.
//   - Placement of a mapping without MAP_FIXED is the implementation's
//     choice: the model accepts any free, valid range the implementation
//     picked (model.want), except that a free, valid hint must be honoured.
//
// Linux's VMA boundaries are not observable through contents, but a few
// results depend on them (mremap fails with EFAULT when the old range
// spans two VMAs), and FuzzOps asserts guestmm merges what Linux would
// merge. So each private page also carries what decides merging in Linux:
// its vm_pgoff, whether its VMA may have an anon_vma, and VM_ACCOUNT (see
// boundary). Where Linux's result depends on a VMA boundary the model cannot
// determine, the operation panics with unknownOutcome and FuzzOps skips it.
package guestmm

import (
	"bytes"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"
)

const (
	protRWX = unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC
	// protSem (PROT_SEM) is guestmm's own constant (ops.go).
)

// shmObj is the shmem file behind a MAP_SHARED|MAP_ANONYMOUS mapping.
type shmObj struct {
	id   int
	size uint64            // pages; an access at or past it is SIGBUS
	data map[uint64][]byte // page index -> contents; absent reads as zero
}

// mpage is one mapped page.
type mpage struct {
	prot   int // PROT_READ|PROT_WRITE|PROT_EXEC bits
	shared bool
	locked bool

	// Contents. A shared page is page idx of obj. A private page holds its
	// own: one of cands (nil = zero), or zero if lazy (MADV_FREE'd and not
	// written since: Linux may drop it at any time). Reads collapse the set
	// to what was seen; writes apply to every candidate.
	obj   *shmObj
	idx   uint64
	cands [][]byte
	lazy  bool

	// What decides merging of private anonymous VMAs in Linux (see
	// model.boundary): vm_pgoff of this page (unknown when pgoffOK is
	// false), whether its VMA may have an anon_vma (av: false means it
	// certainly has none), and VM_ACCOUNT (acc: 0, 1, or -1 unknown).
	pgoff   uint64
	pgoffOK bool
	av      bool
	acc     int8

	// lineage identifies the mmap or brk call that made the page (kept
	// through splits and moves), for diagnostics; remapped says mremap
	// placed the page (a move or an in-place growth) or left it behind
	// (MREMAP_DONTUNMAP).
	lineage  int
	remapped bool
}

// unknownOutcome is panicked by a model operation whose Linux result the
// model cannot determine.
type unknownOutcome struct{ why string }

func unknown(format string, args ...any) { panic(unknownOutcome{fmt.Sprintf(format, args...)}) }

type model struct {
	pages          map[uint64]*mpage
	brkStart, brk  uint64
	objs, lineages int

	// want is the address the implementation chose for a placement the
	// model leaves open (0: none, pick one); placeErr records why the
	// model rejected it.
	want     uint64
	placeErr string
}

func newModel(brkStart uint64) *model {
	return &model{pages: map[uint64]*mpage{}, brkStart: brkStart, brk: brkStart}
}

// clone returns a deep copy (contents slices are never mutated in place).
func (m *model) clone() *model {
	c := *m
	c.pages = make(map[uint64]*mpage, len(m.pages))
	objs := map[*shmObj]*shmObj{}
	for a, p := range m.pages {
		np := *p
		np.cands = slices.Clone(p.cands)
		if p.obj != nil {
			o, ok := objs[p.obj]
			if !ok {
				o = &shmObj{id: p.obj.id, size: p.obj.size, data: make(map[uint64][]byte, len(p.obj.data))}
				for i, d := range p.obj.data {
					o.data[i] = d
				}
				objs[p.obj] = o
			}
			np.obj = o
		}
		c.pages[a] = &np
	}
	return &c
}

// keys returns the mapped page addresses in [start, end) in order.
func (m *model) keysIn(start, end uint64) []uint64 {
	var ks []uint64
	for a := range m.pages {
		if a >= start && a < end {
			ks = append(ks, a)
		}
	}
	slices.Sort(ks)
	return ks
}

func (m *model) keys() []uint64 { return m.keysIn(0, ^uint64(0)) }

func (m *model) anyMapped(start, end uint64) bool {
	if end-start <= 64*PageSize {
		for a := start; a < end; a += PageSize {
			if m.pages[a] != nil {
				return true
			}
		}
		return false
	}
	return len(m.keysIn(start, end)) != 0
}

// covered reports whether every page of [start, end) is mapped.
func (m *model) covered(start, end uint64) bool {
	return uint64(len(m.keysIn(start, end))) == (end-start)/PageSize
}

func (m *model) unmap(start, end uint64) {
	for _, a := range m.keysIn(start, end) {
		delete(m.pages, a)
	}
}

// Boundary kinds between two neighbouring pages, as Linux would have them.
const (
	bSplit   = iota // certainly in different VMAs (or a hole)
	bMerged         // certainly in one VMA
	bUnknown        // it depends on history the model does not track
)

// boundary classifies the boundary between the pages at a-PageSize and a.
//
// Certainly split: attributes a VMA has one value of differ (private or
// shared, protection, VM_LOCKED, known VM_ACCOUNT), or vm_pgoff is known
// and not contiguous, or (shared) the pages are not consecutive pages of
// one shmem file.
//
// Certainly merged: both private, equal protection and VM_LOCKED, known
// and equal VM_ACCOUNT, known contiguous vm_pgoff, and neither VMA has an
// anon_vma; or both shared, consecutive pages of one shmem file, equal
// protection and VM_LOCKED. Why: Linux tries to merge a VMA with both
// neighbours whenever an operation creates it or changes its flags
// (mmap_region, vma_modify_flags for mprotect and mlock, copy_vma for an
// mremap move, vma_merge_extend for an in-place mremap expansion; brk only
// looks backwards but keeps a page of gap before the next VMA); and with no
// anon_vma on either side (is_mergeable_anon_vma) every such attempt between
// pages like these succeeds. The only flag change without a merge attempt
// is MREMAP_DONTUNMAP clearing VM_LOCKED (and in some versions VM_ACCOUNT)
// on the old VMA; the model marks VM_ACCOUNT unknown there and never lets a
// locked VMA go through it (unknownOutcome). So once two such pages became neighbours
// with these attributes, the operation that did it merged them.
func (m *model) boundary(a uint64) int {
	p, q := m.pages[a-PageSize], m.pages[a]
	if p == nil || q == nil || p.shared != q.shared || p.prot != q.prot || p.locked != q.locked {
		return bSplit
	}
	if p.shared {
		if p.obj != q.obj || q.idx != p.idx+1 {
			return bSplit
		}
		return bMerged
	}
	if p.pgoffOK && q.pgoffOK && q.pgoff != p.pgoff+1 {
		return bSplit
	}
	if p.acc >= 0 && q.acc >= 0 && p.acc != q.acc {
		return bSplit
	}
	if !p.av && !q.av && p.pgoffOK && q.pgoffOK && p.acc >= 0 {
		return bMerged
	}
	return bUnknown
}

// coarse reports whether Linux could possibly have the private pages at
// a-PageSize and a in one VMA (ignoring VM_ACCOUNT and anon_vma).
func (m *model) coarse(a uint64) bool {
	p, q := m.pages[a-PageSize], m.pages[a]
	return p != nil && q != nil && !p.shared && !q.shared && p.prot == q.prot && p.locked == q.locked &&
		(!p.pgoffOK || !q.pgoffOK || q.pgoff == p.pgoff+1)
}

// run returns the coarse run around the private page at a: a superset of
// the Linux VMA holding it.
func (m *model) run(a uint64) (start, end uint64) {
	start, end = a, a+PageSize
	for m.coarse(start) {
		start -= PageSize
	}
	for m.coarse(end) {
		end += PageSize
	}
	return start, end
}

// closeAV spreads "may have an anon_vma" over coarse runs: a merge joins
// VMAs only within one, and the merged VMA takes the anon_vma. Run after
// every operation.
func (m *model) closeAV() {
	ks := m.keys()
	for i := 0; i < len(ks); {
		j := i + 1
		for j < len(ks) && ks[j] == ks[j-1]+PageSize && m.coarse(ks[j]) {
			j++
		}
		any := false
		for _, a := range ks[i:j] {
			any = any || m.pages[a].av
		}
		if any {
			for _, a := range ks[i:j] {
				m.pages[a].av = true
			}
		}
		i = j
	}
}

// vmaSuffix returns how many bytes of the Linux VMA holding addr lie at or
// after addr, up to need; it panics unknownOutcome when that depends on a
// boundary the model cannot classify.
func (m *model) vmaSuffix(addr, need uint64) uint64 {
	for a := addr + PageSize; a-addr < need; a += PageSize {
		switch m.boundary(a) {
		case bSplit:
			return a - addr
		case bUnknown:
			unknown("whether [%#x, +%#x) is one Linux VMA (boundary at %#x)", addr, need, a)
		}
	}
	return need
}

// free reports whether [start, end) is a valid, unmapped range.
func (m *model) free(start, end uint64) bool {
	return start%PageSize == 0 && start >= MinAddr && end > start && end <= UserTop && !m.anyMapped(start, end)
}

// place picks the address of a mapping of length bytes whose placement is
// up to the implementation: the implementation's choice if it is valid.
func (m *model) place(length uint64) uint64 {
	if m.want != 0 {
		if m.free(m.want, m.want+length) {
			return m.want
		}
		m.placeErr = fmt.Sprintf("placed %#x+%#x over a mapped or invalid range", m.want, length)
	}
	for end := uint64(MmapBase); end >= MinAddr+length; end -= PageSize {
		if m.free(end-length, end) {
			return end - length
		}
	}
	panic("model: address space full")
}

// readable and writable are the x86 rules: write implies read, and without
// protection keys so does exec.
func readable(prot int) bool { return prot&protRWX != 0 }
func writable(prot int) bool { return prot&unix.PROT_WRITE != 0 }

// beyondEOF reports whether the page is past its shmem file's end (SIGBUS).
func (p *mpage) beyondEOF() bool { return p.shared && p.idx >= p.obj.size }

func (m *model) newLineage() int { m.lineages++; return m.lineages }

// newPrivate returns a fresh demand-zero private page mapped at addr by a
// new mapping (vm_pgoff = addr >> PAGE_SHIFT, no anon_vma).
func newPrivate(addr uint64, prot int, locked bool, lineage int) *mpage {
	acc := int8(0)
	if writable(prot) {
		acc = 1 // accountable_mapping: private and writable
	}
	return &mpage{prot: prot, locked: locked, cands: [][]byte{nil}, pgoff: addr / PageSize, pgoffOK: true, acc: acc, lineage: lineage}
}

// ---- contents ----

// read checks got (a whole page) against the page's possible contents and
// narrows them; it returns a description of the mismatch, or "".
func (p *mpage) read(got []byte) string {
	if p.shared {
		want := p.obj.data[p.idx]
		if !pageEq(got, want) {
			return fmt.Sprintf("shared page %d of shm#%d: got %s, want %s", p.idx, p.obj.id, summary(got), summary(want))
		}
		return ""
	}
	for _, c := range p.cands {
		if pageEq(got, c) {
			p.cands = [][]byte{c}
			return ""
		}
	}
	if p.lazy && pageEq(got, nil) {
		p.cands, p.lazy = [][]byte{nil}, false
		return ""
	}
	var ws []string
	for _, c := range p.cands {
		ws = append(ws, summary(c))
	}
	if p.lazy {
		ws = append(ws, "zero (MADV_FREE)")
	}
	return fmt.Sprintf("private page: got %s, want one of %v", summary(got), ws)
}

// write stores b at offset off of the page.
func (m *model) writePage(p *mpage, off int, b []byte) {
	apply := func(old []byte) []byte {
		n := make([]byte, PageSize)
		copy(n, old)
		copy(n[off:], b)
		return n
	}
	if p.shared {
		p.obj.data[p.idx] = apply(p.obj.data[p.idx])
		return
	}
	if p.lazy {
		p.cands = append(p.cands, nil)
		p.lazy = false
	}
	var cs [][]byte
	for _, c := range p.cands {
		n := apply(c)
		if !slices.ContainsFunc(cs, func(x []byte) bool { return bytes.Equal(x, n) }) {
			cs = append(cs, n)
		}
	}
	p.cands = cs
	p.av = true // a write fault gives the VMA an anon_vma
}

func pageEq(got, want []byte) bool {
	if want == nil {
		for _, c := range got {
			if c != 0 {
				return false
			}
		}
		return true
	}
	return bytes.Equal(got, want)
}

func summary(b []byte) string {
	if b == nil {
		return "zero"
	}
	nz := 0
	first := -1
	for i, c := range b {
		if c != 0 {
			nz++
			if first < 0 {
				first = i
			}
		}
	}
	if nz == 0 {
		return "zero"
	}
	return fmt.Sprintf("{%d nonzero bytes, first at %d = %#x}", nz, first, b[first])
}

// ---- operations ----

func roundHintToMin(hint uint64) uint64 {
	hint &^= PageSize - 1
	if hint != 0 && hint < MinAddr {
		return pageUp(MinAddr)
	}
	return hint
}

// mmap is mmap(addr, length, prot, flags, -1, 0) with MAP_ANONYMOUS.
func (m *model) mmap(addr, length uint64, prot, flags int) (uint64, unix.Errno) {
	if length == 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.MAP_FIXED_NOREPLACE != 0 {
		flags |= unix.MAP_FIXED
	}
	fixed := flags&unix.MAP_FIXED != 0
	if !fixed {
		addr = roundHintToMin(addr)
	}
	length = pageUp(length)
	if length == 0 {
		return 0, unix.ENOMEM
	}
	// __get_unmapped_area and x86's arch_get_unmapped_area_topdown.
	if length > UserTop {
		return 0, unix.ENOMEM
	}
	if !fixed {
		// A hint is honoured when mmap_address_hint_valid (it ends below
		// the 47-bit window) and the range is free.
		if !(addr != 0 && addr+length > addr && addr+length <= UserTop && m.free(addr, addr+length)) {
			addr = m.place(length)
		}
	}
	if addr > UserTop-length {
		return 0, unix.ENOMEM
	}
	if addr%PageSize != 0 {
		return 0, unix.EINVAL
	}
	if addr < MinAddr {
		return 0, unix.EPERM // security_mmap_addr, unprivileged
	}
	if flags&unix.MAP_FIXED_NOREPLACE != 0 && m.anyMapped(addr, addr+length) {
		return 0, unix.EEXIST
	}
	shared := false
	switch flags & unix.MAP_TYPE {
	case unix.MAP_SHARED:
		if flags&unix.MAP_GROWSDOWN != 0 {
			return 0, unix.EINVAL
		}
		shared = true
	case unix.MAP_PRIVATE:
		if flags&unix.MAP_GROWSDOWN != 0 {
			unknown("MAP_GROWSDOWN stacks are not modelled")
		}
	default:
		return 0, unix.EINVAL // including MAP_SHARED_VALIDATE: anonymous mappings take no validated flags
	}
	m.unmap(addr, addr+length)
	prot &= protRWX
	locked := flags&unix.MAP_LOCKED != 0
	lin := m.newLineage()
	var obj *shmObj
	if shared {
		m.objs++
		obj = &shmObj{id: m.objs, size: length / PageSize, data: map[uint64][]byte{}}
	}
	populate := locked || flags&(unix.MAP_POPULATE|unix.MAP_NONBLOCK) == unix.MAP_POPULATE
	for i := uint64(0); i < length/PageSize; i++ {
		a := addr + i*PageSize
		if shared {
			m.pages[a] = &mpage{prot: prot, shared: true, locked: locked, obj: obj, idx: i, lineage: lin}
			continue
		}
		p := newPrivate(a, prot, locked, lin)
		// Populating a private writable mapping write-faults it
		// (FOLL_WRITE), which gives it an anon_vma.
		p.av = populate && writable(prot)
		m.pages[a] = p
	}
	m.closeAV()
	return addr, 0
}

// munmapErr is do_vmi_munmap's argument check.
func munmapErr(start, length uint64) unix.Errno {
	if start%PageSize != 0 || start > UserTop || length > UserTop-start || pageUp(length) == 0 {
		return unix.EINVAL
	}
	return 0
}

func (m *model) munmap(start, length uint64) unix.Errno {
	if e := munmapErr(start, length); e != 0 {
		return e
	}
	m.unmap(start, start+pageUp(length))
	return 0
}

func (m *model) mprotect(start, length uint64, prot int) unix.Errno {
	grows := prot & (unix.PROT_GROWSDOWN | unix.PROT_GROWSUP)
	prot &^= grows
	if grows == unix.PROT_GROWSDOWN|unix.PROT_GROWSUP {
		return unix.EINVAL
	}
	if start%PageSize != 0 {
		return unix.EINVAL
	}
	if length == 0 {
		return 0
	}
	length = pageUp(length)
	end := start + length
	if end <= start {
		return unix.ENOMEM
	}
	if prot&^(protRWX|protSem) != 0 {
		return unix.EINVAL // arch_validate_prot
	}
	ks := m.keysIn(start, end)
	if len(ks) == 0 {
		return unix.ENOMEM
	}
	if grows&unix.PROT_GROWSDOWN != 0 {
		return unix.EINVAL // the VMA is not VM_GROWSDOWN
	}
	if ks[0] > start {
		return unix.ENOMEM
	}
	if grows&unix.PROT_GROWSUP != 0 {
		return unix.EINVAL // x86 has no VM_GROWSUP
	}
	if uint64(len(ks)) != length/PageSize {
		return unix.ENOMEM // see the package comment: no partial application
	}
	prot &= protRWX
	for _, a := range ks {
		p := m.pages[a]
		if !p.shared {
			// mprotect_fixup's VM_ACCOUNT rules.
			switch {
			case writable(prot):
				if !writable(p.prot) {
					p.acc = 1
				}
			case p.acc == 0:
			case !p.av:
				p.acc = 0 // VM_ACCOUNT dropped: anonymous, no anon_vma
			default:
				p.acc = -1
			}
		}
		p.prot = prot
	}
	m.closeAV()
	return 0
}

// Madvise advices the model knows. Others change VMA flags in Linux and are
// not generated.
func madviseKnown(advice int) bool {
	switch advice {
	case unix.MADV_NORMAL, unix.MADV_WILLNEED, unix.MADV_DONTNEED, unix.MADV_FREE, unix.MADV_REMOVE:
		return true
	}
	return false
}

func (m *model) madvise(start, length uint64, advice int) unix.Errno {
	if !madviseKnown(advice) {
		return unix.EINVAL
	}
	if start%PageSize != 0 {
		return unix.EINVAL
	}
	l := pageUp(length)
	if length != 0 && l == 0 {
		return unix.EINVAL
	}
	end := start + l
	if end < start {
		return unix.EINVAL
	}
	if end == start {
		return 0
	}
	// madvise_walk_vmas: VMA by VMA (page by page here: the conditions are
	// per VMA, so the first failing page is where the failing VMA starts);
	// a failure returns at once, holes give ENOMEM at the end.
	ks := m.keysIn(start, end)
	for _, a := range ks {
		p := m.pages[a]
		switch advice {
		case unix.MADV_DONTNEED, unix.MADV_FREE:
			if p.locked {
				return unix.EINVAL
			}
			if advice == unix.MADV_FREE && p.shared {
				return unix.EINVAL // MADV_FREE is for anonymous (not shmem) VMAs only
			}
			if p.shared {
				continue // PTEs go, the shmem pages stay
			}
			if advice == unix.MADV_DONTNEED {
				p.cands, p.lazy = [][]byte{nil}, false
			} else {
				p.lazy = true
			}
		case unix.MADV_REMOVE:
			if p.locked || !p.shared {
				return unix.EINVAL // locked, or no file behind it
			}
			if !writable(p.prot) {
				// Current kernels check VM_MAYWRITE (always set for shared
				// anonymous memory) and punch; older ones checked VM_WRITE
				// and gave EACCES.
				unknown("MADV_REMOVE on read-only shared memory differs between kernel versions")
			}
			delete(p.obj.data, p.idx) // hole punched in the shmem file
		}
	}
	if uint64(len(ks)) != l/PageSize {
		return unix.ENOMEM
	}
	return 0
}

// mremap follows do_mremap of current kernels (6.17 and later: lengths
// are page-aligned first, the new address is validated before the VMA
// lookup, and an equal-length MREMAP_FIXED move may span several VMAs).
func (m *model) mremap(old, oldLen, newLen uint64, flags int, newAddr uint64) (uint64, unix.Errno) {
	const known = unix.MREMAP_MAYMOVE | unix.MREMAP_FIXED | unix.MREMAP_DONTUNMAP
	oldLen, newLen = pageUp(oldLen), pageUp(newLen)
	// check_mremap_params
	if flags&^known != 0 || old%PageSize != 0 || newLen == 0 || newLen > UserTop {
		return 0, unix.EINVAL
	}
	implies := flags&(unix.MREMAP_FIXED|unix.MREMAP_DONTUNMAP) != 0
	if implies {
		if newAddr > UserTop-newLen || newAddr%PageSize != 0 || flags&unix.MREMAP_MAYMOVE == 0 ||
			flags&unix.MREMAP_DONTUNMAP != 0 && oldLen != newLen ||
			old+oldLen > newAddr && newAddr+newLen > old { // vrm_overlaps, with Linux's wrap-around
			return 0, unix.EINVAL
		}
	}
	if flags&unix.MREMAP_FIXED != 0 && oldLen == newLen {
		return m.remapMove(old, oldLen, newAddr, flags&unix.MREMAP_DONTUNMAP != 0)
	}
	p := m.pages[old]
	if p == nil {
		return 0, unix.EFAULT // vma_lookup
	}
	// check_prep_vma
	if newLen > oldLen || implies {
		if oldLen == 0 && !p.shared {
			return 0, unix.EINVAL // no duplicating private mappings
		}
		if need := min(oldLen, newLen); need > m.vmaSuffix(old, need) {
			return 0, unix.EFAULT // a shrink may cross VMA ends, a move may not
		}
	}
	if implies {
		return m.mremapTo(old, oldLen, newLen, flags, newAddr)
	}
	switch {
	case oldLen == newLen:
		return old, 0
	case oldLen > newLen:
		if e := munmapErr(old+newLen, oldLen-newLen); e != 0 {
			return 0, e
		}
		m.unmap(old+newLen, old+oldLen)
		return old, 0
	}
	// expand_vma: in place when the range ends where the VMA does (the next
	// page is unmapped: the range lies in one VMA) and the VMA can grow.
	end, delta := old+oldLen, newLen-oldLen
	if oldLen != 0 && m.pages[end] == nil && end+delta > end && end+delta <= UserTop && !m.anyMapped(end, end+delta) {
		last := m.pages[end-PageSize]
		for i := uint64(0); i < delta/PageSize; i++ {
			p := last.extend(i + 1)
			p.remapped = true
			m.pages[end+i*PageSize] = p
		}
		if last.locked {
			m.populated(end, end+delta)
		}
		m.closeAV()
		return old, 0
	}
	if flags&unix.MREMAP_MAYMOVE == 0 {
		return 0, unix.ENOMEM
	}
	return m.move(old, oldLen, m.place(newLen), newLen, false), 0
}

// remapMove is remap_move: every VMA piece of [old, old+length) moves to
// the same offset from newAddr (gaps between pieces are kept, and what is
// mapped in the destination under a gap stays); the range must start
// mapped.
func (m *model) remapMove(old, length, newAddr uint64, dontunmap bool) (uint64, unix.Errno) {
	ks := m.keysIn(old, old+length)
	if len(ks) == 0 || ks[0] != old {
		return 0, unix.EFAULT
	}
	if newAddr < MinAddr {
		// The first piece fails in get_unmapped_area after its
		// destination was unmapped.
		first := m.vmaSuffix(old, length)
		m.unmap(newAddr, newAddr+first)
		return 0, unix.EPERM
	}
	// Runs of consecutive pages move like the pieces they are made of.
	for i := 0; i < len(ks); {
		j := i + 1
		for j < len(ks) && ks[j] == ks[j-1]+PageSize {
			j++
		}
		start, n := ks[i], uint64(j-i)*PageSize
		dst := newAddr + (start - old)
		m.unmap(dst, dst+n)
		if dontunmap && slices.ContainsFunc(ks[i:j], func(a uint64) bool { return m.pages[a].locked }) {
			// (A run may hold several Linux VMAs, any of them locked.)
			unknown("MREMAP_DONTUNMAP clears VM_LOCKED on the whole old VMA, whose extent the model does not know")
		}
		m.move(start, n, dst, n, dontunmap)
		i = j
	}
	return newAddr, 0
}

// extend returns the page i pages after p in p's VMA, never touched.
func (p *mpage) extend(i uint64) *mpage {
	n := *p
	if p.shared {
		n.idx = p.idx + i
	} else {
		n.cands, n.lazy = [][]byte{nil}, false
		n.pgoff = p.pgoff + i
	}
	return &n
}

// populated records that [start, end) was populated (mlock, MAP_POPULATE):
// private writable pages were write-faulted.
func (m *model) populated(start, end uint64) {
	for _, a := range m.keysIn(start, end) {
		if p := m.pages[a]; !p.shared && writable(p.prot) {
			p.av = true
		}
	}
}

// mremapTo is mremap_to after check_prep_vma.
func (m *model) mremapTo(old, oldLen, newLen uint64, flags int, newAddr uint64) (uint64, unix.Errno) {
	dontunmap := flags&unix.MREMAP_DONTUNMAP != 0
	if flags&unix.MREMAP_FIXED != 0 {
		m.unmap(newAddr, newAddr+newLen)
	}
	if oldLen > newLen {
		if e := munmapErr(old+newLen, oldLen-newLen); e != 0 {
			return 0, e
		}
		m.unmap(old+newLen, old+oldLen)
		oldLen = newLen
	}
	if dontunmap && m.pages[old].locked {
		unknown("MREMAP_DONTUNMAP clears VM_LOCKED on the whole old VMA, whose extent the model does not know")
	}
	var dst uint64
	if flags&unix.MREMAP_FIXED != 0 {
		dst = newAddr
	} else if newAddr != 0 && newAddr+newLen <= UserTop && m.free(newAddr, newAddr+newLen) {
		dst = newAddr // MREMAP_DONTUNMAP: new_addr is a hint
	} else {
		if newAddr != 0 && newAddr < MinAddr {
			unknown("a hint below mmap_min_addr for MREMAP_DONTUNMAP")
		}
		dst = m.place(newLen)
	}
	if dst < MinAddr {
		return 0, unix.EPERM // security_mmap_addr in get_unmapped_area
	}
	return m.move(old, oldLen, dst, newLen, dontunmap), 0
}

// move is move_vma: [old, old+oldLen) of one VMA moves to dst, newLen long.
func (m *model) move(old, oldLen, dst, newLen uint64, dontunmap bool) uint64 {
	first := m.pages[old]
	n := newLen / PageSize
	moved := make([]*mpage, 0, n)
	for i := uint64(0); i < n; i++ {
		var p *mpage
		if i < oldLen/PageSize {
			c := *m.pages[old+i*PageSize]
			p = &c
		} else {
			p = first.extend(i)
		}
		if !p.shared {
			// copy_vma: a VMA without anon_vma gets vm_pgoff of its new
			// place; with one it keeps its own (av is uniform over a VMA).
			if !p.av {
				p.pgoff, p.pgoffOK = dst/PageSize+i, true
			} else {
				p.pgoffOK = false
			}
		}
		p.remapped = true
		moved = append(moved, p)
	}
	if dontunmap {
		for i := uint64(0); i < oldLen/PageSize; i++ {
			a := old + i*PageSize
			p := m.pages[a]
			if !p.shared {
				p.cands, p.lazy = [][]byte{nil}, false // its pages moved away
			}
			p.remapped = true
		}
	} else {
		m.unmap(old, old+oldLen)
	}
	for i, p := range moved {
		m.pages[dst+uint64(i)*PageSize] = p
	}
	if first.locked && newLen > oldLen {
		m.populated(dst+oldLen, dst+newLen)
	}
	if dontunmap && !first.shared {
		// dontunmap_complete may clear VM_ACCOUNT on the old VMA (it did
		// in some versions), which lies within the coarse run (and may
		// have merged with the new one).
		s, e := m.run(old)
		for a := s; a < e; a += PageSize {
			m.pages[a].acc = -1
		}
	}
	m.closeAV()
	return dst
}

// brkSet is brk(2); it returns the new (or unchanged) break.
func (m *model) brkSet(addr uint64) uint64 {
	if addr < m.brkStart {
		return m.brk
	}
	newbrk, oldbrk := pageUp(addr), pageUp(m.brk)
	if oldbrk == newbrk {
		m.brk = addr
		return addr
	}
	if addr <= m.brk {
		// Shrinking needs some mapping in the range, and unmaps all of it.
		if !m.anyMapped(newbrk, oldbrk) {
			return m.brk
		}
		m.unmap(newbrk, oldbrk)
		m.brk = addr
		return addr
	}
	// check_brk_limits: get_unmapped_area(MAP_FIXED) of the growth.
	l := newbrk - oldbrk
	if newbrk < oldbrk || l > UserTop || oldbrk > UserTop-l || oldbrk < MinAddr {
		return m.brk
	}
	// The next VMA must start at least a page above the new break.
	if m.anyMapped(oldbrk, newbrk+PageSize) {
		return m.brk
	}
	lin := m.newLineage()
	for a := oldbrk; a < newbrk; a += PageSize {
		p := newPrivate(a, unix.PROT_READ|unix.PROT_WRITE, false, lin)
		p.acc = 1 // do_brk_flags: VM_ACCOUNT
		m.pages[a] = p
	}
	m.brk = addr
	m.closeAV()
	return addr
}

func (m *model) msync(start, length uint64, flags int) unix.Errno {
	if flags&^(unix.MS_ASYNC|unix.MS_INVALIDATE|unix.MS_SYNC) != 0 || start%PageSize != 0 ||
		flags&unix.MS_ASYNC != 0 && flags&unix.MS_SYNC != 0 {
		return unix.EINVAL
	}
	end := start + pageUp(length)
	if end < start {
		return unix.ENOMEM
	}
	if end == start {
		return 0
	}
	// VMA by VMA: a hole ends plain MS_ASYNC at once, otherwise it is
	// remembered; MS_INVALIDATE on a locked VMA is EBUSY.
	hole := !m.covered(start, end)
	if hole && flags == unix.MS_ASYNC {
		return unix.ENOMEM
	}
	if flags&unix.MS_INVALIDATE != 0 {
		for _, a := range m.keysIn(start, end) {
			if m.pages[a].locked {
				return unix.EBUSY
			}
		}
	}
	if hole {
		return unix.ENOMEM
	}
	return 0
}

func (m *model) mincore(start, length uint64) unix.Errno {
	if start%PageSize != 0 {
		return unix.EINVAL
	}
	if start+length < start || start+length > UserTop {
		return unix.ENOMEM // access_ok
	}
	if length != 0 && start+length == UserTop {
		unknown("access_ok at the very top of the user half")
	}
	end := start + pageUp(length)
	if !m.covered(start, end) {
		return unix.ENOMEM
	}
	return 0
}

// mlock is mlock (lock) or munlock.
func (m *model) mlock(start, length uint64, lock bool) unix.Errno {
	length = pageUp(length + start%PageSize)
	start &^= PageSize - 1
	end := start + length
	if end < start {
		return unix.EINVAL
	}
	if end == start {
		return 0
	}
	if !m.covered(start, end) {
		return unix.ENOMEM // see the package comment: no partial application
	}
	for _, a := range m.keysIn(start, end) {
		m.pages[a].locked = lock
	}
	if lock {
		m.populated(start, end)
	}
	m.closeAV()
	return 0
}

// fault is the outcome of a user access at addr (HandleFault).
func (m *model) fault(addr uint64, acc Access) FaultResult {
	p := m.pages[addr&^(PageSize-1)]
	switch {
	case addr >= UserTop || p == nil:
		return SegvMapErr
	case acc == Write && !writable(p.prot), acc == Exec && p.prot&unix.PROT_EXEC == 0, !readable(p.prot):
		return SegvAccErr
	case p.beyondEOF():
		return BusErr
	}
	if acc == Write && !p.shared {
		p.av = true
		m.closeAV()
	}
	return Resolved
}

// copyOut writes b at addr as a user write would: page by page up to the
// first page that faults. It returns the bytes written.
func (m *model) copyOut(addr uint64, b []byte) (int, unix.Errno) {
	if addr+uint64(len(b)) < addr || addr+uint64(len(b)) > UserTop {
		return 0, unix.EFAULT
	}
	done := 0
	for done < len(b) {
		a := addr + uint64(done)
		p := m.pages[a&^(PageSize-1)]
		if p == nil || !writable(p.prot) || p.beyondEOF() {
			m.closeAV()
			return done, unix.EFAULT
		}
		off := int(a % PageSize)
		n := min(len(b)-done, PageSize-off)
		m.writePage(p, off, b[done:done+n])
		done += n
	}
	m.closeAV()
	return done, 0
}
