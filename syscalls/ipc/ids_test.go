package ipc

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestTableIDs: ids as Linux's ipc_idr_alloc gives them (the next index
// after the last one, seq bumped on a wrap), and a removed object's id
// stays invalid after its index is reused.
func TestTableIDs(t *testing.T) {
	tb := newTable(3, func(p *Perm) *Perm { return p })
	var ps [5]Perm
	for i := 0; i < 3; i++ {
		if !tb.add(&ps[i]) {
			t.Fatalf("add %d failed", i)
		}
		if ps[i].ID != int32(i) {
			t.Fatalf("id %d, want %d", ps[i].ID, i)
		}
	}
	if tb.add(&ps[3]) {
		t.Fatal("add past the table's size succeeded")
	}
	tb.remove(&ps[1])
	if _, err := tb.check(ps[1].ID); err != unix.EINVAL {
		t.Fatalf("removed id: %v, want EINVAL", err)
	}
	if !tb.add(&ps[3]) {
		t.Fatal("add into the freed index failed")
	}
	// Index 1 again, after a wrap: the next sequence.
	if want := int32(1<<seqShift | 1); ps[3].ID != want {
		t.Fatalf("reused index's id %#x, want %#x", ps[3].ID, want)
	}
	if _, err := tb.check(ps[1].ID); err != unix.EINVAL {
		t.Fatalf("stale id after reuse: %v, want EINVAL", err)
	}
	if got, err := tb.check(ps[3].ID); err != nil || got != &ps[3] {
		t.Fatalf("check(new id) = %v, %v", got, err)
	}
	for _, id := range []int32{-1, 1 << 30, 7} {
		if _, err := tb.check(id); err != unix.EINVAL {
			t.Errorf("check(%d): %v, want EINVAL", id, err)
		}
	}
	if tb.maxIdx() != 2 {
		t.Errorf("maxIdx %d, want 2", tb.maxIdx())
	}
}

// TestAllowed: ipcperms' classes (owner or creator, group, other) and
// CAP_IPC_OWNER.
func TestAllowed(t *testing.T) {
	p := &Perm{UID: 10, GID: 20, CUID: 11, CGID: 21, Mode: 0o640}
	cases := []struct {
		c    Cred
		flag uint32
		want bool
	}{
		{Cred{UID: 10, GID: 99}, 0o600, true},
		{Cred{UID: 11, GID: 99}, 0o200, true}, // the creator counts as the owner
		{Cred{UID: 12, GID: 20}, 0o400, true},
		{Cred{UID: 12, GID: 21}, 0o200, false},
		{Cred{UID: 12, GID: 99, Groups: []uint32{21}}, 0o040, true},
		{Cred{UID: 12, GID: 99}, 0o004, false},
		{Cred{UID: 12, GID: 99, Owner: true}, 0o666, true},
		{Cred{UID: 12, GID: 99}, 0, true},
	}
	for i, c := range cases {
		if got := c.c.allowed(p, c.flag); got != c.want {
			t.Errorf("case %d: allowed = %v, want %v", i, got, c.want)
		}
	}
}
