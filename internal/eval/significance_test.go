package eval

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"
)

// TestPairedAgainstSacreBLEU compares both paired tests with sacreBLEU's on
// the corpora of testdata/make_paired.py. Scores must match exactly; the
// Monte Carlo estimates (p-values, bootstrap means and intervals) use a
// different random generator, so they must agree within a few standard
// errors.
func TestPairedAgainstSacreBLEU(t *testing.T) {
	data, err := os.ReadFile("testdata/sacrebleu_paired.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		References []string            `json:"references"`
		Systems    map[string][]string `json:"systems"`
		Tests      []struct {
			Test, Metric, System string
			Samples              int
			Score                float64
			PValue               *float64 `json:"p_value"`
			Mean, CI             float64
		} `json:"tests"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	refs := Transpose([][]string{ref.References})
	bleu, _ := NewBLEU(BLEUConfig{})
	chrf, _ := NewCHRF(CHRFConfig{})
	metrics := map[string]Metric{"BLEU": bleu, "chrF2": chrf}
	stats := map[string]map[string][][]float64{}
	for name, m := range metrics {
		stats[name] = map[string][][]float64{}
		for sys, hyps := range ref.Systems {
			if stats[name][sys], err = m.SegmentStats(hyps, refs); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx := context.Background()
	for _, c := range ref.Tests {
		if c.PValue == nil {
			continue // the baseline row: its score and interval are checked below as Baseline*
		}
		m := metrics[c.Metric]
		bl, sys := stats[c.Metric]["baseline"], stats[c.Metric][c.System]
		var got PairedResult
		var pTol float64
		if c.Test == "bs" {
			// 10× sacreBLEU's resamples, so the tolerance is set by its noise.
			got, err = PairedBootstrap(ctx, m, bl, sys, PairedConfig{Samples: 10000})
			pTol = 5*math.Sqrt(*c.PValue*(1-*c.PValue)/float64(c.Samples)) + 0.01
		} else {
			got, err = PairedApproxRandomization(ctx, m, bl, sys, PairedConfig{ConfidenceSamples: 1000})
			pTol = 5*math.Sqrt(2**c.PValue*(1-*c.PValue)/float64(c.Samples)) + 0.002
		}
		if err != nil {
			t.Fatal(err)
		}
		what := c.Test + " " + c.Metric + " " + c.System
		if math.Abs(got.System-c.Score) > 1e-9 {
			t.Errorf("%s: score %v, sacreBLEU %v", what, got.System, c.Score)
		}
		if math.Abs(got.PValue-*c.PValue) > pTol {
			t.Errorf("%s: p-value %.4f, sacreBLEU %.4f (tolerance %.4f)", what, got.PValue, *c.PValue, pTol)
		}
		if math.Abs(got.SystemMean-c.Mean) > 0.25 || math.Abs(got.SystemCI-c.CI) > 0.2*c.CI {
			t.Errorf("%s: μ %.3f ± %.3f, sacreBLEU %.3f ± %.3f", what, got.SystemMean, got.SystemCI, c.Mean, c.CI)
		}
		t.Logf("%s: p %.4f (sacreBLEU %.4f), μ %.2f ± %.2f (%.2f ± %.2f)", what, got.PValue, *c.PValue, got.SystemMean, got.SystemCI, c.Mean, c.CI)
	}
}

func TestPairedProperties(t *testing.T) {
	bleu, _ := NewBLEU(BLEUConfig{})
	hyps := []string{"the cat sat on the mat", "a dog barked loudly", "it rained all day"}
	refs := [][]string{{"the cat sat on the mat"}, {"the dog barked loudly"}, {"it rained the whole day"}}
	stats, _ := bleu.SegmentStats(hyps, refs)
	ctx := context.Background()
	// A system against itself: every trial's difference is 0, none exceeds
	// the observed 0, so p = 1/(n+1) as in sacreBLEU (multeval's "!=" rule).
	ar, err := PairedApproxRandomization(ctx, bleu, stats, stats, PairedConfig{Samples: 99})
	if err != nil {
		t.Fatal(err)
	}
	if ar.PValue != 0.01 || ar.Baseline != ar.System {
		t.Errorf("self AR: %+v", ar)
	}
	a, _ := PairedBootstrap(ctx, bleu, stats, stats, PairedConfig{Samples: 200, Seed: 3})
	b, _ := PairedBootstrap(ctx, bleu, stats, stats, PairedConfig{Samples: 200, Seed: 3})
	if a != b {
		t.Errorf("same seed, different results: %+v vs %+v", a, b)
	}
	if _, err := PairedBootstrap(ctx, bleu, stats, stats[:2], PairedConfig{}); err == nil {
		t.Error("mismatched segment counts accepted")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := PairedBootstrap(cancelled, bleu, stats, stats, PairedConfig{}); err == nil {
		t.Error("cancelled context ignored")
	}
	scores := make([]float64, 40)
	for i := range scores {
		scores[i] = float64(40 - i)
	}
	if mean, ci := estimateCI(scores); mean != 20.5 || ci != 18.5 {
		t.Errorf("estimateCI(1..40) = %v ± %v, want 20.5 ± 18.5", mean, ci)
	}
}
