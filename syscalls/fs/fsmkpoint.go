// fsmkpoint.go: the OCI runtime's mount points. runc creates a mount's
// missing parent directories and mount point before it mounts; an image
// need not have them (a volume at /data/x in an image without /data).
//
// Invariants:
//   - Only when asked (Files.MakeParents: the OCI runtime, whose rootfs
//     is the container's; never `kshim run`, whose root may be the
//     host's /), once at set-up, as kshim's host identity before it
//     confines itself.
//   - Each directory is made in the mount that holds it (the root's host
//     directory, or a bind mount's: runc's mkdir goes through the mounts
//     made before, as here; a tmpfs's own are furnish's), one component
//     at a time with openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS from
//     that mount's root: nothing outside it is made or followed. A
//     symlink on the way stops it (the mount is then refused as before,
//     checkMountPoints), and so does any error.
package fs

import (
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"kshim/syscalls/fs/mount"
)

// makeParents makes the missing parent directories of each mount, and
// its mount point (a directory, or an empty file for a bind of a file),
// so that its parent lists it.
func (fs *fsContext) makeParents() {
	for _, m := range fs.ns.table.Mounts()[1:] {
		pm, rel := fs.ns.table.Find(path.Dir(m.Dest))
		rel = path.Join(rel, path.Base(m.Dest))
		var base int
		switch pm.Kind {
		case mount.Root:
			base = fs.Root
		case mount.Bind:
			hm := fs.ns.hosts[pm]
			if !hm.dir {
				continue
			}
			base = hm.fd
		default:
			continue // a tmpfs: furnish made them; /proc, /sys are kshim's
		}
		d, err := unix.FcntlInt(uintptr(base), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			continue
		}
		comps := strings.Split(rel, "/")
		for i, c := range comps {
			if i == len(comps)-1 {
				if hm := fs.ns.hosts[m]; hm != nil && !hm.dir {
					if fd, err := unix.Openat(d, c, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644); err == nil {
						unix.Close(fd)
					}
				} else {
					_ = unix.Mkdirat(d, c, 0o755)
				}
				break
			}
			if err := unix.Mkdirat(d, c, 0o755); err != nil && err != unix.EEXIST {
				break
			}
			nd, err := Openat2(d, c, unix.O_PATH|unix.O_DIRECTORY, 0, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
			unix.Close(d)
			if d = nd; err != nil {
				break
			}
		}
		if d >= 0 {
			unix.Close(d)
		}
	}
}
