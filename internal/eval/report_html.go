package eval

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"math"
)

//go:embed report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"num":   formatScore,
	"delta": func(x float64) string { return fmt.Sprintf("%+.4g", x) },
	"pct":   func(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) },
	"p": func(x float64) string {
		if x < 0.001 {
			return "<0.001"
		}
		return fmt.Sprintf("%.3f", x)
	},
}).Parse(reportTemplateText))

// formatScore prints 4 significant digits, enough for every scale.
func formatScore(x float64) string { return fmt.Sprintf("%.4g", x) }

// HTML renders the report as one self-contained page: inline CSS and SVG
// charts, no scripts or outside assets; every text is escaped.
func (r *Report) HTML() ([]byte, error) {
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, r.view()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// reportView is what the template shows.
type reportView struct {
	*Report
	Sections []metricSection
	Pairwise []pairwiseView
}

type metricSection struct {
	Name   string
	Higher bool
	Rows   []metricRow
	Chart  barChart
}

type metricRow struct {
	Variant  string
	Baseline bool
	Score    MetricScore
	Delta    *MetricDelta
}

type pairwiseView struct {
	Variant, Baseline string
	S                 PairwiseSummary
	Bars              []stackPart // widths in pixels
}

type stackPart struct {
	Label, Class string
	X, W         float64
}

// barChart is a horizontal bar per variant with its interval as a whisker.
type barChart struct {
	Width, Height float64
	PlotHeight    float64 // Height without the axis labels
	Bars          []chartBar
	Ticks         []chartTick
}

type chartBar struct {
	Label         string
	Y, X, W       float64 // bar rectangle
	Lo, Hi, Mid   float64 // whisker ends and centre line
	Value         string
	Baseline      bool
	LabelY, TextX float64
}

type chartTick struct {
	X     float64
	Label string
}

// Chart geometry, in pixels.
const (
	chartLabelWidth = 150.0
	chartPlotWidth  = 420.0
	chartValueWidth = 70.0
	chartRow        = 26.0
	chartBarHeight  = 16.0
	chartAxisHeight = 22.0
)

func (r *Report) view() reportView {
	v := reportView{Report: r}
	deltas := map[string]map[string]*MetricDelta{} // variant → metric → delta
	for i := range r.Comparisons {
		c := &r.Comparisons[i]
		deltas[c.Variant] = map[string]*MetricDelta{}
		for j := range c.Metrics {
			deltas[c.Variant][c.Metrics[j].Metric] = &c.Metrics[j]
		}
		if c.Pairwise != nil {
			v.Pairwise = append(v.Pairwise, pairwiseView{Variant: c.Variant, Baseline: c.Baseline, S: *c.Pairwise, Bars: stack(*c.Pairwise)})
		}
	}
	if len(r.Variants) == 0 {
		return v
	}
	for k, m := range r.Variants[0].Metrics {
		sec := metricSection{Name: m.Metric, Higher: m.HigherIsBetter}
		for _, vr := range r.Variants {
			if k >= len(vr.Metrics) {
				continue
			}
			sec.Rows = append(sec.Rows, metricRow{Variant: vr.Name, Baseline: vr.Name == r.Baseline,
				Score: vr.Metrics[k], Delta: deltas[vr.Name][m.Metric]})
		}
		sec.Chart = chartOf(sec.Rows)
		v.Sections = append(v.Sections, sec)
	}
	return v
}

// chartOf lays out the bars on a scale from min(0, lowest) to the highest
// interval end.
func chartOf(rows []metricRow) barChart {
	lo, hi := 0.0, 0.0
	for _, r := range rows {
		lo = min(lo, r.Score.Low, r.Score.Score)
		hi = max(hi, r.Score.High, r.Score.Score)
	}
	if hi == lo {
		hi = lo + 1
	}
	step := niceStep((hi - lo) / 4)
	lo, hi = step*math.Floor(lo/step), step*math.Ceil(hi/step)
	x := func(val float64) float64 {
		return chartLabelWidth + chartPlotWidth*(val-lo)/(hi-lo)
	}
	c := barChart{Width: chartLabelWidth + chartPlotWidth + chartValueWidth,
		PlotHeight: float64(len(rows)) * chartRow, Height: float64(len(rows))*chartRow + chartAxisHeight}
	for i, r := range rows {
		y := float64(i)*chartRow + (chartRow-chartBarHeight)/2
		x0, x1 := x(0), x(r.Score.Score)
		c.Bars = append(c.Bars, chartBar{Label: r.Variant, Y: y, X: min(x0, x1), W: math.Abs(x1 - x0),
			Lo: x(r.Score.Low), Hi: x(r.Score.High), Mid: y + chartBarHeight/2, Value: formatScore(r.Score.Score),
			Baseline: r.Baseline, LabelY: y + chartBarHeight - 3, TextX: chartLabelWidth + chartPlotWidth + 6})
	}
	for val := lo; val <= hi+step/2; val += step {
		c.Ticks = append(c.Ticks, chartTick{X: x(val), Label: formatScore(math.Round(val/step) * step)})
	}
	return c
}

// niceStep rounds a tick interval up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*pow >= raw*(1-1e-9) {
			return m * pow
		}
	}
	return 10 * pow
}

// stack lays out win/tie/loss shares as one bar of chartPlotWidth pixels.
func stack(s PairwiseSummary) []stackPart {
	var parts []stackPart
	x := 0.0
	for _, p := range []struct {
		label, class string
		rate         float64
	}{{"win", "win", s.WinRate.Rate}, {"tie", "tie", s.TieRate.Rate}, {"loss", "loss", s.LossRate.Rate}} {
		w := chartPlotWidth * p.rate
		parts = append(parts, stackPart{Label: p.label, Class: p.class, X: x, W: w})
		x += w
	}
	return parts
}
