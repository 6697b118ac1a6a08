// Package ipc is the guest's System V IPC namespace (Linux's ipc/): shared
// memory segments (shm.go), semaphore sets (sem.go) and message queues
// (msg.go), one namespace per kshim VM that every guest process shares,
// as processes in one Linux IPC namespace do; and the namespace's POSIX
// message queues (mqueue.go) with their file system's view (mqfs.go).
// sem.go, msg.go, mqueue.go and mqfs.go have their own invariants at
// their heads; those below are shared memory's and the id table's.
//
// A segment's memory is a host memfd of its size, which every attachment
// maps MAP_SHARED through guestmm (the file-window path shared anonymous
// memory takes): fork inherits an attachment and parent and child reach
// the same host pages; the VMA's File is the *Segment, which is how
// shmdt, /proc/PID/maps and the attach count recognise it.
//
// Invariants:
//   - Ids are Linux's: index | seq<<15, the index allocated cyclically
//     below the table's size (SHMMNI) and seq bumped on each wrap, so a
//     stale id after a removal is EINVAL rather than another object.
//   - A segment's nattch is the number of guest VMAs that map it, counted
//     over every distinct address space when asked (Linux counts VMA
//     opens and closes; kshim's guestmm has no per-VMA hooks, and the
//     count is needed only by shmctl, shmdt and /proc/sysvipc).
//     shm_atime, shm_dtime and shm_lpid change at shmat and shmdt only,
//     not at fork, exit or munmap as Linux's VMA hooks also make them.
//   - A removed segment (IPC_RMID) with attachments is kept, marked
//     SHM_DEST with key IPC_PRIVATE, until a count finds it unmapped
//     (every IPC call and /proc/sysvipc read collects such segments);
//     then its id is freed, its memfd closed and its charge returned.
//   - Every segment's size (in pages) is charged to the guest's memory
//     budget (--mem) at shmget and uncharged when it is destroyed; the
//     memfd's pages live until the last mapping goes (guestmm holds a
//     reference to the file).
//   - Every guest-supplied id, key, size, flag and address is checked
//     as Linux does, with its errno; nothing here panics on guest input.
//
// Guest memory is copied only without NS.mu (before taking it, or the
// ctl calls' results after: copyResult), since a copy may wait for the
// OOM killer, whose victim's exit takes NS.mu.
//
// Lock order: NS.mu before guestmm.MM's lock (shmat maps and shmdt unmaps
// under NS.mu)
// and before kernel.Kernel.Mu (the attach count lists the address spaces
// under it, then visits them after releasing it). Nothing takes NS.mu
// with an MM's lock or Kernel.Mu held. An fd table's lock comes before
// NS.mu: a queue descriptor's last close (mqueue.go's mqClosed) may run
// with it held (FDTable.CloseAll), so nothing here takes an fd table's
// lock with NS.mu held (a queue descriptor is installed without it).
package ipc
