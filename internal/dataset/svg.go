package dataset

import (
	"bytes"
	"fmt"
	"html"
)

// HistogramSVG draws the token-length histogram of each field of a report
// as one SVG image, a panel per field, with the percentiles marked.
func HistogramSVG(r StatsReport, title string) []byte {
	const (
		width, panelH      = 720, 190
		left, right, top   = 60, 20, 40
		plotH, labelHeight = 120, 40
	)
	height := top + len(r.Fields)*panelH + 10
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	unit := "tokens"
	if r.TokensEstimated {
		unit = "tokens (estimated)"
	}
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(fmt.Sprintf("%s — %d records, %s", title, r.Records, unit)))
	for i, f := range r.Fields {
		y0 := top + i*panelH
		drawPanel(&b, f, left, y0, width-left-right, plotH)
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func drawPanel(b *bytes.Buffer, f FieldStats, x0, y0, w, h int) {
	h0 := y0 + 20 // top of the plot
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="13">%s: %d values, mean %.0f, p50 %d, p90 %d, p99 %d, max %d</text>`+"\n",
		x0, y0+12, html.EscapeString(f.Field), f.Count, f.Mean, f.P50, f.P90, f.P99, f.Max)
	peak := 1
	for _, c := range f.Histogram.Counts {
		peak = max(peak, c)
	}
	n := len(f.Histogram.Counts)
	bw := float64(w) / float64(n)
	for i, c := range f.Histogram.Counts {
		bh := float64(h) * float64(c) / float64(peak)
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#4a7ab8"><title>%s</title></rect>`+"\n",
			float64(x0)+float64(i)*bw+1, float64(h0+h)-bh, bw-2, bh, binLabel(f.Histogram, i, c))
	}
	// axes, the count of the tallest bar, and token labels every few bins
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", x0, h0+h, x0+w, h0+h)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", x0, h0, x0, h0+h)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="end">%d</text>`+"\n", x0-4, h0+8, peak)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="end">0</text>`+"\n", x0-4, h0+h)
	step := max(1, n/10)
	for i := 0; i <= n; i += step {
		x := float64(x0) + float64(i)*bw
		label := fmt.Sprint(i * f.Histogram.Width)
		if i == n {
			label += "+"
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, h0+h+14, label)
	}
	// percentile markers
	for _, p := range []struct {
		name string
		v    int
	}{{"p50", f.P50}, {"p90", f.P90}, {"p99", f.P99}} {
		x := float64(x0) + float64(p.v)/float64(f.Histogram.Width)*bw
		if x > float64(x0+w) {
			continue
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#d04030" stroke-dasharray="3,2"/>`+"\n", x, h0, x, h0+h)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" fill="#d04030" text-anchor="middle">%s</text>`+"\n", x, h0-2, p.name)
	}
}

func binLabel(h Histogram, i, count int) string {
	lo := i * h.Width
	if i == len(h.Counts)-1 {
		return fmt.Sprintf("%d+ tokens: %d", lo, count)
	}
	return fmt.Sprintf("%d–%d tokens: %d", lo, lo+h.Width-1, count)
}
