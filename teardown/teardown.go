// Package teardown lets kshim report its exit status before its teardown.
// Closing the VM (KVM frees every shadow page of every address space the
// guest had), unmapping guest memory and the kernel's release of the
// process's memory and files took ~1.5-2 ms at the end of every run here,
// all of it before the caller's wait returned. Start makes a helper
// process that shares kshim's memory and file table; when kshim exits,
// its exit only drops its references, the caller gets the status, and
// the helper, woken by the exit, drops the last ones, so the release runs
// in the helper.
//
// Invariants:
//   - The helper runs no Go code: it is the few instructions in
//     spawn_amd64.s, on a stack of its own, with every signal blocked
//     from before it exists. Its first calls set no_new_privs and load a
//     seccomp filter that allows only waiting (poll), looking at its
//     parent (getppid) and exiting (exit, exit_group, restart_syscall),
//     and kills it for anything else; if either call fails it exits at
//     once. So although it keeps the identity kshim started with (root,
//     capabilities), and its memory is kshim's (which the sandboxed VMM
//     could write), it can do nothing but wait and exit.
//   - It is made before the sandbox, the VM and any guest code (`kshim
//     run`, once its flags are read; `--teardown inline` makes none).
//   - It exits once kshim's process has ended: its parent is then no
//     longer kshim (init or a subreaper adopted it after kshim's last
//     thread had released its memory and files). It waits in poll on
//     kshim's pidfd, which turns readable then, with a timeout of a
//     second and its parent's pid in registers: whatever a compromised
//     VMM writes to the memory they share, the helper outlives kshim by
//     at most the release and a second. Its exit signal is none, so no
//     wait of kshim's for its children sees it; its new parent (init or
//     the nearest subreaper) reaps it, as any orphan (a PID 1 that reaps
//     none keeps it as a zombie: `--teardown inline` makes no helper).
//   - The files kshim was handed (those open at Start: stdio and any the
//     caller passed) are closed by Exit before the process ends, as an
//     exit closes them: whoever reads kshim's output sees its end with
//     the status, not after the helper is done. Past that the helper
//     holds only kshim's own files (KVM's, guest memory's).
//   - Without the helper (the clone refused, other architectures) kshim
//     tears down as before, in its own exit; without a pidfd (Linux
//     before 5.3) the helper looks at its parent once a second.
package teardown

import (
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// helper is the pid of the helper process (0: none).
var helper atomic.Int64

// inherited are the files open at Start.
var inherited []int

// What the helper reads, from memory it shares with kshim: kept here, in
// package variables, so nothing frees or moves them.
var (
	filter []unix.SockFilter
	fprog  unix.SockFprog
	w      watch
	stack  [512]uint64
	all    = ^uint64(0)
)

// watch is the helper's pollfd (kshim's pidfd) and, after it, the
// helper's word to kshim: whether it runs confined (spawn_amd64.s).
type watch struct {
	pfd   unix.PollFd
	state atomic.Int32
}

// The helper's states.
const (
	starting = iota
	confined // its filter loaded
	failed   // it could not load it, and exits
)

// confineWait bounds Ready's wait for a helper that does not report (a
// host too loaded to run it, or something stopped it).
const confineWait = time.Second

// Start makes the helper and reports its pid (0 when it could not be
// made: kshim then tears down in its own exit). Call it once, before the
// sandbox and any guest code, and before kshim opens files of its own
// (those open now are the ones Exit closes).
func Start() int {
	if !supported || helper.Load() != 0 {
		return int(helper.Load())
	}
	fds := openFiles()
	prog, err := helperFilter()
	if err != nil {
		return 0
	}
	self := unix.Getpid()
	pidfd, err := unix.PidfdOpen(self, 0)
	if err != nil {
		pidfd = -1 // Linux before 5.3: poll ignores it
	}
	filter = prog
	fprog = unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	w.pfd = unix.PollFd{Fd: int32(pidfd), Events: unix.POLLIN}
	var old uint64
	pid := spawn(uintptr(unsafe.Pointer(&stack[len(stack)-1])), unsafe.Pointer(&fprog), unsafe.Pointer(&w), unsafe.Pointer(&all), unsafe.Pointer(&old), int64(self))
	if pid <= 0 {
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
		return 0
	}
	inherited = fds
	helper.Store(pid)
	return int(pid)
}

// Active reports whether there is a helper (it may still be starting:
// Ready).
func Active() bool { return helper.Load() != 0 }

// Ready waits until the helper runs confined or has failed to (it then
// exits, and Active turns false). It returns an error if the helper has
// not reported within confineWait: the caller must then not run guest
// code, since until it reports the helper is as trusted as kshim. Call
// it before any guest code runs; by then the helper has long reported.
func Ready() error {
	if helper.Load() == 0 {
		return nil
	}
	deadline := time.Now().Add(confineWait)
	for {
		switch w.state.Load() {
		case confined:
			return nil
		case failed:
			helper.Store(0)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the teardown helper (pid %d) has not confined itself after %v", helper.Load(), confineWait)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// Exit ends kshim with status code: with a helper, its handed files are
// closed first (the invariants), and the release is left to the helper.
func Exit(code int) {
	if os.Getenv("KSHIM_TD_DEBUG") != "" {
		ents, err := os.ReadDir("/proc/self/fd")
		println("fds", len(ents), err)
		for _, e := range ents {
			l, _ := os.Readlink("/proc/self/fd/" + e.Name())
			println(e.Name(), l)
		}
	}
	if helper.Load() != 0 {
		for _, fd := range inherited {
			unix.Close(fd)
		}
	}
	os.Exit(code)
}

// openFiles lists the open file descriptors, from /proc/self/fd read
// whole in one buffer (os.ReadDir took 50-110 µs here); stdio where it
// cannot be read.
func openFiles() []int {
	dir, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		var fds []int
		for fd := 0; fd < 3; fd++ {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
				fds = append(fds, fd)
			}
		}
		return fds
	}
	defer unix.Close(dir)
	var fds []int
	buf := make([]byte, 8192)
	for {
		n, err := unix.Getdents(dir, buf)
		if err != nil || n <= 0 {
			break
		}
		_, _, names := unix.ParseDirent(buf[:n], -1, nil)
		for _, name := range names {
			if fd, err := strconv.Atoi(name); err == nil && fd != dir {
				fds = append(fds, fd)
			}
		}
	}
	return fds
}

// helperFilter is the helper's seccomp program: its calls (Allowed) on
// its architecture, nothing else (the process is killed).
func helperFilter() ([]unix.SockFilter, error) {
	const (
		archOff = 4 // struct seccomp_data's arch
		nrOff   = 0 // and nr
	)
	n := uint8(len(Allowed))
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: archOff, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: auditArch, SkipTrue: n + 1},
		bpf.LoadAbsolute{Off: nrOff, Size: 4},
	}
	for i, nr := range Allowed {
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(nr), SkipTrue: n - uint8(i)})
	}
	prog = append(prog, bpf.RetConstant{Val: unix.SECCOMP_RET_KILL_PROCESS}, bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW})
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, err
	}
	out := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		out[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return out, nil
}
