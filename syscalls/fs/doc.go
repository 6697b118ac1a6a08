// Package fs is the file side of kshim's Linux personality: the guest's fd
// table and open files (fdtable.go), its root, cwd and umask and the path
// resolution that stays inside the root (fspath.go), opening, looking at
// and changing files (fsopen.go, fsstat.go, fsmutate.go), waiting for fds
// (fspoll.go), the guest's mounts and the walk across them (fsmount.go,
// with the table in package mount below; an OCI config's masked and
// read-only paths, fsguard.go, and its mount points, fsmkpoint.go), pipe buffers and what they are
// charged to (pipebuf.go), the
// guest-wide limits (limits.go: Sandbox), the guest's pseudo-terminals
// from kshim's private devpts instance (pty.go), the host side of reads and
// writes (io.go), and the node type of kshim's /proc (fsproc.go; the tree is package
// proc).
//
// It sits below package kernel: Task, the file side of one process (its
// guest memory, fd table and fs_struct), is embedded in kernel.Process,
// and reaches the task above only through FileOwner (its /proc, signals,
// limits, and the kernel's other address spaces). Each file's head gives
// its invariants; the confinement rules are fspath.go's.
//
// Lock order (limits.go, fdtable.go): a /proc file's ProcSeq.mu (held
// while its text is generated, fsproc.go) before everything else; then
// FDTable.mu, then Sandbox.mu, then
// ept.Memory's; kernel.Kernel.Mu is taken before Sandbox.mu, and nothing
// else is taken with Sandbox.mu held. Kernel.Mu is also taken before
// FDTable.mu and cwdMu (another process's /proc/PID, kernel's Peek);
// nothing is taken with cwdMu held; a table's release may call
// Sandbox.PtyGen (kernel's leaf lock for pty generations, pty.go) with
// FDTable.mu held. fsTypes (fspath.go: the host mounts' file system
// types) is a leaf lock too.
package fs
