package vmm

import (
	"testing"

	"kshim/boot"
	"kshim/syscalls/kernel"
)

// A request the server never took (starve) keeps the guests from posting
// until the server has looked again: before, every syscall of a run
// whose server the host had preempted waited out the whole budget
// (~100 µs each, up to 25 in one python3 start-up).
func TestFastOpenAfterStarve(t *testing.T) {
	s := &fastServer{wake: make(chan struct{}, 1), ncpu: 2}
	s.slots.Store(&[]*fastSlot{})
	m := &Machine{fast: s}
	c := &VCPU{m: m}
	sl := &fastSlot{c: c, area: make([]byte, 4096), p: &kernel.Process{}}
	c.fast = sl
	awake := func() byte {
		c.fastOpen()
		defer c.fastClose()
		return sl.area[boot.FastAwake]
	}
	if got := awake(); got != 0 {
		t.Fatalf("server asleep: the area says awake %d, want 0", got)
	}
	s.awake.Store(true)
	if got := awake(); got != 1 {
		t.Fatalf("server awake: the area says awake %d, want 1", got)
	}
	s.starve()
	if got := awake(); got != 0 {
		t.Fatalf("after a request the server never took: the area says awake %d, want 0", got)
	}
	if s.backoffUntil.Load() == 0 {
		t.Fatal("starve set no back-off")
	}
	// The server's next look ends its watch and clears the mark (run).
	s.starved.Store(false)
	if got := awake(); got != 1 {
		t.Fatalf("after the server looked again: the area says awake %d, want 1", got)
	}
	if n := s.open.Load(); n != 0 {
		t.Fatalf("%d slots left open", n)
	}
}
