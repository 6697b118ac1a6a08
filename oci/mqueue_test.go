package oci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// TestMqueueMount: the /dev/mqueue mount every engine's default spec has
// (type mqueue, over a /dev tmpfs) gives the container the mqueue file
// system, and POSIX message queues work there: images/mqfs.c makes
// queues with mq_open and finds them as files (syscalls/ipc/mqfs.go).
func TestMqueueMount(t *testing.T) {
	r := newRig(t)
	prog, err := os.ReadFile("../build/images/mqfs")
	if err != nil {
		t.Fatalf("%v (run `make images` first)", err)
	}
	if err := os.WriteFile(filepath.Join(r.bundle, "rootfs/bin/mqfs"), prog, 0o755); err != nil {
		t.Fatal(err)
	}
	r.config([]string{"sh", "-c", "mqfs /dev/mqueue; echo status $?"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			specs.Mount{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}})
	})
	defer r.kshim("", "delete", "--force", "mq")
	out := r.startUntil("mq", func(b string) bool { return strings.Contains(b, "status ") })
	for _, want := range []string{
		"stat dir: mode 41777 nlink 2 size 40 uid root gid root blksize 4096\n",
		"mq_open /a -> ok\n",
		"two queues: a(reg) b(reg)\n",
		"stat a: mode 100640 nlink 1 size 80 ",
		"a's file: QSIZE:15         NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n",
		"mq_receive on it -> 10 prio 2 \"queue file\"\n",
		"after unlinks: a(reg) p(reg)\n",
		"mountinfo: rw,nosuid,nodev,noexec,relatime - mqueue mqueue rw\n",
		"at the end:\nstatus 0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("container output lacks %q:\n%s", want, out)
		}
	}
}
