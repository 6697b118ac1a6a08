package main

import (
	"os"
	"os/signal"

	"golang.org/x/sys/unix"

	"kshim/vmm"
)

// The signals `kshim run` passes on to the guest: natively its program
// would get them, not a VMM around it. A terminal's (^C, ^\, a hang-up, a
// resize) go to the guest's processes in kshim's process group, the
// terminal's foreground group as the guest started in it (the first
// process's group: kernel.Kernel.Adopt); a kill of kshim's pid goes to
// the first process. Job control (SIGTSTP, SIGCONT) stays kshim's: it
// stops and continues the whole guest. Being notified of any signal also
// keeps Go's deadlock check from ending kshim while guest tasks wait on
// one another (a hang natively, for the user to end).
var (
	groupSignals = []os.Signal{unix.SIGINT, unix.SIGQUIT, unix.SIGHUP, unix.SIGWINCH}
	firstSignals = []os.Signal{unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2, unix.SIGALRM}
)

// relaySignals takes the relayed signals from now on (none is lost
// before the guest exists); start passes them to it once it does.
func relaySignals() (start func(*vmm.Guest) error) {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, append(groupSignals, firstSignals...)...)
	return func(g *vmm.Guest) error {
		go func() {
			pgrp := unix.Getpgrp() // 1 (kshim as a container's pid 1): -1, every process
			for s := range sigs {
				sig := s.(unix.Signal)
				pid := g.FirstPid()
				for _, gs := range groupSignals {
					if gs == sig {
						pid = -pgrp
					}
				}
				// ESRCH: the guest is ending, or none of its
				// processes is in the group any more.
				_ = g.Relay(pid, sig)
			}
		}()
		return nil
	}
}
