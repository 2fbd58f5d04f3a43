package llm

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode"
)

// Signals are the evidence that an answer is right, each optional.
type Signals struct {
	// Logprobs are the answer's tokens with their log-probabilities (and,
	// for the entropy, the top alternatives at each position).
	Logprobs []Logprob
	// Samples are N answers sampled for the same request, for
	// self-consistency (see SelfConsistency).
	Samples []string
	// Retrieval holds the scores of the top retrieved passages, each
	// normalised to [0, 1] by the caller (a cosine similarity, a reranker's
	// probability); values outside are clamped. The support is the best.
	Retrieval []float64
}

// Feature names one measured signal.
type Feature int

// The features, in the order of Features and Calibration.Weights.
const (
	FeatureMeanLogprob Feature = iota // mean token log-probability (nats, ≤ 0)
	FeatureMinLogprob                 // lowest token log-probability (nats, ≤ 0)
	FeatureEntropy                    // mean entropy of the top alternatives (nats, ≥ 0)
	FeatureAgreement                  // self-consistency: share of samples agreeing with the majority, [0, 1]
	FeatureRetrieval                  // best retrieval score, [0, 1]
	NumFeatures
)

var featureNames = [NumFeatures]string{"mean_logprob", "min_logprob", "entropy", "agreement", "retrieval"}

func (f Feature) String() string {
	if f >= 0 && f < NumFeatures {
		return featureNames[f]
	}
	return fmt.Sprintf("Feature(%d)", int(f))
}

// Features are the measured values of the signals; NaN marks a missing one.
type Features [NumFeatures]float64

// logprobFloor bounds the log-probability features, so one near-impossible
// token cannot dominate a score: e^−20 is as unlikely as anything gets.
const logprobFloor = -20

// Features measures the signals that are present.
func (s Signals) Features() Features {
	var f Features
	for i := range f {
		f[i] = math.NaN()
	}
	if len(s.Logprobs) > 0 {
		f[FeatureMeanLogprob] = max(MeanLogprob(s.Logprobs), logprobFloor)
		f[FeatureMinLogprob] = max(MinLogprob(s.Logprobs), logprobFloor)
		if hasTop(s.Logprobs) {
			f[FeatureEntropy] = MeanEntropy(s.Logprobs)
		}
	}
	if len(s.Samples) > 0 {
		f[FeatureAgreement] = Agreement(s.Samples)
	}
	if len(s.Retrieval) > 0 {
		f[FeatureRetrieval] = RetrievalSupport(s.Retrieval)
	}
	return f
}

// MeanLogprob is the mean log-probability of the tokens (0 for none): the
// log of the geometric-mean token probability.
func MeanLogprob(lps []Logprob) float64 {
	if len(lps) == 0 {
		return 0
	}
	var sum float64
	for _, lp := range lps {
		sum += lp.Logprob
	}
	return sum / float64(len(lps))
}

// MinLogprob is the lowest log-probability of the tokens (0 for none): the
// weakest link of the answer.
func MinLogprob(lps []Logprob) float64 {
	if len(lps) == 0 {
		return 0
	}
	m := lps[0].Logprob
	for _, lp := range lps[1:] {
		m = min(m, lp.Logprob)
	}
	return m
}

// MeanEntropy is the mean, over positions that have top alternatives, of
// the entropy in nats of the alternatives' distribution renormalised to sum
// to 1 (0 when no position has any).
//
// It approximates the entropy of the full next-token distribution from its
// k most likely tokens: the tail's mass is dropped and the rest scaled up.
// That underestimates the true entropy (at most ln k for k alternatives)
// when the tail is heavy, and is close when the top k hold most of the
// mass — the positions that matter for confidence. Ask for the same k
// (Request.TopLogprobs) when comparing scores.
func MeanEntropy(lps []Logprob) float64 {
	var sum float64
	n := 0
	for _, lp := range lps {
		if len(lp.Top) == 0 {
			continue
		}
		sum += topEntropy(lp.Top)
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// topEntropy is −Σ p ln p of the alternatives' probabilities renormalised.
func topEntropy(top []TokenLogprob) float64 {
	m := math.Inf(-1)
	for _, t := range top {
		m = max(m, t.Logprob)
	}
	if math.IsInf(m, -1) {
		return 0
	}
	var z float64
	for _, t := range top {
		z += math.Exp(t.Logprob - m)
	}
	var h float64
	for _, t := range top {
		p := math.Exp(t.Logprob-m) / z
		if p > 0 {
			h -= p * math.Log(p)
		}
	}
	return h
}

func hasTop(lps []Logprob) bool {
	for _, lp := range lps {
		if len(lp.Top) > 0 {
			return true
		}
	}
	return false
}

// RetrievalSupport is the best of the scores, clamped to [0, 1] (0 for
// none).
func RetrievalSupport(scores []float64) float64 {
	best := 0.0
	for _, s := range scores {
		if !math.IsNaN(s) {
			best = max(best, s)
		}
	}
	return min(best, 1)
}

// Answers agree when their normalised texts are equal or, when both are
// long (more than ShortAnswerTokens tokens), when the Jaccard overlap of
// their token sets is at least LongAnswerOverlap.
const (
	ShortAnswerTokens = 4
	LongAnswerOverlap = 0.5
)

// Agreement is the self-consistency of sampled answers: the share of them
// that agree with the majority answer (see Majority); 0 for none.
func Agreement(samples []string) float64 {
	_, share := Majority(samples)
	return share
}

// Majority returns the index of the sample that the most samples agree
// with (itself included; the first on a tie) and the share that do; −1
// and 0 for no samples.
//
// Texts are normalised first: lowercased, punctuation and symbols dropped,
// whitespace collapsed, so "Paris." and "paris" agree. Tokens are words,
// except that each Han, Hiragana, Katakana and Hangul character is a token
// of its own, since those scripts do not separate words. Two short answers
// agree only when equal after normalisation ("Paris" and "the capital is
// Paris" do not); two long ones when their token sets overlap enough, since
// free-form sampled answers rarely match word for word.
func Majority(samples []string) (index int, share float64) {
	if len(samples) == 0 {
		return -1, 0
	}
	norm := make([]answerTokens, len(samples))
	for i, s := range samples {
		norm[i] = answerTokensOf(s)
	}
	best, bestCount := 0, 0
	for i := range norm {
		count := 0
		for j := range norm {
			if norm[i].agrees(norm[j]) {
				count++
			}
		}
		if count > bestCount {
			best, bestCount = i, count
		}
	}
	return best, float64(bestCount) / float64(len(samples))
}

// answerTokens is a normalised answer: its text and its set of tokens.
type answerTokens struct {
	text   string
	tokens []string
	set    map[string]bool
}

func answerTokensOf(s string) answerTokens {
	var toks []string
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			toks = append(toks, word.String())
			word.Reset()
		}
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r) || unicode.IsControl(r):
			flush()
		case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul):
			flush()
			toks = append(toks, string(r))
		default:
			word.WriteRune(r)
		}
	}
	flush()
	a := answerTokens{text: strings.Join(toks, " "), tokens: toks, set: map[string]bool{}}
	for _, t := range toks {
		a.set[t] = true
	}
	return a
}

func (a answerTokens) agrees(b answerTokens) bool {
	if a.text == b.text {
		return true
	}
	if len(a.tokens) <= ShortAnswerTokens || len(b.tokens) <= ShortAnswerTokens {
		return false
	}
	inter := 0
	for t := range a.set {
		if b.set[t] {
			inter++
		}
	}
	union := len(a.set) + len(b.set) - inter
	return float64(inter) >= LongAnswerOverlap*float64(union)
}

// Calibration turns signals into one score in [0, 1], the estimated
// probability that the answer is right: a logistic combination
//
//	score = σ(Bias + Σ_i Weights[i]·(x_i − Centers[i]))
//
// over the features x_i that are present. A missing feature drops out of
// the sum, which is the same as measuring it at its center — the typical
// value — so it moves the score neither way (it does not count as 0).
// Fit estimates Weights, Bias and Centers from labelled answers.
type Calibration struct {
	Bias    float64
	Weights [NumFeatures]float64
	Centers [NumFeatures]float64
	// Low and High cut the score into levels: below Low an answer is
	// unreliable (abstain, or escalate in a cascade), from High on it is
	// reliable; between, use it with care.
	Low, High float64
}

// DefaultCalibration is a hand-set prior for when there is no labelled set
// to fit on; Fit replaces it with weights measured on your own answers.
//
// Centers are typical values of a small instruction model's correct-or-not
// boundary: mean log-probability −1 nat (geometric-mean token probability
// ≈ 0.37), weakest token −4 nats (≈ 0.02), entropy 1 nat, 60 % agreement,
// retrieval score 0.5. Weights make each signal able to move the score
// from 0.5 to about 0.8 over its usual range: +1.5 per nat of mean
// log-probability, +0.3 per nat of the weakest token, −1.5 per nat of
// entropy, +4 per unit of agreement, +3 per unit of retrieval score.
// Agreement weighs most: of these, self-consistency is the best-known
// predictor of correctness. Low 0.4 and High 0.7.
func DefaultCalibration() Calibration {
	return Calibration{
		Weights: [NumFeatures]float64{FeatureMeanLogprob: 1.5, FeatureMinLogprob: 0.3, FeatureEntropy: -1.5, FeatureAgreement: 4, FeatureRetrieval: 3},
		Centers: [NumFeatures]float64{FeatureMeanLogprob: -1, FeatureMinLogprob: -4, FeatureEntropy: 1, FeatureAgreement: 0.6, FeatureRetrieval: 0.5},
		Low:     0.4,
		High:    0.7,
	}
}

// Score is the calibrated confidence of the signals, in [0, 1]; with no
// signal at all it is σ(Bias).
func (c Calibration) Score(s Signals) float64 { return c.ScoreFeatures(s.Features()) }

// ScoreFeatures is Score of measured features (NaN: missing).
func (c Calibration) ScoreFeatures(f Features) float64 {
	z := c.Bias
	for i, x := range f {
		if !math.IsNaN(x) {
			z += c.Weights[i] * (x - c.Centers[i])
		}
	}
	return logistic(z)
}

// Levels of a score.
const (
	ConfidenceLow    = "low"
	ConfidenceMedium = "medium"
	ConfidenceHigh   = "high"
)

// Level names the band of score: ConfidenceLow below Low, ConfidenceHigh
// from High on, ConfidenceMedium between.
func (c Calibration) Level(score float64) string {
	switch {
	case score < c.Low:
		return ConfidenceLow
	case score >= c.High:
		return ConfidenceHigh
	}
	return ConfidenceMedium
}

func logistic(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Labeled is an answer's signals and whether the answer was right.
type Labeled struct {
	Signals Signals
	Correct bool
}

// Fitting penalties: an L2 penalty of fitRidge on the weights (as
// scikit-learn's default C = 1) keeps them finite on separable data, and a
// slight one on the bias keeps it finite when every answer has the same
// label.
const (
	fitRidge     = 1.0
	fitBiasRidge = 1e-3
	fitMaxIter   = 100
)

// Fit estimates a calibration from labelled answers by L2-penalised
// logistic regression, solved by Newton's method (IRLS): deterministic,
// and exact to rounding after a handful of iterations. Each feature's
// center is its mean over the answers that have it; a feature no answer
// has keeps weight 0. The thresholds are DefaultCalibration's.
func Fit(examples []Labeled) Calibration {
	c := DefaultCalibration()
	c.Weights = [NumFeatures]float64{}
	feats := make([]Features, len(examples))
	var count [NumFeatures]int
	var sum [NumFeatures]float64
	for i, e := range examples {
		feats[i] = e.Signals.Features()
		for j, x := range feats[i] {
			if !math.IsNaN(x) {
				sum[j] += x
				count[j]++
			}
		}
	}
	for j := range c.Centers {
		c.Centers[j] = 0
		if count[j] > 0 {
			c.Centers[j] = sum[j] / float64(count[j])
		}
	}
	// design matrix: a 1 for the bias, then the centered features (0 where
	// missing)
	const p = int(NumFeatures) + 1
	X := make([][p]float64, len(examples))
	y := make([]float64, len(examples))
	for i, f := range feats {
		X[i][0] = 1
		for j, x := range f {
			if !math.IsNaN(x) {
				X[i][j+1] = x - c.Centers[j]
			}
		}
		if examples[i].Correct {
			y[i] = 1
		}
	}
	beta := irls(X, y, fitMaxIter)
	c.Bias = beta[0]
	copy(c.Weights[:], beta[1:])
	return c
}

// irls maximises Σ log-likelihood − ½·λ‖β‖² of a logistic model by Newton
// steps, λ = fitBiasRidge for β[0] and fitRidge for the rest.
func irls(X [][NumFeatures + 1]float64, y []float64, iters int) [NumFeatures + 1]float64 {
	const p = int(NumFeatures) + 1
	var beta [p]float64
	for range iters {
		var grad [p]float64
		var hess [p][p]float64
		for i, x := range X {
			var z float64
			for j := range x {
				z += beta[j] * x[j]
			}
			mu := logistic(z)
			w := mu * (1 - mu)
			for j := range x {
				grad[j] += (y[i] - mu) * x[j]
				for k := range x {
					hess[j][k] += w * x[j] * x[k]
				}
			}
		}
		for j := range beta {
			lambda := fitRidge
			if j == 0 {
				lambda = fitBiasRidge
			}
			grad[j] -= lambda * beta[j]
			hess[j][j] += lambda
		}
		step := solveSPD(hess, grad)
		var change float64
		for j := range beta {
			beta[j] += step[j]
			change = max(change, math.Abs(step[j]))
		}
		if change < 1e-10 {
			break
		}
	}
	return beta
}

// solveSPD solves A·x = b for a symmetric positive-definite A by Cholesky
// factorisation.
func solveSPD(A [NumFeatures + 1][NumFeatures + 1]float64, b [NumFeatures + 1]float64) [NumFeatures + 1]float64 {
	const n = int(NumFeatures) + 1
	var L [n][n]float64
	for i := range n {
		for j := 0; j <= i; j++ {
			s := A[i][j]
			for k := range j {
				s -= L[i][k] * L[j][k]
			}
			if i == j {
				L[i][i] = math.Sqrt(max(s, 1e-300))
			} else {
				L[i][j] = s / L[j][j]
			}
		}
	}
	var x [n]float64
	for i := range n { // L·z = b
		s := b[i]
		for k := range i {
			s -= L[i][k] * x[k]
		}
		x[i] = s / L[i][i]
	}
	for i := n - 1; i >= 0; i-- { // Lᵀ·x = z
		s := x[i]
		for k := i + 1; k < n; k++ {
			s -= L[k][i] * x[k]
		}
		x[i] = s / L[i][i]
	}
	return x
}

// DefaultSampleTemperature is SelfConsistency's temperature when the
// request decodes greedily (samples of a greedy decoder are all the same).
const DefaultSampleTemperature = 0.7

// SelfConsistency samples n answers to req from m, concurrently, with
// distinct seeds (req.Seed+i, or 1+i when req.Seed is 0) at req's
// temperature, or DefaultSampleTemperature when req is greedy. Log
// probabilities are not asked for. The answers are in seed order; the
// first error (by index) is returned.
func SelfConsistency(ctx context.Context, m Model, req Request, n int) ([]string, error) {
	if req.Temperature <= 0 {
		req.Temperature = DefaultSampleTemperature
	}
	req.Logprobs, req.TopLogprobs = false, 0
	base := req.Seed
	if base == 0 {
		base = 1
	}
	out := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		r := req
		r.Seed = base + uint64(i)
		wg.Go(func() {
			resp, err := m.Chat(ctx, r, nil)
			if err != nil {
				errs[i] = fmt.Errorf("self-consistency sample %d of %d: %w", i+1, n, err)
				return
			}
			out[i] = resp.Text
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
