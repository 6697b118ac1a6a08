// Package syscalls is kshim's Linux personality: the syscall table and its
// handlers. Nothing here touches KVM: the VMM hands in the user registers
// and an Arch for the few processor settings a syscall changes.
//
// A handler decodes its arguments, copies guest memory in and out, and
// calls into the sub-packages that hold the state it acts on, each with
// its invariants and lock order at its head. Dependencies point down:
//
//	syscalls     the table (table.go) and the handlers, one file per family
//	net          sockets, the guest's network namespace, peer credentials
//	proc         kshim's own /proc, generated from the process table
//	ipc          System V IPC: the guest's IPC namespace (shared memory,
//	             semaphores, message queues)
//	kernel       processes and the process table, threads, signals, futexes,
//	             timers, job control, task limits, the OOM killer, UTS names,
//	             exec and the program loader
//	fs           the fd table and open files, the root and cwd and path
//	             resolution confined to the root, open/stat/mutate, pipes
//	             and their charges, poll and epoll, the guest-wide limits
//	abi          byte-level helpers for guest structures
//
// A kernel.Process embeds fs.Task, its file side; fs reaches the task
// above it only through the fs.FileOwner interface, which *kernel.Process
// implements, and kernel reaches /proc only through kernel.ProcFS, which
// proc.FS implements.
//
// Invariants:
//   - Every guest pointer is untrusted: it reaches memory only through
//     guestmm's CopyIn/CopyOut/ReadString, which check the range map and
//     protections and return EFAULT.
//   - A syscall either completes or returns an errno; it never leaves
//     partially applied state (guestmm guarantees this for memory).
//   - An unimplemented syscall returns ENOSYS and is logged once.
package syscalls
