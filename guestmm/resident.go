// resident.go: how much guest RAM an address space maps, for the VMM's
// out-of-memory killer (which, like Linux's, picks the process with the
// largest resident set).
package guestmm

// Resident returns the number of pages of guest RAM the address space
// maps (present user entries whose frame is RAM, not a file window). A
// frame shared copy-on-write with another process counts in both, as
// Linux's RSS counts it.
func (mm *MM) Resident() uint64 {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return mm.pt.CountPresent(0, UserTop, mm.mem.WindowBase())
}
