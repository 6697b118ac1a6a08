// procps_test.go: the host's procps tools (vmstat, free, top) under kshim,
// which read its /proc/meminfo, stat and vmstat (syscalls/proc). Their
// figures are the guest's machine's, not the host's, so the runs are not
// compared with native ones; the tests check that the tools work and that
// what they print agrees with the guest's memory (--mem) and with itself.
// Without procps on the host they skip.
package images

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// procpsMem is the guest memory the runs are given, in KiB.
const procpsMem = 256 << 10

func kshimProcps(t *testing.T, argv ...string) string {
	t.Helper()
	if !reachable("/usr/bin") {
		t.Skip("/usr/bin is not reachable")
	}
	requireFile(t, "../bin/kshim")
	if strings.HasPrefix(argv[0], "/usr/bin/") {
		// procps' tools, all of them (where busybox installed its own
		// free and top there, as in test-svm's guest, vmstat is missing);
		// the busybox runs need none.
		for _, tool := range []string{"/usr/bin/vmstat", "/usr/bin/free", "/usr/bin/top"} {
			if _, err := os.Stat(tool); err != nil {
				t.Skipf("%s: %v (procps is not installed)", tool, err)
			}
		}
	}
	kshim, _ := paths(t)
	args := append([]string{kshim, "run", "--mem", strconv.Itoa(procpsMem) + "K"}, argv...)
	r := run(args, baseEnv, "")
	if r.exit != 0 || r.sig != 0 || r.err != nil || r.timedOut || len(r.stderr) != 0 {
		t.Fatalf("kshim run %s: %s\nstdout:\n%s\nstderr:\n%s", strings.Join(argv, " "), r.status(), r.stdout, r.stderr)
	}
	return string(r.stdout)
}

// TestProcpsVmstat: `vmstat 1 2` prints its two header lines and two rows
// of 17 non-negative numbers; the guest has no swap and no block device
// (swpd, si, so, bi, bo are 0) and its free memory is at most --mem.
func TestProcpsVmstat(t *testing.T) {
	out := kshimProcps(t, "/usr/bin/vmstat", "1", "2")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "procs") || !strings.Contains(lines[1], "swpd") {
		t.Fatalf("vmstat 1 2 printed:\n%s", out)
	}
	names := strings.Fields(lines[1])
	for _, row := range lines[2:] {
		f := strings.Fields(row)
		if len(f) != len(names) || len(f) != 17 {
			t.Fatalf("row %q: %d fields, header %q", row, len(f), lines[1])
		}
		v := map[string]int64{}
		for i, s := range f {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				t.Fatalf("row %q: field %s = %q is not a non-negative number", row, names[i], s)
			}
			v[names[i]] = n
		}
		for _, zero := range []string{"swpd", "si", "so", "bi", "bo"} {
			if v[zero] != 0 {
				t.Errorf("row %q: %s = %d, the guest has no swap or block device", row, zero, v[zero])
			}
		}
		if v["free"] <= 0 || v["free"] > procpsMem {
			t.Errorf("row %q: free = %d KiB, the guest has %d KiB", row, v["free"], procpsMem)
		}
	}
}

// TestProcpsVmstatSum: `vmstat -s` counts the guest's memory and reads
// the paging and swap counters of /proc/vmstat as 0.
func TestProcpsVmstatSum(t *testing.T) {
	out := kshimProcps(t, "/usr/bin/vmstat", "-s")
	got := map[string]int64{}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Fatalf("vmstat -s line %q", line)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 {
			t.Fatalf("vmstat -s line %q: not a non-negative count", line)
		}
		got[strings.Join(f[1:], " ")] = n
	}
	want := map[string]int64{"K total memory": procpsMem, "K paged in": 0, "K paged out": 0,
		"pages swapped in": 0, "pages swapped out": 0, "K total swap": 0}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("vmstat -s %q = %d (present %v), want %d\n%s", k, g, ok, w, out)
		}
	}
	if free, used := got["K free memory"], got["K used memory"]; free <= 0 || free+used > procpsMem {
		t.Errorf("vmstat -s: free %d + used %d KiB, the guest has %d\n%s", free, used, procpsMem, out)
	}
}

// TestProcVmstatFile: /proc/vmstat's nr_free_pages is /proc/meminfo's
// MemFree in pages (read by one cat, so little changes between them) and
// pgfault counts the guest's faults (a program that ran has faulted: a
// shell holding 50000 lines in its heap; a busybox cat alone takes none,
// its bss being mapped at load).
func TestProcVmstatFile(t *testing.T) {
	requireBusybox(t)
	out := kshimProcps(t, busyboxBin, "sh", "-c", "x=$(seq 1 50000); cat /proc/meminfo /proc/vmstat")
	val := func(name, sep string) int64 {
		for _, line := range strings.Split(out, "\n") {
			if k, v, ok := strings.Cut(line, sep); ok && k == name {
				n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				if err != nil {
					t.Fatalf("%s: %q", name, line)
				}
				return n
			}
		}
		t.Fatalf("no %s in\n%s", name, out)
		return 0
	}
	memFree, pages := val("MemFree", ":"), val("nr_free_pages", " ")
	if d := memFree - pages*4; d < 0 || d > 1024 {
		t.Errorf("MemFree %d kB, nr_free_pages %d (%d kB): more than 1 MiB apart", memFree, pages, pages*4)
	}
	if n := val("pgfault", " "); n <= 0 {
		t.Errorf("pgfault = %d after a program ran", n)
	}
}

// TestProcpsFreeTop: free and top -b read the guest's memory.
func TestProcpsFreeTop(t *testing.T) {
	out := kshimProcps(t, "/usr/bin/free")
	var mem []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Mem:") {
			mem = strings.Fields(line)
		}
	}
	if len(mem) < 2 || mem[1] != strconv.Itoa(procpsMem) {
		t.Errorf("free's Mem: line %q, want total %d\n%s", mem, procpsMem, out)
	}
	out = kshimProcps(t, "/usr/bin/top", "-b", "-n", "1")
	if !strings.Contains(out, " 256.0 total") || !strings.Contains(out, "COMMAND") {
		t.Errorf("top -b -n 1:\n%s", out)
	}
}
