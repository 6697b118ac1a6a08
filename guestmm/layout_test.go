package guestmm

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRandomLayoutBounds: Linux's ranges, at the extremes of the random
// source and for a sample of values.
func TestRandomLayoutBounds(t *testing.T) {
	const tib = uint64(1) << 40
	gap := uint64(StackLimit + stackRndMask*PageSize + StackGap)
	check := func(name string, l Layout) {
		t.Helper()
		switch {
		case l.StackTop%PageSize != 0 || l.MmapBase%PageSize != 0:
			t.Errorf("%s: unaligned %+v", name, l)
		case l.StackTop > UserTop || l.StackTop < UserTop-stackRndMask*PageSize-2*PageSize:
			t.Errorf("%s: stack top %#x outside Linux's 16 GiB range", name, l.StackTop)
		case l.MmapBase > UserTop-gap || l.MmapBase < UserTop-gap-tib:
			t.Errorf("%s: mmap base %#x outside Linux's range", name, l.MmapBase)
		case l.MmapBase+StackLimit+StackGap-2*PageSize > l.StackTop:
			t.Errorf("%s: mmap base %#x too close to the stack top %#x", name, l.MmapBase, l.StackTop)
		}
	}
	check("zeros", RandomLayout(func() uint64 { return 0 }))
	check("ones", RandomLayout(func() uint64 { return ^uint64(0) }))
	// The stack top at its lowest and the mmap base at its highest.
	seq := []uint64{^uint64(0), StackAlignRnd - 1, 0}
	worst := RandomLayout(func() uint64 { v := seq[0]; seq = seq[1:]; return v })
	check("closest", worst)
	if err := newTestMM(t).SetLayout(worst); err != nil {
		t.Errorf("SetLayout(%+v): %v", worst, err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var or, and uint64 = 0, ^uint64(0)
	for i := 0; i < 1000; i++ {
		l := RandomLayout(r.Uint64)
		check("sample", l)
		or |= l.MmapBase
		and &= l.MmapBase
	}
	// 28 bits of pages vary: bits 12..39 of the base take both values.
	if varying := or &^ and; varying>>12&(1<<28-1) != 1<<28-1 {
		t.Errorf("mmap base varies in bits %#x, want all of bits 12-39", varying)
	}
	if f := FixedLayout(); f.StackTop != UserTop || f.MmapBase != UserTop-128<<20 {
		t.Errorf("fixed layout %+v, want Linux's with randomization off", f)
	}
}

// TestLayoutGovernsPlacement: the stack, non-fixed mmaps and special
// mappings follow the MM's layout, and a fork child keeps it.
func TestLayoutGovernsPlacement(t *testing.T) {
	mm := newTestMM(t)
	l := Layout{StackTop: UserTop - 1234*PageSize, MmapBase: 0x7f0000000000}
	if err := mm.SetLayout(Layout{StackTop: l.StackTop, MmapBase: l.StackTop - PageSize}); err != unix.EINVAL {
		t.Errorf("SetLayout with no room for the stack: %v, want EINVAL", err)
	}
	if err := mm.SetLayout(l); err != nil {
		t.Fatal(err)
	}
	mm.MapStack()
	if err := mm.SetLayout(FixedLayout()); err != unix.EINVAL {
		t.Errorf("SetLayout on a non-empty MM: %v, want EINVAL", err)
	}
	if v, ok := mm.FindVMA(l.StackTop - 1); !ok || v.End != l.StackTop || v.Name != "[stack]" {
		t.Errorf("stack VMA %+v (found %v), want one ending at %#x", v, ok, l.StackTop)
	}
	// The stack grows down to its limit below the layout's top, not
	// below UserTop.
	if r, _ := mm.HandleFault(l.StackTop-StackLimit+PageSize, Write); r != Resolved {
		t.Errorf("fault inside the stack limit: %v", r)
	}
	if r, _ := mm.HandleFault(l.StackTop-StackLimit-PageSize, Write); r == Resolved {
		t.Error("fault beyond the stack limit grew the stack")
	}
	a := mustMmap(t, mm, anon(PageSize, unix.PROT_READ))
	if a != l.MmapBase-PageSize {
		t.Errorf("first mmap at %#x, want just below the mmap base %#x", a, l.MmapBase)
	}
	frames := []uint64{}
	for i := 0; i < 2; i++ {
		pa, err := mm.mem.Alloc()
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, pa)
	}
	s, err := mm.MapSpecial(0, Special{frames[:1], unix.PROT_READ, "[vvar]"}, Special{frames[1:], unix.PROT_READ | unix.PROT_EXEC, "[vdso]"})
	if err != nil || s != a-2*PageSize {
		t.Errorf("MapSpecial top-down: %#x, %v; want %#x", s, err, a-2*PageSize)
	}
	if v, ok := mm.FindVMA(s + PageSize); !ok || v.Name != "[vdso]" || v.Prot != unix.PROT_READ|unix.PROT_EXEC {
		t.Errorf("second piece %+v", v)
	}
	if _, err := mm.MapSpecial(0, Special{nil, unix.PROT_READ, "x"}); err != unix.EINVAL {
		t.Errorf("MapSpecial of no frames: %v, want EINVAL", err)
	}
	if _, err := mm.MapSpecial(s, Special{frames[:1], unix.PROT_READ, "x"}); err != unix.EEXIST {
		t.Errorf("MapSpecial over a mapping: %v, want EEXIST", err)
	}
	for _, pa := range frames {
		mm.mem.Free(pa)
	}
	c := forkChild(t, mm)
	if c.Layout() != l {
		t.Errorf("fork child layout %+v, want %+v", c.Layout(), l)
	}
	if b := mustMmap(t, c, anon(PageSize, unix.PROT_READ)); b != s-PageSize {
		t.Errorf("child's mmap at %#x, want %#x (below the parent's mappings)", b, s-PageSize)
	}
}
