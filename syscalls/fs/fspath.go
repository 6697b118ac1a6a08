// fspath.go: the guest's root directory, its cwd, and path resolution.
//
// Invariants:
//   - Every guest path is resolved by the host kernel with openat2(2) and
//     RESOLVE_NO_MAGICLINKS. Absolute paths use RESOLVE_IN_ROOT from the
//     root fd, so "..", absolute symlinks and symlinks that climb out all
//     stay inside the root. Relative paths first use RESOLVE_BENEATH from
//     their starting directory (cwd or dirfd), which fails with EXDEV rather
//     than leave it; then they are resolved as that directory's guest path
//     joined with the path, from the root, as above. kshim itself never
//     interprets "..", a symlink or a mount point on the host.
//   - With mounts (fsmount.go), kshim walks paths itself, a component at a
//     time, each host call confined to one mount's host directory; the
//     rules here hold per mount, and a file's mount decides EROFS and EXDEV.
//   - No host fd that resolution returns is on a procfs: the host's /proc
//     describes kshim, not the guest, and its files would reach kshim's own
//     memory and fds. A path the host resolves into its procfs (a symlink
//     such as /etc/mtab -> /proc/mounts) is looked up again, by the host's
//     name for it, in kshim's /proc; EACCES if it has no such name.
//   - A lookup starts only from a directory of the root tree: the root, the
//     cwd, or a dirfd the guest resolved in the root. A handed-in directory
//     (FromHost: fds 0-2) is refound in the root by its host path and used
//     only if that is the same inode on the same mount (FindInRoot);
//     otherwise lookups below it, fchdir to it and chdir through
//     /proc/self/fd are EACCES, as for a directory the guest may not search.
//   - Host calls that create or remove an entry (mkdirat, unlinkat,
//     renameat2, symlinkat, linkat) get a parent directory fd from
//     resolution and one name without "/", so they act inside the root.
//   - Lexically, /proc/... is kshim's own /proc (proc/fsproc.go), the exact
//     paths in hostDevices are the host's devices, and /dev/ptmx and
//     /dev/pts/... the guest's devpts instance (pty.go), whatever the root
//     holds; a resolution that lands on the host's procfs, sysfs or
//     devpts is looked up again in kshim's.
//   - cwd is a host O_PATH fd inside the root (unless something on the host
//     moves it out; then relative lookups still cannot climb above it), or
//     a directory of kshim's /proc (CwdNode), which has no host fd.
//   - Without --rw nothing under the root changes (fsopen.go, fsmutate.go).
//   - Host objects the guest holds but did not resolve in the root (handed
//     in, the devices of hostDevices, the program file) are used for I/O
//     only: their attributes, size and links never change (MayChange:
//     EPERM), unless FindInRoot finds them in the root, whose rule then
//     applies; reopening one through /proc/self/fd never gains an access
//     mode it was not handed (EACCES).
//
// Needs Linux 5.8 (openat2 5.6, faccessat2 5.8) and the host's /proc for
// the guest paths of open directories (getcwd, relative lookups that climb
// out of their directory, reopening fds).
package fs

import (
	"os"
	"path"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
	"kshim/syscalls/abi"
	"kshim/syscalls/fs/mount"
)

// Files is the guest's view of the host file system.
type Files struct {
	// Root is the host directory the guest sees as "/" ("" is the host's
	// own "/").
	Root string
	// Writable allows changes under Root (--rw); otherwise every mutation
	// is EROFS.
	Writable bool
	// Mounts are mounted over the root, in order (fsmount.go). A tmpfs's
	// size is charged to Mem, and its root belongs to OwnerUID:OwnerGID
	// unless its options say (-1: kshim's identity now).
	Mounts             []mount.Spec
	Mem                Charger
	OwnerUID, OwnerGID int
	// MaskedPaths and ReadonlyPaths are an OCI config's guest paths to
	// hide and to make read-only, after Mounts (fsguard.go).
	MaskedPaths, ReadonlyPaths []string
	// MakeParents: create a mount's missing parent directories first,
	// as runc does (the OCI runtime only: fsmkpoint.go).
	MakeParents bool
}

// Task is a task's file side: the guest memory file I/O copies to and
// from, its fd table and its fs_struct. Process embeds it.
type Task struct {
	MM    *guestmm.MM
	Files *FDTable   // guest fd -> host fd; shared by threads, cloned by fork
	FS    *fsContext // root, cwd, umask
	// Owner is the task above, for what files need of the kernel and
	// /proc (its Process).
	Owner FileOwner
	// held are the host fds the current syscall took (fdtable.go's Held),
	// released when it returns; the task's own, never shared.
	held []*hostRef
}

// FileOwner is what the file side needs of its task: kshim's /proc, the
// task's signals and limits, and the kernel's other address spaces.
type FileOwner interface {
	LookupProc(comps []string, flags int, mode uint32) (Resolved, error)
	// LookupSys looks up the components after "/sys" in kshim's /sys.
	LookupSys(comps []string, flags int, mode uint32) (Resolved, error)
	// LookupMqueue looks up comps in the mqueue file system mounted at
	// dest (the IPC namespace's POSIX message queues).
	LookupMqueue(dest string, comps []string, flags int, mode uint32) (Resolved, error)
	ProcStat(n *ProcNode) unix.Stat_t
	OpenNode(n *ProcNode, flags int) (int, *OpenFile, error)
	ProcDirents(n *ProcNode) []ProcDirent
	Interrupted() bool
	WaitReady(h int, events int16) error
	// WaitOpen runs open, a host open that may block, and returns its
	// fd, unless a signal comes first: then release (an open that makes
	// it return) ends it, both fds are closed and the error is the
	// kernel's restart (fsfifo.go).
	WaitOpen(open, release func() (int, error)) (int, error)
	// RefusesWait reports whether a call that would wait if waits()
	// must not (the fast syscall path's server): it then ends with no
	// effect, and the task's thread makes it again.
	RefusesWait(waits func() bool) bool
	// SleepBegin and SleepEnd bracket a host call that waits (a poll
	// with a timeout, a lock wait): the task shows sleeping meanwhile.
	SleepBegin()
	SleepEnd()
	Rlimit(res int) (unix.Rlimit, error)
	FileShrunk(h int)
	Sandbox() *Sandbox
	// Ctty is the task's controlling terminal for /dev/tty: one of the
	// guest's pty slaves (pty), or kshim's own (host), or none (pty.go).
	Ctty() (n int, pty, host bool)
}

// fsContext is Linux's fs_struct: root, cwd and umask.
type fsContext struct {
	Root             int // O_PATH|O_DIRECTORY, owned
	rootDev, rootIno uint64
	RootHost         string     // root's host path as the host kernel prints it
	Cwd              int        // O_PATH|O_DIRECTORY, owned by cwdRef
	cwdRef           *hostRef   // Cwd's references: the context's and its lookups' (heldCwd)
	CwdPath          string     // cwd's guest path as last named, if the host cannot tell
	CwdNode          *ProcNode  // when set, the cwd is this /proc directory instead
	CwdMnt           *HostMount // the mount the cwd is in (nil: the root)
	ns               *mountNS   // the mounts over the root (nil: none; fsmount.go)
	rootInfo         mount.Info // the root's host file system, for /proc/mounts
	Writable         bool
	umask            uint32 // cwdMu: threads sharing the context set and read it
}

// The host umask is 0 while kshim runs a guest: kshim applies the guest's
// umask to every mode itself, and the host must not mask it a second time.
var (
	umaskOnce    sync.Once
	initialUmask uint32
)

func hostUmask() uint32 {
	umaskOnce.Do(func() { initialUmask = uint32(unix.Umask(0)) })
	return initialUmask
}

// SetFiles sets the guest's root directory and whether it is writable. The
// cwd becomes the VMM's own when that is inside the root, else the root.
func (p *Task) SetFiles(c Files) error {
	root := c.Root
	if root == "" {
		root = "/"
	}
	mi := &mountinfo{} // one read of the host's for both
	setupPts(mi)       // before kshim confines itself (pty.go)
	fs, err := newFS(root, c.Writable)
	if err == nil {
		fs.rootInfo = hostInfoFrom(fs.Root, fs.RootHost, mi)
	}
	guard := len(c.MaskedPaths)+len(c.ReadonlyPaths) > 0
	if err == nil && (len(c.Mounts) > 0 || guard) {
		if err = fs.setupMounts(c); err != nil {
			fs.Close()
		}
	}
	if err != nil {
		if p.FS == nil {
			p.FS = &fsContext{Root: -1, Cwd: -1, umask: hostUmask()}
		}
		return err
	}
	if p.FS != nil {
		fs.umask = p.FS.Umask()
		p.FS.Close()
	}
	p.FS = fs
	if fs.ns != nil {
		if c.MakeParents {
			fs.makeParents()
		}
		if err := p.checkMountPoints(); err != nil {
			return err
		}
	}
	if guard {
		if err := p.guardPaths(c); err != nil {
			return err
		}
		if fs.ns.table.Len() == 0 {
			// Nothing was there to guard: the host resolves whole paths
			// again (fsmount.go).
			fs.ns.release()
			fs.ns = nil
		}
	}
	if fs.ns != nil && fs.CwdPath != "/" {
		p.cwdThroughMounts()
	}
	return nil
}

// cwdThroughMounts makes the cwd newFS found (the VMM's own, by the
// host's name for it, which knows no mount) the directory the guest finds
// at that path through its mounts, as a container's process chdirs after
// its mounts: else a VMM started inside a masked directory would give the
// guest what the mask hides, or inside a read-only path a writable cwd.
// The root when the path leads nowhere now (below a masked directory), as
// for a VMM cwd outside the root.
func (p *Task) cwdThroughMounts() {
	fs := p.FS
	r, err := p.LookupAbs(fs.CwdPath, unix.O_PATH|unix.O_DIRECTORY, 0)
	fd, g, mnt := -1, "/", (*HostMount)(nil)
	switch {
	case err == nil && r.Node == nil && r.Origin == FromRoot:
		fd, g, mnt = r.FD, r.Guest, r.Mnt
	case err == nil:
		r.Close()
	}
	if fd < 0 {
		if fd, err = unix.FcntlInt(uintptr(fs.Root), unix.F_DUPFD_CLOEXEC, 0); err != nil {
			return // the VMM's own stays; not reached
		}
	}
	cwdMu.Lock()
	old := fs.cwdRef
	fs.Cwd, fs.CwdPath, fs.CwdNode, fs.CwdMnt = fd, g, nil, mnt
	fs.cwdRef = newHostRef(fd)
	cwdMu.Unlock()
	if old != nil {
		old.put(nil)
	}
}

func newFS(root string, writable bool) (*fsContext, error) {
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(rfd, &st); err != nil {
		unix.Close(rfd)
		return nil, err
	}
	fs := &fsContext{Root: rfd, rootDev: st.Dev, rootIno: st.Ino, Cwd: -1, Writable: writable, umask: hostUmask()}
	if fs.RootHost, err = HostPathOf(rfd); err != nil {
		fs.RootHost = root
	}
	if cwd, err := unix.Open(".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
		if fd, g, ok := fs.FindInRoot(cwd); ok {
			fs.Cwd, fs.CwdPath = fd, g
		}
		unix.Close(cwd)
	}
	if fs.Cwd < 0 {
		if fs.Cwd, err = unix.FcntlInt(uintptr(rfd), unix.F_DUPFD_CLOEXEC, 0); err != nil {
			unix.Close(rfd)
			return nil, err
		}
		fs.CwdPath = "/"
	}
	fs.cwdRef = newHostRef(fs.Cwd)
	return fs, nil
}

func (fs *fsContext) Close() {
	if fs == nil {
		return
	}
	if fs.Root >= 0 {
		unix.Close(fs.Root)
	}
	if fs.cwdRef != nil {
		fs.cwdRef.put(nil) // closes Cwd once no lookup holds it
	} else if fs.Cwd >= 0 {
		unix.Close(fs.Cwd)
	}
	fs.Root, fs.Cwd, fs.cwdRef = -1, -1, nil
	fs.ns.release()
	fs.ns = nil
}

// HostPathOf is the host kernel's name for what host fd h refers to.
func HostPathOf(h int) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlink("/proc/self/fd/"+abi.Itoa(h), buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// ToGuest turns a host path into the guest's name for it; false when it
// is outside the root (or not a path: "pipe:[...]").
func (fs *fsContext) ToGuest(host string) (string, bool) {
	switch {
	case !strings.HasPrefix(host, "/"):
		return "", false
	case fs.RootHost == "/":
		return host, true
	case host == fs.RootHost:
		return "/", true
	case strings.HasPrefix(host, fs.RootHost+"/"):
		return host[len(fs.RootHost):], true
	}
	return "", false
}

// GuestPath is the guest path of the directory or file at host fd h, as
// Linux's d_path would give it now (following renames); fallback is used
// when the host's /proc cannot tell. ENOENT when it was removed or is
// outside the root.
func (fs *fsContext) GuestPath(h int, fallback string) (string, error) {
	hp, err := HostPathOf(h)
	if err != nil {
		if fallback != "" {
			return fallback, nil
		}
		return "", unix.ENOENT
	}
	if strings.HasSuffix(hp, " (deleted)") {
		var st unix.Stat_t
		if unix.Fstat(h, &st) != nil || st.Nlink == 0 {
			return "", unix.ENOENT
		}
	}
	g, ok := fs.ToGuest(hp)
	if !ok {
		return "", unix.ENOENT
	}
	return g, nil
}

// cwdMu is held to change a cwd (SetCwd) or a umask, to copy a context
// (Clone), and to read another process's
// (CwdOf: its /proc/PID/cwd), so that reader never uses a cwd fd the
// owner has closed, whose number the host may have given to another of
// kshim's files; a lookup of the task's own from its cwd takes a
// reference on the cwd's fd instead (heldCwd: no dup), and chdir closes
// the old fd at its last reference. One lock for every fsContext: chdir
// is rare. Nothing is taken while it is held.
var cwdMu sync.Mutex

// Cwd is a cwd as another process reads it: a host fd of its own (owned
// by the caller) with the mount and guest path, or a /proc directory.
type Cwd struct {
	FD   int
	Mnt  *HostMount
	Path string
	Node *ProcNode
}

// Umask is the context's file mode creation mask.
func (fs *fsContext) Umask() uint32 {
	cwdMu.Lock()
	defer cwdMu.Unlock()
	return fs.umask
}

// SetUmask is umask(2): it sets the mask and returns the old one.
func (fs *fsContext) SetUmask(m uint32) uint32 {
	cwdMu.Lock()
	defer cwdMu.Unlock()
	old := fs.umask
	fs.umask = m
	return old
}

// CwdOf copies q's cwd for a reader on another goroutine, or for q's own
// path walks (a thread sharing q's fs context may chdir meanwhile and
// close the fd it replaces). The caller keeps q's fs context from being
// closed meanwhile (kernel's Peek; its own task).
func CwdOf(q *Task) (Cwd, error) {
	cwdMu.Lock()
	defer cwdMu.Unlock()
	fs := q.FS
	if fs == nil || fs.Cwd < 0 && fs.CwdNode == nil {
		return Cwd{FD: -1}, unix.ENOENT
	}
	if fs.CwdNode != nil {
		return Cwd{FD: -1, Node: fs.CwdNode}, nil
	}
	h, err := unix.FcntlInt(uintptr(fs.Cwd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return Cwd{FD: -1}, err
	}
	return Cwd{FD: h, Mnt: fs.CwdMnt, Path: fs.CwdPath}, nil
}

// heldCwd is CwdOf for a lookup of q's own from its cwd: the cwd's own
// host fd, held (release it with put) instead of a dup, so that a sibling
// thread's chdir meanwhile closes it only after this lookup.
func heldCwd(q *Task) (Cwd, *hostRef, error) {
	cwdMu.Lock()
	defer cwdMu.Unlock()
	fs := q.FS
	if fs == nil || fs.Cwd < 0 && fs.CwdNode == nil {
		return Cwd{FD: -1}, nil, unix.ENOENT
	}
	if fs.CwdNode != nil {
		return Cwd{FD: -1, Node: fs.CwdNode}, nil, nil
	}
	ref := fs.cwdRef
	if ref == nil || ref.fd != fs.Cwd {
		// Not reached (every context's cwd has its ref): a dup of its own.
		h, err := unix.FcntlInt(uintptr(fs.Cwd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return Cwd{FD: -1}, nil, err
		}
		return Cwd{FD: h, Mnt: fs.CwdMnt, Path: fs.CwdPath}, newHostRef(h), nil
	}
	ref.refs.Add(1)
	return Cwd{FD: fs.Cwd, Mnt: fs.CwdMnt, Path: fs.CwdPath}, ref, nil
}

// Getcwd is the guest's cwd path (ENOENT once removed or moved out).
func (p *Task) Getcwd() (string, error) {
	c, err := CwdOf(p)
	if err != nil {
		return "", err
	}
	return p.CwdPath(c)
}

// CwdPath is the guest path of cwd c (taken by CwdOf), as p's file
// context names it; it closes c's fd.
func (p *Task) CwdPath(c Cwd) (string, error) {
	if c.Node != nil {
		return c.Node.Path, nil
	}
	defer unix.Close(c.FD)
	return p.FS.GuestPathIn(c.FD, c.Mnt, c.Path)
}

// Resolved is a guest path resolved on the host: a host fd, or a node of
// kshim's /proc.
type Resolved struct {
	FD   int // owned by the caller; -1 with node
	Node *ProcNode
	// Guest is the guest path, lexically (for /proc/self/fd when the host
	// cannot tell, and for /proc nodes).
	Guest string
	// Origin: FromRoot for a file of the root tree (read-only unless
	// --rw), else a host device, the program or a reopened handed-in file
	// (with the access it was handed in with, grant).
	Origin fileOrigin
	Grant  int
	// Mnt is the mount a FromRoot file is in (nil: the root; fsmount.go).
	Mnt *HostMount
	// Stat is the host's stat of FD (nil: not taken), taken as the
	// lookup checked what it resolved (lookStat), for the call that made
	// the lookup (stat itself, open's look at the file type). A pointer:
	// Resolved is returned by value down deep call chains.
	Stat *unix.Stat_t
}

func (r *Resolved) Close() {
	if r.FD >= 0 {
		unix.Close(r.FD)
		r.FD = -1
	}
}

// hostDevices are opened on the host by exact path, whatever the root
// holds: the devices every program expects. They are also the only
// devices that may be opened for writing without --rw.
var hostDevices = map[string]bool{
	"/dev/null": true, "/dev/zero": true, "/dev/full": true,
	"/dev/random": true, "/dev/urandom": true, "/dev/tty": true,
}

// fdAliases are Linux's symlinks into /proc/self/fd, which the guest gets
// as its own fds.
var fdAliases = map[string]string{
	"/dev/stdin": "/proc/self/fd/0", "/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2",
}

// devLinkTarget is the target of /dev path g when it is one of Linux's
// links into /proc/self/fd: an fdAlias or /dev/fd.
func devLinkTarget(g string) (string, bool) {
	if g == "/dev/fd" {
		return "/proc/self/fd", true
	}
	t, ok := fdAliases[g]
	return t, ok
}

// devLink is a devLinkTarget link as lstat, readlink and the other calls
// that do not follow a last symlink see it: kshim's symlink, whatever the
// root holds there (as the served devices), owned by root with the
// target's length as size, as on Linux's devtmpfs. So a call on the link
// itself (lchown, link, utimensat with AT_SYMLINK_NOFOLLOW) changes
// nothing of the root's or the host's.
func devLink(g string) (Resolved, bool) {
	target, ok := devLinkTarget(g)
	if !ok {
		return Resolved{FD: -1}, false
	}
	n := &ProcNode{Path: g, Mode: unix.S_IFLNK | 0o777, DevLink: true,
		Target: func(FileOwner) (string, error) { return target, nil }}
	return Resolved{FD: -1, Node: n, Guest: g}, true
}

// throughDevLink finds the /dev symlink into /proc/self/fd (devLink) that
// abs names or goes through: the link's path, the /proc components it
// leads to and abs's own components after it, as written ("" for a
// slash, "." and ".."), so that they are resolved below the link's
// target as Linux's walk resolves them ("/dev/stdin/" and "/dev/fd/0/"
// are ENOTDIR, "/dev/fd/." the directory, "/dev/fd/.." /proc/PID).
// Earlier components are taken lexically, as path.Clean would.
func throughDevLink(abs string) (link string, target, rest []string, ok bool) {
	if !strings.Contains(abs, "dev") {
		return "", nil, nil, false // no "dev" component: the common case, without splitting
	}
	comps := strings.Split(abs, "/")
	var dirs []string
	for i, c := range comps {
		switch c {
		case "", ".":
			continue
		case "..":
			if len(dirs) > 0 {
				dirs = dirs[:len(dirs)-1]
			}
			continue
		}
		if len(dirs) == 1 && dirs[0] == "dev" {
			link = "/dev/" + c
			if t, ok := devLinkTarget(link); ok {
				return link, strings.Split(t, "/")[2:], comps[i+1:], true
			}
		}
		dirs = append(dirs, c)
	}
	return "", nil, nil, false
}

const (
	resolveFlags = unix.RESOLVE_NO_MAGICLINKS
	// openat2 returns EAGAIN when a rename or mount raced with a ".."
	// step; retry a few times, as the man page suggests.
	openat2Retries = 16
)

func Openat2(dir int, path string, flags int, mode uint32, resolve uint64) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Mode: uint64(mode), Resolve: resolve | resolveFlags}
	for i := 0; ; i++ {
		fd, err := unix.Openat2(dir, path, &how)
		if err == unix.EAGAIN && i < openat2Retries {
			continue
		}
		if err == unix.EINTR {
			continue
		}
		return fd, err
	}
}

// OnProc says whether host fd fd is on a procfs (see the invariants); a
// file whose file system cannot be told counts as one.
func OnProc(fd int) bool {
	var sf unix.Statfs_t
	return unix.Fstatfs(fd, &sf) != nil || sf.Type == unix.PROC_SUPER_MAGIC
}

// fsTypes maps a host mount's unique ID (statx's STATX_MNT_ID_UNIQUE,
// Linux 6.8) to its file system's magic (statfs's f_type). The host
// never reuses a unique mount ID, and a mount's file system never
// changes, so an entry stays true for as long as kshim runs: this spares
// the fstatfs of every lookup without trusting anything stale. The lock
// is a leaf: nothing is taken while it is held.
var fsTypes struct {
	sync.Mutex
	m map[uint64]int64
}

// MqueueMagic is the mqueue file system's (MQUEUE_MAGIC; x/sys/unix has
// none): kshim's (ipc/mqfs.go) reports it, and a host one is never the
// guest's.
const MqueueMagic = 0x19800202

// inHostMqueue keeps an open that may create (O_CREAT) from making a
// queue in a host mqueue file system the root holds (the host's
// /dev/mqueue): EACCES (ok) when rel's directory, resolved from base as
// the open would, is one. One more lookup per creating open, none for
// the others.
func inHostMqueue(base int, rel string, flags int, how uint64) (bool, error) {
	if flags&unix.O_CREAT == 0 {
		return false, nil
	}
	d, err := Openat2(base, path.Dir(path.Clean(rel)), unix.O_PATH|unix.O_DIRECTORY, 0, how)
	if err != nil {
		return false, nil // the open itself reports it
	}
	defer unix.Close(d)
	if _, _, typ := lookStat(d); typ != MqueueMagic {
		return false, nil
	}
	return true, unix.EACCES
}

// lookStat is a lookup's one look at the file it resolved, host fd fd:
// its stat (ok false when the host would not tell) and its file system's
// magic, PROC_SUPER_MAGIC when that cannot be told (so it counts as a
// procfs and is refused). One statx gives both when the host names the
// mount (fsTypes), else fstat and fstatfs.
func lookStat(fd int) (st unix.Stat_t, ok bool, typ int64) {
	var x unix.Statx_t
	const want = unix.STATX_BASIC_STATS | unix.STATX_MNT_ID_UNIQUE
	err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, want, &x)
	if err == nil && x.Mask&unix.STATX_BASIC_STATS == unix.STATX_BASIC_STATS {
		st, ok = statOfStatx(&x), true
	} else {
		ok = unix.Fstat(fd, &st) == nil
	}
	if err == nil && x.Mask&unix.STATX_MNT_ID_UNIQUE != 0 {
		fsTypes.Lock()
		t, known := fsTypes.m[x.Mnt_id]
		fsTypes.Unlock()
		if known {
			return st, ok, t
		}
	}
	var sf unix.Statfs_t
	if unix.Fstatfs(fd, &sf) != nil {
		return st, ok, unix.PROC_SUPER_MAGIC
	}
	if err == nil && x.Mask&unix.STATX_MNT_ID_UNIQUE != 0 {
		fsTypes.Lock()
		if fsTypes.m == nil {
			fsTypes.m = map[uint64]int64{}
		}
		fsTypes.m[x.Mnt_id] = sf.Type
		fsTypes.Unlock()
	}
	return st, ok, sf.Type
}

// statOfStatx is the stat(2) the host gives for the file statx x
// describes (both are the kernel's one getattr; cp_new_stat encodes the
// device numbers as Mkdev does for Linux's 12-bit majors).
func statOfStatx(x *unix.Statx_t) unix.Stat_t {
	ts := func(t unix.StatxTimestamp) unix.Timespec {
		return unix.Timespec{Sec: t.Sec, Nsec: int64(t.Nsec)}
	}
	return unix.Stat_t{
		Dev: unix.Mkdev(x.Dev_major, x.Dev_minor), Ino: x.Ino, Nlink: uint64(x.Nlink),
		Mode: uint32(x.Mode), Uid: x.Uid, Gid: x.Gid, Rdev: unix.Mkdev(x.Rdev_major, x.Rdev_minor),
		Size: int64(x.Size), Blksize: int64(x.Blksize), Blocks: int64(x.Blocks),
		Atim: ts(x.Atime), Mtim: ts(x.Mtime), Ctim: ts(x.Ctime),
	}
}

// resolvedInRoot makes the result of a lookup in the root of host fd fd
// (taking it), or, when the host's resolution ended in its procfs, looks
// up the host's name for that file in kshim's /proc instead, kshim's own
// pid read as "self" (the host resolved /proc/self to it). The host's
// resolution refuses magic links, and kshim's /proc holds no symlink into
// the root's procfs, so this never leads back here for the same path.
func (p *Task) resolvedInRoot(fd int, guest string, flags int, mode uint32) (Resolved, error) {
	// One look at the file and its file system says which of the host's
	// it is (a file whose file system cannot be told counts as a procfs).
	st, stOK, typ := lookStat(fd)
	switch typ {
	case unix.SYSFS_MAGIC:
		// The host's sysfs (the root's /sys, reached by a symlink):
		// the same name in kshim's /sys, as for /proc below.
		hp, err := HostPathOf(fd)
		unix.Close(fd)
		g, ok := p.FS.ToGuest(hp)
		if err != nil || !ok || g != "/sys" && !strings.HasPrefix(g, "/sys/") {
			return Resolved{FD: -1}, unix.EACCES // a sysfs mounted elsewhere
		}
		return p.Owner.LookupSys(strings.Split(strings.TrimPrefix(g[len("/sys"):], "/"), "/"), flags, mode)
	case unix.DEVPTS_SUPER_MAGIC:
		// A host terminal reached by a symlink in the root (the
		// guest's own instance is in no host tree): the guest's
		// /dev/pts of that name instead (pty.go).
		hp, err := HostPathOf(fd)
		unix.Close(fd)
		g, ok := p.FS.ToGuest(hp)
		if err != nil || !ok || g != "/dev/pts" && !strings.HasPrefix(g, "/dev/pts/") {
			return Resolved{FD: -1}, unix.EACCES // a devpts mounted elsewhere
		}
		return openPts(g, strings.TrimPrefix(strings.TrimPrefix(g, "/dev/pts"), "/"), false, flags, mode)
	case MqueueMagic:
		// The host's message queues (its /dev/mqueue in the root):
		// never the guest's, which has its own (a mount of type
		// mqueue, ipc/mqfs.go).
		unix.Close(fd)
		return Resolved{FD: -1}, unix.EACCES
	case unix.PROC_SUPER_MAGIC:
	default:
		if stOK && hostPtmxStat(&st) {
			// The host's /dev/ptmx by another name (a relative path
			// from /dev, a symlink): the guest's (pty.go).
			unix.Close(fd)
			return openPts("/dev/ptmx", "ptmx", false, flags, mode)
		}
		r := Resolved{FD: fd, Guest: guest, Origin: FromRoot}
		if stOK {
			r.Stat = &st
		}
		return r, nil
	}
	hp, err := HostPathOf(fd)
	unix.Close(fd)
	if err != nil {
		return Resolved{FD: -1}, unix.EACCES
	}
	g, ok := p.FS.ToGuest(hp)
	if !ok || g != "/proc" && !strings.HasPrefix(g, "/proc/") {
		return Resolved{FD: -1}, unix.EACCES // a procfs mounted elsewhere
	}
	comps := strings.Split(strings.TrimPrefix(g[len("/proc"):], "/"), "/")
	if comps[0] == abi.Itoa(unix.Getpid()) {
		comps[0] = "self"
	}
	return p.Owner.LookupProc(comps, flags, mode)
}

// sameObject says whether host fds a and b are the same inode on the
// same mount.
func sameObject(a, b int) bool {
	var sa, sb unix.Statx_t
	const how = unix.AT_EMPTY_PATH | unix.AT_SYMLINK_NOFOLLOW
	if unix.Statx(a, "", how, unix.STATX_INO|unix.STATX_MNT_ID, &sa) != nil ||
		unix.Statx(b, "", how, unix.STATX_INO|unix.STATX_MNT_ID, &sb) != nil {
		return false
	}
	return sa.Dev_major == sb.Dev_major && sa.Dev_minor == sb.Dev_minor && sa.Ino == sb.Ino &&
		sa.Mask&sb.Mask&unix.STATX_MNT_ID != 0 && sa.Mnt_id == sb.Mnt_id
}

// FindInRoot finds host object h, which the guest holds but did not
// resolve in the root, in the root tree: the host's name for it, less the
// root's, resolved from the root, must be the very same inode on the same
// mount (not a namesake, not a bind mount of it elsewhere), and a name of
// the root mount (none of the guest's mounts is at or above it). It
// returns an O_PATH fd of it there (owned by the caller) and its guest
// path.
func (fs *fsContext) FindInRoot(h int) (int, string, bool) {
	if fs.Root < 0 {
		return -1, "", false
	}
	hp, err := HostPathOf(h)
	if err != nil {
		return -1, "", false
	}
	g, ok := fs.ToGuest(hp)
	if !ok {
		return -1, "", false
	}
	if fs.ns != nil {
		// The host's resolution below knows no mount: a name at or
		// below a mount point is what the mount hides (a masked
		// path's secret, a read-only path's writable self), which the
		// guest never reaches by that name.
		if m, _ := fs.ns.table.Find(path.Clean(g)); m.Kind != mount.Root {
			return -1, "", false
		}
	}
	fd, err := Openat2(fs.Root, g, unix.O_PATH|unix.O_NOFOLLOW, 0, unix.RESOLVE_IN_ROOT)
	if err != nil {
		return -1, "", false
	}
	if !sameObject(fd, h) || OnProc(fd) {
		unix.Close(fd)
		return -1, "", false
	}
	return fd, g, true
}

// LookupAt resolves relative path rel below guest fd e (a directory): the
// root's own directories directly, a handed-in one only where FindInRoot
// finds it in the root (EACCES otherwise: no lookup starts outside).
func (p *Task) LookupAt(e FDEntry, rel string, flags int, mode uint32) (Resolved, error) {
	if e.File.Origin == FromRoot {
		return p.LookupFrom(e.Host, e.File.Mnt, e.File.Path, rel, flags, mode)
	}
	var st unix.Stat_t
	if err := unix.Fstat(e.Host, &st); err != nil {
		return Resolved{FD: -1}, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return Resolved{FD: -1}, unix.ENOTDIR
	}
	base, g, ok := p.FS.FindInRoot(e.Host)
	if !ok {
		return Resolved{FD: -1}, unix.EACCES
	}
	defer unix.Close(base)
	return p.LookupFrom(base, nil, g, rel, flags, mode)
}

// Lookup resolves path relative to guest fd dirfd (AT_FDCWD: the cwd) and
// opens it on the host with flags (O_CLOEXEC is added) and mode. Callers
// have applied Linux's flag rules; path is not empty.
func (p *Task) Lookup(dirfd int, path string, flags int, mode uint32) (Resolved, error) {
	if path == "" {
		return Resolved{FD: -1}, unix.ENOENT
	}
	if path[0] == '/' {
		return p.LookupAbs(path, flags, mode)
	}
	if dirfd != unix.AT_FDCWD {
		e, err := p.Entry(uint64(uint32(dirfd)))
		if err != nil {
			return Resolved{FD: -1}, err
		}
		switch e.File.Kind {
		case KindProcDir:
			return p.LookupAbs(e.File.Path+"/"+path, flags, mode)
		case KindProc, KindProcLink:
			return Resolved{FD: -1}, unix.ENOTDIR
		}
		return p.LookupAt(e, path, flags, mode)
	}
	c, ref, err := heldCwd(p)
	if err != nil {
		return Resolved{FD: -1}, err
	}
	if c.Node != nil {
		return p.LookupAbs(c.Node.Path+"/"+path, flags, mode)
	}
	defer ref.put(nil)
	return p.LookupFrom(c.FD, c.Mnt, c.Path, path, flags, mode)
}

// LookupFrom resolves relative path from host directory fd base (of
// mount hm, nil: the root), whose guest path is basePath as far as kshim
// knows.
func (p *Task) LookupFrom(base int, hm *HostMount, basePath, rel string, flags int, mode uint32) (Resolved, error) {
	if p.FS.ns != nil {
		return p.walkFrom(base, hm, basePath, rel, flags, mode)
	}
	var st unix.Stat_t
	if err := unix.Fstat(base, &st); err != nil {
		return Resolved{FD: -1}, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return Resolved{FD: -1}, unix.ENOTDIR
	}
	if st.Dev == p.FS.rootDev && st.Ino == p.FS.rootIno {
		return p.LookupAbs("/"+rel, flags, mode)
	}
	if ok, err := inHostMqueue(base, rel, flags, unix.RESOLVE_BENEATH); ok {
		return Resolved{FD: -1}, err
	}
	fd, err := Openat2(base, rel, flags, mode, unix.RESOLVE_BENEATH)
	if err == unix.EXDEV {
		// The path leaves base: resolve it from the root instead, which
		// also finds /proc and the devices if that is where it leads.
		g, gerr := p.FS.GuestPath(base, basePath)
		if gerr != nil {
			return Resolved{FD: -1}, unix.ENOENT
		}
		return p.LookupAbs(g+"/"+rel, flags, mode)
	}
	if err != nil {
		return Resolved{FD: -1}, err
	}
	return p.resolvedInRoot(fd, path.Join(basePath, rel), flags, mode)
}

// LookupAbs resolves an absolute guest path.
func (p *Task) LookupAbs(abs string, flags int, mode uint32) (Resolved, error) {
	if p.FS.Root < 0 {
		return Resolved{FD: -1}, unix.ENOENT
	}
	if rest, ok := inProc(abs); ok {
		return p.Owner.LookupProc(rest, flags, mode)
	}
	if rest, ok := inTop(abs, "sys"); ok {
		return p.Owner.LookupSys(rest, flags, mode)
	}
	clean := path.Clean(abs)
	trailing := strings.HasSuffix(abs, "/") && clean != "/"
	if link, target, rest, ok := throughDevLink(abs); ok {
		if len(rest) == 0 && flags&unix.O_NOFOLLOW != 0 {
			r, _ := devLink(link)
			return r, nil
		}
		return p.Owner.LookupProc(append(target, rest...), flags, mode)
	}
	if clean == "/dev/tty" {
		return p.openTTY(trailing, flags) // pty.go
	}
	if hostDevices[clean] {
		return openDevice(clean, trailing, flags)
	}
	if name, ok := ptsPath(clean); ok && (clean != "/dev/ptmx" || trailing || flags&unix.O_NOFOLLOW == 0) {
		return openPts(clean, name, trailing, flags, mode) // pty.go
	}
	if p.FS.ns != nil {
		return p.walkAbs(abs, flags, mode)
	}
	if ok, err := inHostMqueue(p.FS.Root, abs, flags, unix.RESOLVE_IN_ROOT); ok {
		return Resolved{FD: -1}, err
	}
	fd, err := Openat2(p.FS.Root, abs, flags, mode, unix.RESOLVE_IN_ROOT)
	if err != nil {
		return Resolved{FD: -1}, err
	}
	return p.resolvedInRoot(fd, clean, flags, mode)
}

// openDevice opens a device of hostDevices at its exact host path. Only a
// character device is served (whatever else is there is ENOENT), and it is
// never created or truncated: an exclusive create is EEXIST, as for any
// file that exists, and the other open flags are the guest's.
func openDevice(name string, trailing bool, flags int) (Resolved, error) {
	fail := func(err error) (Resolved, error) { return Resolved{FD: -1}, err }
	pfd, err := unix.Open(name, unix.O_PATH|unix.O_CLOEXEC|flags&unix.O_NOFOLLOW, 0)
	if err != nil {
		return fail(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		unix.Close(pfd)
		return fail(err)
	}
	switch typ := st.Mode & unix.S_IFMT; {
	case typ == unix.S_IFLNK:
		err = unix.ELOOP // O_NOFOLLOW
	case typ != unix.S_IFCHR:
		err = unix.ENOENT
	case trailing || flags&unix.O_DIRECTORY != 0:
		err = unix.ENOTDIR
	case flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL:
		err = unix.EEXIST
	case flags&unix.O_PATH != 0:
		return Resolved{FD: pfd, Guest: name, Origin: FromDevice}, nil
	}
	if err != nil {
		unix.Close(pfd)
		return fail(err)
	}
	// Reopen that very node (the host's magic link to kshim's fd).
	fd, err := unix.Open("/proc/self/fd/"+abi.Itoa(pfd), flags&^(unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW)|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	unix.Close(pfd)
	if err != nil {
		return fail(err)
	}
	return Resolved{FD: fd, Guest: name, Origin: FromDevice}, nil
}

// inProc says whether an absolute path enters /proc, reading it lexically
// up to there, and returns the components after "/proc", unread: from
// there LookupProc walks them, so that ".." after a magic link applies to
// the link's target, as on Linux.
func inProc(abs string) ([]string, bool) { return inTop(abs, "proc") }

// inTop is inProc for top-level directory name (proc, sys).
func inTop(abs, name string) ([]string, bool) {
	if !strings.Contains(abs, name) {
		return nil, false // no such component: the common case, without splitting
	}
	comps := strings.Split(abs, "/")
	depth := 0
	for i, c := range comps {
		switch c {
		case "", ".":
		case "..":
			depth = max(0, depth-1)
		default:
			if depth == 0 && c == name {
				return comps[i+1:], true
			}
			depth++
		}
	}
	return nil, false
}

// Noctty keeps kshim from acquiring a controlling terminal on behalf of
// the guest (O_PATH takes no other flags).
func Noctty(flags int) int {
	if flags&unix.O_PATH != 0 {
		return 0
	}
	return unix.O_NOCTTY
}

// parentDir is the directory an entry is created in or removed from.
type parentDir struct {
	Resolved // the directory, opened O_PATH
	// Name is the last component, never containing "/": "" for the root
	// itself, "." and ".." as the path had them.
	Name string
	// Slash: the path ended in "/".
	Slash bool
}

// LookupParent resolves all of path but its last component. The parent
// is a directory of the root tree or of kshim's /proc: a handed-in one
// (reached as /proc/self/fd/N/NAME) only as FindInRoot finds it, else
// EACCES, as for a lookup below it.
func (p *Task) LookupParent(dirfd int, path string) (parentDir, error) {
	if path == "" {
		return parentDir{Resolved: Resolved{FD: -1}}, unix.ENOENT
	}
	trimmed := strings.TrimRight(path, "/")
	slash := len(trimmed) < len(path)
	dir, name := "/", ""
	if trimmed != "" {
		dir, name = ".", trimmed
		if i := strings.LastIndexByte(trimmed, '/'); i >= 0 {
			dir, name = trimmed[:i+1], trimmed[i+1:]
		}
	}
	r, err := p.Lookup(dirfd, dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err == nil && r.Node == nil && r.Origin != FromRoot {
		fd, g, ok := p.FS.FindInRoot(r.FD)
		r.Close()
		if !ok {
			return parentDir{Resolved: Resolved{FD: -1}}, unix.EACCES
		}
		r = Resolved{FD: fd, Guest: g, Origin: FromRoot}
	}
	return parentDir{Resolved: r, Name: name, Slash: slash}, err
}

// Special says the last component is not an ordinary name (Linux's
// LAST_ROOT, LAST_DOT, LAST_DOTDOT).
func (d *parentDir) Special() bool { return d.Name == "" || d.Name == "." || d.Name == ".." }

// Exists says whether the parent holds an entry called name (not
// following a symlink), and what it is.
func (d *parentDir) Exists() (unix.Stat_t, bool) {
	var st unix.Stat_t
	err := unix.Fstatat(d.FD, d.Name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err == nil
}

// PathArg reads a guest path argument: EFAULT, ENAMETOOLONG past
// PATH_MAX (with its NUL), as Linux's getname.
func (p *Task) PathArg(addr uint64) (string, error) {
	return p.MM.ReadString(addr, unix.PathMax)
}

// DirfdArg is an *at syscall's dirfd: an int, AT_FDCWD or a guest fd.
func DirfdArg(x uint64) int { return int(int32(x)) }

// LookupFD resolves (dirfd, path) with the AT_EMPTY_PATH rule: an empty
// path with emptyOK names dirfd itself (AT_FDCWD: the cwd), reopened with
// flags as lookup would (O_PATH lookups get a host dup).
func (p *Task) LookupFD(dirfd int, path string, emptyOK bool, flags int) (Resolved, error) {
	if path != "" {
		return p.Lookup(dirfd, path, flags, 0)
	}
	if !emptyOK {
		return Resolved{FD: -1}, unix.ENOENT
	}
	if dirfd == unix.AT_FDCWD {
		c, err := CwdOf(p)
		if err != nil {
			return Resolved{FD: -1}, err
		}
		if c.Node != nil {
			return Resolved{FD: -1, Node: c.Node, Guest: c.Node.Path}, nil
		}
		return Resolved{FD: c.FD, Guest: c.Path, Origin: FromRoot, Mnt: c.Mnt}, nil
	}
	e, err := p.Entry(uint64(uint32(dirfd)))
	if err != nil {
		return Resolved{FD: -1}, err
	}
	if e.File.Node != nil {
		return Resolved{FD: -1, Node: e.File.Node, Guest: e.File.Path}, nil
	}
	h, err := unix.FcntlInt(uintptr(e.Host), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return Resolved{FD: -1}, err
	}
	return Resolved{FD: h, Guest: e.File.Path, Origin: e.File.Origin, Grant: e.File.Grant, Mnt: e.File.Mnt}, nil
}

// HostPath names the file open at host fd h, for /proc/self/maps.
func HostPath(h int) string {
	name, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(h))
	if err != nil {
		return ""
	}
	return name
}

// Clone gives a fork child its own root and cwd references (Linux's
// copy_fs_struct).
func (fs *fsContext) Clone() (*fsContext, error) {
	cwdMu.Lock() // a thread sharing fs may set its umask meanwhile
	c := *fs
	cwdMu.Unlock()
	var err error
	if fs.Root >= 0 {
		if c.Root, err = unix.FcntlInt(uintptr(fs.Root), unix.F_DUPFD_CLOEXEC, 0); err != nil {
			return nil, err
		}
	}
	cwdMu.Lock() // a thread sharing fs may chdir meanwhile
	c.Cwd, c.CwdPath, c.CwdNode, c.CwdMnt, c.cwdRef = fs.Cwd, fs.CwdPath, fs.CwdNode, fs.CwdMnt, nil
	if c.Cwd >= 0 {
		if c.Cwd, err = unix.FcntlInt(uintptr(c.Cwd), unix.F_DUPFD_CLOEXEC, 0); err == nil {
			c.cwdRef = newHostRef(c.Cwd)
		}
	}
	cwdMu.Unlock()
	if err != nil {
		if c.Root >= 0 {
			unix.Close(c.Root)
		}
		return nil, err
	}
	if c.ns != nil {
		c.ns.refs.Add(1)
	}
	return &c, nil
}
