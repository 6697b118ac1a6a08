// faultlat_compare.go: `kshim faultlat --compare BASELINE.json`: run the
// lab and compare each class's medians with a report saved earlier by
// `kshim faultlat --json`, for catching fault-latency regressions. A class
// regresses when its p50 (the kshim guest view, or the VMM side) exceeds
// the baseline's by more than the threshold (a fraction: 0.5 is +50%);
// the command then exits 1. Medians only: on a shared host the tails are
// noise. A figure missing on either side is reported, not judged.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
)

// flComparison is one (class, view) pair.
type flComparison struct {
	Class     string  `json:"class"`
	View      string  `json:"view"` // kshim_guest or kshim_vmm
	Baseline  float64 `json:"baseline_p50_ns,omitempty"`
	Now       float64 `json:"p50_ns,omitempty"`
	Ratio     float64 `json:"ratio,omitempty"`
	Regressed bool    `json:"regressed"`
	Note      string  `json:"note,omitempty"`
}

type flCompareReport struct {
	Threshold float64        `json:"threshold"`
	Note      string         `json:"note,omitempty"`
	Regressed bool           `json:"regressed"`
	Results   []flComparison `json:"results"`
}

func loadFaultlat(path string) (*faultlatReport, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r faultlatReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a `kshim faultlat --json` report: %v", path, err)
	}
	if len(r.Classes) == 0 {
		return nil, fmt.Errorf("%s: no fault classes in it", path)
	}
	return &r, nil
}

func compareFaultlat(base, now *faultlatReport, threshold float64) *flCompareReport {
	out := &flCompareReport{Threshold: threshold}
	if base.FaultAround != now.FaultAround {
		out.Note = fmt.Sprintf("the baseline ran with fault-around %q, this run with %q", orUnknown(base.FaultAround), now.FaultAround)
	}
	old := map[string]*flResult{}
	for _, c := range base.Classes {
		old[c.Class] = c
	}
	for _, c := range now.Classes {
		b := old[c.Class]
		for _, v := range []struct {
			name     string
			was, now *latDist
		}{
			{"kshim_guest", distField(b, false), c.KshimGuest},
			{"kshim_vmm", distField(b, true), c.KshimVMM},
		} {
			r := flComparison{Class: c.Class, View: v.name}
			switch {
			case b == nil:
				r.Note = "not in the baseline"
			case v.was == nil && v.now == nil:
				continue
			case v.was == nil:
				r.Now, r.Note = v.now.P50, "absent in the baseline"
			case v.now == nil:
				r.Baseline, r.Note = v.was.P50, "absent now"
			default:
				r.Baseline, r.Now = v.was.P50, v.now.P50
				if r.Baseline > 0 {
					r.Ratio = math.Round(r.Now/r.Baseline*1000) / 1000
				}
				r.Regressed = r.Now > r.Baseline*(1+threshold)
			}
			out.Regressed = out.Regressed || r.Regressed
			out.Results = append(out.Results, r)
		}
	}
	return out
}

func distField(r *flResult, vmmSide bool) *latDist {
	if r == nil {
		return nil
	}
	if vmmSide {
		return r.KshimVMM
	}
	return r.KshimGuest
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Table prints the comparison for people.
func (c *flCompareReport) Table(w io.Writer) {
	if c.Note != "" {
		fmt.Fprintf(w, "note: %s\n", c.Note)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "class\tview\tbaseline p50\tp50\tratio\t")
	for _, r := range c.Results {
		verdict := ""
		switch {
		case r.Regressed:
			verdict = fmt.Sprintf("REGRESSED (> +%.0f%%)", c.Threshold*100)
		case r.Note != "":
			verdict = r.Note
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Class, r.View, humanOrDash(r.Baseline), humanOrDash(r.Now), ratioOrDash(r.Ratio), verdict)
	}
	tw.Flush()
	if c.Regressed {
		var names []string
		for _, r := range c.Results {
			if r.Regressed {
				names = append(names, r.Class+"/"+r.View)
			}
		}
		fmt.Fprintf(w, "regressed: %s\n", strings.Join(names, ", "))
	} else {
		fmt.Fprintf(w, "no class regressed by more than %.0f%%\n", c.Threshold*100)
	}
}

func humanOrDash(ns float64) string {
	if ns == 0 {
		return "-"
	}
	return human(ns, "ns")
}

func ratioOrDash(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", r)
}

func roundAll(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = round3(x)
	}
	return out
}
