// fsguard.go: an OCI config's linux.maskedPaths and linux.readonlyPaths
// as mounts of the guest's table (syscalls/fs/mount Cover, Insert), with
// runc's meaning: a masked file is a bind of the host's /dev/null, a
// masked directory an empty read-only tmpfs, a read-only path a read-only
// bind of itself.
//
// Invariants:
//   - They are applied once, at set-up (SetFiles, after the config's
//     mounts and before the guest runs), read-only paths first, then the
//     masks (runc's order); each path is resolved in the guest's tree as
//     mount(2) resolves a target (symlinks followed, in the guest's
//     root), so the mount is where the guest then finds the path. A path
//     that is not there (ENOENT) is left alone, as runc leaves it; any
//     other error, a path of kshim's own files (its /proc, /sys, devpts,
//     the devices it serves), or a relative path fails the set-up: the
//     container is not created, rather than run unguarded. A read-only
//     path of kshim's own that no write changes (ProcNode.ReadOnly:
//     /proc/sys) holds already and is left alone.
//   - The mounts are Guarded: the guest cannot take them away (it has no
//     mount or umount), unlink or rename them (mount points: EBUSY), nor
//     rename a directory above them or any mount (Guards: EBUSY; the
//     table follows no rename, so what is guarded, or what a tmpfs
//     hides, would show at the new name). Lookups
//     through ".." and /proc/self/fd stay in the mount the walk records
//     (fsmount.go), which decides EROFS and EXDEV.
//   - Nothing found by a host path skips the table (fspath.go): the
//     VMM's cwd is looked up again by its guest path (cwdThroughMounts),
//     FindInRoot refuses a name at or below a mount point, and
//     /proc/PID/exe is reopened by its guest path (kernel's OpenExeAt).
//   - A masked file's files are devices (Origin FromDevice, walked): the
//     host's /dev/null never changes (chmod, chown, utimes, xattrs are
//     EPERM), whatever identity the guest runs as.
//   - A read-only bind's host side is a detached read-only host mount of
//     the very file the walk found (readOnlyClone), which the sandbox
//     grants read-only by kshim's fd of it (MountRules, as a tmpfs); where
//     the host cannot make one (a file of a detached tmpfs), an O_PATH fd
//     of that file, inside a tree the sandbox grants already (no rule of
//     its own), and kshim's checks alone make it read-only.
package fs

import (
	"fmt"
	"path"

	"golang.org/x/sys/unix"

	"kshim/syscalls/fs/mount"
)

// guardPaths applies readonly and masked (see the invariants).
func (p *Task) guardPaths(c Files) error {
	for _, g := range c.ReadonlyPaths {
		if err := p.guardPath(c, g, false); err != nil {
			return err
		}
	}
	for _, g := range c.MaskedPaths {
		if err := p.guardPath(c, g, true); err != nil {
			return err
		}
	}
	return nil
}

// guardPath masks guest path g (mask) or makes it read-only.
func (p *Task) guardPath(c Files, g string, mask bool) error {
	what := "linux.readonlyPaths"
	if mask {
		what = "linux.maskedPaths"
	}
	if g == "" || g[0] != '/' {
		return fmt.Errorf("%s: %q is not an absolute path", what, g)
	}
	r, err := p.LookupAbs(g, unix.O_PATH, 0)
	if err == unix.ENOENT {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %v", what, g, err)
	}
	defer r.Close()
	if !mask && r.Node != nil && r.Node.ReadOnly {
		return nil // nothing there takes a write (kshim's /proc/sys)
	}
	if r.Node != nil || r.Origin != FromRoot || r.Guest == "" || r.Guest[0] != '/' {
		return fmt.Errorf("%s: %s is kshim's own (its /proc, /sys, devpts or a device it serves): kshim cannot guard it", what, g)
	}
	var st unix.Stat_t
	if err := unix.Fstat(r.FD, &st); err != nil {
		return fmt.Errorf("%s: %s: %v", what, g, err)
	}
	dest := path.Clean(r.Guest)
	ns := p.FS.ns
	parent := ns.table.Root()
	if r.Mnt != nil {
		parent = r.Mnt.Mount
	}
	m := &mount.Mount{Dest: dest, Atime: parent.Atime, UID: -1, GID: -1, Mode: 0o1777,
		NoSuid: parent.NoSuid, NoDev: parent.NoDev, NoExec: parent.NoExec}
	hm := &HostMount{Mount: m, fd: -1, granted: true}
	fail := func(err error) error {
		if hm.fd >= 0 {
			unix.Close(hm.fd)
		}
		return fmt.Errorf("%s: %s: %v", what, g, err)
	}
	switch {
	case mask && st.Mode&unix.S_IFMT == unix.S_IFDIR:
		// runc's: an empty read-only tmpfs with the defaults.
		m.Kind, m.ReadOnly, m.Atime = mount.Tmpfs, true, "relatime"
		m.NoSuid, m.NoDev, m.NoExec = false, false, false
		m.Spec = mount.Spec{Type: "tmpfs", Source: "tmpfs", Destination: dest, Options: []string{"ro"}}
		hm.granted = false // its rule is its root's fd
		if err := hm.openTmpfs(c); err != nil {
			return fail(err)
		}
	case mask:
		// runc's: a bind of /dev/null (reads are empty, writes go nowhere).
		m.Kind, m.Source, m.Atime = mount.Bind, "/dev/null", "relatime"
		m.NoSuid, m.NoDev, m.NoExec = false, false, false
		m.Spec = mount.Spec{Type: "bind", Source: "/dev/null", Destination: dest, Options: []string{"bind"}}
		if err := hm.openNull(); err != nil {
			return fail(err)
		}
	default:
		m.Kind, m.ReadOnly, m.Recursive = mount.Bind, true, true
		m.Spec = mount.Spec{Type: "bind", Source: dest, Destination: dest, Options: []string{"rbind", "ro"}}
		hm.dir = st.Mode&unix.S_IFMT == unix.S_IFDIR
		hostPath, err := HostPathOf(r.FD)
		if err != nil {
			return fail(err)
		}
		m.Source = hostPath
		hm.info = hostInfo(r.FD, hostPath)
		if r.Mnt != nil && r.Mnt.Kind == mount.Tmpfs {
			// A directory of a tmpfs: its file system, its root there.
			hm.info.Source, hm.info.FSType, hm.info.SuperOpts = r.Mnt.info.Source, "tmpfs", ""
			if rel, ok := relTo(hostPath, r.Mnt.hostRoot); ok {
				hm.info.FSRoot = path.Join("/", rel)
			}
		}
		if hm.fd = readOnlyClone(r.FD, m); hm.fd >= 0 {
			// The host refuses writes too; the sandbox grants its root
			// by kshim's fd, as a tmpfs's.
			hm.granted, hm.clone = false, true
			if hm.hostRoot, err = HostPathOf(hm.fd); err != nil {
				hm.hostRoot = "/"
			}
		} else {
			if hm.fd, err = unix.FcntlInt(uintptr(r.FD), unix.F_DUPFD_CLOEXEC, 0); err != nil {
				return fail(err)
			}
			hm.hostRoot = hostPath
		}
	}
	if mask {
		if err := ns.table.Cover(m); err != nil {
			return fail(err)
		}
		ns.hosts[m] = hm
		if m.Kind == mount.Tmpfs {
			ns.tmpfs = append(ns.tmpfs, hm)
		}
		ns.dropHidden()
		return nil
	}
	got, err := ns.table.Insert(m)
	if err != nil {
		return fail(err)
	}
	if got != m {
		unix.Close(hm.fd) // the mount there became read-only
		return nil
	}
	ns.hosts[m] = hm
	return nil
}

// readOnlyClone is a detached read-only host mount of file fd (open_tree
// OPEN_TREE_CLONE, then mount_setattr; root only, and only of a mount of
// kshim's mount namespace), with m's nosuid, nodev and noexec: the
// read-only path's host side, so that the host refuses a write kshim's
// checks let through. -1 when the host cannot make one: then kshim's
// checks alone hold it, as any read-only bind.
func readOnlyClone(fd int, m *mount.Mount) int {
	// Recursive: the host's mounts below it are in the guest's view
	// (kshim's binds see them), and read-only with it.
	tfd, err := unix.OpenTree(fd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH|unix.AT_RECURSIVE)
	if err != nil {
		return -1
	}
	attr := uint64(unix.MOUNT_ATTR_RDONLY)
	for _, a := range []struct {
		on  bool
		bit uint64
	}{{m.NoSuid, unix.MOUNT_ATTR_NOSUID}, {m.NoDev, unix.MOUNT_ATTR_NODEV}, {m.NoExec, unix.MOUNT_ATTR_NOEXEC}} {
		if a.on {
			attr |= a.bit
		}
	}
	if err := unix.MountSetattr(tfd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: attr}); err != nil {
		unix.Close(tfd)
		return -1
	}
	return tfd
}

// openNull opens the host's /dev/null as a masked file's host side.
func (hm *HostMount) openNull() error {
	fd, err := unix.Open("/dev/null", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	hm.fd = fd
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		return fmt.Errorf("the host's /dev/null is not the null device")
	}
	hm.hostRoot, hm.null = "/dev/null", true
	hm.info = hostInfo(fd, hm.hostRoot)
	return nil
}

// dropHidden closes the host sides of the mounts a mask took out of the
// table.
func (ns *mountNS) dropHidden() {
	for m, hm := range ns.hosts {
		if ns.table.At(m.Dest) == m {
			continue
		}
		if hm.fd >= 0 {
			unix.Close(hm.fd)
			hm.fd = -1
		}
		delete(ns.hosts, m)
		for i, t := range ns.tmpfs {
			if t == hm {
				ns.tmpfs = append(ns.tmpfs[:i], ns.tmpfs[i+1:]...)
				break
			}
		}
	}
}

// guards says whether directory d's entry is above a masked or read-only
// path, or any other mount (see the invariants): rename must not move
// it.
func (fs *fsContext) guards(d *parentDir) bool {
	if fs.ns == nil || d.Node != nil || d.Special() || d.FD < 0 {
		return false
	}
	return fs.ns.table.Guards(path.Join(d.Guest, d.Name))
}
