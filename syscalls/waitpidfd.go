// waitpidfd.go: pidfd_open and pidfd_send_signal. Package kernel
// (pidfd.go) holds pidfds, with their invariants; waitid's P_PIDFD is in
// task.go, CLONE_PIDFD in kernel's Fork.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/kernel"
)

func init() {
	table[unix.SYS_PIDFD_OPEN] = func(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) { return p.PidfdOpen(*a) }
	table[unix.SYS_PIDFD_SEND_SIGNAL] = func(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
		return p.PidfdSendSignal(*a)
	}
}
