// fast.go: which calls the fast syscall path's server may run (vmm/fast.go).
//
// The server runs a call on its own host thread while the task's vCPU
// waits in the guest, so a call qualifies only if its handler
//   - cannot block (no wait for another task, a pipe, a terminal, a lock
//     or a signal, nor in the host: a socket's lingering close): the vCPU
//     would spin, and a signal could not interrupt it (no signal reaches
//     the server's thread);
//   - reads no register but the arguments, RIP, RFLAGS and RSP, and
//     changes none but RAX (the server checks and exits when one changed);
//   - changes no page-table entry but through CopyOut (a copy-on-write
//     break, which the server's exit applies), and no vCPU state (FS/GS
//     bases, the FPU); and at most fastMaxBuf bytes of buffer, so that
//     the breaks' records fit the vCPU's flush queue (a full queue is
//     drained by running the vCPU, which only its own thread may do:
//     vmm/run.go drain refuses outside an exit).
//
// Every other call takes the exit, as before. A call that changes signal
// state (rt_sigprocmask unblocking a pending signal, say) is fine: the
// server asks for the exit whenever a signal is ready. A call that waits
// only sometimes (an open of a FIFO, a read of an empty pipe) runs with
// kernel.Process.NoWait: its wait ends it before it has had any effect,
// and the server leaves it to the task's thread; FastArgs keeps out the
// files whose calls could have an effect before they wait, and the open of
// a FIFO for reading stops before it opens anything (fs.Open: the reader
// it opens first would meet a waiting writer, then go).
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/ipc"
	"kshim/syscalls/kernel"
)

// pipeBuf is PIPE_BUF: a pipe write of at most this many bytes is atomic.
const pipeBuf = 4096

// fastMaxBuf bounds the buffers of the calls the server runs: 256 pages,
// whose copy-on-write breaks queue ~260 of the flush queue's ~32000
// slots (its first page holds 512).
const fastMaxBuf = 1 << 20

// fastCalls are the numbers the guest may post at all (the stub's bitmap).
var fastCalls = map[uint64]bool{
	unix.SYS_NEWFSTATAT: true, unix.SYS_FSTAT: true, unix.SYS_STAT: true, unix.SYS_LSTAT: true,
	unix.SYS_STATX: true, unix.SYS_ACCESS: true, unix.SYS_FACCESSAT: true, unix.SYS_FACCESSAT2: true,
	unix.SYS_READLINK: true, unix.SYS_READLINKAT: true, unix.SYS_GETCWD: true,
	unix.SYS_LSEEK: true, unix.SYS_CLOSE: true, unix.SYS_DUP: true, unix.SYS_DUP2: true, unix.SYS_DUP3: true,
	unix.SYS_FCNTL: true, unix.SYS_IOCTL: true, unix.SYS_GETDENTS64: true,
	unix.SYS_PREAD64:      true,
	unix.SYS_RT_SIGACTION: true, unix.SYS_RT_SIGPROCMASK: true,
	unix.SYS_GETPID: true, unix.SYS_GETPPID: true, unix.SYS_GETTID: true,
	unix.SYS_GETUID: true, unix.SYS_GETEUID: true, unix.SYS_GETGID: true, unix.SYS_GETEGID: true,
	unix.SYS_GETRESUID: true, unix.SYS_GETRESGID: true, unix.SYS_GETGROUPS: true,
	unix.SYS_GETPGRP: true, unix.SYS_GETPGID: true, unix.SYS_GETSID: true,
	unix.SYS_UNAME: true, unix.SYS_SYSINFO: true, unix.SYS_UMASK: true,
	unix.SYS_GETRLIMIT: true, unix.SYS_PRLIMIT64: true, unix.SYS_GETRANDOM: true,
	unix.SYS_CLOCK_GETTIME: true, unix.SYS_CLOCK_GETRES: true, unix.SYS_GETTIMEOFDAY: true, unix.SYS_TIME: true,
	unix.SYS_SCHED_GETAFFINITY: true, unix.SYS_GETPRIORITY: true, unix.SYS_CAPGET: true,
	unix.SYS_SET_ROBUST_LIST: true, unix.SYS_SET_TID_ADDRESS: true,
	unix.SYS_EPOLL_CTL: true, // the host's, with the guest's event copied in (Go adds every file it opens)
	// These may wait for some files: FastArgs, and kernel.Process.NoWait
	// at the wait itself.
	unix.SYS_OPENAT: true, unix.SYS_OPEN: true, unix.SYS_READ: true, unix.SYS_WRITE: true,
	unix.SYS_PWRITE64: true,
	// Memory: the page-table entries they change are queued for the
	// vCPU (the reply makes it exit and apply them), within fastMaxBuf.
	unix.SYS_MMAP: true, unix.SYS_MUNMAP: true, unix.SYS_MPROTECT: true, unix.SYS_MADVISE: true,
	unix.SYS_BRK: true,
}

// Fast reports whether the guest may post call nr to the server.
func Fast(nr uint64) bool { return fastCalls[nr] && table[nr] != nil }

// FastArgs reports whether the server may run call nr with these first
// arguments for p: the calls whose handler blocks for some arguments only.
func FastArgs(p *kernel.Process, nr, a0, a1, a2, a3 uint64) bool {
	if !Fast(nr) {
		return false
	}
	switch nr {
	case unix.SYS_MUNMAP, unix.SYS_MPROTECT, unix.SYS_MADVISE:
		return a1 <= fastMaxBuf
	case unix.SYS_MMAP:
		// A new range changes no present entry; MAP_FIXED replaces
		// what it covers. Nor may it lock (mlock's populate can wait
		// for memory).
		return (a3&unix.MAP_FIXED == 0 || a1 <= fastMaxBuf) && a3&unix.MAP_LOCKED == 0
	case unix.SYS_BRK:
		// Growing changes no present entry; shrinking unmaps.
		end := p.MM.BrkEnd()
		return a0 >= end || end-a0 <= fastMaxBuf
	case unix.SYS_GETDENTS64:
		return a2 <= fastMaxBuf
	case unix.SYS_GETRANDOM:
		return a1 <= fastMaxBuf
	case unix.SYS_PREAD64:
		return a2 <= fastMaxBuf
	case unix.SYS_FCNTL:
		// Record locks may wait; so may an F_SETFL that makes a
		// terminal blocking (nothing waits, but kshim's own files
		// switch modes): the plain reads, the fd flags, and the
		// status flags of a file, directory or pipe (one host call;
		// Go sets and clears O_NONBLOCK at every open).
		switch int(a1) {
		case unix.F_GETFD, unix.F_SETFD, unix.F_GETFL, unix.F_DUPFD, unix.F_DUPFD_CLOEXEC:
			return true
		case unix.F_SETFL:
			e, err := p.Entry(a0)
			if err != nil {
				return true // EBADF, at once
			}
			f := e.File
			return f.Kind == fs.KindHost && f.Node == nil && ipc.MqFileOf(f) == nil &&
				(f.Type == unix.S_IFREG || f.Type == unix.S_IFDIR || f.Type == unix.S_IFIFO)
		}
		return false
	case unix.SYS_READ, unix.SYS_WRITE, unix.SYS_PWRITE64:
		if a2 > fastMaxBuf {
			return false
		}
		// A host file or pipe kshim reads and writes itself (not a
		// socket, terminal, signalfd, queue or /proc file). A pipe
		// write of at most PIPE_BUF is atomic: it goes whole without
		// waiting or waits before writing anything; a larger one may
		// write a part, then wait.
		e, err := p.Entry(a0)
		if err != nil {
			return true // EBADF, at once
		}
		f := e.File
		if f.Kind != fs.KindHost || f.Signalfd != nil || ipc.MqFileOf(f) != nil {
			return false
		}
		switch f.Type {
		case unix.S_IFREG:
			return true
		case unix.S_IFIFO:
			return nr == unix.SYS_READ || nr == unix.SYS_WRITE && a2 <= pipeBuf
		}
		return false
	case unix.SYS_CLOSE:
		return !closeMayWait(p, a0)
	case unix.SYS_DUP2, unix.SYS_DUP3:
		return !closeMayWait(p, a1) // the fd it replaces is closed
	case unix.SYS_IOCTL:
		// Reading a terminal's settings and size, and the fd flags;
		// setting them may wait for output to drain (TCSETSW).
		switch uint32(a1) {
		case unix.TCGETS, unix.TIOCGWINSZ, fs.Fioclex, fs.Fionclex:
			return true
		}
		return false
	}
	return true
}

// closeMayWait reports whether closing guest fd fd of p may wait in the
// host's close: a socket's last close waits out SO_LINGER (up to the
// linger time, which only a signal to the closing thread ends: the
// server's thread gets none), a terminal's may wait for its output to
// drain. Only the files whose close never waits are closed on the server:
// a host regular file, directory or pipe, or one of kshim's own (/proc);
// an fd with no file closes nothing.
func closeMayWait(p *kernel.Process, fd uint64) bool {
	e, err := p.Entry(fd)
	if err != nil {
		return false
	}
	f := e.File
	if f.Kind != fs.KindHost {
		return false
	}
	switch f.Type {
	case unix.S_IFREG, unix.S_IFDIR, unix.S_IFIFO:
		return f.Signalfd != nil || ipc.MqFileOf(f) != nil
	}
	return true
}
