// sysvipc.go: System V IPC syscalls, thin wrappers over package ipc.
// The int arguments (ids, keys, flags, commands) are their registers'
// low 32 bits, as Linux's int parameters are.
package syscalls

import (
	"kshim/syscalls/ipc"
	"kshim/syscalls/kernel"
)

func ipcNS(p *kernel.Process) *ipc.NS { return ipc.Of(p.Proc.K) }

func sysShmget(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return ipcNS(p).Shmget(p, int32(a[0]), a[1], int32(a[2]))
}

func sysShmat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return ipcNS(p).Shmat(p, int32(a[0]), a[1], int32(a[2]))
}

func sysShmdt(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return 0, ipcNS(p).Shmdt(p, a[0])
}

func sysShmctl(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return ipcNS(p).Shmctl(p, int32(a[0]), int32(a[1]), a[2])
}

func sysSemget(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return ipcNS(p).Semget(p, int32(a[0]), int32(a[1]), int32(a[2]))
}

func sysSemop(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return 0, ipcNS(p).Semtimedop(p, int32(a[0]), a[1], uint32(a[2]), 0)
}

func sysSemtimedop(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return 0, ipcNS(p).Semtimedop(p, int32(a[0]), a[1], uint32(a[2]), a[3])
}

func sysSemctl(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return ipcNS(p).Semctl(p, int32(a[0]), int32(a[1]), int32(a[2]), a[3])
}

func sysMsgget(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return ipcNS(p).Msgget(p, int32(a[0]), int32(a[1]))
}

func sysMsgsnd(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return 0, ipcNS(p).Msgsnd(p, int32(a[0]), a[1], a[2], int32(a[3]))
}

func sysMsgrcv(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return ipcNS(p).Msgrcv(p, int32(a[0]), a[1], a[2], int64(a[3]), int32(a[4]))
}

func sysMsgctl(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return ipcNS(p).Msgctl(p, int32(a[0]), int32(a[1]), a[2])
}
