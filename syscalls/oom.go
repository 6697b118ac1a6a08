// oom.go: the out-of-memory killer. When a page fault finds guest memory
// (--mem) exhausted, the process with the largest resident set is killed,
// as Linux's OOM killer picks by RSS, not whichever process faulted; the
// faulting one retries its access once the victim's memory is free, or
// dies if it is the victim.
//
// Invariants and locking:
//   - One kill at a time: oomState.victim (Kernel.mu) is the process being
//     killed; another fault that runs out meanwhile waits for it (or for
//     any process already being killed or exiting) instead of choosing a
//     second victim for the same shortage.
//   - The faulting task retries only after the victim is a zombie: its
//     last thread has left its vCPU and its exit has freed its memory
//     manager and closed its fds (task.go's exit marks it a zombie after
//     both).
//   - Every wait is bounded (oomWait) and ends early when the waiting task
//     is itself killed, so two killers, or a victim that cannot stop (a
//     vfork parent waiting for the faulting child), cannot deadlock: the
//     faulting process dies instead.
//   - Ranking takes each candidate's memory-manager lock under Kernel.mu
//     (the documented order); a process whose memory is being released
//     (mmGone) or is a zombie is no candidate.
package syscalls

import (
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// oomWait bounds how long a faulting task waits for a victim to go.
const oomWait = 5 * time.Second

type oomState struct {
	victim *Process // the leader being killed (Kernel.mu)
}

// OutOfMemory is called by the VMM when p's page fault could not get
// memory. It kills the process using the most guest RAM and waits until
// its memory is freed: true means retry the access (a SIGKILL p may have
// got meanwhile is delivered first); false means p is the victim, or no
// memory could be freed in time, and must die (its whole thread group is
// being killed).
func (p *Process) OutOfMemory() bool {
	k := p.proc.k
	if k == nil || k.sb == nil {
		p.Log.Warn("out of memory (raise --mem): killing the process")
		return false
	}
	deadline := time.Now().Add(oomWait)
	leader := p.proc.group.leader
	k.mu.Lock()
	// A process already being killed (or exiting) frees its memory soon:
	// wait for it rather than kill another for the same shortage.
	v := k.dyingProcess()
	if v == nil {
		var pages uint64
		v, pages = k.oomVictim()
		k.sb.oom.victim = v
		p.Log.Warnf("out of memory (raise --mem): killed process %d (%s), %d KiB resident", v.Pid, v.commName(), pages*4)
		if v == leader {
			k.mu.Unlock()
			p.groupExit(0, unix.SIGKILL)
			return false
		}
		liveThread(v, int(unix.SIGKILL)).post(int(unix.SIGKILL), Siginfo{Signo: int32(unix.SIGKILL), FromKill: true})
	}
	for !v.proc.zombie && !p.killed() {
		if !p.oomSleep(deadline) {
			k.mu.Lock()
			if k.sb.oom.victim == v {
				k.sb.oom.victim = nil
			}
			k.mu.Unlock()
			p.Log.Warnf("out of memory: process %d did not end in %v; killing process %d instead", v.Pid, oomWait, leader.Pid)
			p.groupExit(0, unix.SIGKILL)
			return false
		}
	}
	if k.sb.oom.victim == v && v.proc.zombie {
		k.sb.oom.victim = nil
	}
	k.mu.Unlock()
	return true // p's own pending SIGKILL, if any, ends it before it runs again
}

// dyingProcess returns the OOM victim still going, else a process being
// killed or exiting (nil: none). Kernel.mu held.
func (k *Kernel) dyingProcess() *Process {
	if v := k.sb.oom.victim; v != nil && !v.proc.zombie {
		return v
	}
	for _, q := range k.procs {
		g := q.proc.group
		if q.proc.zombie || g == nil || len(g.threads) == 0 {
			continue
		}
		if g.exiting {
			return q
		}
		for t := range g.threads {
			if t.killed() {
				return q
			}
		}
	}
	return nil
}

// oomSleep waits a little with Kernel.mu released and takes it again;
// false (Kernel.mu not held) when the deadline has passed.
func (p *Process) oomSleep(deadline time.Time) bool {
	k := p.proc.k
	k.mu.Unlock()
	if time.Now().After(deadline) {
		return false
	}
	time.Sleep(time.Millisecond)
	k.mu.Lock()
	return true
}

// killed reports whether p has a SIGKILL pending or its group is ending.
// Kernel.mu held.
func (p *Process) killed() bool {
	if g := p.proc.group; g != nil && g.exiting {
		return true
	}
	p.proc.sigMu.Lock()
	defer p.proc.sigMu.Unlock()
	return p.sig.pending&bit(int(unix.SIGKILL)) != 0
}

// oomVictim returns the live process with the most resident guest RAM
// (ties: the higher pid) and its page count. A process waiting for a
// vfork child is no candidate: it cannot end before the child, which may
// be the one out of memory. The faulting process is a candidate, so there
// is always one. Kernel.mu held.
func (k *Kernel) oomVictim() (*Process, uint64) {
	waiting := map[*Process]bool{}
	var pids []int
	for pid, q := range k.procs {
		if q.proc.vforkDone != nil && q.proc.parent != nil {
			waiting[q.proc.parent] = true
		}
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	var best *Process
	var most uint64
	for _, pid := range pids {
		q := k.procs[pid]
		if q.proc.zombie || q.proc.mmGone || waiting[q] || q.proc.group == nil || len(q.proc.group.threads) == 0 {
			continue
		}
		if n := q.MM.Resident(); best == nil || n >= most {
			best, most = q, n
		}
	}
	return best, most
}
