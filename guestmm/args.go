// args.go: what /proc/PID reads of an address space from outside its
// process (cmdline, the resident set). Every method takes mm.mu, so a
// reader on another goroutine sees no half-done operation of the owner's.
package guestmm

// maxCmdline bounds what Cmdline reads (Linux's whole arg area is at most
// the exec limits; the loader caps argv at well below this).
const maxCmdline = 1 << 20

// SetArgs records where the loader put argv's strings, [start, end).
func (mm *MM) SetArgs(start, end uint64) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	mm.argStart, mm.argEnd = start, end
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
	var n uint64
	_ = mm.pt.Range(0, UserTop, func(uint64, uint64) error { n++; return nil })
	return n
}
