package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
)

// Metric is one line of OUT/metrics.jsonl: one optimizer step.
type Metric struct {
	Step       int      `json:"step"`               // from 1
	Loss       float64  `json:"loss"`               // mean over the step's trained tokens, from its own forward pass before its update
	LR         float64  `json:"lr"`                 // the learning rate the step used
	GradNorm   float64  `json:"grad_norm"`          // global L2 norm before clipping
	TokensPerS float64  `json:"tokens_per_s"`       // tokens (prompt included) per second of the step
	ValLoss    *float64 `json:"val_loss,omitempty"` // mean validation loss, when evaluated after this step
}

// readMetrics returns the metrics of steps 1..upTo from a metrics file, for
// a resumed run to continue; a missing file gives none.
func readMetrics(path string, upTo int) ([]Metric, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Metric
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m Metric
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if m.Step <= upTo {
			out = append(out, m)
		}
	}
	return out, sc.Err()
}

// writeMetrics rewrites the metrics file with ms (used when resuming, to
// drop steps logged after the checkpoint) and returns it open for appending.
func writeMetrics(path string, ms []Metric) (*os.File, error) {
	var b bytes.Buffer
	for _, m := range ms {
		raw, _ := json.Marshal(m)
		b.Write(append(raw, '\n'))
	}
	if err := writeFileSync(path, b.Bytes()); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
}

// lossSVG draws the training loss per step, and the validation loss where
// measured, as an SVG image.
func lossSVG(ms []Metric) []byte {
	const w, h, left, right, top, bottom = 720.0, 400.0, 64.0, 16.0, 28.0, 44.0
	lo, hi := math.Inf(1), math.Inf(-1)
	last := 1
	for _, m := range ms {
		for _, v := range []*float64{&m.Loss, m.ValLoss} {
			if v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) {
				lo, hi = min(lo, *v), max(hi, *v)
			}
		}
		last = max(last, m.Step)
	}
	if lo > hi {
		lo, hi = 0, 1
	}
	if hi-lo < 1e-9 {
		lo, hi = lo-0.5, hi+0.5
	}
	pad := (hi - lo) * 0.05
	lo, hi = lo-pad, hi+pad
	x := func(step int) float64 { return left + (w-left-right)*float64(step-1)/float64(max(1, last-1)) }
	y := func(v float64) float64 { return top + (h-top-bottom)*(hi-v)/(hi-lo) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="%g" height="%g" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%g" y="18" text-anchor="middle" font-size="14">loss per optimizer step</text>`+"\n", w/2)
	for i := 0; i <= 4; i++ { // horizontal grid with loss labels
		v := lo + (hi-lo)*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, w-right, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end">%.3g</text>`+"\n", left-6, y(v)+4, v)
	}
	for i := 0; i <= 4; i++ { // step labels
		s := 1 + (last-1)*i/4
		fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle">%d</text>`+"\n", x(s), h-bottom+18, s)
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">step</text>`+"\n", (left+w-right)/2, h-6)
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#888"/>`+"\n", left, top, w-left-right, h-top-bottom)
	var train, val strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&train, "%.1f,%.1f ", x(m.Step), y(m.Loss))
		if m.ValLoss != nil {
			fmt.Fprintf(&val, "%.1f,%.1f ", x(m.Step), y(*m.ValLoss))
		}
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="%s"/>`+"\n", strings.TrimSpace(train.String()))
	if val.Len() > 0 {
		fmt.Fprintf(&b, `<polyline fill="none" stroke="#d62728" stroke-width="1.5" stroke-dasharray="4 3" points="%s"/>`+"\n", strings.TrimSpace(val.String()))
		for _, p := range strings.Fields(val.String()) {
			xy := strings.Split(p, ",")
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3" fill="#d62728"/>`+"\n", xy[0], xy[1])
		}
	}
	fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="#1f77b4" stroke-width="2"/><text x="%g" y="%g">train</text>`+"\n", w-170, w-150, top+14, top+14, w-145, top+18)
	fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="#d62728" stroke-width="2" stroke-dasharray="4 3"/><text x="%g" y="%g">validation</text>`+"\n", w-100, w-80, top+14, top+14, w-75, top+18)
	b.WriteString("</svg>\n")
	return []byte(b.String())
}
