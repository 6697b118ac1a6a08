// oom.go: the out-of-memory killer. When a page fault finds guest memory
// (--mem) exhausted, the process with the largest resident set is killed,
// as Linux's OOM killer picks by RSS, not whichever process faulted; the
// faulting one retries its access once the victim's memory is free, or
// dies if it is the victim.
//
// Invariants and locking:
//   - One kill at a time: oomState.victim (Kernel.Mu) is the process being
//     killed; another fault that runs out meanwhile waits for it (or for
//     any process already being killed or exiting) instead of choosing a
//     second victim for the same shortage.
//   - The faulting task retries only after the victim is a zombie: its
//     last thread has left its vCPU and its exit has freed its memory
//     manager and closed its fds (task.go's exit marks it a zombie after
//     both).
//   - Every wait is bounded (oomWait) and ends early when the waiting
//     process is itself being killed, so two killers, or a victim that
//     cannot stop, cannot deadlock: the process that ran out dies instead.
//     A process waiting for a vfork child is never chosen (its memory is
//     the child's too, so killing it alone frees nothing); a victim's
//     CLONE_VM relatives die with it (the memory is theirs too).
//   - The killer runs with no lock held but Kernel.Mu (released while it
//     waits): on a fault, in the VMM's exit; on a syscall's copy into
//     guest memory (guestmm's OnOOM), between two steps of the copy, with
//     the memory manager unlocked. Copies made with other kernel locks
//     held (futex words, read under Kernel.fmu) are reads, which never
//     call it.
//   - Ranking takes each candidate's memory-manager lock under Kernel.Mu
//     (the documented order); a process whose memory is being released
//     (mmGone) or is a zombie is no candidate.
package kernel

import (
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
)

// oomWait bounds how long a faulting task waits for a victim to go.
const oomWait = 5 * time.Second

type oomState struct {
	victim *Process // the leader being killed (Kernel.Mu)
}

// OutOfMemory is called by the VMM when p's page fault could not get
// memory. It kills the process using the most guest RAM and waits until
// its memory is freed: true means retry the access (a SIGKILL p got
// meanwhile is delivered first); false means p is the victim, or no
// memory could be freed in time, and p's whole thread group is being
// killed (p.Exited is set).
func (p *Process) OutOfMemory() bool {
	k := p.Proc.K
	if k == nil || k.Sb == nil {
		p.Log.Warn("out of memory (raise --mem): killing the process")
		return false
	}
	if k.reclaim(p.Proc.Group.leader) {
		return true
	}
	p.GroupExit(0, unix.SIGKILL)
	return false
}

// copyOOM is guestmm's OnOOM: a syscall's copy into the memory of mm ran
// out. As for a fault, the largest process is killed and the copy goes on
// (true); if the owner of mm is the victim it is sent SIGKILL, and the
// syscall fails and returns to its end.
func (k *Kernel) copyOOM(mm *guestmm.MM) bool {
	k.Mu.Lock()
	var owner *Process
	for _, q := range k.Procs {
		// Of CLONE_VM relatives, the one not waiting for a vfork child
		// (the parent waiting cannot be copying anything now).
		if q.MM == mm && !q.Proc.zombie && !q.Proc.mmGone && (owner == nil || owner.vforkWaiting()) {
			owner = q
		}
	}
	k.Mu.Unlock()
	if owner == nil {
		return false // an image exec is still building: it fails with ENOMEM
	}
	if k.reclaim(owner) {
		return true
	}
	k.Mu.Lock()
	if !owner.Proc.zombie {
		liveThread(owner, int(unix.SIGKILL)).post(int(unix.SIGKILL), Siginfo{Signo: int32(unix.SIGKILL), FromKill: true})
	}
	k.Mu.Unlock()
	return false
}

// reclaim frees guest memory for owner (the leader of the process that ran
// out): it kills the process with the most resident guest RAM, unless one
// is dying already, and waits until that one is a zombie. It returns true
// when the owner may retry; false when the owner is the victim, is itself
// dying, or the victim did not end in oomWait (the caller kills the
// owner).
func (k *Kernel) reclaim(owner *Process) bool {
	deadline := time.Now().Add(oomWait)
	k.Mu.Lock()
	// A process already being killed (or exiting) frees its memory soon:
	// wait for it rather than kill another for the same shortage.
	v := k.dyingProcess()
	if v == nil {
		var pages uint64
		v, pages = k.oomVictim()
		if v == nil {
			k.Mu.Unlock()
			return false
		}
		k.oom.victim = v
		owner.Log.Warnf("out of memory (raise --mem): killed process %d (%s), %d KiB resident", v.Pid, v.CommName(), pages*4)
		k.killSharers(v)
		if v == owner {
			k.Mu.Unlock()
			return false
		}
		liveThread(v, int(unix.SIGKILL)).post(int(unix.SIGKILL), Siginfo{Signo: int32(unix.SIGKILL), FromKill: true})
	}
	for v != owner && !v.Proc.zombie && !dying(owner) {
		k.Mu.Unlock()
		if time.Now().After(deadline) {
			k.Mu.Lock()
			if k.oom.victim == v {
				k.oom.victim = nil
			}
			k.Mu.Unlock()
			owner.Log.Warnf("out of memory: process %d did not end in %v; killing process %d instead", v.Pid, oomWait, owner.Pid)
			return false
		}
		time.Sleep(time.Millisecond)
		k.Mu.Lock()
	}
	if k.oom.victim == v && v.Proc.zombie {
		k.oom.victim = nil
	}
	retry := v != owner && !dying(owner)
	k.Mu.Unlock()
	return retry
}

// killSharers kills the other processes running on v's memory manager
// (CLONE_VM relatives: a vfork child and its parent), as Linux's
// oom_kill_process kills every process sharing the victim's mm: the memory
// is freed only when the last of them is gone. Kernel.Mu held.
func (k *Kernel) killSharers(v *Process) {
	if !v.MM.Shared() {
		return
	}
	for _, q := range k.Procs {
		if q != v && q.MM == v.MM && !q.Proc.zombie && !q.Proc.mmGone {
			liveThread(q, int(unix.SIGKILL)).post(int(unix.SIGKILL), Siginfo{Signo: int32(unix.SIGKILL), FromKill: true})
		}
	}
}

// dyingProcess returns the OOM victim still going, else a process being
// killed or exiting (nil: none). Kernel.Mu held.
func (k *Kernel) dyingProcess() *Process {
	if v := k.oom.victim; v != nil && !v.Proc.zombie {
		return v
	}
	for _, q := range k.Procs {
		if !q.Proc.zombie && dying(q) {
			return q
		}
	}
	return nil
}

// dying reports whether the thread group of leader q is ending: exiting,
// or a thread has SIGKILL pending. Kernel.Mu held.
func dying(q *Process) bool {
	g := q.Proc.Group
	if g == nil || len(g.threads) == 0 {
		return false
	}
	if g.exiting {
		return true
	}
	for t := range g.threads {
		t.Proc.SigMu.Lock()
		killed := t.Sig.pend.set&Bit(int(unix.SIGKILL)) != 0
		t.Proc.SigMu.Unlock()
		if killed {
			return true
		}
	}
	return false
}

// vforkWaiting reports whether a thread of leader q's group waits for a
// vfork child (Kernel.Mu held).
func (q *Process) vforkWaiting() bool {
	for c := range q.Proc.children {
		if c.Proc.vforkDone != nil {
			return true
		}
	}
	return false
}

// oomVictim returns the live process with the most resident guest RAM
// (ties: the higher pid) and its page count. A process waiting for a
// vfork child is no candidate: its memory is the child's too. The
// faulting process is a candidate, so there is always one. Kernel.Mu held.
func (k *Kernel) oomVictim() (*Process, uint64) {
	var pids []int
	for pid := range k.Procs {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	var best *Process
	var most uint64
	for _, pid := range pids {
		q := k.Procs[pid]
		if q.Proc.zombie || q.Proc.mmGone || q.vforkWaiting() || q.Proc.Group == nil || len(q.Proc.Group.threads) == 0 {
			continue
		}
		if n := q.MM.Resident(); best == nil || n >= most {
			best, most = q, n
		}
	}
	return best, most
}
