package vmm

import (
	"errors"
	"testing"
	"time"
)

func newSpareMachine(t *testing.T, mem uint64) *Machine {
	t.Helper()
	m, err := NewMachine(mem)
	if errors.Is(err, ErrNoKVM) {
		t.Fatalf("KVM unavailable: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// spareReady waits (the goroutine has no deadline of its own) until a spare
// is ready or none is being made, and returns the spare.
func spareReady(t *testing.T, m *Machine) *CPU {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		m.mu.Lock()
		s := m.spare
		m.mu.Unlock()
		if len(s.bare) > 0 {
			return s.bare[0]
		}
		if !s.making {
			return nil
		}
	}
	t.Fatal("no spare vCPU after 30 s")
	return nil
}

// A spare made after a task took a vCPU is the next task's, costs no
// guest memory, and none is made for a guest that has had one task only,
// nor beyond the task limit.
func TestSpareVCPU(t *testing.T) {
	m := newSpareMachine(t, 64<<20)
	defer m.Close()
	m.SetMaxVCPUs(4)
	c0, err := m.NewVCPU()
	if err != nil {
		t.Fatal(err)
	}
	if spareReady(t, m) != nil {
		t.Error("a spare made for a guest of one task")
	}
	c1, err := m.NewVCPU()
	if err != nil {
		t.Fatal(err)
	}
	used := m.Mem.Used()
	spare := spareReady(t, m)
	if spare == nil {
		t.Fatal("no spare made after the second vCPU")
	}
	if u := m.Mem.Used(); u != used {
		t.Errorf("the spare took guest memory: %d bytes used, %d before it", u, used)
	}
	c2, err := m.NewVCPU()
	if err != nil {
		t.Fatal(err)
	}
	if c2.CPU != spare {
		t.Error("the third vCPU did not run on the spare")
	}
	if spareReady(t, m) == nil {
		t.Fatal("no spare made for the fourth vCPU (limit 4)")
	}
	c3, err := m.NewVCPU()
	if err != nil {
		t.Fatal(err)
	}
	// At the limit: no fifth.
	if s := spareReady(t, m); s != nil {
		t.Errorf("a spare beyond the task limit: %d vCPUs and a spare", len(m.all))
	}
	// A released vCPU serves the next task.
	c3.Release()
	if c, err := m.NewVCPU(); err != nil || c != c3 {
		t.Errorf("NewVCPU after a release: %p, %v; want the released %p", c, err, c3)
	}
	fds := map[uintptr]bool{}
	for _, c := range []*VCPU{c0, c1, c2, c3} {
		fds[c.CPU.fd] = true
	}
	if len(fds) != 4 || len(m.all) != 4 {
		t.Errorf("%d distinct KVM vCPUs, %d vCPUs; want 4", len(fds), len(m.all))
	}
}

// With a limit of two tasks, no spare is made.
func TestSpareVCPULimit(t *testing.T) {
	m := newSpareMachine(t, 64<<20)
	defer m.Close()
	m.SetMaxVCPUs(2)
	for i := 0; i < 2; i++ {
		if _, err := m.NewVCPU(); err != nil {
			t.Fatal(err)
		}
	}
	if spareReady(t, m) != nil {
		t.Error("a spare made beyond a limit of two tasks")
	}
}

// Close while a spare is being made: the goroutine is done with the VM
// when Close returns, and the spare is closed with it.
func TestSpareVCPUClose(t *testing.T) {
	for i := 0; i < 20; i++ {
		m := newSpareMachine(t, 16<<20)
		m.SetMaxVCPUs(8)
		for j := 0; j < 2; j++ {
			if _, err := m.NewVCPU(); err != nil {
				m.Close()
				t.Fatal(err)
			}
		}
		m.Close()
		m.mu.Lock()
		s := m.spare
		m.mu.Unlock()
		if (s.making && s.started) || len(s.bare) != 0 || !s.stopped {
			t.Fatalf("after Close: making %v started %v, %d spares, stopped %v", s.making, s.started, len(s.bare), s.stopped)
		}
	}
}
