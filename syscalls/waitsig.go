// waitsig.go: waiting for a signal (rt_sigsuspend, pause) and the signal
// a write to a broken pipe raises.
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package kernel, whose waitsig.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/kernel"
)

// rt_sigsuspend(mask, sigsetsize).
func sysRtSigsuspend(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	set, err := p.SigsetIn(a[0], a[1])
	if err != nil {
		return 0, err
	}
	old := p.Sig.Mask
	p.Proc.SigMu.Lock()
	p.Sig.Saved, p.Sig.RestoreMask = p.Sig.Mask, true
	p.Sig.Mask = set
	p.Proc.SigMu.Unlock()
	p.Retarget(p.Sig.Mask &^ old) // process signals it now blocks go to another thread
	p.WaitSignal()
	return 0, unix.EINTR
}

func sysPause(p *kernel.Process, _ *kernel.Regs, _ *args) (uint64, error) {
	p.WaitSignal()
	return 0, unix.EINTR
}

func init() {
	for nr, h := range map[uint64]handler{
		unix.SYS_RT_SIGSUSPEND: sysRtSigsuspend,
		unix.SYS_PAUSE:         sysPause,
		unix.SYS_PRCTL:         sysPrctl,
		unix.SYS_SYSINFO:       sysSysinfo,
	} {
		table[nr] = h
	}
}
