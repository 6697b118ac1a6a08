// signal.go: signal dispositions, masks, delivery and rt_sigreturn.
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package kernel, whose signal.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

func sysRtSigaction(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	sig := int(a[0])
	if a[3] != 8 || sig < 1 || sig > kernel.Nsig {
		return 0, unix.EINVAL
	}
	var old kernel.Sigaction
	if a[1] != 0 {
		if sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) {
			return 0, unix.EINVAL
		}
		b := make([]byte, 32)
		if _, err := p.MM.CopyIn(a[1], b); err != nil {
			return 0, err
		}
		n := kernel.Sigaction{Handler: abi.Le64(b), Flags: abi.Le64(b[8:]), Restorer: abi.Le64(b[16:]), Mask: abi.Le64(b[24:]) &^ kernel.Unblockable}
		old = p.Sig.Act.Swap(sig, n)
		if n.Handler == kernel.SigIgn || n.Handler == kernel.SigDfl && kernel.DefaultIgnored(sig) {
			p.DiscardIgnored(sig) // from every thread and the process (kernel/sigqueue.go)
		}
	} else {
		old = p.Sig.Act.Get(sig)
	}
	if a[2] != 0 {
		b := make([]byte, 32)
		abi.Put64(b, old.Handler)
		abi.Put64(b[8:], old.Flags)
		abi.Put64(b[16:], old.Restorer)
		abi.Put64(b[24:], old.Mask)
		if _, err := p.MM.CopyOut(a[2], b); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysRtSigprocmask(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	if a[3] != 8 {
		return 0, unix.EINVAL
	}
	old := p.Sig.Mask
	if a[1] != 0 {
		b := make([]byte, 8)
		if _, err := p.MM.CopyIn(a[1], b); err != nil {
			return 0, err
		}
		set := abi.Le64(b) &^ kernel.Unblockable
		switch a[0] {
		case unix.SIG_BLOCK:
			p.SetMask(old | set)
		case unix.SIG_UNBLOCK:
			p.SetMask(old &^ set)
		case unix.SIG_SETMASK:
			p.SetMask(set)
		default:
			return 0, unix.EINVAL
		}
	}
	if a[2] != 0 {
		b := make([]byte, 8)
		abi.Put64(b, old)
		if _, err := p.MM.CopyOut(a[2], b); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysSigaltstack(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	if a[1] != 0 {
		b := make([]byte, 24)
		abi.Put64(b, p.Sig.AltSP)
		abi.Put64(b[8:], p.AltFlags(r.RSP))
		abi.Put64(b[16:], p.Sig.AltSize)
		if _, err := p.MM.CopyOut(a[1], b); err != nil {
			return 0, err
		}
	}
	if a[0] != 0 {
		b := make([]byte, 24)
		if _, err := p.MM.CopyIn(a[0], b); err != nil {
			return 0, err
		}
		return 0, p.SetAltstack(b, r.RSP)
	}
	return 0, nil
}

func sysKill(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	pid := int(int32(a[0]))
	if p.Proc.K != nil && pid != p.Pid {
		return p.KillOthers(pid, int(a[1]))
	}
	if pid != p.Pid && pid != 0 && pid != -1 && pid != -p.Pid {
		return 0, unix.ESRCH
	}
	if sig := int(a[1]); p.Proc.K != nil && sig > 0 && sig <= kernel.Nsig && p.Blocks(sig) {
		// Process-directed, and this thread blocks it: another thread
		// that does not takes it, else the leader (where a sigwait of
		// the main thread finds it), not this thread, which may end
		// with it pending (Linux keeps it in the process's set).
		return p.KillOthers(p.Pid, sig)
	}
	return p.Kill(int(a[1]), kernel.SiUser)
}

func sysTgkill(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	if int32(a[0]) <= 0 || int32(a[1]) <= 0 {
		return 0, unix.EINVAL
	}
	if int(a[0]) != p.Pid || int(a[1]) != p.Pid {
		return 0, unix.ESRCH
	}
	return p.Kill(int(a[2]), kernel.SiTkill)
}

func sysTkill(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	if int32(a[0]) <= 0 {
		return 0, unix.EINVAL
	}
	if int(a[0]) != p.Pid {
		return 0, unix.ESRCH
	}
	return p.Kill(int(a[1]), kernel.SiTkill)
}

func sysRtSigreturn(p *kernel.Process, r *kernel.Regs, _ *args) (uint64, error) {
	frame := r.RSP - 8 // the handler's ret popped the restorer address
	buf := make([]byte, kernel.FrameSize)
	if _, err := p.MM.CopyIn(frame, buf); err != nil {
		return p.BadFrame(r, "unreadable signal frame", err)
	}
	// Linux's order: the mask, then the registers, then the FPU state,
	// then the alternate stack; a failure after the registers leaves them
	// restored for the SIGSEGV that follows.
	p.SetMask(abi.Le64(buf[kernel.UcMaskOff:]) &^ kernel.Unblockable)
	m := buf[kernel.MctxOff:]
	var n kernel.Regs
	for i, v := range kernel.SigcontextRegs(&n) {
		*v = abi.Le64(m[8*i:])
	}
	// The user may only change user-modifiable flags (Linux FIX_EFLAGS:
	// not NT, IOPL, ID or anything else that would change how the shim's
	// own code runs).
	const fixFlags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x10000 | 0x40000
	n.RFLAGS = r.RFLAGS&^fixFlags | n.RFLAGS&fixFlags | 0x202
	*r = n
	segFault, segErr := p.ReturnSegments(buf) // the IRET's checks, kernel/signal.go
	if fp := abi.Le64(m[kernel.ScFPState:]); fp != 0 {
		if err := restoreFrameFPU(p, fp); err != nil {
			_ = p.ClearFPU() // fpu__restore_sig's failure path
			return p.BadFrame(r, "bad FPU state", err)
		}
	} else {
		_ = p.ClearFPU() // no FPU state: the initial one, as Linux
	}
	// restore_altstack: errors other than reading the frame are ignored.
	_ = p.SetAltstack(buf[kernel.UcStackOff:kernel.UcStackOff+24], r.RSP)
	if segFault {
		p.SegmentFault(r, segErr)
	}
	return 0, fs.ErrNoReturn
}

func sysRtSigpending(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	if a[1] > 8 {
		return 0, unix.EINVAL
	}
	b := make([]byte, 8)
	abi.Put64(b, p.Pending()) // its own and the process's, that it blocks
	_, err := p.MM.CopyOut(a[0], b[:a[1]])
	return 0, err
}

// restoreFrameFPU loads the FPU state of an rt_sigreturn frame at fp as
// Linux's __fpu_restore_sig does. With XSAVE frames: the software bytes
// must carry FP_XSTATE_MAGIC1 and an xstate_size between the fxsave area
// with the XSAVE header and the frame size this CPU has, no larger than
// extended_size, and FP_XSTATE_MAGIC2 must follow the image; else only
// the fxsave area is loaded (the legacy fallback) and every other
// component is reset. The image loads the components xfeatures names
// (the others reset); what XRSTOR or FXRSTOR would refuse (misalignment,
// a bad header, reserved MXCSR bits) and unreadable memory are errors.
func restoreFrameFPU(p *kernel.Process, fp uint64) error {
	xf, ok := p.Arch.(kernel.XFrameFPU)
	var features uint64
	var size int
	if ok {
		features, size = xf.XFrame()
	}
	if features == 0 {
		if fp&15 != 0 {
			return unix.EFAULT // FXRSTOR's #GP
		}
		fpu := make([]byte, kernel.FpSize)
		if _, err := p.MM.CopyIn(fp, fpu); err != nil {
			return err
		}
		return p.Arch.RestoreFPU(fpu)
	}
	fx := make([]byte, kernel.FpSize)
	if _, err := p.MM.CopyIn(fp, fx); err != nil {
		return err
	}
	// The legacy fallback is FXRSTOR's (16-byte alignment), the image
	// XRSTOR's (64).
	fxOnly := func() error {
		if fp&15 != 0 {
			return unix.EFAULT
		}
		return xf.RestoreXFrame(fx, 3)
	}
	sw := fx[kernel.FxSwOff:]
	xsize, ext := uint64(abi.Le32(sw[16:])), uint64(abi.Le32(sw[4:]))
	if abi.Le32(sw) != kernel.FpMagic1 || xsize < kernel.XstateMin || xsize > uint64(size) || xsize > ext {
		return fxOnly()
	}
	img := make([]byte, xsize+kernel.FpMagic2Sz)
	if _, err := p.MM.CopyIn(fp, img); err != nil {
		return err
	}
	if abi.Le32(img[xsize:]) != kernel.FpMagic2 {
		return fxOnly()
	}
	if fp&63 != 0 {
		return unix.EFAULT
	}
	return xf.RestoreXFrame(img[:xsize], abi.Le64(sw[8:]))
}
