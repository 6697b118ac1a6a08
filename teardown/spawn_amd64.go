package teardown

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	supported = true
	auditArch = unix.AUDIT_ARCH_X86_64
)

// Allowed are the helper's calls (its seccomp filter's allowlist).
var Allowed = []uintptr{unix.SYS_POLL, unix.SYS_GETPPID, unix.SYS_EXIT, unix.SYS_EXIT_GROUP, unix.SYS_RESTART_SYSCALL}

// spawn blocks every signal on this thread, clones the helper
// (CLONE_VM|CLONE_FILES, no exit signal) on stack, and restores this
// thread's mask (kept in *old). It returns the helper's pid or -errno.
// The helper sets no_new_privs, loads the filter at fprog, sets the
// watch's state at pfd, and polls its pollfd until its parent is no
// longer self, then exits.
//
//go:noescape
func spawn(stack uintptr, fprog, pfd, all, old unsafe.Pointer, self int64) int64
