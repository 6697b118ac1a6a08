// tty.go: a terminal's foreground process group.
//
// Guest process groups have no host counterpart (every guest process runs
// inside kshim's host process), so a guest pgid must never reach the host:
// on the user's terminal it could name an unrelated host process group.
// A guest's TIOCSPGRP makes kshim's own host group the terminal's
// foreground and records which guest group the guest chose; TIOCGPGRP
// shows that choice while kshim's group is the host's foreground.
// Kernel.mu guards Kernel.fg.
package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// setForeground is TIOCSPGRP on host terminal fd h.
func (p *Process) setForeground(h int, arg uint64) (uint64, error) {
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
	k := p.proc.k
	if k == nil {
		return 0, unix.ENOTTY
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var found error = unix.ESRCH
	for _, q := range k.procs {
		if q.proc.pgid == int(pgid) {
			if q.proc.sid != p.proc.sid {
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

// getForeground is TIOCGPGRP on host terminal fd h.
func (p *Process) getForeground(h int, arg uint64) (uint64, error) {
	host, err := unix.IoctlGetInt(h, unix.TIOCGPGRP)
	if err != nil {
		return 0, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(h, &st); err != nil {
		return 0, err
	}
	v := host
	if k := p.proc.k; k != nil && host == unix.Getpgrp() {
		k.mu.Lock()
		if g, ok := k.fg[st.Rdev]; ok {
			v = g
		}
		k.mu.Unlock()
	}
	var b [4]byte
	put32(b[:], uint32(v))
	_, err = p.MM.CopyOut(arg, b[:])
	return 0, err
}
