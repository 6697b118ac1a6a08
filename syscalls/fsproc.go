// fsproc.go: kshim's own /proc. The host's /proc describes kshim, so the
// guest never sees it (fspath.go refuses procfs fds); instead /proc is a
// small tree generated from the guest's state:
//
//	/proc/self -> <pid>        /proc/<pid>/exe, cwd, root, fd/N (links)
//	/proc/cpuinfo (host's)     /proc/<pid>/maps, status (generated)
//	/proc/meminfo (from --mem)
//
// Invariants:
//   - A file is generated when it is opened, into a sealed memfd (a
//     snapshot, as Linux's seq_file gives a reader a consistent view), so
//     read, pread, lseek and mmap work through the same host-fd path as any
//     file; the guest's fd is read-only whatever the memfd's mode.
//   - Magic links (exe, cwd, root, fd/N) lead only to what the guest
//     already reaches: its program, its cwd, its root, its own fds.
//   - Nothing here is writable; lookups of other names are ENOENT.
package syscalls

import (
	"fmt"
	"hash/fnv"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
)

const (
	procDirMode  = unix.S_IFDIR | 0o555
	procFileMode = unix.S_IFREG | 0o444
	procLinkMode = unix.S_IFLNK | 0o777
)

// procNode is one entry of kshim's /proc.
type procNode struct {
	path string // its guest path, e.g. /proc/1234/maps
	mode uint32
	// gen generates a file's contents.
	gen func(p fileOwner) ([]byte, error)
	// names lists a directory's entries; child looks one up (nil: none).
	names func(p fileOwner) []string
	child func(p fileOwner, name string) *procNode
	// target is a symlink's readlink text.
	target func(p fileOwner) (string, error)
	// follow opens what a magic link leads to and rest below it. /proc/self
	// has none: it is an ordinary symlink to <pid>.
	follow func(p fileOwner, rest string, flags int, mode uint32) (resolved, error)
	// fdLink: a /proc/self/fd/N link, for guest fd fd.
	fdLink bool
	fd     int
}

func (n *procNode) isDir() bool  { return n.mode&unix.S_IFMT == unix.S_IFDIR }
func (n *procNode) isLink() bool { return n.mode&unix.S_IFMT == unix.S_IFLNK }

// virtualDir is an open /proc directory: its entries, listed by the first
// getdents64 after open or a rewind (so /proc/self/fd shows the fd being
// read, as on Linux), and the position.
type virtualDir struct {
	mu      sync.Mutex
	node    *procNode
	entries []procDirent // nil until listed
	pos     int
}

type procDirent struct {
	name string
	ino  uint64
	typ  uint8 // DT_*
}

func procIno(path string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(path))
	return h.Sum64()>>1 | 1
}

func (p *Process) procRoot() *procNode {
	pid := itoa(p.Pid)
	return &procNode{
		path: "/proc", mode: procDirMode,
		names: func(fileOwner) []string { return []string{"cpuinfo", "meminfo", "self", pid} },
		child: func(o fileOwner, name string) *procNode {
			p := o.(*Process)
			switch name {
			case "self":
				return &procNode{path: "/proc/self", mode: procLinkMode,
					target: func(fileOwner) (string, error) { return pid, nil }}
			case pid:
				return p.procPidDir()
			case "cpuinfo":
				return &procNode{path: "/proc/cpuinfo", mode: procFileMode, gen: func(fileOwner) ([]byte, error) {
					// The host's: the vCPU is one of its CPUs.
					return os.ReadFile("/proc/cpuinfo")
				}}
			case "meminfo":
				return &procNode{path: "/proc/meminfo", mode: procFileMode, gen: func(o fileOwner) ([]byte, error) { return o.(*Process).procMeminfo() }}
			}
			return nil
		},
	}
}

func (p *Process) procPidDir() *procNode {
	dir := "/proc/" + itoa(p.Pid)
	return &procNode{
		path: dir, mode: procDirMode,
		names: func(fileOwner) []string { return []string{"cwd", "exe", "fd", "maps", "root", "status"} },
		child: func(o fileOwner, name string) *procNode {
			p := o.(*Process)
			switch name {
			case "maps":
				return &procNode{path: dir + "/maps", mode: procFileMode, gen: func(o fileOwner) ([]byte, error) { return o.(*Process).procMaps() }}
			case "status":
				return &procNode{path: dir + "/status", mode: procFileMode, gen: func(o fileOwner) ([]byte, error) { return o.(*Process).procStatus() }}
			case "exe":
				return &procNode{path: dir + "/exe", mode: procLinkMode,
					target: func(o fileOwner) (string, error) { return o.(*Process).exeGuestPath(), nil },
					follow: followExe}
			case "cwd":
				return &procNode{path: dir + "/cwd", mode: procLinkMode,
					target: func(o fileOwner) (string, error) { return o.(*Process).getcwd() },
					follow: func(o fileOwner, rest string, flags int, mode uint32) (resolved, error) {
						p := o.(*Process)
						if n := p.fs.cwdNode; n != nil {
							return p.lookupAbs(n.path+"/"+rest, flags, mode)
						}
						return p.lookupFrom(p.fs.cwd, p.fs.cwdPath, orDot(rest), flags, mode)
					}}
			case "root":
				return &procNode{path: dir + "/root", mode: procLinkMode,
					target: func(fileOwner) (string, error) { return "/", nil },
					follow: func(o fileOwner, rest string, flags int, mode uint32) (resolved, error) {
						p := o.(*Process)
						return p.lookupAbs("/"+rest, flags, mode)
					}}
			case "fd":
				return p.procFDDir(dir + "/fd")
			}
			return nil
		},
	}
}

func (p *Process) procFDDir(dir string) *procNode {
	return &procNode{
		path: dir, mode: procDirMode,
		names: func(o fileOwner) []string {
			p := o.(*Process)
			var out []string
			for _, fd := range p.files.list() {
				out = append(out, itoa(fd))
			}
			return out
		},
		child: func(o fileOwner, name string) *procNode {
			p := o.(*Process)
			fd, err := strconv.Atoi(name)
			if err != nil || itoa(fd) != name {
				return nil
			}
			if _, ok := p.files.get(fd); !ok {
				return nil
			}
			return &procNode{path: dir + "/" + name, mode: procLinkMode, fdLink: true, fd: fd,
				target: func(o fileOwner) (string, error) { return o.(*Process).fdDisplayPath(fd) },
				follow: func(o fileOwner, rest string, flags int, mode uint32) (resolved, error) {
					p := o.(*Process)
					return p.followFD(fd, rest, flags, mode)
				}}
		},
	}
}

func orDot(rest string) string {
	if rest == "" {
		return "."
	}
	return rest
}

// lookupProc walks the components of a path after "/proc" (as split on
// "/", unread: "" and "." are skipped, ".." climbs, out of /proc too).
func (p *Process) lookupProc(comps []string, flags int, mode uint32) (resolved, error) {
	fail := func(err error) (resolved, error) { return resolved{fd: -1}, err }
	trailing := len(comps) > 0 && comps[len(comps)-1] == ""
	stack := []*procNode{p.procRoot()}
	for i, c := range comps {
		node := stack[len(stack)-1]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) == 1 {
				return p.lookupAbs("/"+strings.Join(comps[i+1:], "/"), flags, mode)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		if !node.isDir() {
			return fail(unix.ENOTDIR)
		}
		child := node.child(p, c)
		if child == nil {
			return fail(unix.ENOENT) // procfs: no new names, even with O_CREAT
		}
		rest := comps[i+1:]
		last := strings.Join(rest, "") == ""
		if child.isLink() && (!last || trailing || flags&unix.O_NOFOLLOW == 0) {
			if child.follow == nil { // /proc/self
				stack = append(stack, p.procPidDir())
				continue
			}
			return child.follow(p, strings.Join(rest, "/"), flags, mode)
		}
		stack = append(stack, child)
	}
	node := stack[len(stack)-1]
	switch {
	case (trailing || flags&unix.O_DIRECTORY != 0) && !node.isDir():
		return fail(unix.ENOTDIR)
	case flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL:
		return fail(unix.EEXIST)
	case node.isDir() && (flags&unix.O_CREAT != 0 || writeIntent(flags) && flags&unix.O_PATH == 0):
		return fail(unix.EISDIR)
	}
	return resolved{fd: -1, node: node, guest: node.path}, nil
}

// exeGuestPath is /proc/self/exe's text: the program's path inside the
// root, or its host path when it is outside (it was given on the host).
// After an exec, Exe is already the guest's name for it.
func (p *Process) exeGuestPath() string {
	if p.exeHostPath != "" {
		return p.Exe
	}
	if g, ok := p.fs.toGuest(p.Exe); ok {
		return g
	}
	return p.Exe
}

func followExe(o fileOwner, rest string, flags int, mode uint32) (resolved, error) {
	p := o.(*Process)
	if rest != "" {
		return resolved{fd: -1}, unix.ENOTDIR
	}
	if writeIntent(flags) && flags&unix.O_PATH == 0 {
		// The permission check comes first (may_open before
		// deny_write_access), with kshim's identity, the guest's.
		if err := unix.Faccessat2(unix.AT_FDCWD, p.exeHost(), unix.W_OK, unix.AT_EACCESS); err != nil {
			return resolved{fd: -1}, err
		}
		return resolved{fd: -1}, unix.ETXTBSY // the program is running
	}
	fd, err := p.openExe(flags|noctty(flags), mode)
	if err != nil {
		return resolved{fd: -1}, err
	}
	return resolved{fd: fd, guest: p.exeGuestPath(), origin: fromExe, grant: unix.O_RDONLY}, nil
}

// openExe opens the running program by the host's name for it. A name
// inside the root is resolved from the root, as the guest's own paths
// are: with --rw the guest may since have put a symlink on that path,
// which the host would follow out of the root.
func (p *Process) openExe(flags int, mode uint32) (int, error) {
	host := p.exeHost()
	if g, ok := p.fs.toGuest(host); ok && p.fs.root >= 0 {
		fd, err := openat2(p.fs.root, g, flags, mode, unix.RESOLVE_IN_ROOT)
		if err == nil && onProc(fd) {
			unix.Close(fd)
			return -1, unix.EACCES
		}
		return fd, err
	}
	return unix.Open(host, flags|unix.O_CLOEXEC, mode)
}

// followFD reopens guest fd (Linux opens the same file anew), or looks up
// rest below it when it is a directory.
func (p *Process) followFD(fd int, rest string, flags int, mode uint32) (resolved, error) {
	e, ok := p.files.get(fd)
	if !ok {
		return resolved{fd: -1}, unix.ENOENT
	}
	if n := e.file.node; n != nil {
		if rest != "" {
			return p.lookupAbs(n.path+"/"+rest, flags, mode)
		}
		return resolved{fd: -1, node: n, guest: n.path}, nil
	}
	if rest != "" {
		return p.lookupAt(e, rest, flags, mode)
	}
	if err := p.mayReopen(e, flags); err != nil {
		return resolved{fd: -1}, err
	}
	var h int
	var err error
	if flags&unix.O_PATH != 0 {
		h, err = unix.FcntlInt(uintptr(e.host), unix.F_DUPFD_CLOEXEC, 0)
	} else {
		// The host's magic link to kshim's own fd: the file the guest
		// already holds, opened anew with the guest's flags.
		h, err = unix.Open("/proc/self/fd/"+itoa(e.host), flags|unix.O_CLOEXEC|noctty(flags), mode)
	}
	if err != nil {
		return resolved{fd: -1}, err
	}
	return resolved{fd: h, guest: e.file.path, origin: e.file.origin, grant: e.file.grant}, nil
}

// mayReopen checks opening a guest fd's file anew with flags: the program
// is never opened for writing (ETXTBSY); a handed-in file gains no access
// mode it was not handed in with (EACCES, as a permission check says) --
// unless findInRoot finds it in the root, which it may read, and write
// with --rw (else EROFS) -- nor is truncated unless mayChange allows. The root's files
// are checked as any path (fsopen.go); devices and pipes open as on Linux.
func (p *Process) mayReopen(e fdEntry, flags int) error {
	f := e.file
	if flags&unix.O_PATH != 0 || f.node != nil || f.origin != fromHost && f.origin != fromExe {
		return nil
	}
	if f.origin == fromExe && writeIntent(flags) {
		return unix.ETXTBSY
	}
	// Linux's ACC_MODE; O_TRUNC asks for write permission too.
	acc := flags & unix.O_ACCMODE
	read, write := acc != unix.O_WRONLY, acc != unix.O_RDONLY || flags&unix.O_TRUNC != 0
	var st unix.Stat_t
	if err := unix.Fstat(e.host, &st); err != nil {
		return err
	}
	if write && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.EISDIR // before permissions, as Linux's may_open
	}
	moreRead := read && (f.grant < 0 || f.grant == unix.O_WRONLY)
	moreWrite := write && (f.grant < 0 || f.grant == unix.O_RDONLY)
	if moreRead || moreWrite {
		fd, _, ok := p.fs.findInRoot(e.host)
		if ok {
			unix.Close(fd)
		}
		switch {
		case !ok:
			return unix.EACCES
		case moreWrite && !p.fs.writable:
			return unix.EROFS
		}
	}
	if flags&unix.O_TRUNC != 0 && st.Mode&unix.S_IFMT == unix.S_IFREG {
		return p.mayChange(nil, f.origin, e.host)
	}
	return nil
}

// fdDisplayPath is readlink("/proc/self/fd/N"): the file's guest path, or
// the host's name for things without one ("pipe:[123]"), or the host path
// of an inherited file outside the root.
func (p *Process) fdDisplayPath(fd int) (string, error) {
	e, ok := p.files.get(fd)
	if !ok {
		return "", unix.ENOENT
	}
	if e.file.node != nil {
		return e.file.node.path, nil
	}
	hp, err := hostPathOf(e.host)
	if err != nil {
		if e.file.path != "" {
			return e.file.path, nil
		}
		return "", err
	}
	if g, ok := p.fs.toGuest(hp); ok && e.file.origin == fromRoot {
		return g, nil
	}
	return hp, nil
}

// procStat is the stat of a /proc node: sizes 0 (64 for fd links) and the
// process's start time, as Linux's procfs reports them.
func (p *Process) procStat(n *procNode) unix.Stat_t {
	st := unix.Stat_t{
		Ino: procIno(n.path), Nlink: 1, Mode: n.mode,
		Uid: uint32(unix.Geteuid()), Gid: uint32(unix.Getegid()), Blksize: 1024,
	}
	if n.isDir() {
		st.Nlink = 2
	}
	if n.fdLink {
		// Linux's fd links: size 64, the owner's bits from the open mode.
		st.Size, st.Mode = 64, unix.S_IFLNK
		if e, ok := p.files.get(n.fd); ok {
			acc := e.file.acc
			if e.file.node == nil {
				fl, _ := unix.FcntlInt(uintptr(e.host), unix.F_GETFL, 0)
				acc = fl & unix.O_ACCMODE
			}
			if acc != unix.O_WRONLY {
				st.Mode |= 0o500
			}
			if acc != unix.O_RDONLY {
				st.Mode |= 0o300
			}
		}
	}
	ts := unix.NsecToTimespec(p.started.UnixNano())
	st.Atim, st.Mtim, st.Ctim = ts, ts, ts
	return st
}

// openNode gives a /proc node a host fd: a sealed memfd snapshot for a
// file; for a directory or an O_PATH symlink, a placeholder (an O_PATH dup
// of the root, which no host I/O call accepts) that the handlers recognise
// by kind.
func (p *Process) openNode(n *procNode, flags int) (int, *openFile, error) {
	f := &openFile{path: n.path, node: n, pathOnly: flags&unix.O_PATH != 0, acc: flags & unix.O_ACCMODE}
	switch {
	case n.isLink():
		if flags&unix.O_PATH == 0 {
			return -1, nil, unix.ELOOP // O_NOFOLLOW on a symlink
		}
		f.kind = kindProcLink
	case n.isDir():
		f.kind = kindProcDir
		f.dir = &virtualDir{node: n}
	default:
		if writeIntent(flags) && flags&unix.O_PATH == 0 {
			// Linux's permission check (root may open them for
			// writing; the writes then fail).
			if err := nodeAccess(n, unix.W_OK); err != nil {
				return -1, nil, err
			}
		}
		f.kind = kindProc
		data, err := n.gen(p)
		if err != nil {
			return -1, nil, err
		}
		h, err := memfdSnapshot(data)
		return h, f, err
	}
	h, err := unix.FcntlInt(uintptr(p.fs.root), unix.F_DUPFD_CLOEXEC, 0)
	return h, f, err
}

func (p *Process) procDirents(n *procNode) []procDirent {
	parent := path.Dir(n.path)
	out := []procDirent{{".", procIno(n.path), unix.DT_DIR}, {"..", procIno(parent), unix.DT_DIR}}
	for _, name := range n.names(p) {
		c := n.child(p, name)
		if c == nil {
			continue
		}
		typ := uint8(unix.DT_REG)
		if c.isDir() {
			typ = unix.DT_DIR
		} else if c.isLink() {
			typ = unix.DT_LNK
		}
		out = append(out, procDirent{name, procIno(c.path), typ})
	}
	return out
}

// memfdSnapshot returns a read-only-sealed memfd holding data, at offset 0.
func memfdSnapshot(data []byte) (int, error) {
	h, err := unix.MemfdCreate("kshim-proc", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, err
	}
	for done := 0; done < len(data); {
		n, err := unix.Write(h, data[done:])
		if err != nil {
			unix.Close(h)
			return -1, err
		}
		done += n
	}
	_ = unix.Fchmod(h, 0o444)
	if _, err := unix.FcntlInt(uintptr(h), unix.F_ADD_SEALS,
		unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE); err != nil {
		unix.Close(h)
		return -1, err
	}
	if _, err := unix.Seek(h, 0, 0); err != nil {
		unix.Close(h)
		return -1, err
	}
	return h, nil
}

// procMaps is /proc/self/maps in Linux's format (show_map_vma): the
// header padded to 73 columns before a name, "0 " ending unnamed lines.
// guestmm does not export a file mapping's device, inode or the file
// offset of its object's page 0, so file mappings show 00:00 0 and an
// offset counted from where the mapping's object starts (right for
// mappings at file offset 0) until it does.
func (p *Process) procMaps() ([]byte, error) {
	var b strings.Builder
	for _, v := range p.MM.VMAs() {
		perm := []byte("---p")
		if v.Prot&unix.PROT_READ != 0 {
			perm[0] = 'r'
		}
		if v.Prot&unix.PROT_WRITE != 0 {
			perm[1] = 'w'
		}
		if v.Prot&unix.PROT_EXEC != 0 {
			perm[2] = 'x'
		}
		if v.Flags&guestmm.Shared != 0 {
			perm[3] = 's'
		}
		off := uint64(0)
		name := v.Name
		if v.Flags&guestmm.Anonymous == 0 {
			off = v.Off * guestmm.PageSize
			if g, ok := p.fs.toGuest(name); ok {
				name = g
			}
		}
		line := fmt.Sprintf("%08x-%08x %s %08x 00:00 0 ", v.Start, v.End, perm, off)
		if name != "" {
			line += strings.Repeat(" ", max(0, 72-len(line))) + " " + name
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return []byte(b.String()), nil
}

// procStatus is /proc/self/status with the fields kshim knows. VmSize is
// the sum of the VMAs; VmRSS counts the present user PTEs, which is close
// to Linux's resident set but not the same (kshim maps ahead on faults and
// does not count page-table pages); VmPeak and VmHWM are not tracked.
func (p *Process) procStatus() ([]byte, error) {
	var size, rss uint64
	for _, v := range p.MM.VMAs() {
		size += v.End - v.Start
	}
	_ = p.MM.PageTable().Range(0, guestmm.UserTop, func(uint64, uint64) error { rss++; return nil })
	comm := p.commName()
	uid, euid, gid, egid := unix.Getuid(), unix.Geteuid(), unix.Getgid(), unix.Getegid()
	var groups strings.Builder
	if gs, err := unix.Getgroups(); err == nil {
		sort.Ints(gs)
		for i, g := range gs {
			if i > 0 {
				groups.WriteByte(' ')
			}
			groups.WriteString(itoa(g))
		}
	}
	var caught, ignored uint64
	for sig := 1; sig <= nsig; sig++ {
		switch p.sig.act[sig].handler {
		case sigDfl:
		case sigIgn:
			ignored |= bit(sig)
		default:
			caught |= bit(sig)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Name:\t%s\nUmask:\t%04o\nState:\tR (running)\n", comm, p.fs.umask)
	// PPid as getppid(2) answers it.
	fmt.Fprintf(&b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", p.Pid, p.Pid, p.ppid())
	fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\n", uid, euid, euid, euid, gid, egid, egid, egid)
	fmt.Fprintf(&b, "FDSize:\t%d\nGroups:\t%s \n", p.files.maxFDSet(), groups.String())
	fmt.Fprintf(&b, "VmSize:\t%8d kB\nVmRSS:\t%8d kB\n", size>>10, rss*guestmm.PageSize>>10)
	fmt.Fprintf(&b, "Threads:\t1\n")
	fmt.Fprintf(&b, "SigPnd:\t%016x\nShdPnd:\t%016x\nSigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n",
		uint64(0), p.sig.pending, p.sig.mask, ignored, caught)
	return []byte(b.String()), nil
}

// procMeminfo is /proc/meminfo for the guest's memory (--mem): MemTotal
// is its size, MemFree what kshim has not handed out; the rest is 0 (no
// page cache, no swap).
func (p *Process) procMeminfo() ([]byte, error) {
	var total, used uint64
	if p.PhysMem != nil {
		total, used = p.PhysMem.Size(), p.PhysMem.Used()
	}
	free := total - min(used, total)
	var b strings.Builder
	for _, kv := range []struct {
		k string
		v uint64
	}{
		{"MemTotal", total}, {"MemFree", free}, {"MemAvailable", free},
		{"Buffers", 0}, {"Cached", 0}, {"SwapCached", 0},
		{"SwapTotal", 0}, {"SwapFree", 0}, {"Shmem", 0},
	} {
		// Linux: the name and colon padded to 16, the kB value to 8.
		fmt.Fprintf(&b, "%-16s%8d kB\n", kv.k+":", kv.v>>10)
	}
	return []byte(b.String()), nil
}
