// task.go: vCPUs as the personality's tasks (kernel.Host and
// kernel.Task). Every guest process runs on a vCPU of its own, in a
// goroutine locked to a host thread, so processes run in parallel and a
// process blocked in a host call blocks nobody else.
//
// Invariants:
//   - A VCPU runs one task at a time; Start resets everything the previous
//     task left (registers, segment state, FS/GS base, FPU, the flush
//     queue) before the new task's first instruction.
//   - Only the task's own goroutine runs its vCPU; another goroutine may
//     only Kick it (immediate_exit, then a signal to its thread), which
//     makes KVM_RUN return so the loop delivers the posted signal.
package vmm

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bobuhiro11/gokvm/kvm"
	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/ept"
	"kshim/syscalls/kernel"
)

// NewTask implements kernel.Host.
func (m *Machine) NewTask() (kernel.Task, error) { return m.NewVCPU() }

// HWCap implements kernel.Host: AT_HWCAP for new images.
func (m *Machine) HWCap() uint64 {
	if m.hwcap != 0 {
		return m.hwcap
	}
	return m.h.hwcap()
}

// Start implements kernel.Task: it runs p from registers r (FPU state fpu,
// an fxsave or whole xsave image, or nil for the initial state) in a new
// goroutine, which loads them into the vCPU itself: the loading's host
// calls (KVM_GET/SET_SREGS, KVM_SET_MSRS, KVM_SET_XSAVE: ~0.1-0.2 ms on
// PVM) are then the new task's, on its own thread, not its parent's
// clone, which goes on as soon as the goroutine exists. A failure to load
// them is a VMM error (p.Fail), as any of the loop's own.
func (c *VCPU) Start(p *kernel.Process, r *kernel.Regs, fpu []byte) error {
	// Before the goroutine exists, so that a kick that comes before it
	// runs stays: it finds no thread to signal, but its immediate_exit
	// makes the first KVM_RUN return at once.
	c.Flush.Reset()
	c.CPU.SetImmediateExit(false)
	pt, regs := c.rootFor(p.MM.PageTable()), *r
	// Not waiting for the goroutine to start (on a busy host a new thread
	// may wait long for a CPU, and the caller is a guest's clone).
	go func() {
		runtime.LockOSThread()
		tid := int32(unix.Gettid())
		atomic.StoreInt32(&c.tid, tid)
		c.m.mu.Lock()
		c.m.taskThreads[tid] = true
		c.m.mu.Unlock()
		var st Stats
		if err := c.enter(pt, &regs, fpu); err != nil {
			p.Fail(fmt.Errorf("starting a task: %w", err))
		} else if err := c.Run(p, &st); err != nil {
			p.Fail(err)
		}
		atomic.StoreInt32(&c.tid, 0)
		p.Finish()
		// The thread goes back to the Go runtime's pool, not away: the
		// next task's goroutine (a pipeline's next fork, a spawn loop)
		// then finds a thread instead of having one made, which from a
		// locked thread takes a hop through the runtime's template
		// thread. Nothing of the task stays on it: its CPU clock and
		// usage are read against the base taken at its start (CPUStart).
		runtime.UnlockOSThread()
	}()
	return nil
}

// enter loads a task's state into the vCPU: page tables pt, user
// registers r, FPU state fpu, and this task's FS/GS base. Its flush
// queue and immediate_exit were reset by Start.
func (c *VCPU) enter(pt PageTables, r *kernel.Regs, fpu []byte) error {
	a := c.arch
	if err := c.loadBases(pt, r.RIP, r.RSP, a.fsBase, a.gsBase); err != nil {
		return err
	}
	kr, err := c.CPU.Regs()
	if err != nil {
		return err
	}
	// Start left RIP/RSP/RFLAGS on the boot stub and its iret frame; the
	// other registers are the task's, and the frame gets its RFLAGS.
	bootRIP, bootRSP, bootFlags := kr.RIP, kr.RSP, kr.RFLAGS
	*kr = *(*kvm.Regs)(unsafe.Pointer(r))
	kr.RIP, kr.RSP, kr.RFLAGS = bootRIP, bootRSP, bootFlags
	putU64(c.ist1[len(c.ist1)-40+16:], r.RFLAGS&userFlagsMask|UserFlags)
	c.CPU.MarkDirty()
	if fpu != nil {
		return a.RestoreFPU(fpu)
	}
	return a.ResetFPU()
}

// userFlagsMask is the RFLAGS bits a task may carry into a new vCPU.
const userFlagsMask = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x400 | 0x800 | 0x40000 | 0x200000

// Switch implements kernel.Task: the calling task continues on page
// tables pt (execve), FS.base and GS.base 0 as execve leaves them, set in
// the same KVM_SET_SREGS (an MSR write each cost ~19 µs here). Queued
// writes were for the old tables and go.
func (c *VCPU) Switch(pt *ept.PageTable) error {
	s, err := c.CPU.Sregs()
	if err != nil {
		return err
	}
	s.CR3 = c.rootFor(pt).Root()
	s.FS.Base, s.GS.Base = 0, 0
	if err := c.CPU.SetSregs(s); err != nil {
		return fmt.Errorf("KVM_SET_SREGS (new address space): %w", err)
	}
	c.arch.fsBase, c.arch.gsBase = 0, 0
	atomic.StoreUint64(&c.cr3, s.CR3)
	c.Flush.Reset()
	c.joinSpace(pt)
	if tid := atomic.LoadInt32(&c.tid); tid != 0 {
		pt.SetThread(tid, c.Flush)
	}
	c.fastStart() // the new program's loader calls next
	return nil
}

// HostTID is the host thread running the vCPU's task (0: none yet or any
// more): the thread whose CPU clock is the task's (syscalls/timecpu.go).
func (c *VCPU) HostTID() int { return int(atomic.LoadInt32(&c.tid)) }

// Kick implements kernel.Task.
func (c *VCPU) Kick() {
	c.CPU.SetImmediateExit(true)
	if tid := atomic.LoadInt32(&c.tid); tid != 0 {
		// Any signal interrupts KVM_RUN; SIGURG is one the Go runtime
		// already handles (and ignores here).
		_ = unix.Tgkill(unix.Getpid(), int(tid), unix.SIGURG)
	}
}

// interrupted handles an EINTR exit of KVM_RUN: deliver what another task
// posted if the vCPU stopped in user code (in the shim, kick it again
// shortly: it reaches user code soon, but may not exit from there).
func (c *VCPU) interrupted(p *kernel.Process, st *Stats) error {
	c.CPU.SetImmediateExit(false)
	if !p.SignalPending() {
		return nil
	}
	r, err := c.CPU.Regs()
	if err != nil {
		return err
	}
	if c.CPU.EventPending() {
		// KVM has yet to deliver an exception for the user code:
		// rewriting the state now would have it delivered onto the
		// resume path. Its exception exit comes first; kick again after.
		c.kickLater(p)
		return nil
	}
	if next := getU64(c.ists[boot.FlushToken-boot.IST1Bottom:]); r.RIP == boot.UserFlush && next != 0 {
		// At uflush with the VMM's token, on its way to user code at
		// the token's RIP (cpl3 path): the same as being there with the
		// flush still to do, which resumeAsync arranges again.
		r.RIP = next
		c.CPU.MarkDirty()
	}
	if ok, waited := fastRIP(r.RIP); ok && waited {
		// Waiting in ufast for the server's reply: a wait the guest's
		// own area bounds (its budget), so possibly forever; settled as
		// if the wait had run out (fast.go).
		c.inExit = true // the call may run here: drain must work
		_, _, err := c.fastExit(p, st)
		c.inExit = false
		return err
	}
	if r.RIP >= boot.UserTop {
		// In the shim (a flush stub, a fault's way back): no frame can
		// be built here, and the user code ahead may never exit again
		// (a spinning thread), so kick again once it has left the shim.
		c.kickLater(p)
		return nil
	}
	c.Flush.Applied()
	u := (*kernel.Regs)(unsafe.Pointer(r))
	u.RFLAGS = userFlags(u.RFLAGS)
	c.inExit = true // building the frame may change memory: drain must work
	p.DeliverPending(u)
	p.EnterUser(u)
	c.inExit = false
	if p.Exited {
		return nil
	}
	return c.m.path.resumeAsync(c, r, c.Flush.Pending())
}

// kickLater kicks c again once it has run guest code for a while (100 µs
// after it is next seen in KVM_RUN), while p still has a signal to take.
// A kick that came before it re-entered the guest would stop it at entry
// (immediate_exit) before it made the progress the kick waits for: on a
// busy host that repeated forever.
func (c *VCPU) kickLater(p *kernel.Process) {
	tid := atomic.LoadInt32(&c.tid)
	time.AfterFunc(100*time.Microsecond, func() {
		if atomic.LoadInt32(&c.tid) != tid || tid == 0 || !p.SignalPending() {
			return // the task is gone, or its signal was taken
		}
		if atomic.LoadInt32(&c.inRun) == 1 {
			c.Kick()
			return
		}
		c.kickLater(p)
	})
}

// Join implements kernel.Task: a root for c in pt (a new thread of the
// process whose address space pt is).
func (c *VCPU) Join(pt *ept.PageTable) error {
	_, err := c.join(pt)
	return err
}

// Leave implements kernel.Task: c's root in pt goes (its thread ended
// while the process goes on).
func (c *VCPU) Leave(pt *ept.PageTable) {
	if r := c.roots[pt]; r != nil {
		r.Detach()
		delete(c.roots, pt)
	}
}
