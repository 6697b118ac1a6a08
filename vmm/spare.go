// spare.go: KVM vCPUs made ahead of the tasks that will run them.
//
// A new task with no idle vCPU to reuse (a fork in a shell pipeline, the
// Go runtime's or node's threads at start, a thread pool growing) pays for
// a new vCPU on its parent's clone: KVM_CREATE_VCPU, the kvm_run mapping
// and KVM_SET_CPUID2 (~0.35 ms of ~0.9 ms on the PVM host). So once a task
// takes the last one (from the second task on), a goroutine makes the KVM
// part of the next while the guest runs on, and the next clone finds it
// ready. The machine's own
// part of a vCPU (its shim frames and kernel-half tables) is still made by
// the task that takes it: those frames are guest memory, and a spare
// holding them could make a small --mem guest fail an allocation Linux
// would not fail.
//
// Invariants (all under Machine.mu):
//   - At most one goroutine makes a spare at a time (making), and at most
//     one spare waits in bare: one is made only when bare is empty.
//   - A task that finds none waits for the goroutine only once it has
//     started (started): until then it makes its own, as the Go scheduler
//     may start the goroutine late (below, takeSpareLocked).
//   - len(Machine.all)+len(bare)+started never exceeds max: the goroutine
//     checks it when it starts, so a spare is made only for a task the
//     task limit (--max-tasks) allows, and never takes a vCPU number KVM
//     would then refuse a task.
//   - After stopSpares (Close), none is made, and it returns only once a
//     started goroutine is done with the VM (one not started never
//     touches it); the spares are closed with it.
//   - A KVM vCPU number is used once: the goroutine's, taken when it
//     starts, goes back to ids if KVM fails it (so does a failed
//     NewVCPU's).
package vmm

import "sync"

type spares struct {
	bare    []*CPU
	making  bool // a goroutine is to make one
	started bool // and has started (it has a vCPU number)
	stopped bool
	off     bool // KVM refused one: the tasks make their own
	// max is how many vCPUs the machine may have (SetMaxVCPUs; none are
	// made ahead until it is set).
	max int
	// ids are vCPU numbers given back by failed creations.
	ids []int
	// done is signalled (with Machine.mu) when a making goroutine ends.
	done *sync.Cond
}

// SetMaxVCPUs sets how many vCPUs the machine may have: the guest's task
// limit. Spares are made only below it.
func (m *Machine) SetMaxVCPUs(n int) {
	m.mu.Lock()
	m.spare.max = n
	m.mu.Unlock()
}

// nextIDLocked takes a vCPU number. m.mu held.
func (m *Machine) nextIDLocked() int {
	if n := len(m.spare.ids); n > 0 {
		id := m.spare.ids[n-1]
		m.spare.ids = m.spare.ids[:n-1]
		return id
	}
	m.nextID++
	return m.nextID - 1
}

// takeSpareLocked returns a KVM vCPU made ahead, waiting for the one being
// made; or, when there is none, the number for a new one. m.mu held.
func (m *Machine) takeSpareLocked() (*CPU, int) {
	// Waiting is worth it only once the goroutine runs: with every P
	// held by a thread in KVM_RUN, the Go scheduler may start it only
	// at sysmon's next look, up to 10 ms later (6 ms seen here).
	for m.spare.making && m.spare.started && len(m.spare.bare) == 0 {
		m.spare.done.Wait()
	}
	if n := len(m.spare.bare); n > 0 {
		cpu := m.spare.bare[n-1]
		m.spare.bare = m.spare.bare[:n-1]
		return cpu, 0
	}
	return nil, m.nextIDLocked()
}

// prepareLocked starts making a spare unless one is ready or being made,
// an idle vCPU will serve the next task, the machine is closing, or the
// task limit leaves no room for it; nor before the guest has had two
// tasks at once: a program that never clones (most runs of a static
// tool, python3 -c pass) would only pay for one it never uses (measured:
// a spare made beside the first vCPU slowed start-up by ~0.15 ms here,
// the goroutine's new thread and KVM_CREATE_VCPU contending with the
// memory's set-up). m.mu held.
func (m *Machine) prepareLocked() {
	s := &m.spare
	if s.making || s.stopped || s.off || len(s.bare) > 0 || len(m.idle) > 0 || len(m.all) < 2 || len(m.all)+len(s.bare) >= s.max {
		return
	}
	s.making, s.started = true, false
	go func() {
		m.mu.Lock()
		// A task may have made its own meanwhile (takeSpareLocked).
		if s.stopped || len(m.all)+len(s.bare) >= s.max {
			s.making = false
			s.done.Broadcast()
			m.mu.Unlock()
			return
		}
		s.started = true
		id := m.nextIDLocked()
		m.mu.Unlock()
		cpu, err := m.vm.NewCPU(id)
		m.mu.Lock()
		defer m.mu.Unlock()
		s.making = false
		s.done.Broadcast()
		switch {
		case err != nil:
			// Best effort: the task that needs it makes its own
			// (and reports KVM's error).
			s.ids = append(s.ids, id)
			s.off = true
		case s.stopped:
			cpu.Close()
		default:
			s.bare = append(s.bare, cpu)
		}
	}()
}

// stopSpares waits for the spare being made and closes the spares: no
// goroutine uses the VM after it returns (one not started yet never will).
func (m *Machine) stopSpares() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.spare.stopped = true
	for m.spare.making && m.spare.started {
		m.spare.done.Wait()
	}
	for _, cpu := range m.spare.bare {
		cpu.Close()
	}
	m.spare.bare = nil
}
