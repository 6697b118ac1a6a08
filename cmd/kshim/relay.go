package main

import (
	"os"
	"os/signal"
	"slices"
	"time"
	"unsafe"

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

// relay passes the signals on.
type relay struct {
	// ignored are the signals kshim was started ignoring: the guest's
	// first process starts ignoring them too (vmm.Config.Ignored), so
	// nohup and a background job's SIGINT keep their meaning. They are
	// still passed on: a program may handle a signal it started
	// ignoring (a daemon under nohup that reloads on SIGHUP), and one
	// that still ignores it drops it, natively too. The Go runtime
	// keeps only SIGHUP's and SIGINT's inherited SIG_IGN (it handles
	// the others from the start), so those two are all kshim can tell.
	ignored []unix.Signal
}

// newRelay notes what kshim was started ignoring, before anything
// takes a signal (signal.Notify would end the ignoring).
func newRelay() *relay {
	r := &relay{}
	for _, s := range append(groupSignals, firstSignals...) {
		if signal.Ignored(s) {
			r.ignored = append(r.ignored, s.(unix.Signal))
		}
	}
	return r
}

// start is Config.Ready's hook: it starts passing the signals on once
// the guest exists, before its first instruction. Until then a signal
// ends kshim as it always did: there is nothing to pass it to, and
// being notified earlier cost start-up a thread (the Go runtime's signal
// loop blocks one) that every all-threads call of the sandbox's set-up
// must then signal too.
func (r *relay) start(g *vmm.Guest) error {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, append(groupSignals, firstSignals...)...)
	go func() {
		pgrp := unix.Getpgrp() // 1 (kshim as a container's pid 1): -1, every process
		for s := range sigs {
			sig := s.(unix.Signal)
			pid := g.FirstPid()
			if slices.Contains(groupSignals, s) {
				pid = -pgrp
			}
			// ESRCH: no guest process is there to take it: the
			// first process has ended while kshim waits for the
			// ones it left (--orphans wait), or none is in the
			// group any more. kshim, which stands for the program,
			// then takes the signal's default action itself, as
			// before it relayed any: a kill or a ^C must still end
			// it (and the guest with it), not be lost. One kshim
			// was started ignoring stays ignored.
			if err := g.Relay(pid, sig); err == unix.ESRCH && sig != unix.SIGWINCH && !slices.Contains(r.ignored, sig) {
				dieBy(sig)
			}
		}
	}()
	return nil
}

// dieBy ends kshim by sig with its default action (the Go runtime's
// handler would take it otherwise: a goroutine dump for SIGQUIT, nothing
// for SIGUSR1). Every signal dieBy gets ends a process by default.
func dieBy(sig unix.Signal) {
	var dfl [4]uint64 // struct kernel_sigaction: SIG_DFL, no flags, restorer or mask
	_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	_ = unix.Kill(os.Getpid(), sig)
	time.Sleep(time.Second) // the kill is process-wide: no thread blocks it
	os.Exit(128 + int(sig))
}
