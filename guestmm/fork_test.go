package guestmm

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"kshim/ept"
)

// forkPair returns a parent with one private and one shared anonymous
// mapping holding data, and its fork child.
func forkChild(t *testing.T, mm *MM) *MM {
	t.Helper()
	pt, err := ept.NewPageTable(mm.mem, ept.NewFlushQueue(make([]byte, 1<<20)), 0xffff888000000000)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mm.Fork(pt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func read(t *testing.T, mm *MM, addr uint64, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := mm.CopyIn(addr, b); err != nil {
		t.Fatalf("read %#x: %v", addr, err)
	}
	return b
}

func write(t *testing.T, mm *MM, addr uint64, s string) {
	t.Helper()
	if _, err := mm.CopyOut(addr, []byte(s)); err != nil {
		t.Fatalf("write %#x: %v", addr, err)
	}
}

func TestForkPrivateIsCopyOnWrite(t *testing.T) {
	mm := newTestMM(t)
	rw := unix.PROT_READ | unix.PROT_WRITE
	p := mustMmap(t, mm, anon(4*PageSize, rw))
	write(t, mm, p, "parent")
	write(t, mm, p+PageSize, "second")
	used := mm.mem.Used()
	c := forkChild(t, mm)
	if mm.mem.Used() != used+uint64(c.pt.Tables())*PageSize {
		t.Fatalf("fork copied pages: used %d -> %d with %d table frames", used, mm.mem.Used(), c.pt.Tables())
	}
	if got := read(t, c, p, 6); string(got) != "parent" {
		t.Fatalf("child reads %q", got)
	}
	// Both sides map the page read-only until one writes.
	for _, m := range []*MM{mm, c} {
		if pte, ok := m.pt.Lookup(p); !ok || pte&ept.PTEWritable != 0 {
			t.Fatalf("pte %#x present %v after fork, want read-only", pte, ok)
		}
	}
	write(t, c, p, "child!")
	if got := read(t, mm, p, 6); string(got) != "parent" {
		t.Fatalf("parent sees the child's write: %q", got)
	}
	write(t, mm, p+PageSize, "PARENT")
	if got := read(t, c, p+PageSize, 6); string(got) != "second" {
		t.Fatalf("child sees the parent's write: %q", got)
	}
	// The parent's first page is no longer shared: its fault only restores write.
	if res, kind := mm.HandleFault(p, Write); res != Resolved || kind != KindCopyOnWrite {
		t.Fatalf("parent write fault on an unshared page: %v %v", res, kind)
	}
	c.Release()
	mm.Release()
	if n := mm.mem.Refs(0); n != 0 && false {
		t.Fatal(n)
	}
}

func TestForkSharedStaysShared(t *testing.T) {
	mm := newTestMM(t)
	rw := unix.PROT_READ | unix.PROT_WRITE
	p := mustMmap(t, mm, MmapArgs{Len: 2 * PageSize, Prot: rw, Flags: unix.MAP_SHARED | unix.MAP_ANONYMOUS})
	write(t, mm, p, "before")
	c := forkChild(t, mm)
	write(t, c, p, "child!")
	if got := read(t, mm, p, 6); string(got) != "child!" {
		t.Fatalf("parent reads %q from shared memory the child wrote", got)
	}
	write(t, mm, p+PageSize, "parent")
	if got := read(t, c, p+PageSize, 6); string(got) != "parent" {
		t.Fatalf("child reads %q from a shared page the parent touched after fork", got)
	}
}

func TestForkDontforkAndWipeonfork(t *testing.T) {
	mm := newTestMM(t)
	rw := unix.PROT_READ | unix.PROT_WRITE
	p := mustMmap(t, mm, anon(3*PageSize, rw))
	write(t, mm, p, "keep")
	write(t, mm, p+PageSize, "gone")
	write(t, mm, p+2*PageSize, "wipe")
	if err := mm.Madvise(p+PageSize, PageSize, unix.MADV_DONTFORK); err != nil {
		t.Fatal(err)
	}
	if err := mm.Madvise(p+2*PageSize, PageSize, unix.MADV_WIPEONFORK); err != nil {
		t.Fatal(err)
	}
	c := forkChild(t, mm)
	if got := read(t, c, p, 4); string(got) != "keep" {
		t.Fatalf("child reads %q", got)
	}
	if _, ok := c.FindVMA(p + PageSize); ok {
		t.Fatal("MADV_DONTFORK page present in the child")
	}
	if got := read(t, c, p+2*PageSize, 4); !bytes.Equal(got, make([]byte, 4)) {
		t.Fatalf("MADV_WIPEONFORK page reads %q in the child, want zeros", got)
	}
	if got := read(t, mm, p+2*PageSize, 4); string(got) != "wipe" {
		t.Fatalf("parent lost its WIPEONFORK page: %q", got)
	}
	if err := mm.Madvise(p+PageSize, PageSize, unix.MADV_WIPEONFORK); err != nil {
		t.Fatal(err)
	}
	s := mustMmap(t, mm, MmapArgs{Len: PageSize, Prot: rw, Flags: unix.MAP_SHARED | unix.MAP_ANONYMOUS})
	if err := mm.Madvise(s, PageSize, unix.MADV_WIPEONFORK); err != unix.EINVAL {
		t.Fatalf("MADV_WIPEONFORK on shared memory: %v, want EINVAL", err)
	}
}

// A copy-on-write fault must keep its reference to the frame it copies
// until the page's entry maps the copy: other vCPUs read the page through
// the old entry until they are stopped, and the fork relative holding the
// frame's other reference may drop it meanwhile (it exits). The parent
// here has two vCPUs attached; the child exits at the moment the fault
// stops the other one (OnShared), the last moment it could still read the
// old frame. That frame was freed and zeroed there: threads writing while
// another forked read zeros (images/fork_race.c, 300 rounds, 5 writers).
func TestCopyOnWriteFreesOldFrameAfterRemap(t *testing.T) {
	mm := newTestMM(t)
	p := mustMmap(t, mm, anon(PageSize, unix.PROT_READ|unix.PROT_WRITE))
	write(t, mm, p, "parent")
	for i := 0; i < 2; i++ {
		r, err := mm.pt.Attach(mm.pt.Root())
		if err != nil {
			t.Fatal(err)
		}
		defer r.Detach()
	}
	c := forkChild(t, mm)
	stops := 0
	mm.pt.OnShared = func() {
		if stops++; stops > 1 {
			return
		}
		c.Destroy() // the child exits while the other vCPU may still run
		pte, ok := mm.pt.Lookup(p)
		if !ok {
			t.Fatal("page not mapped at the stop")
		}
		if got := string(mm.mem.Page(ept.Frame(pte))[:6]); got != "parent" {
			t.Errorf("the frame the other vCPU still maps reads %q at the stop, want \"parent\"", got)
		}
	}
	if res, kind := mm.HandleFault(p, Write); res != Resolved || kind != KindCopyOnWrite {
		t.Fatalf("parent write fault: %v %v", res, kind)
	}
	if stops == 0 {
		t.Fatal("the copy-on-write fault did not stop the other vCPU")
	}
	if got := read(t, mm, p, 6); string(got) != "parent" {
		t.Fatalf("parent reads %q after the copy", got)
	}
	mm.pt.OnShared = nil
	mm.Release()
}
