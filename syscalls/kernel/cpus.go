// cpus.go: the guest's CPUs. kshim runs one vCPU per guest task on the
// host CPUs it may use, so the guest's CPUs are those, numbered
// 0..CPUs()-1 in every answer (sched_getaffinity, kshim's
// /sys/devices/system/cpu, /proc/cpuinfo's processor blocks), whatever
// the host's numbers are.
package kernel

import (
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// HostCPUs are the host CPUs kshim may use (its main thread's affinity
// when first asked, ascending); the guest's CPU i is HostCPUs()[i]. The
// main thread's, not the asking thread's: the fast path's server keeps
// its own thread off a vCPU's CPU (vmm/fast.go moveOff), and a guest's
// sched_getaffinity may run there.
var HostCPUs = sync.OnceValue(func() []int {
	var set unix.CPUSet
	var out []int
	if unix.SchedGetaffinity(unix.Getpid(), &set) == nil {
		for i := 0; i < len(set)*64; i++ {
			if set.IsSet(i) {
				out = append(out, i)
			}
		}
	}
	if len(out) == 0 {
		for i := 0; i < runtime.NumCPU(); i++ {
			out = append(out, i)
		}
	}
	return out
})

// CPUs is the number of CPUs the guest sees.
func CPUs() int { return len(HostCPUs()) }
