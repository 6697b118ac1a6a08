// mqfs.go: the mqueue file system (Linux's mqueue_fs_type) as the guest
// sees it where a mount of type mqueue puts it (/dev/mqueue in OCI
// configs): a directory of the namespace's queues, served by the path walk
// (fs/fsmount.go hands the names after the mount point to MqLookup)
// through the /proc node machinery (fs.ProcNode with StatOf, Open and
// Remove).
//
// Invariants:
//   - The directory is root's, mode 01777 (mqueue_fill_super's root, as a
//     runtime running as root mounts it), of size 40 + 20 per queue
//     (DIRENT_SIZE), listing the linked queues by name; every mount of
//     the type shows the same namespace.
//   - A queue's file is S_IFREG with the queue's mode, owner and times,
//     size 80 (FILENT_SIZE). open(2) of it checks the caller's access
//     (generic_permission) and gives a queue descriptor (mqueue.go) with
//     the open's own flags (not forced close-on-exec); O_CREAT makes a
//     queue of the default attributes, the umask applied; unlink(2) is
//     mq_unlink. Other changes (mkdir, rename, link, chmod) are EPERM.
//   - Names are single components: nothing is below a queue (ENOTDIR);
//     ".." from the directory leaves the mount.
package ipc

import (
	"path"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

const (
	mqDirentSize = 20 // DIRENT_SIZE
	mqRootIno    = 1
)

// MqLookup resolves comps in the mqueue file system mounted at dest.
func (ns *NS) MqLookup(p *kernel.Process, dest string, comps []string, flags int, mode uint32) (fs.Resolved, error) {
	fail := func(err error) (fs.Resolved, error) { return fs.Resolved{FD: -1}, err }
	trailing := len(comps) > 0 && comps[len(comps)-1] == ""
	var name string // "" : the directory
	for i, c := range comps {
		switch c {
		case "", ".":
			if name != "" {
				return fail(unix.ENOTDIR)
			}
			continue
		case "..":
			if name != "" {
				return fail(unix.ENOTDIR)
			}
			return p.LookupAbs(path.Join(path.Dir(dest), strings.Join(comps[i+1:], "/")), flags, mode)
		}
		if name != "" {
			return fail(unix.ENOTDIR)
		}
		if len(c) > nameMax {
			return fail(unix.ENAMETOOLONG)
		}
		name = c
	}
	if name == "" {
		if flags&unix.O_CREAT != 0 || fs.WriteIntent(flags) && flags&unix.O_PATH == 0 {
			return fail(unix.EISDIR)
		}
		return fs.Resolved{FD: -1, Node: ns.mqDirNode(dest), Guest: dest}, nil
	}
	ns.mu.Lock()
	_, ok := ns.mq.byName[name]
	ns.mu.Unlock()
	switch {
	case !ok && flags&unix.O_CREAT == 0:
		return fail(unix.ENOENT)
	case !ok && trailing:
		return fail(unix.EISDIR) // open("new/", O_CREAT)
	case !ok:
		var umask uint32
		if p.FS != nil {
			umask = p.FS.Umask()
		}
		ns.mu.Lock()
		if _, ok = ns.mq.byName[name]; !ok {
			_, err := ns.mqCreate(p, CredOf(p), name, mode&0o7777&^umask, nil)
			if err != nil {
				ns.mu.Unlock()
				return fail(err)
			}
		} else if flags&unix.O_EXCL != 0 {
			ns.mu.Unlock()
			return fail(unix.EEXIST)
		}
		ns.mu.Unlock()
	case flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL:
		return fail(unix.EEXIST)
	case trailing || flags&unix.O_DIRECTORY != 0:
		return fail(unix.ENOTDIR)
	}
	n := ns.mqFileNode(dest, name)
	return fs.Resolved{FD: -1, Node: n, Guest: n.Path}, nil
}

// mqDirNode is the file system's directory.
func (ns *NS) mqDirNode(dest string) *fs.ProcNode {
	return &fs.ProcNode{
		Path: dest, Mode: unix.S_IFDIR | 0o1777, Magic: fs.MqueueMagic,
		Names: func(fs.FileOwner) []string {
			ns.mu.Lock()
			defer ns.mu.Unlock()
			names := make([]string, 0, len(ns.mq.byName))
			for n := range ns.mq.byName {
				names = append(names, n)
			}
			sort.Strings(names)
			return names
		},
		Child: func(_ fs.FileOwner, name string) *fs.ProcNode {
			ns.mu.Lock()
			_, ok := ns.mq.byName[name]
			ns.mu.Unlock()
			if !ok {
				return nil
			}
			return ns.mqFileNode(dest, name)
		},
		StatOf: func(fs.FileOwner) unix.Stat_t {
			ns.mu.Lock()
			defer ns.mu.Unlock()
			ts := unix.NsecToTimespec(ns.mq.dirTime.UnixNano())
			return unix.Stat_t{Ino: mqRootIno, Nlink: 2, Mode: unix.S_IFDIR | 0o1777, Blksize: 4096,
				Size: int64(2*mqDirentSize + mqDirentSize*len(ns.mq.byName)), Atim: ts, Mtim: ts, Ctim: ts}
		},
		Remove: func(o fs.FileOwner, name string, dir bool) error {
			ns.mu.Lock()
			defer ns.mu.Unlock()
			if _, ok := ns.mq.byName[name]; ok && dir {
				return unix.ENOTDIR
			}
			return ns.mqUnlink(CredOf(o.(*kernel.Process)), name)
		},
	}
}

// mqFileNode is the file of the queue named name (which may go at any
// time: its calls then fail with ENOENT, or show the last state).
func (ns *NS) mqFileNode(dest, name string) *fs.ProcNode {
	ns.mu.Lock()
	q := ns.mq.byName[name]
	mode := uint32(0)
	if q != nil {
		mode = q.Mode
	}
	ns.mu.Unlock()
	return &fs.ProcNode{
		Path: path.Join(dest, name), Mode: unix.S_IFREG | mode, Magic: fs.MqueueMagic,
		StatOf: func(fs.FileOwner) unix.Stat_t {
			if q == nil {
				return unix.Stat_t{Mode: unix.S_IFREG}
			}
			return ns.MqStat(q)
		},
		Open: func(o fs.FileOwner, flags int) (int, *fs.OpenFile, error) {
			if q == nil {
				return -1, nil, unix.ENOENT
			}
			p := o.(*kernel.Process)
			want := [...]uint32{4, 2, 6, 6}[flags&unix.O_ACCMODE]
			ns.mu.Lock()
			if q.efd < 0 {
				ns.mu.Unlock()
				return -1, nil, unix.ENOENT
			}
			if !mqAllowed(CredOf(p), q, want) {
				ns.mu.Unlock()
				return -1, nil, unix.EACCES
			}
			// Counted now; an install that then fails (another thread
			// took the free fd the open checked for) leaves the count
			// up, so an unlinked queue so opened stays until kshim ends
			// (bounded by the namespace's queue limit).
			q.opens++
			ns.mu.Unlock()
			h, of, err := ns.mqDescription(q, flags)
			if err != nil {
				ns.mqClosed(q)
				return -1, nil, err
			}
			of.Path = path.Join(dest, name)
			of.Node.Path = of.Path
			return h, of, nil
		},
	}
}

// MqStat is the stat of q's file.
func (ns *NS) MqStat(q *MQueue) unix.Stat_t {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	nlink := uint64(1)
	if q.name == "" {
		nlink = 0
	}
	return unix.Stat_t{Ino: q.Ino, Nlink: nlink, Mode: unix.S_IFREG | q.Mode, Uid: q.UID, Gid: q.GID,
		Size: MqFileSize, Blksize: 4096, Atim: unix.NsecToTimespec(q.Atime.UnixNano()),
		Mtim: unix.NsecToTimespec(q.Mtime.UnixNano()), Ctim: unix.NsecToTimespec(q.Ctime.UnixNano())}
}
