// Package mount is the guest's mount table: what is mounted where, with
// which options, and how a path walk crosses from one mount into another.
// It knows nothing of host fds or of the personality; the file layer
// (syscalls/fs, fsmount.go) gives each Mount its host side.
//
// Invariants:
//   - A Table always has the root mount ("/", Kind Root) first; the other
//     mounts follow in the order they were given, each at a clean,
//     absolute destination other than "/", none at or above an earlier
//     one's (a later mount would hide it: refused, not stacked). The
//     masked and read-only paths of an OCI config (Cover, Insert) come
//     later: a mask replaces what it hides, a read-only path goes before
//     the mounts below it, so every mount still follows the mount it is
//     on, and IDs are renumbered in table order (nothing has seen them
//     yet: both run at set-up).
//   - Every option is understood or refused: Parse returns an error naming
//     an unknown option, one the type does not take, or a bad value.
//   - Paths here are guest paths, clean and absolute; a mount's rel paths
//     are clean and relative to its root ("" is the root itself). Nothing
//     here touches the host.
package mount

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Spec is one mount as an OCI config.json gives it (and `kshim run
// --mount`).
type Spec struct {
	Type, Source, Destination string
	Options                   []string
}

// Kind is what a mount serves.
type Kind int

const (
	Root   Kind = iota // the guest's root directory (--root)
	Bind               // a host directory or file
	Tmpfs              // a memory file system of the guest's own
	Proc               // kshim's /proc
	Sysfs              // kshim's /sys
	Devpts             // the guest's devpts instance (fs/pty.go), at /dev/pts
	Mqueue             // the IPC namespace's POSIX message queues (ipc/mqfs.go)
)

func (k Kind) String() string {
	return [...]string{"root", "bind", "tmpfs", "proc", "sysfs", "devpts", "mqueue"}[k]
}

// Mount is one parsed mount.
type Mount struct {
	Spec Spec // as given
	Kind Kind
	// ID and Parent are the mount IDs /proc/self/mountinfo shows (the
	// root's parent is itself's, as for a namespace's root there).
	ID, Parent int
	// Dest is the clean guest path; Source the clean host path (Bind).
	Dest, Source string
	ReadOnly     bool
	NoSuid       bool
	NoDev        bool
	NoExec       bool
	Recursive    bool   // rbind (kshim's binds see the host's submounts either way)
	Atime        string // "relatime" (default), "noatime", "strictatime"
	NoDirAtime   bool
	// Tmpfs: size in bytes (0: the default, half the guest's memory, which
	// the file layer knows), mode of its root
	// (default 01777), owner of its root (-1: the guest identity's).
	Size     uint64
	Mode     uint32
	UID, GID int
	// Devpts: the uid=, gid=, mode=, ptmxmode= and max= asked for
	// (checked, not applied: devptsOption).
	DevptsOpts map[string]uint64
	// Guarded: a masked or read-only path of the OCI config (Cover,
	// Insert), which hides or protects what the guest's tree holds
	// there. The table follows no rename, so no directory above it (nor
	// above any mount) may be renamed (Guards).
	Guarded bool
}

// DefaultTmpfsSize is a tmpfs's size when no size= is given and the
// guest's memory is not known (Linux's default is half of RAM: the file
// layer gives half of --mem).
const DefaultTmpfsSize = 64 << 20

// MaxTmpfsSize bounds size= (and size=0, Linux's "unlimited", is refused:
// the host tmpfs's limit is what gives ENOSPC).
const MaxTmpfsSize = 1 << 46

// Parse checks a Spec and turns it into a Mount (ID and Parent unset).
func Parse(s Spec) (Mount, error) {
	m := Mount{Spec: s, Mode: 0o1777, UID: -1, GID: -1, Atime: "relatime"}
	fail := func(f string, a ...any) (Mount, error) {
		return Mount{}, fmt.Errorf("mount at %q: %s", s.Destination, fmt.Sprintf(f, a...))
	}
	if s.Destination == "" || s.Destination[0] != '/' {
		return fail("the destination must be an absolute guest path")
	}
	if strings.IndexByte(s.Destination, 0) >= 0 || strings.IndexByte(s.Source, 0) >= 0 {
		return fail("NUL in a path")
	}
	m.Dest = path.Clean(s.Destination)
	if m.Dest == "/" {
		return fail("cannot mount over the root (use --root)")
	}
	bind := false
	for _, o := range s.Options {
		if o == "bind" || o == "rbind" {
			bind = true
		}
	}
	switch s.Type {
	case "bind":
		m.Kind = Bind
	case "", "none":
		if !bind {
			return fail("no type (bind, tmpfs, proc, sysfs)")
		}
		m.Kind = Bind
	case "tmpfs":
		m.Kind = Tmpfs
	case "proc":
		m.Kind = Proc
	case "sysfs":
		m.Kind = Sysfs
	case "devpts":
		m.Kind = Devpts
	case "mqueue":
		m.Kind = Mqueue
	default:
		return fail("type %q is not supported (bind, tmpfs, proc, sysfs, devpts, mqueue are)", s.Type)
	}
	switch m.Kind {
	case Bind:
		if s.Source == "" || s.Source[0] != '/' {
			return fail("a bind mount's source must be an absolute host path")
		}
		m.Source = path.Clean(s.Source)
	case Proc:
		if m.Dest != "/proc" {
			return fail("proc is served only at /proc")
		}
	case Sysfs:
		if m.Dest != "/sys" {
			return fail("sysfs is served only at /sys")
		}
	case Devpts:
		if m.Dest != "/dev/pts" {
			return fail("devpts is served only at /dev/pts")
		}
	}
	if under(m.Dest, "/proc") && m.Kind != Proc {
		return fail("/proc is kshim's own; nothing can be mounted in it")
	}
	if under(m.Dest, "/sys") && m.Kind != Sysfs {
		return fail("/sys is kshim's own; nothing can be mounted in it")
	}
	if ServedDevices[m.Dest] {
		return fail("%s is one of the devices kshim serves", m.Dest)
	}
	for _, o := range s.Options {
		if err := m.option(o, bind); err != nil {
			return fail("%v", err)
		}
	}
	return m, nil
}

// ServedDevices are the host devices the file layer serves at these exact
// paths whatever is mounted (syscalls/fspath.go hostDevices).
var ServedDevices = map[string]bool{
	"/dev/null": true, "/dev/zero": true, "/dev/full": true,
	"/dev/random": true, "/dev/urandom": true, "/dev/tty": true,
	"/dev/stdin": true, "/dev/stdout": true, "/dev/stderr": true, "/dev/fd": true,
}

// option applies one option.
func (m *Mount) option(o string, bind bool) error {
	key, val, hasVal := strings.Cut(o, "=")
	if !hasVal {
		switch o {
		case "ro":
			m.ReadOnly = true
			return nil
		case "rw":
			m.ReadOnly = false
			return nil
		case "nosuid", "suid":
			m.NoSuid = o == "nosuid"
			return nil
		case "nodev", "dev":
			m.NoDev = o == "nodev"
			return nil
		case "noexec", "exec":
			m.NoExec = o == "noexec"
			return nil
		case "relatime", "noatime", "strictatime":
			m.Atime = o
			return nil
		case "norelatime":
			m.Atime = "strictatime"
			return nil
		case "nodiratime", "diratime":
			m.NoDirAtime = o == "nodiratime"
			return nil
		case "bind", "rbind":
			if m.Kind != Bind {
				return fmt.Errorf("option %q is for bind mounts only", o)
			}
			m.Recursive = m.Recursive || o == "rbind"
			return nil
		case "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable":
			// Propagation between mount namespaces: the guest has one
			// and cannot mount, so there is nothing to propagate.
			return nil
		case "defaults":
			return nil
		case "newinstance":
			if m.Kind == Devpts {
				return nil // the guest's instance is always its own
			}
		}
		return fmt.Errorf("unknown option %q", o)
	}
	if m.Kind == Devpts {
		return m.devptsOption(key, val)
	}
	if m.Kind != Tmpfs {
		return fmt.Errorf("option %q: %s mounts take no key=value options", o, m.Kind)
	}
	switch key {
	case "size":
		n, err := parseSize(val)
		if err != nil {
			return fmt.Errorf("option %q: %v", o, err)
		}
		m.Size = n
	case "mode":
		n, err := strconv.ParseUint(val, 8, 32)
		if err != nil || n > 0o7777 {
			return fmt.Errorf("option %q: not an octal mode", o)
		}
		m.Mode = uint32(n)
	case "uid", "gid":
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil || n == 1<<32-1 {
			return fmt.Errorf("option %q: not a numeric id", o)
		}
		if key == "uid" {
			m.UID = int(n)
		} else {
			m.GID = int(n)
		}
	default:
		return fmt.Errorf("unknown tmpfs option %q (size, mode, uid, gid are supported)", o)
	}
	return nil
}

// devptsOption checks one of devpts' own options. They are checked, not
// applied: the guest's instance is made once per kshim, with the host's
// /dev/pts mode and group and ptmxmode 0666 (fs/pty.go), and the
// listings show those (DevptsOpts records what was asked, for the
// caller to compare).
func (m *Mount) devptsOption(key, val string) error {
	base := 10
	switch key {
	case "mode", "ptmxmode":
		base = 8
	case "uid", "gid", "max":
	default:
		return fmt.Errorf("unknown devpts option %q (uid, gid, mode, ptmxmode, max, newinstance are)", key+"="+val)
	}
	n, err := strconv.ParseUint(val, base, 32)
	if err != nil || base == 8 && n > 0o777 {
		return fmt.Errorf("devpts option %q: not a number", key+"="+val)
	}
	if m.DevptsOpts == nil {
		m.DevptsOpts = map[string]uint64{}
	}
	m.DevptsOpts[key] = n
	return nil
}

// parseSize reads a tmpfs size: bytes with an optional k, m or g suffix
// (powers of 1024, as tmpfs's memparse), rounded up to whole pages.
func parseSize(v string) (uint64, error) {
	mult := uint64(1)
	if v != "" {
		switch v[len(v)-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		case '%':
			return 0, fmt.Errorf("sizes in %% of memory are not supported")
		}
		if mult != 1 {
			v = v[:len(v)-1]
		}
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a size (bytes, or with k, m, g)")
	}
	if n == 0 {
		return 0, fmt.Errorf("size 0 (unlimited) is not supported: the size is what gives ENOSPC")
	}
	if n > MaxTmpfsSize/mult {
		return 0, fmt.Errorf("too large")
	}
	n *= mult
	return (n + 4095) &^ 4095, nil
}

// under says whether clean path p is dir or below it.
func under(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// Table is the guest's mount table.
type Table struct {
	mounts []*Mount // [0] is the root
	byDest map[string]*Mount
	// above holds "/" and every directory some mount point is (or was)
	// below, kept by every change of the table (add): below any other
	// directory every name is a plain entry of the mount walked there.
	above map[string]bool
}

// add enters m in the table's indexes (not in mounts).
func (t *Table) add(m *Mount) {
	t.byDest[m.Dest] = m
	for d := path.Dir(m.Dest); d != "/"; d = path.Dir(d) {
		t.above[d] = true
	}
}

// Above says whether guest directory g is "/" or has a mount point (or
// had one: a covered mount leaves its directories here) somewhere below
// it. A walk below any other directory meets no mount point.
func (t *Table) Above(g string) bool { return t.above[g] }

// FirstID is the root mount's ID (Linux numbers a namespace's mounts from
// wherever its counter is; any positive numbers do).
const FirstID = 21

// NewTable makes the table of a root (read-only unless writable) and
// mounts, checking each Spec.
func NewTable(writable bool, specs []Spec) (*Table, error) {
	ms := make([]Mount, 0, len(specs))
	for _, s := range specs {
		m, err := Parse(s)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return FromMounts(writable, ms)
}

// FromMounts makes the table of a root and parsed mounts.
func FromMounts(writable bool, ms []Mount) (*Table, error) {
	root := &Mount{Kind: Root, Dest: "/", ReadOnly: !writable, Atime: "relatime", ID: FirstID, Parent: FirstID - 1, UID: -1, GID: -1}
	t := &Table{mounts: []*Mount{root}, byDest: map[string]*Mount{"/": root}, above: map[string]bool{"/": true}}
	for i := range ms {
		m := ms[i]
		for _, o := range t.mounts[1:] {
			if under(o.Dest, m.Dest) {
				return nil, fmt.Errorf("mount at %q: would hide the mount at %q", m.Dest, o.Dest)
			}
		}
		m.ID = FirstID + len(t.mounts)
		parent, _ := t.Find(m.Dest)
		m.Parent = parent.ID
		t.mounts = append(t.mounts, &m)
		t.add(&m)
	}
	return t, nil
}

// Root is the root mount.
func (t *Table) Root() *Mount { return t.mounts[0] }

// Mounts are all mounts, the root first, in mount order (as
// /proc/self/mountinfo lists them).
func (t *Table) Mounts() []*Mount { return t.mounts }

// Len is the number of mounts besides the root.
func (t *Table) Len() int { return len(t.mounts) - 1 }

// At is the mount whose root is clean guest path p, nil if none.
func (t *Table) At(p string) *Mount { return t.byDest[p] }

// Find is the mount clean absolute guest path p is in (the longest mount
// destination that is p or a parent of it) and p's path inside it.
func (t *Table) Find(p string) (*Mount, string) {
	for q := p; ; q = path.Dir(q) {
		if m := t.byDest[q]; m != nil {
			return m, Rel(m.Dest, p)
		}
		if q == "/" {
			return t.mounts[0], Rel("/", p) // not reached: "/" is in byDest
		}
	}
}

// Rel is clean guest path p relative to dest, which is p or one of its
// parents ("" for dest itself).
func Rel(dest, p string) string {
	if p == dest {
		return ""
	}
	if dest == "/" {
		return p[1:]
	}
	return p[len(dest)+1:]
}

// Guest is the guest path of rel inside m.
func (m *Mount) Guest(rel string) string {
	if rel == "" {
		return m.Dest
	}
	if m.Dest == "/" {
		return "/" + rel
	}
	return m.Dest + "/" + rel
}

// Child is where name (one component, not "." or "..") below rel in m
// leads: into the mount at that guest path if there is one (its root),
// else the entry of m.
func (t *Table) Child(m *Mount, rel, name string) (*Mount, string) {
	g := m.Guest(rel)
	if g == "/" {
		g = "/" + name
	} else {
		g += "/" + name
	}
	if c := t.byDest[g]; c != nil {
		return c, ""
	}
	if rel == "" {
		return m, name
	}
	return m, rel + "/" + name
}

// Dotdot is where ".." from rel in m leads: from a mount's root to the
// parent of its mount point (in the mount holding that), from the root's
// root nowhere (it stays), else rel's parent in m.
func (t *Table) Dotdot(m *Mount, rel string) (*Mount, string) {
	if rel != "" {
		if i := strings.LastIndexByte(rel, '/'); i >= 0 {
			return m, rel[:i]
		}
		return m, ""
	}
	if m.Kind == Root {
		return m, ""
	}
	return t.Find(path.Dir(m.Dest))
}

// MountPoint says whether rel in m is the root of a mount (itself or one
// mounted on it): what rmdir, unlink and rename of it find busy.
func (t *Table) MountPoint(m *Mount, rel string) bool {
	return rel == "" || t.byDest[m.Guest(rel)] != nil
}

// Cover puts m (a masked path: a mount of its own, Guarded) over what is
// at m.Dest: the mounts there and below leave the table, as Linux's mount
// over them hides them.
func (t *Table) Cover(m *Mount) error {
	if err := t.guardedOK(m); err != nil {
		return err
	}
	keep := t.mounts[:1]
	for _, o := range t.mounts[1:] {
		if under(o.Dest, m.Dest) {
			delete(t.byDest, o.Dest)
			continue
		}
		keep = append(keep, o)
	}
	t.mounts = append(keep, m)
	t.add(m)
	t.renumber()
	return nil
}

// Insert puts m (a read-only path: a bind of what the guest's tree holds
// at m.Dest onto itself, Guarded) before the mounts below m.Dest, which
// stay on it as Linux's recursive bind carries them. A mount already at
// m.Dest becomes read-only instead (the bind would be of that mount's
// root, the same files); Insert then returns that mount.
func (t *Table) Insert(m *Mount) (*Mount, error) {
	if err := t.guardedOK(m); err != nil {
		return nil, err
	}
	if o := t.byDest[m.Dest]; o != nil {
		o.ReadOnly, o.Guarded = true, true
		return o, nil
	}
	i := len(t.mounts)
	for k, o := range t.mounts[1:] {
		if under(o.Dest, m.Dest) {
			i = k + 1
			break
		}
	}
	t.mounts = append(t.mounts[:i], append([]*Mount{m}, t.mounts[i:]...)...)
	t.add(m)
	t.renumber()
	return m, nil
}

// guardedOK checks a mount for Cover or Insert and marks it Guarded.
func (t *Table) guardedOK(m *Mount) error {
	if m.Dest == "" || m.Dest[0] != '/' || path.Clean(m.Dest) != m.Dest || m.Dest == "/" {
		return fmt.Errorf("%q: not a clean absolute path below /", m.Dest)
	}
	if under(m.Dest, "/proc") || under(m.Dest, "/sys") || ServedDevices[m.Dest] {
		return fmt.Errorf("%s is kshim's own", m.Dest)
	}
	if m.Kind != Bind && m.Kind != Tmpfs {
		return fmt.Errorf("%s: a %s mount cannot guard a path", m.Dest, m.Kind)
	}
	m.Guarded = true
	return nil
}

// renumber gives the mounts IDs in table order and their parents' IDs.
func (t *Table) renumber() {
	for i, m := range t.mounts[1:] {
		m.ID = FirstID + 1 + i
		p, _ := t.Find(path.Dir(m.Dest))
		m.Parent = p.ID
	}
}

// Guards says whether clean guest path p is a directory above a mount
// (a Guarded one or any other), which must not be renamed: the mount
// would stay at its old path, and what it hides (a masked path's secret,
// the root's own files under a tmpfs) would show at the new one.
func (t *Table) Guards(p string) bool {
	for _, m := range t.mounts[1:] {
		if m.Dest != p && under(m.Dest, p) {
			return true
		}
	}
	return false
}
