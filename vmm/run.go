// run.go: the exit loop. Each exit is a syscall (the LSTAR stub's out), an
// exception (a vector stub's out), or something that means the guest or
// the shim is broken.
//
// Invariant: before the vCPU runs user code again, the flush queue is
// empty or the resume path applies it (entryPath.resume with flush, or the
// exception stub's kflush).
package vmm

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/bobuhiro11/gokvm/kvm"
	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/ept"
	"kshim/guestmm"
	"kshim/syscalls"
	"kshim/syscalls/kernel"
)

// Compile-time check that kernel.Regs and kvm.Regs share a layout, so
// the loop can hand the personality the sync area's registers directly.
var _ [unsafe.Sizeof(kvm.Regs{}) - unsafe.Sizeof(kernel.Regs{})]struct{}
var _ [unsafe.Sizeof(kernel.Regs{}) - unsafe.Sizeof(kvm.Regs{})]struct{}

// Stats counts exits by kind (FastSyscalls: the calls the fast path's
// server ran, without an exit; fast.go).
type Stats struct {
	Syscalls, PageFaults, Exceptions, FastSyscalls uint64
	Latency                                        *LatencyRecorder // optional (latency.go): VMM time per exit
	// task holds the detailed counters while the machine collects
	// RunStats (stats.go); nil otherwise.
	task *taskStats
	// excSlot is the last exception's fault slot (faultSlot), -1 when it
	// was not a page fault; pages, how many pages that fault mapped.
	excSlot, pages int
}

// Run runs the process until it exits. It returns an error only when the
// shim itself fails; the guest's own end is in p.Exited.
func (c *VCPU) Run(p *kernel.Process, st *Stats) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := int32(unix.Gettid())
	atomic.StoreInt32(&c.tid, tid)
	c.joinSpace(p.MM.PageTable())
	p.MM.PageTable().SetThread(tid, c.Flush)
	defer c.leaveSpace()
	// This thread's CPU time from here is the task's (syscalls/kernel/cputime.go).
	p.CPUStart()
	c.acct = p
	defer func() {
		c.acct = nil
		p.CPUStop()
	}()
	c.fastBegin(p)
	defer c.fastEnd()
	c.fastStart() // a program's first run, a fork's child
	if rs := c.m.stats; rs != nil && st.task == nil {
		st.task = &taskStats{}
		t0, w0, d0 := nanotime(), c.Flush.Writes(), c.drains
		defer func() {
			c.fastTake(st)
			t := st.task
			t.vmmNS = uint64(nanotime()-t0) - t.guestNS
			rs.merge(t, c.Flush.Writes()-w0, c.drains-d0)
		}()
		rs.markOnce(PhaseGuestStarted)
	}
	for !p.Exited {
		err := c.runGuest()
		var t0 int64
		if st.task != nil {
			st.task.exits++
			st.task.guestNS += uint64(c.runNS)
			t0 = nanotime()
		}
		if err != nil {
			if err == unix.EINTR {
				if st.task != nil {
					st.task.interrupts++
				}
				if err := c.interrupted(p, st); err != nil {
					return err
				}
				continue
			}
			if err == unix.EAGAIN {
				continue
			}
			if err == unix.EFAULT {
				// The host could not back a guest page: a file window
				// page past the end of a file another host process
				// truncated. Linux sends SIGBUS for such an access.
				p.Log.Warn("guest touched a mapped file page the host no longer has: SIGBUS")
				p.Exited, p.Signal = true, unix.SIGBUS
				return nil
			}
			return fmt.Errorf("KVM_RUN: %w", err)
		}
		c.note(c.CPU.ExitReason(), p.Tid)
		switch reason := c.CPU.ExitReason(); reason {
		case exitIO:
			_, size, port := c.CPU.IO()
			var err error
			c.inExit = true
			switch {
			case c.fromUser():
				err = c.userPortIO(p, port, size)
			case port == boot.PortSyscall && c.atFastExit():
				var nr uint64
				var ran bool
				nr, ran, err = c.fastExit(p, st)
				if ran && st.task != nil {
					st.task.syscall(nr, nanotime()-t0)
				}
			case port == boot.PortSyscall:
				st.Syscalls++
				t := st.Latency.begin(ClassSyscall)
				var nr uint64
				if r, rerr := c.CPU.Regs(); rerr == nil {
					nr = r.RAX
				}
				err = c.syscall(p)
				st.Latency.end(t)
				if st.task != nil {
					st.task.syscall(nr, nanotime()-t0)
					if c.Flush.Pending() {
						st.task.flushRuns++
					}
				}
			case port == boot.PortException:
				t := st.Latency.begin(ClassOther)
				c.inException = true
				st.excSlot = -1
				err = c.exception(p, st)
				c.inException = false
				st.Latency.end(t)
				if ts := st.task; ts != nil {
					ns := uint64(nanotime() - t0)
					if st.excSlot >= 0 {
						f := &ts.faults[st.excSlot]
						f.n++
						f.pages += uint64(st.pages)
						f.ns += ns
					} else {
						ts.otherExc.n++
						ts.otherExc.ns += ns
					}
					if c.Flush.Pending() {
						ts.flushRuns++
					}
				}
			default:
				err = fmt.Errorf("I/O exit on unexpected port %#x", port)
			}
			c.inExit = false
			if err != nil {
				return fmt.Errorf("%w (%s)", err, c.CPU.Describe())
			}
		case exitIntr:
		case exitShutdown:
			return fmt.Errorf("guest triple fault (%s%s)", c.CPU.Describe(), c.shutdownReport())
		case exitInternalError:
			return fmt.Errorf("KVM internal error, %s (%s)", c.CPU.Internal(), c.CPU.Describe())
		case exitFailEntry, exitHLT, exitMMIO:
			return fmt.Errorf("unexpected KVM exit %d (%s)", reason, c.CPU.Describe())
		default:
			return fmt.Errorf("unknown KVM exit %d (%s)", reason, c.CPU.Describe())
		}
	}
	return nil
}

// fromUser reports whether an I/O exit came from the program's own code
// rather than a shim stub (every stub lies above the user half): the TSS
// I/O bitmap lets CPL 3 reach the syscall port, so a program can execute
// the stub's `out` itself, and some hosts may not honour the bitmap.
func (c *VCPU) fromUser() bool {
	r, err := c.CPU.Regs()
	return err == nil && r.RIP <= boot.UserTop
}

// userPortIO gives a program that did port I/O what Linux gives it without
// ioperm: the #GP's SIGSEGV (SI_KERNEL, address 0), with RIP at the
// instruction.
func (c *VCPU) userPortIO(p *kernel.Process, port uint16, size int) error {
	r, err := c.CPU.Regs()
	if err != nil {
		return err
	}
	u := *(*kernel.Regs)(unsafe.Pointer(r)) // as the instruction found them
	u.RFLAGS = userFlags(u.RFLAGS)
	if c.m.ioAfter {
		u.RIP = c.ioStart(p, r.RIP, port, size)
	}
	if err := c.CPU.CompleteIO(); err != nil {
		return err
	}
	if r, err = c.CPU.Regs(); err != nil {
		return err
	}
	c.Flush.Applied()
	p.Fault(&u, kernel.Siginfo{Signo: int32(unix.SIGSEGV), Code: siKernel, Trapno: 13})
	p.DeliverPending(&u)
	p.EnterUser(&u)
	if p.Exited {
		return nil
	}
	*(*kernel.Regs)(unsafe.Pointer(r)) = u
	return c.m.path.resumeAsync(c, r, c.Flush.Pending())
}

// ioStart finds the start of the I/O instruction that ends at rip (hosts
// that report RIP past it): `in`/`out` with an 8-bit port are two bytes,
// the DX forms and the string forms one, after an operand-size or rep
// prefix.
func (c *VCPU) ioStart(p *kernel.Process, rip uint64, port uint16, size int) uint64 {
	var b [3]byte
	if rip < 3 {
		return rip
	}
	if n, _ := p.MM.CopyIn(rip-3, b[:]); n != 3 {
		return rip
	}
	start := rip
	switch {
	case b[2] == byte(port) && port < 0x100 && b[1] >= 0xe4 && b[1] <= 0xe7:
		start = rip - 2
	case b[2] >= 0xec && b[2] <= 0xef, b[2] >= 0x6c && b[2] <= 0x6f:
		start = rip - 1
	default:
		return rip
	}
	if pre := b[3-(rip-start)-1]; pre == 0xf3 || pre == 0xf2 || pre == 0x66 && size == 2 {
		start--
	}
	return start
}

func (c *VCPU) syscall(p *kernel.Process) error {
	r, err := c.CPU.Regs()
	if err != nil {
		return err
	}
	if r.RIP != boot.SyscallEntry && r.RIP != boot.SyscallEntry+2 && r.RIP != boot.UserDrain+2 && r.RIP != boot.UserDrain+4 {
		return fmt.Errorf("syscall exit from unexpected rip %#x", r.RIP)
	}
	if by := c.bySyscall(r); !by || r.RCX-boot.UserText < 4096 {
		return c.strayEntry(p, r, by)
	}
	u := (*kernel.Regs)(unsafe.Pointer(r))
	// The user's view: syscall left RIP in RCX and RFLAGS in R11.
	u.RIP, u.RFLAGS = r.RCX, userFlags(r.R11)
	c.Flush.Applied()
	if c.fast != nil {
		c.fastWake(u.RAX)
	}
	syscalls.Syscall(p, u)
	c.syscallReturn(p, r)
	return nil
}

// syscallReturn returns the task to user code after a syscall, with the
// user's view of the registers in r: pending signals delivered, the state
// vetted, the probed path's resume (a syscall's exit, or ufast's).
func (c *VCPU) syscallReturn(p *kernel.Process, r *kvm.Regs) {
	u := (*kernel.Regs)(unsafe.Pointer(r))
	p.DeliverPending(u)
	p.EnterUser(u)
	if p.Exited {
		return
	}
	c.m.path.resume(c, r, c.Flush.Pending())
	c.CPU.MarkDirty()
}

// flagIF is RFLAGS.IF. `syscall` clears it (SFMASK) on every platform,
// PVM included, while user code always runs with it set (EnterUser; CPL 3
// cannot clear it): so the syscall port's `out` reached with IF set was
// reached by a jump into the user stub page, not by `syscall`.
const flagIF = 0x200

// bySyscall reports whether the syscall port's exit was reached by a
// `syscall` instruction (IF clear) rather than a jump. Where the fast
// path is on, user code it returned to runs with IF clear (CPL 3 cannot
// set it), so the exit must also be ufast's way on (its mark, which the
// VMM takes: boot.FastVia); a program can set the mark itself, which
// only makes its jump a syscall.
func (c *VCPU) bySyscall(r *kvm.Regs) bool {
	if r.RFLAGS&flagIF != 0 {
		return false
	}
	if sl := c.fast; sl != nil {
		if sl.area[boot.FastVia] == 0 {
			return false
		}
		sl.area[boot.FastVia] = 0
	}
	return true
}

// strayEntry handles a program that jumped into the user stub page and
// ran its `out` (or udrain's), or the probe stub's `syscall` (RCX then
// points into the page): natively that page is kernel memory, so the
// jump faults there, SIGSEGV SEGV_MAPERR at the address. Nothing of the
// stub's work is done: no syscall, and its registers are the program's.
func (c *VCPU) strayEntry(p *kernel.Process, r *kvm.Regs, bySyscall bool) error {
	u := *(*kernel.Regs)(unsafe.Pointer(r))
	switch {
	case bySyscall: // a syscall instruction in the page
		u.RIP, u.RFLAGS, u.RCX, u.R11 = r.RCX-2, userFlags(r.R11), 0, 0
	case r.RIP == boot.UserDrain+4:
		u.RIP = boot.UserDrain // where the jump that reached it landed, at best
	default:
		u.RIP = boot.SyscallEntry
	}
	c.Flush.Applied()
	p.Fault(&u, kernel.Siginfo{Signo: int32(unix.SIGSEGV), Code: segvMapErr, Addr: u.RIP, Trapno: 14, Err: 0x15})
	p.DeliverPending(&u)
	p.EnterUser(&u)
	if p.Exited {
		return nil
	}
	*(*kernel.Regs)(unsafe.Pointer(r)) = u
	return c.m.path.resumeAsync(c, r, c.Flush.Pending())
}

// The exception stub's frame on IST1, from the RSP of its exit.
const (
	frCR2    = 0
	frRAX    = 8
	frVector = 16
	frError  = 24
	frRIP    = 32
	frCS     = 40
	frRFLAGS = 48
	frRSP    = 56
	frSS     = 64
	frSize   = 72
)

func (c *VCPU) exception(p *kernel.Process, st *Stats) error {
	r, err := c.CPU.Regs()
	if err != nil {
		return err
	}
	if r.RSP < boot.IST1Bottom || r.RSP+64 > boot.IST2Top {
		return fmt.Errorf("exception exit with rsp %#x off the exception stacks", r.RSP)
	}
	f := c.ists[r.RSP-boot.IST1Bottom:]
	vec, code, cr2 := getU64(f[frVector:]), getU64(f[frError:]), getU64(f[frCR2:])
	if getU64(f[frCS:])&3 != 3 {
		return fmt.Errorf("exception %d (error %#x, cr2 %#x) in the shim at rip %#x", vec, code, cr2, getU64(f[frRIP:]))
	}
	c.Flush.Applied()
	u := kernel.Regs(*(*kernel.Regs)(unsafe.Pointer(r)))
	u.RAX, u.RIP, u.RFLAGS, u.RSP = getU64(f[frRAX:]), getU64(f[frRIP:]), userFlags(getU64(f[frRFLAGS:])), getU64(f[frRSP:])
	var info kernel.Siginfo
	var fatal string
	if done, addr := c.umip(p, vec, code, &u); done {
		st.Exceptions++
		if addr != 0 { // writing the result faulted
			info = kernel.Siginfo{Signo: int32(unix.SIGSEGV), Code: segvMapErr, Addr: addr, Trapno: 14, Err: 6}
		}
	} else if u.RIP >= boot.UserText && u.RIP < boot.UserText+4096 {
		// User mode in the user stub page, faulting: nothing the VMM
		// sends there faults at CPL 3, so the program jumped in (a flush
		// stub's ud2 without the VMM's token, sysretq at CPL 3). Natively
		// that page is kernel memory: the jump's fetch fault (at the ud2
		// it hit, or the instruction it jumped to).
		st.Exceptions++
		info = kernel.Siginfo{Signo: int32(unix.SIGSEGV), Code: segvMapErr, Addr: u.RIP, Trapno: 14, Err: 0x15}
	} else {
		info, fatal = c.classify(p, vec, code, cr2, u.RIP, st)
	}
	if p.Log.IsLevelEnabled(5) {
		p.Log.WithFields(map[string]any{"tid": p.Tid, "vector": vec, "error": code, "cr2": fmt.Sprintf("%#x", cr2),
			"rip": fmt.Sprintf("%#x", u.RIP), "signal": info.Signo}).Trace("exception")
	}
	if fatal != "" {
		return fmt.Errorf("%s", fatal)
	}
	if info.Signo != 0 && p.Log.IsLevelEnabled(4) { // logrus.DebugLevel
		p.Log.WithFields(map[string]any{"pid": p.Pid, "tid": p.Tid, "signal": info.Signo, "vector": vec, "error": code,
			"cr2": fmt.Sprintf("%#x", cr2), "rip": fmt.Sprintf("%#x", u.RIP), "rsp": fmt.Sprintf("%#x", u.RSP)}).Debug("fault becomes a signal")
	}
	if info.Signo != 0 {
		p.Fault(&u, info)
	}
	p.DeliverPending(&u)
	p.EnterUser(&u)
	if p.Exited {
		return nil
	}
	// Back to user code through the frame's iretq, with every register
	// but RIP, RSP and RFLAGS (the frame's) set here: on a PVM host every
	// instruction the shim runs at CPL 0 is emulated by the hypervisor
	// (~1 µs each, docs/ARCHITECTURE.md "Path of one page fault"), so the
	// vCPU resumes at the iretq itself rather than at the stub's tail
	// (kexcresume: its pops, then kret's kflush), unless writes are queued
	// (kret: kflush, then the iretq).
	stubRSP, stubFlags := r.RSP, r.RFLAGS
	*(*kernel.Regs)(unsafe.Pointer(r)) = u
	r.RSP, r.RFLAGS = stubRSP+frRIP, stubFlags
	r.RIP = boot.KernelReturnIret
	if c.Flush.Pending() {
		r.RIP = boot.KernelReturn
		if single, reload := c.Flush.Single(); single && reload {
			r.RIP = boot.KernelFlushOneReload
		} else if single {
			r.RIP = boot.KernelFlushOne
		}
	}
	putU64(f[frRAX:], u.RAX)
	putU64(f[frRIP:], u.RIP)
	putU64(f[frRFLAGS:], u.RFLAGS)
	putU64(f[frRSP:], u.RSP)
	// The frame was checked to come from user mode above; its segments
	// are written again all the same, so that nothing that ran on the
	// exception stack meanwhile can make this iretq enter user code with
	// a kernel CS.
	putU64(f[frCS:], boot.UserCS)
	putU64(f[frSS:], boot.UserDS)
	c.CPU.MarkDirty()
	return nil
}

// Linux's si_code values.
const (
	segvMapErr = 1
	segvAccErr = 2
	busAdrErr  = 2
	illIllOpn  = 2
	fpeIntDiv  = 1
	siKernel   = 0x80
	trapBrkpt  = 1
)

// classify turns an exception into the signal Linux would send (zero Signo
// when resolved). fatal is set for faults the shim cannot recover from.
func (c *VCPU) classify(p *kernel.Process, vec, code, cr2, rip uint64, st *Stats) (info kernel.Siginfo, fatal string) {
	st.Exceptions++
	info.Trapno, info.Err = vec, code
	switch vec {
	case 14: // #PF
		st.PageFaults++
		acc := guestmm.Read
		if code&0x10 != 0 {
			acc = guestmm.Exec
		} else if code&2 != 0 {
			acc = guestmm.Write
		}
		info.Addr = cr2
		// The KVM_RUN that ended here took one fault round trip plus
		// whatever the program ran since its last resume: the policy
		// keeps the cheapest (guestmm/policy.go).
		c.m.tune.ObserveFault(c.runNS)
		res, kind, pages := p.MM.HandleFaultPages(cr2, acc)
		st.excSlot, st.pages = faultSlot(res, kind), pages
		st.Latency.fault(res, kind, cr2)
		switch res {
		case guestmm.Resolved:
			p.Faulted() // the task's minflt
			return kernel.Siginfo{}, ""
		case guestmm.SegvMapErr:
			info.Signo, info.Code = int32(unix.SIGSEGV), segvMapErr
		case guestmm.SegvAccErr:
			info.Signo, info.Code = int32(unix.SIGSEGV), segvAccErr
		case guestmm.BusErr:
			info.Signo, info.Code = int32(unix.SIGBUS), busAdrErr
		case guestmm.OOM:
			// The OOM killer (syscalls/kernel/oom.go) ends the largest process
			// and has this one retry, or picks this one.
			if p.OutOfMemory() {
				return kernel.Siginfo{}, ""
			}
			if p.Log.IsLevelEnabled(4) {
				p.Log.WithField("tid", p.Tid).Debug("guest out of memory: the faulting task dies")
			}
			info.Signo = int32(unix.SIGKILL)
		}
	case 0:
		info.Signo, info.Code, info.Addr = int32(unix.SIGFPE), fpeIntDiv, rip
	case 1, 3:
		info.Signo, info.Code = int32(unix.SIGTRAP), siKernel
		if vec == 1 {
			info.Code = trapBrkpt
		}
	case 6:
		info.Signo, info.Code, info.Addr = int32(unix.SIGILL), illIllOpn, rip
	case 4, 5, 13:
		info.Signo, info.Code = int32(unix.SIGSEGV), siKernel
	case 11, 12, 17:
		info.Signo, info.Code = int32(unix.SIGBUS), siKernel
	case 16, 19:
		info.Signo, info.Addr = int32(unix.SIGFPE), rip
	default:
		return info, fmt.Sprintf("unexpected exception %d (error %#x) at rip %#x", vec, code, rip)
	}
	if info.Signo == int32(unix.SIGKILL) {
		p.Exited, p.Signal = true, unix.SIGKILL
		return kernel.Siginfo{}, ""
	}
	return info, ""
}

// drain makes the guest apply the flush queue in the middle of a syscall
// or an exception (ept.FlushQueue.Drain, and the end of a change to an
// address space other vCPUs share). The vCPU runs the udrain stub (ud2:
// kflush; then out to the syscall port) and its registers are put back.
// The #UD comes on IST2, so an exception frame on IST1 survives it; one
// on IST2 (the exception being a #UD) is saved and restored around it.
func (c *VCPU) drain() error {
	if !c.inExit {
		return ept.ErrFlushFull
	}
	r, err := c.CPU.Regs()
	if err != nil {
		return err
	}
	saved := *r
	// The drain's ud2 is a #UD, taken on IST2 from its top: when the
	// exception being handled is itself a #UD (a user ud2, or any
	// instruction PVM turns into one), its frame lies exactly where the
	// drain's frame and kflush's pushes go, and the exception stub would
	// then iretq to the user's RIP with the drain's kernel CS. Keep the
	// exception stub's frame and put it back afterwards.
	var frame []byte
	if c.inException && saved.RSP >= boot.IST1Bottom && saved.RSP+frSize <= boot.IST2Top {
		frame = append(frame, c.ists[saved.RSP-boot.IST1Bottom:][:frSize]...)
	}
	if c.inException && saved.RIP < boot.ExceptionResume && saved.RIP+2 >= boot.ExceptionResume {
		// KVM completes an `out` exit on the next KVM_RUN by stepping
		// over the instruction, but only while RIP still points at it:
		// the drain's own `out` takes that place, so the exception
		// stub's must be stepped over here, or it would exit again.
		saved.RIP = boot.ExceptionResume
	}
	defer func() {
		*r = saved
		if frame != nil {
			copy(c.ists[saved.RSP-boot.IST1Bottom:], frame)
		}
		c.CPU.MarkDirty()
	}()
	r.RIP = boot.UserDrain
	c.flushToken(boot.UserDrain + 2)
	c.CPU.MarkDirty()
	c.drains++
	for {
		err := c.runGuest()
		if err == unix.EINTR {
			// A kick: what it wants is handled after the syscall.
			c.CPU.SetImmediateExit(false)
			continue
		}
		if err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return fmt.Errorf("KVM_RUN (drain): %w", err)
		}
		break
	}
	if _, _, port := c.CPU.IO(); c.CPU.ExitReason() != exitIO || port != boot.PortSyscall {
		return fmt.Errorf("drain: unexpected exit (%s)", c.CPU.Describe())
	}
	if r, err = c.CPU.Regs(); err != nil {
		return err
	}
	// udrain is ud2 (2 bytes) then out (2 bytes): PVM reports the exit
	// past the out, VMX/SVM at the out itself (KVM steps over it on the
	// next KVM_RUN only while RIP still points there; ours is put back).
	if r.RIP != boot.UserDrain+2 && r.RIP != boot.UserDrain+4 {
		return fmt.Errorf("drain: exit at rip %#x", r.RIP)
	}
	c.Flush.Applied()
	return nil
}

// runGuest is one KVM_RUN, inside the address space's stop protocol
// (space.go).
func (c *VCPU) runGuest() error {
	c.m.waitThawed() // guest.go: paused
	if err := c.enterGuest(); err != nil {
		return err
	}
	// Frame invalidation: changes made outside a memory-manager
	// operation's end (EndOp invalidates) are made visible now.
	if err := c.Flush.Invalidate(); err != nil {
		return fmt.Errorf("invalidating changed frames: %w", err)
	}
	if checkVCPU {
		if bad := c.stateProblems(); len(bad) > 0 {
			return fmt.Errorf("KSHIM_CHECK_VCPU: entering the guest with %s%s", strings.Join(bad, "; "), c.shutdownReport())
		}
	}
	// From here the guest may be anywhere in kflush: no queued record
	// may grow any more (ept.FlushQueue.Seal).
	c.Flush.Seal()
	// A run outside an exit runs the task's user code: its user time
	// (syscalls/kernel/cputime.go); a drain's runs the shim's.
	user := c.acct != nil && !c.inExit
	if user {
		c.acct.Entering()
	}
	if c.CPU.sync {
		c.entryRIP = c.CPU.regs.RIP
	}
	if user {
		c.fastOpen()
	}
	t := nanotime()
	atomic.StoreInt32(&c.inRun, 1)
	err := c.CPU.Run()
	atomic.StoreInt32(&c.inRun, 0)
	c.runNS = nanotime() - t
	// Out of the guest before the task is taken back from the server: a
	// call it runs may wait for the members of the space to leave it.
	c.leftGuest()
	if user {
		c.fastClose()
		c.acct.Ran(c.runNS)
	}
	return err
}
