// machine.go: one guest machine (a VM: memory, the shared shim pages) and
// its vCPUs, one per guest task, and the processor state a vCPU starts in.
//
// Invariants:
//   - The shim's pages (boot/layout.go) sit at the same addresses in every
//     guest address space. The stub pages and the IDT are shared; the GDT,
//     TSS, user data page, flush area and IST1 stack are each vCPU's own,
//     and a task's page tables map its vCPU's frames. So vCPUs running at
//     once never share a stack, a flush queue or a TSS.
//   - A vCPU starts at CPL 0 in boot.BootEntry and enters user mode with
//     iretq (PVM cannot start in user mode); after that it stays in user
//     mode except inside the stubs.
//   - KVM cannot destroy a vCPU, so an exited task's vCPU waits in the idle
//     list for the next task; Start resets everything a task sees.
//   - When a new task finds no idle vCPU, the KVM part of the next one
//     (KVM_CREATE_VCPU, its kvm_run mapping, KVM_SET_CPUID2: ~0.35 ms) is
//     made ahead by one goroutine (spare.go) and waits in bare; it has no
//     guest memory (its frames are taken when a task takes it), so it can
//     cause no guest OOM. vCPUs made plus bare plus the one being made
//     never exceed maxVCPUs (the task limit), and Close waits for the
//     goroutine before it closes the VM.
//   - Lock order: Machine.mu may be taken under guestmm's and a space's
//     locks (vcpuOfThread); under it only ept's locks are taken (NewVCPU:
//     the memory's, and its new vCPU's own tables and flush queue).
package vmm

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/bobuhiro11/gokvm/kvm"

	"kshim/boot"
	"kshim/ept"
	"kshim/guestmm"
	"kshim/syscalls/kernel"
)

const (
	msrSTAR         = 0xc0000081
	msrLSTAR        = 0xc0000082
	msrCSTAR        = 0xc0000083
	msrSFMASK       = 0xc0000084
	msrFSBase       = 0xc0000100
	msrGSBase       = 0xc0000101
	msrKernelGSBase = 0xc0000102

	cr0PE = 1 << 0
	cr0MP = 1 << 1
	cr0ET = 1 << 4
	cr0NE = 1 << 5
	cr0WP = 1 << 16
	cr0AM = 1 << 18
	cr0PG = 1 << 31

	cr4PAE        = 1 << 5
	cr4OSFXSR     = 1 << 9
	cr4OSXMMEXCPT = 1 << 10

	eferSCE = 1 << 0
	eferLME = 1 << 8
	eferLMA = 1 << 10
	eferNXE = 1 << 11

	// syscall masks these flags, as Linux does.
	sfmask = 0x100 | 0x200 | 0x400 | 0x4000 | 0x40000 // TF IF DF NT AC

	// UserFlags is RFLAGS for fresh user code: IF and the reserved bit.
	UserFlags = 0x202
)

// shimPage describes one of the shim's pages: where it lives, how the
// guest may use it, and whether each vCPU has its own copy.
type shimPage struct {
	va     uint64
	pages  int
	flags  uint64
	perCPU bool
}

var shimPages = []shimPage{
	{boot.KernelText, 1, 0, false},
	{boot.UserText, 1, ept.PTEUser, false},
	{boot.IDTAddr, 1, ept.PTENoExec, false},
	{boot.GDTAddr, 1, ept.PTENoExec | ept.PTEWritable, true},
	{boot.TSSAddr, boot.TSSPages, ept.PTENoExec, true},
	{boot.FlushArea, boot.FlushAreaSize / ept.PageSize, ept.PTENoExec | ept.PTEWritable, true},
	{boot.IST1Bottom, (boot.IST2Top - boot.IST1Bottom) / ept.PageSize, ept.PTENoExec | ept.PTEWritable, true},
	{boot.FastArea, 1, ept.PTEUser | ept.PTENoExec | ept.PTEWritable, true},
}

// Machine is a VM: its guest-physical memory, the shim pages every vCPU
// shares, and its vCPUs (one per guest task).
type Machine struct {
	h   *Hypervisor
	vm  *VM
	Mem *ept.Memory
	// shared maps each shared shim page's address to its frame.
	shared map[uint64]uint64
	path   entryPath
	// hostWrites: the VMM's own edits of present page-table entries are
	// seen after a guest invlpg, so the flush queues hold invlpgs only;
	// measured at the first probe (pteprobe.go).
	hostWrites bool
	// invalidate: where they are not, invalidating the VMM's view of an
	// entry's old frame makes the shadow MMU walk the entry again, so the
	// queues collect old frames instead of guest writes (pteprobe.go).
	invalidate bool
	invalMax   int // frames one operation may invalidate (pteprobe.go)
	// ioAfter: an I/O exit reports RIP past the `out` (PVM) rather than
	// at it (VMX/SVM); found by the probe.
	ioAfter bool
	// hwcap: CPUID leaf 1's EDX as the probe's user code found it
	// (AT_HWCAP; 0 before the probe).
	hwcap uint64
	// umip: vCPUs run with CR4.UMIP (umip.go); decided at the first load.
	umip      bool
	umipTried bool
	// noInject: KVM refused to inject boot.FlushVector (platform.go);
	// flushes take the #UD way.
	noInject bool

	vdso *vdsoState // vdso.go; nil until the first boot (or without a TSC clock)
	// vdsoFrames are the vDSO's (vvar, then the image): mapped into every
	// program even when vdso is nil (its clocks then take the syscall).
	vdsoFrames []uint64
	mu         sync.Mutex
	spaces     map[*ept.PageTable]*space // address spaces with running tasks (space.go)
	idle       []*VCPU                   // exited tasks' vCPUs, for reuse (KVM cannot destroy one)
	all        []*VCPU
	nextID     int
	spare      spares // KVM vCPUs made ahead (spare.go); guarded by mu
	// taskThreads are the host threads tasks started on (task.go: they
	// are reused, not one made per task); guarded by mu.
	taskThreads map[int32]bool

	// tune is the measured fault-around policy its address spaces share
	// (guestmm/policy.go); stats, when set, collects `run --stats`.
	tune  *guestmm.Tuning
	stats *RunStats
	frz   freezer // guest.go: pause/resume
	// fast is the fast syscall path's server (fast.go), nil where it is
	// not used; fastMode, the user's choice.
	fast     *fastServer
	fastMode FastMode
	// xframeOnce computes XFrame's signal-frame layout once the syscall
	// path is probed: the components and their image size.
	xframeOnce sync.Once
	xfeatures  uint64
	xsize      int
}

// VCPU is one vCPU and what is its own: the per-vCPU shim pages, the flush
// queue its address spaces use, the exception stack.
type VCPU struct {
	// inRun is 1 while the vCPU's thread is in KVM_RUN (kickLater).
	inRun int32

	m     *Machine
	CPU   *CPU
	Flush *ept.FlushQueue
	// own maps each per-vCPU shim page's address to its frame.
	own map[uint64]uint64
	// ist1 is the VMM's view of the exception stack; ists, of both
	// exception stacks (IST1, then IST2 for #UD).
	ist1, ists []byte
	// inExit is set while a syscall or exception exit is handled, when
	// drain may run the vCPU; inException while it is an exception.
	inExit, inException bool
	arch                *Arch
	tid                 int32 // host thread running the vCPU (0: none); for Kick
	// kernel holds the vCPU's kernel-half tables; roots, its root in each
	// address space it has joined.
	kernel *ept.PageTable
	roots  map[*ept.PageTable]*ept.Root
	// space is the address space c's task runs (space.go); inGuest is set
	// around KVM_RUN while the space has other members (guarded by
	// space.mu).
	space   *space
	inGuest bool
	// runNS is how long the last KVM_RUN took; drains counts drain runs
	// (for the fault-around policy and stats.go).
	runNS  int64
	drains uint64
	// acct is the task whose user time a KVM_RUN outside an exit counts
	// (run.go; syscalls/kernel/cputime.go), nil outside Run.
	acct *kernel.Process
	// cr3 is the root last loaded (KVM_SET_SREGS); trail, the last exits
	// (diag.go: what a triple fault's report can still tell).
	cr3        uint64
	trail      [trailLen]exitRec
	trailN     int
	entryRIP   uint64      // where the last KVM_RUN entered (sync registers only)
	fast       *fastSlot   // fast.go: its fast area, once the machine uses the fast path
	kernelSnap []tableSnap // the kernel half's tables as built (diag.go)
}

// NewMachine creates a VM with memSize bytes of guest-physical memory.
func NewMachine(memSize uint64) (*Machine, error) { return newMachine(memSize, nil) }

// newMachine is NewMachine, calling memReady (when not nil) with the
// guest memory as soon as it exists, before the VM is made: launch then
// starts the first process's files, which need the memory only for its
// size (a tmpfs's default). When newMachine fails after memReady, the
// memory given to it is closed.
func newMachine(memSize uint64, memReady func(*ept.Memory) error) (*Machine, error) {
	h, err := Open()
	if err != nil {
		return nil, err
	}
	m := &Machine{h: h, shared: map[uint64]uint64{}, tune: guestmm.NewTuning(), taskThreads: map[int32]bool{}}
	m.spare.done = sync.NewCond(&m.mu)
	if err := m.init(memSize, memReady); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Machine) init(memSize uint64, memReady func(*ept.Memory) error) error {
	var err error
	if m.Mem, err = ept.NewMemory(memSize); err != nil {
		return err
	}
	if memReady != nil {
		if err := memReady(m.Mem); err != nil {
			return err
		}
	}
	// KVM's local APIC for the vCPUs (kvm.go's splitIRQChip) only when
	// RAM ends below its page: its slots could not cover the page.
	if m.vm, err = m.h.NewVM(memSize <= ept.APICPage); err != nil {
		return err
	}
	m.vm.SetShadowPages(shadowPages(memSize))
	// RAM is registered piece by piece as it is used (ept/memory.go);
	// its first piece on a goroutine, which load waits for (StartSlots).
	m.Mem.StartSlots(m.vm.SetSlot)
	for _, p := range shimPages {
		if p.perCPU {
			continue
		}
		for i := 0; i < p.pages; i++ {
			pa, err := m.Mem.Alloc()
			if err != nil {
				return err
			}
			m.shared[p.va+uint64(i)*ept.PageSize] = pa
		}
	}
	kernel, user := boot.Stubs()
	copy(m.Mem.Page(m.shared[boot.KernelText]), kernel)
	copy(m.Mem.Page(m.shared[boot.UserText]), user)
	copy(m.Mem.Page(m.shared[boot.IDTAddr]), boot.IDT())
	return nil
}

// shadowPages is the cap on KVM's shadow page tables for a guest of
// memSize: KVM's own default (2% of the slots' pages, at least 64) for
// all of the guest's RAM and 1 GiB of file windows. KVM computes its
// default from the slots registered, and kshim registers RAM as the guest
// uses it (the first 64 MiB at start) and file windows later: the cap
// was 327-650 pages, and a loop of forks (each child on fresh tables,
// the shadows of the last ones' kept until the cap) had KVM zap its
// oldest shadow pages at nearly every fault: fork, exit and wait in a
// loop 427 -> 386 µs (medians of 10 interleaved runs here). The pages
// are made only as the guest's tables need them, and charged to kshim.
func shadowPages(memSize uint64) uint64 {
	return max(64, (memSize+1<<30)/ept.PageSize*20/1000)
}

// NewVCPU returns a vCPU for a new task: an idle one if there is one, else
// a new one with its own shim pages (on a KVM vCPU made ahead when there
// is one: spare.go). Release gives it back.
func (m *Machine) NewVCPU() (*VCPU, error) {
	defer m.fitProcs() // procs.go; after the unlock below
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := len(m.idle); n > 0 {
		c := m.idle[n-1]
		m.idle = m.idle[:n-1]
		return c, nil
	}
	cpu, id := m.takeSpareLocked()
	c, err := m.newVCPU(cpu, id)
	if err != nil {
		if cpu != nil {
			m.spare.bare = append(m.spare.bare, cpu) // still good for the next
		} else {
			m.spare.ids = append(m.spare.ids, id)
		}
		return nil, err
	}
	m.prepareLocked() // the next one, while this task starts
	return c, nil
}

// newVCPU makes a vCPU on cpu, or on a new KVM vCPU numbered id when cpu
// is nil. m.mu held.
func (m *Machine) newVCPU(cpu *CPU, id int) (*VCPU, error) {
	c := &VCPU{m: m, own: map[uint64]uint64{}}
	// Each multi-page area gets consecutive frames, so it has one VMM-side
	// slice; but the flush area, which the VMM sees a page at a time
	// (ept.NewFlushQueuePages), so that a vCPU made after guest memory
	// has been used and freed in pieces needs no run of 64 free frames.
	// Beyond its first page (the header and the first records) it is
	// seldom written (a queue that fills a page between two guest runs),
	// so those frames are not made resident ahead (ept.AllocLazy), and
	// are taken first, to stay out of the chunk the first page's Alloc
	// makes resident for the frames that follow (the guest's).
	var err error
	for _, p := range shimPages {
		if !p.perCPU {
			continue
		}
		if p.va == boot.FlushArea {
			for i := p.pages - 1; i >= 0 && err == nil; i-- {
				alloc := m.Mem.AllocLazy
				if i == 0 {
					alloc = m.Mem.Alloc
				}
				var pa uint64
				if pa, err = alloc(); err == nil {
					c.own[p.va+uint64(i)*ept.PageSize] = pa
				}
			}
			if err != nil {
				break
			}
			continue
		}
		pa, aerr := m.Mem.AllocRun(p.pages)
		if aerr != nil {
			err = aerr
			break
		}
		for i := 0; i < p.pages; i++ {
			c.own[p.va+uint64(i)*ept.PageSize] = pa + uint64(i)*ept.PageSize
		}
	}
	if err != nil {
		c.freePages()
		return nil, err
	}
	copy(c.page(boot.GDTAddr), boot.GDT())
	copy(c.area(boot.TSSAddr, boot.TSSPages*ept.PageSize), boot.TSS())
	flush := make([][]byte, boot.FlushAreaSize/ept.PageSize)
	for i := range flush {
		flush[i] = c.page(boot.FlushArea + uint64(i)*ept.PageSize)
	}
	c.Flush = ept.NewFlushQueuePages(flush)
	c.Flush.Drain = c.drain
	c.Flush.SetHostWrites(m.hostWrites) // false until probed: pteprobe.go sets every vCPU's
	c.Flush.SetInvalidate(m.invalMem(), m.invalMax)
	c.ist1 = c.area(boot.IST1Bottom, boot.IST1Top-boot.IST1Bottom)
	c.ists = c.area(boot.IST1Bottom, boot.IST2Top-boot.IST1Bottom)
	c.arch = &Arch{c: c, unloaded: true}
	c.roots = map[*ept.PageTable]*ept.Root{}
	if err := c.buildKernelHalf(); err != nil {
		c.freePages()
		return nil, err
	}
	if c.CPU = cpu; cpu == nil {
		// Its CPUID table at its first load (kvm.go's newCPU).
		if c.CPU, err = m.vm.newCPU(id); err != nil {
			c.freePages()
			return nil, err
		}
	}
	m.all = append(m.all, c)
	return c, nil
}

func (c *VCPU) freePages() {
	for va, pa := range c.own {
		c.m.Mem.Free(pa)
		delete(c.own, va)
	}
}

// Release returns an exited task's vCPU for reuse.
func (c *VCPU) Release() {
	c.leaveSpace()
	c.arch.fsBase, c.arch.gsBase, c.arch.unloaded = 0, 0, true
	clear(c.roots) // the roots went with their page tables (ept.PageTable.Free)
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	c.m.idle = append(c.m.idle, c)
}

func (m *Machine) sharedPage(va uint64) []byte { return m.Mem.Page(m.shared[va]) }

func (c *VCPU) page(va uint64) []byte {
	if pa, ok := c.own[va]; ok {
		return c.m.Mem.Page(pa)
	}
	return c.m.sharedPage(va)
}

func (c *VCPU) area(va, size uint64) []byte { return c.m.Mem.Slice(c.own[va], size) }

// Close releases the VM and its memory.
func (m *Machine) Close() {
	if m.vdso != nil {
		close(m.vdso.stop)
		<-m.vdso.done // it writes the vvar page: not after the memory goes
	}
	m.stopSpares() // before the VM: the goroutine may be making one on it
	m.stopFast()   // it reads the vCPUs' fast areas
	if m.Mem != nil {
		m.Mem.SlotsReady() // StartSlots' goroutine is done with the VM's fd
	}
	for _, c := range m.all {
		c.CPU.Close()
	}
	// The VM before its memory: its end deletes the memory's slots
	// (ept's closeAll leaves them to it).
	if m.vm != nil {
		m.vm.Close()
	}
	if m.Mem != nil {
		m.Mem.Close()
	}
	m.h.Close()
}

// buildKernelHalf makes the vCPU's kernel-half tables: the shared and its
// own shim pages and the direct map. Every address space the vCPU runs
// links them into its root (ept.PageTable.Attach); they never change.
func (c *VCPU) buildKernelHalf() error {
	kpt, err := ept.NewPageTable(c.m.Mem, c.Flush, boot.DirectMap)
	if err != nil {
		return err
	}
	for _, p := range shimPages {
		frames := c.m.shared
		if p.perCPU {
			frames = c.own
		}
		for i := 0; i < p.pages; i++ {
			va := p.va + uint64(i)*ept.PageSize
			if err := kpt.Map(va, frames[va], p.flags|ept.PTEAccessed); err != nil {
				return err
			}
		}
	}
	for pa := uint64(0); pa < c.m.Mem.Reserved(); pa += ept.HugePageSize {
		if err := kpt.MapHuge(boot.DirectMap+pa, pa, ept.PTEWritable|ept.PTENoExec|ept.PTEDirty); err != nil {
			return err
		}
	}
	c.kernel = kpt
	for _, f := range kpt.TableFrames() {
		c.kernelSnap = append(c.kernelSnap, tableSnap{f, append([]byte(nil), c.m.Mem.Page(f)...)})
	}
	return nil
}

// NewAddressSpace returns empty page tables (the user half) with a root for
// vCPU c attached: the kernel half is c's. The guest memory manager fills
// the user half.
func (c *VCPU) NewAddressSpace() (*ept.PageTable, error) {
	pt, err := ept.NewPageTable(c.m.Mem, c.Flush, boot.DirectMap)
	if err != nil {
		return nil, err
	}
	if _, err := c.join(pt); err != nil {
		pt.Free()
		return nil, err
	}
	return pt, nil
}

// join attaches a root for c to pt and makes it c's root for pt (the next
// load or Switch uses it).
func (c *VCPU) join(pt *ept.PageTable) (*ept.Root, error) {
	r, err := pt.Attach(c.kernel.Root())
	if err != nil {
		return nil, err
	}
	c.roots[pt] = r
	return r, nil
}

// rootFor returns c's root for pt.
func (c *VCPU) rootFor(pt *ept.PageTable) PageTables {
	if r := c.roots[pt]; r != nil && r.Root() != 0 {
		return r
	}
	return pt // not attached: tests that build tables by hand
}

func segment(sel uint16, code bool) kvm.Segment {
	s := kvm.Segment{Selector: sel, Limit: 0xffffffff, Present: 1, S: 1, G: 1, DPL: uint8(sel & 3)}
	if code {
		s.Typ, s.L = 11, 1
	} else {
		s.Typ, s.DB = 3, 1
	}
	return s
}

// load loads the processor state: long mode with the given page tables,
// CPL 0 at the boot stub, whose iretq enters user mode at rip with rsp.
func (c *VCPU) load(pt PageTables, rip, rsp uint64) error {
	return c.loadBases(pt, rip, rsp, 0, 0)
}

// loadBases is load with FS.base fs and GS.base gs, in the same
// KVM_SET_MSRS (a task's start: one host call less, ~30 µs on PVM).
func (c *VCPU) loadBases(pt PageTables, rip, rsp, fs, gs uint64) error {
	// Before any state: KVM checks CR4 (UMIP below) and more against the
	// vCPU's CPUID, and takes a new table only before the first KVM_RUN.
	if err := c.CPU.setCPUID(); err != nil {
		return err
	}
	// Nor does a vCPU run before RAM's first slot is there (StartSlots).
	if err := c.m.Mem.SlotsReady(); err != nil {
		return err
	}
	s, err := c.CPU.Sregs()
	if err != nil {
		return fmt.Errorf("KVM_GET_SREGS: %w", err)
	}
	s.CS = segment(boot.KernelCS, true)
	s.DS = segment(boot.KernelDS, false)
	s.ES, s.SS = s.DS, s.DS
	s.FS, s.GS = s.DS, s.DS
	s.FS.Selector, s.GS.Selector = 0, 0
	s.TR = kvm.Segment{Base: boot.TSSAddr, Limit: boot.TSSLimit, Selector: boot.TSSSel, Typ: 11, Present: 1}
	s.LDT = kvm.Segment{Limit: 0xffff, Typ: 2, Present: 1}
	s.GDT = kvm.Descriptor{Base: boot.GDTAddr, Limit: boot.GDTLimit}
	s.IDT = kvm.Descriptor{Base: boot.IDTAddr, Limit: boot.IDTLimit}
	s.CR0 = cr0PE | cr0MP | cr0ET | cr0NE | cr0WP | cr0AM | cr0PG
	s.CR4 = cr4PAE | cr4OSFXSR | cr4OSXMMEXCPT
	s.CR3 = pt.Root()
	s.EFER = eferSCE | eferLME | eferLMA | eferNXE
	if !c.m.umipTried {
		// Probe once: the CPUID may offer UMIP where the hypervisor
		// still refuses the CR4 bit.
		c.m.umipTried = true
		if c.m.h.hasUMIP() {
			s.CR4 |= cr4UMIP
			c.m.umip = c.CPU.SetSregs(s) == nil
			s.CR4 &^= cr4UMIP
		}
	}
	if c.m.umip {
		s.CR4 |= cr4UMIP
	}
	if err := c.CPU.SetSregs(s); err != nil {
		return fmt.Errorf("KVM_SET_SREGS (entering long mode): %w", err)
	}
	atomic.StoreUint64(&c.cr3, s.CR3)
	if err := c.CPU.SetMSRs(map[uint32]uint64{
		msrSTAR:         boot.STAR,
		msrLSTAR:        c.lstar(),
		msrCSTAR:        0,
		msrSFMASK:       sfmask,
		msrFSBase:       fs,
		msrGSBase:       gs,
		msrKernelGSBase: 0,
	}); err != nil {
		return err
	}
	c.arch.fsBase, c.arch.gsBase, c.arch.unloaded = fs, gs, false
	r, err := c.CPU.Regs()
	if err != nil {
		return err
	}
	*r = kvm.Regs{RIP: rip, RSP: rsp, RFLAGS: UserFlags}
	c.iretTo(r)
	c.CPU.MarkDirty()
	return nil
}

// PageTables is what the machine needs of an address space.
type PageTables interface{ Root() uint64 }
