package vmm

import (
	"fmt"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/syscalls/kernel"
)

// A request the server never took (starve) keeps the guests from posting
// until the server has looked again: before, every syscall of a run
// whose server the host had preempted waited out the whole budget
// (~100 µs each, up to 25 in one python3 start-up).
func TestFastOpenAfterStarve(t *testing.T) {
	s := &fastServer{ncpu: 2}
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

// The server's thread leaves the CPU of the vCPU thread that woke it:
// the host places a woken thread on its waker's CPU, where the server
// would share that CPU with the guest spinning for its reply.
func TestFastServerMovesOff(t *testing.T) {
	if len(kernel.HostCPUs()) < 2 {
		t.Skip("one host CPU: nowhere to move")
	}
	done := make(chan error, 1)
	go func() {
		// Locked for good: the thread ends with the goroutine, its
		// changed mask with it (as the server's).
		runtime.LockOSThread()
		s := &fastServer{}
		for _, cpu := range kernel.HostCPUs() {
			s.allowed.Set(cpu)
		}
		for i := 0; i < 20; i++ {
			here := hostCPU()
			s.wakerCPU.Store(int32(here))
			s.moveOff()
			if now := hostCPU(); now == here {
				done <- fmt.Errorf("still on CPU %d, the waker's, after moveOff", now)
				return
			}
			var set unix.CPUSet
			if err := unix.SchedGetaffinity(0, &set); err != nil {
				done <- err
				return
			}
			if set.IsSet(here) || set.Count() != s.allowed.Count()-1 {
				done <- fmt.Errorf("mask %v after moving off CPU %d of %d", set, here, s.allowed.Count())
				return
			}
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
