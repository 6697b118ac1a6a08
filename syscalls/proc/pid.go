// pid.go: /proc/PID for every process of the guest (kernel.ProcInfo, a
// snapshot taken under the table's lock): stat, status, cmdline, comm and
// task/TID for any of them. The rest of /proc/PID (fsproc.go pidDir: exe,
// cwd, root, fd/, fdinfo/, maps, environ, mounts) is served for other
// processes too, read under kernel's Peek, which holds the target still
// (its MM, fd table and fs context live until Peek returns) and applies
// Linux's ptrace_may_access rule for the guest's one identity: a process
// whose address space is not dumpable (PR_SET_DUMPABLE 0) is EACCES to
// the others, and its files are root's (task_dump_owner).
//
// Invariants:
//   - Only the guest's pids (kernel.Kernel.PIDs) are listed or found.
//   - A process that has been reaped between lookup and open is ESRCH at
//     open, as Linux's proc_pid files give once the task is gone; a zombie
//     shows state Z, an empty cmdline and no memory sizes; its links are
//     ENOENT, its fd/ empty, its maps and environ empty.
//   - Another process's host fds are never used as numbers read from its
//     table: they are dup'd under the table's lock (FDTable.GetDup) or
//     the cwd lock (fs.CwdOf), so a number the owner closed and the host
//     reused never leads to one of kshim's own files.
package proc

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

// guestPIDs are the pids /proc lists: the table's, or only p's without one.
func guestPIDs(p *kernel.Process) []int {
	if k := p.Proc.K; k != nil {
		return k.PIDs()
	}
	return []int{p.Pid}
}

// otherProc is the guest process name names (a decimal pid that is not
// p's own), or nil.
func otherProc(p *kernel.Process, name string) *kernel.Process {
	pid, err := strconv.Atoi(name)
	if err != nil || abi.Itoa(pid) != name || pid == p.Pid || p.Proc.K == nil {
		return nil
	}
	return p.Proc.K.Lookup(pid)
}

// infoGen is a file generated from q's snapshot as reader p sees it.
func infoGen(q *kernel.Process, mem bool, gen func(in kernel.ProcInfo) []byte) func(fs.FileOwner) ([]byte, error) {
	return func(o fs.FileOwner) ([]byte, error) {
		p := o.(*kernel.Process)
		target := q
		if target == nil {
			target = p
		}
		in, ok := p.Info(target, mem)
		if !ok {
			return nil, unix.ESRCH
		}
		return gen(in), nil
	}
}

// pidFile is one of the files every /proc/PID has (q nil: the reader's own).
func pidFile(q *kernel.Process, dir, name string) *fs.ProcNode {
	n := &fs.ProcNode{Path: dir + "/" + name, Mode: procFileMode}
	switch name {
	case "stat":
		n.Gen = infoGen(q, true, procPidStat)
	case "status":
		n.Gen = infoGen(q, true, procPidStatus)
	case "cmdline":
		n.Gen = infoGen(q, true, func(in kernel.ProcInfo) []byte { return in.Cmdline })
	case "comm":
		n.Gen = infoGen(q, false, func(in kernel.ProcInfo) []byte { return []byte(in.Comm + "\n") })
	case "limits":
		n.Gen = func(o fs.FileOwner) ([]byte, error) {
			p := o.(*kernel.Process)
			t := q
			if t == nil {
				t = p
			}
			if _, ok := p.Info(t, false); !ok {
				return nil, unix.ESRCH
			}
			return procPidLimits(t), nil
		}
	default:
		return nil
	}
	return n
}

var pidFiles = []string{"cmdline", "comm", "limits", "stat", "status"}

// threadFiles are the names in /proc/PID/task/TID: /proc/PID's but task.
var threadFiles = []string{"cmdline", "comm", "cwd", "environ", "exe", "fd", "fdinfo", "limits", "maps", "mountinfo", "mounts", "root", "stat", "status"}

// rlimitNames are /proc/PID/limits' rows, by resource number, with their
// units (fs/proc/base.c's lnames).
var rlimitNames = [kernel.RlimNLimits][2]string{
	{"Max cpu time", "seconds"}, {"Max file size", "bytes"}, {"Max data size", "bytes"},
	{"Max stack size", "bytes"}, {"Max core file size", "bytes"}, {"Max resident set", "bytes"},
	{"Max processes", "processes"}, {"Max open files", "files"}, {"Max locked memory", "bytes"},
	{"Max address space", "bytes"}, {"Max file locks", "locks"}, {"Max pending signals", "signals"},
	{"Max msgqueue size", "bytes"}, {"Max nice priority", ""}, {"Max realtime priority", ""},
	{"Max realtime timeout", "us"},
}

// procPidLimits is /proc/PID/limits: q's resource limits as the guest
// sees them (getrlimit's answers), in Linux's columns.
func procPidLimits(q *kernel.Process) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	val := func(v uint64) string {
		if v == unix.RLIM_INFINITY {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	for res, n := range rlimitNames {
		l, err := q.Rlimit(res)
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "%-25s %-20s %-20s ", n[0], val(l.Cur), val(l.Max))
		if n[1] != "" {
			fmt.Fprintf(&b, "%-10s", n[1])
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// procTaskDir is /proc/PID/task: one directory per thread, with the
// process's files but task/ (kshim keeps no per-thread state they show
// apart): its links (cwd, exe, root, fd/N) too, as Linux's, which
// /proc/thread-self leads to.
func procTaskDir(q *kernel.Process, dir string) *fs.ProcNode {
	return &fs.ProcNode{
		Path: dir, Mode: procDirMode,
		Names: func(o fs.FileOwner) []string {
			p := o.(*kernel.Process)
			target := q
			if target == nil {
				target = p
			}
			in, _ := p.Info(target, false)
			var out []string
			for _, t := range in.Tids {
				out = append(out, abi.Itoa(t))
			}
			return out
		},
		Child: func(o fs.FileOwner, name string) *fs.ProcNode {
			p := o.(*kernel.Process)
			target := q
			if target == nil {
				target = p
			}
			in, ok := p.Info(target, false)
			if !ok {
				return nil
			}
			for _, t := range in.Tids {
				if abi.Itoa(t) == name {
					tdir := dir + "/" + name
					v := view{q}
					return &fs.ProcNode{Path: tdir, Mode: procDirMode, Of: v.of(),
						Names: func(fs.FileOwner) []string { return threadFiles },
						Child: func(_ fs.FileOwner, n string) *fs.ProcNode {
							if n == "task" {
								return nil
							}
							c := pidChild(v, tdir, n)
							if c != nil {
								c.Of = v.of()
							}
							return c
						}}
				}
			}
			return nil
		},
	}
}

var stateNames = map[byte]string{'R': "R (running)", 'S': "S (sleeping)", 'T': "T (stopped)", 'Z': "Z (zombie)"}

// ticks is d in USER_HZ (100) clock ticks, /proc's unit.
func ticks(d time.Duration) uint64 { return uint64(d / (10 * time.Millisecond)) }

// procPidStat is /proc/PID/stat in Linux's field order (do_task_stat).
// What kshim does not track is 0: fault counts, children's times, the
// code, stack and data addresses, kernel stack pointers, wchan, the CPU.
func procPidStat(in kernel.ProcInfo) []byte {
	var boot unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot)
	start := time.Duration(boot.Nano()) - time.Since(in.Started)
	vsize, rss := in.VSize, in.RSS
	var b strings.Builder
	fmt.Fprintf(&b, "%d (%s) %c", in.Pid, in.Comm, in.State)
	fmt.Fprintf(&b, " %d %d %d %d %d", in.Ppid, in.Pgid, in.Sid, in.TtyNr, in.Tpgid)
	for _, v := range []uint64{
		0,          // flags
		0, 0, 0, 0, // minflt cminflt majflt cmajflt
		ticks(in.UTime), ticks(in.STime), 0, 0,
	} {
		fmt.Fprintf(&b, " %d", v)
	}
	fmt.Fprintf(&b, " %d %d %d 0 %d %d %d %d", 20+in.Nice, in.Nice, in.Threads, ticks(start), vsize, rss, uint64(unix.RLIM_INFINITY))
	for range 5 { // startcode endcode startstack kstkesp kstkeip
		b.WriteString(" 0")
	}
	fmt.Fprintf(&b, " %d %d %d %d", in.Pending, in.Blocked, in.Ignored, in.Caught)
	fmt.Fprintf(&b, " 0 0 0 %d 0 0 0 0 0 0", in.ExitSignal) // wchan nswap cnswap exit_signal processor rt_priority policy blkio guest cguest
	for range 7 {                                           // start_data end_data start_brk arg_start arg_end env_start env_end
		b.WriteString(" 0")
	}
	fmt.Fprintf(&b, " %d\n", in.ExitCode)
	return []byte(b.String())
}

// procPidStatus is /proc/PID/status with the fields kshim knows. VmSize is
// the sum of the VMAs; VmRSS counts the present user PTEs, which is close
// to Linux's resident set but not the same (kshim maps ahead on faults and
// does not count page-table pages); VmPeak and VmHWM are not tracked. A
// zombie has no Vm lines, as on Linux.
func procPidStatus(in kernel.ProcInfo) []byte {
	uid, euid, gid, egid := unix.Getuid(), unix.Geteuid(), unix.Getgid(), unix.Getegid()
	var groups strings.Builder
	if gs, err := unix.Getgroups(); err == nil {
		sort.Ints(gs)
		for i, g := range gs {
			if i > 0 {
				groups.WriteByte(' ')
			}
			groups.WriteString(abi.Itoa(g))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Name:\t%s\n", in.Comm)
	if !in.Zombie {
		fmt.Fprintf(&b, "Umask:\t%04o\n", in.Umask)
	}
	fmt.Fprintf(&b, "State:\t%s\n", stateNames[in.State])
	// PPid as getppid(2) answers it.
	fmt.Fprintf(&b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", in.Pid, in.Pid, in.Ppid)
	fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\n", uid, euid, euid, euid, gid, egid, egid, egid)
	fmt.Fprintf(&b, "FDSize:\t%d\nGroups:\t%s \n", in.FDSize, groups.String())
	if in.HasMM {
		fmt.Fprintf(&b, "VmSize:\t%8d kB\nVmRSS:\t%8d kB\n", in.VSize>>10, in.RSS*guestmm.PageSize>>10)
	}
	fmt.Fprintf(&b, "Threads:\t%d\n", in.Threads)
	fmt.Fprintf(&b, "SigQ:\t%d/%d\n", in.SigQueued, in.SigLimit)
	fmt.Fprintf(&b, "SigPnd:\t%016x\nShdPnd:\t%016x\nSigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n",
		uint64(0), in.Pending, in.Blocked, in.Ignored, in.Caught)
	return []byte(b.String())
}
