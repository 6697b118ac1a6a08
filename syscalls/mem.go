// mem.go: memory syscalls, thin wrappers over guestmm.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/ept"
	"kshim/guestmm"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

func sysMmap(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	m := guestmm.MmapArgs{Addr: a[0], Len: a[1], Prot: int(a[2]), Flags: int(a[3]), Off: a[5], FD: -1}
	if m.Flags&unix.MAP_ANONYMOUS == 0 {
		h, err := p.HostFD(a[4])
		if err != nil {
			return 0, err
		}
		var st unix.Stat_t
		if err := unix.Fstat(h, &st); err != nil {
			return 0, err
		}
		// Linux's order: access mode first (EACCES), then whether the
		// file can be mapped at all (ENODEV).
		fl, err := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0)
		if err != nil {
			return 0, err
		}
		shared := m.Flags&(unix.MAP_SHARED|unix.MAP_PRIVATE) != unix.MAP_PRIVATE
		if fl&unix.O_ACCMODE == unix.O_WRONLY ||
			shared && m.Prot&unix.PROT_WRITE != 0 && fl&unix.O_ACCMODE != unix.O_RDWR {
			return 0, unix.EACCES
		}
		if shared && fl&unix.O_APPEND != 0 && m.Prot&unix.PROT_WRITE != 0 {
			return 0, unix.EACCES
		}
		e, _ := p.Entry(a[4])
		if e.File != nil && e.File.Kind == fs.KindProc {
			if e.File.PathOnly {
				return 0, unix.EBADF
			}
			// No seq_file has an mmap; the memfd's text changes under
			// a mapping at each re-read (fs.ProcSeq).
			return 0, unix.ENODEV
		}
		if e.File != nil && e.File.Mnt != nil && e.File.Mnt.NoExec {
			// A noexec mount (fs/fsmount.go): no PROT_EXEC now (EPERM)
			// nor later (mprotect's EACCES).
			if m.Prot&unix.PROT_EXEC != 0 {
				return 0, unix.EPERM
			}
			m.NoExec = true
		}
		if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(1, 5) {
			// /dev/zero: anonymous memory (shared /dev/zero is shared
			// anonymous memory, as in Linux). A private one keeps
			// /dev/zero as its file in /proc/PID/maps, as Linux's
			// vm_file: its name, device, inode and offset.
			if m.Flags&(unix.MAP_SHARED|unix.MAP_PRIVATE) == unix.MAP_PRIVATE {
				m.Name = p.FS.MapsName(h, e.File)
				m.Like = &ept.FileID{Dev: st.Dev, Ino: st.Ino}
			}
			m.Flags |= unix.MAP_ANONYMOUS
			return p.MM.Mmap(m)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return 0, unix.ENODEV
		}
		m.FD = h
		m.FDID, m.FDFlags = &ept.FileID{Dev: st.Dev, Ino: st.Ino}, fl
		m.File = e.File // /proc/PID/maps names it by this, when read
		if e.File == nil {
			// Only a mapping with no open file to name it by keeps a
			// name of its own; the readlink of /proc/self/fd/N it
			// takes (~3 µs here) was made at every file mmap.
			m.Name = fs.HostPath(h)
		}
	}
	return p.MM.Mmap(m)
}

func sysMunmap(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return 0, p.MM.Munmap(a[0], a[1])
}

func sysMprotect(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return 0, p.MM.Mprotect(a[0], a[1], int(a[2]))
}

func sysBrk(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.MM.Brk(a[0]), nil
}

func sysMadvise(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return 0, p.MM.Madvise(a[0], a[1], int(a[2]))
}

func sysMremap(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.MM.Mremap(a[0], a[1], a[2], int(a[3]), a[4])
}

func sysMsync(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return 0, p.MM.Msync(a[0], a[1], int(a[2]))
}

func sysMincore(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	vec, err := p.MM.Mincore(a[0], a[1])
	if err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(a[2], vec)
	return 0, err
}

func sysMlock(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	if r.RAX == unix.SYS_MLOCK2 && a[2]&^uint64(unix.MLOCK_ONFAULT) != 0 {
		return 0, unix.EINVAL
	}
	return 0, p.MM.Mlock(a[0], a[1], r.RAX != unix.SYS_MUNLOCK)
}

func sysMlockall(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	if a[0] == 0 || a[0]&^uint64(unix.MCL_CURRENT|unix.MCL_FUTURE|unix.MCL_ONFAULT) != 0 || a[0] == unix.MCL_ONFAULT {
		return 0, unix.EINVAL
	}
	current := a[0]&unix.MCL_CURRENT != 0 && a[0]&unix.MCL_ONFAULT == 0
	if err := p.MM.LockAll(current, a[0]&unix.MCL_FUTURE != 0); err != nil {
		return 0, unix.ENOMEM
	}
	return 0, nil
}
