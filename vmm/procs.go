// procs.go: enough Go Ps for the tasks' threads.
//
// Every task's goroutine is locked to its host thread, and that thread
// spends most of its life in KVM_RUN, a host call during which the Go
// runtime counts it as holding its P (_Psyscall) until sysmon takes the P
// back (after 20 µs to 10 ms: sysmon's period grows while it finds
// nothing to do). With GOMAXPROCS at the host's CPUs (2 here) and two
// tasks in the guest, no P is ever idle, so any goroutine made runnable
// (a clone's child starting on its new vCPU, a parent woken at its
// child's exit, a thread returning from a blocking host call whose P was
// taken) waits for sysmon. Measured with the runtime tracer on the
// busybox pipeline (4 tasks, GOMAXPROCS 2): a child's vCPU goroutine
// started 30 µs to 19 ms after its parent's clone returned (median ~1
// ms), threads back from KVM_RUN waited up to 4.5 ms for a P, and sysmon,
// retaking Ps from KVM_RUN every 20 µs, spent ~5 ms of CPU per run (of
// ~35). A P is not a CPU: the host's scheduler shares the CPUs between
// the threads whatever GOMAXPROCS says, so a P per running task's
// thread, plus one for everything else, leaves one idle for whoever is
// woken. The fast path's server (fast.go) counts as a task's thread: it
// holds its P while it watches. Without its P, a single-task program
// (python3 -c pass) had none idle: sysmon took the vCPU's P in every
// KVM_RUN and started a spinning thread, which took the server's CPU
// (starve; python3 -c pass 30.5 -> 29.2 ms, medians of 25 interleaved
// runs).
//
// Invariants:
//   - GOMAXPROCS only grows, and only when a new task (or the fast
//     server's start) would leave fewer Ps than running tasks, the
//     server, plus one: each change stops the world, so it at least
//     doubles (a guest of N threads changes it ~log2(N) times, a
//     single-task program at most once, for the server).
//   - It is never changed when the user set GOMAXPROCS in kshim's
//     environment, and never beyond maxProcs.
//   - The change is made without Machine.mu held (by a goroutine of its
//     own, started after NewVCPU's unlock): stopping the world waits for
//     running goroutines, which may be waiting for that lock.
package vmm

import (
	"os"
	"runtime"
	"sync"
)

// maxProcs bounds the Ps kshim asks for: past it tasks share Ps again
// (the runtime's GC sizes its workers by GOMAXPROCS too).
const maxProcs = 64

var procs struct {
	sync.Mutex // serialises setProcs
	once       sync.Once
	fixed      bool // GOMAXPROCS set by the user: left alone
}

// fitProcs makes GOMAXPROCS at least running+1 (see the head comment),
// where running is how many tasks the machine runs now. The change is
// made by a goroutine of its own (setProcs): stopping the world from the
// clone that needs it kept the parent ~0.1-0.2 ms longer in its clone
// (busybox pipeline, clone VMM time medians of 41 runs 2.98 -> 2.72 ms
// for its three clones), while another P is still idle at that moment
// (the second task is the first to want a change).
func (m *Machine) fitProcs() {
	if n := m.procsWanted(); n > 0 {
		go setProcs(n)
	}
}

// procsWanted returns the GOMAXPROCS to grow to, or 0 for none.
func (m *Machine) procsWanted() int {
	procs.once.Do(func() { procs.fixed = os.Getenv("GOMAXPROCS") != "" })
	if procs.fixed {
		return 0
	}
	m.mu.Lock()
	want := len(m.all) - len(m.idle) + 1
	m.mu.Unlock()
	if m.fast != nil {
		// The fast path's server holds a P while it watches, as a
		// task's thread does in KVM_RUN.
		want++
	}
	cur := runtime.GOMAXPROCS(0)
	if want <= cur || cur >= maxProcs {
		return 0
	}
	return min(max(want, 4*cur), maxProcs)
}

// setProcs grows GOMAXPROCS to n unless it already is at least n (two
// clones may both have asked).
func setProcs(n int) {
	procs.Lock()
	defer procs.Unlock()
	if runtime.GOMAXPROCS(0) < n {
		runtime.GOMAXPROCS(n)
	}
}
