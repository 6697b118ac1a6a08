// rlimit.go: the resource limits the guest starts with where they are not
// kshim's own (the guest's limits otherwise start as the VMM's: kernel's
// Process.Rlimit).
package vmm

import (
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// callerRlimits returns the guest's RLIMIT_NOFILE when the Go runtime
// raised kshim's: at start it sets the soft limit to the hard limit less
// one (its mark), where the user's shell had the caller's value, often
// 1024, which programs using select(2) rely on. The guest must see the
// caller's. A child started by the Go runtime gets the original back
// before its execve, so a child tells it: one stopped at its execve
// (execNofile, ~0.3 ms here), or, where tracing is refused, a shell that
// reports it (~1-2 ms). nil: nothing to change. It must run before kshim
// confines itself (no process can be started after).
func callerRlimits() map[int]unix.Rlimit {
	var l unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &l) != nil || l.Max == 0 || l.Max == unix.RLIM_INFINITY || l.Cur != l.Max-1 {
		return nil
	}
	v, ok := execNofile()
	if !ok {
		v, ok = shellNofile()
	}
	if !ok || v >= l.Cur {
		return nil
	}
	return map[int]unix.Rlimit{unix.RLIMIT_NOFILE: {Cur: v, Max: l.Max}}
}

// execNofile reads the soft RLIMIT_NOFILE of a child the Go runtime
// started (which restores the original limit just before the execve): the
// child traces itself (PTRACE_TRACEME), so it stops as its execve of
// kshim's own binary returns, before a single instruction of it has run;
// kshim reads its limit there and kills it. ok is false when that cannot
// be done (no /proc, tracing refused).
func execNofile() (soft uint64, ok bool) {
	runtime.LockOSThread() // the tracer is this thread
	defer runtime.UnlockOSThread()
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"kshim-rlimit"}, &syscall.ProcAttr{
		Sys: &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		return 0, false
	}
	defer func() {
		unix.Kill(pid, unix.SIGKILL)
		var ws unix.WaitStatus
		for {
			if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
				break
			}
		}
	}()
	var ws unix.WaitStatus
	for {
		_, err = unix.Wait4(pid, &ws, 0, nil)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil || !ws.Stopped() || ws.StopSignal() != unix.SIGTRAP {
		return 0, false // not stopped at its execve: its limit says nothing
	}
	var l unix.Rlimit
	if unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &l) != nil {
		return 0, false
	}
	return l.Cur, true
}

// shellNofile asks a shell child for its soft RLIMIT_NOFILE.
func shellNofile() (uint64, bool) {
	out, err := exec.Command("/bin/sh", "-c", "ulimit -Sn").Output()
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
	return v, err == nil
}
