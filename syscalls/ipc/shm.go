// shm.go: System V shared memory (Linux's ipc/shm.c): shmget, shmat,
// shmdt, shmctl and /proc/sysvipc/shm. See doc.go for the invariants.
package ipc

import (
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

// Linux's shm constants and defaults (include/uapi/linux/shm.h).
const (
	shmMin = 1
	shmMax = ^uint64(0) - 1<<24 // SHMMAX, and SHMALL in pages
	shmAll = ^uint64(0) - 1<<24
	shmMNI = 4096

	shmRdonly = 0o10000
	shmRnd    = 0o20000
	shmRemap  = 0o40000
	shmExec   = 0o100000

	shmDest   = 0o1000 // mode: removed, awaiting the last detach
	shmLocked = 0o2000

	shmLock    = 11
	shmUnlock  = 12
	shmStatCmd = 13
	shmInfo    = 14
	shmStatAny = 15

	shmidDsSize  = 112 // struct shmid64_ds
	shminfoSize  = 72  // struct shminfo64
	shmInfoSize  = 48  // struct shm_info
	ipcPermSize  = 48  // struct ipc64_perm
	shmLBA       = guestmm.PageSize
	permBits     = 0o777
	shmModeFlags = shmDest | shmLocked
)

// Segment is one shared memory segment (struct shmid_kernel).
type Segment struct {
	Perm
	size         uint64
	fd           int // the host memfd behind it
	name         string
	cpid, lpid   int
	atime, dtime int64
	charged      uint64
	charger      fs.Charger
	ns           *NS
}

// MapsName is the segment's name in /proc/PID/maps: Linux's shm file,
// named by the key the segment was made with.
func (s *Segment) MapsName() string { return s.name }

type shmState struct {
	t   table[*Segment]
	tot uint64 // pages of every segment
}

func (s *shmState) init() {
	s.t = newTable(shmMNI, func(g *Segment) *Perm { return &g.Perm })
}

// Shmget is shmget(2).
func (ns *NS) Shmget(p *kernel.Process, key int32, size uint64, flg int32) (uint64, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	ns.collectShm(nil)
	c := CredOf(p)
	if key != IPCPrivate {
		if g, ok := ns.shm.t.byKey(key); ok {
			switch {
			case flg&ipcCreat != 0 && flg&ipcExcl != 0:
				return 0, unix.EEXIST
			case g.size < size:
				return 0, unix.EINVAL
			case !c.allowed(&g.Perm, uint32(flg)&permBits):
				return 0, unix.EACCES
			}
			return uint64(g.ID), nil
		}
		if flg&ipcCreat == 0 {
			return 0, unix.ENOENT
		}
	}
	return ns.newSeg(p, c, key, size, flg)
}

// newSeg is Linux's newseg.
func (ns *NS) newSeg(p *kernel.Process, c Cred, key int32, size uint64, flg int32) (uint64, error) {
	if size < shmMin || size > shmMax {
		return 0, unix.EINVAL
	}
	pages := (size + guestmm.PageSize - 1) / guestmm.PageSize
	if pages*guestmm.PageSize < size {
		return 0, unix.ENOSPC
	}
	if ns.shm.tot+pages < ns.shm.tot || ns.shm.tot+pages > shmAll {
		return 0, unix.ENOSPC
	}
	if len(ns.shm.t.byIdx) >= shmMNI {
		return 0, unix.ENOSPC
	}
	if pages > 1<<40/guestmm.PageSize {
		return 0, unix.ENOMEM // beyond any guest memory (and a host file)
	}
	g := &Segment{size: size, cpid: c.Pid, fd: -1, ns: ns,
		name: fmt.Sprintf("/SYSV%08x (deleted)", uint32(key))}
	if k := p.Proc.K; k != nil && k.Sb != nil && k.Sb.Lim.Mem != nil {
		if err := k.Sb.Lim.Mem.Charge(pages * guestmm.PageSize); err != nil {
			return 0, unix.ENOMEM
		}
		g.charger, g.charged = k.Sb.Lim.Mem, pages*guestmm.PageSize
	}
	fd, err := unix.MemfdCreate("kshim-sysv", unix.MFD_CLOEXEC)
	if err == nil {
		if err = unix.Ftruncate(fd, int64(size)); err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		g.uncharge()
		return 0, unix.ENOMEM
	}
	g.fd = fd
	g.Perm = Perm{Key: key, UID: c.UID, GID: c.GID, CUID: c.UID, CGID: c.GID,
		Mode: uint32(flg) & permBits, ctime: now()}
	if !ns.shm.t.add(g) {
		g.destroy()
		return 0, unix.ENOSPC
	}
	ns.shm.tot += pages
	return uint64(g.ID), nil
}

func (g *Segment) uncharge() {
	if g.charger != nil && g.charged != 0 {
		g.charger.Uncharge(g.charged)
		g.charged = 0
	}
}

func (g *Segment) destroy() {
	g.uncharge()
	if g.fd >= 0 {
		unix.Close(g.fd) // mappings keep the file through guestmm's reference
		g.fd = -1
	}
}

func (g *Segment) pages() uint64 { return (g.size + guestmm.PageSize - 1) / guestmm.PageSize }

// destroySeg removes g from the table (shm_destroy).
func (ns *NS) destroySeg(g *Segment) {
	ns.shm.t.remove(g)
	ns.shm.tot -= g.pages()
	g.destroy()
}

// counts returns how many VMAs of the guest map each segment: Linux's
// shm_nattch, counted over every live address space.
func (ns *NS) counts() map[*Segment]int {
	out := map[*Segment]int{}
	if ns.k == nil {
		return out
	}
	ns.k.EachMM(func(mm *guestmm.MM) {
		mm.EachVMA(func(v *guestmm.VMA, _ int) {
			if g, ok := v.File.(*Segment); ok {
				out[g]++
			}
		})
	})
	return out
}

func init() { kernel.MMHook = mmEvent }

// mmEvent is told of an address space fork made, or one about to be
// destroyed (exit, exec): its segments' attach or detach time and last
// pid change, as Linux's shm_open and shm_close make them for each VMA,
// and removed segments it was the last to map go.
func mmEvent(mm *guestmm.MM, pid int, made bool) {
	segs := map[*Segment]bool{}
	mm.EachVMA(func(v *guestmm.VMA, _ int) {
		if g, ok := v.File.(*Segment); ok {
			segs[g] = true
		}
	})
	for g := range segs {
		ns := g.ns
		ns.mu.Lock()
		if made {
			g.atime, g.lpid = now(), pid
		} else {
			g.dtime, g.lpid = now(), pid
			ns.collectShm(nil)
		}
		ns.mu.Unlock()
	}
}

// collectShm destroys removed segments no longer mapped; it returns the
// attach counts it used (made when n is nil).
func (ns *NS) collectShm(n map[*Segment]int) map[*Segment]int {
	dead := false
	for _, g := range ns.shm.t.byIdx {
		if g.Mode&shmDest != 0 {
			dead = true
			break
		}
	}
	if !dead {
		return n
	}
	if n == nil {
		n = ns.counts()
	}
	for _, g := range ns.shm.t.byIdx {
		if g.Mode&shmDest != 0 && n[g] == 0 {
			ns.destroySeg(g)
		}
	}
	return n
}

// Shmat is shmat(2): it returns the address of the attachment.
func (ns *NS) Shmat(p *kernel.Process, id int32, addr uint64, flg int32) (uint64, error) {
	if id < 0 {
		return 0, unix.EINVAL
	}
	mflags := unix.MAP_SHARED
	if addr != 0 {
		if addr&(shmLBA-1) != 0 {
			if flg&shmRnd == 0 {
				return 0, unix.EINVAL
			}
			addr &^= shmLBA - 1
			if addr == 0 && flg&shmRemap != 0 {
				return 0, unix.EINVAL
			}
		}
		mflags |= unix.MAP_FIXED
	} else if flg&shmRemap != 0 {
		return 0, unix.EINVAL
	}
	prot, acc := unix.PROT_READ|unix.PROT_WRITE, uint32(0o666)
	if flg&shmRdonly != 0 {
		prot, acc = unix.PROT_READ, 0o444
	}
	if flg&shmExec != 0 {
		prot |= unix.PROT_EXEC
		acc |= 0o111
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	ns.collectShm(nil)
	g, err := ns.shm.t.check(id)
	if err != nil {
		return 0, err
	}
	if !CredOf(p).allowed(&g.Perm, acc) {
		return 0, unix.EACCES
	}
	if addr != 0 && flg&shmRemap == 0 {
		end := addr + guestmm.PageSize*g.pages()
		if end < addr {
			return 0, unix.EINVAL
		}
		for _, v := range p.MM.VMAs() {
			if v.Start < end && v.End > addr {
				return 0, unix.EINVAL
			}
		}
	}
	at, err := p.MM.Mmap(guestmm.MmapArgs{Addr: addr, Len: g.size, Prot: prot, Flags: mflags,
		FD: g.fd, Name: g.name, File: g, ReadOnly: flg&shmRdonly != 0})
	if err != nil {
		return 0, err
	}
	g.atime, g.lpid = now(), p.Pid
	return at, nil
}

// Shmdt is shmdt(2): it unmaps the whole attachment that starts at addr.
func (ns *NS) Shmdt(p *kernel.Process, addr uint64) error {
	if addr&(guestmm.PageSize-1) != 0 {
		return unix.EINVAL
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var g *Segment
	var parts []guestmm.VMA
	for _, v := range p.MM.VMAs() {
		s, ok := v.File.(*Segment)
		if !ok || v.Start < addr || v.Start-addr != v.Off*guestmm.PageSize {
			continue
		}
		if g == nil {
			if v.Off != 0 && v.Start != addr {
				continue
			}
			g = s
		}
		if s == g && v.Start < addr+g.pages()*guestmm.PageSize {
			parts = append(parts, v)
		}
	}
	if g == nil {
		return unix.EINVAL
	}
	for _, v := range parts {
		_ = p.MM.Munmap(v.Start, v.End-v.Start)
	}
	g.dtime, g.lpid = now(), p.Pid
	ns.collectShm(nil)
	return nil
}

// putPerm writes struct ipc64_perm.
func putPerm(b []byte, p *Perm) {
	abi.Put32(b[0:], uint32(p.Key))
	abi.Put32(b[4:], p.UID)
	abi.Put32(b[8:], p.GID)
	abi.Put32(b[12:], p.CUID)
	abi.Put32(b[16:], p.CGID)
	binary.LittleEndian.PutUint16(b[20:], uint16(p.Mode))
	binary.LittleEndian.PutUint16(b[24:], uint16(p.Seq))
}

// Shmctl is shmctl(2).
func (ns *NS) Shmctl(p *kernel.Process, id int32, cmd int32, buf uint64) (uint64, error) {
	if cmd < 0 || id < 0 {
		return 0, unix.EINVAL
	}
	var in []byte
	if cmd == ipcSet {
		in = make([]byte, shmidDsSize)
		if _, err := p.MM.CopyIn(buf, in); err != nil {
			return 0, unix.EFAULT
		}
	}
	ret, out, err := ns.shmctl(p, id, cmd, in)
	return copyResult(p, buf, ret, out, err)
}

// copyResult copies a ctl call's result to the guest, after NS.mu is
// released: a copy into guest memory may wait for the OOM killer, whose
// victim's exit takes NS.mu (kernel/oom.go: the killer runs with no lock
// held).
func copyResult(p *kernel.Process, buf, ret uint64, out []byte, err error) (uint64, error) {
	if err != nil || out == nil {
		return ret, err
	}
	if _, err := p.MM.CopyOut(buf, out); err != nil {
		return 0, unix.EFAULT
	}
	return ret, nil
}

func (ns *NS) shmctl(p *kernel.Process, id int32, cmd int32, in []byte) (uint64, []byte, error) {
	if cmd < 0 || id < 0 {
		return 0, nil, unix.EINVAL
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	n := ns.collectShm(nil)
	c := CredOf(p)
	switch cmd {
	case ipcInfo:
		b := make([]byte, shminfoSize)
		abi.Put64(b[0:], shmMax)
		abi.Put64(b[8:], shmMin)
		abi.Put64(b[16:], shmMNI)
		abi.Put64(b[24:], shmMNI)
		abi.Put64(b[32:], shmAll)
		return uint64(max(0, ns.shm.t.maxIdx())), b, nil
	case shmInfo:
		b := make([]byte, shmInfoSize)
		abi.Put32(b[0:], uint32(len(ns.shm.t.byIdx)))
		abi.Put64(b[8:], ns.shm.tot)
		var rss uint64
		for _, g := range ns.shm.t.byIdx {
			rss += g.rss() / guestmm.PageSize
		}
		abi.Put64(b[16:], rss)
		return uint64(max(0, ns.shm.t.maxIdx())), b, nil
	case ipcStat, shmStatCmd, shmStatAny:
		g, ret, err := ns.shm.t.stat(c, id, cmd == ipcStat, cmd == shmStatAny)
		if err != nil {
			return 0, nil, err
		}
		if n == nil {
			n = ns.counts()
		}
		b := make([]byte, shmidDsSize)
		putPerm(b, &g.Perm)
		abi.Put64(b[48:], g.size)
		abi.Put64(b[56:], uint64(g.atime))
		abi.Put64(b[64:], uint64(g.dtime))
		abi.Put64(b[72:], uint64(g.ctime))
		abi.Put32(b[80:], uint32(g.cpid))
		abi.Put32(b[84:], uint32(g.lpid))
		abi.Put64(b[88:], uint64(n[g]))
		return ret, b, nil
	case ipcSet, ipcRMID:
		g, err := ns.shm.t.check(id)
		if err != nil {
			return 0, nil, err
		}
		if !c.owns(&g.Perm) {
			return 0, nil, unix.EPERM
		}
		if cmd == ipcSet {
			uid, gid := abi.Le32(in[4:]), abi.Le32(in[8:])
			if uid == 0xffffffff || gid == 0xffffffff {
				return 0, nil, unix.EINVAL
			}
			g.UID, g.GID = uid, gid
			g.Mode = g.Mode&^permBits | uint32(binary.LittleEndian.Uint16(in[20:]))&permBits
			g.ctime = now()
			return 0, nil, nil
		}
		if n == nil {
			n = ns.counts()
		}
		if n[g] == 0 {
			ns.destroySeg(g)
			return 0, nil, nil
		}
		g.Mode |= shmDest
		g.Key = IPCPrivate
		return 0, nil, nil
	case shmLock, shmUnlock:
		g, err := ns.shm.t.check(id)
		if err != nil {
			return 0, nil, err
		}
		if !kernel.HostCapable(unix.CAP_IPC_LOCK) && !(c.UID == g.UID || c.UID == g.CUID) {
			return 0, nil, unix.EPERM
		}
		if cmd == shmLock {
			g.Mode |= shmLocked
		} else {
			g.Mode &^= shmLocked
		}
		return 0, nil, nil
	}
	return 0, nil, unix.EINVAL
}

// rss is the segment's resident bytes: its memfd's pages.
func (g *Segment) rss() uint64 {
	var st unix.Stat_t
	if g.fd < 0 || unix.Fstat(g.fd, &st) != nil {
		return 0
	}
	return uint64(st.Blocks) * 512
}

// ProcShm is /proc/sysvipc/shm, in Linux's format (sysvipc_shm_proc_show).
func (ns *NS) ProcShm() []byte {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	n := ns.counts()
	ns.collectShm(n)
	var b strings.Builder
	b.WriteString("       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n")
	for i := 0; i <= ns.shm.t.maxIdx(); i++ {
		g, ok := ns.shm.t.byIdx[i]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "%10d %10d  %4o %21d %5d %5d  %5d %5d %5d %5d %5d %10d %10d %10d %21d %21d\n",
			g.Key, g.ID, g.Mode, g.size, g.cpid, g.lpid, n[g], g.UID, g.GID, g.CUID, g.CGID,
			g.atime, g.dtime, g.ctime, g.rss(), 0)
	}
	return []byte(b.String())
}
