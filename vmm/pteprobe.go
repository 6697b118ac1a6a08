// pteprobe.go: the start-up measurement that picks the page-table change
// protocol (ept/flush.go): does the guest see the VMM's own edit of a
// present, used PTE after the guest's invlpg?
//
// On a shadow MMU (PVM; KVM with npt=0/ept=0) it does not: the hypervisor
// tracks guest writes to page tables and keeps its shadow of an entry the
// host edited, even across the guest's invlpg, so the guest must re-write
// the entry itself. With nested paging (EPT/NPT) the guest's tables are
// the ones the hardware walks, and an invlpg after the host's edit is
// enough: the queue then holds invlpgs only (no guest writes, no drains).
//
// The probe runs once per machine, after the syscall-path probe, on the
// probing vCPU in a throw-away address space: a user loop reads a data
// page and makes a syscall; the VMM edits the page's entry to another
// frame, queues an invlpg-only record, resumes through the flush, and
// reads which frame the guest saw. Only if every trial sees the new frame
// does the machine use host writes; any stale read, error or odd value
// keeps the guest-write protocol, which is correct everywhere (a shadow
// that happened to be dropped between edit and read cannot pass every
// trial by chance, since each uses its own page).
//
// Where the edit stays stale, the same trial then tries the
// frame-invalidation protocol (ept/invalidate.go): with the guest still
// reading the old frame, the VMM invalidates its view of that frame and
// resumes the guest with no flush at all. Only if every trial then sees
// the new frame do the queues collect old frames instead of guest writes
// (FlushQueue.SetInvalidate); otherwise the guest writes, as before. Two
// stale trials decide it there (eight guest entries in all, five more
// than the stale first trial alone took), three visible ones elsewhere;
// the flush trials' times size the invalidation's limit.
//
// Invariants: the probe leaves no trace: its address space, frames and
// queued records are gone when it returns, and it runs before any program
// is loaded into the vCPU.
package vmm

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/ept"
)

const (
	pteProbeCode   = 0x400000
	pteProbeData   = 0x600000 // trial i uses the page at pteProbeData + i pages
	pteProbeTrials = 3
)

// pteProbeLoop: mov rax, [rbx]; mov rdi, rax; mov eax, 39; syscall; jmp
// loop. RBX (which the VMM sets) names the trial's page; RDI carries what
// it read to the syscall exit.
var pteProbeLoop = []byte{0x48, 0x8b, 0x03, 0x48, 0x89, 0xc7, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf1}

// HostWrites reports the protocol the probe picked: true when the VMM's
// own edits of present entries are seen after a guest invlpg.
func (m *Machine) HostWrites() bool { return m.hostWrites }

// probePTE measures and sets the protocol for every vCPU of the machine.
// Its errors are the vCPU's (KVM failing); an inconclusive measurement is
// not an error, just the guest-write protocol.
//
// KSHIM_PTE_PROTOCOL=guest-writes keeps the guest-write protocol whatever
// the measurement saw (a diagnostic: whether a failure seen with host
// writes, on NPT, follows the protocol); =invalidate allows frame
// invalidation off PVM too.
func (c *VCPU) probePTE() error {
	visible, inv, flushT, err := c.measurePTE()
	if err != nil {
		return fmt.Errorf("page-table probe: %w", err)
	}
	if os.Getenv("KSHIM_PTE_PROTOCOL") == "guest-writes" {
		visible = false
	}
	c.m.hostWrites = visible
	for _, v := range c.m.all {
		v.Flush.SetHostWrites(visible)
	}
	if visible {
		return nil
	}
	// Frame invalidation only where it has been validated: PVM (the
	// cpl3-direct path). The first make test-svm run with it picked on
	// emulated SVM without nested paging (npt=0) froze the emulated
	// machine in the busybox corpus; until that is understood, VMX/SVM
	// hosts keep guest writes. KSHIM_PTE_PROTOCOL=invalidate takes it
	// wherever the probe saw it work (diagnostics).
	if _, pvm := c.m.path.(cpl3Path); !pvm && os.Getenv("KSHIM_PTE_PROTOCOL") != "invalidate" {
		inv = false
	}
	c.m.invalidate = inv
	// How many frames one operation may invalidate: as many as cost
	// what the guest flush they replace costs (the flush trial's extra
	// time over a plain resume; a frame's share of invalidating a run of
	// 16, what munmap or mprotect of a small range does).
	c.m.invalMax = 1
	if per := c.invalidateCost(); inv && per > 0 && flushT > 0 {
		c.m.invalMax = int(min(max(flushT/per, 1), 512))
	}
	for _, v := range c.m.all {
		v.Flush.SetInvalidate(c.m.invalMem(), c.m.invalMax)
	}
	return nil
}

// invalidateCost is the time (ns) one frame of a run of 16 consecutive
// ones takes to invalidate (the cheapest of three tries), 0 when it cannot
// be measured.
func (c *VCPU) invalidateCost() int64 {
	const n = 16
	mem := c.m.Mem
	pa, err := mem.AllocRun(n)
	if err != nil {
		return 0
	}
	defer func() {
		for i := uint64(0); i < n; i++ {
			mem.Free(pa + i*ept.PageSize)
		}
	}()
	frames := make([]uint64, n)
	best := int64(-1)
	for try := 0; try < 3; try++ {
		for i := range frames {
			frames[i] = pa + uint64(i)*ept.PageSize
			mem.Page(frames[i])[0] = 1 // in use, as a changed entry's frame is
		}
		t0 := nanotime()
		if mem.Invalidate(frames) != nil {
			return 0
		}
		if t := nanotime() - t0; best < 0 || t < best {
			best = t
		}
	}
	return max(best/n, 1)
}

// InvalidateMax is how many frames one operation invalidates at most
// (frame-invalidation protocol; measured by the probe).
func (m *Machine) InvalidateMax() int { return m.invalMax }

// Invalidates reports whether the machine uses the frame-invalidation
// protocol (ept/invalidate.go).
func (m *Machine) Invalidates() bool { return m.invalidate }

// invalMem is what FlushQueue.SetInvalidate takes: the memory with frame
// invalidation on, else nil.
func (m *Machine) invalMem() *ept.Memory {
	if m.invalidate {
		return m.Mem
	}
	return nil
}

// measurePTE runs the trials: the VMM edits a used entry and queues an
// invlpg alone; where the guest still reads the old frame (stale), the VMM
// then invalidates its view of the old frame and resumes with no flush. It
// reports whether every trial saw the edit after the invlpg (visible),
// else whether every trial saw it after the invalidation (inv), and what
// the flush cost over a plain resume (ns, the cheapest of the trials).
func (c *VCPU) measurePTE() (visible, inv bool, cost int64, err error) {
	var plain, changed int64 = -1, -1
	cheapest := func(v *int64, t int64) {
		if *v < 0 || t < *v {
			*v = t
		}
	}
	visible, inv, err = c.pteTrials(func(t int64) { cheapest(&plain, t) }, func(t int64) { cheapest(&changed, t) })
	if plain >= 0 && changed >= 0 { // what a change cost, seen or not
		cost = max(changed-plain, 1)
	}
	return visible, inv, cost, err
}

// pteTrials runs the trials of measurePTE, reporting each plain resume's
// time and each flushed one's (edit, flush and resume).
func (c *VCPU) pteTrials(plainT, changedT func(int64)) (visible, inv bool, err error) {
	visible, inv = true, true
	mem := c.m.Mem
	pt, err := c.NewAddressSpace()
	if err != nil {
		return false, false, err
	}
	var frames []uint64
	alloc := func(v uint64) (uint64, error) {
		pa, err := mem.Alloc()
		if err != nil {
			return 0, err
		}
		frames = append(frames, pa)
		clear(mem.Page(pa))
		putU64(mem.Page(pa), v)
		return pa, nil
	}
	defer func() {
		c.Flush.Reset()
		delete(c.roots, pt)
		pt.Free()
		for _, f := range frames {
			mem.Free(f)
		}
	}()
	code, err := alloc(0)
	if err != nil {
		return false, false, err
	}
	copy(mem.Page(code), pteProbeLoop)
	if err := pt.Map(pteProbeCode, code, ept.PTEUser); err != nil {
		return false, false, err
	}
	// run enters the guest (resuming it after its last syscall with RBX
	// set, through the flush when flush is set) until its next syscall
	// exit, and returns what it read.
	started := false
	run := func(rbx uint64, flush bool) (uint64, error) {
		if !started {
			if err := c.load(c.rootFor(pt), pteProbeCode, 0); err != nil {
				return 0, err
			}
			started = true
		}
		r, err := c.CPU.Regs()
		if err != nil {
			return 0, err
		}
		// Past the first entry (through the boot stub, which keeps RBX),
		// the vCPU is at its last syscall exit.
		if r.RIP != boot.BootEntry {
			r.RIP, r.RFLAGS = r.RCX, r.R11
			c.m.path.resume(c, r, flush)
		}
		r.RBX = rbx
		c.CPU.MarkDirty()
		for tries := 0; ; tries++ {
			err := c.CPU.Run()
			if err == nil {
				break
			}
			if !errors.Is(err, unix.EINTR) || tries == 1000 {
				return 0, fmt.Errorf("KVM_RUN: %w", err)
			}
		}
		if _, _, port := c.CPU.IO(); c.CPU.ExitReason() != exitIO || port != boot.PortSyscall {
			return 0, fmt.Errorf("want a syscall exit: %s", c.CPU.Describe())
		}
		c.Flush.Applied()
		r, err = c.CPU.Regs()
		if err != nil {
			return 0, err
		}
		return r.RDI, nil
	}
	for i := uint64(0); i < pteProbeTrials; i++ {
		if i == 2 && !visible {
			break // two stale trials tell the protocols apart: fewer exits at start-up
		}
		va := pteProbeData + i*ept.PageSize
		oldV, newV := 1000+2*i, 1001+2*i
		oldF, err := alloc(oldV)
		if err != nil {
			return false, false, err
		}
		newF, err := alloc(newV)
		if err != nil {
			return false, false, err
		}
		if err := pt.Map(va, oldF, ept.PTEUser|ept.PTEWritable|ept.PTENoExec|ept.PTEDirty); err != nil {
			return false, false, err
		}
		// The guest reads the page (the translation is now used: cached
		// by the TLB or a shadow MMU), twice to be sure it is.
		for j := 0; j < 2; j++ {
			t0 := nanotime()
			if got, err := run(va, false); err != nil || got != oldV {
				return false, false, errOr(err, "trial %d: guest read %d, want %d", i, got, oldV)
			}
			if j == 1 {
				plainT(nanotime() - t0)
			}
		}
		pte, ok := pt.Lookup(va)
		if !ok || pte&ept.PTEAccessed == 0 {
			return false, false, nil // not marked used: the measurement would say nothing
		}
		// The VMM's own edit of the present entry, then an invlpg alone.
		e, ok := pt.EntryAddr(va)
		if !ok {
			return false, false, fmt.Errorf("trial %d: no leaf entry for %#x", i, va)
		}
		t0 := nanotime()
		putU64(mem.Slice(e, 8), newF|pte&^ept.Frame(pte))
		if err := c.Flush.Invlpg(va); err != nil {
			return false, false, err
		}
		got, err := run(va, true)
		if err != nil {
			return false, false, err
		}
		changedT(nanotime() - t0)
		if got == newV {
			inv = false // not the case it is for
			continue
		}
		visible = false // stale (or odd): the guest must write, or...
		if !inv {
			continue
		}
		// ...the frame the guest still reads is invalidated, no flush.
		if err := mem.Invalidate([]uint64{oldF}); err != nil {
			inv = false // not available here
			continue
		}
		got, err = run(va, false)
		if err != nil {
			return false, false, err
		}
		if got != newV {
			inv = false
		}
	}
	return visible, inv && !visible, nil
}

func errOr(err error, format string, a ...any) error {
	if err != nil {
		return err
	}
	return fmt.Errorf(format, a...)
}
