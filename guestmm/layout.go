// layout.go: where an image's stack and mmap area go, with or without
// address-space layout randomization, by Linux x86-64's rules
// (randomize_stack_top, arch_align_stack, mmap_base, arch_mmap_rnd).
//
// Invariants: a Layout is chosen once per image, before anything is
// mapped (SetLayout refuses a non-empty MM), and fork copies it; the
// stack top and the mmap base are page aligned, MmapBase < StackTop <=
// UserTop, and the gap between them holds the stack at its limit (plus
// the guard gap but for at most two pages, as Linux's mmap_base leaves it).
package guestmm

import "golang.org/x/sys/unix"

// Layout is where an image's stack ends and its mmap area begins.
type Layout struct {
	StackTop uint64 // exclusive top of the main stack
	MmapBase uint64 // non-fixed mappings are placed top-down below it
}

// Randomization amounts of x86-64 Linux with its default configuration.
const (
	// MmapRndBits is vm.mmap_rnd_bits: the mmap base, and the load
	// address of a PIE, move by up to 2^28 pages (1 TiB).
	MmapRndBits = 28
	// stackRndMask is STACK_RND_MASK: the stack top moves by up to
	// 2^22 pages (16 GiB).
	stackRndMask = 0x3fffff
	// StackAlignRnd is arch_align_stack's range: a sub-page shift of
	// up to 8 KiB, 16-byte aligned.
	StackAlignRnd = 8192
)

// FixedLayout is the layout with randomization off (setarch -R).
func FixedLayout() Layout { return Layout{StackTop: StackTop, MmapBase: MmapBase} }

// MmapRnd is arch_mmap_rnd(): a random page-aligned offset below 1 TiB.
// rnd returns uniformly random 64-bit values.
func MmapRnd(rnd func() uint64) uint64 {
	return (rnd() & (1<<MmapRndBits - 1)) * PageSize
}

// RandomLayout draws a layout as Linux does for a process without
// ADDR_NO_RANDOMIZE.
func RandomLayout(rnd func() uint64) Layout {
	// randomize_stack_top, then setup_arg_pages' arch_align_stack and
	// PAGE_ALIGN (which can take one more page off).
	top := UserTop - (rnd()&stackRndMask)*PageSize
	top = pageUp((top - rnd()%StackAlignRnd) &^ 15)
	// mmap_base(): below the stack's limit, the most the stack top can
	// move and the guard gap (at least 128 MiB), then arch_mmap_rnd.
	gap := max(uint64(StackLimit+stackRndMask*PageSize+StackGap), 128<<20)
	return Layout{StackTop: top, MmapBase: UserTop - gap - MmapRnd(rnd)}
}

// SetLayout sets where the stack and the mmap area go. The MM must be
// empty (a new image, before MapStack), and the stack's limit must fit
// between the two (Linux's gap also holds the guard gap, less up to two
// pages the stack top's alignment may take).
func (mm *MM) SetLayout(l Layout) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	if mm.vmas.Len() != 0 || l.StackTop%PageSize != 0 || l.MmapBase%PageSize != 0 ||
		l.StackTop > UserTop || l.MmapBase < MinAddr || l.MmapBase > l.StackTop-StackLimit {
		return unix.EINVAL
	}
	mm.layout, mm.freeTop, mm.holeMax = l, 0, 0
	return nil
}

// Layout returns the MM's layout.
func (mm *MM) Layout() Layout {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.layout
}
