// platform.go: how a user `syscall` reaches the VMM and how the user
// resumes, probed once per machine.
//
// On VMX/SVM the CPU enters the LSTAR stub at CPL 0 and the stub must return
// with sysretq. On PVM the stub runs at CPL 3 with the user's CS, where
// sysretq faults; there the VMM resumes the user by setting RIP and RFLAGS
// itself (they travel in kvm_run's sync area, so no ioctl). The probe runs
// one syscall from user mode and reads CS at the stub's exit.
package vmm

import (
	"errors"
	"fmt"

	"github.com/bobuhiro11/gokvm/kvm"
	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/ept"
)

// entryPath is the probed way back from a syscall exit to user mode.
type entryPath interface {
	// Name says which path this is, for logs and `kshim info`.
	Name() string
	// resume makes the vCPU continue in user mode with the user state in
	// r (RIP and RFLAGS included) once it runs again. With flush set, the
	// guest first applies the queued page-table writes.
	resume(c *VCPU, r *kvm.Regs, flush bool)
	// resumeAsync is resume for a vCPU stopped in user code by a kick
	// (not at a syscall stub).
	resumeAsync(c *VCPU, r *kvm.Regs, flush bool) error
}

// cpl3Path: `syscall` does not change privilege (PVM). The stub is already
// in user mode, so the VMM sets the user's RIP and RFLAGS directly.
type cpl3Path struct{}

func (cpl3Path) Name() string { return "cpl3-direct" }

// With writes queued, the VMM injects boot.FlushVector, whose gate is kret
// (kflush, then iretq back to the user's RIP), or for a queue of one
// record FlushVectorOne(Reload), whose kflush1(r) does the same in fewer
// instructions: on PVM each instruction the
// shim runs at CPL 0 is emulated (~1 µs), and the injected vector skips
// the #UD way in (uflush's ud2, its vector stub and kud's check of the
// token, ~20 instructions). A program cannot raise that vector itself (its
// gate has DPL 0, and PVM turns `int n` into #UD). Where the injection is
// refused the #UD way stays.
func (cpl3Path) resume(c *VCPU, r *kvm.Regs, flush bool) {
	c.flushToken(0)
	if !flush {
		return
	}
	if !c.m.noInject {
		vec := uint8(boot.FlushVector)
		if single, reload := c.Flush.Single(); single && reload {
			vec = boot.FlushVectorOneReload
		} else if single {
			vec = boot.FlushVectorOne
		}
		err := c.CPU.InjectException(vec)
		if err == nil {
			return
		}
		if err != unix.EBUSY {
			c.m.noInject = true
		}
	}
	c.flushToken(r.RIP) // ud2 (flush), then on to the user's RIP
	r.RIP = boot.UserFlush
}

func (p cpl3Path) resumeAsync(c *VCPU, r *kvm.Regs, flush bool) error {
	p.resume(c, r, flush)
	c.CPU.MarkDirty()
	return nil
}

// cpl0Path: `syscall` enters the stub at CPL 0 (VMX/SVM). The usual return
// is the stub's sysretq, which takes RIP from RCX and RFLAGS from R11;
// when those must hold other values (rt_sigreturn, signal delivery) the
// return goes through the boot stub's iretq instead.
type cpl0Path struct{}

func (cpl0Path) Name() string { return "cpl0-sysret" }

func (cpl0Path) resume(c *VCPU, r *kvm.Regs, flush bool) {
	if r.RCX == r.RIP && r.R11 == r.RFLAGS {
		if flush {
			c.flushToken(boot.UserFlushSysret + 2)
			r.RIP = boot.UserFlushSysret
		} else {
			c.flushToken(0)
			r.RIP = boot.SyscallEntry + 2 // the sysretq after the stub's out
		}
		return
	}
	c.iretTo(r)
}

// resumeAsync on VMX/SVM: the vCPU is at CPL 3, and only the boot stub's
// iretq (at CPL 0) can load every register, so the VMM puts it back at
// CPL 0 first (KVM_SET_SREGS: costly, but kicks are rare).
func (cpl0Path) resumeAsync(c *VCPU, r *kvm.Regs, flush bool) error {
	s, err := c.CPU.Sregs()
	if err != nil {
		return err
	}
	s.CS = segment(boot.KernelCS, true)
	s.SS = segment(boot.KernelDS, false)
	if err := c.CPU.SetSregs(s); err != nil {
		return err
	}
	c.iretTo(r)
	c.CPU.MarkDirty()
	return nil
}

// flushToken sets the token without which kud takes no #UD on a flush
// stub as a flush request (boot.FlushToken): where the vCPU goes on after
// the flush, or 0. Set right before the vCPU is sent to a flush stub, so
// that a program that jumps into the stub page by itself gets a fault
// instead of the stub's work.
func (c *VCPU) flushToken(next uint64) {
	putU64(c.ists[boot.FlushToken-boot.IST1Bottom:], next)
}

// iretTo makes the vCPU enter user mode through the boot stub's iretq
// with the state in r.
func (c *VCPU) iretTo(r *kvm.Regs) {
	c.flushToken(0) // kret applies the queue itself
	frame := c.ist1[len(c.ist1)-40:]
	for i, v := range []uint64{r.RIP, boot.UserCS, r.RFLAGS, r.RSP, boot.UserDS} {
		putU64(frame[8*i:], v)
	}
	r.RIP, r.RSP, r.RFLAGS = boot.BootEntry, boot.IST1Top-40, 2
}

// probe runs the user-mode probe and picks the entry path, then measures
// the page-table change protocol (pteprobe.go). The vCPU must have been
// started at boot.ProbeEntry; it is left to be loaded again.
func (c *VCPU) probe() error {
	t := nanotime()
	for tries := 0; ; tries++ {
		// A signal to this thread (the Go runtime's preemption, say) ends
		// KVM_RUN with EINTR before the probe's exit: enter again. Seen
		// as "probe: KVM_RUN: interrupted system call" under make test-svm.
		err := c.CPU.Run()
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EINTR) || tries == 1000 {
			return fmt.Errorf("probe: KVM_RUN: %w", err)
		}
	}
	// The probe's exit is the first measure of what an exit costs here:
	// the fault-around policy starts from it (guestmm/policy.go) until
	// real faults are measured.
	c.m.tune.ObserveFault(nanotime() - t)
	if reason := c.CPU.ExitReason(); reason != exitIO {
		return fmt.Errorf("probe: unexpected exit %d (%s)", reason, c.CPU.Describe())
	}
	if _, _, port := c.CPU.IO(); port != boot.PortSyscall {
		return fmt.Errorf("probe: exit on port %#x, want the syscall stub (%s)", port, c.CPU.Describe())
	}
	r, err := c.CPU.Regs()
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	c.m.ioAfter = r.RIP == boot.SyscallEntry+2
	// What CPUID leaf 1 gave the probe's user code: what a program's own
	// CPUID finds (the vCPU's table on VMX/SVM; the host's on PVM, where
	// the table lacked HTT), which Linux passes as AT_HWCAP.
	c.m.hwcap = r.RDX & 0xffffffff
	s, err := c.CPU.Sregs()
	if err != nil {
		return fmt.Errorf("probe: KVM_GET_SREGS: %w", err)
	}
	if s.CS.Selector&3 == 3 || s.CS.DPL == 3 {
		c.m.path = cpl3Path{}
	} else {
		c.m.path = cpl0Path{}
	}
	return c.probePTE()
}

// Path names the probed syscall path.
func (m *Machine) Path() string {
	if m.path == nil {
		return "unprobed"
	}
	return m.path.Name()
}

// Boot starts the vCPU with page tables pt, probing the platform first if
// this machine has not yet, and leaves it ready to enter user mode at rip
// with rsp and all other registers zero, as execve leaves them.
func (c *VCPU) Boot(pt *ept.PageTable, rip, rsp uint64) error {
	if err := c.ensureProbed(pt); err != nil {
		return err
	}
	return c.load(c.rootFor(pt), rip, rsp)
}

// ensureProbed runs the platform probe in page tables pt unless this
// machine has probed already.
func (c *VCPU) ensureProbed(pt *ept.PageTable) error {
	if c.m.path != nil {
		return nil
	}
	if err := c.load(c.rootFor(pt), boot.ProbeEntry, 0); err != nil {
		return err
	}
	if err := c.probe(); err != nil {
		return err
	}
	c.m.startFast()
	return nil
}

// Probe boots an empty address space just to run the platform probe and
// returns the path it found.
func (m *Machine) Probe() (string, error) {
	c, err := m.NewVCPU()
	if err != nil {
		return "", err
	}
	defer c.Release()
	pt, err := c.NewAddressSpace()
	if err != nil {
		return "", err
	}
	if err := c.load(c.rootFor(pt), boot.ProbeEntry, 0); err != nil {
		return "", err
	}
	if err := c.probe(); err != nil {
		return "", err
	}
	return m.Path(), nil
}
