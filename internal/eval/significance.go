package eval

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// PairedConfig holds the options of the paired significance tests. The zero
// value is sacreBLEU's default: 1000 bootstrap resamples or 10000
// approximate-randomization trials, seed 12345, no confidence interval for
// approximate randomization.
type PairedConfig struct {
	// Samples is the number of bootstrap resamples (default 1000) or of
	// randomization trials (default 10000).
	Samples int
	// Seed seeds the random numbers; 0 means 12345 (sacreBLEU's
	// SACREBLEU_SEED default). The generator is Go's PCG, not NumPy's, so
	// p-values match sacreBLEU's in distribution, not digit for digit.
	Seed uint64
	// ConfidenceSamples is, for approximate randomization, the number of
	// bootstrap resamples used to estimate the 95% confidence intervals
	// (sacreBLEU's --paired-ar-confidence-n; 0 means none). Paired
	// bootstrap always reports them, from its own resamples.
	ConfidenceSamples int
	// Progress, if set, is called with the samples done so far.
	Progress func(done, total int)
}

// PairedResult compares a system with a baseline on one metric.
type PairedResult struct {
	Test     string  `json:"test"` // "bs" or "ar"
	Samples  int     `json:"samples"`
	Seed     uint64  `json:"seed"`
	Baseline float64 `json:"baseline"` // actual corpus scores
	System   float64 `json:"system"`
	// PValue is the probability of a difference at least as large as the
	// observed one under the null hypothesis that the systems are the same.
	PValue float64 `json:"p_value"`
	// *Mean and *CI are the bootstrap mean and the half-width of the 95%
	// confidence interval around it (sacreBLEU's "μ ± CI"); zero when not
	// estimated.
	BaselineMean float64 `json:"baseline_mean"`
	BaselineCI   float64 `json:"baseline_ci"`
	SystemMean   float64 `json:"system_mean"`
	SystemCI     float64 `json:"system_ci"`
}

func (c PairedConfig) samples(def int) int {
	if c.Samples > 0 {
		return c.Samples
	}
	return def
}

func (c PairedConfig) seed() uint64 {
	if c.Seed == 0 {
		return 12345
	}
	return c.Seed
}

func (c PairedConfig) rng() *rand.Rand { return rand.New(rand.NewPCG(c.seed(), 0x9e3779b97f4a7c15)) }

func checkPairedStats(baseline, system [][]float64) error {
	if len(baseline) != len(system) {
		return fmt.Errorf("paired test: baseline has %d segments, system %d: score the same test set", len(baseline), len(system))
	}
	if len(baseline) == 0 {
		return fmt.Errorf("paired test: no segments")
	}
	return nil
}

// PairedBootstrap is sacreBLEU's paired bootstrap resampling test (as
// Moses' bootstrap-hypothesis-difference-significance.pl): both systems are
// scored on the same Samples resamples of the segments (with
// replacement); the p-value is the share of resamples whose centred
// absolute difference exceeds the observed one, (c+1)/(Samples+1).
// baseline and system are the metric's SegmentStats on the same references.
func PairedBootstrap(ctx context.Context, m Metric, baseline, system [][]float64, cfg PairedConfig) (PairedResult, error) {
	if err := checkPairedStats(baseline, system); err != nil {
		return PairedResult{}, err
	}
	n := cfg.samples(1000)
	res := PairedResult{Test: "bs", Samples: n, Seed: cfg.seed(),
		Baseline: m.Score(sumStats(baseline, m.StatsLen())), System: m.Score(sumStats(system, m.StatsLen()))}
	scores, err := resampledScores(ctx, m, [][][]float64{baseline, system}, n, cfg.rng(), cfg.Progress)
	if err != nil {
		return PairedResult{}, err
	}
	blScores, sysScores := scores[0], scores[1]
	res.BaselineMean, res.BaselineCI = estimateCI(blScores)
	res.SystemMean, res.SystemCI = estimateCI(sysScores)
	diffs := make([]float64, n)
	mean := 0.0
	for s := range diffs {
		diffs[s] = math.Abs(sysScores[s] - blScores[s])
		mean += diffs[s]
	}
	mean /= float64(n)
	for s := range diffs {
		diffs[s] -= mean
	}
	res.PValue = pValue(diffs, math.Abs(res.Baseline-res.System))
	return res, nil
}

// PairedApproxRandomization is sacreBLEU's paired approximate
// randomization test: in each trial every segment's pair of outputs is
// swapped between the systems with probability 1/2; the p-value is the
// share of trials whose absolute score difference exceeds the observed one,
// (c+1)/(Samples+1).
func PairedApproxRandomization(ctx context.Context, m Metric, baseline, system [][]float64, cfg PairedConfig) (PairedResult, error) {
	if err := checkPairedStats(baseline, system); err != nil {
		return PairedResult{}, err
	}
	n := cfg.samples(10000)
	width := m.StatsLen()
	res := PairedResult{Test: "ar", Samples: n, Seed: cfg.seed(),
		Baseline: m.Score(sumStats(baseline, width)), System: m.Score(sumStats(system, width))}
	rng := cfg.rng()
	a, b := make([]float64, width), make([]float64, width)
	diffs := make([]float64, n)
	for s := 0; s < n; s++ {
		if err := ctx.Err(); err != nil {
			return PairedResult{}, err
		}
		clear(a)
		clear(b)
		for i := range baseline {
			x, y := baseline[i], system[i]
			if rng.Uint64()&1 == 1 {
				x, y = y, x
			}
			for j := range a {
				a[j] += x[j]
				b[j] += y[j]
			}
		}
		diffs[s] = math.Abs(m.Score(a) - m.Score(b))
		if cfg.Progress != nil {
			cfg.Progress(s+1, n)
		}
	}
	res.PValue = pValue(diffs, math.Abs(res.Baseline-res.System))
	if cfg.ConfidenceSamples > 0 {
		idx := make([]int, len(baseline))
		blScores, sysScores := make([]float64, cfg.ConfidenceSamples), make([]float64, cfg.ConfidenceSamples)
		for s := range blScores {
			for i := range idx {
				idx[i] = rng.IntN(len(baseline))
			}
			blScores[s] = m.Score(sumRows(baseline, idx, width))
			sysScores[s] = m.Score(sumRows(system, idx, width))
		}
		res.BaselineMean, res.BaselineCI = estimateCI(blScores)
		res.SystemMean, res.SystemCI = estimateCI(sysScores)
	}
	return res, nil
}

// resampledScores scores every system on the same n bootstrap resamples
// of the segments (drawn with replacement from rng): scores[k][s] is
// system k's score on resample s. The systems' stats must be aligned.
func resampledScores(ctx context.Context, m Metric, systems [][][]float64, n int, rng *rand.Rand, progress func(done, total int)) ([][]float64, error) {
	segments := len(systems[0])
	idx := make([]int, segments)
	scores := make([][]float64, len(systems))
	for k := range scores {
		scores[k] = make([]float64, n)
	}
	for s := 0; s < n; s++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for i := range idx {
			idx[i] = rng.IntN(segments)
		}
		for k, stats := range systems {
			scores[k][s] = m.Score(sumRows(stats, idx, m.StatsLen()))
		}
		if progress != nil {
			progress(s+1, n)
		}
	}
	return scores, nil
}

// sumRows adds the rows of stats picked by idx.
func sumRows(stats [][]float64, idx []int, width int) []float64 {
	sum := make([]float64, width)
	for _, i := range idx {
		for j, v := range stats[i] {
			sum[j] += v
		}
	}
	return sum
}

// pValue is (c+1)/(n+1) with c the samples strictly above observed (the
// "+1" keeps the test from rejecting too often with few samples).
func pValue(samples []float64, observed float64) float64 {
	c := 0
	for _, s := range samples {
		if s > observed {
			c++
		}
	}
	return float64(c+1) / float64(len(samples)+1)
}

// estimateCI is sacreBLEU's estimate_ci: the mean of the scores and half
// the width of the interval between the sorted scores at n/40 and
// n − n/40 − 1 (95%).
func estimateCI(scores []float64) (mean, ci float64) {
	sorted := slices.Clone(scores)
	slices.Sort(sorted)
	n := len(sorted)
	lo := n / 40
	hi := n - lo - 1
	for _, s := range sorted {
		mean += s
	}
	return mean / float64(n), 0.5 * (sorted[hi] - sorted[lo])
}
