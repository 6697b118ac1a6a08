// signal.go: signal dispositions, masks, delivery and rt_sigreturn.
//
// Delivery builds Linux's x86-64 rt_sigframe on the user stack (or the
// alternate stack): return address (sa_restorer), ucontext with the
// interrupted registers in sigcontext, siginfo, and the FPU state (an
// XSAVE image with UC_FP_XSTATE where user code has AVX and more, else
// the fxsave area) the handler may clobber. rt_sigreturn reads it all back, trusting
// nothing in it: the registers the handler can forge are only user state.
//
// Invariant: a thread's mask changes only on its own goroutine and always
// under its SigMu (SetMask), so other tasks (choosing the thread that takes
// a process signal, checking for interruption) read it under SigMu; the
// thread itself reads it freely. Dispositions (Actions) are shared by the
// threads of a process and read by any task that posts to it, so every
// read and change goes through Actions' own lock, a leaf.
package kernel

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
)

const Nsig = 64

type Sigaction struct {
	Handler, Flags, Restorer, Mask uint64
}

const (
	SigDfl = 0
	SigIgn = 1

	saSiginfo   = 0x4
	saOnstack   = 0x08000000
	saRestart   = 0x10000000
	saNodefer   = 0x40000000
	saResethand = 0x80000000
	saRestorer  = 0x04000000

	SsOnstack    = 1
	SsDisable    = 2
	SsAutodisarm = 1 << 31
)

// Actions are a process's signal dispositions: shared by its threads
// (CLONE_SIGHAND), changed by any of them (sigaction, a delivery's
// SA_RESETHAND, a forced fault, execve) and read by any task posting a
// signal to it (ignores). mu guards them; it is a leaf (nothing is taken
// under it). Its zero value is every signal at SIG_DFL.
type Actions struct {
	mu  sync.Mutex
	act [Nsig + 1]Sigaction
}

// Get returns sig's disposition.
func (a *Actions) Get(sig int) Sigaction {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.act[sig]
}

// Swap makes n sig's disposition and returns the one it replaced.
func (a *Actions) Swap(sig int, n Sigaction) Sigaction {
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.act[sig]
	a.act[sig] = n
	return old
}

// Copy returns a copy (fork: the child's own).
func (a *Actions) Copy() *Actions {
	a.mu.Lock()
	defer a.mu.Unlock()
	return &Actions{act: a.act}
}

// All returns every disposition at once (/proc/PID/status).
func (a *Actions) All() [Nsig + 1]Sigaction {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.act
}

// take returns sig's disposition for a delivery and, when it runs a
// handler with SA_RESETHAND, resets it to SIG_DFL in the same step (as
// Linux's get_signal under siglock: a sigaction in between is not undone).
func (a *Actions) take(sig int) Sigaction {
	a.mu.Lock()
	defer a.mu.Unlock()
	act := a.act[sig]
	if act.Handler != SigDfl && act.Handler != SigIgn && act.Flags&saResethand != 0 {
		a.act[sig].Handler = SigDfl
	}
	return act
}

// force makes sig's handler SIG_DFL when blocked or when it is ignored,
// and reports whether it did (force_sig_info_to_task, in one step).
func (a *Actions) force(sig int, blocked bool) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !blocked && a.act[sig].Handler != SigIgn {
		return false
	}
	a.act[sig].Handler = SigDfl
	return true
}

// setDefault makes sig's handler SIG_DFL.
func (a *Actions) setDefault(sig int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.act[sig].Handler = SigDfl
}

// resetForExec: handled signals revert to the default action; ignored
// ones stay ignored, without flags, restorer or mask.
func (a *Actions) resetForExec() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.act {
		if a.act[i].Handler != SigIgn {
			a.act[i] = Sigaction{}
		} else {
			a.act[i].Flags, a.act[i].Restorer, a.act[i].Mask = 0, 0, 0
		}
	}
}

// ignoresChildren reports whether p's process has its children reaped
// as they end (SIGCHLD ignored, or SA_NOCLDWAIT): they leave no zombie.
func ignoresChildren(p *Process) bool {
	act := p.Sig.Act.Get(int(unix.SIGCHLD))
	return act.Handler == SigIgn || act.Flags&saNocldwait != 0
}

type signals struct {
	Act  *Actions // shared by the threads of a process (CLONE_SIGHAND)
	Mask uint64
	// pend is the thread's own queue (sigqueue.go; the group's shared one
	// is threadGroup.shared); waiting the signals it waits for in
	// sigtimedwait or a signalfd read, which a process signal may then
	// wake it for although it blocks them.
	pend    sigQueue
	waiting atomic.Uint64
	AltSP   uint64
	AltSize uint64
	AltOn   bool
	// AltSetFlags are the ss_flags the stack was set with (Linux's
	// sas_ss_flags; 0 with AltOn false: SS_DISABLE): a frame's uc_stack
	// holds them as they are, wherever the interrupted code ran. With
	// SS_AUTODISARM a frame put on the stack disarms it, and the frame's
	// uc_stack, restored by sigreturn, arms it again.
	AltSetFlags uint64
	cr2         uint64 // the last fault address, sigcontext's cr2
	// badSegs is the cs/gs/fs/ss word of an rt_sigreturn frame whose
	// segments user code cannot run with, kept for the sigcontext of the
	// SIGSEGV that follows (0: the usual user segments).
	badSegs uint64
	// Saved is the mask rt_sigsuspend replaced; RestoreMask says it is
	// still to be put back (by the next frame's uc_mask, or at the end of
	// DeliverPending when no handler runs): waitsig.go.
	Saved       uint64
	RestoreMask bool
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
	// Gone, when not nil, is set once this siginfo has left its queue
	// (taken or discarded): a timer's, which is queued once (overruns
	// count while it waits) and never against RLIMIT_SIGPENDING.
	Gone *atomic.Bool
}

func (info *Siginfo) Dropped() bool { return info.Drop != nil && info.Drop.Load() }

func Bit(sig int) uint64 { return 1 << (sig - 1) }

// Encode writes info as the 128-byte siginfo_t the guest reads.
func (info *Siginfo) Encode(si []byte) {
	if info.Raw != nil {
		copy(si, info.Raw)
		abi.Put32(si, uint32(info.Signo))
		return
	}
	abi.Put32(si, uint32(info.Signo))
	abi.Put32(si[8:], uint32(info.Code))
	if info.FromKill {
		abi.Put32(si[16:], info.Pid)
		abi.Put32(si[20:], info.UID)
		if info.Signo == int32(unix.SIGCHLD) {
			abi.Put32(si[24:], uint32(info.Status))
		}
	} else {
		abi.Put64(si[16:], info.Addr)
	}
}

// Signals that cannot be caught, blocked or ignored.
const Unblockable = 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)

// SigsetIn reads a signal set argument of size bytes at addr, as Linux's
// rt_sig* calls take one: EINVAL unless size is 8 (checked first), EFAULT
// from the copy. SIGKILL and SIGSTOP are dropped from it.
func (p *Process) SigsetIn(addr, size uint64) (uint64, error) {
	if size != 8 {
		return 0, unix.EINVAL
	}
	var b [8]byte
	if _, err := p.MM.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	return abi.Le64(b[:]) &^ Unblockable, nil
}

// SetMask sets the calling thread's signal mask (see the invariant);
// process signals it now blocks go to other threads (sigqueue.go).
func (p *Process) SetMask(m uint64) {
	p.Proc.SigMu.Lock()
	old := p.Sig.Mask
	p.Sig.Mask = m
	p.Proc.SigMu.Unlock()
	p.retarget(m &^ old)
}

// Blocks says whether this thread blocks sig (kill's choice of target).
func (p *Process) Blocks(sig int) bool { return p.blocks(sig) }

// blocks reports whether thread p blocks sig; any task may ask.
func (p *Process) blocks(sig int) bool {
	p.Proc.SigMu.Lock()
	defer p.Proc.SigMu.Unlock()
	return p.Sig.Mask&Bit(sig) != 0
}

// OnAltStack reports whether sp is on p's alternate signal stack, as
// Linux's on_sig_stack: never with SS_AUTODISARM, whose stack is
// disarmed while a handler runs on it (so a program that armed it while
// on it may change it).
func (p *Process) OnAltStack(sp uint64) bool {
	return p.Sig.AltOn && p.Sig.AltSetFlags&SsAutodisarm == 0 && sp-p.Sig.AltSP < p.Sig.AltSize
}

// AltFlags is sigaltstack's old ss_flags for p's alternate stack seen
// from sp: whether it is disabled or sp on it, and SS_AUTODISARM.
func (p *Process) AltFlags(sp uint64) uint64 {
	f := uint64(SsDisable)
	if p.Sig.AltOn {
		f = 0
		if p.OnAltStack(sp) {
			f = SsOnstack
		}
	}
	return f | p.Sig.AltSetFlags&SsAutodisarm
}

// altStored is the ss_flags a frame's uc_stack holds (altSetFlags).
func (p *Process) altStored() uint64 {
	if !p.Sig.AltOn {
		return SsDisable | p.Sig.AltSetFlags&SsAutodisarm
	}
	return p.Sig.AltSetFlags
}

// SetAltstack applies a stack_t (ss_sp, ss_flags, ss_size) as Linux's
// do_sigaltstack does for a thread whose stack pointer is sp.
func (p *Process) SetAltstack(b []byte, sp uint64) error {
	if p.OnAltStack(sp) {
		return unix.EPERM
	}
	ssp, flags, size := abi.Le64(b), uint32(abi.Le64(b[8:])), abi.Le64(b[16:])
	// SS_AUTODISARM is a modifier; SS_ONSTACK is accepted as 0 for old
	// programs, as Linux does.
	switch flags &^ SsAutodisarm {
	case SsDisable:
		p.Sig.AltOn, p.Sig.AltSP, p.Sig.AltSize = false, 0, 0
	case 0, SsOnstack:
		if size < 2048 { // MINSIGSTKSZ
			return unix.ENOMEM
		}
		p.Sig.AltOn, p.Sig.AltSP, p.Sig.AltSize = true, ssp, size
	default:
		return unix.EINVAL
	}
	p.Sig.AltSetFlags = uint64(flags)
	return nil
}

// Raise queues sig for the calling thread itself (SIGPIPE, a kill
// without a process table); it is taken before the return to user mode.
func (p *Process) Raise(sig int, info Siginfo) {
	if p.ignores(sig) {
		return
	}
	p.Proc.SigMu.Lock()
	_ = enqueue(&p.Sig.pend, p, sig, info, true)
	p.Proc.SigMu.Unlock()
	p.sfdPosted(sig)
}

// Linux's si_code for signals sent by kill and by tkill/tgkill.
const (
	SiUser  = 0
	SiTkill = -6
)

func (p *Process) Kill(sig int, code int32) (uint64, error) {
	if sig < 0 || sig > Nsig {
		return 0, unix.EINVAL
	}
	if sig == 0 {
		return 0, nil
	}
	p.Raise(sig, Siginfo{Signo: int32(sig), Code: code, Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), FromKill: true})
	return 0, nil
}

func DefaultIgnored(sig int) bool {
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
		p.Proc.SigMu.Lock()
		sig, info := p.takeSig(^p.Sig.Mask) // sigqueue.go: its own first, then the process's
		if sig == 0 {
			restored := uint64(0)
			if p.Sig.RestoreMask {
				restored = p.Sig.Saved &^ p.Sig.Mask
				p.Sig.Mask, p.Sig.RestoreMask = p.Sig.Saved, false
			}
			p.Proc.SigMu.Unlock()
			p.retarget(restored)
			return
		}
		p.Proc.SigMu.Unlock()
		if info.Dropped() {
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
	if p.Sig.Act.force(sig, p.Sig.Mask&Bit(sig) != 0) {
		p.SetMask(p.Sig.Mask &^ Bit(sig))
	}
	p.deliver(sig, info, r)
}

func (p *Process) deliver(sig int, info Siginfo, r *Regs) {
	act := p.Sig.Act.take(sig) // SA_RESETHAND's reset too
	switch act.Handler {
	case SigIgn:
		return
	case SigDfl:
		if DefaultIgnored(sig) {
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
		p.GroupExit(0, unix.Signal(sig)) // a fatal signal ends every thread
		return
	}
	if err := p.setupFrame(sig, info, act, r); err != nil {
		// No room for the frame: Linux forces SIGSEGV.
		p.GroupExit(0, unix.SIGSEGV)
		return
	}
}

// Frame layout (arch/x86/include/asm/sigframe.h, rt_sigframe).
const (
	ucOff      = 8
	UcStackOff = ucOff + 16
	MctxOff    = ucOff + 40
	UcMaskOff  = ucOff + 296
	infoOff    = ucOff + 304
	FrameSize  = infoOff + 128
	FpSize     = 512
	// UC_FP_XSTATE: the FPU state is an XSAVE image, its layout in the
	// fxsave area's software-reserved bytes (struct _fpx_sw_bytes at
	// FxSwOff), FP_XSTATE_MAGIC2 after it.
	ucFPXstate = 0x1
	FxSwOff    = 464
	FpMagic1   = 0x46505853
	FpMagic2   = 0x46505845
	FpMagic2Sz = 4
	// XstateMin is the smallest xstate_size rt_sigreturn takes: the fxsave
	// area and the XSAVE header.
	XstateMin = 576
	// uc_flags bits (UC_SIGCONTEXT_SS, UC_STRICT_RESTORE_SS).
	ucSigcontextSS    = 0x2
	ucStrictRestoreSS = 0x4
	// The user code and stack selectors Linux gives 64-bit programs
	// (__USER_CS, __USER_DS), which its frames and programs name; kshim's
	// own GDT numbers them otherwise (boot.UserCS), unseen by the guest.
	userCS       = 0x33
	userSS       = 0x2b
	user32CS     = 0x23
	redZone      = 128
	sigcontextSz = 256
	// sigcontext_64 fields after the 18 general registers.
	scCSGSFS  = 144
	scErr     = 152
	scTrapno  = 160
	scOldmask = 168
	scCR2     = 176
	ScFPState = 184
)

// sigcontext order: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags.
func SigcontextRegs(r *Regs) []*uint64 {
	return []*uint64{&r.R8, &r.R9, &r.R10, &r.R11, &r.R12, &r.R13, &r.R14, &r.R15,
		&r.RDI, &r.RSI, &r.RBP, &r.RBX, &r.RDX, &r.RAX, &r.RCX, &r.RSP, &r.RIP, &r.RFLAGS}
}

// ClearFPU loads the initial FPU state, as Linux's fpu__clear_user_states
// does for a signal handler and a sigreturn without (or with a bad) FPU
// state: every component where frames carry XSAVE images (which save
// them all), else x87 and SSE alone (the only state the frame saved).
func (p *Process) ClearFPU() error {
	if xf, ok := p.Arch.(XFrameFPU); ok {
		if f, _ := xf.XFrame(); f != 0 {
			return xf.InitFPU()
		}
	}
	return p.Arch.ResetFPU()
}

// MaxSigFrame is the most stack a signal frame of p's takes from the top
// of an alternate stack, alignment included, and at least MINSIGSTKSZ
// (sigaltstack's minimum; fxsave frames are smaller): AT_MINSIGSTKSZ.
// Linux's figure (get_sigframe_size) is larger by room for a 32-bit
// frame's legacy FPU area, which 64-bit frames never use; a stack this
// size holds any frame setupFrame makes. The frame's format is the
// probed path's (vmm's XFrame), known before any image is loaded.
func (p *Process) MaxSigFrame() uint64 {
	math := uint64(FpSize)
	if xf, ok := p.Arch.(XFrameFPU); ok {
		if f, size := xf.XFrame(); f != 0 {
			math = uint64(size) + FpMagic2Sz
		}
	}
	// The image's 64-byte alignment, the frame's to 16 less 8, and one
	// byte: a frame must start above the stack's base.
	return max((math+63+FrameSize+15+8+1+15)&^15, 2048)
}

func (p *Process) setupFrame(sig int, info Siginfo, act Sigaction, r *Regs) error {
	sp := r.RSP - redZone
	onAlt := p.OnAltStack(r.RSP)
	entering := act.Flags&saOnstack != 0 && p.Sig.AltOn && !onAlt
	if entering {
		sp = p.Sig.AltSP + p.Sig.AltSize
	}
	// The FPU state: an XSAVE image where user code has more than x87
	// and SSE (Linux's use_xsave()), else the fxsave area alone; 64-byte
	// aligned below the stack pointer (fpu__alloc_mathframe).
	xf, _ := p.Arch.(XFrameFPU)
	var features uint64
	var fpu []byte
	var err error
	if xf != nil {
		features, _ = xf.XFrame()
	}
	if features != 0 {
		fpu, err = xf.SaveXFrame()
	} else {
		fpu, err = p.Arch.SaveFPU()
	}
	if err != nil {
		return err
	}
	mathSize := uint64(len(fpu))
	if features != 0 {
		mathSize += FpMagic2Sz
	}
	fp := (sp - mathSize) &^ 63
	frame := ((fp - FrameSize) &^ 15) - 8 // handler entry: (rsp+8) % 16 == 0
	// A frame that does not fit on the alternate stack it was put on is
	// Linux's SIGSEGV (get_sigframe), not a write below the stack.
	if (onAlt || entering) && (frame <= p.Sig.AltSP || frame-p.Sig.AltSP > p.Sig.AltSize) {
		return unix.EFAULT
	}
	buf := make([]byte, fp+mathSize-frame)
	abi.Put64(buf, act.Restorer)
	// uc_flags as Linux's frame_uc_flags: the saved SS is meaningful, and
	// is restored strictly when the interrupted code ran in 64-bit mode;
	// UC_FP_XSTATE with an XSAVE image.
	segs := uint64(userCS) | uint64(userSS)<<48
	flags := uint64(ucSigcontextSS | ucStrictRestoreSS)
	if features != 0 {
		flags |= ucFPXstate
	}
	if p.Sig.badSegs != 0 {
		segs, p.Sig.badSegs = p.Sig.badSegs, 0
		if uint16(segs) != userCS {
			flags = ucSigcontextSS
		}
	}
	abi.Put64(buf[ucOff:], flags)
	// uc_stack
	abi.Put64(buf[UcStackOff:], p.Sig.AltSP)
	abi.Put64(buf[UcStackOff+8:], p.altStored())
	abi.Put64(buf[UcStackOff+16:], p.Sig.AltSize)
	m := buf[MctxOff:]
	for i, v := range SigcontextRegs(r) {
		abi.Put64(m[8*i:], *v)
	}
	abi.Put64(m[scCSGSFS:], segs) // cs, gs, fs, ss
	if info.Trapno == 14 {
		p.Sig.cr2 = info.Addr // Linux keeps the last fault address per thread
	}
	abi.Put64(m[scErr:], info.Err)
	abi.Put64(m[scTrapno:], info.Trapno)
	// The mask the handler's return restores: the one before
	// rt_sigsuspend's temporary mask, if that is still in force.
	oldMask := p.Sig.Mask
	if p.Sig.RestoreMask {
		oldMask = p.Sig.Saved
	}
	abi.Put64(m[scOldmask:], oldMask)
	abi.Put64(m[scCR2:], p.Sig.cr2)
	abi.Put64(m[ScFPState:], fp)
	abi.Put64(buf[UcMaskOff:], oldMask)
	info.Encode(buf[infoOff : infoOff+128])
	copy(buf[fp-frame:], fpu)
	if features != 0 {
		// struct _fpx_sw_bytes (save_xstate_epilog): magic1,
		// extended_size (the image and magic2), xfeatures, xstate_size.
		sw := buf[fp-frame+FxSwOff:]
		abi.Put32(sw, FpMagic1)
		abi.Put32(sw[4:], uint32(mathSize))
		abi.Put64(sw[8:], features)
		abi.Put32(sw[16:], uint32(len(fpu)))
		abi.Put32(buf[fp-frame+uint64(len(fpu)):], FpMagic2)
	}
	if _, err := p.MM.CopyOut(frame, buf); err != nil {
		return err
	}
	// The handler starts with a clean FPU; rt_sigreturn restores the
	// interrupted state from the frame.
	if err := p.ClearFPU(); err != nil {
		return err
	}
	p.Sig.RestoreMask = false // the frame holds the mask to go back to
	mask := p.Sig.Mask | act.Mask
	if act.Flags&saNodefer == 0 {
		mask |= Bit(sig)
	}
	p.SetMask(mask)
	if p.Sig.AltSetFlags&SsAutodisarm != 0 {
		// Linux's signal_delivered: the handler runs with no alternate
		// stack; the frame's uc_stack arms it again at sigreturn.
		p.Sig.AltOn, p.Sig.AltSP, p.Sig.AltSize, p.Sig.AltSetFlags = false, 0, 0, 0
	}
	r.RSP = frame
	r.RIP = act.Handler
	r.RDI = uint64(sig)
	r.RSI = frame + infoOff
	r.RDX = frame + ucOff
	r.RAX = 0
	r.RFLAGS &^= 0x400 | 0x100 // DF, TF: the ABI wants them clear in the handler
	return nil
}

// siKernel is SI_KERNEL, the si_code of a signal the kernel forces.
const siKernel = 0x80

// BadFrame handles a corrupt sigreturn frame as Linux's signal_fault
// does: SIGSEGV is forced on the thread (its handler runs unless it is
// blocked or ignored, which kills), with the registers in r.
func (p *Process) BadFrame(r *Regs, what string, err error) (uint64, error) {
	p.Log.WithError(err).Debug("rt_sigreturn: " + what + ": SIGSEGV")
	p.Fault(r, Siginfo{Signo: int32(unix.SIGSEGV), Code: siKernel})
	p.Sig.badSegs = 0
	return 0, fs.ErrNoReturn
}

// ReturnSegments checks the cs and ss of rt_sigreturn's frame (from its
// return address on) as Linux does: it takes them with RPL 3 and, unless
// the frame asks for strict restore, makes a 64-bit frame's unusable ss
// __USER_DS (force_valid_ss). The return to user mode then faults on any
// other cs (a kernel selector, a data segment, nothing: the IRET's #GP)
// and on an ss that is not __USER_DS; __USER32_CS would switch to
// compatibility mode, which kshim does not run: it faults the same. A
// refused pair is kept for the sigcontext of the SIGSEGV (SegmentFault),
// whatever fault comes first; errCode is the #GP's error code, which
// depends on how the host's Linux returns to user mode:
//   - IRET (VMX/SVM hosts, Kernel.IRETSelectors): the architecture's
//     checks, CS before SS, each naming its selector (an LDT one too:
//     there is no LDT, so it is past its limit), null ones 0; measured
//     natively on make test-svm's emulated AMD CPU;
//   - PVM: an LDT selector in either is #GP(0), before the CS check
//     (measured on our PVM hosts).
func (p *Process) ReturnSegments(frame []byte) (fault bool, errCode uint64) {
	segs := abi.Le64(frame[MctxOff+scCSGSFS:])
	cs, ss := uint16(segs)|3, uint16(segs>>48)|3
	if cs == userCS && abi.Le64(frame[ucOff:])&ucStrictRestoreSS == 0 {
		ss = userSS
	}
	iret := p.Proc.K != nil && p.Proc.K.IRETSelectors
	switch {
	case cs == userCS && ss == userSS:
		return false, 0
	case cs == user32CS, !iret && ss&4 != 0:
		// Compatibility mode's own later fault has no selector;
		// PVM's LDT answer above.
	case cs != userCS:
		errCode = uint64(cs &^ 3)
	default:
		errCode = uint64(ss &^ 3)
	}
	p.Sig.badSegs = uint64(cs) | uint64(ss)<<48 // gs and fs are saved as 0
	return true, errCode
}

// SegmentFault forces the SIGSEGV of a return to segments ReturnSegments
// refused, with the registers in r.
func (p *Process) SegmentFault(r *Regs, errCode uint64) {
	p.Log.Debug("rt_sigreturn: frame with segments user code cannot run with: SIGSEGV")
	p.Fault(r, Siginfo{Signo: int32(unix.SIGSEGV), Code: siKernel, Trapno: 13, Err: errCode})
	p.Sig.badSegs = 0 // no frame was built (the fault killed)
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
			p.Sig.Act.setDefault(int(unix.SIGSEGV))
		}
		p.Fault(r, info)
	}
}
