// tmpfile.go: memfd_create, an anonymous file in memory.
//
// A guest memfd is a host memfd: read, write, mmap (shared mappings are
// the host's page cache, as any file's), ftruncate, fcntl seals and
// /proc/self/fd work on it as on any host fd. Its name is the guest's
// (Linux's limit: 249 bytes, else EINVAL); the flags are checked by the
// host, with MFD_CLOEXEC kept as the guest's FD_CLOEXEC (the host fd is
// always close-on-exec).
//
// Invariants:
//   - The file is kshim-made (origin FromKshim): the guest may change it
//     whatever --rw says, as it is no file of the root.
//   - Its pages are host memory not charged to --mem, as the files a
//     guest writes with --rw are disk not charged to anything (README,
//     "Threat model", not covered).
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

const mfdNameMax = 249 // NAME_MAX less "memfd:"

// memfd_create(name, flags).
func sysMemfdCreate(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	name, err := p.MM.ReadString(a[0], mfdNameMax+1)
	switch {
	case err == unix.ENAMETOOLONG:
		return 0, unix.EINVAL
	case err != nil:
		return 0, unix.EFAULT
	}
	flags := int(uint32(a[1]))
	h, err := unix.MemfdCreate(name, flags|unix.MFD_CLOEXEC)
	if err != nil {
		return 0, err
	}
	fd, err := p.NewFD(h, flags&unix.MFD_CLOEXEC != 0, &fs.OpenFile{Kind: fs.KindHost})
	if err != nil {
		unix.Close(h)
		return 0, err
	}
	return fd, nil
}

func init() {
	table[unix.SYS_MEMFD_CREATE] = sysMemfdCreate
}
