// filter.go: loading the seccomp filter compiled at build time
// (filter_gen.go, from allowlist.go by `go generate ./sandbox`).
//
// Invariants:
//   - Filter(pid) is exactly the program github.com/elastic/go-seccomp-bpf
//     assembles from Allowlist(pid) (sandbox/policy's test checks it for
//     several pids): the generated program has the pid's instructions
//     (the kill/tgkill target checks) at filterPidAt, and only there.
//   - The filter goes on every thread at once (TSYNC) or not at all: a
//     thread the kernel cannot synchronize is an error, never a partly
//     filtered process.
package sandbox

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

//go:generate go run ./seccompgen filter_gen.go

// Filter is the seccomp program for a process whose pid is pid.
func Filter(pid int) []unix.SockFilter {
	prog := append([]unix.SockFilter(nil), filterCode...)
	for _, i := range filterPidAt {
		prog[i].K = uint32(pid)
	}
	return prog
}

// installSeccomp loads the filter on every thread (TSYNC). no_new_privs
// is already set on every thread (Begin).
func installSeccomp() (int, error) {
	prog := Filter(unix.Getpid())
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	tid, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	switch {
	case e != 0:
		return 0, fmt.Errorf("loading the filter: %w", e)
	case tid != 0:
		return 0, fmt.Errorf("loading the filter: thread %d could not take it (TSYNC)", tid)
	}
	return filterAllowedCalls, nil // AllowedCalls() (a test checks), known at build time
}

// seccompSupported says whether the kernel has seccomp filters: strict mode
// with a flag is EINVAL where the call exists.
func seccompSupported() bool {
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_STRICT, 1, 0)
	return e == unix.EINVAL
}
