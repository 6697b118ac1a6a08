// cpus.go: the guest's CPUs. kshim runs one vCPU per guest task on the
// host CPUs it may use, so the guest's CPUs are those, numbered
// 0..CPUs()-1 in every answer (sched_getaffinity, kshim's
// /sys/devices/system/cpu, /proc/cpuinfo's processor blocks), whatever
// the host's numbers are.
package kernel

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// HostCPUs are the host CPUs kshim may use (its affinity as it started,
// ascending); the guest's CPU i is HostCPUs()[i].
func HostCPUs() []int { return hostCPUs }

// hostCPUs is read by the package's initialisation, on the main thread
// before any goroutine of kshim's runs: the fast path's server changes
// its own thread's mask (vmm/fast.go moveOff), a guest's
// sched_getaffinity may run on that thread, and the server's goroutine
// may be locked to the main thread itself, so no later look at any
// thread's mask is the process's.
var hostCPUs = func() []int {
	var set unix.CPUSet
	var out []int
	if unix.SchedGetaffinity(0, &set) == nil {
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
}()

// CPUs is the number of CPUs the guest sees.
func CPUs() int { return len(HostCPUs()) }
