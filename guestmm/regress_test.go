// regress_test.go: guestmm bugs found by FuzzOps (or while writing its model
// and benchmarks), each reduced to a minimal deterministic test that fails
// until the bug is fixed. The comment on each says what Linux does; the
// matching field of `avoid` in fuzz_test.go steers the fuzzer around the bug
// meanwhile and should be cleared with the fix.
package guestmm

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// knownRegressions are the regression tests whose bug is not fixed yet,
// with why. Each calls expectFailure, so `go test ./...` stays green while
// the test stays honest: it is skipped as long as it fails, and fails once
// it passes, so that its entry is removed here.
var knownRegressions = map[string]string{
	"TestRegressMergeIntoSplitMapping": "guestmm merges VMAs only over one object at contiguous pages; joining a " +
		"new mapping to a piece of a split mapping needs to know which object pages the other pieces " +
		"use (objects do not track their VMAs)",
	"TestRegressMremapMerge": "moved or grown VMAs merge only with neighbours of the same object (a page moved " +
		"back merges); merging untouched memory of two objects needs the same object re-basing as " +
		"TestRegressMergeIntoSplitMapping",
}

// expectFailure runs body, the whole of a test listed in knownRegressions,
// against a recorder instead of t: a failure is the expected one and skips
// the test; a pass fails it, since the entry must then go.
func expectFailure(t *testing.T, body func(t testing.TB)) {
	t.Helper()
	why, known := knownRegressions[t.Name()]
	if !known {
		body(t)
		return
	}
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { // FailNow ends the body with runtime.Goexit, as testing does
		defer close(done)
		body(r)
	}()
	<-done
	if !r.failed {
		t.Fatalf("%s now passes: remove it from knownRegressions", t.Name())
	}
	t.Skipf("known regression (expected failure): %s\nfailures:\n%s", why, strings.Join(r.msgs, "\n"))
}

// recorder is a testing.TB that records failures instead of reporting them.
type recorder struct {
	testing.TB
	failed bool
	msgs   []string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Fail()                             { r.failed = true }
func (r *recorder) Failed() bool                      { return r.failed }
func (r *recorder) FailNow()                          { r.failed = true; runtime.Goexit() }
func (r *recorder) Error(args ...any)                 { r.Fail(); r.msgs = append(r.msgs, fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) { r.Error(fmt.Sprintf(format, args...)) }
func (r *recorder) Fatal(args ...any)                 { r.Error(args...); r.FailNow() }
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); r.FailNow() }

// regressMM returns an address space over fresh memory with the invariant
// checker on and the break at brk.
func regressMM(t testing.TB, brk uint64) *MM {
	t.Helper()
	return newFuzzHarness(t, brk).mm
}

// call runs f, turning a panic (an invariant violation under CheckAll) into
// a test failure.
func call(t testing.TB, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s panicked: %v", what, r)
		}
	}()
	f()
}

const rw = unix.PROT_READ | unix.PROT_WRITE

func anonArgs(addr, length uint64, prot, flags int) MmapArgs {
	return MmapArgs{Addr: addr, Len: length, Prot: prot, Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | flags}
}

func mustMap(t testing.TB, mm *MM, a MmapArgs) uint64 {
	t.Helper()
	var addr uint64
	var err error
	call(t, "mmap", func() { addr, err = mm.Mmap(a) })
	if err != nil {
		t.Fatalf("mmap %+v: %v", a, err)
	}
	return addr
}

// With MREMAP_DONTUNMAP (and MREMAP_MAYMOVE, no MREMAP_FIXED) Linux takes
// new_addr as a hint, but validates it like a fixed address first
// (check_mremap_params): new_addr must be page aligned, the new range must
// end below TASK_SIZE and must not overlap the old one (vrm_overlaps), or
// the call fails with EINVAL. guestmm rounds an unaligned hint down and, when
// the hinted range overlaps the old one or passes the top, moves elsewhere
// and succeeds.
func TestRegressDontunmapHint(t *testing.T) {
	mm := regressMM(t, winBase)
	old := mustMap(t, mm, anonArgs(winBase+8*PageSize, 2*PageSize, rw, unix.MAP_FIXED))
	var err error
	call(t, "mremap", func() {
		_, err = mm.Mremap(old, 2*PageSize, 2*PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_DONTUNMAP, old+PageSize)
	})
	if err != unix.EINVAL {
		t.Errorf("mremap(DONTUNMAP, hint overlapping the old range) = %v, Linux gives EINVAL", err)
	}
	call(t, "mremap", func() {
		_, err = mm.Mremap(old, 2*PageSize, 2*PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_DONTUNMAP, winBase+20*PageSize+123)
	})
	if err != unix.EINVAL {
		t.Errorf("mremap(DONTUNMAP, unaligned hint) = %v, Linux gives EINVAL", err)
	}
	call(t, "mremap", func() {
		_, err = mm.Mremap(old, 2*PageSize, 2*PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_DONTUNMAP, UserTop-PageSize)
	})
	if err != unix.EINVAL {
		t.Errorf("mremap(DONTUNMAP, hint whose range passes the top of the user half) = %v, Linux gives EINVAL", err)
	}
}

// mremap with old_len 0 on a shared mapping creates a second mapping of the
// same pages (Linux keeps this "duplicate" case for shared mappings only;
// remap_is_valid rejects it for private ones with EINVAL). guestmm rejects
// every old_len of 0 with EINVAL.
func TestRegressMremapDuplicateShared(t *testing.T) {
	mm := regressMM(t, winBase)
	old := mustMap(t, mm, MmapArgs{Addr: winBase + 8*PageSize, Len: 2 * PageSize, Prot: rw,
		Flags: unix.MAP_SHARED | unix.MAP_ANONYMOUS | unix.MAP_FIXED})
	call(t, "write", func() { mm.CopyOut(old, []byte("shared")) })
	var dup uint64
	var err error
	call(t, "mremap", func() { dup, err = mm.Mremap(old, 0, 2*PageSize, unix.MREMAP_MAYMOVE, 0) })
	if err != nil {
		t.Fatalf("mremap(shared, old_len 0, MAYMOVE) = %v, Linux duplicates the mapping", err)
	}
	buf := make([]byte, 6)
	call(t, "read", func() { mm.CopyIn(dup, buf) })
	if string(buf) != "shared" {
		t.Errorf("the duplicate reads %q, want the shared contents %q", buf, "shared")
	}
}

// mmap(MAP_SHARED_VALIDATE | MAP_ANONYMOUS) is EINVAL in Linux: do_mmap's
// switch for anonymous memory accepts only MAP_SHARED, MAP_PRIVATE and
// MAP_DROPPABLE as the type (MAP_SHARED_VALIDATE exists to validate flags
// of file mappings). guestmm maps shared anonymous memory.
func TestRegressSharedValidateAnonymous(t *testing.T) {
	mm := regressMM(t, winBase)
	var err error
	call(t, "mmap", func() {
		_, err = mm.Mmap(MmapArgs{Addr: winBase, Len: PageSize, Prot: rw,
			Flags: unix.MAP_SHARED_VALIDATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED})
	})
	if err != unix.EINVAL {
		t.Errorf("mmap(MAP_SHARED_VALIDATE|MAP_ANONYMOUS) = %v, Linux gives EINVAL", err)
	}
}

// mmap(MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN) is EINVAL in Linux: only
// private memory can grow down (do_mmap: "case MAP_SHARED: if (vm_flags &
// (VM_GROWSDOWN|VM_GROWSUP)) return -EINVAL"; the same for shared files).
// guestmm makes a shared VMA with GrowsDown set.
func TestRegressSharedGrowsDown(t *testing.T) {
	mm := regressMM(t, winBase)
	var err error
	call(t, "mmap", func() {
		_, err = mm.Mmap(MmapArgs{Len: PageSize, Prot: rw, Flags: unix.MAP_SHARED | unix.MAP_ANONYMOUS | unix.MAP_GROWSDOWN})
	})
	if err != unix.EINVAL {
		t.Errorf("mmap(MAP_SHARED|MAP_GROWSDOWN) = %v, Linux gives EINVAL", err)
	}
}

// Linux's mmap does not validate prot: calc_vm_prot_bits takes PROT_READ,
// PROT_WRITE and PROT_EXEC and ignores every other bit. mprotect validates
// with arch_validate_prot, which accepts PROT_SEM (0x8) besides R/W/X.
// guestmm rejects both with EINVAL.
func TestRegressProtExtraBits(t *testing.T) {
	mm := regressMM(t, winBase)
	for _, p := range []int{unix.PROT_READ | protSem, unix.PROT_READ | 0x10} {
		var err error
		call(t, "mmap", func() { _, err = mm.Mmap(anonArgs(0, PageSize, p, 0)) })
		if err != nil {
			t.Errorf("mmap(prot %#x) = %v, Linux maps it PROT_READ", p, err)
		}
	}
	a := mustMap(t, mm, anonArgs(0, PageSize, unix.PROT_READ, 0))
	var err error
	call(t, "mprotect", func() { err = mm.Mprotect(a, PageSize, rw|protSem) })
	if err != nil {
		t.Errorf("mprotect(PROT_READ|PROT_WRITE|PROT_SEM) = %v, Linux accepts PROT_SEM", err)
	}
}

// brk(2) in Linux grows the heap whenever the range is free and the next
// VMA starts at least one page above the new break (the stack_guard_gap
// applies only when that VMA is a stack growing down: vm_start_gap); there
// is no limit at mmap_base. Shrinking needs some VMA in [newbrk, oldbrk)
// ("mapping intersects with an existing non-brk vma" otherwise) and fails,
// returning the old break, when the heap was unmapped. guestmm refuses any
// break at or above MmapBase, demands 256 free pages (StackGap) after the
// new break whatever lies there, and shrinks over nothing.
func TestRegressBrkLimits(t *testing.T) {
	start := uint64(winBase)
	mm := regressMM(t, start)
	mustMap(t, mm, anonArgs(start+10*PageSize, PageSize, rw, unix.MAP_FIXED))
	var got uint64
	call(t, "brk", func() { got = mm.Brk(start + 9*PageSize) })
	if got != start+9*PageSize {
		t.Errorf("brk up to one page below a mapping = %#x, Linux grows to %#x", got, start+9*PageSize)
	}

	mm = regressMM(t, MmapBase-PageSize)
	call(t, "brk", func() { got = mm.Brk(MmapBase + PageSize) })
	if got != MmapBase+PageSize {
		t.Errorf("brk across MmapBase into free space = %#x, Linux grows to %#x", got, uint64(MmapBase+PageSize))
	}

	mm = regressMM(t, start)
	call(t, "brk", func() { got = mm.Brk(start + 4*PageSize) })
	call(t, "munmap", func() { mm.Munmap(start, 4*PageSize) })
	call(t, "brk", func() { got = mm.Brk(start + PageSize) })
	if got != start+4*PageSize {
		t.Errorf("brk shrinking over an unmapped heap = %#x, Linux fails and returns the old break %#x", got, start+4*PageSize)
	}
}

// Linux checks mmap's map type last: do_mmap first gets the address
// (__get_unmapped_area: ENOMEM for a range past TASK_SIZE, EINVAL for an
// unaligned MAP_FIXED address, EPERM below mmap_min_addr), then
// MAP_FIXED_NOREPLACE's EEXIST, and only then rejects an invalid type with
// EINVAL. guestmm rejects the type first.
func TestRegressMmapErrnoOrder(t *testing.T) {
	mm := regressMM(t, winBase)
	a := mustMap(t, mm, anonArgs(winBase, PageSize, rw, unix.MAP_FIXED))
	for _, c := range []struct {
		addr uint64
		want unix.Errno
	}{{a, unix.EEXIST}, {0x1000, unix.EPERM}, {UserTop - PageSize, unix.ENOMEM}} {
		var err error
		call(t, "mmap", func() {
			_, err = mm.Mmap(MmapArgs{Addr: c.addr, Len: 2 * PageSize, Prot: rw, Flags: unix.MAP_ANONYMOUS | unix.MAP_FIXED_NOREPLACE})
		})
		if err != c.want {
			t.Errorf("mmap(%#x, 2 pages, no map type, MAP_FIXED_NOREPLACE) = %v, Linux gives %v", c.addr, err, c.want)
		}
	}
}

// A MAP_FIXED mapping over the middle of a compatible private anonymous
// mapping (same protection and flags, never written) leaves one VMA in
// Linux: the new VMA's vm_pgoff (addr >> PAGE_SHIFT) is contiguous with
// both remaining pieces, which have no anon_vma, so vma_merge_new_range
// merges all three. guestmm joins a new mapping to a neighbour's object only
// when that object backs nothing else; the two pieces of the split mapping
// share theirs, so three VMAs remain. Likewise a mapping placed next to any
// piece of a split mapping never merges with it.
func TestRegressMergeIntoSplitMapping(t *testing.T) {
	expectFailure(t, func(t testing.TB) {
		mm := regressMM(t, winBase)
		a := mustMap(t, mm, anonArgs(winBase, 4*PageSize, unix.PROT_READ, unix.MAP_FIXED))
		mustMap(t, mm, anonArgs(a+PageSize, PageSize, unix.PROT_READ, unix.MAP_FIXED))
		if n := mm.Len(); n != 1 {
			t.Errorf("MAP_FIXED of the same kind over the middle of a mapping: %d VMAs, Linux has 1: %+v", n, mm.VMAs())
		}
	})
}

// mremap's checks, in the order of current kernels (do_mremap,
// check_mremap_params, check_prep_vma, remap_move; 6.17 and later, checked
// on 6.18):
//   - the VMA at old_address is looked up before old_len is considered:
//     an unmapped old_address is EFAULT even with old_len 0; and an
//     unaligned new_address (with MREMAP_FIXED) is EINVAL before that;
//   - a shrink (new_len < old_len, no MREMAP_FIXED) just unmaps the tail
//     [old+new_len, old+old_len), whatever VMAs it covers; an unchanged
//     length returns old_address at once: neither checks that the old
//     range lies in one VMA (growing and moving do, and a shrinking move
//     only checks its first new_len bytes);
//   - an equal-length MREMAP_FIXED move may span several VMAs (and gaps
//     after the first page): each piece moves to the same offset from
//     new_address.
//
// guestmm checks old_len, then the whole old range against one VMA, before
// anything else.
func TestRegressMremapChecks(t *testing.T) {
	mremap := func(mm *MM, old, ol, nl uint64, flags int, na uint64) (uint64, error) {
		var got uint64
		var err error
		call(t, "mremap", func() { got, err = mm.Mremap(old, ol, nl, flags, na) })
		return got, err
	}
	mm := regressMM(t, winBase)
	if _, err := mremap(mm, winBase, 0, PageSize, 0, 0); err != unix.EFAULT {
		t.Errorf("mremap(unmapped, old_len 0) = %v, Linux gives EFAULT", err)
	}
	if _, err := mremap(mm, winBase, PageSize, PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, winBase+16*PageSize+123); err != unix.EINVAL {
		t.Errorf("mremap(unmapped, FIXED, unaligned new_addr) = %v, Linux gives EINVAL", err)
	}

	// Two VMAs: [a, a+2) read-write, [a+2, a+4) read-only.
	two := func() (*MM, uint64) {
		mm := regressMM(t, winBase)
		a := mustMap(t, mm, anonArgs(winBase+8*PageSize, 2*PageSize, rw, unix.MAP_FIXED))
		mustMap(t, mm, anonArgs(a+2*PageSize, 2*PageSize, unix.PROT_READ, unix.MAP_FIXED))
		return mm, a
	}
	mm, a := two()
	if got, err := mremap(mm, a, 4*PageSize, PageSize, 0, 0); err != nil || got != a {
		t.Errorf("mremap shrinking a range that spans two VMAs = %#x, %v; Linux unmaps the tail and returns %#x", got, err, a)
	} else if _, ok := mm.FindVMA(a + 2*PageSize); ok {
		t.Errorf("after the shrink [a+2, a+4) is still mapped")
	}
	mm, a = two()
	mm.Munmap(a+3*PageSize, PageSize)
	if got, err := mremap(mm, a, 4*PageSize, 4*PageSize, 0, 0); err != nil || got != a {
		t.Errorf("mremap of an unchanged length over two VMAs and a hole = %#x, %v; Linux returns %#x", got, err, a)
	}
	mm, a = two()
	dst := a + 16*PageSize
	if got, err := mremap(mm, a, 4*PageSize, 2*PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, dst); err != nil || got != dst {
		t.Errorf("mremap(FIXED) shrinking a two-VMA range to its first VMA = %#x, %v; Linux moves it to %#x", got, err, dst)
	}
	mm, a = two()
	if got, err := mremap(mm, a, 4*PageSize, 4*PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, dst); err != nil || got != dst {
		t.Errorf("mremap(FIXED) of an equal-length range spanning two VMAs = %#x, %v; Linux moves both to %#x", got, err, dst)
	} else if v, _ := mm.FindVMA(dst + 2*PageSize); v.Prot != unix.PROT_READ {
		t.Errorf("the second VMA did not move with the first: %+v", mm.VMAs())
	}
}

// MADV_FREE works on private anonymous memory only: madvise_free_single_vma
// returns EINVAL for any VMA that is not vma_is_anonymous, and shared
// anonymous memory is a shmem file. guestmm skips shared VMAs and succeeds.
func TestRegressMadvFreeShared(t *testing.T) {
	mm := regressMM(t, winBase)
	a := mustMap(t, mm, MmapArgs{Len: PageSize, Prot: rw, Flags: unix.MAP_SHARED | unix.MAP_ANONYMOUS})
	var err error
	call(t, "madvise", func() { err = mm.Madvise(a, PageSize, unix.MADV_FREE) })
	if err != unix.EINVAL {
		t.Errorf("madvise(shared, MADV_FREE) = %v, Linux gives EINVAL", err)
	}
}

// msync with MS_INVALIDATE over a locked VMA is EBUSY in Linux (and a hole
// before the locked VMA does not change that: it only records ENOMEM for the
// end). guestmm never returns EBUSY.
func TestRegressMsyncInvalidateLocked(t *testing.T) {
	mm := regressMM(t, winBase)
	a := mustMap(t, mm, anonArgs(0, 2*PageSize, rw, unix.MAP_LOCKED))
	var err error
	call(t, "msync", func() { err = mm.Msync(a, 2*PageSize, unix.MS_INVALIDATE) })
	if err != unix.EBUSY {
		t.Errorf("msync(locked, MS_INVALIDATE) = %v, Linux gives EBUSY", err)
	}
	call(t, "msync", func() { err = mm.Msync(a-PageSize, 3*PageSize, unix.MS_SYNC|unix.MS_INVALIDATE) })
	if err != unix.EBUSY {
		t.Errorf("msync(hole then locked, MS_SYNC|MS_INVALIDATE) = %v, Linux gives EBUSY", err)
	}
}

// Linux merges the VMA an mremap move creates with its new neighbours when
// they are compatible (copy_vma -> vma_merge_new_range): a VMA that was
// never faulted (no anon_vma) takes vm_pgoff from its new address, so it
// merges with untouched anonymous memory it lands next to; one that was
// faulted keeps its vm_pgoff and anon_vma, so moving a piece back where it
// came from merges it again. An in-place expansion merges with the next VMA
// it reaches (vma_merge_extend). guestmm's move and in-place growth insert
// the VMA without trying to merge.
func TestRegressMremapMerge(t *testing.T) {
	expectFailure(t, func(t testing.TB) {
		mm := regressMM(t, winBase)
		a := mustMap(t, mm, anonArgs(winBase, 2*PageSize, rw, unix.MAP_FIXED))
		b := mustMap(t, mm, anonArgs(winBase+10*PageSize, PageSize, rw, unix.MAP_FIXED))
		call(t, "mremap", func() { mm.Mremap(b, PageSize, PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, a+2*PageSize) })
		if n := mm.Len(); n != 1 {
			t.Errorf("untouched memory moved next to untouched memory: %d VMAs, Linux merges them: %+v", n, mm.VMAs())
		}

		mm = regressMM(t, winBase)
		a = mustMap(t, mm, anonArgs(winBase, 3*PageSize, rw, unix.MAP_FIXED))
		call(t, "write", func() { mm.CopyOut(a, make([]byte, 3*PageSize)) })
		away := a + 10*PageSize
		call(t, "mremap", func() { mm.Mremap(a+2*PageSize, PageSize, PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, away) })
		call(t, "mremap", func() { mm.Mremap(away, PageSize, PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, a+2*PageSize) })
		if n := mm.Len(); n != 1 {
			t.Errorf("a page moved away and back: %d VMAs, Linux merges it back: %+v", n, mm.VMAs())
		}

		mm = regressMM(t, winBase)
		a = mustMap(t, mm, anonArgs(winBase, PageSize, rw, unix.MAP_FIXED))
		mustMap(t, mm, anonArgs(a+2*PageSize, PageSize, rw, unix.MAP_FIXED))
		call(t, "mremap", func() { mm.Mremap(a, PageSize, 2*PageSize, 0, 0) })
		if n := mm.Len(); n != 1 {
			t.Errorf("growing in place up to a compatible mapping: %d VMAs, Linux merges them: %+v", n, mm.VMAs())
		}
	})
}

// MREMAP_DONTUNMAP moves the pages of [old, old+len) and leaves the old VMA
// as it was, whole: Linux does not split it (there is no unmap), only
// clears VM_LOCKED on all of it (dontunmap_complete; some versions clear
// VM_ACCOUNT too). Checked on 6.18. guestmm
// cuts the old range out as a VMA of its own (with a fresh object when
// private), and keeps the lock on every piece, so for instance MADV_DONTNEED
// on the rest of a once-locked mapping fails with EINVAL where Linux
// succeeds.
func TestRegressDontunmapSplits(t *testing.T) {
	for _, shared := range []bool{false, true} {
		mm := regressMM(t, winBase)
		typ := unix.MAP_PRIVATE
		if shared {
			typ = unix.MAP_SHARED
		}
		a := mustMap(t, mm, MmapArgs{Addr: winBase, Len: 3 * PageSize, Prot: rw, Flags: typ | unix.MAP_ANONYMOUS | unix.MAP_FIXED})
		call(t, "mremap", func() {
			mm.Mremap(a+PageSize, PageSize, PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_DONTUNMAP, a+10*PageSize)
		})
		if v, _ := mm.FindVMA(a); v.End != a+3*PageSize {
			t.Errorf("shared=%v: after MREMAP_DONTUNMAP of its middle page the mapping is split: %+v; Linux keeps one VMA", shared, mm.VMAs())
		}
	}
	mm := regressMM(t, winBase)
	a := mustMap(t, mm, anonArgs(winBase, 3*PageSize, rw, unix.MAP_FIXED|unix.MAP_LOCKED))
	call(t, "mremap", func() {
		mm.Mremap(a+PageSize, PageSize, PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_DONTUNMAP, a+10*PageSize)
	})
	var err error
	call(t, "madvise", func() { err = mm.Madvise(a, PageSize, unix.MADV_DONTNEED) })
	if err != nil {
		t.Errorf("MADV_DONTNEED on a mapping MREMAP_DONTUNMAP unlocked = %v; Linux succeeds (VM_LOCKED is cleared on the old VMA)", err)
	}
}

// A hint (mmap without MAP_FIXED) is rounded down to a page, and a nonzero
// hint below vm.mmap_min_addr is raised to it (do_mmap: round_hint_to_min;
// x86's arch_get_unmapped_area_topdown: addr &= PAGE_MASK); a free hint is
// honoured. guestmm rounds the hint up and ignores one below MinAddr.
func TestRegressMmapHintRounding(t *testing.T) {
	mm := regressMM(t, winBase)
	hint := uint64(winBase + 8*PageSize)
	var got uint64
	call(t, "mmap", func() { got, _ = mm.Mmap(anonArgs(hint+123, PageSize, rw, 0)) })
	if got != hint {
		t.Errorf("mmap(hint %#x) = %#x, Linux maps at the hint rounded down, %#x", hint+123, got, hint)
	}
	call(t, "mmap", func() { got, _ = mm.Mmap(anonArgs(0x1000, PageSize, rw, 0)) })
	if got != MinAddr {
		t.Errorf("mmap(hint 0x1000) = %#x, Linux maps at mmap_min_addr %#x", got, MinAddr)
	}
}

// mprotect with PROT_GROWSDOWN applies to a VM_GROWSDOWN VMA only (EINVAL
// otherwise), and x86 has no VM_GROWSUP, so PROT_GROWSUP is always EINVAL.
// guestmm ignores both bits.
func TestRegressMprotectGrows(t *testing.T) {
	mm := regressMM(t, winBase)
	a := mustMap(t, mm, anonArgs(0, PageSize, rw, 0))
	for _, g := range []int{unix.PROT_GROWSDOWN, unix.PROT_GROWSUP} {
		var err error
		call(t, "mprotect", func() { err = mm.Mprotect(a, PageSize, unix.PROT_READ|g) })
		if err != unix.EINVAL {
			t.Errorf("mprotect(PROT_READ|%#x) of a plain mapping = %v, Linux gives EINVAL", g, err)
		}
	}
}

// A length that wraps to 0 when rounded up to a page (2^64-1) is an error
// in Linux, not an empty range: munmap gives EINVAL (len > TASK_SIZE -
// start), mprotect ENOMEM (end <= start after rounding: the !len shortcut
// looks at the length as given), madvise EINVAL ("len_in && !len"),
// mincore ENOMEM (access_ok(start, len) overflows).
// guestmm rounds first and treats the call as empty, returning success.
func TestRegressLengthWrap(t *testing.T) {
	mm := regressMM(t, winBase)
	a := mustMap(t, mm, anonArgs(0, PageSize, rw, 0))
	const wrap = ^uint64(0)
	var err error
	call(t, "munmap", func() { err = mm.Munmap(a, wrap) })
	if err != unix.EINVAL {
		t.Errorf("munmap(len 2^64-1) = %v, Linux gives EINVAL", err)
	}
	call(t, "mprotect", func() { err = mm.Mprotect(a, wrap, unix.PROT_READ) })
	if err != unix.ENOMEM {
		t.Errorf("mprotect(len 2^64-1) = %v, Linux gives ENOMEM", err)
	}
	call(t, "madvise", func() { err = mm.Madvise(a, wrap, unix.MADV_DONTNEED) })
	if err != unix.EINVAL {
		t.Errorf("madvise(len 2^64-1) = %v, Linux gives EINVAL", err)
	}
	call(t, "mincore", func() { _, err = mm.Mincore(a, wrap) })
	if err != unix.ENOMEM {
		t.Errorf("mincore(len 2^64-1) = %v, Linux gives ENOMEM (access_ok of the range as given)", err)
	}
}

// mremap with MREMAP_FIXED to an address below vm.mmap_min_addr fails with
// EPERM for an unprivileged process (vrm_set_new_addr -> get_unmapped_area
// -> security_mmap_addr), as mmap(MAP_FIXED) does; Linux has already
// unmapped the destination by then. guestmm moves the mapping there.
func TestRegressMremapBelowMinAddr(t *testing.T) {
	mm := regressMM(t, winBase)
	a := mustMap(t, mm, anonArgs(0, PageSize, rw, 0))
	var err error
	call(t, "mremap", func() { _, err = mm.Mremap(a, PageSize, PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, 0x1000) })
	if err != unix.EPERM {
		t.Errorf("mremap(FIXED, new_addr 0x1000) = %v, Linux gives EPERM", err)
	}
}

// Growing part of a private mapping with mremap(MREMAP_MAYMOVE) when it
// cannot grow in place moves it, and the grown tail is new, zero-filled
// memory (Linux: move_vma copies the VMA at its new size; pages past the
// old length were never there). guestmm's move keeps the old object and
// offset for the new VMA unless the object is already shared (refs > 1),
// which it is not before the old range is cut out; so the grown tail
// aliases object pages the rest of the old mapping still maps: the same
// private frame is mapped at two addresses (invariant 2, caught by Check),
// and data written through one appears at the other.
func TestRegressMremapGrowAliases(t *testing.T) {
	mm := regressMM(t, winBase)
	a := mustMap(t, mm, anonArgs(winBase, 3*PageSize, rw, unix.MAP_FIXED))
	call(t, "write", func() { mm.CopyOut(a+PageSize, []byte("second page")) })
	var n uint64
	var err error
	call(t, "mremap", func() { n, err = mm.Mremap(a, PageSize, 2*PageSize, unix.MREMAP_MAYMOVE, 0) })
	if err != nil {
		t.Fatalf("mremap: %v", err)
	}
	buf := make([]byte, 11)
	call(t, "read the grown tail", func() { mm.CopyIn(n+PageSize, buf) })
	if string(buf) != string(make([]byte, 11)) {
		t.Errorf("the grown tail of the moved mapping reads %q, Linux gives zeros", buf)
	}
	call(t, "write the grown tail", func() { mm.CopyOut(n+PageSize, []byte("new")) })
	call(t, "read the old mapping", func() { mm.CopyIn(a+PageSize, buf) })
	if string(buf) != "second page" {
		t.Errorf("writing the moved mapping's tail changed the old mapping: %q", buf)
	}
}

// mremap(MREMAP_FIXED) to a destination inside the same VMA as the old
// range (not overlapping the old range itself) is valid: Linux unmaps the
// destination, which splits the VMA, then looks the old VMA up again ("If
// we remap a portion of a VMA elsewhere in the same VMA, this can
// invalidate the old VMA. Reset.", mremap_to) and moves. guestmm keeps the
// VMA pointer it found before unmapping the destination; the split turns
// that VMA into the removed middle piece, so the move computes the object
// offset from the wrong VMA (old - v.Start underflows): the moved pages map
// object page 2^52-ish, the data is lost, and Check reports a PTE that maps
// a frame the object does not hold.
func TestRegressMremapFixedWithinVMA(t *testing.T) {
	mm := regressMM(t, winBase)
	a := mustMap(t, mm, anonArgs(winBase, 8*PageSize, rw, unix.MAP_FIXED))
	call(t, "write", func() { mm.CopyOut(a, []byte("hello")) })
	var got uint64
	var err error
	call(t, "mremap", func() {
		got, err = mm.Mremap(a, 2*PageSize, 2*PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, a+4*PageSize)
	})
	if err != nil || got != a+4*PageSize {
		t.Fatalf("mremap(FIXED, within the same VMA) = %#x, %v; want %#x", got, err, a+4*PageSize)
	}
	buf := make([]byte, 5)
	call(t, "read", func() { mm.CopyIn(a+4*PageSize, buf) })
	if string(buf) != "hello" {
		t.Errorf("the moved page reads %q, want %q", buf, "hello")
	}
}

// mremap grows a mapping in place when the range ends where its VMA does
// and the pages after it are free (vrm_can_expand_in_place), whatever
// happened to the mapping before. guestmm grows in place only when the
// VMA's object backs nothing else (refs == 1), so after a split (mprotect of
// part of the mapping, or a piece moved away) it refuses with ENOMEM
// without MREMAP_MAYMOVE, or moves the mapping with it.
func TestRegressMremapGrowSplit(t *testing.T) {
	mm := regressMM(t, winBase)
	a := mustMap(t, mm, anonArgs(winBase, 3*PageSize, rw, unix.MAP_FIXED))
	call(t, "mprotect", func() { mm.Mprotect(a, PageSize, unix.PROT_READ) })
	var got uint64
	var err error
	call(t, "mremap", func() { got, err = mm.Mremap(a+PageSize, 2*PageSize, 3*PageSize, 0, 0) })
	if err != nil || got != a+PageSize {
		t.Errorf("growing the split-off tail of a mapping in place = %#x, %v; Linux grows it at %#x", got, err, a+PageSize)
	}
	mm = regressMM(t, winBase)
	a = mustMap(t, mm, anonArgs(winBase, 3*PageSize, rw, unix.MAP_FIXED))
	call(t, "mprotect", func() { mm.Mprotect(a, PageSize, unix.PROT_READ) })
	call(t, "mremap", func() { got, err = mm.Mremap(a+PageSize, 2*PageSize, 3*PageSize, unix.MREMAP_MAYMOVE, 0) })
	if err != nil || got != a+PageSize {
		t.Errorf("the same with MREMAP_MAYMOVE = %#x, %v; Linux grows it in place at %#x", got, err, a+PageSize)
	}
}
