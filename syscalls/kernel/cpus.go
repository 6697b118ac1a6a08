// cpus.go: how many CPUs the guest has. kshim runs one vCPU per guest
// task on the host CPUs it may use, so the guest's CPUs are those:
// numbered 0..CPUs()-1 in every answer (sched_getaffinity, kshim's
// /sys/devices/system/cpu), whatever the host's numbers are.
package kernel

import "runtime"

// CPUs is the number of CPUs the guest sees: the host CPUs kshim's
// affinity allows when it started (Go's NumCPU).
func CPUs() int { return runtime.NumCPU() }
