// ipchooks.go: what System V shared memory (syscalls/ipc, above this
// package) needs from the process table: the live address spaces, and
// word of an address space made by fork or destroyed, as Linux's shm VMA
// open and close hooks update a segment's times and last pid.
package kernel

import (
	"time"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
	"kshim/syscalls/abi"
)

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

// ExitHook, when set (by syscalls/ipc at init), is called with the pid of
// a process whose last thread has ended, with no lock of this package
// held: its SEM_UNDO adjustments are applied then, as Linux's exit_sem.
var ExitHook func(k *Kernel, pid int)

// WaitWoken blocks until woken is closed (nil), deadline passes (none
// when zero: ETIMEDOUT) or a signal interrupts p (EINTR); the caller
// checks under its own lock whether it was woken meanwhile.
func (p *Process) WaitWoken(woken <-chan struct{}, deadline time.Time) error {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	p.SleepBegin()
	defer p.SleepEnd()
	for {
		if p.Interrupted() {
			return unix.EINTR
		}
		select {
		case <-woken:
			return nil
		case <-timeout:
			return unix.ETIMEDOUT
		case <-p.intr():
		}
	}
}

// Alive says whether pid is a live process of k (a POSIX message
// queue's notification owner: its registration ends with it).
func (k *Kernel) Alive(pid int) bool {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	l := k.Procs[pid]
	return l != nil && !l.Proc.zombie
}

// PostMesgq sends sig with siginfo raw (128 bytes) to process pid, as a
// POSIX message queue's notification: from the kernel, so kill's
// permission check does not apply (Linux's __do_notify). False when pid
// is no live process.
func (k *Kernel) PostMesgq(pid, sig int, raw []byte) bool {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	l := k.Procs[pid]
	if l == nil || l.Proc.zombie {
		return false
	}
	_ = l.postGroup(sig, Siginfo{Signo: int32(sig), Code: int32(abi.Le32(raw[8:])), Raw: raw, FromKill: true})
	return true
}
