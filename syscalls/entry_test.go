package syscalls

import (
	"testing"

	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

// EnterUser leaves a user RIP alone and keeps only the RFLAGS bits user
// code can set itself (popf at CPL 3), with IF and bit 1 set: whatever R11
// a program forged at the syscall stub, or a frame held, IOPL, NT, RF, VM,
// VIF and VIP never reach the vCPU.
func TestEnterUserFlags(t *testing.T) {
	p := testProcess(t, fs.Files{Root: t.TempDir()})
	for _, c := range []struct{ in, want uint64 }{
		{0, 0x202},
		{0x202, 0x202},
		{0x3000 | 0x4000 | 0x10000 | 0x20000 | 0x80000 | 0x100000, 0x202}, // IOPL NT RF VM VIF VIP
		{0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x40000 | 0x200000, 0x240fd7},
		{^uint64(0), 0x240fd7},
	} {
		r := kernel.Regs{RIP: 0x401000, RFLAGS: c.in}
		p.EnterUser(&r)
		if r.RFLAGS != c.want|0x202 || r.RIP != 0x401000 || p.Exited {
			t.Errorf("RFLAGS %#x: got RFLAGS %#x RIP %#x exited %v, want RFLAGS %#x", c.in, r.RFLAGS, r.RIP, p.Exited, c.want|0x202)
		}
	}
}

// Unknown syscall numbers are ENOSYS, each logged once at most, and what
// remembers them stays small whatever numbers the guest tries (it once
// kept one entry per number: 135 MiB of kshim after 2 million).
func TestUnknownSyscallsBounded(t *testing.T) {
	p := testProcess(t, fs.Files{Root: t.TempDir()})
	for i := uint64(0); i < 10000; i++ {
		r := kernel.Regs{RAX: 100000 + i}
		Syscall(p, &r)
		if int64(r.RAX) != -38 { // ENOSYS
			t.Fatalf("syscall %d: RAX %#x, want -ENOSYS", 100000+i, r.RAX)
		}
	}
	if len(p.Warned) > 256 {
		t.Fatalf("%d numbers remembered after 10000 unknown syscalls, want at most 256", len(p.Warned))
	}
}
