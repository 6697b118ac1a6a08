// fsproc.go: kshim's own /proc. The host's /proc describes kshim, so the
// guest never sees it (fspath.go refuses procfs fds); instead /proc is a
// small tree generated from the guest's state:
//
//	/proc/self -> <pid>        /proc/<pid>/exe, cwd, root, fd/N (links)
//	/proc/cpuinfo (host's, the guest's CPUs)  /proc/<pid>/maps, environ, fdinfo/N (generated)
//	/proc/<any guest pid>/stat, status, cmdline, comm, task/<tid>/ (pid.go)
//	/proc/<any guest tid> (found, not listed: pid.go)
//	/proc/meminfo (from --mem), vmstat (sysfiles.go)  /proc/<pid>/mounts, mountinfo (fs/fsmount.go)
//	/proc/mounts -> self/mounts
//	/proc/stat, uptime (host's), loadavg (host's loads, the guest's tasks)
//	/proc/net/tcp, udp, unix, dev... (the guest's network namespace's)
//
// Invariants:
//   - A file is generated when it is opened (its errors are the open's)
//     into a memfd the guest's host fd reads read-only, and again when a
//     read starts over, as Linux's seq_file generates on read: a read
//     from 0, or from elsewhere than where the last read ended, or every
//     read of cmdline and environ (fs.ProcSeq; rereadGen says for which
//     task). read, pread, readv, sendfile and splice go through the same
//     host-fd path as any file once the text is there; mmap is ENODEV.
//   - An open file or directory of the opener's own /proc/PID stays that
//     process's when another process reads it (rereadGen, openerDir), as
//     Linux resolves /proc/self at the open.
//   - Magic links (exe, cwd, root, fd/N) lead only to what the guest
//     already reaches: its processes' programs, cwds, root and fds.
//   - Another process's links and views (pidDir with a view{q}) are read
//     under kernel's Peek (pid.go): never a host fd number read from its
//     tables, only dups taken under their locks, and no host open while
//     the table's lock is held.
//   - Nothing here is writable but a thread's comm (pid.go); lookups of
//     other names are ENOENT.
package proc

import (
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/ipc"
	"kshim/syscalls/kernel"
)

// FS is kshim's /proc as a Process's file side reaches it (ProcFS).
type FS struct{}

func (FS) Lookup(p *kernel.Process, comps []string, flags int, mode uint32) (fs.Resolved, error) {
	return lookupTree(p, procRoot(p), comps, flags, mode)
}

func (FS) LookupSys(p *kernel.Process, comps []string, flags int, mode uint32) (fs.Resolved, error) {
	return lookupTree(p, sysRoot(), comps, flags, mode)
}

func (FS) LookupMqueue(p *kernel.Process, dest string, comps []string, flags int, mode uint32) (fs.Resolved, error) {
	return ipc.Of(p.Proc.K).MqLookup(p, dest, comps, flags, mode) // ipc/mqfs.go
}

func (FS) Stat(p *kernel.Process, n *fs.ProcNode) unix.Stat_t { return procStat(p, n) }

func (FS) Open(p *kernel.Process, n *fs.ProcNode, flags int) (int, *fs.OpenFile, error) {
	return openNode(p, n, flags)
}

func (FS) Dirents(p *kernel.Process, n *fs.ProcNode) []fs.ProcDirent { return procDirents(p, n) }

const (
	procDirMode  = unix.S_IFDIR | 0o555
	procFileMode = unix.S_IFREG | 0o444
	procLinkMode = unix.S_IFLNK | 0o777
)

func procRoot(p *kernel.Process) *fs.ProcNode {
	pid := abi.Itoa(p.Pid)
	return &fs.ProcNode{
		Path: "/proc", Mode: procDirMode,
		Names: func(o fs.FileOwner) []string {
			names := []string{"cpuinfo", "loadavg", "meminfo", "mounts", "net", "self", "stat", "sys", "sysvipc", "thread-self", "uptime", "vmstat"}
			for _, q := range guestPIDs(o.(*kernel.Process)) { // pid.go
				names = append(names, abi.Itoa(q))
			}
			return names
		},
		Child: func(o fs.FileOwner, name string) *fs.ProcNode {
			p := o.(*kernel.Process)
			switch name {
			case "self":
				return &fs.ProcNode{Path: "/proc/self", Mode: procLinkMode,
					Target: func(fs.FileOwner) (string, error) { return pid, nil }}
			case "thread-self":
				// The calling thread's task directory, as Linux's.
				tid := abi.Itoa(p.Tid)
				return &fs.ProcNode{Path: "/proc/thread-self", Mode: procLinkMode,
					Target: func(fs.FileOwner) (string, error) { return pid + "/task/" + tid, nil }}
			case pid:
				return procPidDir(p)
			case "cpuinfo":
				return &fs.ProcNode{Path: "/proc/cpuinfo", Mode: procFileMode, Splice: true, Gen: func(fs.FileOwner) ([]byte, error) {
					// The host's: the vCPU is one of its CPUs.
					b, err := os.ReadFile("/proc/cpuinfo")
					if err != nil {
						return nil, err
					}
					return guestCPUInfo(b, kernel.HostCPUs()), nil
				}}
			case "stat", "uptime", "loadavg":
				return hostSysFile(name) // sysfiles.go
			case "net":
				return procNetDir(p) // sysfiles.go
			case "sysvipc":
				return procSysvipcDir() // sysfiles.go
			case "sys":
				return procSysDir() // sysfiles.go
			case "meminfo":
				return &fs.ProcNode{Path: "/proc/meminfo", Mode: procFileMode, Splice: true, Gen: func(o fs.FileOwner) ([]byte, error) { return procMeminfo(o.(*kernel.Process)) }}
			case "vmstat":
				return &fs.ProcNode{Path: "/proc/vmstat", Mode: procFileMode, Splice: true, Gen: func(o fs.FileOwner) ([]byte, error) { return procVmstat(o.(*kernel.Process)) }}
			case "mounts":
				// Linux's /proc/mounts is a link into self.
				return &fs.ProcNode{Path: "/proc/mounts", Mode: procLinkMode,
					Target: func(fs.FileOwner) (string, error) { return "self/mounts", nil },
					Follow: func(o fs.FileOwner, rest string, flags int, mode uint32) (fs.Resolved, error) {
						if rest != "" {
							rest = "/" + rest
						}
						return o.(*kernel.Process).LookupAbs("/proc/self/mounts"+rest, flags, mode)
					}}
			}
			if q := otherProc(p, name); q != nil {
				return pidDir(p, view{q: q}) // another process's: pid.go's rule
			}
			if v, ok := threadView(p, name); ok {
				return pidDir(p, v) // a thread's, not listed (pid.go)
			}
			return nil
		},
	}
}

func procPidDir(p *kernel.Process) *fs.ProcNode { return pidDir(p, view{}) }

// view is how a /proc/PID file reaches its process: q nil is the reader's
// own process, which it reads directly (its own state, on its own
// goroutine); another process's (its leader) is read under kernel's
// Peek, which holds it still and applies Linux's access rule (pid.go).
// tid is the thread whose view it is (0: the leader's, /proc/PID), of
// /proc/TID or, with task, of task/TID (pid.go).
type view struct {
	q    *kernel.Process
	tid  int
	task bool
}

// peek runs f on the view's process as reader o sees it.
func (v view) peek(o fs.FileOwner, f func(t *kernel.Process) error) error {
	p := o.(*kernel.Process)
	if v.q == nil {
		return f(p)
	}
	return p.Peek(v.q, func() error { return f(v.q) })
}

// of is the ProcNode.Of of the view's nodes.
func (v view) of() fs.FileOwner {
	if v.q == nil {
		return nil
	}
	return v.q
}

// gone is a process without an address space, files or fs any more.
func gone(err error) bool { return err == unix.ENOENT }

func pidDir(p *kernel.Process, v view) *fs.ProcNode {
	pid := p.Pid
	switch {
	case v.tid != 0:
		pid = v.tid
	case v.q != nil:
		pid = v.q.Pid
	}
	dir := "/proc/" + abi.Itoa(pid)
	return &fs.ProcNode{
		Path: dir, Mode: procDirMode, Of: v.of(),
		Names: func(fs.FileOwner) []string {
			return []string{"cmdline", "comm", "cwd", "environ", "exe", "fd", "fdinfo", "limits", "maps", "mountinfo", "mounts", "root", "stat", "status", "task"}
		},
		Child: func(o fs.FileOwner, name string) *fs.ProcNode {
			n := pidChild(v, dir, name)
			if n != nil {
				n.Of = v.of()
			}
			return n
		},
	}
}

func pidChild(v view, dir, name string) *fs.ProcNode {
	switch name {
	case "maps", "environ":
		mode := uint32(procFileMode)
		if name == "environ" {
			mode = unix.S_IFREG | 0o400
		}
		// environ_read reads the memory at each read; maps is a seq_file.
		return &fs.ProcNode{Path: dir + "/" + name, Mode: mode, Direct: name == "environ", Gen: func(o fs.FileOwner) ([]byte, error) {
			var b []byte
			err := v.peek(o, func(t *kernel.Process) error {
				var err error
				if name == "maps" {
					b, err = ProcMaps(t)
				} else {
					b = t.MM.Environ()
				}
				return err
			})
			if gone(err) {
				return nil, nil // Linux: a process without mm reads as empty
			}
			return b, err
		}}
	case "status", "stat", "cmdline", "comm", "limits":
		return pidFile(v, dir, name) // pid.go
	case "task":
		return procTaskDir(v, dir+"/task")
	case "mounts", "mountinfo":
		// The guest's processes share one mount table and root.
		info := name == "mountinfo"
		return &fs.ProcNode{Path: dir + "/" + name, Mode: procFileMode, Splice: true,
			Gen: func(o fs.FileOwner) ([]byte, error) { return o.(*kernel.Process).ProcMounts(info) }}
	case "exe":
		return &fs.ProcNode{Path: dir + "/exe", Mode: procLinkMode,
			Target: func(o fs.FileOwner) (string, error) {
				var g string
				err := v.peek(o, func(t *kernel.Process) error { g = exeGuestPath(t); return nil })
				return g, err
			},
			Follow: func(o fs.FileOwner, rest string, flags int, mode uint32) (fs.Resolved, error) {
				var host, g, eg string
				err := v.peek(o, func(t *kernel.Process) error {
					host, g, eg = t.ExeHost(), exeGuestPath(t), t.ExeGuest()
					return nil
				})
				if err != nil {
					return fs.Resolved{FD: -1}, err
				}
				return followExe(o.(*kernel.Process), host, g, eg, rest, flags, mode)
			}}
	case "cwd":
		return &fs.ProcNode{Path: dir + "/cwd", Mode: procLinkMode,
			Target: func(o fs.FileOwner) (string, error) {
				p := o.(*kernel.Process)
				if v.q == nil {
					return p.Getcwd()
				}
				c, err := cwdOf(p, v.q)
				if err != nil {
					return "", err
				}
				return p.CwdPath(c)
			},
			Follow: func(o fs.FileOwner, rest string, flags int, mode uint32) (fs.Resolved, error) {
				p := o.(*kernel.Process)
				var c fs.Cwd
				var err error
				if v.q == nil {
					// The reader's own, read directly (view): Peek
					// knows a process by its leader, and found a
					// non-leader thread gone (ESRCH).
					c, err = fs.CwdOf(&p.Task)
				} else {
					c, err = cwdOf(p, v.q)
				}
				if err != nil {
					return fs.Resolved{FD: -1}, err
				}
				if c.Node != nil {
					return p.LookupAbs(c.Node.Path+"/"+rest, flags, mode)
				}
				defer unix.Close(c.FD)
				return p.LookupFrom(c.FD, c.Mnt, c.Path, orDot(rest), flags, mode)
			}}
	case "root":
		return &fs.ProcNode{Path: dir + "/root", Mode: procLinkMode,
			Target: func(o fs.FileOwner) (string, error) {
				return "/", v.peek(o, func(*kernel.Process) error { return nil })
			},
			Follow: func(o fs.FileOwner, rest string, flags int, mode uint32) (fs.Resolved, error) {
				if err := v.peek(o, func(*kernel.Process) error { return nil }); err != nil {
					return fs.Resolved{FD: -1}, err
				}
				return o.(*kernel.Process).LookupAbs("/"+rest, flags, mode)
			}}
	case "fd":
		return procFDDir(v, dir+"/fd")
	case "fdinfo":
		return procFDInfoDir(v, dir+"/fdinfo")
	}
	return nil
}

// cwdOf is q's cwd as reader p may see it (Peek's rule), with a host fd
// of p's own.
func cwdOf(p, q *kernel.Process) (fs.Cwd, error) {
	c := fs.Cwd{FD: -1}
	err := p.Peek(q, func() error {
		var err error
		c, err = fs.CwdOf(&q.Task)
		return err
	})
	return c, err
}

// fdList is the view's process's open fds (none once it is gone).
func fdList(o fs.FileOwner, v view) []string {
	var out []string
	_ = v.peek(o, func(t *kernel.Process) error {
		for _, fd := range t.Files.List() {
			out = append(out, abi.Itoa(fd))
		}
		return nil
	})
	return out
}

// fdArg is a decimal fd name, or -1.
func fdArg(name string) int {
	fd, err := strconv.Atoi(name)
	if err != nil || fd < 0 || abi.Itoa(fd) != name {
		return -1
	}
	return fd
}

// fdEntry is the view's process's guest fd with a host fd of the
// reader's own for it (to close), taken under the table's lock.
func fdEntry(o fs.FileOwner, v view, fd int) (fs.FDEntry, error) {
	var e fs.FDEntry
	err := v.peek(o, func(t *kernel.Process) error {
		var h int
		var err error
		e, h, err = t.Files.GetDup(fd)
		e.Host = h
		return err
	})
	if err != nil {
		e.Host = -1
	}
	return e, err
}

func procFDDir(v view, dir string) *fs.ProcNode {
	return &fs.ProcNode{
		Path: dir, Mode: unix.S_IFDIR | 0o500, // Linux's fd/ is dr-x------
		Names: func(o fs.FileOwner) []string { return fdList(o, v) },
		Child: func(o fs.FileOwner, name string) *fs.ProcNode {
			fd := fdArg(name)
			if fd < 0 || !hasFD(o, v, fd) {
				return nil
			}
			return &fs.ProcNode{Path: dir + "/" + name, Mode: procLinkMode, FDLink: true, FD: fd, Of: v.of(),
				Target: func(o fs.FileOwner) (string, error) {
					e, err := fdEntry(o, v, fd)
					if err != nil {
						return "", err
					}
					defer unix.Close(e.Host)
					return fdDisplay(o.(*kernel.Process), e)
				},
				Follow: func(o fs.FileOwner, rest string, flags int, mode uint32) (fs.Resolved, error) {
					p := o.(*kernel.Process)
					e, err := fdEntry(o, v, fd)
					if err != nil {
						return fs.Resolved{FD: -1}, err
					}
					defer unix.Close(e.Host)
					if n := e.File.Node; n != nil && v.q != nil {
						// Another process's /proc file: by its path,
						// which names that process.
						return p.LookupAbs(n.Path+"/"+rest, flags, mode)
					}
					return followFD(p, e, rest, flags, mode)
				}}
		},
	}
}

// hasFD says whether the view's process has guest fd fd open.
func hasFD(o fs.FileOwner, v view, fd int) bool {
	ok := false
	_ = v.peek(o, func(t *kernel.Process) error { _, ok = t.Files.Get(fd); return nil })
	return ok
}

// procFDInfoDir is /proc/PID/fdinfo: per fd, Linux's first four lines
// (the shared offset, the status flags with O_CLOEXEC for the fd's flag,
// the mount ID as statx gives it, the inode number). The lines some file
// types add (eventfd-count, epoll's tfd, inotify's) are not given: the
// host's would name kshim's own fds and devices.
func procFDInfoDir(v view, dir string) *fs.ProcNode {
	return &fs.ProcNode{
		Path: dir, Mode: procDirMode,
		Names: func(o fs.FileOwner) []string { return fdList(o, v) },
		Child: func(o fs.FileOwner, name string) *fs.ProcNode {
			fd := fdArg(name)
			if fd < 0 || !hasFD(o, v, fd) {
				return nil
			}
			return &fs.ProcNode{Path: dir + "/" + name, Mode: procFileMode, Of: v.of(),
				Gen: func(o fs.FileOwner) ([]byte, error) {
					e, err := fdEntry(o, v, fd)
					if err != nil {
						return nil, err
					}
					defer unix.Close(e.Host)
					return fdInfo(o.(*kernel.Process), e)
				}}
		},
	}
}

// fdInfo is one fdinfo file for entry e (e.Host a host fd for it). The
// mount ID is the guest's, as statx gives it (the host's for what is in
// no guest mount: pipes, sockets, devices).
func fdInfo(p *kernel.Process, e fs.FDEntry) ([]byte, error) {
	var pos int64
	var flags int
	var ino uint64
	if n := e.File.Node; n != nil {
		flags = e.File.Acc | oLargefile // the open's other flags are not kept
		ino = fs.ProcIno(n.Path)
		if d := e.File.Dir; d != nil {
			d.Mu.Lock()
			pos = int64(d.Pos)
			d.Mu.Unlock()
		} else if e.File.Kind == fs.KindProc {
			pos, _ = unix.Seek(e.Host, 0, unix.SEEK_CUR)
		}
	} else {
		pos, _ = unix.Seek(e.Host, 0, unix.SEEK_CUR) // ESPIPE: Linux's f_pos stays 0
		fl, err := unix.FcntlInt(uintptr(e.Host), unix.F_GETFL, 0)
		if err != nil {
			return nil, err
		}
		flags = fl &^ unix.O_CLOEXEC
	}
	var stx unix.Statx_t
	if err := unix.Statx(e.Host, "", unix.AT_EMPTY_PATH, unix.STATX_INO|unix.STATX_MNT_ID, &stx); err != nil {
		return nil, err
	}
	if e.File.Node == nil {
		ino = stx.Ino
	}
	mnt := stx.Mnt_id
	if id, ok := p.MountID(fs.Resolved{FD: e.Host, Node: e.File.Node, Origin: e.File.Origin, Mnt: e.File.Mnt}); ok {
		mnt = id
	}
	if e.Cloexec {
		flags |= unix.O_CLOEXEC
	}
	return []byte(fmt.Sprintf("pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n", max(pos, 0), flags, mnt, ino)), nil
}

func orDot(rest string) string {
	if rest == "" {
		return "."
	}
	return rest
}

// lookupProc walks the components of a path after "/proc" (as split on
// "/", unread: "" and "." are skipped, ".." climbs, out of /proc too).
func lookupTree(p *kernel.Process, root *fs.ProcNode, comps []string, flags int, mode uint32) (fs.Resolved, error) {
	fail := func(err error) (fs.Resolved, error) { return fs.Resolved{FD: -1}, err }
	trailing := len(comps) > 0 && comps[len(comps)-1] == ""
	stack := []*fs.ProcNode{root}
	for i, c := range comps {
		node := stack[len(stack)-1]
		switch c {
		case "":
			continue
		case ".":
			if !node.IsDir() {
				return fail(unix.ENOTDIR) // "status/." as "status/x"
			}
			continue
		case "..":
			if len(stack) == 1 {
				return p.LookupAbs("/"+strings.Join(comps[i+1:], "/"), flags, mode)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		if !node.IsDir() {
			return fail(unix.ENOTDIR)
		}
		if node.Mode&0o001 == 0 && unix.Geteuid() != 0 && rootOwned(p, node) || fdinfoDenied(p, node) {
			return fail(unix.EACCES) // no search permission (fd/, fdinfo/ of a process not dumpable)
		}
		child := node.Child(p, c)
		if child == nil {
			return fail(unix.ENOENT) // procfs: no new names, even with O_CREAT
		}
		rest := comps[i+1:]
		last := strings.Join(rest, "") == ""
		if child.IsLink() && (!last || trailing || flags&unix.O_NOFOLLOW == 0) {
			if child.Follow == nil { // /proc/self, /proc/thread-self
				dir := procPidDir(p)
				stack = append(stack, dir)
				if child.Path == "/proc/thread-self" {
					// PID/task/TID: ".." leads to task/, then PID/.
					task := dir.Child(p, "task")
					tid := task.Child(p, abi.Itoa(p.Tid))
					if tid == nil {
						return fail(unix.ENOENT)
					}
					stack = append(stack, task, tid)
				}
				continue
			}
			r := strings.Join(rest, "/")
			if strings.Trim(r, "/") == "" {
				// Nothing after the link but slashes: a trailing
				// slash follows it and wants a directory ("fd/0/"
				// is ENOTDIR), as "." below it does.
				r = ""
				if trailing {
					r = "."
				}
			}
			return child.Follow(p, r, flags, mode)
		}
		stack = append(stack, child)
	}
	node := stack[len(stack)-1]
	switch {
	case (trailing || flags&unix.O_DIRECTORY != 0) && !node.IsDir():
		return fail(unix.ENOTDIR)
	case flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL:
		return fail(unix.EEXIST)
	case node.IsDir() && (flags&unix.O_CREAT != 0 || fs.WriteIntent(flags) && flags&unix.O_PATH == 0):
		return fail(unix.EISDIR)
	}
	return fs.Resolved{FD: -1, Node: node, Guest: node.Path}, nil
}

// exeGuestPath is /proc/self/exe's text: the program's path inside the
// root, or its host path when it is outside (it was given on the host).
// After an exec, Exe is already the guest's name for it.
func exeGuestPath(p *kernel.Process) string {
	if p.ExeHostPath != "" {
		return p.Exe
	}
	if g, ok := p.FS.ToGuest(p.Exe); ok {
		return g
	}
	return p.Exe
}

// followExe opens the program whose host name is host (guest name g; eg
// its path in the guest's tree, if found there: kernel's ExeGuest) for
// reader p: its own, or another process's.
func followExe(p *kernel.Process, host, g, eg, rest string, flags int, mode uint32) (fs.Resolved, error) {
	if rest != "" {
		return fs.Resolved{FD: -1}, unix.ENOTDIR
	}
	if fs.WriteIntent(flags) && flags&unix.O_PATH == 0 {
		// The permission check comes first (may_open before
		// deny_write_access), with kshim's identity, the guest's, on
		// the file the open would reach (not by the host's name for
		// it, which with mounts may name another file: OpenExeAt).
		fd, err := p.OpenExeAt(host, eg, unix.O_PATH, 0)
		if err != nil {
			return fs.Resolved{FD: -1}, err
		}
		err = unix.Faccessat2(fd, "", unix.W_OK, unix.AT_EMPTY_PATH|unix.AT_EACCESS)
		unix.Close(fd)
		if err != nil {
			return fs.Resolved{FD: -1}, err
		}
		return fs.Resolved{FD: -1}, unix.ETXTBSY // the program is running
	}
	fd, err := p.OpenExeAt(host, eg, flags|fs.Noctty(flags), mode)
	if err != nil {
		return fs.Resolved{FD: -1}, err
	}
	return fs.Resolved{FD: fd, Guest: g, Origin: fs.FromExe, Grant: unix.O_RDONLY}, nil
}

// followFD reopens the file of guest fd entry e (Linux opens the same
// file anew), or looks up rest below it when it is a directory. e.Host is
// a host fd for it that stays open meanwhile.
func followFD(p *kernel.Process, e fs.FDEntry, rest string, flags int, mode uint32) (fs.Resolved, error) {
	if n := e.File.Node; n != nil {
		if rest != "" {
			return p.LookupAbs(n.Path+"/"+rest, flags, mode)
		}
		return fs.Resolved{FD: -1, Node: n, Guest: n.Path}, nil
	}
	if rest != "" {
		return p.LookupAt(e, rest, flags, mode)
	}
	if err := mayReopen(p, e, flags); err != nil {
		return fs.Resolved{FD: -1}, err
	}
	var h int
	var err error
	if flags&unix.O_PATH != 0 {
		// The same file, no reopen: so the host checks no O_DIRECTORY
		// (chdir's lookup), which Linux's walk does.
		var st unix.Stat_t
		if flags&unix.O_DIRECTORY != 0 && unix.Fstat(e.Host, &st) == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return fs.Resolved{FD: -1}, unix.ENOTDIR
		}
		h, err = unix.FcntlInt(uintptr(e.Host), unix.F_DUPFD_CLOEXEC, 0)
	} else {
		// The host's magic link to kshim's own fd: the file the guest
		// already holds, opened anew with the guest's flags.
		h, err = unix.Open("/proc/self/fd/"+abi.Itoa(e.Host), flags|unix.O_CLOEXEC|fs.Noctty(flags), mode)
	}
	if err != nil {
		return fs.Resolved{FD: -1}, err
	}
	return fs.Resolved{FD: h, Guest: e.File.Path, Origin: e.File.Origin, Grant: e.File.Grant, Mnt: e.File.Mnt}, nil
}

// mayReopen checks opening a guest fd's file anew with flags: the program
// is never opened for writing (ETXTBSY); a handed-in file gains no access
// mode it was not handed in with (EACCES, as a permission check says) --
// unless FindInRoot finds it in the root, which it may read, and write
// with --rw (else EROFS) -- nor is truncated unless MayChange allows. The root's files
// are checked as any path (fsopen.go); devices and pipes open as on Linux.
func mayReopen(p *kernel.Process, e fs.FDEntry, flags int) error {
	f := e.File
	if flags&unix.O_PATH != 0 || f.Node != nil || f.Origin != fs.FromHost && f.Origin != fs.FromExe {
		return nil
	}
	if f.Origin == fs.FromExe && fs.WriteIntent(flags) {
		return unix.ETXTBSY
	}
	// Linux's ACC_MODE; O_TRUNC asks for write permission too.
	acc := flags & unix.O_ACCMODE
	read, write := acc != unix.O_WRONLY, acc != unix.O_RDONLY || flags&unix.O_TRUNC != 0
	var st unix.Stat_t
	if err := unix.Fstat(e.Host, &st); err != nil {
		return err
	}
	if write && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.EISDIR // before permissions, as Linux's may_open
	}
	moreRead := read && (f.Grant < 0 || f.Grant == unix.O_WRONLY)
	moreWrite := write && (f.Grant < 0 || f.Grant == unix.O_RDONLY)
	if moreRead || moreWrite {
		fd, _, ok := p.FS.FindInRoot(e.Host)
		if ok {
			unix.Close(fd)
		}
		switch {
		case !ok:
			return unix.EACCES
		case moreWrite && p.FS.RO(nil):
			return unix.EROFS
		}
	}
	if flags&unix.O_TRUNC != 0 && st.Mode&unix.S_IFMT == unix.S_IFREG {
		return p.MayChange(nil, f.Origin, e.Host, f.Mnt)
	}
	return nil
}

// fdDisplay is readlink("/proc/PID/fd/N") of entry e: the file's guest path, or
// the host's name for things without one ("pipe:[123]"), or the host path
// of an inherited file outside the root.
func fdDisplay(p *kernel.Process, e fs.FDEntry) (string, error) {
	if e.File.Node != nil {
		return e.File.Node.Path, nil
	}
	if e.File.Origin == fs.FromDevice && e.File.Path != "" {
		// The path it was opened by: a served device, or a terminal of
		// the guest's devpts, whose host name is no guest path.
		return e.File.Path, nil
	}
	if e.File.Mnt != nil {
		return p.FS.GuestPathIn(e.Host, e.File.Mnt, e.File.Path)
	}
	hp, err := fs.HostPathOf(e.Host)
	if err != nil {
		if e.File.Path != "" {
			return e.File.Path, nil
		}
		return "", err
	}
	if g, ok := p.FS.ToGuest(hp); ok && e.File.Origin == fs.FromRoot {
		return g, nil
	}
	return hp, nil
}

// procStat is the stat of a /proc node: sizes 0 (64 for fd links) and the
// process's start time, as Linux's procfs reports them.
func procStat(p *kernel.Process, n *fs.ProcNode) unix.Stat_t {
	if n.StatOf != nil {
		return n.StatOf(p)
	}
	st := unix.Stat_t{
		Ino: fs.ProcIno(n.Path), Nlink: 1, Mode: n.Mode,
		Uid: uint32(unix.Geteuid()), Gid: uint32(unix.Getegid()), Blksize: 1024,
	}
	if n.IsDir() {
		st.Nlink = 2
	}
	if n.Sys() {
		// sysfs: root's, and a file's size is a page (what it may hold).
		st.Uid, st.Gid = 0, 0
		if !n.IsDir() {
			st.Size = guestmm.PageSize
		}
	}
	if rootOwned(p, n) {
		st.Uid, st.Gid = 0, 0
	}
	if n.DevLink {
		t, _ := n.Target(p)
		st.Uid, st.Gid, st.Size = 0, 0, int64(len(t))
	}
	if n.FDLink {
		// Linux's fd links: size 64, the owner's bits from the open mode.
		st.Size, st.Mode = 64, unix.S_IFLNK
		acc := -1
		mode := func(t *kernel.Process) error {
			e, h, err := t.Files.GetDup(n.FD)
			if err != nil {
				return err
			}
			defer unix.Close(h)
			acc = e.File.Acc
			if e.File.Node == nil {
				fl, _ := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0)
				acc = fl & unix.O_ACCMODE
			}
			return nil
		}
		if q, ok := n.Of.(*kernel.Process); ok {
			_ = p.Peek(q, func() error { return mode(q) }) // the table's lock held
		} else {
			_ = mode(p)
		}
		if acc >= 0 {
			if acc != unix.O_WRONLY {
				st.Mode |= 0o500
			}
			if acc != unix.O_RDONLY {
				st.Mode |= 0o300
			}
		}
	}
	ts := unix.NsecToTimespec(p.Started.UnixNano())
	st.Atim, st.Mtim, st.Ctim = ts, ts, ts
	return st
}

// openNode gives a /proc node a host fd: a sealed memfd snapshot for a
// file; for a directory or an O_PATH symlink, a placeholder (an O_PATH dup
// of the root, which no host I/O call accepts) that the handlers recognise
// by kind.
func openNode(p *kernel.Process, n *fs.ProcNode, flags int) (int, *fs.OpenFile, error) {
	if n.Open != nil && flags&unix.O_PATH == 0 {
		return n.Open(p, flags)
	}
	f := &fs.OpenFile{Path: n.Path, Node: n, PathOnly: flags&unix.O_PATH != 0, Acc: flags & unix.O_ACCMODE}
	if flags&unix.O_PATH == 0 && !n.IsLink() {
		// Root's (task_dump_owner): the guest's identity has the
		// other bits only (fd/ is 0500: no listing, environ 0400,
		// comm 0644: no writing).
		if unix.Geteuid() != 0 && rootOwned(p, n) &&
			(flags&unix.O_ACCMODE != unix.O_WRONLY && n.Mode&0o004 == 0 || fs.WriteIntent(flags) && n.Mode&0o002 == 0) {
			return -1, nil, unix.EACCES
		}
		if fdinfoDenied(p, n) {
			return -1, nil, unix.EACCES
		}
	}
	switch {
	case n.IsLink():
		if flags&unix.O_PATH == 0 {
			return -1, nil, unix.ELOOP // O_NOFOLLOW on a symlink
		}
		f.Kind = fs.KindProcLink
	case n.IsDir():
		f.Kind = fs.KindProcDir
		f.Dir = &fs.VirtualDir{Node: openerDir(p, n)}
	default:
		if fs.WriteIntent(flags) && flags&unix.O_PATH == 0 {
			// Linux's permission check (root may open /proc's files
			// for writing; the writes then fail). kernfs refuses a
			// file without a store method to root too.
			if err := fs.NodeAccess(n, unix.W_OK); err != nil || n.Sys() {
				return -1, nil, unix.EACCES
			}
		}
		f.Kind = fs.KindProc
		data, err := n.Gen(p)
		if err != nil {
			return -1, nil, err
		}
		f.Seq = fs.NewProcSeq(n, rereadGen(p, n))
		h, err := fs.ProcMemfd(data)
		return h, f, err
	}
	h, err := unix.FcntlInt(uintptr(p.FS.Root), unix.F_DUPFD_CLOEXEC, 0)
	return h, f, err
}

func procDirents(p *kernel.Process, n *fs.ProcNode) []fs.ProcDirent {
	parent := path.Dir(n.Path)
	out := []fs.ProcDirent{{Name: ".", Ino: fs.ProcIno(n.Path), Typ: unix.DT_DIR}, {Name: "..", Ino: fs.ProcIno(parent), Typ: unix.DT_DIR}}
	for _, name := range n.Names(p) {
		c := n.Child(p, name)
		if c == nil {
			continue
		}
		typ := uint8(unix.DT_REG)
		if c.IsDir() {
			typ = unix.DT_DIR
		} else if c.IsLink() {
			typ = unix.DT_LNK
		}
		out = append(out, fs.ProcDirent{Name: name, Ino: fs.ProcIno(c.Path), Typ: typ})
	}
	return out
}

// rereadGen generates node n's text again for the task that reads an
// open of it by p (fs.ProcSeq). A file of p's own /proc/PID is p's
// process's: read by a task of another process (an fd inherited by
// fork), it is looked up again by its path as that reader sees p's
// process (Peek's rule: held still, its access checked), ESRCH once p's
// process is gone or the pid is another's. Other files are n's Gen as
// they are (another process's view peeks it; the rest is the guest's).
// A re-read fails as Linux's read of the file does once its task is
// gone: environ reads empty, fdinfo/N is ENOENT (also for a closed fd).
func rereadGen(p *kernel.Process, n *fs.ProcNode) func(fs.FileOwner) ([]byte, error) {
	gen := n.Gen
	if as, ok := openerView(p, n, unix.O_RDONLY|unix.O_NOFOLLOW); ok {
		gen = func(o fs.FileOwner) ([]byte, error) {
			m := as(o.(*kernel.Process))
			if m == nil || m.Gen == nil {
				return nil, unix.ESRCH
			}
			return m.Gen(o)
		}
	}
	switch {
	case path.Base(n.Path) == "environ":
		return func(o fs.FileOwner) ([]byte, error) {
			b, err := gen(o)
			if err == unix.ESRCH || err == unix.ENOENT {
				return nil, nil // environ_read without a task or mm
			}
			return b, err
		}
	case path.Base(path.Dir(n.Path)) == "fdinfo":
		return func(o fs.FileOwner) ([]byte, error) {
			b, err := gen(o)
			if err == unix.ESRCH || err == unix.EBADF {
				err = unix.ENOENT // seq_show: no task, or no such fd
			}
			return b, err
		}
	}
	return gen
}

// openerDir is directory n as an open of it by p lists it: a directory of
// p's own /proc/PID stays p's process's, as Linux resolves /proc/self at
// the open, so a task of another process (a child that inherited the fd
// by fork) lists it as that reader sees p's process, looked up again by
// its path (Peek's rule, as rereadGen), and empty once p's process is gone
// or the pid is another's. Other directories list as they are.
func openerDir(p *kernel.Process, n *fs.ProcNode) *fs.ProcNode {
	lookup, ok := openerView(p, n, unix.O_RDONLY|unix.O_DIRECTORY)
	if !ok {
		return n
	}
	// as is n as reader r sees it (nil: gone).
	as := func(r *kernel.Process) *fs.ProcNode {
		if m := lookup(r); m != nil && m.IsDir() {
			return m
		}
		return nil
	}
	d := *n
	d.Names = func(o fs.FileOwner) []string {
		if m := as(o.(*kernel.Process)); m != nil {
			return m.Names(o)
		}
		return nil
	}
	d.Child = func(o fs.FileOwner, name string) *fs.ProcNode {
		if m := as(o.(*kernel.Process)); m != nil {
			return m.Child(o, name)
		}
		return nil
	}
	return &d
}

// openerView is, for node n of p's own /proc/PID (ok false: n is no such
// node, and reads as it is), how a reader sees it: n itself for a task of
// p's process; for another's, n looked up again by its path (flags) as
// that reader sees p's process (Peek's rule: held still, its access
// checked), nil once p's process is gone or the pid is another's. The one
// rule of rereadGen and openerDir.
func openerView(p *kernel.Process, n *fs.ProcNode, flags int) (func(r *kernel.Process) *fs.ProcNode, bool) {
	rel := strings.TrimPrefix(n.Path, "/proc/")
	id, _, _ := strings.Cut(rel, "/")
	if n.Of != nil || p.Proc.K == nil || p.Proc.Group == nil || rel == n.Path || idArg(id) <= 0 {
		return nil, false
	}
	group := p.Proc.Group
	return func(r *kernel.Process) *fs.ProcNode {
		if r.Proc.Group == group {
			return n
		}
		res, err := lookupTree(r, procRoot(r), strings.Split(rel, "/"), flags, 0)
		if res.FD >= 0 {
			unix.Close(res.FD)
		}
		if err != nil || res.FD >= 0 || res.Node == nil {
			return nil
		}
		if q, ok := res.Node.Of.(*kernel.Process); !ok || q.Proc.Group != group {
			return nil
		}
		return res.Node
	}, true
}

// guestCPUInfo is the host's /proc/cpuinfo as the guest's CPUs show it:
// the processor blocks of the host CPUs kshim may use (host), renumbered
// from 0, so that it counts what sched_getaffinity and /sys count. Text
// that is not blocks of "processor : N" is left as it is.
func guestCPUInfo(b []byte, host []int) []byte {
	want := map[int]int{}
	for i, c := range host {
		want[c] = i
	}
	var out strings.Builder
	for _, block := range strings.SplitAfter(string(b), "\n\n") {
		first, rest, _ := strings.Cut(block, "\n")
		k, v, ok := strings.Cut(first, ":")
		if !ok || strings.TrimSpace(k) != "processor" {
			if strings.TrimSpace(block) != "" {
				return b // not the x86 layout: the host's as it is
			}
			out.WriteString(block)
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return b
		}
		g, ok := want[n]
		if !ok {
			continue
		}
		out.WriteString(k + ": " + strconv.Itoa(g) + "\n" + rest)
	}
	return []byte(out.String())
}

// ProcMaps is /proc/self/maps in Linux's format (show_map_vma): the
// header padded to 73 columns before a name, "0 " ending unnamed lines.
// A file's name is the guest's (fs.MapsName: through its mounts, never the
// host's path). The offset, device and inode are the VMA's FileView
// (guestmm): the file offset of the mapping's start and the host file's
// st_dev and st_ino, which are what the guest's own stat of the file
// shows (kshim's stat passes the host's through). Shared anonymous memory
// shows its host memfd's, as Linux shows its shmem file's; the loader's
// copy of a program's .data shows the program file's (loadmap.go). A
// mapping whose file the guest cannot name (outside its root) shows no
// name, and then no offset, device or inode either, as private anonymous
// memory: nothing of a file the guest cannot see.
func ProcMaps(p *kernel.Process) ([]byte, error) {
	var b strings.Builder
	p.MM.EachVMA(func(v *guestmm.VMA, fileFD int) {
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
		name := v.Name
		if v.Flags&guestmm.Anonymous == 0 {
			f, _ := v.File.(*fs.OpenFile)
			if s, ok := v.File.(interface{ MapsName() string }); ok {
				name = s.MapsName() // a SysV segment (syscalls/ipc)
			} else if fileFD >= 0 && f != nil {
				name = p.FS.MapsName(fileFD, f)
			} else if g, ok := p.FS.ToGuest(name); ok {
				name = g
			} else {
				name = "" // never the host's name for it
			}
		}
		view, ok := v.View()
		if !ok || name == "" {
			view = guestmm.FileView{}
		}
		line := fmt.Sprintf("%08x-%08x %s %08x %02x:%02x %d ", v.Start, v.End, perm, view.Off,
			unix.Major(view.ID.Dev), unix.Minor(view.ID.Dev), view.ID.Ino)
		if name != "" {
			line += strings.Repeat(" ", max(0, 72-len(line))) + " " + name
		}
		b.WriteString(line)
		b.WriteByte('\n')
	})
	return []byte(b.String()), nil
}

// procMeminfo is /proc/meminfo for the guest's memory (--mem): MemTotal
// is its size, MemFree what kshim has not handed out; the rest is 0 (no
// page cache, no swap).
func procMeminfo(p *kernel.Process) ([]byte, error) {
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

// rootOwned says whether node n of another process's /proc/PID is root's
// (kernel's DumpOwner), as Linux's task_dump_owner makes every such file
// but the 0555 directories of a process that is not dumpable or is a
// zombie.
func rootOwned(p *kernel.Process, n *fs.ProcNode) bool {
	q, ok := n.Of.(*kernel.Process)
	return ok && n.Mode != procDirMode && p.DumpOwner(q)
}

// fdinfoDenied says whether n is another process's fdinfo/ that p may not
// open or search: Linux's proc_fdinfo_permission asks ptrace_may_access
// (a zombie's passes).
func fdinfoDenied(p *kernel.Process, n *fs.ProcNode) bool {
	q, ok := n.Of.(*kernel.Process)
	return ok && n.IsDir() && path.Base(n.Path) == "fdinfo" && p.Peek(q, func() error { return nil }) == unix.EACCES
}

// oLargefile is O_LARGEFILE as x86-64 Linux shows it in f_flags (x/sys's
// constant is 0 there: the flag is implied).
const oLargefile = 0o100000
