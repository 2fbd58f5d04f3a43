package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ReportSchema names the layout of report.json; it changes when a field
// changes meaning or goes away (new fields may be added).
const ReportSchema = "flywheel.eval.report/1"

// Report is report.json: every variant's scores with 95% bootstrap
// confidence intervals, and each variant compared with the baseline.
//
// Scales are each metric's reference implementation's: BLEU, chrF and TER
// 0–100 (TER lower is better); SQuAD and CMRC EM/F1 0–100; ROUGE F-measure,
// METEOR, retrieval and RAG metrics 0–1; judge_rubric 1–5 (the mean over
// criteria; judge_rubric.NAME per criterion).
type Report struct {
	Schema    string          `json:"schema"`
	Created   time.Time       `json:"created"`
	Config    Config          `json:"config"`
	Examples  int             `json:"examples"`
	Baseline  string          `json:"baseline"`
	Bootstrap BootstrapInfo   `json:"bootstrap"`
	Variants  []VariantReport `json:"variants"`
	// Comparisons holds one entry per variant other than the baseline.
	Comparisons []Comparison `json:"comparisons"`
}

// BootstrapInfo says how the intervals were estimated.
type BootstrapInfo struct {
	Samples int     `json:"samples"`
	Seed    uint64  `json:"seed"`
	Level   float64 `json:"level"`
}

// VariantReport is one variant's results.
type VariantReport struct {
	Name     string  `json:"name"`
	Settings Variant `json:"settings"`
	// Answered examples, and Failed ones (the runner's error; scored as an
	// empty answer by reference metrics, not judged).
	Answered int           `json:"answered"`
	Failed   int           `json:"failed"`
	Usage    UsageTotals   `json:"usage"`
	Metrics  []MetricScore `json:"metrics"`
}

// UsageTotals sums the answers' usage.
type UsageTotals struct {
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	Cost             float64 `json:"cost"`
	MeanLatencyMS    float64 `json:"mean_latency_ms"`
}

// MetricScore is a metric's score on a variant: the corpus score (for
// BLEU, chrF, TER) or the mean over examples, with the percentile
// bootstrap interval [Low, High]. N examples were scored; Errors were not
// (no reference, a failed answer, an unreadable or undefined judgment),
// with up to three of their messages.
type MetricScore struct {
	Metric         string   `json:"metric"`
	Score          float64  `json:"score"`
	Low            float64  `json:"ci_low"`
	High           float64  `json:"ci_high"`
	N              int      `json:"n"`
	Errors         int      `json:"errors"`
	ErrorSamples   []string `json:"error_samples,omitempty"`
	HigherIsBetter bool     `json:"higher_is_better"`
}

// Comparison is a variant against the baseline.
type Comparison struct {
	Variant  string        `json:"variant"`
	Baseline string        `json:"baseline"`
	Metrics  []MetricDelta `json:"metrics"`
	// Pairwise is judge_pairwise's verdicts, the variant as A.
	Pairwise *PairwiseSummary `json:"pairwise,omitempty"`
}

// MetricDelta is a paired comparison on the N examples both scored:
// Delta = System − Baseline with its percentile bootstrap interval, and
// the paired bootstrap p-value of the difference (as sacreBLEU's
// --paired-bs). Better says whether the variant is significantly better
// (p ≤ 0.05 in the metric's direction).
type MetricDelta struct {
	Metric   string  `json:"metric"`
	N        int     `json:"n"`
	Baseline float64 `json:"baseline"`
	System   float64 `json:"system"`
	Delta    float64 `json:"delta"`
	Low      float64 `json:"ci_low"`
	High     float64 `json:"ci_high"`
	PValue   float64 `json:"p_value"`
	Better   bool    `json:"significantly_better"`
	Worse    bool    `json:"significantly_worse"`
}

// scored is one metric's per-example statistics: rows[v][i] is nil when
// example i has no score for variant v, and errs[v] says why.
type scored struct {
	name   string
	metric Metric
	higher bool
	rows   map[string][][]float64
	errs   map[string][]string
}

// meanMetric averages a per-example value: rows are [value, 1].
type meanMetric struct{}

func (meanMetric) SegmentStats([]string, [][]string) ([][]float64, error) {
	return nil, errors.New("meanMetric has no text statistics")
}
func (meanMetric) StatsLen() int { return 2 }
func (meanMetric) Score(sum []float64) float64 {
	if sum[1] == 0 {
		return 0
	}
	return sum[0] / sum[1]
}

func buildReport(ctx context.Context, cfg Config, exs []Example, outs outputs, judged judgments) (*Report, error) {
	samples, seed := cfg.Bootstrap, cfg.Seed
	if samples == 0 {
		samples = 1000
	}
	if seed == 0 {
		seed = 12345
	}
	rep := &Report{Schema: ReportSchema, Created: time.Now().UTC().Truncate(time.Second), Config: cfg,
		Examples: len(exs), Baseline: cfg.Baseline, Bootstrap: BootstrapInfo{samples, seed, 0.95}}
	var all []scored
	for _, m := range cfg.Metrics {
		s, err := scoreMetric(cfg, m, exs, outs, judged)
		if err != nil {
			return nil, fmt.Errorf("eval run: %s: %w", m, err)
		}
		all = append(all, s...)
	}
	for _, v := range cfg.Variants {
		vr := VariantReport{Name: v.Name, Settings: v, Usage: usageTotals(outs[v.Name])}
		for _, r := range outs[v.Name] {
			if r.Error != "" {
				vr.Failed++
			} else {
				vr.Answered++
			}
		}
		for _, s := range all {
			ms, err := s.score(ctx, v.Name, samples, seed)
			if err != nil {
				return nil, err
			}
			vr.Metrics = append(vr.Metrics, ms)
		}
		rep.Variants = append(rep.Variants, vr)
	}
	for _, v := range cfg.Variants {
		if v.Name == cfg.Baseline {
			continue
		}
		c := Comparison{Variant: v.Name, Baseline: cfg.Baseline}
		for _, s := range all {
			d, err := s.compare(ctx, cfg.Baseline, v.Name, samples, seed)
			if err != nil {
				return nil, err
			}
			c.Metrics = append(c.Metrics, d)
		}
		if slices.Contains(cfg.Metrics, "judge_pairwise") {
			p := pairwiseSummary(judged["judge_pairwise"][v.Name], outs[v.Name], outs[cfg.Baseline])
			c.Pairwise = &p
		}
		rep.Comparisons = append(rep.Comparisons, c)
	}
	return rep, nil
}

func usageTotals(rs []*outputRecord) UsageTotals {
	var u UsageTotals
	n := 0
	for _, r := range rs {
		if r == nil || r.Error != "" {
			continue
		}
		u.PromptTokens += r.Output.Usage.PromptTokens
		u.CompletionTokens += r.Output.Usage.CompletionTokens
		u.Cost += r.Output.Usage.Cost
		u.MeanLatencyMS += r.Output.Usage.LatencyMS
		n++
	}
	if n > 0 {
		u.MeanLatencyMS /= float64(n)
	}
	return u
}

func pairwiseSummary(rs []*judgmentRecord, sys, base []*outputRecord) PairwiseSummary {
	var verdicts []PairwiseVerdict
	errs := 0
	for i := range sys {
		var r *judgmentRecord
		if rs != nil {
			r = rs[i]
		}
		var v PairwiseVerdict
		if r == nil || r.Error != "" || json.Unmarshal(r.Result, &v) != nil {
			errs++
			continue
		}
		verdicts = append(verdicts, v)
	}
	return SummarizePairwise(verdicts, errs)
}

// score is the metric's score on variant v with its bootstrap interval.
func (s scored) score(ctx context.Context, v string, samples int, seed uint64) (MetricScore, error) {
	rows := present(s.rows[v])
	ms := MetricScore{Metric: s.name, N: len(rows), Errors: len(s.errs[v]), HigherIsBetter: s.higher}
	ms.ErrorSamples = s.errs[v][:min(3, len(s.errs[v]))]
	if len(rows) == 0 {
		return ms, nil
	}
	ms.Score = s.metric.Score(sumStats(rows, s.metric.StatsLen()))
	scores, err := resampledScores(ctx, s.metric, [][][]float64{rows}, samples, newRand(seed), nil)
	if err != nil {
		return MetricScore{}, err
	}
	slices.Sort(scores[0])
	ms.Low, ms.High = percentile(scores[0], 0.025), percentile(scores[0], 0.975)
	return ms, nil
}

// compare is the paired bootstrap of variant v against the baseline on the
// examples both scored.
func (s scored) compare(ctx context.Context, baseline, v string, samples int, seed uint64) (MetricDelta, error) {
	var bl, sys [][]float64
	for i, b := range s.rows[baseline] {
		if b != nil && s.rows[v][i] != nil {
			bl, sys = append(bl, b), append(sys, s.rows[v][i])
		}
	}
	d := MetricDelta{Metric: s.name, N: len(bl)}
	if len(bl) == 0 {
		return d, nil
	}
	res, err := PairedBootstrap(ctx, s.metric, bl, sys, PairedConfig{Samples: samples, Seed: seed})
	if err != nil {
		return MetricDelta{}, err
	}
	scores, err := resampledScores(ctx, s.metric, [][][]float64{bl, sys}, samples, PairedConfig{Seed: seed}.rng(), nil)
	if err != nil {
		return MetricDelta{}, err
	}
	deltas := make([]float64, samples)
	for k := range deltas {
		deltas[k] = scores[1][k] - scores[0][k]
	}
	slices.Sort(deltas)
	d.Baseline, d.System, d.Delta, d.PValue = res.Baseline, res.System, res.System-res.Baseline, res.PValue
	if d.Delta == 0 {
		d.PValue = 1 // sacreBLEU's (c+1)/(n+1) would call identical systems different
	}
	d.Low, d.High = percentile(deltas, 0.025), percentile(deltas, 0.975)
	significant := d.PValue <= 0.05
	d.Better = significant && (d.Delta > 0) == s.higher && d.Delta != 0
	d.Worse = significant && (d.Delta < 0) == s.higher && d.Delta != 0
	return d, nil
}

func newRand(seed uint64) *rand.Rand { return PairedConfig{Seed: seed}.rng() }

func present(rows [][]float64) [][]float64 {
	var out [][]float64
	for _, r := range rows {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

// answerText is a variant's answer to example i ("" when it failed).
func answerText(outs outputs, v string, i int) string {
	if r := outs[v][i]; r != nil && r.Error == "" {
		return r.Output.Text
	}
	return ""
}

// scoreMetric computes one configured metric's per-example statistics for
// every variant (judge_rubric yields its mean and one score per criterion;
// judge_pairwise none, it is summarised in the comparisons).
func scoreMetric(cfg Config, m string, exs []Example, outs outputs, judged judgments) ([]scored, error) {
	switch {
	case m == "judge_pairwise":
		return nil, nil
	case m == "judge_rubric":
		return rubricScores(cfg, exs, judged[m]), nil
	case judgeMetric(m):
		return []scored{judgeScores(cfg, m, exs, judged[m])}, nil
	case m == "bleu" || m == "chrf" || m == "chrf++" || m == "ter":
		return corpusScores(cfg, m, exs, outs)
	case strings.Contains(m, "@"):
		return []scored{retrievalScores(cfg, m, exs, outs)}, nil
	}
	value, err := exampleMetric(m)
	if err != nil {
		return nil, err
	}
	s := newScored(cfg, m, meanMetric{}, true, len(exs))
	for _, v := range cfg.Variants {
		for i, ex := range exs {
			if len(ex.References) == 0 {
				s.errs[v.Name] = append(s.errs[v.Name], fmt.Sprintf("example %s has no reference", ex.ID))
				continue
			}
			s.rows[v.Name][i] = []float64{value(answerText(outs, v.Name, i), ex.References), 1}
		}
	}
	return []scored{s}, nil
}

func newScored(cfg Config, name string, m Metric, higher bool, examples int) scored {
	s := scored{name: name, metric: m, higher: higher, rows: map[string][][]float64{}, errs: map[string][]string{}}
	for _, v := range cfg.Variants {
		s.rows[v.Name] = make([][]float64, examples)
	}
	return s
}

// exampleMetric returns the per-example value of a reference metric.
func exampleMetric(m string) (func(hyp string, refs []string) float64, error) {
	best := func(f func(h, r string) float64) func(string, []string) float64 {
		return func(h string, refs []string) float64 {
			b := 0.0
			for _, r := range refs {
				b = max(b, f(h, r))
			}
			return b
		}
	}
	b2f100 := func(f func(h, r string) bool) func(h, r string) float64 {
		return func(h, r string) float64 {
			if f(h, r) {
				return 100
			}
			return 0
		}
	}
	switch m {
	case "squad_em":
		return best(b2f100(SQuADExact)), nil
	case "squad_f1":
		return best(func(h, r string) float64 { return 100 * SQuADF1(h, r) }), nil
	case "cmrc_em":
		return best(b2f100(CMRCExact)), nil
	case "cmrc_f1":
		return best(func(h, r string) float64 { return 100 * CMRCF1(h, r) }), nil
	case "meteor":
		return func(h string, refs []string) float64 { return Meteor(h, refs, MeteorConfig{}) }, nil
	case "rouge1", "rouge2", "rougeL", "rougeLsum":
		r, err := NewRouge(RougeConfig{Types: []string{m}})
		if err != nil {
			return nil, err
		}
		return func(h string, refs []string) float64 { return r.ScoreMulti(refs, h)[0].FMeasure }, nil
	}
	return nil, fmt.Errorf("unknown metric %q", m)
}

// corpusScores holds sacreBLEU's sufficient statistics per example, so the
// score is the corpus score and the bootstrap resamples examples.
func corpusScores(cfg Config, m string, exs []Example, outs outputs) ([]scored, error) {
	var metric Metric
	var err error
	switch m {
	case "bleu":
		metric, err = NewBLEU(BLEUConfig{})
	case "chrf":
		metric, err = NewCHRF(CHRFConfig{})
	case "chrf++":
		metric, err = NewCHRF(CHRFConfig{WordOrder: 2})
	case "ter":
		metric = NewTER(TERConfig{})
	}
	if err != nil {
		return nil, err
	}
	s := newScored(cfg, m, metric, m != "ter", len(exs))
	for _, v := range cfg.Variants {
		var idx []int
		var hyps []string
		var refs [][]string
		for i, ex := range exs {
			if len(ex.References) == 0 {
				s.errs[v.Name] = append(s.errs[v.Name], fmt.Sprintf("example %s has no reference", ex.ID))
				continue
			}
			idx, hyps, refs = append(idx, i), append(hyps, answerText(outs, v.Name, i)), append(refs, ex.References)
		}
		stats, err := metric.SegmentStats(hyps, refs)
		if err != nil {
			return nil, err
		}
		rows := make([][]float64, len(exs))
		for k, i := range idx {
			rows[i] = stats[k]
		}
		s.rows[v.Name] = rows
	}
	return []scored{s}, nil
}

// retrievalScores scores the documents a variant retrieved against the
// example's doc_ids: recall@k, mrr@k or ndcg@k.
func retrievalScores(cfg Config, m string, exs []Example, outs outputs) scored {
	base, kText, _ := strings.Cut(m, "@")
	k, _ := strconv.Atoi(kText)
	s := newScored(cfg, m, meanMetric{}, true, len(exs))
	for _, v := range cfg.Variants {
		rows := make([][]float64, len(exs))
		for i, ex := range exs {
			if len(ex.DocIDs) == 0 {
				s.errs[v.Name] = append(s.errs[v.Name], fmt.Sprintf("example %s has no doc_ids", ex.ID))
				continue
			}
			rel := Qrels{}
			for _, id := range ex.DocIDs {
				rel[id] = 1
			}
			var got []string
			if r := outs[v.Name][i]; r != nil && r.Error == "" {
				got = r.Output.Retrieved
			}
			var x float64
			switch base {
			case "recall":
				x = RecallAt(got, rel, k)
			case "mrr":
				x = ReciprocalRank(got, rel, k)
			default:
				x = NDCGAt(got, rel, k)
			}
			rows[i] = []float64{x, 1}
		}
		s.rows[v.Name] = rows
	}
	return s
}

// judgeScores reads a RAG metric's scores from the judge's records.
func judgeScores(cfg Config, m string, exs []Example, recs map[string][]*judgmentRecord) scored {
	s := newScored(cfg, m, meanMetric{}, true, len(exs))
	for _, v := range cfg.Variants {
		rows := make([][]float64, len(exs))
		for i := range exs {
			var r RAGScore
			if msg := judged(recs, v.Name, i, exs, &r); msg != "" {
				s.errs[v.Name] = append(s.errs[v.Name], msg)
				continue
			}
			rows[i] = []float64{r.Score, 1}
		}
		s.rows[v.Name] = rows
	}
	return s
}

// rubricScores is judge_rubric's mean and one metric per criterion.
func rubricScores(cfg Config, exs []Example, recs map[string][]*judgmentRecord) []scored {
	criteria := cfg.Judge.Criteria
	if len(criteria) == 0 {
		criteria = DefaultCriteria
	}
	all := []scored{newScored(cfg, "judge_rubric", meanMetric{}, true, len(exs))}
	for _, c := range criteria {
		all = append(all, newScored(cfg, "judge_rubric."+c.Name, meanMetric{}, true, len(exs)))
	}
	for _, v := range cfg.Variants {
		for k := range all {
			all[k].rows[v.Name] = make([][]float64, len(exs))
		}
		for i := range exs {
			var r RubricScore
			if msg := judged(recs, v.Name, i, exs, &r); msg != "" {
				all[0].errs[v.Name] = append(all[0].errs[v.Name], msg)
				continue
			}
			all[0].rows[v.Name][i] = []float64{r.Mean, 1}
			for k, c := range r.Scores {
				if k+1 < len(all) {
					all[k+1].rows[v.Name][i] = []float64{c.Score, 1}
				}
			}
		}
	}
	return all
}

// judged decodes the record of variant v on example i into result, or
// says why there is none.
func judged(recs map[string][]*judgmentRecord, v string, i int, exs []Example, result any) string {
	var r *judgmentRecord
	if recs[v] != nil {
		r = recs[v][i]
	}
	switch {
	case r == nil:
		return fmt.Sprintf("example %s: no answer to judge", exs[i].ID)
	case r.Error != "":
		return fmt.Sprintf("example %s: %s", exs[i].ID, r.Error)
	}
	if err := json.Unmarshal(r.Result, result); err != nil {
		return fmt.Sprintf("example %s: %v", exs[i].ID, err)
	}
	return ""
}

// write saves report.json and report.html atomically.
func (r *Report) write(dir string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, ReportJSON), append(data, '\n')); err != nil {
		return err
	}
	page, err := r.HTML()
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, ReportHTML), page)
}
