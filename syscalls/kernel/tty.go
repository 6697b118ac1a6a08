// tty.go: a terminal's foreground process group.
//
// Guest process groups have no host counterpart (every guest process runs
// inside kshim's host process), so a guest pgid must never reach the host:
// on the user's terminal it could name an unrelated host process group.
// A guest's TIOCSPGRP makes kshim's own host group the terminal's
// foreground and records which guest group the guest chose; TIOCGPGRP
// shows that choice while kshim's group is the host's foreground.
// Kernel.Mu guards Kernel.fg.
package kernel

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
)

// SetForeground is TIOCSPGRP on host terminal fd h.
func (p *Process) SetForeground(h int, arg uint64) (uint64, error) {
	var b [4]byte
	if _, err := p.MM.CopyIn(arg, b[:]); err != nil {
		return 0, err
	}
	pgid := int32(binary.LittleEndian.Uint32(b[:]))
	if pgid < 0 {
		return 0, unix.EINVAL
	}
	var st unix.Stat_t
	if err := unix.Fstat(h, &st); err != nil {
		return 0, err
	}
	k := p.Proc.K
	if k == nil {
		return 0, unix.ENOTTY
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	var found error = unix.ESRCH
	for _, q := range k.Procs {
		if q.Proc.Pgid == int(pgid) {
			if q.Proc.Sid != p.Proc.Sid {
				return 0, unix.EPERM // a group of another session
			}
			found = nil
		}
	}
	if found != nil {
		return 0, found
	}
	if err := unix.IoctlSetPointerInt(h, unix.TIOCSPGRP, unix.Getpgrp()); err != nil {
		return 0, err
	}
	if k.fg == nil {
		k.fg = map[uint64]int{}
	}
	k.fg[st.Rdev] = int(pgid)
	return 0, nil
}

// GetForeground is TIOCGPGRP on host terminal fd h.
func (p *Process) GetForeground(h int, arg uint64) (uint64, error) {
	host, err := unix.IoctlGetInt(h, unix.TIOCGPGRP)
	if err != nil {
		return 0, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(h, &st); err != nil {
		return 0, err
	}
	v := host
	if k := p.Proc.K; k != nil && host == unix.Getpgrp() {
		k.Mu.Lock()
		if g, ok := k.fg[st.Rdev]; ok {
			v = g
		}
		k.Mu.Unlock()
	}
	var b [4]byte
	abi.Put32(b[:], uint32(v))
	_, err = p.MM.CopyOut(arg, b[:])
	return 0, err
}

// The guest's own terminals (fs/pty.go: host ptys of kshim's private
// devpts instance) are nobody's controlling terminal on the host, so
// their session and foreground group are kept here, as Linux keeps them
// in the tty: a session leader without one takes one with TIOCSCTTY, a
// process of the session reaches it as /dev/tty, and TIOCSPGRP picks
// which of the session's groups is in the foreground. A session's
// terminal is lost when its leader exits (its foreground group gets
// SIGHUP), calls TIOCNOTTY, or the master's last close hangs the slave
// up (the leader gets SIGHUP). The host tty has no session to signal, so
// what Linux's tty layer sends is sent from here: SIGWINCH for a new
// window size (tty_do_resize), the ISIG characters' signals written to
// the master (syscalls/io.go ptyWrote), SIGTTIN/SIGTTOU to background
// groups (TTYCheck). Kernel.Mu guards Kernel.ptys and every ptyTTY.

// ptyKey names one of the guest's terminals: its index and side (the
// session side is always a slave's).
type ptyKey struct {
	n      int
	master bool
}

// ptyTTY is a terminal's session and foreground group (0: none).
type ptyTTY struct{ sid, pgrp int }

// sessionAlive says whether session sid still has its leader. Kernel.Mu held.
func (k *Kernel) sessionAlive(sid int) bool {
	q := k.Procs[sid]
	return q != nil && q.Proc.Sid == sid && !q.Proc.zombie
}

// ttyOf is the guest terminal key's state, nil when it is no session's.
// Kernel.Mu held.
func (k *Kernel) ttyOf(key ptyKey) *ptyTTY {
	t := k.ptys[key]
	if t == nil || t.sid == 0 || !k.sessionAlive(t.sid) {
		return nil
	}
	return t
}

// cttyOf is p's controlling terminal among the guest's. Kernel.Mu held.
func (k *Kernel) cttyOf(p *Process) (ptyKey, *ptyTTY, bool) {
	for key := range k.ptys {
		if t := k.ttyOf(key); t != nil && t.sid == p.Proc.Sid {
			return key, t, true
		}
	}
	return ptyKey{}, nil, false
}

// Ctty is p's controlling terminal, for /dev/tty: one of the guest's pty
// slaves (its index, pty), else kshim's own, the host's /dev/tty, when p
// is still in the session kshim was started in (host); neither when p's
// session has none (a new one: ENXIO, as Linux's).
func (p *Process) Ctty() (n int, pty, host bool) {
	k := p.Proc.K
	if k == nil {
		return 0, false, true
	}
	k.Mu.Lock()
	key, _, ok := k.cttyOf(p)
	sid := p.Proc.Sid
	k.Mu.Unlock()
	if ok {
		return key.n, true, false
	}
	hs, err := unix.Getsid(0)
	return 0, false, err == nil && sid == hs
}

// PtyIoctl serves the terminal requests that concern a session on host fd
// h, one of the guest's terminals (index n, master or slave side); ok
// false leaves req to the host's tty.
func (p *Process) PtyIoctl(h, n int, master bool, req, arg uint64) (r uint64, err error, ok bool) {
	k := p.Proc.K
	if k == nil {
		return 0, nil, false
	}
	// The session side of a pair is its slave's (Linux's
	// tty_pair_get_tty): on the master these requests act on the slave.
	key := ptyKey{n, false}
	switch req {
	case unix.TIOCSCTTY:
		// Only a terminal open for reading (tiocsctty's FMODE_READ).
		if fl, err := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0); err != nil || fl&unix.O_ACCMODE == unix.O_WRONLY {
			return 0, unix.EPERM, true
		}
		return 0, k.setCtty(p, key, arg), true
	case unix.TIOCNOTTY:
		if master {
			return 0, unix.ENOTTY, true // the master is no one's terminal
		}
		return 0, k.noCtty(p, key), true
	case unix.TIOCGPGRP, unix.TIOCGSID:
		k.Mu.Lock()
		var sid, pgrp int
		if t := k.ttyOf(key); t != nil {
			sid, pgrp = t.sid, t.pgrp
		}
		ctty, _, has := k.cttyOf(p)
		k.Mu.Unlock()
		// Linux: ENOTTY on the slave unless it is the caller's
		// terminal; the master answers for its slave to anyone (pgrp
		// 0 when the slave is no session's).
		if !master && (!has || ctty != key) {
			return 0, unix.ENOTTY, true
		}
		v := pgrp
		if req == unix.TIOCGSID {
			if sid == 0 {
				return 0, unix.ENOTTY, true
			}
			v = sid
		}
		var b [4]byte
		abi.Put32(b[:], uint32(v))
		_, err := p.MM.CopyOut(arg, b[:])
		return 0, err, true
	case unix.TIOCSPGRP:
		return 0, k.setPgrp(p, key, arg), true
	case unix.TIOCSWINSZ:
		var old, nw [8]byte
		if _, err := p.MM.CopyIn(arg, nw[:]); err != nil {
			return 0, err, true
		}
		if err := fs.HostIoctl(h, unix.TIOCGWINSZ, old[:]); err != nil {
			return 0, err, true
		}
		if err := fs.HostIoctl(h, unix.TIOCSWINSZ, nw[:]); err != nil {
			return 0, err, true
		}
		if old != nw {
			k.Mu.Lock()
			if t := k.ttyOf(ptyKey{n, false}); t != nil && t.pgrp != 0 {
				k.signalPgrp(t.pgrp, int(unix.SIGWINCH))
			}
			k.Mu.Unlock()
		}
		return 0, nil, true
	}
	return 0, nil, false
}

// setCtty is TIOCSCTTY (Linux's tiocsctty): only a session leader with
// no controlling terminal takes one, and not another session's (stealing
// it, arg 1, needs CAP_SYS_ADMIN, which the guest does not have).
func (k *Kernel) setCtty(p *Process, key ptyKey, arg uint64) error {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	if cur, _, has := k.cttyOf(p); has && cur == key {
		return nil
	}
	if p.Proc.Sid != p.Pid {
		return unix.EPERM
	}
	if _, _, has := k.cttyOf(p); has {
		return unix.EPERM
	}
	if t := k.ttyOf(key); t != nil {
		if arg != 1 || !HostCapable(unix.CAP_SYS_ADMIN) {
			return unix.EPERM
		}
	}
	if k.ptys == nil {
		k.ptys = ptyTable{}
	}
	k.ptys[key] = &ptyTTY{sid: p.Proc.Sid, pgrp: p.Proc.Pgid}
	return nil
}

// noCtty is TIOCNOTTY: ENOTTY unless key is p's controlling terminal; a
// session leader gives it up for its whole session (Linux's
// disassociate_ctty, which also sends SIGHUP and SIGCONT to the
// foreground group); another process keeps its session's (kshim keeps
// the terminal per session, not per process).
func (k *Kernel) noCtty(p *Process, key ptyKey) error {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	cur, t, has := k.cttyOf(p)
	if !has || cur != key {
		return unix.ENOTTY
	}
	if p.Proc.Sid == p.Pid {
		if t.pgrp != 0 {
			k.signalPgrp(t.pgrp, int(unix.SIGHUP))
			k.signalPgrp(t.pgrp, int(unix.SIGCONT))
		}
		delete(k.ptys, key)
	}
	return nil
}

// setPgrp is TIOCSPGRP on one of the guest's terminals (tiocspgrp): it
// must be the caller's controlling terminal (ENOTTY), the group must
// exist (ESRCH) and be of the caller's session (EPERM).
func (k *Kernel) setPgrp(p *Process, key ptyKey, arg uint64) error {
	var b [4]byte
	if _, err := p.MM.CopyIn(arg, b[:]); err != nil {
		return err
	}
	pgid := int32(binary.LittleEndian.Uint32(b[:]))
	k.Mu.Lock()
	defer k.Mu.Unlock()
	cur, t, has := k.cttyOf(p)
	if !has || cur != key {
		return unix.ENOTTY
	}
	if pgid < 0 {
		return unix.EINVAL
	}
	found := false
	for _, q := range k.Procs {
		if q.Proc.Pgid == int(pgid) && !q.Proc.zombie {
			if q.Proc.Sid != p.Proc.Sid {
				return unix.EPERM
			}
			found = true
		}
	}
	if !found {
		return unix.ESRCH
	}
	t.pgrp = int(pgid)
	return nil
}

// signalPgrp sends sig from the kernel to every process of group pgrp.
// Kernel.Mu held.
func (k *Kernel) signalPgrp(pgrp, sig int) {
	info := Siginfo{Signo: int32(sig), Code: siKernel}
	for _, q := range k.Procs {
		if q.Proc.Pgid == pgrp && !q.Proc.zombie {
			liveThread(q, sig).post(sig, info)
			delayForForks(q, sig)
		}
	}
}

// OpenedTTY is an open of guest pty slave n without O_NOCTTY: a session
// leader with no controlling terminal takes it when it is no session's
// (Linux's tty_open_proc_set_tty).
func (p *Process) OpenedTTY(n int) {
	k := p.Proc.K
	if k == nil {
		return
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	key := ptyKey{n, false}
	if p.Proc.Sid != p.Pid || k.ttyOf(key) != nil {
		return
	}
	if _, _, has := k.cttyOf(p); has {
		return
	}
	if k.ptys == nil {
		k.ptys = ptyTable{}
	}
	k.ptys[key] = &ptyTTY{sid: p.Proc.Sid, pgrp: p.Proc.Pgid}
}

// ptyTable is the guest's terminals that have a session.
type ptyTable map[ptyKey]*ptyTTY

// cttyNr is q's controlling terminal for /proc/PID/stat: its device
// number in Linux's new_encode_dev form (a slave N is 136+N/256:N%256)
// and its foreground group, or 0 and -1. Kernel.Mu held.
func (k *Kernel) cttyNr(q *Process) (int, int) {
	key, t, ok := k.cttyOf(q)
	if !ok || key.master {
		return 0, -1
	}
	nr := key.n&0xff | (136+key.n>>8)<<8
	pg := -1
	if t.pgrp != 0 {
		pg = t.pgrp
	}
	return nr, pg
}

// PtyInputSignals sends sigs (what the line discipline's ISIG found in
// the input of guest pty n's slave) to the slave's foreground group.
func (p *Process) PtyInputSignals(n int, sigs []int) {
	k := p.Proc.K
	if k == nil {
		return
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	t := k.ttyOf(ptyKey{n, false})
	if t == nil || t.pgrp == 0 {
		return
	}
	for _, sig := range sigs {
		k.signalPgrp(t.pgrp, sig)
	}
}

// TTYCheck is Linux's __tty_check_change for guest pty slave n and job
// control signal sig (SIGTTIN before a read, SIGTTOU before a write with
// TOSTOP or a change of the terminal's settings): a process of a
// background group of the terminal's session is stopped by sig sent to
// its group and the call restarts afterwards (ErrRestart), unless sig is
// ignored or blocked (a read is then EIO, the rest go on) or its group
// is orphaned (EIO). Nothing for a terminal that is not p's.
func (p *Process) TTYCheck(n int, sig int) error {
	k := p.Proc.K
	if k == nil {
		return nil
	}
	k.Mu.Lock()
	key, t, ok := k.cttyOf(p)
	bg := ok && key == ptyKey{n, false} && t.pgrp != 0 && t.pgrp != p.Proc.Pgid
	k.Mu.Unlock()
	if !bg {
		return nil
	}
	if p.Blocks(sig) || p.Sig.Act.Get(sig).Handler == SigIgn {
		if sig == int(unix.SIGTTIN) {
			return unix.EIO
		}
		return nil
	}
	if p.orphanedGroup() {
		return unix.EIO
	}
	k.Mu.Lock()
	k.signalPgrp(p.Proc.Pgid, sig)
	k.Mu.Unlock()
	return ErrRestart
}

// ttyLeaderExit is Linux's disassociate_ctty(1) for a session leader p
// that has exited: its session loses its terminal (one of the guest's
// ptys), and the terminal's foreground group gets SIGHUP. Kernel.Mu held.
func (k *Kernel) ttyLeaderExit(p *Process) {
	if p.Proc.Sid != p.Pid {
		return
	}
	for key, t := range k.ptys {
		if t.sid != p.Pid {
			continue
		}
		if t.pgrp != 0 {
			k.signalPgrp(t.pgrp, int(unix.SIGHUP))
		}
		delete(k.ptys, key)
	}
}

// ptyHungUp is the hangup of guest pty n's slave at its master's last
// close (Linux's pty_close, tty_vhangup): the session whose terminal it
// was loses it, and its leader gets SIGHUP and SIGCONT
// (tty_signal_session_leader). The host hangs up the slave itself (reads
// give EOF, EIO).
func (k *Kernel) ptyHungUp(n int, gen uint64) {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	if k.ptyGen(n) != gen {
		return // the number has a new pty already (NewPty)
	}
	key := ptyKey{n, false}
	t := k.ttyOf(key)
	delete(k.ptys, key)
	if t == nil {
		return
	}
	if l := k.Procs[t.sid]; l != nil && !l.Proc.zombie {
		for _, sig := range []int{int(unix.SIGHUP), int(unix.SIGCONT)} {
			liveThread(l, sig).post(sig, Siginfo{Signo: int32(sig), Code: siKernel})
		}
	}
}

// NewPty is a new master of guest pty n: whatever session the number's
// last pty was (its hangup may still be on its way: ptyHungUp) is over.
func (p *Process) NewPty(n int) {
	if k := p.Proc.K; k != nil {
		ptyGens.Lock()
		if ptyGens.m == nil {
			ptyGens.m = map[ptyGenKey]uint64{}
		}
		ptyGens.m[ptyGenKey{k, n}]++
		ptyGens.Unlock()
		k.Mu.Lock()
		delete(k.ptys, ptyKey{n, false})
		k.Mu.Unlock()
	}
}

// ptyGens counts each pty number's masters (NewPty), under a lock of its
// own that nothing is taken under: fd tables read it with their lock held
// (fs.Sandbox.PtyGen).
var ptyGens struct {
	sync.Mutex
	m map[ptyGenKey]uint64
}

type ptyGenKey struct {
	k *Kernel
	n int
}

// ptyGen is pty number n's generation.
func (k *Kernel) ptyGen(n int) uint64 {
	ptyGens.Lock()
	defer ptyGens.Unlock()
	return ptyGens.m[ptyGenKey{k, n}]
}
