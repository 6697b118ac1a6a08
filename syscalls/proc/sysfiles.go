// sysfiles.go: /proc/stat, /proc/uptime, /proc/loadavg, /proc/vmstat and
// /proc/net.
//
// The guest runs on the host's CPUs and clocks, so what these say of the
// machine is the host's, read from the host's files (sandbox's
// HostProcFiles): CPU times and counters in stat, the boot-time clock in
// uptime (the CLOCK_BOOTTIME the guest reads, and sysinfo's uptime), the
// load averages in loadavg (sysinfo's loads). What they say of processes
// is the guest's where kshim knows it: loadavg's task count is the guest's
// live threads and its last pid the last guest pid. Its running count is
// the host's, capped at the guest's threads (kshim does not track which
// guest thread is runnable); stat's processes, procs_running and
// procs_blocked stay the host's (a known difference). vmstat is wholly the
// guest's: its memory as /proc/meminfo counts it, the faults kshim
// resolved for it, and no block-device or swap traffic (it has neither).
//
// Invariants: every file is generated at open and at a read from 0 like
// the rest of /proc (fs.ProcSeq), so an fd kept open (procps's uptime,
// vmstat, top) reads the figures of now; a host file that cannot be read
// is that error (EACCES under a Landlock that lacks the rule), never
// made-up figures.
package proc

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"kshim/guestmm"
	"kshim/syscalls/fs"
	"kshim/syscalls/ipc"
	"kshim/syscalls/kernel"
	"kshim/syscalls/net"
)

// hostSysFile is /proc/stat, uptime or loadavg: the host's figures (the
// guest runs on its CPUs and boot clock), loadavg with the guest's tasks.
func hostSysFile(name string) *fs.ProcNode {
	gen := func(fs.FileOwner) ([]byte, error) { return os.ReadFile("/proc/" + name) }
	if name == "loadavg" {
		gen = func(o fs.FileOwner) ([]byte, error) { return procLoadavg(o.(*kernel.Process)) }
	}
	return &fs.ProcNode{Path: "/proc/" + name, Mode: procFileMode, Splice: true, Gen: gen}
}

// procLoadavg: "1.00 0.50 0.25 R/T LASTPID\n".
func procLoadavg(p *kernel.Process) ([]byte, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil, err
	}
	f := strings.Fields(string(b))
	if len(f) < 4 {
		return b, nil
	}
	threads, last := 1, p.Pid
	if k := p.Proc.K; k != nil {
		threads, last = k.Counts()
	}
	running := 1 // the reader
	if r, _, ok := strings.Cut(f[3], "/"); ok {
		if n, err := strconv.Atoi(r); err == nil {
			running = max(1, min(n, threads))
		}
	}
	return []byte(fmt.Sprintf("%s %s %s %d/%d %d\n", f[0], f[1], f[2], running, threads, last)), nil
}

// procVmstat is /proc/vmstat, Linux's "name value" lines, with the
// counters kshim knows of the guest's machine: nr_free_pages is
// /proc/meminfo's MemFree in pages, pgfault the guest page faults kshim
// resolved for every task since the start (each task's are its minflt).
// pgpgin/pgpgout (KiB from/to block devices) and pswpin/pswpout (pages
// swapped) are 0: the guest has no block device (its file I/O is the
// host's) and no swap (SwapTotal 0). pgmajfault is left out: kshim's
// major faults are its host threads', known per task only (procps reads
// only the paging and swap lines; a missing name reads as 0 to it).
func procVmstat(p *kernel.Process) ([]byte, error) {
	var total, used uint64
	if p.PhysMem != nil {
		total, used = p.PhysMem.Size(), p.PhysMem.Used()
	}
	var faults int64
	if k := p.Proc.K; k != nil {
		faults = k.Faults()
	}
	var b strings.Builder
	for _, kv := range []struct {
		k string
		v uint64
	}{
		{"nr_free_pages", (total - min(used, total)) / guestmm.PageSize},
		{"pgpgin", 0}, {"pgpgout", 0}, {"pswpin", 0}, {"pswpout", 0},
		{"pgfault", uint64(faults)},
	} {
		fmt.Fprintf(&b, "%s %d\n", kv.k, kv.v)
	}
	return []byte(b.String()), nil
}

// procSysDir is /proc/sys, of which kshim has fs/mqueue: the POSIX
// message queue limits of the guest's IPC namespace (ipc/mqueue.go),
// Linux's defaults, which the guest cannot change (no file takes a
// write: EINVAL; the tree is ReadOnly for an OCI config's readonlyPaths).
func procSysDir() *fs.ProcNode {
	mq := map[string]int{"msg_default": ipc.MqMsgDefault, "msg_max": ipc.MqMsgMax,
		"msgsize_default": ipc.MqMsgsizeDefault, "msgsize_max": ipc.MqMsgsizeMax, "queues_max": ipc.MqQueuesMax}
	mqDir := &fs.ProcNode{
		Path: "/proc/sys/fs/mqueue", Mode: procDirMode, ReadOnly: true,
		Names: func(fs.FileOwner) []string {
			return []string{"msg_default", "msg_max", "msgsize_default", "msgsize_max", "queues_max"}
		},
		Child: func(_ fs.FileOwner, name string) *fs.ProcNode {
			v, ok := mq[name]
			if !ok {
				return nil
			}
			return &fs.ProcNode{Path: "/proc/sys/fs/mqueue/" + name, Mode: procFileMode | 0o200, ReadOnly: true,
				Gen: func(fs.FileOwner) ([]byte, error) { return []byte(strconv.Itoa(v) + "\n"), nil }}
		},
	}
	one := func(path, name string, child *fs.ProcNode) *fs.ProcNode {
		return &fs.ProcNode{Path: path, Mode: procDirMode, ReadOnly: true,
			Names: func(fs.FileOwner) []string { return []string{name} },
			Child: func(_ fs.FileOwner, n string) *fs.ProcNode {
				if n == name {
					return child
				}
				return nil
			}}
	}
	return one("/proc/sys", "fs", one("/proc/sys/fs", "mqueue", mqDir))
}

// procNetDir is /proc/net: the guest's network namespace's files, read
// through the network (net/procnet.go). Linux's /proc/net is a link to
// self/net; the guest's processes share one namespace, so a directory
// serves the same names.
// procSysvipcDir is /proc/sysvipc: the guest's IPC namespace's objects
// (syscalls/ipc), which ipcs reads.
func procSysvipcDir() *fs.ProcNode {
	return &fs.ProcNode{
		Path: "/proc/sysvipc", Mode: procDirMode,
		Names: func(fs.FileOwner) []string { return []string{"msg", "sem", "shm"} },
		Child: func(o fs.FileOwner, name string) *fs.ProcNode {
			var gen func(*ipc.NS) []byte
			switch name {
			case "shm":
				gen = (*ipc.NS).ProcShm
			case "sem":
				gen = (*ipc.NS).ProcSem
			case "msg":
				gen = (*ipc.NS).ProcMsg
			default:
				return nil
			}
			return &fs.ProcNode{Path: "/proc/sysvipc/" + name, Mode: procFileMode, Gen: func(o fs.FileOwner) ([]byte, error) {
				return gen(ipc.Of(o.(*kernel.Process).Proc.K)), nil
			}}
		},
	}
}

func procNetDir(p *kernel.Process) *fs.ProcNode {
	return &fs.ProcNode{
		Path: "/proc/net", Mode: procDirMode,
		Names: func(o fs.FileOwner) []string { return net.NetworkOf(o.(*kernel.Process)).ProcNetNames() },
		Child: func(o fs.FileOwner, name string) *fs.ProcNode {
			if _, ok, _ := net.NetworkOf(o.(*kernel.Process)).ProcNet(name); !ok {
				return nil
			}
			return &fs.ProcNode{Path: "/proc/net/" + name, Mode: procFileMode, Gen: func(o fs.FileOwner) ([]byte, error) {
				b, _, err := net.NetworkOf(o.(*kernel.Process)).ProcNet(name)
				return b, err
			}}
		},
	}
}
