package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestGuestEnv(t *testing.T) {
	base := []string{"A=1", "B=2", "C=x=y"}
	for _, c := range []struct {
		clear bool
		sets  []string
		want  []string
	}{
		{false, nil, base},
		{true, nil, nil},
		{false, []string{"B=3", "D=4"}, []string{"A=1", "B=3", "C=x=y", "D=4"}},
		{true, []string{"C", "Z", "A=0", "A=9"}, []string{"C=x=y", "A=9"}},
		{true, []string{"E="}, []string{"E="}},
	} {
		got, err := guestEnv(base, c.clear, c.sets)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("guestEnv(clear=%v, %q) = %q, %v; want %q", c.clear, c.sets, got, err, c.want)
		}
	}
	if _, err := guestEnv(base, false, []string{"=v"}); err == nil {
		t.Error("--env =v accepted")
	}
	if base[1] != "B=2" {
		t.Error("guestEnv changed kshim's own environment")
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0": 0, "10": 10 * time.Second, "2.5": 2500 * time.Millisecond, "3s": 3 * time.Second,
		"1.5m": 90 * time.Second, "2h": 2 * time.Hour, "1d": 24 * time.Hour, "1m30s": 90 * time.Second,
		"250ms": 250 * time.Millisecond,
	} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "x", "1y", "inf", "NaN", "-2s"} {
		if _, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q) accepted", bad)
		}
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "prog")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := []string{"PATH=/nonexistent:" + dir}
	for _, c := range []struct {
		name string
		env  []string
		want string
		ok   bool
	}{
		{"prog", path, exe, true},
		{"./x/y", path, "./x/y", true}, // a slash: as given
		{"data", path, "", false},      // not executable: EACCES
		{"sub", path, "", false},       // a directory is skipped
		{"nosuch", path, "", false},
		{"", path, "", false},
		{"sh", nil, "/bin/sh", true}, // execvp's default PATH
	} {
		got, err := lookPath(c.name, c.env)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("lookPath(%q, %q) = %q, %v; want %q (ok %v)", c.name, c.env, got, err, c.want, c.ok)
		}
	}
	if _, err := lookPath("data", path); err == nil || err.Error() != "permission denied" {
		t.Errorf("lookPath of a file without x bits: %v, want permission denied", err)
	}
}
