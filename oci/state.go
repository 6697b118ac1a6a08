// state.go: a container's state directory under the global --root:
// state.json (what `state` reports, plus what tells the container's
// kshim from a later process with the same pid), plan.json (the checked
// bundle, for the container's kshim and for poststop hooks) and ctl.sock
// (the container's kshim's control socket, control.go).
//
// Invariants:
//   - The directory exists from the moment create has checked the
//     bundle until delete; create removes it on any failure.
//   - The status is never stored: it is read from the container's kshim
//     (created, running, paused) or, when that process is gone (or is a
//     zombie, or its pid now names another process), "stopped".
package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultRoot is the global --root's default.
const DefaultRoot = "/run/kshim"

// record is state.json.
type record struct {
	ID          string            `json:"id"`
	Bundle      string            `json:"bundle"`
	Pid         int               `json:"pid"`
	StartTime   uint64            `json:"start_time"` // /proc/PID/stat field 22
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// container is one state directory.
type container struct {
	dir string
	rec record
}

func stateDir(root, id string) string { return filepath.Join(root, id) }

// errNotExist is the answer for an id without a state directory, in the
// words engines look for.
type errNotExist struct{ id string }

func (e errNotExist) Error() string { return fmt.Sprintf("container %q does not exist", e.id) }

// loadContainer reads the state of id under root.
func loadContainer(root, id string) (*container, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	dir := stateDir(root, id)
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errNotExist{id}
		}
		return nil, err
	}
	c := &container{dir: dir}
	if err := json.Unmarshal(b, &c.rec); err != nil {
		return nil, fmt.Errorf("container %q: corrupt state: %v", id, err)
	}
	return c, nil
}

// save writes state.json atomically.
func (c *container) save() error {
	b, err := json.Marshal(c.rec)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(c.dir, "state.json"), b, 0o600)
}

func writeAtomic(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// plan reads plan.json.
func (c *container) plan() (*Plan, error) { return readPlan(c.dir) }

func readPlan(dir string) (*Plan, error) {
	b, err := os.ReadFile(filepath.Join(dir, "plan.json"))
	if err != nil {
		return nil, err
	}
	p := &Plan{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, err
	}
	return p, nil
}

// procStart returns pid's start time (clock ticks after boot) and whether
// it is alive and not a zombie.
func procStart(pid int) (uint64, bool) {
	if pid <= 0 {
		return 0, false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// comm may hold spaces and parentheses: fields start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, false
	}
	st, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, false
	}
	return st, f[0] != "Z" && f[0] != "X"
}

// alive says whether the container's kshim still runs.
func (c *container) alive() bool {
	st, ok := procStart(c.rec.Pid)
	return ok && st == c.rec.StartTime
}

// status asks the container's kshim; "stopped" when it is gone.
func (c *container) status() specs.ContainerState {
	if !c.alive() {
		return specs.StateStopped
	}
	r, err := c.call(request{Op: "state"})
	if err != nil {
		// Alive but not answering: it is ending.
		return specs.StateStopped
	}
	return specs.ContainerState(r.Status)
}

// state is the OCI state of the container.
func (c *container) state() specs.State {
	st := c.status()
	s := specs.State{Version: specs.Version, ID: c.rec.ID, Status: st, Bundle: c.rec.Bundle,
		Annotations: c.rec.Annotations}
	if st != specs.StateStopped {
		s.Pid = c.rec.Pid
	}
	return s
}
