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

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
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
