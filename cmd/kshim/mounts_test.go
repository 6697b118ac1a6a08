package main

import (
	"flag"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"kshim/syscalls/fs/mount"
)

func parseMounts(t *testing.T, args ...string) ([]mount.Spec, error) {
	t.Helper()
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	m := addMountFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return m.result()
}

// TestMountFlags: the three spellings give OCI mounts in flag order; bad
// ones an error naming the flag.
func TestMountFlags(t *testing.T) {
	src := t.TempDir()
	got, err := parseMounts(t, "-v", src+":/data:ro", "--tmpfs", "/run:size=1m,mode=755",
		"--mount", "type=bind,src="+src+",dst=/b,readonly=false",
		"--mount", "type=tmpfs,target=/t,tmpfs-size=4096,tmpfs-mode=700", "--volume", src+":/c")
	if err != nil {
		t.Fatal(err)
	}
	want := []mount.Spec{
		{Type: "bind", Source: src, Destination: "/data", Options: []string{"rbind", "ro"}},
		{Type: "tmpfs", Source: "tmpfs", Destination: "/run", Options: []string{"size=1m", "mode=755"}},
		{Type: "bind", Source: src, Destination: "/b", Options: []string{"rbind"}},
		{Type: "tmpfs", Destination: "/t", Options: []string{"size=4096", "mode=700"}},
		{Type: "bind", Source: src, Destination: "/c", Options: []string{"rbind"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-v", src}, "-v " + src + ": not HOST:GUEST"},
		{[]string{"-v", src + ":/d:ro:x"}, "not HOST:GUEST"},
		{[]string{"-v", src + ":/d:bogus"}, `unknown option "bogus"`},
		{[]string{"-v", "rel:/d"}, "absolute host path"},
		{[]string{"-v", src + "/missing:/d"}, "no such file"},
		{[]string{"--tmpfs", "/t:size=10%"}, "--tmpfs /t:size=10%"},
		{[]string{"--tmpfs", "/proc/x"}, "kshim's own"},
		{[]string{"--mount", "type=volume,dst=/x"}, `type "volume"`},
		{[]string{"--mount", "type=bind,source=" + src + ",dst=/x,readonly=maybe"}, "true or false"},
		{[]string{"--mount", "dst=/x"}, "no type="},
		{[]string{"--mount", "type=bind,source=" + src + ",dst=/x,color=red"}, `unknown key "color"`},
		{[]string{"--tmpfs", "/a/b", "--tmpfs", "/a"}, "would hide"},
	} {
		_, err := parseMounts(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want one line with %q", c.args, err, c.msg)
		}
	}
	if _, err := os.Stat(src); err != nil {
		t.Fatal(err)
	}
}
