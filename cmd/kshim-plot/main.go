// Command kshim-plot draws `kshim faultlat --plot`: one panel per fault
// class, each a histogram (log-spaced bins, log x axis) of the kshim
// VMM-side, kshim guest-view and native guest-view latencies, drawn with
// gonum.org/v1/plot to PNG or SVG.
//
//	kshim-plot FILE.png|FILE.svg < report.json
//
// It reads a `kshim faultlat --json` report (the raw samples are in it)
// on stdin; `kshim faultlat --plot` runs it. It is a command of its own
// because gonum.org/v1/plot parses its fonts at init: linked into kshim,
// that cost every `kshim run` ~2 ms of start-up.
package main

import (
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: kshim-plot FILE.png|FILE.svg < faultlat.json (kshim faultlat --json)")
		os.Exit(2)
	}
	path := os.Args[1]
	if ext := strings.ToLower(filepath.Ext(path)); ext != ".png" && ext != ".svg" {
		fmt.Fprintln(os.Stderr, "kshim-plot: wants a .png or .svg file")
		os.Exit(2)
	}
	var rep faultlatReport
	if err := json.NewDecoder(os.Stdin).Decode(&rep); err != nil {
		fmt.Fprintf(os.Stderr, "kshim-plot: reading the report: %v\n", err)
		os.Exit(2)
	}
	if err := rep.Plot(path); err != nil {
		fmt.Fprintf(os.Stderr, "kshim-plot: %v\n", err)
		os.Exit(1)
	}
}

// faultlatReport is what the plot takes of `kshim faultlat --json`.
type faultlatReport struct {
	Host struct {
		KVM  string `json:"kvm"`
		Date string `json:"date"`
	} `json:"host"`
	N       int         `json:"samples_per_class"`
	Classes []*flResult `json:"classes"`
}

type flResult struct {
	Title   string `json:"title"`
	Samples struct {
		KshimVMM    []float64 `json:"kshim_vmm"`
		KshimGuest  []float64 `json:"kshim_guest"`
		NativeGuest []float64 `json:"native_guest"`
	} `json:"samples"`
}

// median is the middle sample (the mean of the two middle ones).
func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// human prints a latency in ns, µs or ms, three digits.
func human(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	}
	return fmt.Sprintf("%.3g ns", ns)
}

type plotSeries struct {
	label string
	ns    []float64
	line  color.RGBA
}

var (
	colNative = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
	colGuest  = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colVMM    = color.RGBA{R: 0xe6, G: 0x7e, B: 0x22, A: 0xff}
)

// nsTicks labels a log axis in ns/µs/ms at each decade, with unlabelled
// ticks at 2..9 times the decade.
type nsTicks struct{}

func (nsTicks) Ticks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		d := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			v := m * d
			if v < lo || v > hi {
				continue
			}
			tk := plot.Tick{Value: v}
			if m == 1 {
				tk.Label = human(v)
			}
			t = append(t, tk)
		}
	}
	return t
}

const plotBins = 60

// histogram returns the step outline of the fraction of samples per
// log-spaced bin between lo and hi.
func histogram(ns []float64, lo, hi float64) plotter.XYs {
	counts := make([]float64, plotBins)
	step := (math.Log10(hi) - math.Log10(lo)) / plotBins
	for _, v := range ns {
		i := int((math.Log10(v) - math.Log10(lo)) / step)
		counts[max(0, min(plotBins-1, i))]++
	}
	xy := make(plotter.XYs, 0, plotBins+1)
	for i, c := range counts {
		xy = append(xy, plotter.XY{X: math.Pow(10, math.Log10(lo)+float64(i)*step), Y: c / float64(len(ns))})
	}
	xy = append(xy, plotter.XY{X: hi, Y: 0})
	return xy
}

func (rep *faultlatReport) panel(r *flResult, lo, hi float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = r.Title
	p.X.Label.Text = "latency"
	p.Y.Label.Text = "fraction of samples"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = nsTicks{}
	p.X.Min, p.X.Max = lo, hi
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Add(plotter.NewGrid())
	series := []plotSeries{
		{"native, guest view", r.Samples.NativeGuest, colNative},
		{"kshim, guest view", r.Samples.KshimGuest, colGuest},
		{"kshim, VMM side", r.Samples.KshimVMM, colVMM},
	}
	ymax := 0.0
	for _, s := range series {
		if len(s.ns) == 0 {
			continue
		}
		l, err := plotter.NewLine(histogram(s.ns, lo, hi))
		if err != nil {
			return nil, err
		}
		l.StepStyle = plotter.PostStep
		l.LineStyle.Color = s.line
		l.LineStyle.Width = vg.Points(1.2)
		l.FillColor = color.NRGBA{R: s.line.R, G: s.line.G, B: s.line.B, A: 0x48}
		for _, pt := range l.XYs {
			ymax = math.Max(ymax, pt.Y)
		}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (p50 %s)", s.label, human(median(s.ns))), l)
	}
	p.Y.Max = ymax * 1.45 // room for the legend above the bars
	if len(r.Samples.KshimGuest) == 0 {
		p.Title.Text += " (kshim: absent, see the table)"
	}
	return p, nil
}

// Plot writes the panels to path (.png or .svg), two per row.
func (rep *faultlatReport) Plot(path string) error {
	// One x range for every panel, so they compare at a glance.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rep.Classes {
		for _, s := range [][]float64{r.Samples.KshimVMM, r.Samples.KshimGuest, r.Samples.NativeGuest} {
			for _, v := range s {
				if v > 0 {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
	}
	if math.IsInf(lo, 1) {
		return fmt.Errorf("no samples to plot")
	}
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi = math.Pow(10, math.Ceil(math.Log10(hi)))
	const cols = 2
	rows := (len(rep.Classes) + cols - 1) / cols
	plots := make([][]*plot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*plot.Plot, cols)
	}
	for i, r := range rep.Classes {
		p, err := rep.panel(r, lo, hi)
		if err != nil {
			return err
		}
		plots[i/cols][i%cols] = p
	}
	w, h := vg.Length(cols)*5.5*vg.Inch, vg.Length(rows)*3.2*vg.Inch
	var canvas vg.CanvasWriterTo
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg":
		canvas = vgsvg.New(w, h)
	default:
		canvas = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110))}
	}
	dc := draw.New(canvas)
	// A title strip on top.
	titleH := vg.Points(28)
	top := draw.Crop(dc, 0, 0, 0, -titleH)
	head := draw.Crop(dc, 0, 0, h-titleH, 0)
	style := plots[0][0].Title.TextStyle
	style.XAlign, style.YAlign = draw.XCenter, draw.YCenter
	head.FillText(style, vg.Point{X: w / 2, Y: h - titleH/2},
		fmt.Sprintf("kshim fault latency, %d samples per class — %s — %s", rep.N, rep.Host.KVM, rep.Host.Date))
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, tiles, top)
	for i := range plots {
		for j := range plots[i] {
			if plots[i][j] != nil {
				plots[i][j].Draw(canvases[i][j])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := canvas.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
