// kvmstats.go: KVM's own counters for `run --stats` (KVM_GET_STATS_FD,
// Linux 5.14): what the hypervisor did that kshim never sees. On a
// shadow-paging host a program's first touch of each page is a fault the
// hypervisor fixes itself (python3 -c pass on this PVM host: 1161 such,
// 1715 hypervisor exits and 658 instructions emulated, against 31 faults
// and 81 exits that reached kshim); on a nested-paging host those are
// its TDP faults. Read once, when the guest has ended,
// from every vCPU the machine made (none is closed before the machine).
//
// Invariants: the counters are the kernel's, read-only; a host without
// binary statistics (or a vCPU whose read fails) reports none, never a
// guess.
package vmm

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// ioctlGetStatsFD is KVM_GET_STATS_FD (_IO(KVMIO, 0xce)): a read-only fd
// of the vCPU's binary statistics.
const ioctlGetStatsFD = 0xaece

// HypervisorCounters are the KVM counters `run --stats` reports, by
// KVM's names, in this order: exits of every kind (those to kshim among
// them), the page faults KVM took (pf_taken) and fixed itself (pf_fixed:
// a shadow MMU's or nested paging's, no exit to kshim), found spurious,
// emulated, or gave the guest (pf_guest: kshim's #PF path); instructions
// emulated; TLB flushes and invlpgs.
var HypervisorCounters = []string{"exits", "pf_taken", "pf_fixed", "pf_spurious", "pf_emulate", "pf_guest",
	"insn_emulation", "tlb_flush", "invlpg"}

// Layout of the statistics (linux/kvm.h): struct kvm_stats_header, then
// struct kvm_stats_desc each with a name of name_size bytes.
const (
	statsHeaderSize = 24
	statsDescSize   = 16
	statsTypeMask   = 0xf // KVM_STATS_TYPE_*: 0 cumulative
)

// kvmCounters reads the vCPU's HypervisorCounters it has; nil when the
// host has no binary statistics.
func (c *CPU) kvmCounters() map[string]uint64 {
	fd, _, e := unix.Syscall(unix.SYS_IOCTL, c.fd, ioctlGetStatsFD, 0)
	if e != 0 {
		return nil
	}
	defer unix.Close(int(fd))
	le := binary.LittleEndian
	var hdr [statsHeaderSize]byte
	if n, err := unix.Pread(int(fd), hdr[:], 0); err != nil || n != len(hdr) {
		return nil
	}
	nameSize, num := le.Uint32(hdr[4:]), le.Uint32(hdr[8:])
	descOff, dataOff := le.Uint32(hdr[16:]), le.Uint32(hdr[20:])
	step := statsDescSize + uint64(nameSize)
	if num == 0 || num > 4096 || nameSize == 0 || nameSize > 256 {
		return nil
	}
	descs := make([]byte, uint64(num)*step)
	if n, err := unix.Pread(int(fd), descs, int64(descOff)); err != nil || n != len(descs) {
		return nil
	}
	want := map[string]bool{}
	for _, name := range HypervisorCounters {
		want[name] = true
	}
	out := map[string]uint64{}
	for i := uint64(0); i < uint64(num); i++ {
		d := descs[i*step : (i+1)*step]
		flags, size, off := le.Uint32(d[0:]), le.Uint16(d[6:]), le.Uint32(d[8:])
		name := cString(d[statsDescSize:])
		if !want[name] || size != 1 || flags&statsTypeMask != 0 {
			continue
		}
		var v [8]byte
		if n, err := unix.Pread(int(fd), v[:], int64(dataOff)+int64(off)); err != nil || n != len(v) {
			return nil
		}
		out[name] = le.Uint64(v[:])
	}
	return out
}

// cString is b up to its first NUL.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// hypervisorCounters sums the vCPUs' counters; nil when the host has
// none.
func (m *Machine) hypervisorCounters() map[string]uint64 {
	m.mu.Lock()
	all := append([]*VCPU(nil), m.all...)
	m.mu.Unlock()
	var sum map[string]uint64
	for _, c := range all {
		got := c.CPU.kvmCounters()
		if got == nil {
			return nil // all or none: a partial sum would mislead
		}
		if sum == nil {
			sum = map[string]uint64{}
		}
		for k, v := range got {
			sum[k] += v
		}
	}
	return sum
}
