// signal.go: signal dispositions, masks, delivery and rt_sigreturn.
//
// Delivery builds Linux's x86-64 rt_sigframe on the user stack (or the
// alternate stack): return address (sa_restorer), ucontext with the
// interrupted registers in sigcontext, siginfo, and the FPU state (fxsave
// format) the handler may clobber. rt_sigreturn reads it all back, trusting
// nothing in it: the registers the handler can forge are only user state.
//
// Invariant: a thread's mask changes only on its own goroutine and always
// under its sigMu (setMask), so other tasks (choosing the thread that takes
// a process signal, checking for interruption) read it under sigMu; the
// thread itself reads it freely.
package syscalls

import (
	"golang.org/x/sys/unix"
	"sync/atomic"
)

const nsig = 64

type sigaction struct {
	handler, flags, restorer, mask uint64
}

const (
	sigDfl = 0
	sigIgn = 1

	saSiginfo   = 0x4
	saOnstack   = 0x08000000
	saRestart   = 0x10000000
	saNodefer   = 0x40000000
	saResethand = 0x80000000
	saRestorer  = 0x04000000

	ssOnstack = 1
	ssDisable = 2
)

type signals struct {
	act     *[nsig + 1]sigaction // shared by the threads of a process (CLONE_SIGHAND)
	mask    uint64
	pending uint64
	info    [nsig + 1]Siginfo
	altSP   uint64
	altSize uint64
	altOn   bool
	cr2     uint64 // the last fault address, sigcontext's cr2
	// saved is the mask rt_sigsuspend replaced; restoreMask says it is
	// still to be put back (by the next frame's uc_mask, or at the end of
	// DeliverPending when no handler runs): waitsig.go.
	saved       uint64
	restoreMask bool
}

// Siginfo is the part of siginfo_t kshim fills.
type Siginfo struct {
	Signo, Code int32
	Addr        uint64 // si_addr for faults; si_pid for kill
	UID         uint32
	Pid         uint32
	FromKill    bool
	Status      int32 // SIGCHLD: the child's exit status or signal
	// Raw is a siginfo the sender gave whole (rt_sigqueueinfo); when set,
	// it is what the receiver sees, with si_signo put right.
	Raw         []byte
	Err, Trapno uint64 // the exception's error code and vector, for sigcontext
	// Drop, when set by the time the signal is taken, discards it: a
	// POSIX timer's signal after the timer was re-armed or deleted.
	Drop *atomic.Bool
}

func (info *Siginfo) dropped() bool { return info.Drop != nil && info.Drop.Load() }

func bit(sig int) uint64 { return 1 << (sig - 1) }

// encode writes info as the 128-byte siginfo_t the guest reads.
func (info *Siginfo) encode(si []byte) {
	if info.Raw != nil {
		copy(si, info.Raw)
		put32(si, uint32(info.Signo))
		return
	}
	put32(si, uint32(info.Signo))
	put32(si[8:], uint32(info.Code))
	if info.FromKill {
		put32(si[16:], info.Pid)
		put32(si[20:], info.UID)
		if info.Signo == int32(unix.SIGCHLD) {
			put32(si[24:], uint32(info.Status))
		}
	} else {
		put64(si[16:], info.Addr)
	}
}

// Signals that cannot be caught, blocked or ignored.
const unblockable = 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)

func sysRtSigaction(p *Process, _ *Regs, a *args) (uint64, error) {
	sig := int(a[0])
	if a[3] != 8 || sig < 1 || sig > nsig {
		return 0, unix.EINVAL
	}
	old := p.sig.act[sig]
	if a[1] != 0 {
		if sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) {
			return 0, unix.EINVAL
		}
		b := make([]byte, 32)
		if _, err := p.MM.CopyIn(a[1], b); err != nil {
			return 0, err
		}
		n := sigaction{le64(b), le64(b[8:]), le64(b[16:]), le64(b[24:]) &^ unblockable}
		p.sig.act[sig] = n
		if n.handler == sigIgn || n.handler == sigDfl && defaultIgnored(sig) {
			p.proc.sigMu.Lock() // posters set pending bits under it
			p.sig.pending &^= bit(sig)
			p.proc.sigMu.Unlock()
		}
	}
	if a[2] != 0 {
		b := make([]byte, 32)
		put64(b, old.handler)
		put64(b[8:], old.flags)
		put64(b[16:], old.restorer)
		put64(b[24:], old.mask)
		if _, err := p.MM.CopyOut(a[2], b); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysRtSigprocmask(p *Process, _ *Regs, a *args) (uint64, error) {
	if a[3] != 8 {
		return 0, unix.EINVAL
	}
	old := p.sig.mask
	if a[1] != 0 {
		b := make([]byte, 8)
		if _, err := p.MM.CopyIn(a[1], b); err != nil {
			return 0, err
		}
		set := le64(b) &^ unblockable
		switch a[0] {
		case unix.SIG_BLOCK:
			p.setMask(old | set)
		case unix.SIG_UNBLOCK:
			p.setMask(old &^ set)
		case unix.SIG_SETMASK:
			p.setMask(set)
		default:
			return 0, unix.EINVAL
		}
	}
	if a[2] != 0 {
		b := make([]byte, 8)
		put64(b, old)
		if _, err := p.MM.CopyOut(a[2], b); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// setMask sets the calling thread's signal mask (see the invariant).
func (p *Process) setMask(m uint64) {
	p.proc.sigMu.Lock()
	p.sig.mask = m
	p.proc.sigMu.Unlock()
}

// blocks reports whether thread p blocks sig; any task may ask.
func (p *Process) blocks(sig int) bool {
	p.proc.sigMu.Lock()
	defer p.proc.sigMu.Unlock()
	return p.sig.mask&bit(sig) != 0
}

func sysSigaltstack(p *Process, r *Regs, a *args) (uint64, error) {
	onStack := p.sig.altOn && r.RSP-p.sig.altSP < p.sig.altSize
	if a[1] != 0 {
		b := make([]byte, 24)
		flags := uint64(0)
		if onStack {
			flags = ssOnstack
		}
		if !p.sig.altOn {
			flags = ssDisable
		}
		put64(b, p.sig.altSP)
		put64(b[8:], flags)
		put64(b[16:], p.sig.altSize)
		if _, err := p.MM.CopyOut(a[1], b); err != nil {
			return 0, err
		}
	}
	if a[0] != 0 {
		b := make([]byte, 24)
		if _, err := p.MM.CopyIn(a[0], b); err != nil {
			return 0, err
		}
		return 0, p.setAltstack(b, r.RSP)
	}
	return 0, nil
}

// setAltstack applies a stack_t (ss_sp, ss_flags, ss_size) as Linux's
// do_sigaltstack does for a thread whose stack pointer is sp.
func (p *Process) setAltstack(b []byte, sp uint64) error {
	if p.sig.altOn && sp-p.sig.altSP < p.sig.altSize {
		return unix.EPERM
	}
	ssp, flags, size := le64(b), uint32(le64(b[8:])), le64(b[16:])
	// SS_AUTODISARM is a modifier; SS_ONSTACK is accepted as 0 for old
	// programs, as Linux does.
	switch flags &^ (1 << 31) {
	case ssDisable:
		p.sig.altOn, p.sig.altSP, p.sig.altSize = false, 0, 0
	case 0, ssOnstack:
		if size < 2048 { // MINSIGSTKSZ
			return unix.ENOMEM
		}
		p.sig.altOn, p.sig.altSP, p.sig.altSize = true, ssp, size
	default:
		return unix.EINVAL
	}
	return nil
}

func (p *Process) raise(sig int, info Siginfo) {
	p.proc.sigMu.Lock()
	p.sig.pending |= bit(sig)
	p.sig.info[sig] = info
	p.proc.sigMu.Unlock()
}

// Linux's si_code for signals sent by kill and by tkill/tgkill.
const (
	siUser  = 0
	siTkill = -6
)

func (p *Process) kill(sig int, code int32) (uint64, error) {
	if sig < 0 || sig > nsig {
		return 0, unix.EINVAL
	}
	if sig == 0 {
		return 0, nil
	}
	p.raise(sig, Siginfo{Signo: int32(sig), Code: code, Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), FromKill: true})
	return 0, nil
}

func sysKill(p *Process, _ *Regs, a *args) (uint64, error) {
	pid := int(int32(a[0]))
	if p.proc.k != nil && pid != p.Pid {
		return p.killOthers(pid, int(a[1]))
	}
	if pid != p.Pid && pid != 0 && pid != -1 && pid != -p.Pid {
		return 0, unix.ESRCH
	}
	return p.kill(int(a[1]), siUser)
}

func sysTgkill(p *Process, _ *Regs, a *args) (uint64, error) {
	if int32(a[0]) <= 0 || int32(a[1]) <= 0 {
		return 0, unix.EINVAL
	}
	if int(a[0]) != p.Pid || int(a[1]) != p.Pid {
		return 0, unix.ESRCH
	}
	return p.kill(int(a[2]), siTkill)
}

func sysTkill(p *Process, _ *Regs, a *args) (uint64, error) {
	if int32(a[0]) <= 0 {
		return 0, unix.EINVAL
	}
	if int(a[0]) != p.Pid {
		return 0, unix.ESRCH
	}
	return p.kill(int(a[1]), siTkill)
}

func defaultIgnored(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH, unix.SIGCONT:
		return true
	}
	return false
}

// DeliverPending delivers the lowest pending unblocked signal, if any:
// it builds a handler frame in r, or ends the process. Call it before
// every return to user mode.
func (p *Process) DeliverPending(r *Regs) {
	for !p.Exited {
		p.stopWait()
		p.proc.sigMu.Lock()
		ready := p.sig.pending &^ p.sig.mask
		if ready == 0 {
			if p.sig.restoreMask {
				p.sig.mask, p.sig.restoreMask = p.sig.saved, false
			}
			p.proc.sigMu.Unlock()
			return
		}
		sig := 1
		for ready&1 == 0 {
			ready >>= 1
			sig++
		}
		p.sig.pending &^= bit(sig)
		info := p.sig.info[sig]
		p.proc.sigMu.Unlock()
		if info.dropped() {
			continue
		}
		p.deliver(sig, info, r)
	}
}

// Fault turns a synchronous fault into its signal, delivered now. Linux
// force_sig_fault: a blocked or ignored synchronous signal kills the
// process with the default action instead of being lost or looping.
func (p *Process) Fault(r *Regs, info Siginfo) {
	sig := int(info.Signo)
	if p.sig.mask&bit(sig) != 0 || p.sig.act[sig].handler == sigIgn {
		p.sig.act[sig].handler = sigDfl
		p.setMask(p.sig.mask &^ bit(sig))
	}
	p.deliver(sig, info, r)
}

func (p *Process) deliver(sig int, info Siginfo, r *Regs) {
	act := p.sig.act[sig]
	switch act.handler {
	case sigIgn:
		return
	case sigDfl:
		if defaultIgnored(sig) {
			return
		}
		if isStopSignal(sig) {
			if sig == int(unix.SIGSTOP) || !p.orphanedGroup() {
				p.groupStop(sig)
			}
			return
		}
		if sig == int(unix.SIGKILL) && p.killedByExec() {
			p.Exited = true // another thread's execve ends this one alone
			return
		}
		p.groupExit(0, unix.Signal(sig)) // a fatal signal ends every thread
		return
	}
	if err := p.setupFrame(sig, info, act, r); err != nil {
		// No room for the frame: Linux forces SIGSEGV.
		p.groupExit(0, unix.SIGSEGV)
		return
	}
	if act.flags&saResethand != 0 {
		p.sig.act[sig].handler = sigDfl
	}
}

// Frame layout (arch/x86/include/asm/sigframe.h, rt_sigframe).
const (
	ucOff        = 8
	ucStackOff   = ucOff + 16
	mctxOff      = ucOff + 40
	ucMaskOff    = ucOff + 296
	infoOff      = ucOff + 304
	frameSize    = infoOff + 128
	fpSize       = 512
	ucFPXstate   = 0 // no UC_FP_XSTATE: plain fxsave image
	redZone      = 128
	sigcontextSz = 256
	// sigcontext_64 fields after the 18 general registers.
	scCSGSFS  = 144
	scErr     = 152
	scTrapno  = 160
	scOldmask = 168
	scCR2     = 176
	scFPState = 184
)

// sigcontext order: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags.
func sigcontextRegs(r *Regs) []*uint64 {
	return []*uint64{&r.R8, &r.R9, &r.R10, &r.R11, &r.R12, &r.R13, &r.R14, &r.R15,
		&r.RDI, &r.RSI, &r.RBP, &r.RBX, &r.RDX, &r.RAX, &r.RCX, &r.RSP, &r.RIP, &r.RFLAGS}
}

func (p *Process) setupFrame(sig int, info Siginfo, act sigaction, r *Regs) error {
	sp := r.RSP - redZone
	onAlt := p.sig.altOn && r.RSP-p.sig.altSP < p.sig.altSize
	if act.flags&saOnstack != 0 && p.sig.altOn && !onAlt {
		sp = p.sig.altSP + p.sig.altSize
	}
	fp := (sp - fpSize) &^ 63
	frame := ((fp - frameSize) &^ 15) - 8 // handler entry: (rsp+8) % 16 == 0
	buf := make([]byte, fp+fpSize-frame)
	put64(buf, act.restorer)
	flags := uint64(0)
	put64(buf[ucOff:], flags)
	// uc_stack
	put64(buf[ucStackOff:], p.sig.altSP)
	ssFlags := uint64(ssDisable)
	if p.sig.altOn {
		ssFlags = 0
		if onAlt {
			ssFlags = ssOnstack
		}
	}
	put64(buf[ucStackOff+8:], ssFlags)
	put64(buf[ucStackOff+16:], p.sig.altSize)
	m := buf[mctxOff:]
	for i, v := range sigcontextRegs(r) {
		put64(m[8*i:], *v)
	}
	put64(m[scCSGSFS:], uint64(0x33)|uint64(0x2b)<<48) // cs, gs, fs, ss
	if info.Trapno == 14 {
		p.sig.cr2 = info.Addr // Linux keeps the last fault address per thread
	}
	put64(m[scErr:], info.Err)
	put64(m[scTrapno:], info.Trapno)
	// The mask the handler's return restores: the one before
	// rt_sigsuspend's temporary mask, if that is still in force.
	oldMask := p.sig.mask
	if p.sig.restoreMask {
		oldMask = p.sig.saved
	}
	put64(m[scOldmask:], oldMask)
	put64(m[scCR2:], p.sig.cr2)
	put64(m[scFPState:], fp)
	put64(buf[ucMaskOff:], oldMask)
	info.encode(buf[infoOff : infoOff+128])
	fpu, err := p.Arch.SaveFPU()
	if err != nil {
		return err
	}
	copy(buf[fp-frame:], fpu)
	if _, err := p.MM.CopyOut(frame, buf); err != nil {
		return err
	}
	// The handler starts with a clean FPU (Linux's fpu__clear_user_states);
	// rt_sigreturn restores the interrupted state from the frame.
	if err := p.Arch.ResetFPU(); err != nil {
		return err
	}
	p.sig.restoreMask = false // the frame holds the mask to go back to
	mask := p.sig.mask | act.mask
	if act.flags&saNodefer == 0 {
		mask |= bit(sig)
	}
	p.setMask(mask)
	r.RSP = frame
	r.RIP = act.handler
	r.RDI = uint64(sig)
	r.RSI = frame + infoOff
	r.RDX = frame + ucOff
	r.RAX = 0
	r.RFLAGS &^= 0x400 | 0x100 // DF, TF: the ABI wants them clear in the handler
	return nil
}

func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func sysRtSigreturn(p *Process, r *Regs, _ *args) (uint64, error) {
	frame := r.RSP - 8 // the handler's ret popped the restorer address
	buf := make([]byte, frameSize)
	if _, err := p.MM.CopyIn(frame, buf); err != nil {
		return p.badFrame(r, "unreadable signal frame", err)
	}
	// Linux's order: the mask, then the registers, then the FPU state,
	// then the alternate stack; a failure after the registers leaves them
	// restored for the SIGSEGV that follows.
	p.setMask(le64(buf[ucMaskOff:]) &^ unblockable)
	m := buf[mctxOff:]
	var n Regs
	for i, v := range sigcontextRegs(&n) {
		*v = le64(m[8*i:])
	}
	// The user may only change user-modifiable flags (Linux FIX_EFLAGS:
	// not NT, IOPL, ID or anything else that would change how the shim's
	// own code runs).
	const fixFlags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x10000 | 0x40000
	n.RFLAGS = r.RFLAGS&^fixFlags | n.RFLAGS&fixFlags | 0x202
	*r = n
	if fp := le64(m[scFPState:]); fp != 0 {
		fpu := make([]byte, fpSize)
		if _, err := p.MM.CopyIn(fp, fpu); err != nil {
			return p.badFrame(r, "unreadable FPU state", err)
		}
		if err := p.Arch.RestoreFPU(fpu); err != nil {
			return p.badFrame(r, "bad FPU state", err)
		}
	}
	// restore_altstack: errors other than reading the frame are ignored.
	_ = p.setAltstack(buf[ucStackOff:ucStackOff+24], r.RSP)
	return 0, errNoReturn
}

// siKernel is SI_KERNEL, the si_code of a signal the kernel forces.
const siKernel = 0x80

// badFrame handles a corrupt sigreturn frame as Linux's signal_fault
// does: SIGSEGV is forced on the thread (its handler runs unless it is
// blocked or ignored, which kills), with the registers in r.
func (p *Process) badFrame(r *Regs, what string, err error) (uint64, error) {
	p.Log.WithError(err).Debug("rt_sigreturn: " + what + ": SIGSEGV")
	p.Fault(r, Siginfo{Signo: int32(unix.SIGSEGV), Code: siKernel})
	return 0, errNoReturn
}

func sysRtSigpending(p *Process, _ *Regs, a *args) (uint64, error) {
	if a[1] > 8 {
		return 0, unix.EINVAL
	}
	b := make([]byte, 8)
	p.proc.sigMu.Lock()
	put64(b, p.sig.pending)
	p.proc.sigMu.Unlock()
	_, err := p.MM.CopyOut(a[0], b[:a[1]])
	return 0, err
}

// userEntryFlags are the RFLAGS bits user code may hold when it is resumed
// (CF PF AF ZF SF TF DF OF AC ID, what it can set with popf itself); IF
// and the reserved bit are always set. IOPL, NT, RF, VM, VIF and VIP never
// come from the task: wherever they came from (a forged R11 at the syscall
// stub, a sigreturn frame), they would change how the shim's own stubs run.
const userEntryFlags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x40000 | 0x200000

// EnterUser is the last step before the registers in r go back to user
// mode (the VMM calls it after every syscall, exception or signal
// delivery): RFLAGS keeps only user bits, and a RIP outside the user half
// (a sigreturn frame's, a handler's, a forged RCX at the syscall stub)
// gets the fault Linux's return to it gives, since running it would
// execute the shim's stubs, which only the VMM may enter:
//   - kernel half: the instruction fetch's #PF, SIGSEGV SEGV_MAPERR at the
//     address (Linux reports kernel addresses with the protection bit);
//   - non-canonical: the return's #GP, SIGSEGV SI_KERNEL, address 0.
//
// A handler that is itself such an address faults in turn; as Linux
// would after a few nested frames, the task then dies of SIGSEGV.
func (p *Process) EnterUser(r *Regs) {
	for i := 0; !p.Exited; i++ {
		r.RFLAGS = r.RFLAGS&userEntryFlags | 0x202
		var info Siginfo
		switch {
		case r.RIP < 1<<47:
			return
		case r.RIP >= 0xffff800000000000:
			info = Siginfo{Signo: int32(unix.SIGSEGV), Code: 1, Addr: r.RIP, Trapno: 14, Err: 0x15}
		default:
			info = Siginfo{Signo: int32(unix.SIGSEGV), Code: siKernel, Trapno: 13}
		}
		if i >= 4 {
			p.sig.act[unix.SIGSEGV].handler = sigDfl
		}
		p.Fault(r, info)
	}
}
