package vmm

// hostpte_test.go: a measurement, from the guest's view, of what the
// platform does with a host-side write to a present, used PTE (one the
// guest's TLB or a shadow MMU may hold), with and without a guest invlpg.
// PVM keeps the old translation even after invlpg (docs: kvm-host-notes);
// on EPT/NPT the guest walks its own tables, so invlpg should be enough.
// kshim measures which holds at start-up (pteprobe.go) and picks its
// protocol by it: guest-side write + invlpg, or, where the host's edit is
// seen after an invlpg, invlpg alone. The two measurements here are
// logged ("hostpte: ..." lines, collected by the SVM harness, ci/svm) with
// the protocol the probe picked; the test fails when the probe picked
// invlpg alone on a host where this measurement finds the edit stale, and
// its last step asserts that the picked protocol works on the host at
// hand.

import (
	"testing"

	"kshim/boot"
	"kshim/ept"
)

// leafEntry walks the 4-level tables from root to va's leaf entry and
// returns its guest-physical address.
func leafEntry(t *testing.T, mem *ept.Memory, root, va uint64) uint64 {
	t.Helper()
	table := root
	for level := 3; level > 0; level-- {
		e := table + (va>>(12+9*uint(level))&511)*8
		v := getU64(mem.Slice(e, 8))
		if v&ept.PTEPresent == 0 || v&ept.PTEHuge != 0 {
			t.Fatalf("no 4 KiB leaf for %#x (level %d entry %#x)", va, level, v)
		}
		table = ept.Frame(v)
	}
	return table + (va>>12&511)*8
}

func TestHostPTEEditVisibility(t *testing.T) {
	// loop: mov rax, [0x600000]; mov rdi, rax; mov eax, 39; syscall; jmp loop
	code := []byte{0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00, 0x48, 0x89, 0xc7, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xec}
	m, pt, dataPA := testMachine(t, code)
	t.Logf("path: %s", m.m.Path())
	mem := m.m.Mem
	putU64(mem.Page(dataPA), 111)
	frame := func(v uint64) uint64 {
		pa, _ := mem.Alloc()
		putU64(mem.Page(pa), v)
		return pa
	}
	second, third, scratch := frame(222), frame(333), frame(0)

	// step resumes the guest (through kflush first when flush is set) and
	// returns the value its next loop iteration read.
	started := false
	step := func(flush bool) uint64 {
		t.Helper()
		if started {
			r, _ := m.CPU.Regs()
			r.RIP, r.RFLAGS = r.RCX, r.R11
			m.m.path.resume(m, r, flush)
			m.CPU.MarkDirty()
		}
		started = true
		return runToSyscall(t, m)
	}
	describe := func(got, old, new uint64) string {
		switch got {
		case old:
			return "stale (old frame)"
		case new:
			return "visible (new frame)"
		}
		t.Fatalf("guest read %d, neither the old (%d) nor the new (%d) frame's value", got, old, new)
		return ""
	}

	// Iteration 1 reads 111 and leaves the translation used (cached).
	if got := step(false); got != 111 {
		t.Fatalf("guest read %d, want 111", got)
	}
	e := leafEntry(t, mem, pt.Root(), 0x600000)
	old := getU64(mem.Slice(e, 8))
	if old&ept.PTEAccessed == 0 {
		t.Fatalf("entry %#x not marked accessed after use", old)
	}

	// 1. Host-side rewrite to another frame, nothing else.
	putU64(mem.Slice(e, 8), second|old&^ept.Frame(old))
	t.Logf("hostpte: host edit of a used present PTE, no guest invlpg: %s", describe(step(false), 111, 222))

	// 2. The guest runs invlpg for the page without writing any page
	// table: an invlpg-alone record ({0, 0, linear address}, what the
	// host-writes protocol queues), then a record of one value whose
	// write goes to a scratch frame (kflush goes on past the first).
	area := m.area(boot.FlushArea, boot.FlushAreaSize)
	putU64(area[16:], 0) // {entry, n, linear address}, then n values
	putU64(area[24:], 0)
	putU64(area[32:], 0x600000)
	putU64(area[40:], boot.DirectMap+scratch)
	putU64(area[48:], 1)
	putU64(area[56:], 0x7ff000)
	putU64(area[64:], 1)
	putU64(area[0:], 7)
	got := step(true)
	if getU64(area) != 0 || getU64(mem.Page(scratch)) != 1 {
		t.Fatalf("the guest did not run the flush records (count %d)", getU64(area))
	}
	m.Flush.Applied()
	t.Logf("hostpte: host edit of a used present PTE, then guest invlpg: %s", describe(got, 111, 222))
	proto := "guest writes each changed entry, then invlpg"
	switch {
	case m.m.HostWrites():
		proto = "host writes, guest invlpg alone"
	case m.m.Invalidates():
		proto = "host writes, old frames invalidated (no guest flush)"
	}
	t.Logf("hostpte: protocol the start-up probe picked: %s", proto)
	if m.m.HostWrites() && got != 222 {
		t.Fatal("the probe picked invlpg alone, but the guest kept the old translation after one")
	}

	// 2b. Host-side rewrite to another frame, then the VMM invalidates
	// its view of the old one (ept/invalidate.go), no guest flush.
	fourth := frame(444)
	cur := getU64(mem.Slice(e, 8))
	putU64(mem.Slice(e, 8), fourth|cur&^ept.Frame(cur))
	// The guest may still hold the first frame (the edits above may
	// have stayed stale): both go.
	if err := mem.Invalidate([]uint64{dataPA, ept.Frame(cur)}); err != nil {
		t.Fatal(err)
	}
	got = step(false)
	if got == 222 {
		got = 111 // the edit in 1. was seen, not this one
	}
	t.Logf("hostpte: host edit of a used present PTE, then the old frame invalidated: %s", describe(got, 111, 444))
	if m.m.Invalidates() {
		t.Logf("hostpte: the start-up probe picked frame invalidation")
		if got != 444 {
			t.Fatal("the probe picked frame invalidation, but the guest kept the old translation after one")
		}
	}

	// 3. The protocol kshim uses: the change goes through the flush queue
	// (or, with frame invalidation, the old frame is invalidated).
	if err := pt.Map(0x600000, third, ept.PTEUser|ept.PTEWritable|ept.PTENoExec|ept.PTEDirty); err != nil {
		t.Fatal(err)
	}
	if !m.Flush.Pending() && m.Flush.Invalidations() == 0 {
		t.Fatal("remap of a present PTE was not queued")
	}
	if err := m.Flush.Invalidate(); err != nil {
		t.Fatal(err)
	}
	got = step(m.Flush.Pending())
	m.Flush.Applied()
	if got != 333 {
		t.Fatalf("after a queued remap the guest read %d, want 333", got)
	}
}
