// diag.go: what the VMM can tell about a vCPU that failed in a way that
// leaves no guest state behind. On SVM a triple fault is a shutdown
// intercept after which KVM resets the vCPU (RIP 0xfff0, CR3 0), so the
// report is built from the VMM's side: the root it last loaded, the
// shim's pages every exception needs (a triple fault means even #DF could
// not be delivered: its IDT, GDT, TSS, IST stack or stub was unreachable
// or broken), and the vCPU's last exits.
//
// KSHIM_CHECK_VCPU=1 in kshim's environment (a diagnostic, read once per
// machine) checks the same before every KVM_RUN and fails the run at the
// first entry into a broken state, naming it.
//
// Invariants: nothing here changes guest memory or vCPU state; the checks
// read the VMM's view only.
package vmm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"kshim/boot"
	"kshim/ept"
)

// exitRec is one exit in a vCPU's trail (the last trailLen).
type exitRec struct {
	reason uint32
	port   uint16
	entry  uint64 // RIP the run entered at; the next two: 0 without KVM's sync registers
	rip    uint64 // RIP of the exit
	cr3    uint64 // the root the VMM had loaded
	task   int    // guest tid
	// An exception exit's frame: vector, error code, CR2, faulting RIP.
	vec, code, cr2, frip uint64
}

// tableSnap is a kernel-half table frame's content as built.
type tableSnap struct {
	frame uint64
	b     []byte
}

const trailLen = 8

var checkVCPU = os.Getenv("KSHIM_CHECK_VCPU") == "1"

// note records an exit in c's trail.
func (c *VCPU) note(reason uint32, tid int) {
	e := exitRec{reason: reason, cr3: atomic.LoadUint64(&c.cr3), task: tid}
	if reason == exitIO {
		_, _, e.port = c.CPU.IO()
	}
	if c.CPU.sync {
		e.rip, e.entry = c.CPU.regs.RIP, c.entryRIP
		if e.port == boot.PortException {
			if rsp := c.CPU.regs.RSP; rsp >= boot.IST1Bottom && rsp+frSize <= boot.IST2Top {
				f := c.ists[rsp-boot.IST1Bottom:]
				e.vec, e.code, e.cr2, e.frip = getU64(f[frVector:]), getU64(f[frError:]), getU64(f[frCR2:]), getU64(f[frRIP:])
			}
		}
	}
	c.trail[c.trailN%trailLen] = e
	c.trailN++
}

// stateProblems lists what is wrong with the shim's state as vCPU c
// would enter the guest now; empty when nothing is.
func (c *VCPU) stateProblems() []string {
	var bad []string
	m := c.m
	cr3 := atomic.LoadUint64(&c.cr3)
	if cr3 == 0 {
		bad = append(bad, "no root loaded")
	} else {
		if m.Mem.Refs(cr3) == 0 {
			bad = append(bad, fmt.Sprintf("root %#x is a freed frame", cr3))
		}
		root, kroot := m.Mem.Page(cr3), m.Mem.Page(c.kernel.Root())
		if !bytes.Equal(root[2048:], kroot[2048:]) {
			n := 0
			for i := 2048; i < 4096; i += 8 {
				if binary.LittleEndian.Uint64(root[i:]) != binary.LittleEndian.Uint64(kroot[i:]) {
					n++
				}
			}
			bad = append(bad, fmt.Sprintf("root %#x: %d kernel-half entries differ from the vCPU's kernel half", cr3, n))
		}
		attached := false
		for _, r := range c.roots {
			if r.Root() == cr3 {
				attached = true
			}
		}
		if !attached {
			bad = append(bad, fmt.Sprintf("root %#x is none of the vCPU's attached roots", cr3))
		}
	}
	kernel, user := boot.Stubs()
	for _, p := range []struct {
		name string
		va   uint64
		want []byte
	}{{"kernel stubs", boot.KernelText, kernel}, {"user stubs", boot.UserText, user}, {"IDT", boot.IDTAddr, boot.IDT()}} {
		if m.Mem.Refs(m.shared[p.va]) == 0 {
			bad = append(bad, fmt.Sprintf("%s frame %#x is freed", p.name, m.shared[p.va]))
		}
		if !bytes.Equal(m.sharedPage(p.va)[:len(p.want)], p.want) {
			bad = append(bad, fmt.Sprintf("%s (frame %#x) changed", p.name, m.shared[p.va]))
		}
	}
	// The GDT with the accessed and busy bits masked (the CPU sets them).
	gdt, want := c.page(boot.GDTAddr), boot.GDT()
	for i := 0; i+8 <= len(want); i += 8 {
		const mask = ^uint64(3 << 40)
		if binary.LittleEndian.Uint64(gdt[i:])&mask != binary.LittleEndian.Uint64(want[i:])&mask {
			bad = append(bad, fmt.Sprintf("GDT entry %d is %#x", i/8, binary.LittleEndian.Uint64(gdt[i:])))
		}
	}
	// Every table of the kernel half, accessed and dirty bits aside.
	for _, t := range c.kernelSnap {
		now := m.Mem.Page(t.frame)
		for i := 0; i < len(now); i += 8 {
			const mask = ^uint64(ept.PTEAccessed | ept.PTEDirty)
			if binary.LittleEndian.Uint64(now[i:])&mask != binary.LittleEndian.Uint64(t.b[i:])&mask {
				bad = append(bad, fmt.Sprintf("kernel-half table %#x entry %d is %#x (built %#x)", t.frame, i/8,
					binary.LittleEndian.Uint64(now[i:]), binary.LittleEndian.Uint64(t.b[i:])))
				break
			}
		}
	}
	tss := boot.TSS()
	if !bytes.Equal(c.area(boot.TSSAddr, uint64(len(tss))), tss) {
		bad = append(bad, "TSS changed")
	}
	for va, pa := range c.own {
		if m.Mem.Refs(pa) == 0 {
			bad = append(bad, fmt.Sprintf("own page %#x (frame %#x) is freed", va, pa))
		}
	}
	return bad
}

// shutdownReport describes c after a triple fault (KVM has reset it).
func (c *VCPU) shutdownReport() string {
	var b strings.Builder
	if bad := c.stateProblems(); len(bad) > 0 {
		fmt.Fprintf(&b, "; shim state now: %s", strings.Join(bad, "; "))
	} else {
		fmt.Fprintf(&b, "; shim state now: root %#x and the shim's pages intact", atomic.LoadUint64(&c.cr3))
	}
	b.WriteString("; last exits (oldest first):")
	for i := c.trailN - min(c.trailN, trailLen); i < c.trailN; i++ {
		e := c.trail[i%trailLen]
		fmt.Fprintf(&b, " [reason %d port %#x entry %#x rip %#x cr3 %#x tid %d", e.reason, e.port, e.entry, e.rip, e.cr3, e.task)
		if e.port == boot.PortException && e.reason == exitIO {
			fmt.Fprintf(&b, " vector %d error %#x cr2 %#x at %#x", e.vec, e.code, e.cr2, e.frip)
		}
		b.WriteString("]")
	}
	return b.String()
}
