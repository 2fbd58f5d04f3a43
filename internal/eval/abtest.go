package eval

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Alternative is the alternative hypothesis of a test, as SciPy names it:
// "two-sided" (the default when empty), "less" (the first group's value is
// smaller) or "greater".
type Alternative string

const (
	TwoSided Alternative = "two-sided"
	Less     Alternative = "less"
	Greater  Alternative = "greater"
)

func (a Alternative) check() error {
	switch a {
	case "", TwoSided, Less, Greater:
		return nil
	}
	return fmt.Errorf("unknown alternative %q: use two-sided, less or greater", string(a))
}

// pFromZ turns a standard-normal statistic into a p-value.
func (a Alternative) pFromZ(z float64) float64 {
	switch a {
	case Less:
		return normalCDF(z)
	case Greater:
		return normalSF(z)
	}
	return min(1, 2*normalSF(math.Abs(z)))
}

// TestResult is a test statistic and its p-value.
type TestResult struct {
	Statistic float64 `json:"statistic"`
	PValue    float64 `json:"p_value"`
	// DF is the degrees of freedom (Welch's t-test only).
	DF float64 `json:"df,omitempty"`
	// Method says how the p-value was computed ("exact" or "asymptotic"
	// for Mann-Whitney U).
	Method string `json:"method,omitempty"`
}

// TwoProportionZTest compares conversion rates x1/n1 and x2/n2 with the
// pooled two-proportion z-test (as statsmodels' proportions_ztest):
// z = (p1 − p2) / √(p(1−p)(1/n1 + 1/n2)), p the pooled rate.
func TwoProportionZTest(x1, n1, x2, n2 int, alt Alternative) (TestResult, error) {
	if err := alt.check(); err != nil {
		return TestResult{}, err
	}
	if n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2 {
		return TestResult{}, fmt.Errorf("two-proportion z-test: need 0 <= successes <= trials and trials > 0, got %d/%d and %d/%d", x1, n1, x2, n2)
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	p := float64(x1+x2) / float64(n1+n2)
	se := math.Sqrt(p * (1 - p) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return TestResult{}, fmt.Errorf("two-proportion z-test: both groups have rate %g: the test is undefined", p)
	}
	z := (p1 - p2) / se
	return TestResult{Statistic: z, PValue: alt.pFromZ(z)}, nil
}

func meanVar(xs []float64) (mean, variance float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(xs)-1)
}

// WelchTTest is the two-sample t-test without assuming equal variances,
// as scipy.stats.ttest_ind(a, b, equal_var=False).
func WelchTTest(a, b []float64, alt Alternative) (TestResult, error) {
	if err := alt.check(); err != nil {
		return TestResult{}, err
	}
	if len(a) < 2 || len(b) < 2 {
		return TestResult{}, fmt.Errorf("welch t-test: need at least 2 values per group, got %d and %d", len(a), len(b))
	}
	ma, va := meanVar(a)
	mb, vb := meanVar(b)
	sa, sb := va/float64(len(a)), vb/float64(len(b))
	if sa+sb == 0 {
		return TestResult{}, fmt.Errorf("welch t-test: both groups are constant: the test is undefined")
	}
	t := (ma - mb) / math.Sqrt(sa+sb)
	df := (sa + sb) * (sa + sb) / (sa*sa/float64(len(a)-1) + sb*sb/float64(len(b)-1))
	var p float64
	switch alt {
	case Less:
		p = studentSF(-t, df)
	case Greater:
		p = studentSF(t, df)
	default:
		p = min(1, 2*studentSF(math.Abs(t), df))
	}
	return TestResult{Statistic: t, PValue: p, DF: df}, nil
}

// MannWhitneyU is the Mann-Whitney U rank test as scipy.stats.mannwhitneyu
// with its defaults (method "auto", use_continuity=True): the statistic is
// U of the first group; the p-value is exact when either group has at most
// 8 values and there are no ties, otherwise from the normal approximation
// with tie correction and continuity correction.
func MannWhitneyU(a, b []float64, alt Alternative) (TestResult, error) {
	if err := alt.check(); err != nil {
		return TestResult{}, err
	}
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 {
		return TestResult{}, fmt.Errorf("mann-whitney u: both groups need values, got %d and %d", n1, n2)
	}
	all := append(slices.Clone(a), b...)
	ranks, tieTerm := averageRanks(all)
	r1 := 0.0
	for _, r := range ranks[:n1] {
		r1 += r
	}
	u1 := r1 - float64(n1*(n1+1))/2
	u2 := float64(n1*n2) - u1
	u, factor := math.Max(u1, u2), 2.0
	switch alt {
	case Greater:
		u, factor = u1, 1
	case Less:
		u, factor = u2, 1
	}
	res := TestResult{Statistic: u1}
	if (n1 > 8 && n2 > 8) || tieTerm > 0 {
		res.Method = "asymptotic"
		n := float64(n1 + n2)
		s := math.Sqrt(float64(n1*n2) / 12 * ((n + 1) - tieTerm/(n*(n-1))))
		z := (u - float64(n1*n2)/2 - 0.5) / s
		res.PValue = normalSF(z)
	} else {
		res.Method = "exact"
		res.PValue = mwuExactSF(int(math.Round(u)), n1, n2)
	}
	res.PValue = min(1, max(0, res.PValue*factor))
	return res, nil
}

// averageRanks ranks xs from 1 (ties share their average rank, as
// scipy.stats.rankdata) and returns Σ(t³ − t) over groups of t ties.
func averageRanks(xs []float64) ([]float64, float64) {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return xs[idx[i]] < xs[idx[j]] })
	ranks := make([]float64, len(xs))
	tie := 0.0
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && xs[idx[j]] == xs[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1 .. j
		for k := i; k < j; k++ {
			ranks[idx[k]] = avg
		}
		t := float64(j - i)
		tie += t*t*t - t
		i = j
	}
	return ranks, tie
}

// mwuExactSF is P(U >= u) under the null hypothesis, from the number of
// arrangements f(m, n, k) = f(m−1, n, k−n) + f(m, n−1, k) with U = k
// (SciPy's _MWU), in floating point.
func mwuExactSF(u, m, n int) float64 {
	if m > n {
		m, n = n, m
	}
	// prev[j] holds f(i−1, j, ·) and cur[j] f(i, j, ·), for j = 0..n.
	prev := make([][]float64, n+1)
	for j := range prev {
		prev[j] = []float64{1} // f(0, j, 0) = 1
	}
	for i := 1; i <= m; i++ {
		cur := make([][]float64, n+1)
		cur[0] = []float64{1} // f(i, 0, 0) = 1
		for j := 1; j <= n; j++ {
			f := make([]float64, i*j+1)
			for k := range f {
				if k-j >= 0 && k-j < len(prev[j]) {
					f[k] += prev[j][k-j]
				}
				if k < len(cur[j-1]) {
					f[k] += cur[j-1][k]
				}
			}
			cur[j] = f
		}
		prev = cur
	}
	dist := prev[n]
	total, tail := 0.0, 0.0
	for k, c := range dist {
		total += c
		if k >= u {
			tail += c
		}
	}
	return tail / total
}

// BootstrapCI is a percentile bootstrap confidence interval.
type BootstrapCI struct {
	Estimate float64 `json:"estimate"` // the statistic on the data
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
	Level    float64 `json:"level"`
	Samples  int     `json:"samples"`
}

// BootstrapMeanDiffCI is the percentile bootstrap confidence interval of
// mean(b) − mean(a), resampling each group with replacement. level 0 means
// 0.95, samples 0 means 10000, seed 0 means 12345.
func BootstrapMeanDiffCI(ctx context.Context, a, b []float64, level float64, samples int, seed uint64) (BootstrapCI, error) {
	if len(a) == 0 || len(b) == 0 {
		return BootstrapCI{}, fmt.Errorf("bootstrap: both groups need values, got %d and %d", len(a), len(b))
	}
	if level == 0 {
		level = 0.95
	}
	if level <= 0 || level >= 1 {
		return BootstrapCI{}, fmt.Errorf("bootstrap: confidence level %g: must be between 0 and 1", level)
	}
	if samples <= 0 {
		samples = 10000
	}
	if seed == 0 {
		seed = 12345
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	resampledMean := func(xs []float64) float64 {
		s := 0.0
		for range xs {
			s += xs[rng.IntN(len(xs))]
		}
		return s / float64(len(xs))
	}
	diffs := make([]float64, samples)
	for i := range diffs {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return BootstrapCI{}, err
			}
		}
		diffs[i] = resampledMean(b) - resampledMean(a)
	}
	slices.Sort(diffs)
	alpha := (1 - level) / 2
	return BootstrapCI{
		Estimate: mean(b) - mean(a),
		Low:      percentile(diffs, alpha),
		High:     percentile(diffs, 1-alpha),
		Level:    level, Samples: samples,
	}, nil
}

// percentile interpolates linearly between the order statistics of sorted
// (NumPy's default "linear" method).
func percentile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}

// PowerConfig is the design of a two-group experiment: significance level
// Alpha (0 means 0.05, two-sided) and Power (0 means 0.8).
type PowerConfig struct {
	Alpha float64
	Power float64
}

func (c PowerConfig) z() (float64, float64, error) {
	alpha, power := c.Alpha, c.Power
	if alpha == 0 {
		alpha = 0.05
	}
	if power == 0 {
		power = 0.8
	}
	if alpha <= 0 || alpha >= 1 || power <= 0 || power >= 1 {
		return 0, 0, fmt.Errorf("power analysis: alpha %g and power %g must be between 0 and 1", alpha, power)
	}
	return normalQuantile(1 - alpha/2), normalQuantile(power), nil
}

// SampleSizeProportions is the number of users per group needed to detect
// a change of a conversion rate from p1 to p2 with a two-sided
// two-proportion z-test (normal approximation, pooled variance under the
// null hypothesis):
//
//	n = (z₁₋α/₂·√(2p̄(1−p̄)) + z₁₋β·√(p1(1−p1) + p2(1−p2)))² / (p2 − p1)²
//
// rounded up.
func SampleSizeProportions(p1, p2 float64, cfg PowerConfig) (int, error) {
	if p1 <= 0 || p1 >= 1 || p2 <= 0 || p2 >= 1 || p1 == p2 {
		return 0, fmt.Errorf("sample size: rates %g and %g must differ and lie strictly between 0 and 1", p1, p2)
	}
	za, zb, err := cfg.z()
	if err != nil {
		return 0, err
	}
	return int(math.Ceil(proportionsN(p1, p2, za, zb))), nil
}

func proportionsN(p1, p2, za, zb float64) float64 {
	pbar := (p1 + p2) / 2
	num := za*math.Sqrt(2*pbar*(1-pbar)) + zb*math.Sqrt(p1*(1-p1)+p2*(1-p2))
	return num * num / ((p2 - p1) * (p2 - p1))
}

// SampleSizeMeans is the number of observations per group needed to detect
// a difference delta between means with standard deviation sd (two-sided
// z approximation): n = 2·sd²·(z₁₋α/₂ + z₁₋β)² / delta², rounded up.
func SampleSizeMeans(delta, sd float64, cfg PowerConfig) (int, error) {
	if delta == 0 || sd <= 0 {
		return 0, fmt.Errorf("sample size: need a nonzero difference and a positive standard deviation, got %g and %g", delta, sd)
	}
	za, zb, err := cfg.z()
	if err != nil {
		return 0, err
	}
	return int(math.Ceil(2 * sd * sd * (za + zb) * (za + zb) / (delta * delta))), nil
}

// MDEMeans is the minimum detectable difference between means with n
// observations per group: (z₁₋α/₂ + z₁₋β)·sd·√(2/n).
func MDEMeans(n int, sd float64, cfg PowerConfig) (float64, error) {
	if n <= 0 || sd <= 0 {
		return 0, fmt.Errorf("minimum detectable effect: need n > 0 and sd > 0, got %d and %g", n, sd)
	}
	za, zb, err := cfg.z()
	if err != nil {
		return 0, err
	}
	return (za + zb) * sd * math.Sqrt(2/float64(n)), nil
}

// MDEProportions is the smallest increase of a baseline conversion rate p1
// that n users per group detect (the inverse of SampleSizeProportions,
// solved by bisection), as an absolute difference p2 − p1.
func MDEProportions(p1 float64, n int, cfg PowerConfig) (float64, error) {
	if p1 <= 0 || p1 >= 1 || n <= 0 {
		return 0, fmt.Errorf("minimum detectable effect: need 0 < p1 < 1 and n > 0, got %g and %d", p1, n)
	}
	za, zb, err := cfg.z()
	if err != nil {
		return 0, err
	}
	lo, hi := 0.0, 1-p1
	if proportionsN(p1, p1+hi*(1-1e-12), za, zb) > float64(n) {
		return 0, fmt.Errorf("minimum detectable effect: %d users per group cannot detect any increase from %g", n, p1)
	}
	for i := 0; i < 200; i++ {
		mid := (lo + hi) / 2
		if mid == 0 || proportionsN(p1, p1+mid, za, zb) > float64(n) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}
