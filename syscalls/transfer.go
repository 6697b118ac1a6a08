// transfer.go: copies the host kernel makes between two of the guest's
// fds without the data passing through guest memory: copy_file_range,
// splice and tee.
//
// Invariants:
//   - Both fds are the guest's host fds, checked for their direction as
//     read and write check them (ioFD: kshim's /proc files are read-only;
//     one read from is generated anew as a read would, fs.ProcSeq),
//     so nothing is written that a write could not write; the host kernel
//     applies the rest of Linux's rules (flags, pipes, file types, the
//     open modes) to its own fds and gives Linux's errors.
//   - The offsets are the guest's loff_t values, copied in before the call
//     (EFAULT) and back after it, as the kernel's copy_from_user and
//     copy_to_user around the copy do; a pipe with an offset is ESPIPE
//     before the offset is read (splice).
//   - A splice or tee that would block on a pipe or socket first waits in
//     kernel's WaitReady (POLLIN on the source, POLLOUT on the sink), as
//     read and write do, so a signal interrupts it (restart or EINTR);
//     SPLICE_F_NONBLOCK does not wait.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

// offsetIn reads the loff_t at addr (nil for a null pointer).
func offsetIn(p *kernel.Process, addr uint64) (*int64, error) {
	if addr == 0 {
		return nil, nil
	}
	var b [8]byte
	if _, err := p.MM.CopyIn(addr, b[:]); err != nil {
		return nil, unix.EFAULT
	}
	v := int64(abi.Le64(b[:]))
	return &v, nil
}

// offsetOut writes an advanced offset back.
func offsetOut(p *kernel.Process, addr uint64, v *int64) error {
	if addr == 0 || v == nil {
		return nil
	}
	var b [8]byte
	abi.Put64(b[:], uint64(*v))
	if _, err := p.MM.CopyOut(addr, b[:]); err != nil {
		return unix.EFAULT
	}
	return nil
}

func isPipe(h int) bool {
	var st unix.Stat_t
	return unix.Fstat(h, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO
}

// transferAt serves the calls of the form (fd_in, off_in, fd_out, off_out,
// ...): the guest's fds to host fds, check (may be nil) on them, the
// offsets read from guest memory, call, and the offsets written back.
func transferAt(p *kernel.Process, a *args, check func(in, out int, seq *fs.ProcSeq) error,
	call func(in int, offIn *int64, out int, offOut *int64) (int, error)) (uint64, error) {
	in, seq, err := ioFile(p, a[0], false)
	if err != nil {
		return 0, err
	}
	out, err := ioFD(p, a[2], true)
	if err != nil {
		return 0, err
	}
	if check != nil {
		if err := check(in, out, seq); err != nil {
			return 0, err
		}
	}
	offIn, err := offsetIn(p, a[1])
	if err != nil {
		return 0, err
	}
	offOut, err := offsetIn(p, a[3])
	if err != nil {
		return 0, err
	}
	off := int64(-1)
	if offIn != nil {
		off = *offIn
		if off < 0 {
			seq = nil // the host's EINVAL, before any read
		}
	}
	// A /proc file read from may be generated anew first (io.go seqRead).
	n, err := seqRead(p, seq, in, off, a[4], func() (uint64, error) {
		n, err := call(in, offIn, out, offOut)
		return uint64(max(n, 0)), err
	})
	if err != nil {
		return 0, err
	}
	if err := offsetOut(p, a[1], offIn); err != nil {
		return 0, err
	}
	return uint64(n), offsetOut(p, a[3], offOut)
}

// copy_file_range(fd_in, off_in, fd_out, off_out, len, flags).
func sysCopyFileRange(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return transferAt(p, a, nil, func(in int, offIn *int64, out int, offOut *int64) (int, error) {
		return unix.CopyFileRange(in, offIn, out, offOut, int(min(a[4], fs.MaxRW)), int(uint32(a[5])))
	})
}

// splice(fd_in, off_in, fd_out, off_out, len, flags): an offset for a
// pipe end is ESPIPE; the wait for the pipe is the guest's (waitTransfer).
func sysSplice(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	check := func(in, out int, seq *fs.ProcSeq) error {
		if (a[1] != 0 && isPipe(in)) || (a[3] != 0 && isPipe(out)) {
			return unix.ESPIPE
		}
		if seq != nil && !seq.Splices() {
			return unix.EINVAL // a /proc file without splice_read
		}
		return nil
	}
	return transferAt(p, a, check, func(in int, offIn *int64, out int, offOut *int64) (int, error) {
		if err := waitTransfer(p, in, out, a[5]); err != nil {
			return 0, err
		}
		n, err := unix.Splice(in, offIn, out, offOut, int(min(a[4], fs.MaxRW)), int(uint32(a[5])))
		return int(n), err
	})
}

// tee(fd_in, fd_out, len, flags).
func sysTee(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	in, err := ioFD(p, a[0], false)
	if err != nil {
		return 0, err
	}
	out, err := ioFD(p, a[1], true)
	if err != nil {
		return 0, err
	}
	if err := waitTransfer(p, in, out, a[3]); err != nil {
		return 0, err
	}
	n, err := unix.Tee(in, out, int(min(a[2], fs.MaxRW)), int(uint32(a[3])))
	return uint64(max(n, 0)), err
}

// waitTransfer waits until a blocking splice or tee could make progress
// (its source readable, its sink writable) or a signal comes.
func waitTransfer(p *kernel.Process, in, out int, flags uint64) error {
	if flags&unix.SPLICE_F_NONBLOCK != 0 {
		return nil
	}
	if err := p.WaitReady(in, unix.POLLIN); err != nil {
		return err
	}
	return p.WaitReady(out, unix.POLLOUT)
}

func init() {
	table[unix.SYS_COPY_FILE_RANGE] = sysCopyFileRange
	table[unix.SYS_SPLICE] = sysSplice
	table[unix.SYS_TEE] = sysTee
}
