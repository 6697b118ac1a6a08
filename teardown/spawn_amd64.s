// spawn_amd64.s: the helper (teardown.go). Its instructions use no stack
// and touch no Go state: after the clone, registers and raw calls only.

#include "textflag.h"

#define SYS_rt_sigprocmask 14
#define SYS_clone 56
#define SYS_exit_group 231
#define SYS_poll 7
#define SYS_getppid 110
#define SYS_prctl 157
#define SYS_seccomp 317
#define SIG_SETMASK 2
#define CLONE_VM_FILES 0x500
#define PR_SET_NO_NEW_PRIVS 38
#define SECCOMP_SET_MODE_FILTER 1
#define PERIOD_MS 1000
#define CONFINED 1
#define FAILED 2

// func spawn(stack uintptr, fprog, pfd, all, old unsafe.Pointer, self int64) int64
TEXT ·spawn(SB),NOSPLIT,$0-56
	// Every signal blocked from before the helper exists: it inherits
	// the mask, and no handler (Go's) ever runs on it.
	MOVQ	$SYS_rt_sigprocmask, AX
	MOVQ	$SIG_SETMASK, DI
	MOVQ	all+24(FP), SI
	MOVQ	old+32(FP), DX
	MOVQ	$8, R10
	SYSCALL
	// BX, R12, R13 survive the clone into the helper, which keeps what
	// it must trust in registers: its memory is kshim's.
	MOVQ	fprog+8(FP), R12
	MOVQ	pfd+16(FP), R13
	MOVQ	self+40(FP), BX
	MOVQ	$SYS_clone, AX
	MOVQ	$CLONE_VM_FILES, DI
	MOVQ	stack+0(FP), SI
	XORQ	DX, DX
	XORQ	R10, R10
	XORQ	R8, R8
	SYSCALL
	TESTQ	AX, AX
	JEQ	helper
	MOVQ	AX, ret+48(FP)
	MOVQ	$SYS_rt_sigprocmask, AX
	MOVQ	$SIG_SETMASK, DI
	MOVQ	old+32(FP), SI
	XORQ	DX, DX
	MOVQ	$8, R10
	SYSCALL
	RET

helper:
	MOVQ	$SYS_prctl, AX
	MOVQ	$PR_SET_NO_NEW_PRIVS, DI
	MOVQ	$1, SI
	XORQ	DX, DX
	XORQ	R10, R10
	XORQ	R8, R8
	SYSCALL
	TESTQ	AX, AX
	JNE	failed
	MOVQ	$SYS_seccomp, AX
	MOVQ	$SECCOMP_SET_MODE_FILTER, DI
	XORQ	SI, SI
	MOVQ	R12, DX
	SYSCALL
	TESTQ	AX, AX
	JNE	failed
	MOVL	$CONFINED, 8(R13) // watch.state, for Confined
	// Until kshim is gone: its pidfd turns readable then (the pollfd's
	// fd may be -1: none), and whatever the pollfd says (kshim's to
	// write), the timeout in a register makes the helper look at its
	// parent at least once a period; it is no longer kshim once every
	// thread of kshim has ended.
wait:
	MOVQ	$SYS_poll, AX
	MOVQ	R13, DI
	MOVQ	$1, SI
	MOVQ	$PERIOD_MS, DX
	SYSCALL
	MOVQ	$SYS_getppid, AX
	SYSCALL
	CMPQ	AX, BX
	JEQ	wait
	JMP	done
failed:
	MOVL	$FAILED, 8(R13)
done:
	MOVQ	$SYS_exit_group, AX
	XORQ	DI, DI
	SYSCALL
	JMP	done
