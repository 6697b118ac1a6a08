// space.go: vCPUs sharing one address space (the threads of a process),
// and how a change to its page tables reaches all of them.
//
// A change to a present page-table entry is applied by guest code on the
// vCPU that made it (ept's flush queue); the other vCPUs of the address
// space may hold the old translation in their TLB (or, on a shadow-paging
// host, the hypervisor may until the guest's write). So such a change
// stops the world of that address space, like Linux's TLB shootdown:
//
//  1. The first queued write of a memory-manager operation (under the MM's
//     lock) calls ept's OnShared: the other member vCPUs are kicked out of
//     the guest and kept out (parked before their next KVM_RUN).
//  2. The writes are queued for the calling vCPU only; every other member
//     is asked for a full TLB flush (CR3 reload) before it next runs user
//     code. (A copy of the writes in its queue could be applied after a
//     newer change to the same entry and undo it.)
//  3. At the end of the operation (still under the MM's lock) OnSharedEnd
//     makes the calling vCPU apply its queue now (drain: on a shadow-paging
//     host its guest writes are what updates every vCPU's shadow), and
//     lets the others go.
//
// Invariants: while a member is parked or outside the guest it runs no
// guest code, so frames freed by the operation are not reachable through
// a stale translation by the time anything runs again. Lock order:
// guestmm's MM lock, then space.mu. A vCPU leaves the guest without
// taking either, so a stop cannot deadlock with a member that is running.
package vmm

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/ept"
)

type space struct {
	pt      *ept.PageTable
	mu      sync.Mutex
	cond    *sync.Cond
	members map[*VCPU]bool
	n       atomic.Int32 // len(members), read without the lock on the hot path
	stopper *VCPU        // non-nil while the world is stopped
}

// spaceFor returns (creating) the space of pt.
func (m *Machine) spaceFor(pt *ept.PageTable) *space {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.spaces == nil {
		m.spaces = map[*ept.PageTable]*space{}
	}
	s := m.spaces[pt]
	if s == nil {
		s = &space{pt: pt, members: map[*VCPU]bool{}}
		s.cond = sync.NewCond(&s.mu)
		m.spaces[pt] = s
		pt.OnShared = func() { s.stop(m.vcpuOfThread()) }
		pt.OnSharedEnd = func() { s.release(m.vcpuOfThread()) }
	}
	return s
}

// vcpuOfThread finds the vCPU the calling host thread runs, or, on the
// fast path's server, the one whose call it runs.
func (m *Machine) vcpuOfThread() *VCPU {
	tid := int32(unix.Gettid())
	if s := m.fast; s != nil && s.tid.Load() == tid {
		return s.serving.Load()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.all {
		if atomic.LoadInt32(&c.tid) == tid {
			return c
		}
	}
	return nil
}

// joinSpace makes c a member of pt's space (a task starts on c).
func (c *VCPU) joinSpace(pt *ept.PageTable) {
	c.leaveSpace()
	s := c.m.spaceFor(pt)
	s.mu.Lock()
	s.members[c] = true
	s.n.Store(int32(len(s.members)))
	s.mu.Unlock()
	c.space = s
}

// Away implements kernel.Task: the calling task runs no guest code until
// back (a vfork parent's wait for its child), so its vCPU stops counting
// among those its address space's changes must stop (ept.Root.Away).
func (c *VCPU) Away() (back func()) {
	s := c.space
	if s == nil {
		return func() {}
	}
	r := c.roots[s.pt]
	tid := atomic.LoadInt32(&c.tid)
	if r == nil || tid == 0 {
		return func() {}
	}
	return r.Away(tid)
}

// leaveSpace ends c's membership (exit, exec, Release).
func (c *VCPU) leaveSpace() {
	s := c.space
	if s == nil {
		return
	}
	s.mu.Lock()
	delete(s.members, c)
	s.n.Store(int32(len(s.members)))
	empty := len(s.members) == 0
	s.cond.Broadcast()
	s.mu.Unlock()
	if empty {
		c.m.mu.Lock()
		delete(c.m.spaces, s.pt)
		c.m.mu.Unlock()
	}
	if tid := atomic.LoadInt32(&c.tid); tid != 0 {
		s.pt.SetThread(tid, nil)
	}
	c.space = nil
}

// stop kicks every other member out of the guest and waits until none
// runs guest code. caller may be nil (no vCPU of this space is calling).
func (s *space) stop(caller *VCPU) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopper = caller
	for {
		running := false
		for c := range s.members {
			if c != caller && c.inGuest {
				running = true
				c.Kick()
			}
		}
		if !running {
			return
		}
		s.cond.Wait()
	}
}

// release ends a stop: the caller applies its queue now, the others flush
// their TLB before they next run user code.
func (s *space) release(caller *VCPU) {
	if caller != nil && caller.Flush.Pending() {
		if err := caller.drain(); err != nil {
			// Not at an exit (no vCPU to run): the caller's queue is
			// applied at its next resume, before its user code; the
			// others still reload CR3 below.
			_ = err
		}
	}
	s.mu.Lock()
	// Only guest-write records leave the others' translations stale
	// (an invalidated frame's are gone from every vCPU already).
	recorded := s.pt.Recorded()
	for c := range s.members {
		if c != caller && (recorded || !c.Flush.Invalidating()) {
			c.Flush.FlushAll()
		}
	}
	s.stopper = nil
	s.cond.Broadcast()
	s.mu.Unlock()
	s.pt.Unshared()
}

// enterGuest is called before each KVM_RUN: it waits while another member
// has the world stopped, makes sure a flush requested meanwhile is applied
// before user code, and marks c as running guest code.
func (c *VCPU) enterGuest() error {
	s := c.space
	if s == nil || s.n.Load() < 2 {
		return nil
	}
	s.mu.Lock()
	for s.stopper != nil && s.stopper != c {
		s.cond.Wait()
	}
	c.inGuest = true
	s.mu.Unlock()
	// Another member may have queued writes for c while c was outside the
	// guest (even before it stopped the world, c may have chosen its
	// resume path): they must be applied before c's user code runs.
	return c.ensureFlush()
}

// leftGuest is called after each KVM_RUN.
func (c *VCPU) leftGuest() {
	s := c.space
	if s == nil || !c.inGuest {
		return
	}
	s.mu.Lock()
	c.inGuest = false
	s.cond.Broadcast()
	s.mu.Unlock()
}

// ensureFlush routes the vCPU's resume through a flush stub when writes
// (or a full flush) wait in its queue and it would otherwise go straight
// to user code.
func (c *VCPU) ensureFlush() error {
	if !c.Flush.Pending() {
		return nil
	}
	r, err := c.CPU.Regs()
	if err != nil {
		return err
	}
	// Every place the vCPU can stop where no kflush lies ahead on its way
	// to user code: user code itself, the sysretq after uflushsysret's
	// ud2 (its kflush already ran; uflush's goes straight to user code),
	// the syscall stub's sysretq and the iretq after kret's kflush.
	back := uint64(0)
	switch r.RIP {
	case boot.UserFlushSysret + 2, boot.SyscallEntry + 2: // cpl0: on to sysretq
		back = boot.UserFlushSysret
		c.flushToken(boot.UserFlushSysret + 2)
	case boot.KernelReturnIret:
		back = boot.KernelReturn
	default:
		if r.RIP > boot.KernelFlushCheck && r.RIP <= boot.KernelFlushRet {
			// Past kflush's last look at the queue (or between its
			// two compares): once more, or what was queued while it
			// was stopped would wait for the next flush while user
			// code ran on stale translations.
			r.RIP = boot.KernelFlushCheck
			c.CPU.MarkDirty()
			return nil
		}
		if r.RIP < boot.UserTop {
			if c.CPU.EventPending() {
				// KVM delivers the user's pending fault first; its
				// exception path ends in kflush, which applies the queue.
				return nil
			}
			return c.m.path.resumeAsync(c, r, true)
		}
		return nil
	}
	r.RIP = back
	c.CPU.MarkDirty()
	return nil
}
