// fspoll.go: waiting for fds: poll, ppoll, select, pselect6 and epoll.
//
// Invariants:
//   - Guest fds are translated to host fds for the host call and results
//     are reported against the guest's numbers; the guest never sees a
//     host fd. Every wait is a host poll or epoll_wait on those fds (select
//     too, so host fd numbers above FD_SETSIZE do not matter).
//   - An epoll fd is a host epoll instance. Its interest list holds host
//     fds, and the 64-bit event data is the guest's own, passed through
//     untouched both ways.
//   - Waits block the task's VMM thread. A signal another task posts kicks
//     the thread (task.go), the host wait returns EINTR, and it becomes the
//     guest's EINTR when the signal is one the guest acts on; any other
//     host EINTR is retried with the time left. The temporary signal masks
//     of ppoll, pselect6 and epoll_pwait are checked and read, not applied
//     (a pending signal they would unblock does not interrupt the wait).
package syscalls

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// deadline turns a timeout into an absolute time; nil waits forever.
type deadline struct {
	forever bool
	at      time.Time
}

func after(d time.Duration) deadline { return deadline{at: time.Now().Add(d)} }

// ms is the remaining time for poll/epoll_wait: -1 forever, else >= 0
// milliseconds, rounded up so a wait never ends early.
func (d deadline) ms() int {
	if d.forever {
		return -1
	}
	left := time.Until(d.at)
	if left <= 0 {
		return 0
	}
	return int((left + time.Millisecond - 1) / time.Millisecond)
}

func (d deadline) left() time.Duration {
	return max(0, time.Until(d.at))
}

// hostPoll polls host fds until something is ready or the deadline
// passes. An interruption is retried with the time left unless a guest
// signal is pending (another task posted it and kicked this thread):
// then it is the guest's EINTR.
func (p *fsTask) hostPoll(fds []unix.PollFd, d deadline) (int, error) {
	for {
		n, err := unix.Poll(fds, d.ms())
		if err == unix.EINTR && !p.owner.interrupted() {
			continue
		}
		return n, err
	}
}

const pollfdSize = 8

// pollFDs copies a pollfd array in and maps it to host fds. Closed guest
// fds get POLLNVAL here and are left out of the host call (host fd -1).
func (p *fsTask) pollFDs(addr, n uint64) (raw []byte, host []unix.PollFd, nval int, err error) {
	if n > uint64(p.nofile()) {
		return nil, nil, 0, unix.EINVAL
	}
	raw = make([]byte, pollfdSize*n)
	if _, err := p.MM.CopyIn(addr, raw); err != nil {
		return nil, nil, 0, err
	}
	host = make([]unix.PollFd, n)
	for i := range host {
		fd := int32(le32(raw[8*i:]))
		host[i] = unix.PollFd{Fd: -1, Events: int16(uint16(raw[8*i+4]) | uint16(raw[8*i+5])<<8)}
		if fd < 0 {
			continue
		}
		e, ok := p.files.get(int(fd))
		if !ok {
			host[i].Revents = unix.POLLNVAL
			nval++
			continue
		}
		host[i].Fd = int32(e.host)
	}
	return raw, host, nval, nil
}

func (p *fsTask) poll(addr, n uint64, d deadline) (uint64, error) {
	raw, host, nval, err := p.pollFDs(addr, n)
	if err != nil {
		return 0, err
	}
	if nval > 0 {
		d = deadline{} // ready now: the invalid fds
	}
	nvals := make([]bool, len(host))
	for i := range host {
		nvals[i] = host[i].Revents == unix.POLLNVAL
	}
	got, err := p.hostPoll(host, d)
	if err != nil {
		return 0, err
	}
	for i := range host {
		rev := host[i].Revents
		if nvals[i] {
			rev = unix.POLLNVAL
		}
		raw[8*i+6], raw[8*i+7] = byte(rev), byte(uint16(rev)>>8)
	}
	if _, err := p.MM.CopyOut(addr, raw); err != nil {
		return 0, err
	}
	return uint64(got + nval), nil
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func sysPoll(p *Process, _ *Regs, a *args) (uint64, error) {
	d := deadline{forever: true}
	if ms := int32(a[2]); ms >= 0 {
		d = after(time.Duration(ms) * time.Millisecond)
	}
	return p.poll(a[0], a[1], d)
}

// timespecArg reads a relative timeout; nil pointer: forever.
func (p *fsTask) timespecArg(addr uint64) (deadline, error) {
	if addr == 0 {
		return deadline{forever: true}, nil
	}
	var b [16]byte
	if _, err := p.MM.CopyIn(addr, b[:]); err != nil {
		return deadline{}, err
	}
	sec, nsec := int64(le64(b[:])), int64(le64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return deadline{}, unix.EINVAL
	}
	if sec > 1<<32 { // centuries: forever, without overflowing Duration
		return deadline{forever: true}, nil
	}
	return after(time.Duration(sec)*time.Second + time.Duration(nsec)), nil
}

// putTimespec writes the time left back, as the raw ppoll and pselect6
// do (glibc hides it).
func (p *fsTask) putTimespec(addr uint64, d deadline) {
	if addr == 0 || d.forever {
		return
	}
	left := d.left()
	var b [16]byte
	put64(b[:], uint64(left/time.Second))
	put64(b[8:], uint64(left%time.Second))
	_, _ = p.MM.CopyOut(addr, b[:])
}

// sigmaskArg checks and reads a temporary signal mask (see the header).
func (p *fsTask) sigmaskArg(addr, size uint64) error {
	if addr == 0 {
		return nil
	}
	if size != 8 {
		return unix.EINVAL
	}
	var b [8]byte
	_, err := p.MM.CopyIn(addr, b[:])
	return err
}

func sysPpoll(p *Process, _ *Regs, a *args) (uint64, error) {
	d, err := p.timespecArg(a[2])
	if err != nil {
		return 0, err
	}
	if err := p.sigmaskArg(a[3], a[4]); err != nil {
		return 0, err
	}
	n, err := p.poll(a[0], a[1], d)
	if err == nil {
		p.putTimespec(a[2], d)
	}
	return n, err
}

// Linux's select sets (fs/select.c), with the x86 POLL* values x/sys
// does not name.
const (
	pollRdNorm = 0x40
	pollRdBand = 0x80
	pollWrNorm = 0x100
	pollWrBand = 0x200

	pollInSet  = pollRdNorm | pollRdBand | unix.POLLIN | unix.POLLHUP | unix.POLLERR
	pollOutSet = pollWrBand | pollWrNorm | unix.POLLOUT | unix.POLLERR
	pollExSet  = unix.POLLPRI
)

func (p *fsTask) selectFDs(nfds int64, addrs [3]uint64, d deadline) (uint64, error) {
	if nfds < 0 {
		return 0, unix.EINVAL
	}
	n := min(int(min(nfds, 1<<30)), p.files.maxFDSet())
	words := (n + 63) / 64
	var sets [3][]uint64
	for i, addr := range addrs {
		if addr == 0 || n == 0 {
			continue
		}
		b := make([]byte, 8*words)
		if _, err := p.MM.CopyIn(addr, b); err != nil {
			return 0, err
		}
		sets[i] = make([]uint64, words)
		for w := range sets[i] {
			sets[i][w] = le64(b[8*w:])
		}
		if n%64 != 0 {
			sets[i][words-1] &= 1<<(n%64) - 1
		}
	}
	isSet := func(i, fd int) bool { return sets[i] != nil && sets[i][fd/64]&(1<<(fd%64)) != 0 }
	var host []unix.PollFd
	var guest []int
	for fd := 0; fd < n; fd++ {
		var ev int16
		if isSet(0, fd) {
			ev |= pollInSet
		}
		if isSet(1, fd) {
			ev |= pollOutSet
		}
		if isSet(2, fd) {
			ev |= pollExSet
		}
		if ev == 0 {
			continue
		}
		e, ok := p.files.get(fd)
		if !ok {
			return 0, unix.EBADF
		}
		host = append(host, unix.PollFd{Fd: int32(e.host), Events: ev})
		guest = append(guest, fd)
	}
	if _, err := p.hostPoll(host, d); err != nil {
		return 0, err
	}
	var out [3][]uint64
	for i := range out {
		if sets[i] != nil {
			out[i] = make([]uint64, words)
		}
	}
	count := 0
	for j, h := range host {
		fd := guest[j]
		for i, mask := range [3]int16{pollInSet, pollOutSet, pollExSet} {
			if isSet(i, fd) && h.Revents&mask != 0 {
				out[i][fd/64] |= 1 << (fd % 64)
				count++
			}
		}
	}
	for i, addr := range addrs {
		if out[i] == nil {
			continue
		}
		b := make([]byte, 8*words)
		for w, v := range out[i] {
			put64(b[8*w:], v)
		}
		if _, err := p.MM.CopyOut(addr, b); err != nil {
			return 0, err
		}
	}
	return uint64(count), nil
}

func sysSelect(p *Process, _ *Regs, a *args) (uint64, error) {
	d := deadline{forever: true}
	if a[4] != 0 {
		var b [16]byte
		if _, err := p.MM.CopyIn(a[4], b[:]); err != nil {
			return 0, err
		}
		sec, usec := int64(le64(b[:])), int64(le64(b[8:]))
		sec += usec / 1e6 // Linux normalises tv_usec
		usec %= 1e6
		if sec < 0 || usec < 0 {
			return 0, unix.EINVAL
		}
		if sec <= 1<<32 {
			d = after(time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond)
		}
	}
	n, err := p.selectFDs(int64(int32(a[0])), [3]uint64{a[1], a[2], a[3]}, d)
	if err == nil && a[4] != 0 && !d.forever {
		// Linux writes the time left back into the timeval.
		left := d.left()
		var b [16]byte
		put64(b[:], uint64(left/time.Second))
		put64(b[8:], uint64(left%time.Second/time.Microsecond))
		_, _ = p.MM.CopyOut(a[4], b[:])
	}
	return n, err
}

func sysPselect6(p *Process, _ *Regs, a *args) (uint64, error) {
	d, err := p.timespecArg(a[4])
	if err != nil {
		return 0, err
	}
	if a[5] != 0 {
		// struct { const sigset_t *ss; size_t ss_len; }
		var b [16]byte
		if _, err := p.MM.CopyIn(a[5], b[:]); err != nil {
			return 0, err
		}
		if err := p.sigmaskArg(le64(b[:]), le64(b[8:])); err != nil {
			return 0, err
		}
	}
	n, err := p.selectFDs(int64(int32(a[0])), [3]uint64{a[1], a[2], a[3]}, d)
	if err == nil {
		p.putTimespec(a[4], d)
	}
	return n, err
}

// epollEventSize is struct epoll_event on x86-64: packed u32 + u64.
const (
	epollEventSize = 12
	epMaxEvents    = (1<<31 - 1) / epollEventSize
	epollChunk     = 1024 // host events fetched per wait at most
)

func sysEpollCreate(p *Process, _ *Regs, a *args) (uint64, error) {
	if int32(a[0]) <= 0 {
		return 0, unix.EINVAL
	}
	return p.epollCreate(0)
}

func sysEpollCreate1(p *Process, _ *Regs, a *args) (uint64, error) {
	if a[0]&^uint64(unix.EPOLL_CLOEXEC) != 0 {
		return 0, unix.EINVAL
	}
	return p.epollCreate(int(a[0]))
}

func (p *fsTask) epollCreate(flags int) (uint64, error) {
	if !p.files.hasFree(p.nofile()) {
		return 0, unix.EMFILE
	}
	h, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return 0, err
	}
	return p.newFD(h, flags&unix.EPOLL_CLOEXEC != 0, &openFile{kind: kindHost})
}

func sysEpollCtl(p *Process, _ *Regs, a *args) (uint64, error) {
	op := int(int32(a[1]))
	var ev [epollEventSize]byte
	if op != unix.EPOLL_CTL_DEL {
		if _, err := p.MM.CopyIn(a[3], ev[:]); err != nil {
			return 0, err
		}
	}
	ep, err := p.entry(a[0])
	if err != nil {
		return 0, err
	}
	t, err := p.entry(a[2])
	if err != nil {
		return 0, err
	}
	// The host checks the rest: epfd is an epoll fd, fd can be polled, not
	// itself, op and events valid. The data is the guest's.
	_, _, e := unix.Syscall6(unix.SYS_EPOLL_CTL, uintptr(ep.host), uintptr(op), uintptr(t.host), uintptr(unsafe.Pointer(&ev[0])), 0, 0)
	if e != 0 {
		return 0, e
	}
	return 0, nil
}

func (p *fsTask) epollWait(epfd, events, maxEvents uint64, d deadline) (uint64, error) {
	max := int32(maxEvents)
	if max <= 0 || max > epMaxEvents {
		return 0, unix.EINVAL
	}
	if !accessOK(events, uint64(max)*epollEventSize) {
		return 0, unix.EFAULT
	}
	ep, err := p.entry(epfd)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, epollEventSize*int(min(max, epollChunk)))
	for {
		r, _, e := unix.Syscall6(unix.SYS_EPOLL_WAIT, uintptr(ep.host), uintptr(unsafe.Pointer(&buf[0])),
			uintptr(len(buf)/epollEventSize), uintptr(d.ms()), 0, 0)
		if e == unix.EINTR && !p.owner.interrupted() {
			continue
		}
		if e != 0 {
			return 0, e
		}
		if _, err := p.MM.CopyOut(events, buf[:int(r)*epollEventSize]); err != nil {
			return 0, err
		}
		return uint64(r), nil
	}
}

func msDeadline(ms int32) deadline {
	if ms < 0 {
		return deadline{forever: true}
	}
	return after(time.Duration(ms) * time.Millisecond)
}

func sysEpollWait(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.epollWait(a[0], a[1], a[2], msDeadline(int32(a[3])))
}

func sysEpollPwait(p *Process, _ *Regs, a *args) (uint64, error) {
	if err := p.sigmaskArg(a[4], a[5]); err != nil {
		return 0, err
	}
	return p.epollWait(a[0], a[1], a[2], msDeadline(int32(a[3])))
}

func sysEpollPwait2(p *Process, _ *Regs, a *args) (uint64, error) {
	d, err := p.timespecArg(a[3])
	if err != nil {
		return 0, err
	}
	if err := p.sigmaskArg(a[4], a[5]); err != nil {
		return 0, err
	}
	return p.epollWait(a[0], a[1], a[2], d)
}
