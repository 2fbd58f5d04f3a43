package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"flywheel/internal/eval"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		io.WriteString(stderr, `usage:
  flywheel eval metric --metric bleu|chrf|ter|rouge|squad --hyp FILE --ref FILE [--ref FILE...] [flags]
  flywheel eval retrieval --collection NAME --questions FILE [flags]
  flywheel eval run CONFIG.yaml [flags]

Run `+"`flywheel eval SUBCOMMAND -h`"+` for the flags.
`)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch args[0] {
	case "metric":
		return runEvalMetric(ctx, args[1:], stdout, stderr)
	case "retrieval":
		return runEvalRetrieval(ctx, args[1:], stdout, stderr)
	case "run":
		return runEvalRun(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("eval: unknown subcommand %q: use metric, retrieval or run", args[0])
}

// metricFlags are the settings of `flywheel eval metric`, named after
// sacreBLEU's and rouge-score's own options.
type metricFlags struct {
	metric, hyp, baseline string
	refs                  stringList
	asJSON, sentence      bool

	tokenize, smoothMethod string
	smoothValue            float64
	lowercase, force, eff  bool
	maxOrder               int

	chrfChar, chrfWord, chrfBeta int
	chrfWhitespace, chrfEps      bool

	terCase, terAsian, terNoPunct, terNorm bool

	rougeTypes, rougeTok       string
	useStemmer, splitSummaries bool

	squadV2, cmrc bool

	pairedBS, pairedAR     bool
	pairedN, pairedARConfN int
	seed                   uint64
}

func (f *metricFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.metric, "metric", "bleu", "`metric`: bleu, chrf, ter, rouge or squad")
	fs.StringVar(&f.hyp, "hyp", "", "hypotheses `file`: one segment per line, or one JSON string per line for .jsonl")
	fs.Var(&f.refs, "ref", "references `file` (repeat for several reference streams; for squad, several gold answers)")
	fs.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	fs.BoolVar(&f.sentence, "sentence", false, "bleu/chrf/ter: score the single segment of --hyp at sentence level")

	fs.StringVar(&f.tokenize, "tokenize", "13a", "bleu tokenizer: 13a, intl, zh, char or none")
	fs.StringVar(&f.smoothMethod, "smooth-method", "exp", "bleu smoothing: exp, floor, add-k or none")
	fs.Float64Var(&f.smoothValue, "smooth-value", 0, "bleu floor/add-k `value` (default 0.1 for floor, 1 for add-k)")
	fs.BoolVar(&f.lowercase, "lowercase", false, "bleu/chrf: compare lowercased text")
	fs.BoolVar(&f.force, "force", false, "bleu: do not warn about text that looks tokenized")
	fs.IntVar(&f.maxOrder, "max-ngram-order", 4, "bleu: largest n-gram `order`")
	fs.BoolVar(&f.eff, "effective-order", false, "bleu: stop at the largest order with matches (sentence BLEU)")

	fs.IntVar(&f.chrfChar, "chrf-char-order", 6, "chrf: character n-gram `order`")
	fs.IntVar(&f.chrfWord, "chrf-word-order", 0, "chrf: word n-gram `order` (2 = chrF++)")
	fs.IntVar(&f.chrfBeta, "chrf-beta", 2, "chrf: recall weight `beta`")
	fs.BoolVar(&f.chrfWhitespace, "chrf-whitespace", false, "chrf: keep whitespace in character n-grams")
	fs.BoolVar(&f.chrfEps, "chrf-eps-smoothing", false, "chrf: epsilon smoothing as chrF++.py, NLTK and Moses")

	fs.BoolVar(&f.terCase, "ter-case-sensitive", false, "ter: do not lowercase")
	fs.BoolVar(&f.terAsian, "ter-asian-support", false, "ter: treat CJK characters and punctuation (with --ter-normalized or --ter-no-punct)")
	fs.BoolVar(&f.terNoPunct, "ter-no-punct", false, "ter: remove punctuation")
	fs.BoolVar(&f.terNorm, "ter-normalized", false, "ter: tercom normalization")

	fs.StringVar(&f.rougeTypes, "rouge-types", "rouge1,rouge2,rougeL,rougeLsum", "rouge: comma-separated `types`")
	fs.BoolVar(&f.useStemmer, "use-stemmer", false, "rouge: Porter-stem tokens longer than 3 characters")
	fs.BoolVar(&f.splitSummaries, "split-summaries", false, "rouge: split rougeLsum sentences at punctuation instead of newlines")
	fs.StringVar(&f.rougeTok, "rouge-tokenizer", "default", "rouge: default (rouge-score's, ASCII only) or cjk (Chinese/Japanese by character)")

	fs.BoolVar(&f.squadV2, "squad-v2", false, "squad: SQuAD v2.0 rules (a line with no gold answer in any --ref is unanswerable)")
	fs.BoolVar(&f.cmrc, "cmrc", false, "squad: the CMRC 2018 Chinese character-level variant")

	fs.StringVar(&f.baseline, "baseline", "", "baseline hypotheses `file` for --paired-bs or --paired-ar")
	fs.BoolVar(&f.pairedBS, "paired-bs", false, "bleu/chrf/ter: paired bootstrap resampling test of --hyp against --baseline")
	fs.BoolVar(&f.pairedAR, "paired-ar", false, "bleu/chrf/ter: paired approximate randomization test of --hyp against --baseline")
	fs.IntVar(&f.pairedN, "paired-n", 0, "resamples (bs, default 1000) or trials (ar, default 10000)")
	fs.IntVar(&f.pairedARConfN, "paired-ar-confidence-n", 0, "ar: bootstrap resamples for confidence intervals (0: none)")
	fs.Uint64Var(&f.seed, "seed", 12345, "random `seed` of the paired tests")
}

func runEvalMetric(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval metric", stderr)
	var f metricFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.hyp == "" || len(f.refs) == 0 {
		fs.Usage()
		return fmt.Errorf("eval metric: --hyp and at least one --ref are required")
	}
	smoothSet := false
	fs.Visit(func(fl *flag.Flag) { smoothSet = smoothSet || fl.Name == "smooth-value" })
	hyps, err := readSegments(f.hyp)
	if err != nil {
		return err
	}
	streams := make([][]string, len(f.refs))
	for k, path := range f.refs {
		if streams[k], err = readSegments(path); err != nil {
			return err
		}
		if len(streams[k]) != len(hyps) {
			return fmt.Errorf("eval metric: %s has %d segments but %s has %d: give one reference line per hypothesis line", path, len(streams[k]), f.hyp, len(hyps))
		}
	}
	refs := eval.Transpose(streams)
	if f.sentence && len(hyps) != 1 {
		return fmt.Errorf("eval metric: --sentence scores one segment, but %s has %d", f.hyp, len(hyps))
	}
	switch f.metric {
	case "rouge":
		return printRouge(stdout, f, hyps, refs)
	case "squad":
		return printSQuAD(stdout, f, hyps, refs)
	case "bleu", "chrf", "ter":
	default:
		return fmt.Errorf("eval metric: unknown --metric %q: use bleu, chrf, ter, rouge or squad", f.metric)
	}
	m, err := f.corpusMetric(smoothSet)
	if err != nil {
		return fmt.Errorf("eval metric: %w", err)
	}
	if f.pairedBS || f.pairedAR {
		return printPaired(ctx, stdout, f, m, hyps, refs)
	}
	if b, ok := m.(*eval.BLEU); ok && b.LooksTokenized(hyps) {
		fmt.Fprintln(stderr, "flywheel: warning: 100 or more hypotheses end in \" .\"; BLEU expects detokenized text (--force silences this)")
	}
	return printCorpus(stdout, f, m, hyps, refs)
}

func (f metricFlags) corpusMetric(smoothSet bool) (eval.Metric, error) {
	switch f.metric {
	case "bleu":
		cfg := eval.BLEUConfig{Tokenize: f.tokenize, SmoothMethod: f.smoothMethod, Lowercase: f.lowercase,
			Force: f.force, MaxNgramOrder: f.maxOrder, EffectiveOrder: f.eff || f.sentence}
		if smoothSet {
			v := f.smoothValue
			cfg.SmoothValue = &v
		}
		return eval.NewBLEU(cfg)
	case "chrf":
		return eval.NewCHRF(eval.CHRFConfig{CharOrder: f.chrfChar, WordOrder: f.chrfWord, Beta: f.chrfBeta,
			Lowercase: f.lowercase, Whitespace: f.chrfWhitespace, EpsSmoothing: f.chrfEps})
	}
	return eval.NewTER(eval.TERConfig{Normalized: f.terNorm, NoPunct: f.terNoPunct, AsianSupport: f.terAsian, CaseSensitive: f.terCase}), nil
}

// metricInfo names a corpus metric's score and signature as sacreBLEU does.
func metricInfo(m eval.Metric, nrefs int) (name, signature string) {
	switch m := m.(type) {
	case *eval.BLEU:
		return "BLEU", m.Signature(nrefs)
	case *eval.CHRF:
		return m.Name(), m.Signature(nrefs)
	case *eval.TER:
		return "TER", m.Signature(nrefs)
	}
	return "", ""
}

func printCorpus(w io.Writer, f metricFlags, m eval.Metric, hyps []string, refs [][]string) error {
	stats, err := m.SegmentStats(hyps, refs)
	if err != nil {
		return err
	}
	sum := make([]float64, m.StatsLen())
	for _, s := range stats {
		for j, v := range s {
			sum[j] += v
		}
	}
	name, sig := metricInfo(m, eval.RefCount(refs))
	out := map[string]any{"name": name, "signature": sig}
	line := fmt.Sprintf("%s|%s = %.2f", name, sig, m.Score(sum))
	switch m := m.(type) {
	case *eval.BLEU:
		s := m.ScoreStats(sum)
		out["score"], out["counts"], out["totals"], out["precisions"] = s.Score, s.Counts, s.Totals, s.Precisions
		out["bp"], out["sys_len"], out["ref_len"], out["ratio"] = s.BP, s.SysLen, s.RefLen, s.Ratio
		precs := make([]string, len(s.Precisions))
		for i, p := range s.Precisions {
			precs[i] = fmt.Sprintf("%.1f", p)
		}
		line += fmt.Sprintf(" %s (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)", strings.Join(precs, "/"), s.BP, s.Ratio, s.SysLen, s.RefLen)
	case *eval.TER:
		s := m.ScoreStats(sum)
		out["score"], out["num_edits"], out["ref_length"] = s.Score, s.NumEdits, s.RefLength
	default:
		out["score"] = m.Score(sum)
	}
	return printResult(w, f.asJSON, out, line)
}

func printResult(w io.Writer, asJSON bool, v any, text string) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprintln(w, text)
	return err
}

func printPaired(ctx context.Context, w io.Writer, f metricFlags, m eval.Metric, hyps []string, refs [][]string) error {
	if f.baseline == "" {
		return fmt.Errorf("eval metric: --paired-bs and --paired-ar need --baseline FILE")
	}
	if f.pairedBS && f.pairedAR {
		return fmt.Errorf("eval metric: choose one of --paired-bs and --paired-ar")
	}
	base, err := readSegments(f.baseline)
	if err != nil {
		return err
	}
	if len(base) != len(hyps) {
		return fmt.Errorf("eval metric: %s has %d segments but %s has %d: compare outputs for the same test set", f.baseline, len(base), f.hyp, len(hyps))
	}
	blStats, err := m.SegmentStats(base, refs)
	if err != nil {
		return err
	}
	sysStats, err := m.SegmentStats(hyps, refs)
	if err != nil {
		return err
	}
	cfg := eval.PairedConfig{Samples: f.pairedN, Seed: f.seed, ConfidenceSamples: f.pairedARConfN}
	var res eval.PairedResult
	if f.pairedBS {
		res, err = eval.PairedBootstrap(ctx, m, blStats, sysStats, cfg)
	} else {
		res, err = eval.PairedApproxRandomization(ctx, m, blStats, sysStats, cfg)
	}
	if err != nil {
		return err
	}
	name, sig := metricInfo(m, eval.RefCount(refs))
	sig = strings.Replace(sig, "|case:", fmt.Sprintf("|%s:%d|seed:%d|case:", res.Test, res.Samples, res.Seed), 1)
	if f.asJSON {
		return printResult(w, true, struct {
			Name      string `json:"name"`
			Signature string `json:"signature"`
			eval.PairedResult
		}{name, sig, res}, "")
	}
	ci := func(mean, half float64) string {
		if half == 0 && mean == 0 {
			return ""
		}
		return fmt.Sprintf(" (μ = %.2f ± %.2f)", mean, half)
	}
	text := fmt.Sprintf("%s|%s\n  baseline %-30s %.2f%s\n  system   %-30s %.2f%s (p = %.4f)%s",
		name, sig, f.baseline, res.Baseline, ci(res.BaselineMean, res.BaselineCI),
		f.hyp, res.System, ci(res.SystemMean, res.SystemCI), res.PValue, significanceMark(res.PValue))
	return printResult(w, false, nil, text)
}

func significanceMark(p float64) string {
	if p <= 0.05 {
		return " *"
	}
	return ""
}

func printRouge(w io.Writer, f metricFlags, hyps []string, refs [][]string) error {
	r, err := eval.NewRouge(eval.RougeConfig{Types: strings.Split(f.rougeTypes, ","), UseStemmer: f.useStemmer,
		SplitSummaries: f.splitSummaries, Tokenizer: f.rougeTok})
	if err != nil {
		return fmt.Errorf("eval metric: %w", err)
	}
	scores, err := r.Corpus(hyps, refs)
	if err != nil {
		return err
	}
	out := map[string]eval.RougeScore{}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (mean of %d segments)\n", r.Signature(), len(hyps))
	for i, t := range r.Config().Types {
		out[t] = scores[i]
		fmt.Fprintf(&b, "  %-9s P %.4f  R %.4f  F %.4f\n", t, scores[i].Precision, scores[i].Recall, scores[i].FMeasure)
	}
	return printResult(w, f.asJSON, out, strings.TrimSuffix(b.String(), "\n"))
}

func printSQuAD(w io.Writer, f metricFlags, hyps []string, refs [][]string) error {
	// A blank line in a --ref file means "no gold answer in this stream".
	golds := make([][]string, len(refs))
	for i, rs := range refs {
		for _, r := range rs {
			if strings.TrimSpace(r) != "" {
				golds[i] = append(golds[i], r)
			}
		}
	}
	switch {
	case f.cmrc:
		s, err := eval.CMRC2018(hyps, golds)
		if err != nil {
			return err
		}
		return printResult(w, f.asJSON, s, fmt.Sprintf("CMRC 2018: exact_match = %.2f f1 = %.2f (%d questions)", s.ExactMatch, s.F1, s.Total))
	case f.squadV2:
		preds := make([]eval.SQuADv2Prediction, len(hyps))
		for i, h := range hyps {
			preds[i] = eval.SQuADv2Prediction{Text: h}
		}
		s, err := eval.SQuADv2(preds, golds, 1.0)
		if err != nil {
			return err
		}
		return printResult(w, f.asJSON, s, fmt.Sprintf("SQuAD v2.0: exact = %.2f f1 = %.2f (%d questions: %d answerable, %d not)",
			s.Exact, s.F1, s.Total, s.HasAnsTotal, s.NoAnsTotal))
	}
	for i, g := range golds {
		if len(g) == 0 {
			return fmt.Errorf("eval metric: question %d (line %d) has no gold answer in any --ref file: use --squad-v2 for unanswerable questions", i, i+1)
		}
	}
	s, err := eval.SQuAD(hyps, golds)
	if err != nil {
		return err
	}
	return printResult(w, f.asJSON, s, fmt.Sprintf("SQuAD v1.1: exact_match = %.2f f1 = %.2f (%d questions)", s.ExactMatch, s.F1, s.Total))
}

// readSegments reads one segment per line (a trailing "\r" dropped), or,
// for a file ending in .jsonl, one JSON string per line, so that a segment
// may hold newlines.
func readSegments(path string) ([]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return parseSegments(file, path, strings.HasSuffix(path, ".jsonl"))
}

func parseSegments(r io.Reader, name string, jsonl bool) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 64<<20)
	var segs []string
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSuffix(sc.Text(), "\r")
		if !jsonl {
			segs = append(segs, text)
			continue
		}
		var s string
		if err := json.Unmarshal([]byte(text), &s); err != nil {
			var syntax *json.SyntaxError
			if errors.As(err, &syntax) {
				return nil, fmt.Errorf("%s:%d: byte %d: %v: each line of a .jsonl segment file must be one JSON string", name, line, syntax.Offset, err)
			}
			return nil, fmt.Errorf("%s:%d: %v: each line of a .jsonl segment file must be one JSON string", name, line, err)
		}
		segs = append(segs, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return segs, nil
}
