package main

import (
	"flag"
	"io"
	"testing"

	"kshim/sandbox"
)

func TestParseUser(t *testing.T) {
	for in, want := range map[string]sandbox.Identity{"0:0": {UID: 0, GID: 0}, "1000": {UID: 1000, GID: 1000}, "65534:100": {UID: 65534, GID: 100}} {
		got, err := parseUser(in)
		if err != nil || got != want {
			t.Errorf("parseUser(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "1:x", "-1", "1:-1", "4294967295", "0:4294967296", "1:2:3"} {
		if got, err := parseUser(in); err == nil {
			t.Errorf("parseUser(%q) = %v, want an error", in, got)
		}
	}
}

func TestConfineFlags(t *testing.T) {
	parse := func(args ...string) (*sandbox.Config, error) {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		get := confineFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return get()
	}
	if c, err := parse("--no-sandbox"); c != nil || err != nil {
		t.Errorf("--no-sandbox: %v, %v; want no confinement", c, err)
	}
	if _, err := parse("--no-sandbox", "--user", "0:0"); err == nil {
		t.Error("--no-sandbox with --user: no error")
	}
	c, err := parse("--user", "7:8")
	if err != nil || c == nil || c.User == nil || *c.User != (sandbox.Identity{UID: 7, GID: 8}) {
		t.Errorf("--user 7:8: %+v, %v", c, err)
	}
	c, err = parse()
	if err != nil || c == nil {
		t.Fatalf("default: %v, %v", c, err)
	}
	if want := sandbox.DefaultUser(); (c.User == nil) != (want == nil) || want != nil && *c.User != *want {
		t.Errorf("default user %v, want %v", c.User, want)
	}
}
