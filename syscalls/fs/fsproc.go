// fsproc.go (fs): the nodes of kshim's /proc as the file side holds
// them (ProcNode, VirtualDir); the tree itself is generated from the
// guest's state by package proc (proc/fsproc.go, whose head gives
// its invariants). A node's callbacks get the FileOwner of the task that
// asks, which is a *kernel.Process.
package fs

import (
	"hash/fnv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
)

// ProcNode is one entry of kshim's /proc.
type ProcNode struct {
	Path string // its guest path, e.g. /proc/1234/maps
	Mode uint32
	// Gen generates a file's contents: at open, and again as ProcSeq
	// says at a read.
	Gen func(p FileOwner) ([]byte, error)
	// Direct: the file is no seq_file on Linux (cmdline, environ): every
	// read generates it anew, and its lseek is generic_file_llseek's.
	Direct bool
	// Splice: Linux's file has a splice_read (seq_read_iter), so sendfile
	// and splice read from it; else they are EINVAL (/proc/PID's files
	// but mounts, /proc/net's).
	Splice bool
	// Write takes one write(2) of n guest bytes at addr to the file (nil:
	// it takes none, EINVAL), as a procfs .write method: the count it
	// returns is what write returns; the next read from 0 shows it.
	Write func(p FileOwner, addr, n uint64) (uint64, error)
	// Names lists a directory's entries; child looks one up (nil: none).
	Names func(p FileOwner) []string
	Child func(p FileOwner, name string) *ProcNode
	// Target is a symlink's readlink text.
	Target func(p FileOwner) (string, error)
	// Follow opens what a magic link leads to and rest below it. /proc/self
	// has none: it is an ordinary symlink to <pid>.
	Follow func(p FileOwner, rest string, flags int, mode uint32) (Resolved, error)
	// FDLink: a /proc/self/fd/N link, for guest fd fd.
	FDLink bool
	FD     int
	// DevLink: one of /dev's links into /proc/self/fd (fspath.go
	// devLink), whose stat is root's with the target's length as size.
	DevLink bool
	// Of is the process whose /proc/PID this node is in, when that is
	// not the reader's own (nil); its stat and access follow that
	// process (proc/pid.go).
	Of FileOwner
	// The mqueue file system's nodes (ipc/mqfs.go) are no generated
	// files: StatOf is a queue's stat; Open opens its queue (a queue
	// descriptor) instead of a text; Remove, on its directory, unlinks
	// the entry name (nil: EPERM, as /proc's); a directory with Remove
	// also takes new names (open's O_CREAT makes a queue; mkdir, mknod,
	// symlink and link are EPERM).
	StatOf func(p FileOwner) unix.Stat_t
	Open   func(p FileOwner, flags int) (int, *OpenFile, error)
	Remove func(p FileOwner, name string, dir bool) error
	// Magic is its file system's statfs type when not procfs's or
	// sysfs's (the mqueue file system's).
	Magic int64
	// ReadOnly: no write changes it or anything below it (/proc/sys),
	// so an OCI config's readonlyPaths entry for it holds already
	// (fsguard.go).
	ReadOnly bool
}

func (n *ProcNode) IsDir() bool  { return n.Mode&unix.S_IFMT == unix.S_IFDIR }
func (n *ProcNode) IsLink() bool { return n.Mode&unix.S_IFMT == unix.S_IFLNK }

// Sys says whether the node is one of kshim's /sys rather than /proc.
func (n *ProcNode) Sys() bool { return n.Path == "/sys" || strings.HasPrefix(n.Path, "/sys/") }

// VirtualDir is an open /proc directory: its entries, listed by the first
// getdents64 after open or a rewind (so /proc/self/fd shows the fd being
// read, as on Linux), and the position.
type VirtualDir struct {
	Mu      sync.Mutex
	Node    *ProcNode
	Entries []ProcDirent // nil until listed
	Pos     int
}

type ProcDirent struct {
	Name string
	Ino  uint64
	Typ  uint8 // DT_*
}

func ProcIno(path string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(path))
	return h.Sum64()>>1 | 1
}

// ProcSeq is an open /proc file's read state, Linux's seq_file for it:
// the text lives in the file's memfd (ProcMemfd), which the guest's host
// fd reads, and a read decides whether to generate it anew first:
//   - a read from position 0, or from any position but where the last
//     read (read, pread, readv, sendfile, splice) ended, generates the
//     text anew and reads it from that position (seq_read_iter's reset
//     and traverse), so lseek(fd, 0) + read and pread(fd, .., 0) show
//     the state of now, as procps's free, uptime, vmstat and top rely on;
//   - a read where the last one ended continues in the text that read
//     came from (Linux keeps its buffer), so a reader in small pieces
//     sees one consistent text;
//   - a Direct file (cmdline, environ) is generated at every read;
//   - lseek to a position other than where the last read ended
//     generates the text at once, and fails with its error (seq_lseek's
//     traverse); SEEK_END, SEEK_DATA and SEEK_HOLE are EINVAL. A Direct
//     file seeks as a file of size 0 (generic_file_llseek).
//
// Invariants: mu serialises the reads and seeks of the description
// (dups and forks share the OpenFile, so the ProcSeq); it comes before
// every lock a generator takes (Kernel.Mu, FDTable.mu, the memory
// manager's). The memfd is rewritten in place through a writable reopen
// of the host fd (the guest's is read-only), so its size is the last
// text's: re-reads never grow it. An error from the generator (the task
// has been reaped: ESRCH) is the read's, and the text is not changed.
type ProcSeq struct {
	mu      sync.Mutex
	readPos int64 // where the last read ended (seq_file's read_pos)
	direct  bool
	splice  bool
	gen     func(FileOwner) ([]byte, error)
}

// NewProcSeq is the read state of an open of node n whose text gen makes
// for the reading task.
func NewProcSeq(n *ProcNode, gen func(FileOwner) ([]byte, error)) *ProcSeq {
	return &ProcSeq{direct: n.Direct, splice: n.Splice, gen: gen}
}

// Splices says whether sendfile and splice may read the file (Splice).
func (s *ProcSeq) Splices() bool { return s.splice }

// Read runs read, one read of count bytes from host fd h at off (-1:
// its file position), for task o, generating the text first when Linux's
// seq_file would. read returns the bytes it read.
func (s *ProcSeq) Read(o FileOwner, h int, off int64, count uint64, read func() (uint64, error)) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pos := off
	if pos < 0 {
		var err error
		if pos, err = unix.Seek(h, 0, unix.SEEK_CUR); err != nil {
			return 0, err
		}
	}
	if count > 0 && (s.direct || pos == 0 || pos != s.readPos) {
		if err := s.refill(o, h); err != nil {
			return 0, err
		}
		s.readPos = pos // a failed copy-out retried here continues in it
	}
	n, err := read()
	if n > 0 {
		s.readPos = pos + int64(n)
	}
	return n, err
}

// Seek is lseek on the file with host fd h, for task o.
func (s *ProcSeq) Seek(o FileOwner, h int, off int64, whence int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		cur, err := unix.Seek(h, 0, unix.SEEK_CUR)
		if err != nil {
			return 0, err
		}
		if off > 0 && cur > 1<<63-1-off {
			return 0, unix.EINVAL
		}
		off += cur
	case unix.SEEK_END:
		if !s.direct {
			return 0, unix.EINVAL
		}
		// generic_file_llseek: the size is 0.
	case unix.SEEK_DATA, unix.SEEK_HOLE:
		if !s.direct {
			return 0, unix.EINVAL
		}
		return 0, unix.ENXIO // at or past the end of a file of size 0
	default:
		return 0, unix.EINVAL
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	if !s.direct && off != s.readPos {
		if off != 0 {
			if err := s.refill(o, h); err != nil {
				// seq_lseek: the position goes back to 0.
				s.readPos = 0
				_, _ = unix.Seek(h, 0, unix.SEEK_SET)
				return 0, err
			}
		}
		s.readPos = off
	}
	return unix.Seek(h, off, unix.SEEK_SET)
}

// refill generates the text for o and puts it in the memfd h reads.
func (s *ProcSeq) refill(o FileOwner, h int) error {
	data, err := s.gen(o)
	if err != nil {
		s.readPos = 0
		return err
	}
	w, err := unix.Open("/proc/self/fd/"+abi.Itoa(h), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(w)
	// Written over the old text, then cut to the new one's length.
	if err := writeAll(w, data); err != nil {
		return err
	}
	return unix.Ftruncate(w, int64(len(data)))
}

func writeAll(w int, data []byte) error {
	for done := 0; done < len(data); {
		n, err := unix.Pwrite(w, data[done:], int64(done))
		if err != nil {
			return err
		}
		done += n
	}
	return nil
}

// ProcMemfd is a memfd holding data, for a /proc file's ProcSeq: the fd
// returned is a read-only open of it (positioned at 0), so the host
// refuses the guest any write, truncation, seal or writable mapping of
// it; only ProcSeq writes it, through a writable reopen. It has no seals
// and can take none (no MFD_ALLOW_SEALING).
func ProcMemfd(data []byte) (int, error) {
	w, err := unix.MemfdCreate("kshim-proc", unix.MFD_CLOEXEC)
	if err != nil {
		return -1, err
	}
	defer unix.Close(w)
	if err := unix.Fchmod(w, 0o600); err != nil {
		return -1, err
	}
	if err := writeAll(w, data); err != nil {
		return -1, err
	}
	return unix.Open("/proc/self/fd/"+abi.Itoa(w), unix.O_RDONLY|unix.O_CLOEXEC, 0)
}
