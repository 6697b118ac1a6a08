// mqueue.go: POSIX message queues (Linux's ipc/mqueue.c): mq_open,
// mq_unlink, mq_timedsend, mq_timedreceive, mq_notify, mq_getsetattr, and
// a queue descriptor's read (the QSIZE line), position and readiness.
// The queues are the IPC namespace's (NS), kept by name; the mqueue file
// system's view of them is mqfs.go's.
//
// Invariants (NS.mu guards every queue's state; MqFile.mu a
// description's read position):
//   - A queue descriptor is a guest fd whose host fd is a dup of its
//     queue's eventfd (MQueue.efd), which only kshim reads and writes, and
//     whose OpenFile.Mqueue is the description's *MqFile. The eventfd's
//     counter is the queue's readiness, kept in step at every change
//     (ready): 0 when empty (POLLOUT), 1 when it holds messages and room
//     (POLLIN|POLLOUT), 2^64-2 when full (POLLIN): so poll, select and
//     epoll on the host fd see Linux's mqueue_poll_file.
//   - O_NONBLOCK is the description's (MqFile.nonblock, shared by dups
//     and forks), as Linux keeps it in f_flags; fcntl F_GETFL/F_SETFL of
//     a queue descriptor read and set it there, not on the eventfd.
//   - A queue lives while it has a name or an open description
//     (MQueue.opens, counted by OpenFile.Closed): unlink takes the name,
//     the last description's close then frees it (charges, eventfd).
//   - Messages are kept highest priority first, FIFO within a priority;
//     at most maxmsg of at most msgsize bytes each. Their bytes and a
//     header each are charged to the guest's memory budget (--mem) in
//     whole pages per queue, as the System V queues' (msg.go): a send
//     without room in the budget is ENOMEM. A queue's worst case
//     (maxmsg*msgsize and the tree, Linux's mq_bytes) is charged to its
//     creator's RLIMIT_MSGQUEUE at creation (EMFILE past it), per uid in
//     the namespace, and returned when the queue is freed.
//   - Waiting senders and receivers wait on the queue's changed channel
//     (closed and replaced at every change, as msg.go's); a signal ends
//     the wait with kernel.ErrRestart (Linux's -ERESTARTSYS), the
//     absolute CLOCK_REALTIME timeout with ETIMEDOUT.
//   - A notification registration belongs to a process (tgid); it ends
//     when sent, when its owner unregisters, closes a descriptor of the
//     queue (close(2): MqFlush) or execs (MqExeced), or when the owner is
//     found gone (checked whenever the registration is looked at).
//   - Every name, pointer, length, priority, attr and sigevent from the
//     guest is checked as Linux does, with its errno; guest memory is
//     copied only without NS.mu, except the notify owner's post, which
//     takes Kernel.Mu (after NS.mu, as ids.go's order says).
//   - The host never sees a queue: it is kshim's memory and one eventfd;
//     the number of queues is bounded (queues_max, and mqHardQueues even
//     with CAP_SYS_RESOURCE), so the guest cannot spend kshim's fds.
package ipc

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

// Linux's limits and defaults (ipc/mqueue.c, /proc/sys/fs/mqueue).
const (
	MqMsgMax         = 10    // msg_max
	MqMsgsizeMax     = 8192  // msgsize_max
	MqMsgDefault     = 10    // msg_default
	MqMsgsizeDefault = 8192  // msgsize_default
	MqQueuesMax      = 256   // queues_max
	mqHardMsgMax     = 65536 // HARD_MSGMAX
	mqHardMsgsizeMax = 16 << 20
	// mqHardQueues bounds the queues even for CAP_SYS_RESOURCE (Linux
	// has no bound then): each holds one host eventfd of kshim's.
	mqHardQueues = 1024
	mqPrioMax    = 32768 // MQ_PRIO_MAX
	mqNodeSize   = 48    // sizeof(struct msg_msg) = sizeof(struct posix_msg_tree_node)
	mqAttrSize   = 64    // struct mq_attr
	sigevSize    = 64    // struct sigevent
	sigevSignal  = 0
	sigevNone    = 1
	sigevThread  = 2
	siMesgq      = -3 // SI_MESGQ
	nameMax      = 255
	pathMax      = 4096
	// MqFileSize is a queue file's size (FILENT_SIZE).
	MqFileSize = 80
	evFull     = 1<<64 - 2 // an eventfd counter that is not writable
)

type mqMsg struct {
	prio uint32
	text []byte
}

// MQueue is one queue (Linux's mqueue_inode_info).
type MQueue struct {
	name                string // "" once unlinked
	Ino                 uint64
	Mode                uint32 // permission bits
	UID, GID            uint32
	Atime, Mtime, Ctime time.Time
	maxmsg, msgsize     int64
	msgs                []mqMsg
	qsize               uint64 // bytes of text queued
	changed             chan struct{}
	recvWaiters         int
	// The notification: owner 0 is none.
	owner         int
	notify, signo int32
	value         uint64
	efd           int    // kshim's eventfd; readiness
	level         uint64 // its counter
	opens         int    // open descriptions
	rbytes        uint64 // charged to ruid's RLIMIT_MSGQUEUE
	ruid          uint32
	charge        // queued bytes against --mem
}

// MqFile is one open description of a queue (fs.OpenFile.Mqueue).
type MqFile struct {
	Q        *MQueue
	acc      int
	flags    int // the open flags besides O_NONBLOCK, for F_GETFL
	nonblock atomic.Bool
	mu       sync.Mutex
	pos      int64
}

type mqState struct {
	byName map[string]*MQueue
	count  int               // live queues, linked or not (mq_queues_count)
	all    map[*MQueue]bool  // those queues
	bytes  map[uint32]uint64 // RLIMIT_MSGQUEUE use per uid
	ino    uint64
	// dirTime: the mqueue directory's times (a queue made or unlinked).
	dirTime time.Time
}

func (s *mqState) init() {
	s.byName = map[string]*MQueue{}
	s.all = map[*MQueue]bool{}
	s.bytes = map[uint32]uint64{}
	s.ino = 2 // the mqueue file system's root is 1
	s.dirTime = time.Now()
}

// Readable and Writable: the description's access mode allows it.
func (f *MqFile) Readable() bool { return f.acc == unix.O_RDONLY || f.acc == unix.O_RDWR }
func (f *MqFile) Writable() bool { return f.acc == unix.O_WRONLY || f.acc == unix.O_RDWR }

// Flags is the description's F_GETFL.
func (f *MqFile) Flags() int {
	fl := f.flags
	if f.nonblock.Load() {
		fl |= unix.O_NONBLOCK
	}
	return fl
}

// SetFlags is F_SETFL: of what it changes, a queue uses O_NONBLOCK.
func (f *MqFile) SetFlags(fl int) { f.nonblock.Store(fl&unix.O_NONBLOCK != 0) }

// signal wakes every waiter on q to try again.
func (q *MQueue) signal() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// ready brings the eventfd's counter to the queue's state (the head's
// readiness invariant).
func (q *MQueue) ready() {
	want := uint64(0)
	switch {
	case int64(len(q.msgs)) >= q.maxmsg:
		want = evFull
	case len(q.msgs) > 0:
		want = 1
	}
	if want == q.level || q.efd < 0 {
		return
	}
	var b [8]byte
	if q.level != 0 {
		_, _ = unix.Read(q.efd, b[:]) // to 0
	}
	if want != 0 {
		abi.Put64(b[:], want)
		_, _ = unix.Write(q.efd, b[:])
	}
	q.level = want
}

// mqName reads a queue name argument: getname's EFAULT, ENAMETOOLONG and
// ENOENT (empty), then lookup_one_len's EACCES ("." "..", a '/') and the
// file system's ENAMETOOLONG past NAME_MAX.
func mqName(p *kernel.Process, addr uint64) (string, error) {
	name, err := p.MM.ReadString(addr, pathMax)
	switch {
	case err == unix.ENAMETOOLONG:
		return "", err
	case err != nil:
		return "", unix.EFAULT
	case name == "":
		return "", unix.ENOENT
	case name == "." || name == "..":
		return "", unix.EACCES
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			return "", unix.EACCES
		}
	}
	if len(name) > nameMax {
		return "", unix.ENAMETOOLONG
	}
	return name, nil
}

// mqAllowed is generic_permission for a queue file: the one class the
// caller falls in, then CAP_DAC_OVERRIDE (CAP_DAC_READ_SEARCH for reads).
func mqAllowed(c Cred, q *MQueue, want uint32) bool {
	m := q.Mode
	switch {
	case c.UID == q.UID:
		m >>= 6
	case c.inGroup(q.GID):
		m >>= 3
	}
	if want&^m&7 == 0 {
		return true
	}
	if kernel.HostCapable(unix.CAP_DAC_OVERRIDE) {
		return true
	}
	return want == 4 && kernel.HostCapable(unix.CAP_DAC_READ_SEARCH)
}

// MqOpen is mq_open(2) (the name without glibc's leading '/').
func (ns *NS) MqOpen(p *kernel.Process, uname uint64, oflag int32, mode uint32, uattr uint64) (uint64, error) {
	var attr []byte
	if uattr != 0 {
		attr = make([]byte, mqAttrSize)
		if _, err := p.MM.CopyIn(uattr, attr); err != nil {
			return 0, unix.EFAULT
		}
	}
	name, err := mqName(p, uname)
	if err != nil {
		return 0, err
	}
	var umask uint32
	if p.FS != nil {
		umask = p.FS.Umask()
	}
	ns.mu.Lock()
	q, created, err := ns.mqLookupOpen(p, name, oflag, mode&0o7777&^umask, attr)
	if err == nil {
		q.opens++ // the description to be: q stays meanwhile
	}
	ns.mu.Unlock()
	if err != nil {
		return 0, err
	}
	// Installed without NS.mu: a close, which may run with an fd table's
	// lock held, takes NS.mu (mqClosed).
	fd, err := ns.mqInstall(p, q, int(oflag))
	if err != nil {
		ns.mu.Lock()
		q.opens--
		if created && q.name == name && ns.mq.byName[name] == q {
			// The fd could not be had (Linux reserves it first): undone.
			delete(ns.mq.byName, name)
			q.name = ""
		}
		if q.opens == 0 && q.name == "" {
			ns.mqFree(q)
		}
		ns.mu.Unlock()
	}
	return fd, err
}

// mqLookupOpen is prepare_open: the queue of name, made when O_CREAT asks.
func (ns *NS) mqLookupOpen(p *kernel.Process, name string, oflag int32, mode uint32, attr []byte) (*MQueue, bool, error) {
	c := CredOf(p)
	if q, ok := ns.mq.byName[name]; ok {
		if oflag&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL {
			return nil, false, unix.EEXIST
		}
		acc := oflag & unix.O_ACCMODE
		if acc == unix.O_ACCMODE {
			return nil, false, unix.EINVAL
		}
		want := [...]uint32{4, 2, 6}[acc]
		if !mqAllowed(c, q, want) {
			return nil, false, unix.EACCES
		}
		return q, false, nil
	}
	if oflag&unix.O_CREAT == 0 {
		return nil, false, unix.ENOENT
	}
	q, err := ns.mqCreate(p, c, name, mode, attr)
	return q, err == nil, err
}

// mqCreate is mqueue_create_attr and mqueue_get_inode: a new queue named
// name (Linux's checks, in its order).
func (ns *NS) mqCreate(p *kernel.Process, c Cred, name string, mode uint32, attr []byte) (*MQueue, error) {
	resource := kernel.HostCapable(unix.CAP_SYS_RESOURCE)
	if ns.mq.count >= mqHardQueues || ns.mq.count >= MqQueuesMax && !resource {
		return nil, unix.ENOSPC
	}
	maxmsg, msgsize := int64(MqMsgDefault), int64(MqMsgsizeDefault)
	if attr != nil {
		maxmsg, msgsize = int64(abi.Le64(attr[8:])), int64(abi.Le64(attr[16:]))
	}
	if maxmsg <= 0 || msgsize <= 0 {
		return nil, unix.EINVAL
	}
	if resource {
		if maxmsg > mqHardMsgMax || msgsize > mqHardMsgsizeMax {
			return nil, unix.EINVAL
		}
	} else if maxmsg > MqMsgMax || msgsize > MqMsgsizeMax {
		return nil, unix.EINVAL
	}
	// Both are bounded above: no overflow is possible here.
	bytes := uint64(maxmsg*msgsize + maxmsg*mqNodeSize + min(maxmsg, mqPrioMax)*mqNodeSize)
	lim, err := p.Rlimit(unix.RLIMIT_MSGQUEUE)
	if err != nil {
		return nil, err
	}
	if ns.mq.bytes[c.UID]+bytes > lim.Cur {
		return nil, unix.EMFILE
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, unix.ENFILE
	}
	t := time.Now()
	q := &MQueue{name: name, Ino: ns.mq.ino, Mode: mode, UID: c.UID, GID: c.GID,
		Atime: t, Mtime: t, Ctime: t, maxmsg: maxmsg, msgsize: msgsize,
		changed: make(chan struct{}), efd: efd, rbytes: bytes, ruid: c.UID, charge: charge{charger: chargerOf(p)}}
	ns.mq.ino++
	ns.mq.bytes[c.UID] += bytes
	ns.mq.count++
	ns.mq.all[q] = true
	ns.mq.byName[name] = q
	ns.mq.dirTime = t
	return q, nil
}

// mqInstall gives p a descriptor of a new open description of q, whose
// opens count has it already (always close-on-exec, as Linux's
// do_mq_open). Without NS.mu: q.efd lives while q.opens counts it.
func (ns *NS) mqInstall(p *kernel.Process, q *MQueue, oflag int) (uint64, error) {
	h, of, err := ns.mqDescription(q, oflag)
	if err != nil {
		return 0, err
	}
	return p.NewFD(h, true, of)
}

// mqDescription is a new open description of q (counted in q.opens
// already): a dup of its eventfd and the OpenFile, not yet installed.
func (ns *NS) mqDescription(q *MQueue, oflag int) (int, *fs.OpenFile, error) {
	h, err := unix.FcntlInt(uintptr(q.efd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, nil, unix.EMFILE
	}
	f := &MqFile{Q: q, acc: oflag & unix.O_ACCMODE,
		flags: oflag &^ (unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_TRUNC | unix.O_NONBLOCK | unix.O_CLOEXEC)}
	f.nonblock.Store(oflag&unix.O_NONBLOCK != 0)
	acc := f.acc
	if acc == unix.O_ACCMODE {
		acc = -1 // neither read nor write
	}
	of := &fs.OpenFile{Kind: fs.KindHost, Path: "/" + q.name, Acc: acc, Mqueue: f}
	// Its stat (fstat, statx with AT_EMPTY_PATH) is the queue file's,
	// not the eventfd's.
	of.Node = &fs.ProcNode{Path: of.Path, Mode: unix.S_IFREG | q.Mode, Magic: fs.MqueueMagic,
		StatOf: func(fs.FileOwner) unix.Stat_t { return ns.MqStat(q) }}
	of.Closed = func() { ns.mqClosed(q) }
	return h, of, nil
}

// mqClosed is the last close of one description of q.
func (ns *NS) mqClosed(q *MQueue) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if q.opens--; q.opens == 0 && q.name == "" {
		ns.mqFree(q)
	}
}

// mqFree frees q, unlinked and without descriptions: mqueue_evict_inode.
func (ns *NS) mqFree(q *MQueue) {
	if q.efd < 0 {
		return
	}
	unix.Close(q.efd)
	q.efd = -1
	q.msgs, q.qsize, q.usage = nil, 0, 0
	q.recharge()
	ns.mq.bytes[q.ruid] -= q.rbytes
	if ns.mq.bytes[q.ruid] == 0 {
		delete(ns.mq.bytes, q.ruid)
	}
	ns.mq.count--
	delete(ns.mq.all, q)
	q.signal()
}

// MqUnlink is mq_unlink(2).
func (ns *NS) MqUnlink(p *kernel.Process, uname uint64) error {
	name, err := mqName(p, uname)
	if err != nil {
		return err
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.mqUnlink(CredOf(p), name)
}

func (ns *NS) mqUnlink(c Cred, name string) error {
	q, ok := ns.mq.byName[name]
	if !ok {
		return unix.ENOENT
	}
	// The file system's root is sticky and root's: may_delete's check.
	if c.UID != q.UID && c.UID != 0 && !kernel.HostCapable(unix.CAP_FOWNER) {
		return unix.EPERM
	}
	delete(ns.mq.byName, name)
	q.name = ""
	ns.mq.dirTime = time.Now()
	if q.opens == 0 {
		ns.mqFree(q)
	}
	return nil
}

// mqFile is the queue description of guest fd fd: EBADF if none.
func mqFile(p *kernel.Process, fd uint64) (*MqFile, error) {
	e, err := p.Entry(fd)
	if err != nil {
		return nil, unix.EBADF
	}
	f, ok := e.File.Mqueue.(*MqFile)
	if !ok {
		return nil, unix.EBADF
	}
	return f, nil
}

// MqFileOf is the queue description of an open file, nil if it is none.
func MqFileOf(f *fs.OpenFile) *MqFile {
	m, _ := f.Mqueue.(*MqFile)
	return m
}

// mqDeadline reads an absolute CLOCK_REALTIME timeout (prepare_timeout):
// EFAULT, EINVAL for an invalid timespec, before anything else.
func mqDeadline(p *kernel.Process, addr uint64) (time.Time, error) {
	if addr == 0 {
		return zeroTime, nil
	}
	var b [16]byte
	if _, err := p.MM.CopyIn(addr, b[:]); err != nil {
		return zeroTime, unix.EFAULT
	}
	sec, nsec := int64(abi.Le64(b[:])), int64(abi.Le64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return zeroTime, unix.EINVAL
	}
	return time.Unix(sec, nsec), nil // never zeroTime (year 1): a deadline
}

// mqWait waits, without NS.mu, for a change of q or the deadline.
func (ns *NS) mqWait(p *kernel.Process, q *MQueue, deadline time.Time) error {
	ch := q.changed
	ns.mu.Unlock()
	err := p.WaitWoken(ch, deadline)
	ns.mu.Lock()
	if err == unix.EINTR {
		return kernel.ErrRestart
	}
	return err
}

// MqTimedsend is mq_timedsend(2).
func (ns *NS) MqTimedsend(p *kernel.Process, mqd, uptr, ulen uint64, prio uint32, utimeout uint64) error {
	deadline, err := mqDeadline(p, utimeout)
	if err != nil {
		return err
	}
	if prio >= mqPrioMax {
		return unix.EINVAL
	}
	f, err := mqFile(p, mqd)
	if err != nil {
		return err
	}
	q := f.Q
	if !f.Writable() {
		return unix.EBADF
	}
	if ulen > uint64(q.msgsize) { // fixed at creation
		return unix.EMSGSIZE
	}
	text := make([]byte, ulen)
	if _, err := p.MM.CopyIn(uptr, text); err != nil {
		return unix.EFAULT
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for int64(len(q.msgs)) >= q.maxmsg {
		if f.nonblock.Load() {
			return unix.EAGAIN
		}
		if err := ns.mqWait(p, q, deadline); err != nil {
			return err
		}
	}
	q.usage += ulen + mqNodeSize
	if !q.recharge() {
		q.usage -= ulen + mqNodeSize
		return unix.ENOMEM
	}
	// After the last message of a higher or equal priority.
	i := sort.Search(len(q.msgs), func(i int) bool { return q.msgs[i].prio < prio })
	q.msgs = append(q.msgs, mqMsg{})
	copy(q.msgs[i+1:], q.msgs[i:])
	q.msgs[i] = mqMsg{prio: prio, text: text}
	q.qsize += ulen
	t := time.Now()
	q.Atime, q.Mtime, q.Ctime = t, t, t
	if len(q.msgs) == 1 && q.recvWaiters == 0 {
		ns.mqNotify(p, q)
	}
	q.ready()
	q.signal()
	return nil
}

// mqNotify is __do_notify: the queue has just become non-empty with no
// receiver waiting, so its registration, if any, is sent and ends.
func (ns *NS) mqNotify(p *kernel.Process, q *MQueue) {
	if q.owner == 0 {
		return
	}
	owner := q.owner
	q.owner = 0
	k := p.Proc.K
	if q.notify != sigevSignal || q.signo == 0 || k == nil {
		return
	}
	raw := make([]byte, 128)
	abi.Put32(raw, uint32(q.signo))
	abi.Put32(raw[8:], 1<<32+siMesgq)
	abi.Put32(raw[16:], uint32(p.Pid))
	abi.Put32(raw[20:], CredOf(p).UID)
	abi.Put64(raw[24:], q.value)
	k.PostMesgq(owner, int(q.signo), raw)
}

// MqTimedreceive is mq_timedreceive(2): the message's length.
func (ns *NS) MqTimedreceive(p *kernel.Process, mqd, uptr, ulen, uprio, utimeout uint64) (uint64, error) {
	deadline, err := mqDeadline(p, utimeout)
	if err != nil {
		return 0, err
	}
	f, err := mqFile(p, mqd)
	if err != nil {
		return 0, err
	}
	q := f.Q
	if !f.Readable() {
		return 0, unix.EBADF
	}
	if ulen < uint64(q.msgsize) {
		return 0, unix.EMSGSIZE
	}
	ns.mu.Lock()
	for len(q.msgs) == 0 {
		if f.nonblock.Load() {
			ns.mu.Unlock()
			return 0, unix.EAGAIN
		}
		q.recvWaiters++
		err := ns.mqWait(p, q, deadline)
		q.recvWaiters--
		if err != nil {
			ns.mu.Unlock()
			return 0, err
		}
	}
	m := q.msgs[0]
	q.msgs[0] = mqMsg{}
	q.msgs = q.msgs[1:]
	q.qsize -= uint64(len(m.text))
	q.usage -= uint64(len(m.text)) + mqNodeSize
	q.recharge()
	t := time.Now()
	q.Atime, q.Mtime, q.Ctime = t, t, t
	q.ready()
	q.signal()
	ns.mu.Unlock()
	// The message is the caller's now: a bad buffer loses it, as in Linux.
	if uprio != 0 {
		var b [4]byte
		abi.Put32(b[:], m.prio)
		if _, err := p.MM.CopyOut(uprio, b[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	if _, err := p.MM.CopyOut(uptr, m.text); err != nil {
		return 0, unix.EFAULT
	}
	return uint64(len(m.text)), nil
}

// ownerGone ends q's registration if its owner has gone (Linux ends it
// at the owner's close of the queue, which its exit does).
func (ns *NS) ownerGone(q *MQueue) {
	if q.owner != 0 && ns.k != nil && !ns.k.Alive(q.owner) {
		q.owner = 0
	}
}

// MqFlush is a close of a descriptor of f's queue by process pid
// (mqueue_flush_file): the registration ends if pid owns it.
func (ns *NS) MqFlush(f *MqFile, pid int) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if f.Q.owner == pid {
		f.Q.owner = 0
	}
}

// MqExeced ends the registrations process pid owns: it has exec'd, which
// closed its queue descriptors (they are close-on-exec but for open(2)'s)
// and after which Linux sends it no notification (self_exec_id).
func (ns *NS) MqExeced(pid int) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for q := range ns.mq.all {
		if q.owner == pid {
			q.owner = 0
		}
	}
}

// MqNotify is mq_notify(2).
func (ns *NS) MqNotify(p *kernel.Process, mqd, usev uint64) error {
	var sev []byte
	if usev != 0 {
		sev = make([]byte, sigevSize)
		if _, err := p.MM.CopyIn(usev, sev); err != nil {
			return unix.EFAULT
		}
		switch int32(abi.Le32(sev[12:])) {
		case sigevNone:
		case sigevSignal:
			if abi.Le32(sev[8:]) > kernel.Nsig {
				return unix.EINVAL
			}
		case sigevThread:
			// Its netlink cookie would go to a host socket of the
			// guest's, which kshim cannot write into.
			return unix.ENOSYS
		default:
			return unix.EINVAL
		}
	}
	f, err := mqFile(p, mqd)
	if err != nil {
		return err
	}
	q := f.Q
	ns.mu.Lock()
	defer ns.mu.Unlock()
	ns.ownerGone(q)
	switch {
	case sev == nil:
		if q.owner == p.Pid {
			q.owner = 0
		}
	case q.owner != 0:
		return unix.EBUSY
	default:
		q.owner = p.Pid
		q.notify = int32(abi.Le32(sev[12:]))
		q.signo, q.value = 0, 0
		if q.notify == sigevSignal {
			q.signo, q.value = int32(abi.Le32(sev[8:])), abi.Le64(sev)
		}
	}
	t := time.Now()
	q.Atime, q.Ctime = t, t
	return nil
}

// MqGetsetattr is mq_getsetattr(2).
func (ns *NS) MqGetsetattr(p *kernel.Process, mqd, unew, uold uint64) error {
	var nw []byte
	if unew != 0 {
		nw = make([]byte, mqAttrSize)
		if _, err := p.MM.CopyIn(unew, nw); err != nil {
			return unix.EFAULT
		}
		if abi.Le64(nw)&^unix.O_NONBLOCK != 0 {
			return unix.EINVAL
		}
	}
	f, err := mqFile(p, mqd)
	if err != nil {
		return err
	}
	q := f.Q
	old := make([]byte, mqAttrSize)
	ns.mu.Lock()
	if f.nonblock.Load() {
		abi.Put64(old, unix.O_NONBLOCK)
	}
	abi.Put64(old[8:], uint64(q.maxmsg))
	abi.Put64(old[16:], uint64(q.msgsize))
	abi.Put64(old[24:], uint64(len(q.msgs)))
	if nw != nil {
		f.nonblock.Store(abi.Le64(nw)&unix.O_NONBLOCK != 0)
		t := time.Now()
		q.Atime, q.Ctime = t, t
	}
	ns.mu.Unlock()
	if uold != 0 {
		if _, err := p.MM.CopyOut(uold, old); err != nil {
			return unix.EFAULT
		}
	}
	return nil
}

// mqText is a queue file's contents (mqueue_read_file). NS.mu held.
func (ns *NS) mqText(q *MQueue) string {
	ns.ownerGone(q)
	notify, signo := int32(0), int32(0)
	if q.owner != 0 {
		notify = q.notify
		if q.notify == sigevSignal {
			signo = q.signo
		}
	}
	return fmt.Sprintf("QSIZE:%-10d NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n", q.qsize, notify, signo, q.owner)
}

// MqRead is read(2) (off -1) or pread64 of a queue descriptor:
// simple_read_from_buffer of its text at the description's position.
func (ns *NS) MqRead(p *kernel.Process, f *MqFile, addr, n uint64, off int64) (uint64, error) {
	if !f.Readable() {
		return 0, unix.EBADF
	}
	ns.mu.Lock()
	text := ns.mqText(f.Q)
	ns.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	pos := off
	if off < 0 {
		pos = f.pos
	}
	if pos >= int64(len(text)) || n == 0 {
		return 0, nil
	}
	chunk := text[pos:]
	if uint64(len(chunk)) > n {
		chunk = chunk[:n]
	}
	got, err := p.MM.CopyOut(addr, []byte(chunk))
	if got == 0 && err != nil {
		return 0, unix.EFAULT
	}
	if off < 0 {
		f.pos += int64(got)
	}
	ns.mu.Lock()
	t := time.Now()
	f.Q.Atime, f.Q.Ctime = t, t
	ns.mu.Unlock()
	return uint64(got), nil
}

// MqSeek is lseek(2) of a queue descriptor (default_llseek, on a file of
// MqFileSize bytes).
func MqSeek(f *MqFile, off int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		off += f.pos
	case unix.SEEK_END:
		off += MqFileSize
	default:
		return 0, unix.EINVAL
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	f.pos = off
	return off, nil
}
