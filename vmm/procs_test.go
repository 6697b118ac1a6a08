package vmm

import (
	"runtime"
	"testing"
)

// TestFitProcs: GOMAXPROCS grows to leave a P beyond the running tasks
// (at least four times over, so rarely), never shrinks, stays within
// maxProcs, and is left alone when the user set it.
func TestFitProcs(t *testing.T) {
	old := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(old)
	procs.once.Do(func() {}) // the environment is the test's to set below
	defer func(f bool) { procs.fixed = f }(procs.fixed)
	procs.fixed = false

	fit := func(m *Machine) { // fitProcs, waiting for the change
		if n := m.procsWanted(); n > 0 {
			setProcs(n)
		}
	}
	runtime.GOMAXPROCS(2)
	m := &Machine{}
	m.all = make([]*VCPU, 1)
	fit(m)
	if n := runtime.GOMAXPROCS(0); n != 2 {
		t.Fatalf("one task: GOMAXPROCS %d, want 2 (unchanged)", n)
	}
	m.all = make([]*VCPU, 2)
	fit(m)
	if n := runtime.GOMAXPROCS(0); n != 8 {
		t.Fatalf("two tasks: GOMAXPROCS %d, want 8", n)
	}
	m.all = make([]*VCPU, 9)
	m.idle = make([]*VCPU, 5) // 4 running
	fit(m)
	if n := runtime.GOMAXPROCS(0); n != 8 {
		t.Fatalf("four running tasks: GOMAXPROCS %d, want 8 (never lowered)", n)
	}
	m.idle = nil
	fit(m)
	if n := runtime.GOMAXPROCS(0); n != 32 {
		t.Fatalf("nine tasks: GOMAXPROCS %d, want 32", n)
	}
	m.all = make([]*VCPU, 500)
	fit(m)
	if n := runtime.GOMAXPROCS(0); n != maxProcs {
		t.Fatalf("500 tasks: GOMAXPROCS %d, want the bound %d", n, maxProcs)
	}

	runtime.GOMAXPROCS(2)
	procs.fixed = true // GOMAXPROCS in kshim's environment
	fit(m)
	if n := runtime.GOMAXPROCS(0); n != 2 {
		t.Fatalf("user's GOMAXPROCS: changed to %d", n)
	}
}
