// fsmount.go: the guest's mounts (syscalls/fs/mount's table) on the host:
// bind mounts of host directories and files, tmpfs, and the path walk
// that crosses between them.
//
// Invariants:
//   - Without mounts (the table holds only the root) nothing here runs: the
//     host resolves whole paths in the root (fspath.go).
//   - With mounts, kshim walks a path itself, because no host resolution
//     knows the guest's mount points. Every host call of the walk is
//     openat2 with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS (and no magic links)
//     on names that are no mount point, never "..", from a directory fd of
//     the mount being walked (a run of such names at once: a symlink among
//     them is ELOOP, and the walk goes on a component at a time up to it,
//     or opens the run less its last name when that last is the link), or
//     RESOLVE_IN_ROOT from a mount's root fd for a path kshim walked before,
//     or readlinkat of one such name in such a directory fd (which
//     follows nothing): so no host call reaches outside the
//     mount's host directory, whatever the guest's paths, symlinks, or
//     renames racing with the walk. ".." and symlinks are kshim's: ".."
//     from a mount's root leads to its mount point's parent, an absolute
//     symlink restarts at the guest's root, and more than 40 links is
//     ELOOP, as Linux.
//   - A resolved file records its mount (Resolved.Mnt, OpenFile.Mnt; nil is
//     the root): that, not the host file system, decides EROFS (ro), EXDEV
//     (rename and link between two mounts, as between any two of Linux's),
//     nodev and noexec, since two mounts may be the same host directory.
//   - A mount's host side is opened once, at set-up (SetFiles), before
//     kshim confines itself, and shared by every process (fork takes a
//     reference; the last close frees them): a bind mount is an O_PATH fd
//     of its host source; a tmpfs a detached tmpfs of the host
//     (fsopen/fsmount, which needs root), in no host mount namespace, gone
//     with its last fd. A tmpfs's pages are charged to --mem by use, as
//     Linux charges them to a memory cgroup: TmpfsUsage brings each
//     mount's charge (HostMount.charged, under mountNS.mu) to what the
//     host tmpfs holds, after every syscall that can change it; the host
//     tmpfs's own size limit gives ENOSPC. The sandbox grants kshim exactly the mounts'
//     host paths (MountRules).
//   - /proc and the served devices are kshim's whatever is mounted: the
//     table refuses mounts there, and the walk hands them over when it
//     reaches them (by a symlink too). A mount of type mqueue has no host
//     side either: the walk hands the names below it to LookupMqueue. A
//     host mqueue file system the walk reaches is EACCES, and a creating
//     open there is refused before the host call (inHostMqueue).
package fs

import (
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
	"kshim/syscalls/abi"
	"kshim/syscalls/fs/mount"
)

// HostMount is one mount of the table with its host side.
type HostMount struct {
	*mount.Mount
	fd       int    // O_PATH: the mount's root (a directory, or a file for a bind of one)
	hostRoot string // the host kernel's name for fd
	dir      bool
	info     mount.Info
	charged  uint64 // a tmpfs's bytes charged to --mem (mountNS.mu)
	// reached: a lookup has gone into this mount (hostOf). A tmpfs no
	// lookup reached holds only what kshim furnished it with, so
	// TmpfsUsage need not look at it after every write of the guest.
	reached atomic.Bool
	// granted: the host side is inside what the sandbox grants already
	// (a read-only path's file, /dev/null for a mask: fsguard.go).
	granted bool
	// null: a masked file's host /dev/null (fsguard.go); what the walk
	// finds there is a device (walked).
	null bool
	// clone: a read-only path's detached read-only host mount
	// (fsguard.go), granted by kshim's fd of it.
	clone bool
}

// mountNS is the guest's mount table with the mounts' host sides, shared
// by the fsContexts of all processes (refs counts them); the last to close
// closes the host sides and returns the tmpfs charges to mem.
type mountNS struct {
	table *mount.Table
	hosts map[*mount.Mount]*HostMount // all but the root (whose fd is fsContext.root)
	refs  atomic.Int32
	mem   Charger
	mu    sync.Mutex // the tmpfs charges
	tmpfs []*HostMount
}

// maxSymlinks is Linux's MAXSYMLINKS.
const maxSymlinks = 40

// setupMounts opens the host side of every mount in c (the root is open).
func (fs *fsContext) setupMounts(c Files) error {
	t, err := mount.NewTable(c.Writable, c.Mounts)
	if err != nil {
		return err
	}
	ns := &mountNS{table: t, hosts: map[*mount.Mount]*HostMount{}, mem: c.Mem}
	ns.refs.Store(1)
	for _, m := range t.Mounts()[1:] {
		hm := &HostMount{Mount: m, fd: -1}
		switch m.Kind {
		case mount.Bind:
			err = hm.openBind()
		case mount.Tmpfs:
			err = hm.openTmpfs(c)
		case mount.Proc:
			hm.info = mount.Info{Source: "proc", FSType: "proc", FSRoot: "/"}
			hm.dir = true
		case mount.Sysfs:
			hm.info = sysInfo
			hm.dir = true
		case mount.Mqueue:
			// Served by the walk (LookupMqueue), no host side.
			hm.info = mount.Info{Source: "mqueue", FSType: "mqueue", FSRoot: "/"}
			hm.dir = true
		case mount.Devpts:
			// Listed as the instance the walk serves there (pty.go).
			hm.info = DevptsInfo()
			hm.dir = true
		}
		if err != nil {
			if hm.fd >= 0 && m.Kind == mount.Bind {
				unix.Close(hm.fd)
			}
			ns.release()
			return fmt.Errorf("mount at %q: %v", m.Dest, err)
		}
		ns.hosts[m] = hm
		if m.Kind == mount.Tmpfs {
			ns.tmpfs = append(ns.tmpfs, hm)
		}
	}
	ns.furnish()
	fs.ns = ns
	return nil
}

// furnish puts into each new tmpfs what a container's has there: the
// mount points of the mounts on it (so its parent lists them), and on a
// tmpfs at /dev the served devices (nodes with the host's numbers; kshim
// serves those paths itself whatever is there) and Linux's links into
// /proc/self/fd. Best effort: the mounts work without it.
func (ns *mountNS) furnish() {
	for _, m := range ns.table.Mounts()[1:] {
		pm, rel := ns.table.Find(path.Dir(m.Dest))
		if pm.Kind != mount.Tmpfs {
			continue
		}
		pfd := ns.hosts[pm].fd
		if rel != "" {
			// Each component, one at a time, in the tmpfs kshim just made.
			d, err := unix.FcntlInt(uintptr(pfd), unix.F_DUPFD_CLOEXEC, 0)
			if err != nil {
				continue
			}
			for _, c := range strings.Split(rel, "/") {
				_ = unix.Mkdirat(d, c, 0o755)
				nd, err := Openat2(d, c, unix.O_PATH|unix.O_DIRECTORY, 0, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
				unix.Close(d)
				if d = nd; err != nil {
					break
				}
			}
			if d < 0 {
				continue
			}
			defer unix.Close(d)
			pfd = d
		}
		name := path.Base(m.Dest)
		if hm := ns.hosts[m]; hm.dir {
			_ = unix.Mkdirat(pfd, name, 0o755)
		} else if fd, err := unix.Openat(pfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o644); err == nil {
			unix.Close(fd)
		}
	}
	dev := ns.table.At("/dev")
	if dev == nil || dev.Kind != mount.Tmpfs {
		return
	}
	fd := ns.hosts[dev].fd
	for name := range hostDevices {
		var st unix.Stat_t
		if unix.Stat(name, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR {
			_ = unix.Mknodat(fd, path.Base(name), unix.S_IFCHR|0o666, int(st.Rdev))
		}
	}
	for _, g := range []string{"/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"} {
		target, _ := devLinkTarget(g)
		_ = unix.Symlinkat(target, fd, path.Base(g))
	}
	_ = unix.Symlinkat("pts/ptmx", fd, "ptmx")
}

func (hm *HostMount) openBind() error {
	fd, err := unix.Open(hm.Source, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %v", hm.Source, err)
	}
	hm.fd = fd
	if OnProc(fd) {
		return fmt.Errorf("%s: a procfs cannot be mounted (the guest's /proc is kshim's)", hm.Source)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		hm.dir = true
	case unix.S_IFREG:
	default:
		return fmt.Errorf("%s: only directories and regular files can be bind-mounted", hm.Source)
	}
	if hm.hostRoot, err = HostPathOf(fd); err != nil {
		hm.hostRoot = hm.Source
	}
	hm.info = hostInfo(fd, hm.hostRoot)
	return nil
}

func (hm *HostMount) openTmpfs(c Files) error {
	if hm.Size == 0 {
		// Linux's default: half of RAM, here the guest's.
		hm.Size = mount.DefaultTmpfsSize
		if u, ok := c.Mem.(UseCharger); ok && u.Size() >= 2*guestmm.PageSize {
			hm.Size = u.Size() / 2 &^ (guestmm.PageSize - 1)
		}
	}
	hm.dir = true
	return hm.makeTmpfs(c)
}

// TmpfsUsage charges each tmpfs's pages to --mem as they are now: what
// the host tmpfs says it holds (statfs), more or less than last time. The
// syscall table calls it after the calls that can change that (writes,
// truncation, removal, close, munmap...); pages a shared mapping fills are
// counted at the next of those (its munmap or the process's exit at the
// latest). Past the budget the charge is taken anyway, as the pages
// exist: the guest's own allocations then fail and the OOM killer runs,
// as in a memory cgroup.
func (p *Task) TmpfsUsage() {
	if p.FS == nil {
		return
	}
	ns := p.FS.ns
	if ns == nil || len(ns.tmpfs) == 0 {
		return
	}
	u, ok := ns.mem.(UseCharger)
	if !ok {
		return
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for _, hm := range ns.tmpfs {
		var sf unix.Statfs_t
		if !hm.reached.Load() || hm.fd < 0 || unix.Fstatfs(hm.fd, &sf) != nil {
			continue
		}
		use := (sf.Blocks - sf.Bfree) * uint64(sf.Bsize)
		switch {
		case use > hm.charged:
			u.ChargeOver(use - hm.charged)
		case use < hm.charged:
			u.Uncharge(hm.charged - use)
		}
		hm.charged = use
	}
}

func (hm *HostMount) makeTmpfs(c Files) error {
	sfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		if err == unix.EPERM {
			return fmt.Errorf("a tmpfs needs kshim started as root")
		}
		return fmt.Errorf("tmpfs: %v", err)
	}
	defer unix.Close(sfd)
	uid, gid := hm.UID, hm.GID
	if uid < 0 {
		uid = c.OwnerUID
	}
	if gid < 0 {
		gid = c.OwnerGID
	}
	opts := [][2]string{{"size", strconv.FormatUint(hm.Size, 10)}, {"mode", strconv.FormatUint(uint64(hm.Mode), 8)}}
	if uid >= 0 {
		opts = append(opts, [2]string{"uid", strconv.Itoa(uid)})
	}
	if gid >= 0 {
		opts = append(opts, [2]string{"gid", strconv.Itoa(gid)})
	}
	for _, o := range opts {
		if err := unix.FsconfigSetString(sfd, o[0], o[1]); err != nil {
			return fmt.Errorf("tmpfs %s=%s: %v", o[0], o[1], err)
		}
	}
	if err := unix.FsconfigCreate(sfd); err != nil {
		return fmt.Errorf("tmpfs: %v", err)
	}
	attr := 0
	for _, a := range []struct {
		on  bool
		bit int
	}{{hm.ReadOnly, unix.MOUNT_ATTR_RDONLY}, {hm.NoSuid, unix.MOUNT_ATTR_NOSUID},
		{hm.NoDev, unix.MOUNT_ATTR_NODEV}, {hm.NoExec, unix.MOUNT_ATTR_NOEXEC}} {
		if a.on {
			attr |= a.bit
		}
	}
	fd, err := unix.Fsmount(sfd, unix.FSMOUNT_CLOEXEC, attr)
	if err != nil {
		return fmt.Errorf("tmpfs: %v", err)
	}
	hm.fd = fd
	if hm.hostRoot, err = HostPathOf(fd); err != nil {
		hm.hostRoot = "/"
	}
	src := hm.Spec.Source
	if src == "" {
		src = "tmpfs"
	}
	// Attached nowhere (fsmount): no mountinfo lists it.
	hm.info = hostInfoFrom(fd, "/", nil)
	hm.info.Source, hm.info.FSType = src, "tmpfs"
	return nil
}

// hostInfo is what the listings show of host fd fd (whose host path is
// hostPath): its host mount's line in the host's mountinfo, found by mount
// ID (read at set-up: the sandbox does not let kshim read it later).
func hostInfo(fd int, hostPath string) mount.Info {
	return hostInfoFrom(fd, hostPath, &mountinfo{})
}

// hostInfoFrom is hostInfo with the mountinfo read through mi (a read
// shared by set-up's lookups), or, with mi nil, only the device: for a
// mount kshim made and attached nowhere, which no mountinfo lists.
func hostInfoFrom(fd int, hostPath string, mi *mountinfo) mount.Info {
	i := mount.Info{Source: "none", FSType: "none", FSRoot: hostPath}
	var stx unix.Statx_t
	if unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &stx) != nil {
		return i
	}
	i.Major, i.Minor = stx.Dev_major, stx.Dev_minor
	if mi == nil || stx.Mask&unix.STATX_MNT_ID == 0 {
		return i
	}
	data, err := mi.read()
	if err != nil {
		return i
	}
	id := strconv.FormatUint(stx.Mnt_id, 10)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 7 || f[0] != id {
			continue
		}
		dash := -1
		for k := 6; k < len(f); k++ {
			if f[k] == "-" {
				dash = k
				break
			}
		}
		if dash < 0 || dash+3 >= len(f) {
			return i
		}
		root, mp := unmangle(f[3]), unmangle(f[4])
		switch {
		case hostPath == mp:
			i.FSRoot = root
		case mp == "/" && strings.HasPrefix(hostPath, "/"):
			i.FSRoot = path.Join(root, hostPath)
		case strings.HasPrefix(hostPath, mp+"/"):
			i.FSRoot = path.Join(root, hostPath[len(mp):])
		}
		i.FSType, i.Source = unmangle(f[dash+1]), unmangle(f[dash+2])
		so := f[dash+3]
		i.SBReadOnly = so == "ro" || strings.HasPrefix(so, "ro,")
		if k := strings.IndexByte(so, ','); k >= 0 {
			i.SuperOpts = so[k+1:]
		}
		return i
	}
	return i
}

// mountinfo reads the host's /proc/self/mountinfo at most once, for
// lookups made at the same moment (SetFiles': the devpts options and the
// root's mount, ~0.1 ms of the kernel's per read here).
type mountinfo struct {
	done bool
	data []byte
	err  error
}

func (m *mountinfo) read() ([]byte, error) {
	if !m.done {
		m.data, m.err = os.ReadFile("/proc/self/mountinfo")
		m.done = true
	}
	return m.data, m.err
}

// unmangle undoes mountinfo's octal escapes.
func unmangle(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for k := 0; k < len(s); k++ {
		if s[k] == '\\' && k+4 <= len(s) {
			if n, err := strconv.ParseUint(s[k+1:k+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				k += 3
				continue
			}
		}
		b.WriteByte(s[k])
	}
	return b.String()
}

// release drops one fsContext's reference.
func (ns *mountNS) release() {
	if ns == nil || ns.refs.Add(-1) > 0 {
		return
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for _, hm := range ns.hosts {
		if hm.fd >= 0 {
			unix.Close(hm.fd)
			hm.fd = -1
			if hm.charged > 0 && ns.mem != nil {
				ns.mem.Uncharge(hm.charged)
				hm.charged = 0
			}
		}
	}
}

// MountRule is a host path kshim's sandbox must let it open for a mount.
type MountRule struct {
	Path     string // the host source, or /proc/self/fd/N of a tmpfs's root
	Writable bool
	Dir      bool
}

// MountRules are the host paths of the guest's mounts, for Landlock (a
// tmpfs by kshim's fd of its root, valid until the process closes), and
// of its devpts instance (pty.go), whose terminals open for reading and
// writing and nothing more.
func (p *Task) MountRules() []MountRule {
	var out []MountRule
	if r := PtsRule(); r != "" {
		out = append(out, MountRule{Path: r, Dir: true})
	}
	if p.FS == nil || p.FS.ns == nil {
		return out
	}
	for _, m := range p.FS.ns.table.Mounts()[1:] {
		hm := p.FS.ns.hosts[m]
		switch m.Kind {
		case mount.Bind:
			if hm.granted {
				continue // a file of a tree granted already, or /dev/null (fsguard.go)
			}
			if hm.clone {
				// A read-only path's detached read-only mount (fsguard.go).
				out = append(out, MountRule{Path: "/proc/self/fd/" + abi.Itoa(hm.fd), Dir: hm.dir})
				continue
			}
			out = append(out, MountRule{Path: hm.hostRoot, Writable: !m.ReadOnly, Dir: hm.dir})
		case mount.Tmpfs:
			out = append(out, MountRule{Path: "/proc/self/fd/" + abi.Itoa(hm.fd), Writable: !m.ReadOnly, Dir: true})
		}
	}
	return out
}

// statfsFlags are the ST_ flags of a mount's options.
func (hm *HostMount) statfsFlags() int64 {
	var f int64
	for _, o := range []struct {
		on  bool
		bit int64
	}{{hm.NoSuid, unix.ST_NOSUID}, {hm.NoDev, unix.ST_NODEV}, {hm.NoExec, unix.ST_NOEXEC},
		{hm.Atime == "noatime", unix.ST_NOATIME}, {hm.NoDirAtime, unix.ST_NODIRATIME}} {
		if o.on {
			f |= o.bit
		}
	}
	return f
}

// RO says whether files of mount hm (nil: the root) are read-only.
func (fs *fsContext) RO(hm *HostMount) bool {
	if hm == nil {
		return !fs.Writable
	}
	return hm.ReadOnly
}

// anyRO says whether some mount is read-only (opens with write intent
// then look first, fsopen.go).
func (fs *fsContext) anyRO() bool {
	if !fs.Writable {
		return true
	}
	if fs.ns != nil {
		for _, hm := range fs.ns.hosts {
			if hm.ReadOnly {
				return true
			}
		}
	}
	return false
}

// mountPoint says whether name in directory d (a resolved parent) is the
// root of a mount: it exists (EEXIST), and cannot be removed or renamed
// (EBUSY).
func (fs *fsContext) mountPoint(d *parentDir) bool {
	if fs.ns == nil || d.Node != nil || d.Special() || d.FD < 0 {
		return false
	}
	return fs.ns.table.At(path.Join(d.Guest, d.Name)) != nil
}

// removeMountPoint is unlink's or rmdir's (rmdir) answer when d names a
// mount point (vfs_unlink, vfs_rmdir): may_delete's EISDIR or ENOTDIR
// for the mount's kind of root, else EBUSY; nil when it is none.
func (fs *fsContext) removeMountPoint(d *parentDir, rmdir bool) error {
	if !fs.mountPoint(d) {
		return nil
	}
	m := fs.ns.table.At(path.Join(d.Guest, d.Name))
	_, hm := fs.hostOf(m)
	switch {
	case hm.dir && !rmdir:
		return unix.EISDIR
	case !hm.dir && rmdir:
		return unix.ENOTDIR
	}
	return unix.EBUSY
}

// Mounted says whether the guest has mounts (or masked or read-only
// paths): then paths are walked through them, and a host path names
// nothing the guest could reach by it.
func (fs *fsContext) Mounted() bool { return fs != nil && fs.ns != nil }

// hostOf is the host root fd and the mount of table mount m.
func (fs *fsContext) hostOf(m *mount.Mount) (int, *HostMount) {
	if m.Kind == mount.Root {
		return fs.Root, nil
	}
	hm := fs.ns.hosts[m]
	if m.Kind == mount.Tmpfs && !hm.reached.Load() {
		hm.reached.Store(true)
	}
	return hm.fd, hm
}

// openPos opens (O_PATH) the directory rel of mount m, a path kshim
// walked: RESOLVE_IN_ROOT from the mount's root keeps it inside even if
// the directories were moved since.
func (fs *fsContext) openPos(m *mount.Mount, rel string) (int, error) {
	base, _ := fs.hostOf(m)
	if rel == "" {
		return unix.FcntlInt(uintptr(base), unix.F_DUPFD_CLOEXEC, 0)
	}
	return Openat2(base, rel, unix.O_PATH|unix.O_DIRECTORY, 0, unix.RESOLVE_IN_ROOT|unix.RESOLVE_NO_SYMLINKS)
}

// posOf is where host directory fd h (of mount hm, nil: the root) is in
// the table: its mount and path there, from the host's name for it, or
// from fallback (its guest path) when the host cannot tell.
func (fs *fsContext) posOf(h int, hm *HostMount, fallback string) (*mount.Mount, string, error) {
	m, hostRoot := fs.ns.table.Root(), fs.RootHost
	if hm != nil {
		// The host's name for the mount's root now: its source may have
		// been moved since (a bind mount follows its directory).
		m, hostRoot = hm.Mount, hm.hostRoot
		if hp, err := HostPathOf(hm.fd); err == nil {
			hostRoot = hp
		}
	}
	if hp, err := HostPathOf(h); err == nil && !strings.HasSuffix(hp, " (deleted)") {
		if rel, ok := relTo(hp, hostRoot); ok {
			return m, rel, nil
		}
		return nil, "", unix.ENOENT // moved out of its mount on the host
	}
	if fallback == "" || fallback[0] != '/' {
		return nil, "", unix.ENOENT
	}
	fm, rel := fs.ns.table.Find(path.Clean(fallback))
	return fm, rel, nil
}

// relTo is host path hp relative to host directory root ("" for root
// itself); false when hp is not below it.
func relTo(hp, root string) (string, bool) {
	switch {
	case hp == root:
		return "", true
	case root == "/" && strings.HasPrefix(hp, "/"):
		return hp[1:], true
	case strings.HasPrefix(hp, root+"/"):
		return hp[len(root)+1:], true
	}
	return "", false
}

// MapsName is the name /proc/PID/maps gives host file h, mapped from
// guest file f: as Linux's d_path of the mapping's file when read, the
// file's path now through the guest's mounts, with " (deleted)" once it
// has no name. A file of the root or a mount is never named by the
// host's path: one its mount's host directory no longer holds (moved
// out on the host) shows the guest path it was opened by. Host objects
// show what their /proc/self/fd link shows.
func (fs *fsContext) MapsName(h int, f *OpenFile) string {
	if f != nil && f.Node != nil {
		return f.Node.Path // a /proc file (kshim's snapshot of it)
	}
	hp, err := HostPathOf(h)
	if err != nil || f == nil {
		if f != nil {
			return f.Path
		}
		return ""
	}
	// The host marks a name no longer linked (the file, or this link of
	// it) as Linux marks the guest's; a real name ending so reads the
	// same either way.
	deleted := ""
	if strings.HasSuffix(hp, " (deleted)") {
		hp, deleted = strings.TrimSuffix(hp, " (deleted)"), " (deleted)"
	}
	switch {
	case f.Mnt != nil && fs.ns != nil:
		hostRoot := f.Mnt.hostRoot
		if r, err := HostPathOf(f.Mnt.fd); err == nil {
			hostRoot = r
		}
		if rel, ok := relTo(hp, hostRoot); ok {
			return f.Mnt.Guest(rel) + deleted
		}
	case f.Origin == FromRoot:
		if g, ok := fs.ToGuest(hp); ok {
			return g + deleted
		}
	default:
		return hp + deleted
	}
	return f.Path + deleted
}

// guestPathIn is guestPath for host fd h of mount hm.
func (fs *fsContext) GuestPathIn(h int, hm *HostMount, fallback string) (string, error) {
	if fs.ns == nil || hm == nil {
		return fs.GuestPath(h, fallback)
	}
	m, rel, err := fs.posOf(h, hm, fallback)
	if err != nil {
		return "", err
	}
	return m.Guest(rel), nil
}

// checkMountPoints makes sure every mount's parent directory is there to
// walk through (the mount point itself need not exist in the tree below).
func (p *Task) checkMountPoints() error {
	for _, m := range p.FS.ns.table.Mounts()[1:] {
		dir := path.Dir(m.Dest)
		r, err := p.LookupAbs(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
		if err != nil {
			return fmt.Errorf("mount at %q: %s: %v", m.Dest, dir, err)
		}
		r.Close()
	}
	return nil
}

// walkFrom resolves relative path rel from host directory fd base of
// mount hm (nil: the root), whose guest path is basePath as far as kshim
// knows.
func (p *Task) walkFrom(base int, hm *HostMount, basePath, rel string, flags int, mode uint32) (Resolved, error) {
	m, r, err := p.FS.posOf(base, hm, basePath)
	if err != nil {
		return Resolved{FD: -1}, err
	}
	return p.walk(m, r, base, rel, flags, mode)
}

// walkAbs resolves absolute guest path abs across the mounts.
func (p *Task) walkAbs(abs string, flags int, mode uint32) (Resolved, error) {
	return p.walk(p.FS.ns.table.Root(), "", p.FS.Root, abs, flags, mode)
}

// walk resolves pth from directory rel of mount m, whose host fd is cur
// (the caller's, open until walk returns), and opens the result with
// flags and mode (see the invariants). The fds of the root and the
// mounts' roots are used as they are (they live as long as the
// fsContext); the directories walked through are opened and closed here.
func (p *Task) walk(m *mount.Mount, rel string, cur int, pth string, flags int, mode uint32) (Resolved, error) {
	t := p.FS.ns.table
	owned := false // whether cur is walk's to close
	defer func() {
		if owned {
			unix.Close(cur)
		}
	}()
	fail := func(err error) (Resolved, error) { return Resolved{FD: -1}, err }
	move := func(nm *mount.Mount, nrel string, fd int, own bool) {
		if owned {
			unix.Close(cur)
		}
		cur, m, rel, owned = fd, nm, nrel, own
	}
	toRoot := func() error {
		move(t.Root(), "", p.FS.Root, false)
		return nil
	}
	comps := strings.Split(pth, "/")
	links := 0
	// After a run meets a symlink (ELOOP), single tells how many names the
	// walk takes one at a time, where it is; linkHint says the next name
	// is most likely it (the run's other names opened as a directory).
	single, linkHint := 0, false
	// follow splices symlink target in front of rest.
	follow := func(target string, rest []string) ([]string, error) {
		single, linkHint = 0, false
		if links++; links > maxSymlinks {
			return nil, unix.ELOOP
		}
		if target == "" {
			return nil, unix.ENOENT
		}
		if target[0] == '/' {
			if err := toRoot(); err != nil {
				return nil, err
			}
		}
		return append(strings.Split(target, "/"), rest...), nil
	}
	for len(comps) > 0 {
		c, rest := comps[0], comps[1:]
		comps = rest
		last := true
		for _, r := range rest {
			if r != "" {
				last = false
				break
			}
		}
		trailing := last && len(rest) > 0
		switch c {
		case "", ".":
			continue
		case "..":
			nm, nrel := t.Dotdot(m, rel)
			if nrel == "" {
				base, _ := p.FS.hostOf(nm)
				move(nm, "", base, false)
				continue
			}
			fd, err := p.FS.openPos(nm, nrel)
			if err != nil {
				return fail(err)
			}
			move(nm, nrel, fd, true)
			continue
		}
		// A run of plain names inside m goes to the host in one call; a
		// symlink in it (ELOOP) sends the walk one component at a time
		// up to it: when all the run's names but the last open as a
		// directory, that last one is the link, else each name is looked
		// at in turn.
		hint := linkHint
		linkHint = false
		if single > 0 {
			single--
		} else if k, nrel := p.FS.run(m, rel, comps, c); k > 0 {
			tail, final := comps[k-1:], true
			for _, r := range tail {
				if r != "" {
					final = false
					break
				}
			}
			name := strings.Join(append([]string{c}, comps[:k-1]...), "/")
			if final {
				if len(tail) > 0 {
					name += "/"
				}
				hf := p.FS.roFlags(m, flags)
				if ok, err := inHostMqueue(cur, name, hf, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS); ok {
					return fail(err) // no host queue made
				}
				fd, err := Openat2(cur, name, hf, hostMode(hf, mode), unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
				if err == nil {
					return p.walked(fd, m, nrel, flags)
				}
				if err != unix.ELOOP {
					return fail(err)
				}
			} else {
				fd, err := Openat2(cur, name, unix.O_PATH|unix.O_DIRECTORY, 0, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
				if err == nil {
					move(m, nrel, fd, true)
					comps = tail
					continue
				}
				if err != unix.ELOOP {
					return fail(err)
				}
			}
			// The names before the run's last, as a directory (a run
			// walked before: kshim's checks of each still hold).
			dir := strings.Join(append([]string{c}, comps[:k-2]...), "/")
			fd, err := Openat2(cur, dir, unix.O_PATH|unix.O_DIRECTORY, 0, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
			if err != nil {
				// c, taken below, and the k-2 names after it; a link
				// that early is most often the first (/lib -> usr/lib).
				single, hint = k-2, true
			} else {
				drel := rel
				for _, n := range append([]string{c}, comps[:k-2]...) {
					_, drel = t.Child(m, drel, n)
				}
				move(m, drel, fd, true)
				comps, linkHint = comps[k-2:], true
				continue
			}
		}
		nm, nrel := t.Child(m, rel, c)
		g := nm.Guest(nrel)
		// /dev/fd and /dev/std{in,out,err} are Linux's symlinks into
		// /proc/self/fd, kshim's whatever the root holds (devLink), and
		// /dev/ptmx a device or (in a container) a symlink to pts/ptmx:
		// lstat and readlink see the root's own. Opening one opens what
		// it leads to.
		link := last && !trailing && flags&unix.O_NOFOLLOW != 0
		if link {
			if r, ok := devLink(g); ok {
				return r, nil
			}
		}
		// kshim's own files, whatever is mounted.
		if g == "/proc" {
			return p.Owner.LookupProc(rest, flags, mode)
		}
		if g == "/sys" {
			return p.Owner.LookupSys(rest, flags, mode)
		}
		if g == "/dev/pts" || last && !link && g == "/dev/ptmx" {
			// The guest's devpts instance (pty.go), whatever is mounted.
			// Cleaned here: LookupAbs takes a cleaned /dev/pts path to
			// the instance, and any other (/dev/pts/.. is /dev) back
			// to this walk, which must not meet /dev/pts again.
			if len(rest) > 0 {
				trail := rest[len(rest)-1] == "" && path.Clean(g+"/"+strings.Join(rest, "/")) != "/"
				g = path.Clean(g + "/" + strings.Join(rest, "/"))
				if trail {
					g += "/"
				}
			}
			return p.LookupAbs(g, flags, mode)
		}
		if a, ok := fdAliases[g]; ok && !link {
			// What follows the link as written: "stdin/" is ENOTDIR.
			return p.Owner.LookupProc(append(strings.Split(a, "/")[2:], rest...), flags, mode)
		}
		if last {
			if g == "/dev/tty" {
				return p.openTTY(trailing, flags) // pty.go
			}
			if hostDevices[g] {
				return openDevice(g, trailing, flags)
			}
		}
		if g == "/dev/fd" && !link {
			return p.Owner.LookupProc(append([]string{"self", "fd"}, rest...), flags, mode)
		}
		if nm != m && nm.Kind == mount.Mqueue {
			// The IPC namespace's message queues (ipc/mqfs.go).
			return p.Owner.LookupMqueue(nm.Dest, rest, flags, mode)
		}
		if nm != m {
			// Into the root of the mount at g.
			base, hm := p.FS.hostOf(nm)
			move(nm, "", base, false)
			if last {
				return p.openMountRoot(cur, hm, trailing, flags)
			}
			if !hm.dir {
				return fail(unix.ENOTDIR)
			}
			continue
		}
		if !last {
			// A directory opens; a symlink is ELOOP (RESOLVE_NO_SYMLINKS
			// refuses it before O_DIRECTORY is looked at) and is read by
			// its one name in cur; anything else is ENOTDIR.
			if hint {
				if target, err := symlinkAt(cur, c); err == nil {
					if comps, err = follow(target, rest); err != nil {
						return fail(err)
					}
					continue
				}
			}
			fd, err := Openat2(cur, c, unix.O_PATH|unix.O_DIRECTORY, 0, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
			switch err {
			case nil:
				move(m, nrel, fd, true)
				continue
			case unix.ELOOP:
				target, err := symlinkAt(cur, c)
				if err == unix.EINVAL {
					// No longer a symlink (replaced meanwhile): look
					// again, as a link followed (bounded by maxSymlinks).
					target, err = c, nil
				}
				if err == nil {
					comps, err = follow(target, rest)
				}
				if err != nil {
					return fail(err)
				}
				continue
			}
			return fail(err)
		}
		// The last component, opened by the host in its directory.
		name := c
		if trailing {
			name += "/"
		}
		followLast := trailing || flags&unix.O_NOFOLLOW == 0 && flags&(unix.O_CREAT|unix.O_EXCL) != unix.O_CREAT|unix.O_EXCL
		if hint && followLast {
			if target, err := symlinkAt(cur, c); err == nil {
				if comps, err = follow(target, rest); err != nil {
					return fail(err)
				}
				continue
			}
		}
		hf := p.FS.roFlags(m, flags)
		if ok, err := inHostMqueue(cur, name, hf, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS); ok {
			return fail(err) // no host queue made
		}
		fd, err := Openat2(cur, name, hf, hostMode(hf, mode), unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
		if err == unix.ELOOP && followLast {
			if target, lerr := symlinkAt(cur, c); lerr == nil {
				if comps, err = follow(target, rest); err != nil {
					return fail(err)
				}
				continue
			}
		}
		if err != nil {
			return fail(err)
		}
		return p.walked(fd, m, nrel, flags)
	}
	// The path ended at a directory (the root, ".", ".."): reopen it.
	hf := p.FS.roFlags(m, flags)
	fd, err := Openat2(cur, ".", hf, hostMode(hf, mode), unix.RESOLVE_BENEATH)
	if err != nil {
		return fail(err)
	}
	return p.walked(fd, m, rel, flags)
}

// roFlags are the host open flags for the last component of a walk in
// mount m: on a read-only one, never a create or truncation. fsopen.go
// decides EROFS before (in Linux's order); this and walked's check keep a
// rename racing with that decision from writing to a read-only mount.
func (fs *fsContext) roFlags(m *mount.Mount, flags int) int {
	if _, hm := fs.hostOf(m); fs.RO(hm) {
		return flags &^ (unix.O_CREAT | unix.O_TRUNC | oTmpfile)
	}
	return flags
}

// hostMode is the mode for host open flags: openat2 refuses one without
// O_CREAT or O_TMPFILE.
func hostMode(flags int, mode uint32) uint32 {
	if flags&(unix.O_CREAT|oTmpfile) == 0 {
		return 0
	}
	return mode
}

// run is how many names from c on (c, then rest's) stay plain entries of
// mount m below rel: no "", ".", "..", no mount point, nothing of /proc or
// /dev (kshim's own files there). It returns 0 for fewer than two, or
// when c itself is no such name, and the rel the run leads to.
func (fs *fsContext) run(m *mount.Mount, rel string, rest []string, c string) (int, string) {
	k, plain := 0, -1 // plain: the first name below a directory not table.Above
	for i := -1; i < len(rest); i++ {
		name := c
		if i >= 0 {
			name = rest[i]
		}
		if name == "" || name == "." || name == ".." {
			break
		}
		if plain >= 0 {
			// Nothing of the table's or kshim's is below: a plain entry.
			k++
			continue
		}
		nm, nrel := fs.ns.table.Child(m, rel, name)
		g := nm.Guest(nrel)
		if nm != m || g == "/proc" || g == "/sys" || g == "/dev" || strings.HasPrefix(g, "/dev/") {
			break
		}
		k, rel = k+1, nrel
		if !fs.ns.table.Above(g) {
			plain = i + 1
		}
	}
	if k < 2 {
		return 0, ""
	}
	if plain >= 0 && plain < k-1 {
		// The names after the one that led below, as Child would join them.
		rel += "/" + strings.Join(rest[plain:k-1], "/")
	}
	return k, rel
}

// walked makes the result of a walk that ended at rel in mount m: on a
// read-only mount only FIFOs, sockets and devices open for writing. It
// looks once at the file and its file system (lookStat: one statx once
// the mount's file system is known; a lookup's every check below needs
// no more; each host call costs a guest path call ~1-3 us here, and
// stat-heavy programs make hundreds of them), and hands that stat on.
func (p *Task) walked(fd int, m *mount.Mount, rel string, flags int) (Resolved, error) {
	_, hm := p.FS.hostOf(m)
	fail := func(err error) (Resolved, error) {
		unix.Close(fd)
		return Resolved{FD: -1}, err
	}
	// A file whose file system cannot be told counts as a procfs.
	st, stOK, typ := lookStat(fd)
	if p.FS.RO(hm) && WriteIntent(flags) && flags&unix.O_PATH == 0 {
		if !stOK {
			return fail(unix.EROFS)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFIFO, unix.S_IFSOCK, unix.S_IFCHR, unix.S_IFBLK:
		default:
			if flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0 {
				return fail(unix.EROFS)
			}
		}
	}
	if typ == unix.PROC_SUPER_MAGIC || typ == MqueueMagic || typ == unix.DEVPTS_SUPER_MAGIC && hostPtsStat(&st, stOK) {
		// A procfs, the host's message queues or its terminals below a
		// bind mount's host directory: never the guest's.
		return fail(unix.EACCES)
	}
	if stOK && hostPtmxStat(&st) {
		unix.Close(fd) // the host's /dev/ptmx node: the guest's (pty.go)
		return openPts("/dev/ptmx", "ptmx", false, flags, 0)
	}
	if hm != nil && hm.NoDev && flags&unix.O_PATH == 0 && stOK &&
		(st.Mode&unix.S_IFMT == unix.S_IFCHR || st.Mode&unix.S_IFMT == unix.S_IFBLK) {
		return fail(unix.EACCES) // may_open on a nodev mount
	}
	r := Resolved{FD: fd, Guest: m.Guest(rel), Origin: FromRoot, Mnt: hm}
	if hm != nil && hm.null {
		// A masked file: the host's /dev/null, a device the guest
		// never changes (chmod, chown, utimes, xattrs: EPERM), as
		// kshim's own /dev/null (fsguard.go).
		r = Resolved{FD: fd, Guest: m.Dest, Origin: FromDevice}
	}
	if stOK {
		r.Stat = &st
	}
	return r, nil
}

// openMountRoot opens the root of mount hm, whose O_PATH fd is cur (a
// directory, or a bind-mounted file), with flags.
func (p *Task) openMountRoot(cur int, hm *HostMount, trailing bool, flags int) (Resolved, error) {
	fail := func(err error) (Resolved, error) { return Resolved{FD: -1}, err }
	flags = p.FS.roFlags(hm.Mount, flags)
	if hm.dir {
		fd, err := Openat2(cur, ".", flags, 0, unix.RESOLVE_BENEATH)
		if err != nil {
			return fail(err)
		}
		return p.walked(fd, hm.Mount, "", flags)
	}
	switch {
	case trailing || flags&unix.O_DIRECTORY != 0:
		return fail(unix.ENOTDIR)
	case flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL:
		return fail(unix.EEXIST)
	case flags&unix.O_PATH != 0:
		fd, err := unix.FcntlInt(uintptr(cur), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return fail(err)
		}
		return p.walked(fd, hm.Mount, "", flags)
	}
	// Reopen that very file (the host's magic link to kshim's fd).
	fd, err := unix.Open("/proc/self/fd/"+abi.Itoa(cur), flags&^(unix.O_CREAT|unix.O_NOFOLLOW)|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail(err)
	}
	return p.walked(fd, hm.Mount, "", flags)
}

// symlinkAt reads entry name (one component: no "/", ".", "..") of
// directory fd dir if it is a symlink: readlinkat follows nothing of a
// single name, so it reads only that entry of dir. EINVAL when it is no
// symlink.
func symlinkAt(dir int, name string) (string, error) {
	var buf [unix.PathMax]byte
	for {
		n, err := unix.Readlinkat(dir, name, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
}

// ProcMounts is /proc/PID/mounts (info: mountinfo): the root, the mounts
// in order, and kshim's /proc where the table has no proc mount (it is
// always there).
func (p *Task) ProcMounts(info bool) ([]byte, error) {
	var t *mount.Table
	if p.FS.ns != nil {
		t = p.FS.ns.table
	} else {
		t, _ = mount.FromMounts(p.FS.Writable, nil)
	}
	line := func(m *mount.Mount, i mount.Info) string {
		if info {
			return m.MountinfoLine(i)
		}
		return m.MountsLine(i)
	}
	procInfo := mount.Info{Source: "proc", FSType: "proc", FSRoot: "/"}
	var b strings.Builder
	sawProc, sawSys := false, false
	for _, m := range t.Mounts() {
		switch {
		case m.Kind == mount.Root:
			b.WriteString(line(m, p.FS.rootInfo))
		case m.Kind == mount.Proc:
			sawProc = true
			b.WriteString(line(m, procInfo))
		case m.Kind == mount.Sysfs:
			sawSys = true
			b.WriteString(line(m, sysInfo))
		default:
			b.WriteString(line(m, p.FS.ns.hosts[m].info))
		}
	}
	// kshim's /proc and /sys are there whether mounted or not, after the
	// table's mounts (as virtualMountIDs numbers them).
	procID, sysID := virtualMountIDs(t)
	if !sawProc {
		m := mount.Mount{Kind: mount.Proc, Dest: "/proc", ID: procID, Parent: mount.FirstID,
			NoSuid: true, NoDev: true, NoExec: true, Atime: "relatime"}
		b.WriteString(line(&m, procInfo))
	}
	if !sawSys {
		m := mount.Mount{Kind: mount.Sysfs, Dest: "/sys", ID: sysID, Parent: mount.FirstID,
			ReadOnly: true, NoSuid: true, NoDev: true, NoExec: true, Atime: "relatime"}
		b.WriteString(line(&m, sysInfo))
	}
	return []byte(b.String()), nil
}

// sysInfo is how the listings show kshim's /sys.
var sysInfo = mount.Info{Source: "sysfs", FSType: "sysfs", FSRoot: "/"}

// virtualMountIDs are the mount IDs of kshim's /proc and /sys: a mount of
// the table's when it has one (type proc, sysfs), else the IDs after the
// table's, /proc's first.
func virtualMountIDs(t *mount.Table) (proc, sys int) {
	next := mount.FirstID + len(t.Mounts())
	for _, m := range t.Mounts() {
		switch m.Kind {
		case mount.Proc:
			proc = m.ID
		case mount.Sysfs:
			sys = m.ID
		}
	}
	if proc == 0 {
		proc, next = next, next+1
	}
	if sys == 0 {
		sys = next
	}
	return proc, sys
}

// MountID is the ID /proc/self/mountinfo shows for the mount a resolved
// file is in, for statx's stx_mnt_id: the root's, a mount's, or kshim's
// /proc's; false for what is in no guest mount (devices, handed-in files),
// whose host ID stays.
func (p *Task) MountID(r Resolved) (uint64, bool) {
	switch {
	case r.Node != nil:
		t := (*mount.Table)(nil)
		if p.FS.ns != nil {
			t = p.FS.ns.table
		} else {
			t, _ = mount.FromMounts(p.FS.Writable, nil)
		}
		proc, sys := virtualMountIDs(t)
		if r.Node.Sys() {
			return uint64(sys), true
		}
		return uint64(proc), true
	case r.Origin != FromRoot:
		return 0, false
	case r.Mnt != nil:
		return uint64(r.Mnt.ID), true
	}
	return mount.FirstID, true
}
