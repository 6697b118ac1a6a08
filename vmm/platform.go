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
	"fmt"

	"github.com/bobuhiro11/gokvm/kvm"

	"kshim/boot"
)

// entryPath is the probed way back from a syscall exit to user mode.
type entryPath interface {
	// Name says which path this is, for logs and `kshim info`.
	Name() string
	// resume makes the vCPU continue in user mode with the user state in
	// r (RIP and RFLAGS included) once it runs again. With flush set, the
	// guest first applies the queued page-table writes.
	resume(m *Machine, r *kvm.Regs, flush bool)
}

// cpl3Path: `syscall` does not change privilege (PVM). The stub is already
// in user mode, so the VMM sets the user's RIP and RFLAGS directly.
type cpl3Path struct{}

func (cpl3Path) Name() string { return "cpl3-direct" }

func (cpl3Path) resume(m *Machine, r *kvm.Regs, flush bool) {
	if !flush {
		return
	}
	if r.RCX == r.RIP {
		r.RIP = boot.UserFlush // ud2 (flush), then jmp rcx
		return
	}
	putU64(m.page(boot.UserData)[boot.UserTargetOffset:], r.RIP)
	r.RIP = boot.UserFlushJmp
}

// cpl0Path: `syscall` enters the stub at CPL 0 (VMX/SVM). The usual return
// is the stub's sysretq, which takes RIP from RCX and RFLAGS from R11;
// when those must hold other values (rt_sigreturn, signal delivery) the
// return goes through the boot stub's iretq instead.
type cpl0Path struct{}

func (cpl0Path) Name() string { return "cpl0-sysret" }

func (cpl0Path) resume(m *Machine, r *kvm.Regs, flush bool) {
	if r.RCX == r.RIP && r.R11 == r.RFLAGS {
		if flush {
			r.RIP = boot.UserFlushSysret
		} else {
			r.RIP = boot.SyscallEntry + 2 // the sysretq after the stub's out
		}
		return
	}
	m.iretTo(r)
}

// iretTo makes the vCPU enter user mode through the boot stub's iretq
// with the state in r.
func (m *Machine) iretTo(r *kvm.Regs) {
	frame := m.ist1[len(m.ist1)-40:]
	for i, v := range []uint64{r.RIP, boot.UserCS, r.RFLAGS, r.RSP, boot.UserDS} {
		putU64(frame[8*i:], v)
	}
	r.RIP, r.RSP, r.RFLAGS = boot.BootEntry, boot.IST1Top-40, 2
}

// probe runs the user-mode probe and picks the entry path. The vCPU must
// have been started at boot.ProbeEntry.
func (m *Machine) probe() error {
	if err := m.CPU.Run(); err != nil {
		return fmt.Errorf("probe: KVM_RUN: %w", err)
	}
	if reason := m.CPU.ExitReason(); reason != exitIO {
		return fmt.Errorf("probe: unexpected exit %d (%s)", reason, m.CPU.Describe())
	}
	if _, _, port := m.CPU.IO(); port != boot.PortSyscall {
		return fmt.Errorf("probe: exit on port %#x, want the syscall stub (%s)", port, m.CPU.Describe())
	}
	s, err := m.CPU.Sregs()
	if err != nil {
		return fmt.Errorf("probe: KVM_GET_SREGS: %w", err)
	}
	if s.CS.Selector&3 == 3 || s.CS.DPL == 3 {
		m.path = cpl3Path{}
	} else {
		m.path = cpl0Path{}
	}
	return nil
}

// Path names the probed syscall path.
func (m *Machine) Path() string {
	if m.path == nil {
		return "unprobed"
	}
	return m.path.Name()
}

// Boot starts the machine with page tables pt, probes the platform, and
// leaves the vCPU ready to enter user mode at rip with rsp and all other
// registers zero, as execve leaves them.
func (m *Machine) Boot(pt PageTables, rip, rsp uint64) error {
	if err := m.Start(pt, boot.ProbeEntry, 0); err != nil {
		return err
	}
	if err := m.probe(); err != nil {
		return err
	}
	r, err := m.CPU.Regs()
	if err != nil {
		return err
	}
	// Every register zero, as execve leaves them: on the CPL 3 path the
	// vCPU is already in user mode; on CPL 0 it must iretq.
	*r = kvm.Regs{RIP: rip, RSP: rsp, RFLAGS: UserFlags}
	if _, ok := m.path.(cpl0Path); ok {
		m.iretTo(r)
	}
	m.CPU.MarkDirty()
	return nil
}

// Probe boots an empty address space just to run the platform probe and
// returns the path it found.
func (m *Machine) Probe() (string, error) {
	pt, err := m.NewAddressSpace()
	if err != nil {
		return "", err
	}
	if err := m.Start(pt, boot.ProbeEntry, 0); err != nil {
		return "", err
	}
	if err := m.probe(); err != nil {
		return "", err
	}
	return m.Path(), nil
}
