package net

import (
	"testing"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
)

func TestParseNetMode(t *testing.T) {
	for in, want := range map[string]NetMode{"": NetPrivate, "private": NetPrivate, "none": NetNone, "host": NetHost} {
		if got, err := ParseNetMode(in); err != nil || got != want {
			t.Errorf("ParseNetMode(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseNetMode("bridge"); err == nil {
		t.Errorf("ParseNetMode(bridge) accepted")
	}
}

func TestUnixPath(t *testing.T) {
	sa := func(s string) []byte { return append([]byte{unix.AF_UNIX, 0}, s...) }
	cases := []struct {
		sa   []byte
		path string
		ok   bool
	}{
		{sa("/tmp/s"), "/tmp/s", true},
		{sa("/tmp/s\x00junk"), "/tmp/s", true},
		{sa("rel"), "rel", true},
		{sa("\x00abstract"), "", false}, // abstract
		{sa(""), "", false},             // autobind
		{[]byte{unix.AF_INET, 0, 'x'}, "", false},
		{[]byte{1}, "", false},
	}
	for _, c := range cases {
		if p, ok := UnixPath(c.sa); p != c.path || ok != c.ok {
			t.Errorf("unixPath(%q) = %q, %v; want %q, %v", c.sa, p, ok, c.path, c.ok)
		}
	}
}

func nlmsg(typ uint16, n int) []byte {
	b := make([]byte, n)
	abi.Put32(b, uint32(n))
	b[4], b[5] = byte(typ), byte(typ>>8)
	return b
}

func TestNetlinkQueries(t *testing.T) {
	get := nlmsg(unix.RTM_GETLINK, 32)
	addr := nlmsg(unix.RTM_GETADDR, 20) // padded to 20 (aligned)
	newlink := nlmsg(unix.RTM_NEWLINK, 32)
	cases := []struct {
		b    []byte
		want bool
	}{
		{get, true},
		{append(append([]byte{}, get...), addr...), true},
		{newlink, false},
		{append(append([]byte{}, get...), newlink...), false}, // a change after a query
		{nlmsg(unix.RTM_DELROUTE, 16), false},
		{nlmsg(unix.RTM_SETLINK, 16), false},
		{nlmsg(unix.NLMSG_NOOP, 16), true},
		{nil, true},
		{[]byte{1, 2, 3}, true}, // no whole header: the kernel ignores it
	}
	for i, c := range cases {
		if got := netlinkQueries(c.b); got != c.want {
			t.Errorf("case %d: netlinkQueries = %v, want %v", i, got, c.want)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/tmp/a\040b\134c`); got != `/tmp/a b\c` {
		t.Errorf("unescapeMount = %q", got)
	}
}
