// stats.go: `kshim run --stats[=text|json]`: the run's statistics
// (vmm/stats.go) on stderr when the guest has ended, so the program's own
// output is untouched.
package main

import (
	"fmt"
	"io"

	"kshim/vmm"
)

// statsFlag is --stats: a bare --stats means text, --stats=json JSON.
type statsFlag string

func (s *statsFlag) String() string   { return string(*s) }
func (s *statsFlag) IsBoolFlag() bool { return true }

func (s *statsFlag) Set(v string) error {
	switch v {
	case "true", "text":
		*s = "text"
	case "json":
		*s = "json"
	case "false", "":
		*s = ""
	default:
		return fmt.Errorf("want --stats, --stats=text or --stats=json")
	}
	return nil
}

// writeStats writes the report in the asked format.
func writeStats(w io.Writer, format statsFlag, rs *vmm.RunStats) {
	if rs == nil {
		return
	}
	r := rs.Report()
	var err error
	if format == "json" {
		err = r.WriteJSON(w)
	} else {
		err = r.WriteText(w)
	}
	if err != nil {
		fmt.Fprintf(w, "kshim: --stats: %v\n", err)
	}
}
