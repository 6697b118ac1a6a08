// sysfs.go: kshim's /sys. The host's sysfs describes the host (its
// devices, its kernel's settings), so the guest never sees it: like /proc,
// paths that enter /sys are served from this small tree, built from the
// guest's view, with what glibc, musl, Go and Python read there (checked
// with strace of them natively):
//
//	/sys/devices/system/cpu/online, possible, present, offline
//	/sys/devices/system/cpu/cpuN/ (musl counts these for
//	    _SC_NPROCESSORS_CONF; glibc's get_nprocs_conf does without
//	    "possible")
//
// Invariants:
//   - The CPUs are the guest's: kernel.CPUs(), which sched_getaffinity
//     and /proc/cpuinfo (guestCPUInfo) also answer, so every count a
//     program can take agrees.
//   - Everything is read-only (sysfs's files are 0444 with no store
//     method: opening one for writing is EACCES even for root); nodes are
//     owned by root, as the host's are.
//   - Nothing else exists: other names are ENOENT (a program probing for
//     more, such as Go's transparent_hugepage/hpage_pmd_size, takes the
//     answer of a kernel without the feature).
package proc

import (
	"fmt"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

const (
	sysDirMode  = unix.S_IFDIR | 0o755
	sysFileMode = unix.S_IFREG | 0o444
)

// sysDir is a directory node of fixed children.
func sysDir(path string, mode uint32, names []string, child func(name string) *fs.ProcNode) *fs.ProcNode {
	return &fs.ProcNode{Path: path, Mode: mode,
		Names: func(fs.FileOwner) []string { return names },
		Child: func(_ fs.FileOwner, name string) *fs.ProcNode { return child(name) }}
}

// sysFile is a file node with fixed contents.
func sysFile(path, text string) *fs.ProcNode {
	return &fs.ProcNode{Path: path, Mode: sysFileMode, Splice: true, Gen: func(fs.FileOwner) ([]byte, error) { return []byte(text), nil }}
}

// cpuRange is a cpulist of CPUs 0..n-1 as sysfs prints it ("0", "0-3").
func cpuRange(n int) string {
	if n <= 1 {
		return "0\n"
	}
	return fmt.Sprintf("0-%d\n", n-1)
}

func sysRoot() *fs.ProcNode {
	n := kernel.CPUs()
	var cpus []string
	for i := 0; i < n; i++ {
		cpus = append(cpus, "cpu"+abi.Itoa(i))
	}
	const cpuDir = "/sys/devices/system/cpu"
	cpu := sysDir(cpuDir, sysDirMode, append([]string{"offline", "online", "possible", "present"}, cpus...),
		func(name string) *fs.ProcNode {
			switch name {
			case "online", "possible", "present":
				return sysFile(cpuDir+"/"+name, cpuRange(n))
			case "offline":
				return sysFile(cpuDir+"/offline", "\n")
			}
			for _, c := range cpus {
				if c == name {
					return sysDir(cpuDir+"/"+name, sysDirMode, nil, func(string) *fs.ProcNode { return nil })
				}
			}
			return nil
		})
	one := func(path string, mode uint32, name string, c *fs.ProcNode) *fs.ProcNode {
		return sysDir(path, mode, []string{name}, func(s string) *fs.ProcNode {
			if s == name {
				return c
			}
			return nil
		})
	}
	system := one("/sys/devices/system", sysDirMode, "cpu", cpu)
	devices := one("/sys/devices", sysDirMode, "system", system)
	return one("/sys", unix.S_IFDIR|0o555, "devices", devices) // as Linux's sysfs root
}
