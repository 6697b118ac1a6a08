// execcaps_amd64.s: the signal handler that cuts one thread's exec
// capabilities (execcaps.go). It runs on the thread's signal stack, uses
// no stack of its own and touches no Go state: raw prctl calls, then one
// atomic count.

#include "textflag.h"

#define SYS_prctl 157
#define SYS_rt_sigreturn 15
#define PR_CAPBSET_DROP 24
#define PR_SET_NO_NEW_PRIVS 38
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#define EINVAL 22

// func cutHandler()
TEXT ·cutHandler(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	·cutMask(SB), R12
	XORQ	R13, R13
drop:
	CMPQ	R13, $64
	JAE	nnp
	BTQ	R13, R12
	JCC	next
	MOVQ	$SYS_prctl, AX
	MOVQ	$PR_CAPBSET_DROP, DI
	MOVQ	R13, SI
	XORQ	DX, DX
	XORQ	R10, R10
	XORQ	R8, R8
	SYSCALL
	TESTQ	AX, AX
	JNE	fail
next:
	INCQ	R13
	JMP	drop
nnp:
	MOVQ	$SYS_prctl, AX
	MOVQ	$PR_SET_NO_NEW_PRIVS, DI
	MOVQ	$1, SI
	XORQ	DX, DX
	XORQ	R10, R10
	XORQ	R8, R8
	SYSCALL
	TESTQ	AX, AX
	JNE	fail
	MOVQ	$SYS_prctl, AX
	MOVQ	$PR_CAP_AMBIENT, DI
	MOVQ	$PR_CAP_AMBIENT_CLEAR_ALL, SI
	XORQ	DX, DX
	XORQ	R10, R10
	XORQ	R8, R8
	SYSCALL
	CMPQ	AX, $-EINVAL // a kernel without ambient capabilities
	JEQ	done
	TESTQ	AX, AX
	JNE	fail
done:
	MOVL	$1, AX
	LOCK
	XADDL	AX, ·cutDone(SB)
	RET
fail:
	MOVL	$1, AX
	LOCK
	XADDL	AX, ·cutFailed(SB)
	RET

// func cutRestorer()
TEXT ·cutRestorer(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	$SYS_rt_sigreturn, AX
	SYSCALL
	INT	$3

// func cutHandlerPC() uintptr
TEXT ·cutHandlerPC(SB),NOSPLIT,$0-8
	LEAQ	·cutHandler(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func cutRestorerPC() uintptr
TEXT ·cutRestorerPC(SB),NOSPLIT,$0-8
	LEAQ	·cutRestorer(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
