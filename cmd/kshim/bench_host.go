// bench_host.go: what `kshim bench` and `kshim faultlat` say about the
// machine they ran on, and how they find the guest images and run a guest
// in-process with its output captured.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"kshim/vmm"
)

// hostInfo describes the host: the "host" object of the JSON output.
type hostInfo struct {
	Date        string            `json:"date"`
	CPU         string            `json:"cpu"`
	CPUs        int               `json:"cpus"`
	MemoryGiB   float64           `json:"memory_gib"`
	OS          string            `json:"os"`
	Kernel      string            `json:"kernel"`
	KVM         string            `json:"kvm"`
	SyscallPath string            `json:"kshim_syscall_path"`
	Go          string            `json:"go"`
	Peers       map[string]string `json:"peers,omitempty"` // name -> version and command, or "absent: reason"
}

func describeHost() hostInfo {
	h := hostInfo{
		Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		CPUs: runtime.NumCPU(),
		Go:   runtime.Version(),
	}
	h.CPU = firstField("/proc/cpuinfo", "model name", ":")
	if kb := firstField("/proc/meminfo", "MemTotal", ":"); kb != "" {
		var n float64
		fmt.Sscanf(kb, "%f", &n)
		h.MemoryGiB = float64(int(n/(1<<20)*10+0.5)) / 10
	}
	h.OS = strings.Trim(firstField("/etc/os-release", "PRETTY_NAME", "="), `"`)
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	h.KVM = describeKVM()
	if m, err := vmm.NewMachine(64 << 20); err != nil {
		h.SyscallPath = "unavailable: " + err.Error()
	} else {
		if p, err := m.Probe(); err != nil {
			h.SyscallPath = "probe failed: " + err.Error()
		} else {
			h.SyscallPath = p
		}
		m.Close()
	}
	return h
}

// firstField returns the value of the first "key SEP value" line of a file.
func firstField(path, key, sep string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), sep)
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func moduleParam(mod, p string) string {
	b, err := os.ReadFile(filepath.Join("/sys/module", mod, "parameters", p))
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// describeKVM names the KVM flavour from the loaded modules.
func describeKVM() string {
	if _, err := os.Stat("/dev/kvm"); err != nil {
		return "no /dev/kvm"
	}
	switch {
	case exists("/sys/module/kvm_pvm"):
		return fmt.Sprintf("PVM (kvm_pvm: pvm_native=%s; kvm: tdp_mmu=%s): shadow paging",
			moduleParam("kvm_pvm", "pvm_native"), moduleParam("kvm", "tdp_mmu"))
	case exists("/sys/module/kvm_intel"):
		return fmt.Sprintf("VMX (kvm_intel: ept=%s)", moduleParam("kvm_intel", "ept"))
	case exists("/sys/module/kvm_amd"):
		return fmt.Sprintf("SVM (kvm_amd: npt=%s)", moduleParam("kvm_amd", "npt"))
	}
	return "kvm (vendor module unknown)"
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// findImages returns the directory of the guest images: dir if given, else
// build/images next to the binary's bin/ or under the working directory.
func findImages(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	var cands []string
	if exe, err := os.Executable(); err == nil {
		cands = append(cands, filepath.Join(filepath.Dir(filepath.Dir(exe)), "build", "images"))
	}
	cands = append(cands, filepath.Join("build", "images"))
	for _, c := range cands {
		if exists(filepath.Join(c, "bench_micro")) {
			return filepath.Abs(c)
		}
	}
	return "", fmt.Errorf("guest images not found (looked in %s): run `make images` or pass --images DIR", strings.Join(cands, ", "))
}

// benchEnv is the environment every guest gets, natively and under each
// runner alike.
func benchEnv() []string {
	env := []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	if t := os.Getenv("TMPDIR"); t != "" {
		env = append(env, "TMPDIR="+t)
	}
	return env
}

// launchCaptured runs a guest with vmm.Launch in this process, with the
// guest's (and this process's) fds 1 and 2 redirected to temporary files
// for the duration; it returns what was written there.
func launchCaptured(c vmm.Config) (res *vmm.Result, stdout, stderr string, err error) {
	outF, err := os.CreateTemp("", "kshim-guest-out-*")
	if err != nil {
		return nil, "", "", err
	}
	defer os.Remove(outF.Name())
	defer outF.Close()
	errF, err := os.CreateTemp("", "kshim-guest-err-*")
	if err != nil {
		return nil, "", "", err
	}
	defer os.Remove(errF.Name())
	defer errF.Close()
	os.Stdout.Sync()
	os.Stderr.Sync()
	saved1, err := unix.Dup(1)
	if err != nil {
		return nil, "", "", err
	}
	saved2, err := unix.Dup(2)
	if err != nil {
		unix.Close(saved1)
		return nil, "", "", err
	}
	unix.Dup2(int(outF.Fd()), 1)
	unix.Dup2(int(errF.Fd()), 2)
	if c.Log == nil {
		c.Log = logrus.New()
		c.Log.SetLevel(logrus.WarnLevel)
	}
	c.Log.SetOutput(os.Stderr)
	res, err = vmm.Launch(c)
	unix.Dup2(saved1, 1)
	unix.Dup2(saved2, 2)
	unix.Close(saved1)
	unix.Close(saved2)
	o, _ := os.ReadFile(outF.Name())
	e, _ := os.ReadFile(errF.Name())
	return res, string(o), string(e), err
}

// failureReason condenses a failed guest run to one line: the program's
// own "NAME: ..." error line if it printed one, else the last line of its
// stderr, with the exit status.
func failureReason(prog, stderr, status string) string {
	var last, own string
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		last = l
		if strings.HasPrefix(l, prog+": ") && own == "" {
			own = strings.TrimPrefix(l, prog+": ")
		}
	}
	r := own
	if r == "" {
		r = last
	}
	if r == "" {
		r = status
	} else if status != "" && own == "" {
		r += " (" + status + ")"
	}
	if len(r) > 200 {
		r = r[:200] + "..."
	}
	return r
}

// parseKV returns the value of the first "key=value" line in out.
func parseKV(out []byte, key string) (string, bool) {
	for _, l := range bytes.Split(out, []byte("\n")) {
		if k, v, ok := bytes.Cut(l, []byte("=")); ok && string(bytes.TrimSpace(k)) == key {
			return string(bytes.TrimSpace(v)), true
		}
	}
	return "", false
}
