package syscalls

import (
	"testing"

	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/net"
)

// TestBindUnixNoNetwork: without a Network (no Kernel) a unix bind goes
// through the parent resolved in the root; symlinks that climb stay in it
// and a read-only root is EROFS.
func TestBindUnixNoNetwork(t *testing.T) {
	_, root := testRoot(t)
	for _, rw := range []bool{true, false} {
		p := testProcess(t, fs.Files{Root: root, Writable: rw})
		s, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(s)
		name := map[bool]string{true: "bound.sock", false: "ro.sock"}[rw]
		path := "/up/" + name // up -> ../../../..: clamped at the root
		err = net.BindUnix(p, s, append([]byte{unix.AF_UNIX, 0}, path...), path)
		want := error(nil)
		if !rw {
			want = unix.EROFS
		}
		if err != want {
			t.Errorf("rw=%v: bind %s: %v, want %v", rw, path, err, want)
		}
		var st unix.Stat_t
		if rw && (unix.Lstat(root+"/"+name, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK) {
			t.Errorf("no socket at the root's /%s", name)
		}
		if !rw && unix.Lstat(root+"/"+name, &st) == nil {
			t.Errorf("a read-only root got /%s", name)
		}
	}
}
