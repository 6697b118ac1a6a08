// args.go: what /proc/PID reads of an address space from outside its
// process (cmdline, the resident set). Every method takes mm.mu, so a
// reader on another goroutine sees no half-done operation of the owner's.
package guestmm

// maxCmdline bounds what Cmdline reads (Linux's whole arg area is at most
// the exec limits; the loader caps argv at well below this).
const maxCmdline = 1 << 20

// SetArgs records where the loader put argv's strings, [start, end), and
// the environment's, [end, envEnd).
func (mm *MM) SetArgs(start, end, envEnd uint64) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	mm.argStart, mm.argEnd, mm.envEnd = start, end, max(end, envEnd)
}

// Environ is /proc/PID/environ: the environment area's bytes as the
// process has them now (Linux's environ_read reads env_start..env_end as
// they are). A fault ends it early.
func (mm *MM) Environ() []byte {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	if mm.envEnd <= mm.argEnd || mm.envEnd-mm.argEnd > maxCmdline {
		return nil
	}
	buf := make([]byte, mm.envEnd-mm.argEnd)
	n, _ := mm.lockedCopyIn(mm.argEnd, buf)
	return buf[:n]
}

// SetDumpable is PR_SET_DUMPABLE (0 or 1) for the address space's users.
func (mm *MM) SetDumpable(on bool) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	mm.noDump = !on
}

// Dumpable is PR_GET_DUMPABLE: whether other processes of the same
// identity may look into this one (ptrace_may_access's dumpable check).
func (mm *MM) Dumpable() bool {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return !mm.noDump
}

// Cmdline is /proc/PID/cmdline: the arg area's bytes as the process has
// them now (it may have overwritten them). As Linux's get_mm_cmdline, when
// the last byte is no longer a NUL (setproctitle wrote over it) the text
// ends at the first NUL. A fault ends it early (what was read is kept).
func (mm *MM) Cmdline() []byte {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	if mm.argEnd <= mm.argStart || mm.argEnd-mm.argStart > maxCmdline {
		return nil
	}
	buf := make([]byte, mm.argEnd-mm.argStart)
	n, _ := mm.lockedCopyIn(mm.argStart, buf)
	buf = buf[:n]
	if n > 0 && buf[n-1] != 0 {
		for i, c := range buf {
			if c == 0 {
				return buf[:i]
			}
		}
	}
	return buf
}

// Present is the number of present user pages, file windows included
// (VmRSS's count; Resident counts RAM only).
func (mm *MM) Present() uint64 {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return mm.pt.CountPresent(0, UserTop, ^uint64(0))
}
