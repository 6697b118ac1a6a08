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
package fs

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
)

// Deadline turns a timeout into an absolute time; nil waits forever.
type Deadline struct {
	Forever bool
	at      time.Time
}

func After(d time.Duration) Deadline { return Deadline{at: time.Now().Add(d)} }

// ms is the remaining time for poll/epoll_wait: -1 forever, else >= 0
// milliseconds, rounded up so a wait never ends early.
func (d Deadline) ms() int {
	if d.Forever {
		return -1
	}
	left := time.Until(d.at)
	if left <= 0 {
		return 0
	}
	return int((left + time.Millisecond - 1) / time.Millisecond)
}

func (d Deadline) Left() time.Duration {
	return max(0, time.Until(d.at))
}

// hostPoll polls host fds until something is ready or the deadline
// passes. An interruption is retried with the time left unless a guest
// signal is pending (another task posted it and kicked this thread):
// then it is the guest's EINTR.
func (p *Task) hostPoll(fds []unix.PollFd, d Deadline) (int, error) {
	for {
		ms := d.ms()
		if ms != 0 {
			p.Owner.SleepBegin()
		}
		n, err := unix.Poll(fds, ms)
		if ms != 0 {
			p.Owner.SleepEnd()
		}
		if err == unix.EINTR && !p.Owner.Interrupted() {
			continue
		}
		return n, err
	}
}

const pollfdSize = 8

// pollFDs copies a pollfd array in and maps it to host fds. Closed guest
// fds get POLLNVAL here and are left out of the host call (host fd -1).
func (p *Task) pollFDs(addr, n uint64) (raw []byte, host []unix.PollFd, nval int, err error) {
	if n > uint64(p.Nofile()) {
		return nil, nil, 0, unix.EINVAL
	}
	raw = make([]byte, pollfdSize*n)
	if _, err := p.MM.CopyIn(addr, raw); err != nil {
		return nil, nil, 0, err
	}
	host = make([]unix.PollFd, n)
	for i := range host {
		fd := int32(abi.Le32(raw[8*i:]))
		host[i] = unix.PollFd{Fd: -1, Events: int16(uint16(raw[8*i+4]) | uint16(raw[8*i+5])<<8)}
		if fd < 0 {
			continue
		}
		e, ok := p.Held(int(fd))
		if !ok {
			host[i].Revents = unix.POLLNVAL
			nval++
			continue
		}
		host[i].Fd = int32(e.Host)
	}
	return raw, host, nval, nil
}

func (p *Task) Poll(addr, n uint64, d Deadline) (uint64, error) {
	raw, host, nval, err := p.pollFDs(addr, n)
	if err != nil {
		return 0, err
	}
	if nval > 0 {
		d = Deadline{} // ready now: the invalid fds
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

// TimespecArg reads a relative timeout; nil pointer: forever.
func (p *Task) TimespecArg(addr uint64) (Deadline, error) {
	if addr == 0 {
		return Deadline{Forever: true}, nil
	}
	var b [16]byte
	if _, err := p.MM.CopyIn(addr, b[:]); err != nil {
		return Deadline{}, err
	}
	sec, nsec := int64(abi.Le64(b[:])), int64(abi.Le64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return Deadline{}, unix.EINVAL
	}
	if sec > 1<<32 { // centuries: forever, without overflowing Duration
		return Deadline{Forever: true}, nil
	}
	return After(time.Duration(sec)*time.Second + time.Duration(nsec)), nil
}

// PutTimespec writes the time left back, as the raw ppoll and pselect6
// do (glibc hides it).
func (p *Task) PutTimespec(addr uint64, d Deadline) {
	if addr == 0 || d.Forever {
		return
	}
	left := d.Left()
	var b [16]byte
	abi.Put64(b[:], uint64(left/time.Second))
	abi.Put64(b[8:], uint64(left%time.Second))
	_, _ = p.MM.CopyOut(addr, b[:])
}

// SigmaskArg checks and reads a temporary signal mask (see the header).
func (p *Task) SigmaskArg(addr, size uint64) error {
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

func (p *Task) SelectFDs(nfds int64, addrs [3]uint64, d Deadline) (uint64, error) {
	if nfds < 0 {
		return 0, unix.EINVAL
	}
	n := min(int(min(nfds, 1<<30)), p.Files.MaxFDSet())
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
			sets[i][w] = abi.Le64(b[8*w:])
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
		e, ok := p.Held(fd)
		if !ok {
			return 0, unix.EBADF
		}
		host = append(host, unix.PollFd{Fd: int32(e.Host), Events: ev})
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
			abi.Put64(b[8*w:], v)
		}
		if _, err := p.MM.CopyOut(addr, b); err != nil {
			return 0, err
		}
	}
	return uint64(count), nil
}

// EpollEventSize is struct epoll_event on x86-64: packed u32 + u64.
const (
	EpollEventSize = 12
	epMaxEvents    = (1<<31 - 1) / EpollEventSize
	epollChunk     = 1024 // host events fetched per wait at most
)

func (p *Task) EpollCreate(flags int) (uint64, error) {
	if !p.Files.HasFree(p.Nofile()) {
		return 0, unix.EMFILE
	}
	h, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return 0, err
	}
	return p.NewFD(h, flags&unix.EPOLL_CLOEXEC != 0, &OpenFile{Kind: KindHost})
}

func (p *Task) EpollWait(epfd, events, maxEvents uint64, d Deadline) (uint64, error) {
	max := int32(maxEvents)
	if max <= 0 || max > epMaxEvents {
		return 0, unix.EINVAL
	}
	if !AccessOK(events, uint64(max)*EpollEventSize) {
		return 0, unix.EFAULT
	}
	ep, err := p.Entry(epfd)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, EpollEventSize*int(min(max, epollChunk)))
	for {
		ms := d.ms()
		if ms != 0 {
			p.Owner.SleepBegin()
		}
		r, _, e := unix.Syscall6(unix.SYS_EPOLL_WAIT, uintptr(ep.Host), uintptr(unsafe.Pointer(&buf[0])),
			uintptr(len(buf)/EpollEventSize), uintptr(ms), 0, 0)
		if ms != 0 {
			p.Owner.SleepEnd()
		}
		if e == unix.EINTR && !p.Owner.Interrupted() {
			continue
		}
		if e != 0 {
			return 0, e
		}
		if _, err := p.MM.CopyOut(events, buf[:int(r)*EpollEventSize]); err != nil {
			return 0, err
		}
		return uint64(r), nil
	}
}

func MsDeadline(ms int32) Deadline {
	if ms < 0 {
		return Deadline{Forever: true}
	}
	return After(time.Duration(ms) * time.Millisecond)
}
