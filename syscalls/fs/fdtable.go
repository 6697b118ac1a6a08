// fdtable.go: the guest's file descriptor table.
//
// A guest fd names an FDEntry: one host fd that kshim owns, the guest's
// FD_CLOEXEC bit, and the OpenFile (what Linux calls a struct file) that
// the entry shares with the fds dup'ed from it. Each entry owns its own
// host fd: a guest dup is a host dup, so the host kernel keeps sharing the
// open file description (offset, status flags, record locks) exactly as
// Linux would, and closing a guest fd closes its host fd (which also drops
// the POSIX record locks, as on Linux).
//
// Invariants:
//   - fds[i] != nil iff guest fd i is open. Its host fd is open, owned by
//     that entry alone, opened with O_CLOEXEC (nothing leaks into host
//     children), and refers to the description its OpenFile describes.
//   - A new fd is the lowest free number >= the requested minimum and
//     below the limit the caller passes (the guest's RLIMIT_NOFILE);
//     otherwise EMFILE and nothing changes.
//   - The guest never sees a host fd number.
//   - An OpenFile with a Closed hook counts the entries made for it
//     (install, InstallAt, Clone); the last one's host fd close runs the
//     hook once (a POSIX message queue's release). An fd that reaches the
//     guest another way (SCM_RIGHTS) is a new OpenFile without it.
//   - With a Sandbox attached (limits.go), every entry is counted there
//     from install to close, and holds a reference on its pipe's charge
//     (pipebuf.go): all entries are made by install, InstallAt and Clone
//     and end in release.
//
// Sharing: the threads of one process will share one *FDTable (mu
// serialises them); fork gives the child Clone(), fresh host dups of the
// same descriptions with the same FD_CLOEXEC bits; exec calls CloseOnExec.
//
// Host fd lifetime (Linux's fdget/fdput): an entry's host fd is counted
// (hostRef). The table's entry holds one reference; a syscall that uses an
// entry takes it with Task.Entry, HostFD or Held, which add one for the
// calling task until its syscall returns (Task.ReleaseHeld, called by the
// dispatcher). A close by another thread removes the entry at once but
// closes the host fd only when the last reference goes, so a call still
// using it never meets the number reused by another open (a different
// file, perhaps one the guest may not write). Get takes no reference: its
// callers look at the entry, not at the host fd's object.
package fs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// fileKind says who answers for an open file.
type fileKind int

const (
	KindHost     fileKind = iota // a host file, pipe, socket, epoll, device
	KindProc                     // a generated /proc file: a memfd ProcSeq fills
	KindProcDir                  // a /proc directory: entries listed by kshim
	KindProcLink                 // a /proc symlink opened with O_PATH|O_NOFOLLOW
)

// fileOrigin says where an open file came from, which decides what the
// guest may do with it besides reading and writing (fspath.go).
type fileOrigin uint8

const (
	fromKshim  fileOrigin = iota // made for the guest: pipes, epoll, eventfd, /proc
	FromRoot                     // resolved in the guest's root tree
	FromHost                     // handed in by kshim's caller (fds 0-2), or reopened from one
	FromDevice                   // a device of hostDevices, opened by its host path
	FromExe                      // the program file, opened through /proc/self/exe
)

// OpenFile is what kshim knows of an open file description beyond the host
// fd. It is shared (by pointer) between dups and never changes after open,
// except a virtual directory's read position and a /proc file's text.
type OpenFile struct {
	Kind fileKind
	// Path is the guest path it was opened by ("" for pipes, epoll...):
	// /proc/self/fd/N when the host cannot tell, and virtual files' names.
	Path string
	// Origin: where it came from. The root's files change only with --rw;
	// host objects never change unless the root also holds them; kshim's
	// own are the guest's (fsmutate.go's MayChange). The zero value is
	// fromKshim: whatever opens a host file by a path must say so.
	Origin fileOrigin
	// Grant is the access mode a FromHost file was handed in with (or the
	// program file's, read-only): reopening it never gains more.
	Grant int
	// Mnt is the mount a FromRoot file is in (nil: the root; fsmount.go).
	Mnt *HostMount
	// Type is the host file's S_IFMT when the open looked at it, or made
	// it (pipe2), or it was handed in (fds 0-2); 0: not known. What an
	// open file description is never changes type.
	Type uint32
	// PathOnly: opened with O_PATH; acc: the O_ACCMODE the guest asked
	// for. The host checks its own fds; these are for the other kinds.
	PathOnly bool
	Acc      int
	// Node is the /proc node of the kinds other than KindHost.
	Node *ProcNode
	// Dir holds a virtual directory's entries and position (KindProcDir).
	Dir *VirtualDir
	// Seq is a /proc file's read state (KindProc), which regenerates its
	// text as Linux's seq_file does.
	Seq *ProcSeq
	// counted is set (under Sandbox.mu) when an fd for it is first
	// installed; pipe is then the charge of the pipe it is, if any.
	counted bool
	Pipe    *pipeCharge
	// Pidfd is the process a pidfd names (kernel's *Process, pidfd.go),
	// else nil.
	Pidfd any
	// Signalfd is a signalfd's state (kernel's *Signalfd, signalfd.go),
	// else nil.
	Signalfd any
	// Mqueue is a POSIX message queue descriptor's state (ipc's
	// *MqFile, mqueue.go), else nil.
	Mqueue any
	// Closed, when set at open, runs once the last host fd of the
	// description's guest entries has closed (Linux's release of a
	// struct file): entries counts them (install, InstallAt, Clone).
	Closed  func()
	entries atomic.Int32
}

// held counts one more guest entry of f (Closed's count).
func (f *OpenFile) held() {
	if f.Closed != nil {
		f.entries.Add(1)
	}
}

// closer is what runs when one entry's host fd of f has closed: then,
// after also (a pty master's hangup), Closed for the last.
func (f *OpenFile) closer(also func()) func() {
	if f.Closed == nil {
		return also
	}
	return func() {
		if also != nil {
			also()
		}
		if f.entries.Add(-1) == 0 {
			f.Closed()
		}
	}
}

type FDEntry struct {
	Host    int
	Cloexec bool
	File    *OpenFile
	ref     *hostRef // Host's references (nil until installed)
}

// hostRef counts the references to a host fd: its table entry's and those
// of the syscalls using it. The last one closes it.
type hostRef struct {
	fd    int
	refs  atomic.Int32
	after atomic.Pointer[func()] // run once the host fd is closed (a pty master's hangup)
}

func newHostRef(fd int) *hostRef {
	r := &hostRef{fd: fd}
	r.refs.Store(1)
	return r
}

// put drops a reference; the last closes the host fd and runs after, the
// table's (set before its reference goes, so whichever put is last sees
// it).
func (r *hostRef) put(after func()) error {
	if after != nil {
		r.after.Store(&after)
	}
	if r.refs.Add(-1) != 0 {
		return nil
	}
	err := unix.Close(r.fd)
	if f := r.after.Load(); f != nil {
		(*f)()
	}
	return err
}

// FDTable maps guest fds to host fds. The zero value is an empty table.
type FDTable struct {
	mu  sync.Mutex
	fds []*FDEntry
	Sb  *Sandbox // the guest's limits (nil: none)
}

// maxFDs caps the table whatever RLIMIT_NOFILE says (Linux's fs.nr_open).
const maxFDs = 1 << 20

// Get returns a copy of guest fd's entry.
func (t *FDTable) Get(fd int) (FDEntry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd] == nil {
		return FDEntry{}, false
	}
	return *t.fds[fd], true
}

// GetDup returns a copy of guest fd's entry and a new host fd for its
// description (owned by the caller), taken under the table's lock: a
// reader on another goroutine (/proc/PID/fd of another process) never
// gets a host fd the owner has meanwhile closed and the host reused
// (Close removes the entry before it closes the host fd).
func (t *FDTable) GetDup(fd int) (FDEntry, int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd] == nil {
		return FDEntry{}, -1, unix.ENOENT
	}
	e := *t.fds[fd]
	h, err := unix.FcntlInt(uintptr(e.Host), unix.F_DUPFD_CLOEXEC, 0)
	return e, h, err
}

// Install gives e the lowest free guest fd >= min and < limit. It takes
// ownership of e.host: on failure the host fd is closed.
func (t *FDTable) Install(e FDEntry, min, limit int) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	limit = clampLimit(limit)
	for fd := max(min, 0); fd < limit; fd++ {
		if fd >= len(t.fds) {
			t.grow(fd + 1)
		}
		if t.fds[fd] == nil {
			if t.Sb != nil {
				if err := t.Sb.addFD(e.File, e.Host, true); err != nil {
					unix.Close(e.Host)
					return -1, err
				}
			}
			e.ref = newHostRef(e.Host)
			e.File.held()
			t.fds[fd] = &e
			return fd, nil
		}
	}
	unix.Close(e.Host)
	return -1, unix.EMFILE
}

// FileRoom says whether the guest may open one more file (ENFILE when it
// holds all the fds its sandbox allows), checked with HasFree before a
// path is looked up.
func (t *FDTable) FileRoom() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.Sb == nil {
		return nil
	}
	t.Sb.mu.Lock()
	defer t.Sb.mu.Unlock()
	if t.Sb.fds >= t.Sb.Lim.MaxFDs {
		return unix.ENFILE
	}
	return nil
}

// release drops an entry's reference to its host fd (closing it unless a
// syscall still uses it) and uncounts it (t.mu need not be held: the entry
// is out of the table).
func (t *FDTable) release(e *FDEntry) error {
	var hangup func()
	if t.Sb != nil && t.Sb.PtyHangup != nil {
		if n := ptyMasterOf(e); n >= 0 { // pty.go
			gen := t.Sb.PtyGen(n)
			hangup = func() {
				if ptyGone(n) {
					t.Sb.PtyHangup(n, gen) // that was its master's last close
				}
			}
		}
	}
	var err error
	if e.ref != nil {
		err = e.ref.put(e.File.closer(hangup)) // run when the host fd really closes
	} else {
		err = unix.Close(e.Host)
		if hangup != nil {
			hangup()
		}
	}
	if t.Sb != nil {
		t.Sb.dropFD(e.File)
	}
	return err
}

// InstallAt puts e at guest fd (dup2), closing what was there. It takes
// ownership of e.host. The caller has checked fd against the limit. It
// fails (closing e.host) only when fd was free and the sandbox's fds are
// all taken: EMFILE for another fd of an open file (dup2), ENFILE for a
// new one.
func (t *FDTable) InstallAt(fd int, e FDEntry) error {
	t.mu.Lock()
	if fd >= len(t.fds) {
		t.grow(fd + 1)
	}
	old := t.fds[fd]
	if t.Sb != nil {
		// Replacing an open fd leaves the count as it is.
		if err := t.Sb.addFD(e.File, e.Host, old == nil); err != nil {
			t.mu.Unlock()
			unix.Close(e.Host)
			return err
		}
	}
	e.ref = newHostRef(e.Host)
	e.File.held()
	t.fds[fd] = &e
	t.mu.Unlock()
	if old != nil {
		t.release(old)
	}
	return nil
}

func (t *FDTable) grow(n int) {
	if n <= cap(t.fds) {
		t.fds = t.fds[:n]
		return
	}
	fds := make([]*FDEntry, n, max(n, 2*cap(t.fds), 64))
	copy(fds, t.fds)
	t.fds = fds
}

func clampLimit(limit int) int {
	if limit < 0 || limit > maxFDs {
		return maxFDs
	}
	return limit
}

// Close closes guest fd. Like Linux, the fd is gone even when the host
// Close reports an error.
func (t *FDTable) Close(fd int) error {
	t.mu.Lock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd] == nil {
		t.mu.Unlock()
		return unix.EBADF
	}
	e := t.fds[fd]
	t.fds[fd] = nil
	t.mu.Unlock()
	if err := t.release(e); err != nil && err != unix.EINTR {
		return err
	}
	return nil
}

// CloseRange closes (or, with cloexecOnly, marks close-on-exec) every open
// fd in [first, last].
func (t *FDTable) CloseRange(first, last uint, cloexecOnly bool) {
	t.mu.Lock()
	var closing []*FDEntry
	for fd := first; fd <= last && fd < uint(len(t.fds)); fd++ {
		e := t.fds[fd]
		if e == nil {
			continue
		}
		if cloexecOnly {
			e.Cloexec = true
			continue
		}
		closing = append(closing, e)
		t.fds[fd] = nil
	}
	t.mu.Unlock()
	for _, e := range closing {
		t.release(e)
	}
}

// SetCloexec sets guest fd's FD_CLOEXEC bit.
func (t *FDTable) SetCloexec(fd int, on bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd] == nil {
		return unix.EBADF
	}
	t.fds[fd].Cloexec = on
	return nil
}

// List returns the open guest fds in increasing order.
func (t *FDTable) List() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []int
	for fd, e := range t.fds {
		if e != nil {
			out = append(out, fd)
		}
	}
	return out
}

// MaxFDSet is Linux's fdtable max_fds for this table: what select(2)
// clamps nfds to and /proc/self/status calls FDSize. Linux starts with 64
// slots and grows to powers of two of at least 256.
func (t *FDTable) MaxFDSet() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	top := 0
	for fd, e := range t.fds {
		if e != nil {
			top = fd + 1
		}
	}
	if top <= 64 {
		return 64
	}
	n := 256
	for n < top {
		n *= 2
	}
	return n
}

// Clone returns a copy of the table for a forked child: each entry gets a
// fresh host dup of the same description, the same FD_CLOEXEC bit and the
// same OpenFile. On failure nothing is left open.
func (t *FDTable) Clone() (*FDTable, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := &FDTable{fds: make([]*FDEntry, len(t.fds)), Sb: t.Sb}
	n := 0 // fds counted for the child but not made yet
	if t.Sb != nil {
		// The child's copies count as fds of the guest: all or none
		// (Linux's dup_fd fails a fork with EMFILE past its limit).
		for _, e := range t.fds {
			if e != nil {
				n++
			}
		}
		t.Sb.mu.Lock()
		if t.Sb.fds+n > t.Sb.Lim.MaxFDs {
			t.Sb.mu.Unlock()
			return nil, unix.EMFILE
		}
		t.Sb.fds += n // taken now, so no other table takes them meanwhile
		t.Sb.mu.Unlock()
		defer func() {
			if n > 0 { // failed: entries not made give theirs back
				t.Sb.mu.Lock()
				t.Sb.fds -= n
				t.Sb.mu.Unlock()
			}
		}()
	}
	for fd, e := range t.fds {
		if e == nil {
			continue
		}
		h, err := unix.FcntlInt(uintptr(e.Host), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			c.closeAll()
			return nil, err
		}
		if c.Sb != nil {
			c.Sb.mu.Lock()
			_ = c.Sb.lockedRef(e.File, h, true) // counted already: cannot fail
			n--
			c.Sb.mu.Unlock()
		}
		c.fds[fd] = &FDEntry{Host: h, Cloexec: e.Cloexec, File: e.File, ref: newHostRef(h)}
		e.File.held()
	}
	return c, nil
}

// CloseOnExec closes the fds marked FD_CLOEXEC, as execve does.
func (t *FDTable) CloseOnExec() {
	t.mu.Lock()
	var closing []*FDEntry
	for fd, e := range t.fds {
		if e != nil && e.Cloexec {
			closing = append(closing, e)
			t.fds[fd] = nil
		}
	}
	t.mu.Unlock()
	for _, e := range closing {
		t.release(e)
	}
}

// CloseAll closes every fd (the process has exited).
func (t *FDTable) CloseAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closeAll()
}

func (t *FDTable) closeAll() {
	for fd, e := range t.fds {
		if e != nil {
			t.release(e)
			t.fds[fd] = nil
		}
	}
	t.fds = t.fds[:0]
}

// Attach puts the table under sb (the first process, made before its
// Sandbox): its entries are counted, whatever the limit, and its pipes
// charged.
func (t *FDTable) Attach(sb *Sandbox) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Sb = sb
	sb.mu.Lock()
	defer sb.mu.Unlock()
	for _, e := range t.fds {
		if e != nil {
			_ = sb.lockedRef(e.File, e.Host, true)
			sb.fds++
		}
	}
}

// NewStdioTable gives the guest fds 0, 1 and 2 as host dups of the VMM's
// own: the guest may close or replace them without taking kshim's stderr
// (its messages) with it. A VMM fd that is closed stays closed for the
// guest, as a native child would inherit it. No other fd kshim inherited
// reaches the guest. These are handed-in host objects (FromHost): the
// guest reads and writes them, but never looks up paths below them nor
// changes them (fspath.go).
func NewStdioTable() *FDTable { return NewStdioTableFrom([3]int{0, 1, 2}) }

// NewStdioTableFrom makes a table whose fds 0, 1, 2 are dups of host fds
// from (a negative one is left closed): a process started into a running
// guest from the host (kernel/spawn.go).
func NewStdioTableFrom(from [3]int) *FDTable {
	t := &FDTable{}
	for fd := 0; fd < 3; fd++ {
		if from[fd] < 0 {
			continue
		}
		h, err := unix.FcntlInt(uintptr(from[fd]), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			continue
		}
		fl, err := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0)
		if err != nil {
			unix.Close(h)
			continue
		}
		grant := fl & unix.O_ACCMODE
		if fl&unix.O_PATH != 0 {
			grant = -1 // no access at all
		}
		// Its type, once: reads and writes then need no look (io.go).
		var st unix.Stat_t
		typ := uint32(0)
		if unix.Fstat(h, &st) == nil {
			typ = st.Mode & unix.S_IFMT
		}
		t.InstallAt(fd, FDEntry{Host: h, File: &OpenFile{Kind: KindHost, Path: stdioNames[fd], Origin: FromHost, Grant: grant, Type: typ}})
	}
	return t
}

var stdioNames = [3]string{"/dev/stdin", "/dev/stdout", "/dev/stderr"}

// FDArg is a guest fd argument: Linux reads an unsigned int, so only the
// low 32 bits count, and values above INT_MAX are no fd.
func FDArg(x uint64) int { return int(int32(uint32(x))) }

// hold returns a copy of guest fd's entry with one more reference to its
// host fd, taken under the table's lock.
func (t *FDTable) hold(fd int) (FDEntry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd] == nil {
		return FDEntry{}, false
	}
	e := *t.fds[fd]
	if e.ref != nil {
		e.ref.refs.Add(1)
	}
	return e, true
}

// Held returns guest fd's entry, its host fd held until the calling
// task's syscall returns (see the head comment). Only the task's own
// syscall path (or code it waits for) may call it.
func (p *Task) Held(fd int) (FDEntry, bool) {
	e, ok := p.Files.hold(fd)
	if ok && e.ref != nil {
		p.held = append(p.held, e.ref)
	}
	return e, ok
}

// ReleaseHeld drops the references the task's syscall took (the
// dispatcher, after each syscall).
func (p *Task) ReleaseHeld() {
	for i, r := range p.held {
		r.put(nil)
		p.held[i] = nil
	}
	p.held = p.held[:0]
}

// HostFD returns the host fd of an open guest fd, EBADF otherwise; it
// stays open until the syscall returns.
func (p *Task) HostFD(fd uint64) (int, error) {
	e, ok := p.Held(FDArg(fd))
	if !ok {
		return -1, unix.EBADF
	}
	return e.Host, nil
}

// Entry returns guest fd's entry, EBADF otherwise; its host fd stays open
// until the syscall returns.
func (p *Task) Entry(fd uint64) (FDEntry, error) {
	e, ok := p.Held(FDArg(fd))
	if !ok {
		return FDEntry{}, unix.EBADF
	}
	return e, nil
}

// Nofile is the guest's RLIMIT_NOFILE soft limit as a table limit.
func (p *Task) Nofile() int {
	l, err := p.Owner.Rlimit(unix.RLIMIT_NOFILE)
	if err != nil || l.Cur > maxFDs {
		return maxFDs
	}
	return int(l.Cur)
}

// NewFD installs host fd h (taking ownership) at the lowest free guest fd.
func (p *Task) NewFD(h int, cloexec bool, f *OpenFile) (uint64, error) {
	fd, err := p.Files.Install(FDEntry{Host: h, Cloexec: cloexec, File: f}, 0, p.Nofile())
	return uint64(fd), err
}
