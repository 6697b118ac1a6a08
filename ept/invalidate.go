// invalidate.go: the third page-table protocol, "host writes, frames
// invalidated" (flush.go): on a shadow MMU the VMM's own edit of a present
// entry is made visible without any guest code, by dropping the
// hypervisor's translations of the frame the entry used to map.
//
// The VMM's mappings of guest memory (the RAM memfd, the file windows) are
// MAP_SHARED, so MADV_DONTNEED on the VMM's view of a frame changes no byte
// of it (the pages stay in the memfd or the page cache) but makes KVM's MMU
// notifier zap every shadow entry that maps the frame, in every address
// space and on every vCPU, and flush their TLBs before the call returns.
// The next guest access to any of those pages is a shadow fault, on which
// the hypervisor walks the guest's tables again and finds the new entry.
// Measured on the PVM host: ~1.2 µs for one page, ~4 µs for a run of 16,
// against 50-75 µs for a guest flush (an injected vector and ~22 emulated
// instructions); but the VMM's view must then be faulted in again (~1 µs a
// page by write faults, ~0.4 µs by read faults where probeRefault allows
// them), so an operation invalidates at most
// FlushQueue's limit of frames (the guest flush's cost over one frame's,
// both measured by the probe) and queues guest writes beyond. Whether it
// works is measured at start-up, never assumed (vmm/pteprobe.go).
//
// Invariants: an entry's old frame is invalidated after the entry holds
// its new value and before any vCPU of the address space runs user code
// again (FlushQueue.Invalidate, at the end of the memory-manager operation
// and before every KVM_RUN of the vCPU that queued it). Invalidating a
// frame more often than needed only costs a shadow fault.
package ept

import (
	"slices"

	"golang.org/x/sys/unix"
)

// Invalidate drops the hypervisor's translations of the given frames
// (guest-physical, page aligned; RAM or file-window pages), each run of
// consecutive frames with one madvise. A window page whose window is gone
// needs nothing: releasing the window re-reserved its range, which dropped
// its translations already.
func (m *Memory) Invalidate(frames []uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.invalidateLocked(frames)
}

// invalidateLocked is Invalidate with m.mu held.
func (m *Memory) invalidateLocked(frames []uint64) error {
	slices.Sort(frames)
	for i := 0; i < len(frames); {
		start := frames[i]
		end := start + PageSize
		j := i + 1
		for ; j < len(frames); j++ {
			switch f := frames[j]; {
			case f < end: // a duplicate
				continue
			case f == end && (start >= m.files.base) == (f >= m.files.base) &&
				(start < m.files.base || (start-m.files.base)/WindowChunk == (f-m.files.base)/WindowChunk):
				end += PageSize
				continue
			}
			break
		}
		i = j
		var host []byte
		if start < m.files.base {
			if end > m.size {
				continue // not guest memory: nothing maps it
			}
			host = m.host[start:end]
		} else {
			g := (start - m.files.base) / WindowChunk
			if g >= uint64(len(m.files.slots)) || m.files.slots[g] == nil {
				continue
			}
			off := (start - m.files.base) % WindowChunk
			host = m.files.slots[g].host[off : off+(end-start)]
		}
		if err := unix.Madvise(host, unix.MADV_DONTNEED); err != nil {
			return err
		}
		// The VMM's own mapping back at once, in one call: left to the
		// guest's next touch, each page would cost a fault of the host
		// inside KVM's (~8 µs here against ~1 µs). Best effort: the
		// guest's touch would fault it in anyway. RAM by the probed
		// advice (probeRefault: read faults where they come back
		// writable); a file window only for reading: a write fault on a
		// shared file mapping would dirty the file's pages and touch its
		// mtime.
		adv := m.refault
		if start >= m.files.base {
			adv = unix.MADV_POPULATE_READ
		}
		_ = unix.Madvise(host, adv)
	}
	return nil
}
