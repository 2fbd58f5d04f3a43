package llm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
)

func lps(values ...float64) []Logprob {
	out := make([]Logprob, len(values))
	for i, v := range values {
		out[i].Logprob = v
	}
	return out
}

// withTop is a position whose alternatives have probabilities ps.
func withTop(ps ...float64) Logprob {
	lp := Logprob{TokenLogprob: TokenLogprob{Logprob: math.Log(ps[0])}}
	for i, p := range ps {
		lp.Top = append(lp.Top, TokenLogprob{Token: fmt.Sprint(i), Logprob: math.Log(p)})
	}
	return lp
}

const ln2 = 0.6931471805599453

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

func TestLogprobSignals(t *testing.T) {
	for _, tc := range []struct {
		name            string
		lps             []Logprob
		mean, min, entr float64
	}{
		{"none", nil, 0, 0, 0},
		{"one", lps(-0.5), -0.5, -0.5, 0},
		{"three", lps(-1, -2, -3), -2, -3, 0},
		{"fair coin", []Logprob{withTop(0.5, 0.5)}, -ln2, -ln2, ln2},
		{"renormalised", []Logprob{withTop(0.25, 0.25)}, math.Log(0.25), math.Log(0.25), ln2},
		{"three alternatives", []Logprob{withTop(0.5, 0.25, 0.25)}, -ln2, -ln2, 1.5 * ln2},
		{"certain", []Logprob{withTop(1)}, 0, 0, 0},
		// positions without alternatives do not count for the entropy
		{"mixed", []Logprob{withTop(0.5, 0.5), {TokenLogprob: TokenLogprob{Logprob: -1}}, withTop(1)}, (-ln2 - 1) / 3, -1, ln2 / 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MeanLogprob(tc.lps); !near(got, tc.mean) {
				t.Errorf("MeanLogprob = %.15g, want %.15g", got, tc.mean)
			}
			if got := MinLogprob(tc.lps); !near(got, tc.min) {
				t.Errorf("MinLogprob = %.15g, want %.15g", got, tc.min)
			}
			if got := MeanEntropy(tc.lps); !near(got, tc.entr) {
				t.Errorf("MeanEntropy = %.15g, want %.15g", got, tc.entr)
			}
		})
	}
}

func TestAgreement(t *testing.T) {
	for _, tc := range []struct {
		name    string
		samples []string
		index   int
		share   float64
	}{
		{"none", nil, -1, 0},
		{"one", []string{"x"}, 0, 1},
		{"normalised", []string{"Paris", "paris.", "  PARIS! ", "London"}, 0, 0.75},
		{"all differ", []string{"Paris", "London", "Rome"}, 0, 1.0 / 3},
		{"majority later", []string{"London", "Paris", "paris"}, 1, 2.0 / 3},
		{"short answers must be equal", []string{"the capital is Paris", "Paris"}, 0, 0.5},
		// token sets {the quick brown fox jumps over lazy dog} and {a quick
		// brown fox jumped over the lazy dog}: 7 shared of 10, ≥ 0.5
		{"long answers overlap", []string{
			"The quick brown fox jumps over the lazy dog.",
			"A quick brown fox jumped over the lazy dog",
			"Completely different words appear here instead",
		}, 0, 2.0 / 3},
		// 5 characters each, the same set
		{"CJK characters are tokens", []string{"上海", "北京是首都", "首都是北京。"}, 1, 2.0 / 3},
		{"long and short", []string{"one two three four five", "one two three four"}, 0, 0.5},
		{"two long", []string{"one two three four five six", "one two three four five"}, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, share := Majority(tc.samples)
			if i != tc.index || !near(share, tc.share) {
				t.Errorf("Majority = %d, %.15g; want %d, %.15g", i, share, tc.index, tc.share)
			}
			if got := Agreement(tc.samples); !near(got, tc.share) {
				t.Errorf("Agreement = %.15g, want %.15g", got, tc.share)
			}
		})
	}
}

func TestRetrievalSupport(t *testing.T) {
	for _, tc := range []struct {
		scores []float64
		want   float64
	}{
		{nil, 0}, {[]float64{0.2, 0.9, 0.5}, 0.9}, {[]float64{1.4}, 1}, {[]float64{-0.3}, 0}, {[]float64{math.NaN(), 0.3}, 0.3},
	} {
		if got := RetrievalSupport(tc.scores); got != tc.want {
			t.Errorf("RetrievalSupport(%v) = %g, want %g", tc.scores, got, tc.want)
		}
	}
}

func TestScore(t *testing.T) {
	const sigma1 = 0.7310585786300049 // σ(1)
	one := func(f Feature, w, center float64) Calibration {
		var c Calibration
		c.Weights[f], c.Centers[f] = w, center
		return c
	}
	for _, tc := range []struct {
		name string
		c    Calibration
		s    Signals
		want float64
	}{
		{"no signals", one(FeatureAgreement, 2, 0.5), Signals{}, 0.5},
		{"no signals, bias", Calibration{Bias: 1}, Signals{}, sigma1},
		{"agreement", one(FeatureAgreement, 2, 0.5), Signals{Samples: []string{"a", "A."}}, sigma1},
		{"retrieval clamps", one(FeatureRetrieval, 2, 0.5), Signals{Retrieval: []float64{0.1, 1.5}}, sigma1},
		{"mean logprob", Calibration{Bias: 0.5, Weights: [NumFeatures]float64{FeatureMeanLogprob: 1}, Centers: [NumFeatures]float64{FeatureMeanLogprob: -1}},
			Signals{Logprobs: lps(-1, -2)}, 0.5},
		// no alternatives: the entropy drops out, however it is weighted
		{"missing entropy", Calibration{Weights: [NumFeatures]float64{FeatureEntropy: -3}, Centers: [NumFeatures]float64{FeatureEntropy: 1}},
			Signals{Logprobs: lps(-1)}, 0.5},
		{"entropy", Calibration{Weights: [NumFeatures]float64{FeatureEntropy: -1}, Centers: [NumFeatures]float64{FeatureEntropy: ln2 + 1}},
			Signals{Logprobs: []Logprob{withTop(0.5, 0.5)}}, sigma1},
		// log-probabilities are floored at −20
		{"floor", one(FeatureMinLogprob, 0.1, -10), Signals{Logprobs: lps(-100)}, 1 - sigma1},
		{"default at the centers", DefaultCalibration(), Signals{Samples: []string{"a", "a", "a", "b", "c"}, Retrieval: []float64{0.5}}, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Score(tc.s); !near(got, tc.want) {
				t.Errorf("Score = %.15g, want %.15g", got, tc.want)
			}
		})
	}
}

func TestLevel(t *testing.T) {
	c := DefaultCalibration()
	for _, tc := range []struct {
		score float64
		want  string
	}{{0, ConfidenceLow}, {0.39, ConfidenceLow}, {0.4, ConfidenceMedium}, {0.69, ConfidenceMedium}, {0.7, ConfidenceHigh}, {1, ConfidenceHigh}} {
		if got := c.Level(tc.score); got != tc.want {
			t.Errorf("Level(%g) = %s, want %s", tc.score, got, tc.want)
		}
	}
}

// The default score rises with every signal but the entropy, which it
// falls with, from any starting point, and stays in [0, 1].
func TestScoreMonotone(t *testing.T) {
	c := DefaultCalibration()
	ranges := [NumFeatures][2]float64{
		FeatureMeanLogprob: {-20, 0}, FeatureMinLogprob: {-20, 0}, FeatureEntropy: {0, 3},
		FeatureAgreement: {0, 1}, FeatureRetrieval: {0, 1},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		var base Features
		for i, rg := range ranges {
			base[i] = rg[0] + r.Float64()*(rg[1]-rg[0])
			if trial%5 == 0 && i == trial/5%int(NumFeatures) {
				base[i] = math.NaN() // a missing signal among the others
			}
		}
		for f, rg := range ranges {
			if math.IsNaN(base[f]) {
				continue
			}
			prev := math.NaN()
			for k := 0; k <= 20; k++ {
				x := base
				x[f] = rg[0] + float64(k)/20*(rg[1]-rg[0])
				s := c.ScoreFeatures(x)
				if s < 0 || s > 1 {
					t.Fatalf("score %g out of [0, 1]", s)
				}
				rising := Feature(f) != FeatureEntropy
				if !math.IsNaN(prev) && (rising && s <= prev || !rising && s >= prev) {
					t.Fatalf("%v = %g: score %g after %g, want it to %s", Feature(f), x[f], s, prev, map[bool]string{true: "rise", false: "fall"}[rising])
				}
				prev = s
			}
		}
	}
	// through Signals: surer tokens, more agreement, better passages
	lo := Signals{Logprobs: lps(-2, -3), Samples: []string{"a", "b", "c"}, Retrieval: []float64{0.2}}
	hi := Signals{Logprobs: lps(-0.5, -1), Samples: []string{"a", "a", "c"}, Retrieval: []float64{0.8}}
	if c.Score(lo) >= c.Score(hi) {
		t.Errorf("Score(weaker signals) %g ≥ Score(stronger) %g", c.Score(lo), c.Score(hi))
	}
}

// samplesAgreeing is n samples of which k agree.
func samplesAgreeing(k, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "same"
		if i >= k {
			out[i] = fmt.Sprint("other", i)
		}
	}
	return out
}

// separable is labelled answers whose signals separate right from wrong;
// some lack the retrieval signal.
func separable(n int, seed uint64) []Labeled {
	r := rand.New(rand.NewPCG(seed, 3))
	out := make([]Labeled, n)
	for i := range out {
		ok := i%2 == 0
		var mean, ret float64
		var agree int
		if ok {
			mean, ret, agree = -1+0.8*r.Float64(), 0.5+0.5*r.Float64(), 3+r.IntN(3)
		} else {
			mean, ret, agree = -3+1.8*r.Float64(), 0.6*r.Float64(), 1+r.IntN(2)
		}
		s := Signals{Logprobs: lps(mean+0.3, mean-0.3), Samples: samplesAgreeing(agree, 5)}
		if r.IntN(5) > 0 {
			s.Retrieval = []float64{ret}
		}
		out[i] = Labeled{Signals: s, Correct: ok}
	}
	return out
}

// auc is the probability that a random right answer scores above a random
// wrong one.
func auc(c Calibration, ex []Labeled) float64 {
	var pos, neg []float64
	for _, e := range ex {
		if e.Correct {
			pos = append(pos, c.Score(e.Signals))
		} else {
			neg = append(neg, c.Score(e.Signals))
		}
	}
	sort.Float64s(neg)
	var wins float64
	for _, p := range pos {
		below := sort.SearchFloat64s(neg, p)
		wins += float64(below)
		if below < len(neg) && neg[below] == p {
			wins += 0.5
		}
	}
	return wins / float64(len(pos)*len(neg))
}

func TestFitSeparable(t *testing.T) {
	train, test := separable(200, 1), separable(200, 2)
	c := Fit(train)
	if again := Fit(train); again != c {
		t.Errorf("Fit is not deterministic: %+v then %+v", c, again)
	}
	for _, f := range []Feature{FeatureMeanLogprob, FeatureMinLogprob, FeatureAgreement, FeatureRetrieval} {
		if c.Weights[f] <= 0 {
			t.Errorf("weight of %v = %g, want > 0", f, c.Weights[f])
		}
	}
	if c.Weights[FeatureEntropy] != 0 {
		t.Errorf("entropy, never measured, has weight %g", c.Weights[FeatureEntropy])
	}
	right := 0
	for _, e := range test {
		if (c.Score(e.Signals) >= 0.5) == e.Correct {
			right++
		}
	}
	if acc := float64(right) / float64(len(test)); acc < 0.97 {
		t.Errorf("accuracy on held-out answers %.3f, want ≥ 0.97", acc)
	}
	if a := auc(c, test); a < 0.99 {
		t.Errorf("AUC on held-out answers %.4f, want ≥ 0.99", a)
	}
	if a := auc(DefaultCalibration(), test); a < 0.9 {
		t.Errorf("the default calibration's AUC %.4f, want ≥ 0.9", a)
	}
}

// On data drawn from a known logistic model Fit recovers its parameters.
func TestFitRecovers(t *testing.T) {
	const w, b = 4.0, 0.5 // P(right) = σ(b + w·(x − 0.5))
	r := rand.New(rand.NewPCG(7, 7))
	ex := make([]Labeled, 4000)
	for i := range ex {
		x := r.Float64()
		ex[i] = Labeled{Signals: Signals{Retrieval: []float64{x}}, Correct: r.Float64() < logistic(b+w*(x-0.5))}
	}
	c := Fit(ex)
	if math.Abs(c.Weights[FeatureRetrieval]-w) > 0.4 || math.Abs(c.Bias-b) > 0.15 || math.Abs(c.Centers[FeatureRetrieval]-0.5) > 0.02 {
		t.Errorf("fitted weight %.3f, bias %.3f, center %.3f; want about %g, %g, 0.5", c.Weights[FeatureRetrieval], c.Bias, c.Centers[FeatureRetrieval], w, b)
	}
}

func TestFitDegenerate(t *testing.T) {
	if s := Fit(nil).Score(Signals{Samples: []string{"a"}}); s != 0.5 {
		t.Errorf("Fit(nil) scores %g, want 0.5", s)
	}
	allRight := make([]Labeled, 10)
	for i := range allRight {
		allRight[i] = Labeled{Signals: Signals{Samples: []string{"a"}}, Correct: true}
	}
	if s := Fit(allRight).Score(Signals{}); !(s > 0.9 && s <= 1) {
		t.Errorf("fitted on right answers only, an answer scores %g, want in (0.9, 1]", s)
	}
}

// SelfConsistency samples with seeds 1..n at the default temperature, and
// returns the first error.
func TestSelfConsistency(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	fake := Func(func(_ context.Context, req Request, _ func(string) error) (*Response, error) {
		if req.Seed == 13 {
			return nil, errors.New("boom")
		}
		s := fmt.Sprintf("seed %d at %g, logprobs %v", req.Seed, req.Temperature, req.Logprobs)
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
		return &Response{Text: s}, nil
	})
	got, err := SelfConsistency(context.Background(), fake, Request{Messages: ask("?"), Logprobs: true}, 3)
	want := []string{"seed 1 at 0.7, logprobs false", "seed 2 at 0.7, logprobs false", "seed 3 at 0.7, logprobs false"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("SelfConsistency = %q, %v; want %q", got, err, want)
	}
	got, _ = SelfConsistency(context.Background(), fake, Request{Temperature: 1.2, Seed: 10}, 2)
	if want := []string{"seed 10 at 1.2, logprobs false", "seed 11 at 1.2, logprobs false"}; !slices.Equal(got, want) {
		t.Errorf("SelfConsistency = %q, want %q", got, want)
	}
	if _, err := SelfConsistency(context.Background(), fake, Request{Seed: 10}, 5); err == nil || err.Error() != "self-consistency sample 4 of 5: boom" {
		t.Errorf("error %v, want sample 4's", err)
	}
}

// With the local engine, the samples are the completions of those seeds.
func TestSelfConsistencyLocal(t *testing.T) {
	l := newStories(t, LocalConfig{Slots: 2})
	req := Request{Messages: ask("Once upon a time"), MaxTokens: 12}
	got, err := SelfConsistency(context.Background(), l, req, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range got {
		r := req
		r.Temperature, r.Seed = DefaultSampleTemperature, uint64(i+1)
		if want := direct(t, l, "", r).Text; s != want {
			t.Errorf("sample %d: %q, want %q", i, s, want)
		}
	}
	if got[0] == got[1] && got[1] == got[2] {
		t.Errorf("three samples are the same: %q", got[0])
	}
}
