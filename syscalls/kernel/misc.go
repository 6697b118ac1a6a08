// misc.go: process and system information, time, exit, and the
// attributes a process carries besides memory, files and signals (name,
// personality, nice value, I/O priority).
//
// Invariants: a thread's name and personality are touched only by the
// thread itself; nice values and I/O priorities, which other processes
// read and set (getpriority, ioprio_set on a pid or group), only under
// Kernel.Mu. Neither changes how the host schedules the vCPU's thread.
package kernel

import (
	"path"
	"sync"

	"golang.org/x/sys/unix"
)

// RlimitMu guards every process's rlimits map: a process's threads share
// theirs (thread.go) and run syscalls in parallel; a forked child gets a
// copy (task.go).
var RlimitMu sync.Mutex

// childRlimits is the rlimits map for a new task of p: the same map for a
// thread (made now if p has none yet, so the threads share it), a copy
// for a forked child.
func (p *Process) childRlimits(thread bool) map[int]unix.Rlimit {
	RlimitMu.Lock()
	defer RlimitMu.Unlock()
	if p.Rlimits == nil {
		p.Rlimits = map[int]unix.Rlimit{}
	}
	if thread {
		return p.Rlimits
	}
	c := make(map[int]unix.Rlimit, len(p.Rlimits))
	for k, v := range p.Rlimits {
		c[k] = v
	}
	return c
}

// Resource limits start as the VMM's own; the guest may lower them.
func (p *Process) Rlimit(res int) (unix.Rlimit, error) {
	RlimitMu.Lock()
	defer RlimitMu.Unlock()
	if p.Rlimits == nil {
		p.Rlimits = map[int]unix.Rlimit{}
	}
	if l, ok := p.Rlimits[res]; ok {
		return l, nil
	}
	var l unix.Rlimit
	if err := unix.Getrlimit(res, &l); err != nil {
		return l, err
	}
	p.Rlimits[res] = l
	return l, nil
}

const RlimNLimits = 16

const (
	ArchSetGS = 0x1001
	ArchSetFS = 0x1002
	ArchGetFS = 0x1003
	ArchGetGS = 0x1004
)

// prctl options kshim implements; the others are EINVAL (logged once), as
// Linux answers an option it does not know.
const (
	PrSetName = 15
	PrGetName = 16
	CommLen   = 16 // TASK_COMM_LEN, with the NUL
)

// CommName is the thread's name (comm): what PR_SET_NAME set, else the
// program's base name, cut to 15 bytes as Linux keeps it.
func (p *Process) CommName() string {
	c := string(p.Comm)
	if p.Comm == nil {
		c = path.Base(p.Exe)
	}
	if len(c) > CommLen-1 {
		c = c[:CommLen-1]
	}
	return c
}

// procAttrs are what fork and clone copy besides memory, files and
// signals: the personality (per thread on Linux, kept across exec for a
// 64-bit program but for READ_IMPLIES_EXEC) and the nice value and I/O
// priority (kshim's own bookkeeping: they do not change how the host
// schedules the vCPU's thread). Kernel.Mu guards nice and ioprio, which
// other processes read and set.
type procAttrs struct {
	Persona  uint32
	Nice     int    // -20..19
	NiceSet  bool   // false: still the VMM's own nice value
	Ioprio   uint32 // IOPRIO_PRIO_VALUE(class, data)
	IoprioOK bool   // false: still the VMM's own I/O priority
	KeepCaps bool   // PR_SET_KEEPCAPS (syscalls/uidgid.go): cleared by execve
	// The prctl flags (syscalls/prctl.go). Pdeathsig is the signal sent
	// when the parent process ends (0: none), cleared in every child;
	// Kernel.Mu guards it (the parent's exit reads it). NoNewPrivs is
	// sticky and inherited (dumpable is the MM's: guestmm). TimerSlack is
	// the thread's slack in ns and SlackDefault what PR_SET_TIMERSLACK 0
	// returns to: the parent's slack at clone (0 in both: Linux's 50 µs).
	Pdeathsig    int
	NoNewPrivs   bool
	TimerSlack   uint64
	SlackDefault uint64
	// Affinity is the thread's CPU mask as sched_setaffinity set it (nil:
	// every host CPU); bookkeeping only, the vCPU thread is not pinned.
	// Kernel.Mu guards it.
	Affinity []byte
	// Sched is the task's scheduling policy (sched.go; SchedSet false:
	// still kshim's own at start). Kernel.Mu guards it.
	Sched    schedState
	SchedSet bool
}

// DefaultTimerSlack is a task's timer slack unless changed (ns).
const DefaultTimerSlack = 50000

// Slack is the thread's timer slack (PR_GET_TIMERSLACK).
func (a *procAttrs) Slack() uint64 {
	if a.TimerSlack == 0 {
		return DefaultTimerSlack
	}
	return a.TimerSlack
}

// SetSlack is PR_SET_TIMERSLACK: 0 goes back to the default.
func (a *procAttrs) SetSlack(ns uint64) {
	if ns == 0 {
		ns = a.SlackDefault
	}
	a.TimerSlack = ns
}

// forChild turns a copy of the parent's attributes into the child's, as
// copy_process does: no parent-death signal, and the parent's current
// slack as the child's default.
func (a *procAttrs) forChild() {
	a.Pdeathsig = 0
	a.SlackDefault = a.TimerSlack
}

const (
	PerMask          = 0xff
	PerLinux32       = 0x0008
	readImpliesExec  = 0x0400000
	PersonalityQuery = 0xffffffff
)

// NiceOf is q's nice value; Kernel.Mu held when there is a Kernel.
func (q *Process) NiceOf() int {
	if !q.Attrs.NiceSet {
		// The raw syscall answers 20 - nice.
		if v, err := unix.Getpriority(unix.PRIO_PROCESS, 0); err == nil {
			q.Attrs.Nice = 20 - v
		}
		q.Attrs.NiceSet = true
	}
	return q.Attrs.Nice
}

// IoprioOf is q's I/O priority; Kernel.Mu held when there is a Kernel.
func (q *Process) IoprioOf() uint32 {
	if !q.Attrs.IoprioOK {
		const whoProcess = 1
		if v, _, e := unix.Syscall(unix.SYS_IOPRIO_GET, whoProcess, 0, 0); e == 0 {
			q.Attrs.Ioprio = uint32(v)
		}
		q.Attrs.IoprioOK = true
	}
	return q.Attrs.Ioprio
}

// PrioTargets returns the processes getpriority/setpriority's (which, who)
// names, as Linux does for PRIO_PROCESS, PRIO_PGRP and PRIO_USER (every
// guest process has the VMM's uid). Kernel.Mu held when there is one.
func (p *Process) PrioTargets(which, who int) ([]*Process, error) {
	k := p.Proc.K
	var all []*Process
	if k == nil {
		all = []*Process{p}
	} else {
		for _, q := range k.Threads {
			all = append(all, q)
		}
	}
	var out []*Process
	switch which {
	case unix.PRIO_PROCESS:
		if who == 0 {
			return []*Process{p}, nil
		}
		for _, q := range all {
			if q.Tid == who {
				out = append(out, q)
			}
		}
	case unix.PRIO_PGRP:
		if who == 0 {
			who = pgidOf(p)
		}
		for _, q := range all {
			if pgidOf(q) == who || k == nil && who == p.Pid {
				out = append(out, q)
			}
		}
	case unix.PRIO_USER:
		if who == 0 || who == unix.Getuid() {
			out = all
		}
	default:
		return nil, unix.EINVAL
	}
	if len(out) == 0 {
		return nil, unix.ESRCH
	}
	return out, nil
}

// pgidOf is q's process group: its thread group leader's.
func pgidOf(q *Process) int {
	if g := q.Proc.Group; g != nil {
		return g.leader.Proc.Pgid
	}
	return q.Proc.Pgid
}

// LockTable takes Kernel.Mu (if there is a Kernel) and returns its unlock.
func (p *Process) LockTable() func() {
	if k := p.Proc.K; k != nil {
		k.Mu.Lock()
		return k.Mu.Unlock
	}
	return func() {}
}

// I/O priorities (ioprio_get/ioprio_set): IOPRIO_WHO_* are
// PRIO_PROCESS/PGRP/USER's numbers plus one.
const (
	IoprioClassShift = 13
	IoprioClassRT    = 1
	IoprioClassBE    = 2
	IoprioClassIdle  = 3
	IoprioNrLevels   = 8
)

// Capabilities the VMM's own privileges stand for.
const (
	CapSysAdmin = 21
	CapSysNice  = 23
)

// HostCapable reports whether the VMM holds capability c (effective).
func HostCapable(c uint) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}
