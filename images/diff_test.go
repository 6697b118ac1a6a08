// Package images holds the guest test programs (images/*.c, built into
// build/images/NAME by images.mk) and the differential harness that runs
// each of them natively and under `kshim run`, comparing stdout, stderr and
// exit status byte for byte. Native Linux is the oracle.
//
// Build first (from the repository root): make build images
//
// The harness uses ../bin/kshim unless KSHIM_BIN names another binary.
// Each images/*.c starts with "//go:build ignore" so that the go tool does
// not treat the C files as part of this (cgo-free) package.
package images

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runTimeout bounds every single process run so a hang fails the test
// instead of hanging CI: 30 s, or KSHIM_RUN_TIMEOUT (a Go duration) where
// everything is slower (make test-svm's emulated machine sets 120s).
var runTimeout = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("KSHIM_RUN_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return 30 * time.Second
}()

const buildHint = "run `make build images` first"

// prog is one row of the differential table.
type prog struct {
	name  string   // subtest name; defaults to bin
	bin   string   // program in build/images
	args  []string // argv[1:]
	env   []string // extra environment (besides baseEnv)
	stdin string   // fed through a pipe when non-empty, else /dev/null
	exit  int      // expected native exit status (when sig == 0)
	sig   syscall.Signal
	// gap names a known difference from Linux that an open issue tracks.
	// Such a row must still differ: once it matches, the test fails so
	// the marker is removed and the row guards the fix.
	gap string

	// kshimArgs are `kshim run` options before the program (e.g. --rw).
	kshimArgs []string
	// unlessHost, when set, says why this host is no oracle for the row
	// ("" when it is): the row is skipped.
	unlessHost func() string
	// privateIPC: the native run gets an IPC namespace of its own
	// (CLONE_NEWIPC, root only: else the row is skipped), as a kshim
	// guest has, so its POSIX message queues and their limits are a
	// fresh namespace's.
	privateIPC bool
}

// knownGaps are the rows kshim does not match yet, with what is missing.
var knownGaps = map[string]string{}

func (p prog) testName() string {
	if p.name != "" {
		return p.name
	}
	return p.bin
}

// baseEnv is the fixed minimal environment given to both the native run
// and the kshim process (which must pass it through to the guest).
var baseEnv = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}

var programs = []prog{
	// First set: the foundation.
	{bin: "hello"},
	{name: "hello_args", bin: "hello", args: []string{"a", "b", "c"}},
	{bin: "args", exit: 3,
		args: []string{"one", "two words", "", "ümlaut", "--flag=x y"},
		env:  []string{"KSHIM_TEST_A=alpha"}},
	{name: "args_env", bin: "args", exit: 3,
		env: []string{"KSHIM_TEST_A=a=b=c", "KSHIM_TEST_B="}},
	{bin: "exitcode", exit: 42},
	{name: "exitcode_0", bin: "exitcode", args: []string{"0"}, exit: 0},
	{name: "exitcode_7", bin: "exitcode", args: []string{"7"}, exit: 7},
	{name: "exitcode_255", bin: "exitcode", args: []string{"255"}, exit: 255},
	{name: "exitcode_300", bin: "exitcode", args: []string{"300"}, exit: 300 & 0xff},
	{name: "exitcode__exit", bin: "exitcode", args: []string{"5", "_exit"}, exit: 5},
	{bin: "auxv"},
	// The host's optmem_max bounds a message's control data; with a root
	// that holds no /proc kshim cannot read it once confined, so this
	// row guards that it is read as kshim starts.
	{bin: "cmsg_big"},
	{name: "cmsg_big_root", bin: "cmsg_big", kshimArgs: []string{"--root", "/usr"}},
	{bin: "malloc"},
	{bin: "brk"},
	{bin: "mmap_basic"},
	{bin: "sysinfo"},
	{bin: "segv", sig: syscall.SIGSEGV},
	// Port I/O from user code, on the stubs' own ports too, is the #GP's SIGSEGV.
	{bin: "port_io", sig: syscall.SIGSEGV},
	{bin: "abort", sig: syscall.SIGABRT},
	{bin: "float"},
	{bin: "bigbss"},
	{bin: "writev"},
	{bin: "stdin", stdin: stdinText()},
	{name: "stdin_empty", bin: "stdin"},
	{bin: "signal"},
	{bin: "signal_fpu"},
	// A new task's AVX registers: its creator's, not its vCPU's last task's (vmm/arch.go).
	{bin: "fpu_fork", unlessHost: sameAVX("fpu_fork")},
	// Signal frames carry the XSAVE state: UC_FP_XSTATE, the magic values,
	// the ymm upper halves restored from the frame (kernel/signal.go).
	{bin: "sig_avx", unlessHost: sameAVX("sig_avx")},
	{bin: "sig_autodisarm"}, // sigaltstack's SS_AUTODISARM, uc_stack's flags as set (kernel/signal.go)
	{bin: "sig_wait"},
	{bin: "sig_rw_ready"},
	{bin: "pipe_partial"},                            // partial, interrupted, O_NONBLOCK and EPIPE pipe writes and reads (io.go nowaitRW)
	{bin: "read_large", kshimArgs: []string{"--rw"}}, // one read of more than kshim's 1 MiB chunk fills the buffer (io.go readInto)
	{bin: "sig_process"},                             // kill(getpid()) from a thread that blocks it
	{bin: "sig_queue"},                               // realtime signals queued, process signals shared, RLIMIT_SIGPENDING (kernel/sigqueue.go)
	{bin: "sched_affinity"},                          // the mask set reads back, inherited (thread.go)
	{bin: "nproc"},                                   // RLIMIT_NPROC at fork and clone (kernel/limits.go)
	{bin: "signalfd"},                                // signalfd, signalfd4: reads, poll/epoll, mask update, fork (signalfd.go)
	{bin: "pidfd"},                                   // pidfd_open, pidfd_send_signal, waitid(P_PIDFD), CLONE_PIDFD (waitpidfd.go)
	{bin: "sig_badframe"},
	{bin: "sig_shimrip"}, // RIP above the user half; CS after a #UD that drains
	{bin: "fuzz_regress"},

	// Second set: the memory manager.
	{bin: "mm_mmap_flags", kshimArgs: []string{"--rw"}}, // creates its file
	{bin: "mm_file", kshimArgs: []string{"--rw"}},       // creates its file
	{bin: "mm_munmap"},
	{bin: "mm_mprotect"},
	{bin: "mm_mremap"},
	{bin: "mm_madvise", kshimArgs: []string{"--rw"}}, // creates its file
	{bin: "mm_mincore"},
	{bin: "mm_msync", kshimArgs: []string{"--rw"}}, // creates its file
	{bin: "mm_mlock"},
	{bin: "mm_stack"},
	{bin: "mm_segv_handler"},
	{bin: "mm_bulk"},
	{bin: "mm_faultaround", kshimArgs: []string{"--rw"}}, // creates its file
	{bin: "remap_race"},                                  // a page remapped under reading threads: no stale translation (ept/invalidate.go)
	// A page per MiB of a big heap: no OOM from zero pages mapped ahead (guestmm/around.go tight).
	{bin: "mm_sparse", kshimArgs: []string{"--mem", "64M"}},
	// Page-table frames of ended processes are used again (ept
	// reclaimTables): thousands of processes in a small memory.
	{bin: "mm_forkloop", args: []string{"2000", "8"}, kshimArgs: []string{"--mem", "16M"}},
	{bin: "mm_reclaim", args: []string{"600"}, kshimArgs: []string{"--mem", "8M"}},
	// The drops while other processes' threads run and check their memory, fork from
	// threaded processes, vfork+exec, MAP_SHARED anonymous and /dev/shm pages.
	{bin: "mm_reclaim_mt", args: []string{"80", "3"}, kshimArgs: []string{"--mem", "12M"}},
	// System V shared memory (syscalls/ipc): keys, permissions, attachments
	// shared with a fork child, deferred destroy, exec and exit detaching.
	{bin: "sysv_shm"},
	// System V semaphores: waiters in other processes woken by semop,
	// IPC_RMID (EIDRM) and signals (EINTR), SEM_UNDO at exit.
	{bin: "sysv_sem"},
	// System V message queues: by type, a full queue, waiters woken by a
	// send, a receive, IPC_RMID (EIDRM) and a signal (EINTR).
	{bin: "sysv_msg"},
	// POSIX message queues (syscalls/ipc/mqueue.go): names, modes, attrs,
	// errors, priorities, timeouts, signals, notification, the fd's
	// read, poll and epoll, fork and dup, RLIMIT_MSGQUEUE, queues_max.
	{bin: "mq", privateIPC: true},

	// Processes and threads.
	{bin: "proc_fork"},
	{bin: "vfork"},          // vfork, posix_spawn, clone(CLONE_VM): the child on the parent's memory (kernel/task.go Fork)
	{bin: "fork_groupkill"}, // a group's kill during a fork reaches the child too (kernel/task.go Fork)
	{bin: "fork_fatal"},     // a fatal signal during a fork: no child born after the kill (kernel/task.go Fork)
	{bin: "exec_argv"},
	{bin: "exec_bases"}, // execve's GS.base 0, set in the CR3 switch's KVM_SET_SREGS (vmm/task.go Switch)
	{bin: "thread_basic", exit: 5},
	// execve ends the other threads first (de_thread), from a non-leader
	// thread too, which then takes the pid.
	{bin: "exec_threads"},
	// Job-control stops: the whole group stops and continues; wait and SIGCHLD report it.
	{bin: "jobctl"},
	{bin: "setsid"},
	// set*id, setgroups, getres*id, PR_SET_KEEPCAPS as an unprivileged process (uidgid.go).
	{bin: "creds"},
	{bin: "chroot"}, // EPERM after the path's errors: no guest has CAP_SYS_CHROOT (uidgid.go)
	// syslog(2): kshim answers as a kernel with dmesg_restrict=1 (uidgid.go).
	{bin: "syslog", unlessHost: func() string {
		if b, err := os.ReadFile("/proc/sys/kernel/dmesg_restrict"); err != nil || strings.TrimSpace(string(b)) != "1" {
			return "kernel.dmesg_restrict is not 1 here: natively the host's log is readable"
		}
		return ""
	}},
	{bin: "timers"},
	{bin: "clock_cpu"},    // CPU clocks by pid and tid (timecpu.go)
	{bin: "rusage"},       // per-task CPU time: getrusage, times, wait4/waitid rusage (kernel/cputime.go)
	{bin: "itimer_cpu"},   // ITIMER_VIRTUAL/PROF, POSIX timers on CPU clocks (kernel/timercpu.go)
	{bin: "sched_policy"}, // sched_{get,set}{scheduler,param} per task, unprivileged rules (kernel/sched.go)
	{bin: "timeset"},      // clock_settime, settimeofday: EPERM after the checks; sched priorities (timeset.go)
	{bin: "rlimit_share"},
	{name: "exec_threads_main", bin: "exec_threads", args: []string{"main", "40"}},
	// Wake-ups between tasks (futex between threads, a pipe between
	// processes), also with a third thread spinning in user mode so that
	// every Go P may be held in KVM_RUN: each round trip must arrive, in
	// order (bench_wakelat times it; "check" prints only the facts).
	{name: "wakelat_check", bin: "bench_wakelat", args: []string{"check"}},
	{name: "wakelat_check_spin", bin: "bench_wakelat", args: []string{"check", "1"}},

	// Go static binaries (images/goprogs): goroutines on threads, GC,
	// timers, os/exec, signals and preemption.
	{bin: "go_goroutines"},
	{bin: "go_timers"},
	{bin: "go_gcpressure"},
	{bin: "go_execchild"},
	{bin: "go_signals"},

	// Third set: files.
	{bin: "caps"},        // capget: versions, queries, pids, errors; the identity's sets
	{bin: "proc_limits"}, // /proc/PID/limits, own and a child's
	{bin: "shm_posix"},   // shm_open, sem_open in the guest's own /dev/shm (cmd/kshim withShm)
	{bin: "prctl"},       // pdeathsig, subreaper adoption, dumpable, no_new_privs, timer slack, capability prctls, capset
	{bin: "fs_basic", kshimArgs: []string{"--rw"}},
	{bin: "fs_dir", kshimArgs: []string{"--rw"}},
	{bin: "fs_utimes", kshimArgs: []string{"--rw"}},
	{bin: "fs_rofs", kshimArgs: []string{"--rw"}},
	{bin: "fs_fd"},
	{bin: "dev_links"}, // /dev/fd, /dev/std*: symlinks to lstat and readlink, the fds to open (fs/fsmount.go walk)
	{bin: "dev_links", name: "dev_links_nomount", kshimArgs: []string{"--no-shm"}}, // the same without a mount table (fs/fspath.go LookupAbs)
	{bin: "dev_links", name: "dev_links_rel", args: []string{"rel"}},               // and relative to /dev (fs/fsmount.go walk)
	// Hostile paths through them and /proc/thread-self: ".." chains, loops, long names, from a thread too.
	{bin: "dev_hostile"},
	{bin: "fs_errno"},
	{bin: "fs_proc"},
	{bin: "proc_sys"}, // /proc/uptime, loadavg, stat (proc/sysfiles.go)
	{bin: "proc_pids", args: []string{"a", "b c"}}, // /proc/PID of other guest processes (proc/pid.go)
	// Another process's exe, cwd, root, fd/, fdinfo/, maps, environ;
	// PR_SET_DUMPABLE (proc/fsproc.go pidDir).
	{bin: "proc_other"},
	{bin: "proc_threadself"}, // /proc/self from a non-leader thread, /proc/thread-self (proc/fsproc.go, kernel/procinfo.go Info)
	{bin: "proc_race"},       // another process's fd/, fdinfo/, cwd read while it churns them (Peek, GetDup)
	// A thread's own task/TID files, /proc/TID (found, not listed), comm
	// writes (pthread_setname_np), a leader ended first (proc/pid.go).
	{bin: "proc_tid"},
	// An open /proc file read again from 0 shows the state of now, as
	// seq_file does; lseek, sendfile, splice, mmap as on Linux; a reaped
	// process's files (fs.ProcSeq, proc/fsproc.go rereadGen).
	{bin: "proc_fresh"},
	// A /proc/self directory fd inherited by fork lists the opener's fds
	// and threads (proc/fsproc.go openerDir); /proc/vmstat's counters
	// procps reads (proc/sysfiles.go procVmstat).
	{bin: "proc_forkdir"},
	// busybox's ps -T and top -H list the threads by their own names.
	{bin: "proc_tid_ps", unlessHost: func() string {
		if _, err := os.Stat(busyboxBin); err != nil {
			return busyboxBin + " is missing: install Debian's busybox-static (`make deps`)"
		}
		return ""
	}},
	{bin: "fs_poll"},
	// /dev/ptmx, /dev/pts, forkpty's controlling terminal (fs/pty.go, kernel/tty.go).
	{bin: "pty"},
	{bin: "fs_splice", kshimArgs: []string{"--rw"}}, // copy_file_range, splice, tee (transfer.go)
	{bin: "memfd"}, // memfd_create (tmpfile.go)
	// /proc/self/maps's offset, device and inode of file, memfd, shared
	// anonymous and copied .data mappings (proc/fsproc.go ProcMaps).
	{bin: "proc_maps_file"},
	{bin: "fifo_open", kshimArgs: []string{"--rw"}}, // a signal ends a blocking FIFO open (fsfifo.go)
	// Status flags after opens first made with O_NONBLOCK added, and FIFO rendezvous (fsfifo.go openNonblock).
	{bin: "open_flags", kshimArgs: []string{"--rw"}},
	// Extended attributes (syscalls/xattr.go): the root's file system's, /proc's, the devices'.
	{bin: "xattr", kshimArgs: []string{"--rw"}}, // in a directory under /tmp

	// Sockets (syscalls/net/socket.go): the guest's private network namespace
	// natively is the host's, so the programs use port 0 and print no
	// ports or pids.
	{bin: "net_unix", kshimArgs: []string{"--rw"}}, // binds in /tmp
	{bin: "net_cred", kshimArgs: []string{"--rw"}}, // binds in /tmp
	{bin: "net_inet"},
	// A lingering socket's close (and dup2 over one) waits in the host,
	// where SIGALRM ends it: never on the fast path's server, which no
	// signal reaches (syscalls/fast.go closeMayWait).
	{bin: "fast_linger"},
	{name: "fast_linger_dup2", bin: "fast_linger", args: []string{"dup2"}},
	// The fast path's calls after fork (copy-on-write buffers up to 1
	// MiB), around signals, a group stop, vfork and posix_spawn.
	{bin: "fast_stress", kshimArgs: []string{"--rw"}}, // files in /tmp
	// A FIFO's reader opens it (fast path awake) while a writer waits in
	// its open: they meet, the write finds the reader (fs.Open).
	{bin: "fast_fifo", kshimArgs: []string{"--rw"}}, // in /tmp
	// The memory calls the fast path's server runs, each one's effect
	// seen by the user code right after it (SIGSEGV, zeros, mincore),
	// many in a row, and a fork child unmapping copy-on-write pages.
	{bin: "fast_mm"},
	// A vfork child, served by the fast path while its parent waits,
	// changes pages the parent used: the parent sees the changes.
	{bin: "fast_vfork"},
	// A process's threads served by the fast path side by side, and the
	// changes one thread's calls make to a page another has in use.
	{bin: "fast_threads"},
	// Go's net/http server and client in one guest (epoll, non-blocking
	// sockets), and a unix socket in /tmp.
	{bin: "go_nethttp", kshimArgs: []string{"--rw"}},
}

// stdinText is a few KiB of deterministic text, larger than one pipe read.
func stdinText() string {
	var b strings.Builder
	b.WriteString("first line of stdin\n")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&b, "line %03d: the quick brown fox jumps over the lazy dog\n", i)
	}
	b.WriteString("no trailing newline")
	return b.String()
}

// result is what one run of a program produced.
type result struct {
	stdout, stderr []byte
	exit           int            // exit status if it exited
	sig            syscall.Signal // signal if it was killed by one
	timedOut       bool
	err            error // failure to start, or other unexpected error
}

func (r result) status() string {
	switch {
	case r.timedOut:
		return fmt.Sprintf("timed out after %v", runTimeout)
	case r.err != nil:
		return "error: " + r.err.Error()
	case r.sig != 0:
		return fmt.Sprintf("killed by signal %d (%v)", int(r.sig), r.sig)
	default:
		return fmt.Sprintf("exit status %d", r.exit)
	}
}

var disableCores sync.Once

// run runs argv with env and stdin, stdout and stderr captured as pipes.
func run(argv []string, env []string, stdin string) result { return runAs(argv, env, stdin, nil) }

// runNative runs a program as the oracle: as the user kshim runs its guests
// as (sandbox_test.go, guestCred), so both see the same rights.
func runNative(argv []string, env []string, stdin string) result {
	return runAs(argv, env, stdin, guestCred())
}

// runNativeRow is runNative for row p, in its own IPC namespace when the
// row asks (skipped without root, who alone can make one).
func runNativeRow(t *testing.T, p prog, argv []string) result {
	t.Helper()
	if !p.privateIPC {
		return runNative(argv, envFor(p), p.stdin)
	}
	if os.Geteuid() != 0 {
		t.Skip("a private IPC namespace for the native run needs root")
	}
	return runAttr(argv, envFor(p), p.stdin, &syscall.SysProcAttr{Credential: guestCred(), Unshareflags: syscall.CLONE_NEWIPC})
}

// runAs is run with credentials cred (nil: the test's own).
func runAs(argv []string, env []string, stdin string, cred *syscall.Credential) result {
	var attr *syscall.SysProcAttr
	if cred != nil {
		attr = &syscall.SysProcAttr{Credential: cred}
	}
	return runAttr(argv, env, stdin, attr)
}

// runAttr is run with the process attributes attr (nil: none).
func runAttr(argv []string, env []string, stdin string, attr *syscall.SysProcAttr) result {
	disableCores.Do(func() {
		// Native runs of segv/abort must not leave core files behind.
		var rl syscall.Rlimit
		if syscall.Getrlimit(syscall.RLIMIT_CORE, &rl) == nil {
			rl.Cur = 0
			_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &rl)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.SysProcAttr = attr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout = &out // not an *os.File: the child gets a pipe
	cmd.Stderr = &errb
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := result{stdout: out.Bytes(), stderr: errb.Bytes()}
	if ctx.Err() != nil {
		r.timedOut = true
		return r
	}
	if cmd.ProcessState == nil {
		r.err = err
		return r
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ok && ws.Signaled():
		r.sig = ws.Signal()
	case ok && ws.Exited():
		r.exit = ws.ExitStatus()
	default:
		r.err = err
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && r.err == nil {
		r.err = err
	}
	return r
}

// paths returns the absolute paths of the kshim binary and build/images.
// Native and kshim runs use the same absolute program path so that
// argv[0], AT_EXECFN and /proc/self/exe agree.
func paths(t *testing.T) (kshim, dir string) {
	t.Helper()
	var err error
	kshim = "../bin/kshim"
	if env := os.Getenv("KSHIM_BIN"); env != "" {
		kshim = env // e.g. a stand-in used to check the harness itself
	}
	if kshim, err = filepath.Abs(kshim); err != nil {
		t.Fatal(err)
	}
	if dir, err = filepath.Abs("../build/images"); err != nil {
		t.Fatal(err)
	}
	return kshim, reachableDir(t, dir)
}

func requireFile(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("%v: %s", err, buildHint)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		t.Fatalf("%s is not an executable file: %s", path, buildHint)
	}
}

func requireBinaries(t *testing.T, kshim, dir string, withKshim bool) {
	t.Helper()
	if withKshim {
		requireFile(t, kshim)
	}
	for _, p := range programs {
		requireFile(t, filepath.Join(dir, p.bin))
	}
}

func envFor(p prog) []string {
	return append(append([]string(nil), baseEnv...), p.env...)
}

// checkExpected reports when the native run does not behave as the table
// says: then the test program (or the table) is wrong, not kshim.
func checkExpected(t *testing.T, p prog, r result) bool {
	t.Helper()
	ok := !r.timedOut && r.err == nil
	if p.sig != 0 {
		ok = ok && r.sig == p.sig
	} else {
		ok = ok && r.sig == 0 && r.exit == p.exit
	}
	if !ok {
		want := fmt.Sprintf("exit status %d", p.exit)
		if p.sig != 0 {
			want = fmt.Sprintf("killed by signal %d", int(p.sig))
		}
		t.Errorf("native run: %s, table expects %s (test program broken?)\nstdout:\n%s\nstderr:\n%s",
			r.status(), want, clip(r.stdout), clip(r.stderr))
	}
	return ok
}

// TestNativeDeterministic runs every program natively twice and requires
// identical output: a test program whose output varies between runs cannot
// be used as an oracle. It needs only the built images, not kshim.
func TestNativeDeterministic(t *testing.T) {
	kshim, dir := paths(t)
	requireBinaries(t, kshim, dir, false)
	for _, p := range programs {
		t.Run(p.testName(), func(t *testing.T) {
			argv := append([]string{filepath.Join(dir, p.bin)}, p.args...)
			a := runNativeRow(t, p, argv)
			if !checkExpected(t, p, a) {
				return
			}
			b := runNativeRow(t, p, argv)
			compare(t, "second native run", a, b, p.sig != 0)
		})
	}
}

// TestDifferential runs every program natively and under `kshim run` and
// compares stdout, stderr and exit status.
func TestDifferential(t *testing.T) {
	kshim, dir := paths(t)
	requireBinaries(t, kshim, dir, true)
	for _, p := range programs {
		t.Run(p.testName(), func(t *testing.T) {
			if p.unlessHost != nil {
				if why := p.unlessHost(); why != "" {
					t.Skip(why)
				}
			}
			path := filepath.Join(dir, p.bin)
			native := runNativeRow(t, p, append([]string{path}, p.args...))
			if !checkExpected(t, p, native) {
				return
			}
			// The fast syscall path whatever the host's load (auto
			// leaves it asleep while make test's other tests run): the
			// rows check its calls against native too. The other
			// tests run kshim's default (auto).
			argv := append(append([]string{kshim, "run", "--fast-syscalls=on"}, p.kshimArgs...), path)
			guest := run(append(argv, p.args...), envFor(p), p.stdin)
			if gap, ok := knownGaps[p.testName()]; ok {
				if matches(native, guest) {
					t.Fatalf("listed as a known gap (%s) but now matches native: remove it from knownGaps", gap)
				}
				t.Skipf("known gap, does not match native yet: %s", gap)
			}
			compare(t, "kshim", native, guest, false)
		})
	}
}

// matches reports whether a kshim run matches the native one exactly as
// compare would require (for runs that exit normally).
func matches(native, got result) bool {
	if got.timedOut || got.err != nil || !bytes.Equal(native.stdout, got.stdout) {
		return false
	}
	if native.sig != 0 {
		return got.exit == 128+int(native.sig)
	}
	return bytes.Equal(native.stderr, got.stderr) && native.exit == got.exit && got.sig == 0
}

// compare checks got (the "kshim" or second run) against the native run.
// If native died of signal N, a kshim run must exit with 128+N and add
// exactly one line to stderr; a second native run (sameKind) must die of
// the same signal.
func compare(t *testing.T, what string, native, got result, sameKind bool) {
	t.Helper()
	if got.timedOut || got.err != nil {
		t.Errorf("%s: %s\nstdout:\n%s\nstderr:\n%s", what, got.status(), clip(got.stdout), clip(got.stderr))
		return
	}
	if !bytes.Equal(native.stdout, got.stdout) {
		t.Errorf("stdout differs (native vs %s):\n%s", what, firstDiff(native.stdout, got.stdout, what))
	}
	if native.sig != 0 && !sameKind {
		want := 128 + int(native.sig)
		if got.sig != 0 || got.exit != want {
			t.Errorf("native was killed by signal %d (%v); want %s exit status %d, got %s\nstderr:\n%s",
				int(native.sig), native.sig, what, want, got.status(), clip(got.stderr))
		}
		checkSignalMessage(t, what, native.stderr, got.stderr)
		return
	}
	if !bytes.Equal(native.stderr, got.stderr) {
		t.Errorf("stderr differs (native vs %s):\n%s", what, firstDiff(native.stderr, got.stderr, what))
	}
	if native.sig != got.sig || native.exit != got.exit {
		t.Errorf("status differs: native %s, %s %s", native.status(), what, got.status())
	}
}

// checkSignalMessage: kshim's stderr must be the guest's own stderr followed
// by exactly one non-empty line (the shell-like "Segmentation fault" style
// message), and must not look like a Go crash.
func checkSignalMessage(t *testing.T, what string, native, got []byte) {
	t.Helper()
	if looksLikeGoCrash(got) {
		t.Errorf("%s stderr looks like a Go crash:\n%s", what, clip(got))
		return
	}
	if !bytes.HasPrefix(got, native) {
		t.Errorf("%s stderr does not start with the guest's stderr:\n%s", what, firstDiff(native, got, what))
		return
	}
	extra := string(got[len(native):])
	if strings.TrimSpace(extra) == "" {
		t.Errorf("%s printed no message on stderr for a guest killed by a signal", what)
		return
	}
	if strings.Count(strings.TrimSuffix(extra, "\n"), "\n") != 0 || !strings.HasSuffix(extra, "\n") {
		t.Errorf("%s signal message must be exactly one line ending in a newline, got %q", what, extra)
	}
}

func looksLikeGoCrash(b []byte) bool {
	return bytes.Contains(b, []byte("panic")) || bytes.Contains(b, []byte("goroutine"))
}

// firstDiff describes the first differing line of a and b, with a little
// context, in a readable form.
func firstDiff(a, b []byte, what string) string {
	al := strings.SplitAfter(string(a), "\n")
	bl := strings.SplitAfter(string(b), "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	var s strings.Builder
	fmt.Fprintf(&s, "  first difference at line %d (native %d bytes, %s %d bytes)\n", i+1, len(a), what, len(b))
	for j := max(0, i-3); j < i; j++ {
		fmt.Fprintf(&s, "    %4d   %q\n", j+1, al[j])
	}
	line := func(l []string) string {
		if i < len(l) && l[i] != "" {
			return fmt.Sprintf("%q", l[i])
		}
		return "(end of output)"
	}
	fmt.Fprintf(&s, "  - %4d   %s   (native)\n", i+1, line(al))
	fmt.Fprintf(&s, "  + %4d   %s   (%s)\n", i+1, line(bl), what)
	// With as many lines on both sides, the other differing lines too
	// (a few): whether a difference is the only one is then visible.
	if len(al) == len(bl) {
		n := 1
		for j := i + 1; j < len(al); j++ {
			if al[j] == bl[j] {
				continue
			}
			if n++; n <= 8 {
				fmt.Fprintf(&s, "  - %4d   %q   (native)\n  + %4d   %q   (%s)\n", j+1, al[j], j+1, bl[j], what)
			}
		}
		fmt.Fprintf(&s, "  %d line(s) differ\n", n)
	}
	return s.String()
}

// clip shortens long output for error messages.
func clip(b []byte) string {
	const limit = 2000
	if len(b) == 0 {
		return "  (empty)"
	}
	if len(b) > limit {
		return string(b[:limit]) + fmt.Sprintf("\n  ... (%d more bytes)", len(b)-limit)
	}
	return string(b)
}

// TestRunBadInput: what `kshim run` must do with programs it cannot run.
// These expectations are the spec: 127 for a missing file or interpreter
// (as a shell), 126 for a file that is not a runnable x86-64 ELF or whose
// interpreter is not one; exactly one line on stderr,
// nothing on stdout, and never a Go panic.
func TestRunBadInput(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	hello := filepath.Join(dir, "hello")
	requireFile(t, hello)
	helloELF, err := os.ReadFile(hello)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()

	write := func(name string, data []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}

	cases := []struct {
		name     string
		path     func(t *testing.T) string
		exit     int
		wantPath bool // stderr must mention the path
	}{
		{"missing", func(t *testing.T) string { return filepath.Join(tmp, "does-not-exist") }, 127, true},
		{"directory", func(t *testing.T) string {
			p := filepath.Join(tmp, "a-directory")
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}, 126, false},
		{"empty", func(t *testing.T) string { return write("empty", nil) }, 126, false},
		{"text", func(t *testing.T) string {
			return write("text", []byte("echo this is not an ELF file\nexit 0\n"))
		}, 126, false},
		{"truncated_elf", func(t *testing.T) string { return write("truncated", helloELF[:100]) }, 126, false},
		{"non_x86_64_elf", func(t *testing.T) string {
			b := append([]byte(nil), helloELF...)
			b[18], b[19] = 183, 0 // e_machine = EM_AARCH64
			return write("aarch64", b)
		}, 126, false},
		{"missing_interpreter", func(t *testing.T) string {
			return write("nointerp", patchInterp(t, readFile(t, buildDynamic(t)), "/lib64/ld-kshim-missing.so"))
		}, 127, true},
		{"script_missing_interpreter", func(t *testing.T) string {
			return write("noshell.sh", []byte("#!/nonexistent/kshim-sh\necho hi\n"))
		}, 127, true},
		{"script_bad_line", func(t *testing.T) string {
			return write("blank.sh", []byte("#!   \necho hi\n"))
		}, 126, true},
		{"interpreter_not_elf", func(t *testing.T) string {
			text := write("interp.txt", []byte("not an ELF\n"))
			return write("textinterp", patchInterp(t, readFile(t, buildDynamic(t)), shortTempLink(t, text)))
		}, 126, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path(t)
			r := run([]string{kshim, "run", path, "arg1"}, baseEnv, "")
			if r.timedOut || r.err != nil || r.sig != 0 || r.exit != c.exit {
				t.Errorf("kshim run %s: %s, want exit status %d\nstderr:\n%s", c.name, r.status(), c.exit, clip(r.stderr))
			}
			if looksLikeGoCrash(r.stderr) {
				t.Errorf("stderr looks like a Go crash:\n%s", clip(r.stderr))
			}
			s := string(r.stderr)
			if !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 || strings.TrimSpace(s) == "" {
				t.Errorf("stderr must be exactly one non-empty line, got %q", s)
			}
			if c.wantPath && !strings.Contains(s, path) {
				t.Errorf("stderr does not mention the path %s: %q", path, s)
			}
			if len(r.stdout) != 0 {
				t.Errorf("stdout must be empty, got %q", clip(r.stdout))
			}
		})
	}
}

// buildDynamic returns a small dynamically linked program (hello_dyn,
// built by images.mk with gcc; prebuilt, so that the tests that patch its
// interpreter also run where there is no gcc, as in make test-svm's
// guest). Callers write their patched copies elsewhere.
func buildDynamic(t *testing.T) string {
	t.Helper()
	_, dir := paths(t)
	p := filepath.Join(dir, "hello_dyn")
	requireFile(t, p)
	return p
}

// sameAVX skips a row whose program's `probe` says it has AVX natively and
// not in kshim's guests (VMX/SVM: the guest's CR4 has no OSXSAVE), where
// the outputs differ by design; where neither has AVX the program checks
// nothing and says so on both sides.
func sameAVX(bin string) func() string {
	return func() string {
		kshim, prog := "../bin/kshim", "../build/images/"+bin
		if env := os.Getenv("KSHIM_BIN"); env != "" {
			kshim = env
		}
		native, _ := exec.Command(prog, "probe").Output()
		guest, _ := exec.Command(kshim, "run", prog, "probe").Output()
		if !bytes.Equal(native, guest) {
			return fmt.Sprintf("AVX natively %q, in kshim's guests %q", native, guest)
		}
		return ""
	}
}
