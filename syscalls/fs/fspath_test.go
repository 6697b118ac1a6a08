package fs

import (
	"reflect"
	"testing"
)

func TestInProc(t *testing.T) {
	for path, want := range map[string][]string{
		"/proc":                  {},
		"/proc/self/maps":        {"self", "maps"},
		"//proc//self":           {"", "self"},
		"/a/../proc/x":           {"x"},
		"/./proc/self/root/../x": {"self", "root", "..", "x"},
		"/../../proc/meminfo":    {"meminfo"},
	} {
		got, ok := inProc(path)
		if !ok || !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("inProc(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
	for _, path := range []string{"/", "/procx", "/a/proc", "/etc/proc/self", "/sub/../a/proc"} {
		if got, ok := inProc(path); ok {
			t.Errorf("inProc(%q) = %q, want not /proc", path, got)
		}
	}
}

func TestToGuest(t *testing.T) {
	fs := &fsContext{RootHost: "/srv/root"}
	for host, want := range map[string]string{"/srv/root": "/", "/srv/root/a/b": "/a/b"} {
		if got, ok := fs.ToGuest(host); !ok || got != want {
			t.Errorf("toGuest(%q) = %q, %v; want %q", host, got, ok, want)
		}
	}
	for _, host := range []string{"/srv/rootx", "/srv", "/etc/passwd", "pipe:[12]", ""} {
		if got, ok := fs.ToGuest(host); ok {
			t.Errorf("toGuest(%q) = %q, want outside", host, got)
		}
	}
	fs.RootHost = "/"
	if got, ok := fs.ToGuest("/etc"); !ok || got != "/etc" {
		t.Errorf("toGuest with root / = %q, %v", got, ok)
	}
}
