// Package proc is kshim's own /proc, generated from the guest's state
// (fsproc.go, whose head gives its invariants). It is above both kernel,
// whose process table and processes it reads, and fs, whose node type
// (fs.ProcNode) and open files it makes, as gVisor's fsimpl/proc is above
// its kernel. A process reaches it through kernel.ProcFS, which FS
// implements and the VMM hands to kernel.NewProcess; forks and threads
// share their creator's.
package proc
