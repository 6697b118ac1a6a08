// ipchooks.go: what System V shared memory (syscalls/ipc, above this
// package) needs from the process table: the live address spaces, and
// word of an address space made by fork or destroyed, as Linux's shm VMA
// open and close hooks update a segment's times and last pid.
package kernel

import "kshim/guestmm"

// MMHook, when set (by syscalls/ipc at init), is called with an address
// space fork has just made (made true, pid the parent's) or one whose last
// user is about to destroy it (made false, pid that user's), with no lock
// of this package held.
var MMHook func(mm *guestmm.MM, pid int, made bool)

func mmHook(mm *guestmm.MM, pid int, made bool) {
	if MMHook != nil {
		MMHook(mm, pid, made)
	}
}

// EachMM calls f once for each address space a live guest process runs
// on, under Kernel.Mu (Peek's rule: f only walks VMAs).
func (k *Kernel) EachMM(f func(mm *guestmm.MM)) {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	seen := map[*guestmm.MM]bool{}
	for _, t := range k.Threads {
		if t.MM == nil || t.Proc.zombie || t.Proc.mmGone || seen[t.MM] {
			continue
		}
		seen[t.MM] = true
		f(t.MM)
	}
}
