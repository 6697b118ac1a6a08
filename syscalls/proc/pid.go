// pid.go: /proc/PID for every process of the guest (kernel.ProcInfo, a
// snapshot taken under the table's lock): stat, status, cmdline, comm and
// task/TID for any of them. task/TID is the thread's view of its process
// (the thread's stat, status and comm, the process's other files), and so
// is /proc/TID, found by lookup though /proc does not list it, as Linux's;
// only its stat's times are the process's, as /proc/PID's (do_task_stat's
// whole). The rest of /proc/PID (fsproc.go pidDir: exe,
// cwd, root, fd/, fdinfo/, maps, environ, mounts) is served for other
// processes too, read under kernel's Peek, which holds the target still
// (its MM, fd table and fs context live until Peek returns) and applies
// Linux's ptrace_may_access rule for the guest's one identity: a process
// whose address space is not dumpable (PR_SET_DUMPABLE 0) is EACCES to
// the others, and its files are root's (task_dump_owner).
//
// Invariants:
//   - Only the guest's pids (kernel.Kernel.PIDs) are listed, and only
//     they and the guest's threads' ids are found.
//   - comm is the one file that takes writes: Linux's comm_write, which
//     renames a thread of the writer's own process only (EINVAL for
//     another's; an open for writing follows the file's owner and mode,
//     root's for a process that is not dumpable). A read of an open fd
//     from 0 shows the new name (fs.ProcSeq).
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
	"bytes"
	"fmt"
	"slices"
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
	pid := idArg(name)
	if pid <= 0 || pid == p.Pid || p.Proc.K == nil {
		return nil
	}
	return p.Proc.K.Lookup(pid)
}

// threadView is the view of /proc/TID for name, the decimal id of a
// guest thread that is not its process's leader (ok false: none).
func threadView(p *kernel.Process, name string) (view, bool) {
	tid := idArg(name)
	if tid <= 0 || p.Proc.K == nil {
		return view{}, false
	}
	l := p.Proc.K.LookupThread(tid)
	switch {
	case l == nil:
		return view{}, false
	case l.Pid == p.Pid:
		return view{tid: tid}, true // a thread of the reader's own process
	}
	return view{q: l, tid: tid}, true
}

// idArg is a pid or tid as /proc names it (decimal, no sign or leading
// zero), or -1.
func idArg(name string) int {
	id, err := strconv.Atoi(name)
	if err != nil || id < 0 || abi.Itoa(id) != name {
		return -1
	}
	return id
}

// infoGen is a file generated from the snapshot of the view's process,
// as its task shows it, for reader p.
func infoGen(v view, mem bool, gen func(in kernel.ProcInfo) []byte) func(fs.FileOwner) ([]byte, error) {
	return func(o fs.FileOwner) ([]byte, error) {
		p := o.(*kernel.Process)
		target := v.q
		if target == nil {
			target = p
		}
		in, ok := p.TaskInfo(target, v.tid, mem)
		if !ok {
			return nil, unix.ESRCH
		}
		return gen(in), nil
	}
}

// pidFile is one of the files every /proc/PID and task/TID has.
func pidFile(v view, dir, name string) *fs.ProcNode {
	n := &fs.ProcNode{Path: dir + "/" + name, Mode: procFileMode}
	switch name {
	case "stat":
		n.Gen = infoGen(v, true, func(in kernel.ProcInfo) []byte { return procPidStat(in, v.task) })
	case "status":
		n.Gen = infoGen(v, true, procPidStatus)
	case "cmdline":
		n.Gen = infoGen(v, true, func(in kernel.ProcInfo) []byte { return in.Cmdline })
		n.Direct = true // proc_pid_cmdline_read: no seq_file
	case "comm":
		n.Mode = unix.S_IFREG | 0o644
		n.Gen = infoGen(v, false, func(in kernel.ProcInfo) []byte { return []byte(in.Comm + "\n") })
		n.Write = func(o fs.FileOwner, addr, count uint64) (uint64, error) {
			// comm_write: the first 15 bytes at most (all of them, or
			// EFAULT), up to a NUL; the whole count is written.
			p := o.(*kernel.Process)
			b := make([]byte, min(count, kernel.CommLen-1))
			if c, err := p.MM.CopyIn(addr, b); err != nil || c < len(b) {
				return 0, unix.EFAULT
			}
			if i := bytes.IndexByte(b, 0); i >= 0 {
				b = b[:i]
			}
			return count, p.SetTaskComm(v.q, v.tid, b)
		}
	case "limits":
		n.Gen = func(o fs.FileOwner) ([]byte, error) {
			p := o.(*kernel.Process)
			t := v.q
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

// procTaskDir is /proc/PID/task (of /proc/TID too: the process's
// threads): one directory per thread, the thread's view of the process
// (view.tid), with the process's files but task/: its links (cwd, exe,
// root, fd/N) too, as Linux's, which /proc/thread-self leads to.
func procTaskDir(v view, dir string) *fs.ProcNode {
	tids := func(o fs.FileOwner) []int {
		p := o.(*kernel.Process)
		target := v.q
		if target == nil {
			target = p
		}
		in, _ := p.Info(target, false)
		return in.Tids
	}
	return &fs.ProcNode{
		Path: dir, Mode: procDirMode,
		Names: func(o fs.FileOwner) []string {
			var out []string
			for _, t := range tids(o) {
				out = append(out, abi.Itoa(t))
			}
			return out
		},
		Child: func(o fs.FileOwner, name string) *fs.ProcNode {
			tid := idArg(name)
			if tid <= 0 || !slices.Contains(tids(o), tid) {
				return nil
			}
			tdir := dir + "/" + name
			tv := view{q: v.q, tid: tid, task: true}
			return &fs.ProcNode{Path: tdir, Mode: procDirMode, Of: tv.of(),
				Names: func(fs.FileOwner) []string { return threadFiles },
				Child: func(_ fs.FileOwner, n string) *fs.ProcNode {
					if n == "task" {
						return nil
					}
					c := pidChild(tv, tdir, n)
					if c != nil {
						c.Of = tv.of()
					}
					return c
				}}
		},
	}
}

var stateNames = map[byte]string{'R': "R (running)", 'S': "S (sleeping)", 'T': "T (stopped)", 'Z': "Z (zombie)"}

// ticks is d in USER_HZ (100) clock ticks, /proc's unit.
func ticks(d time.Duration) uint64 { return uint64(d / (10 * time.Millisecond)) }

// procPidStat is /proc/PID/stat in Linux's field order (do_task_stat):
// the task's id, name and state, and its own times in a task/TID
// directory (task), the process's in /proc/PID and /proc/TID. The
// signal fields are the task's own pending and blocked signals, the
// process's ignored and caught ones, each of the first 31 only (Linux's
// obsolete decimal fields). What kshim does not track is 0: fault
// counts, children's times, the code, stack and data addresses, kernel
// stack pointers, wchan, the CPU.
func procPidStat(in kernel.ProcInfo, task bool) []byte {
	var boot unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot)
	start := time.Duration(boot.Nano()) - time.Since(in.Started)
	vsize, rss := in.VSize, in.RSS
	utime, stime := in.UTime, in.STime
	if task {
		utime, stime = in.TaskUTime, in.TaskSTime
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d (%s) %c", in.Tid, in.Comm, in.State)
	fmt.Fprintf(&b, " %d %d %d %d %d", in.Ppid, in.Pgid, in.Sid, in.TtyNr, in.Tpgid)
	for _, v := range []uint64{
		0,          // flags
		0, 0, 0, 0, // minflt cminflt majflt cmajflt
		ticks(utime), ticks(stime), 0, 0,
	} {
		fmt.Fprintf(&b, " %d", v)
	}
	fmt.Fprintf(&b, " %d %d %d 0 %d %d %d %d", 20+in.Nice, in.Nice, in.Threads, ticks(start), vsize, rss, uint64(unix.RLIM_INFINITY))
	for range 5 { // startcode endcode startstack kstkesp kstkeip
		b.WriteString(" 0")
	}
	const old = 0x7fffffff
	fmt.Fprintf(&b, " %d %d %d %d", in.Pending&old, in.Blocked&old, in.Ignored&old, in.Caught&old)
	fmt.Fprintf(&b, " 0 0 0 %d 0 0 0 0 0 0", in.ExitSignal) // wchan nswap cnswap exit_signal processor rt_priority policy blkio guest cguest
	for range 7 {                                           // start_data end_data start_brk arg_start arg_end env_start env_end
		b.WriteString(" 0")
	}
	fmt.Fprintf(&b, " %d\n", in.ExitCode)
	return []byte(b.String())
}

// procPidStatus is /proc/PID/status with the fields kshim knows, as its
// task shows them (its Name, State, Pid, SigPnd and SigBlk). VmSize is
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
	if !in.Zombie && !in.TaskGone {
		fmt.Fprintf(&b, "Umask:\t%04o\n", in.Umask)
	}
	fmt.Fprintf(&b, "State:\t%s\n", stateNames[in.State])
	// PPid as getppid(2) answers it.
	fmt.Fprintf(&b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", in.Pid, in.Tid, in.Ppid)
	fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\n", uid, euid, euid, euid, gid, egid, egid, egid)
	fmt.Fprintf(&b, "FDSize:\t%d\nGroups:\t%s \n", in.FDSize, groups.String())
	if in.HasMM {
		fmt.Fprintf(&b, "VmSize:\t%8d kB\nVmRSS:\t%8d kB\n", in.VSize>>10, in.RSS*guestmm.PageSize>>10)
	}
	fmt.Fprintf(&b, "Threads:\t%d\n", in.Threads)
	fmt.Fprintf(&b, "SigQ:\t%d/%d\n", in.SigQueued, in.SigLimit)
	fmt.Fprintf(&b, "SigPnd:\t%016x\nShdPnd:\t%016x\nSigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n",
		in.Pending, in.ShdPending, in.Blocked, in.Ignored, in.Caught)
	return []byte(b.String())
}
