package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeLines writes one file per argument list into a temp dir.
func writeFile(t *testing.T, name string, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func evalJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, stderr, err := flywheel(t, append([]string{"eval", "metric", "--json"}, args...)...)
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stderr)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

func closeTo(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s: got %.10g, want %.10g", what, got, want)
	}
}

// The inputs are sacreBLEU's test_corpus_bleu case (bleu-007 of
// ../shared/testdata/metrics): two reference streams.
var (
	evalHyps = []string{"The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."}
	evalRef1 = []string{"The dog bit the man.", "It was not unexpected.", "The man bit him first."}
	evalRef2 = []string{"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."}
)

func TestEvalBLEU(t *testing.T) {
	hyp, r1, r2 := writeFile(t, "hyp.txt", evalHyps...), writeFile(t, "r1.txt", evalRef1...), writeFile(t, "r2.txt", evalRef2...)
	var res struct {
		Name, Signature string
		Score           float64
		Counts, Totals  []float64
		BP              float64
		SysLen          int `json:"sys_len"`
		RefLen          int `json:"ref_len"`
	}
	evalJSON(t, &res, "--metric", "bleu", "--tokenize", "intl", "--hyp", hyp, "--ref", r1, "--ref", r2)
	closeTo(t, "BLEU intl", res.Score, 43.91623493, 1e-6)
	if res.Signature != "nrefs:2|case:mixed|eff:no|tok:intl|smooth:exp|version:2.6.0" || res.Name != "BLEU" {
		t.Errorf("name %q signature %q", res.Name, res.Signature)
	}
	out, _, err := flywheel(t, "eval", "metric", "--hyp", hyp, "--ref", r1, "--ref", r2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = ") || !strings.Contains(out, "(BP = ") {
		t.Errorf("text output %q", out)
	}
	// --smooth-value given explicitly appears in the signature.
	evalJSON(t, &res, "--hyp", hyp, "--ref", r1, "--smooth-method", "floor", "--smooth-value", "0.25", "--lowercase")
	if !strings.Contains(res.Signature, "case:lc|eff:no|tok:13a|smooth:floor[0.25]") {
		t.Errorf("signature %q", res.Signature)
	}
}

func TestEvalCHRFAndTER(t *testing.T) {
	// sacreBLEU test_chrf_plus (chrf-127): chrF++ with lowercase.
	hyp := writeFile(t, "hyp.txt", "Nos nouveaux services sont gratuits.", "Il est exigé par la loi.")
	ref := writeFile(t, "ref.txt", "Nos nouveaux services sont gratuits.", "Il est requis par la loi.")
	var res struct {
		Name, Signature string
		Score           float64
	}
	evalJSON(t, &res, "--metric", "chrf", "--chrf-word-order", "2", "--lowercase", "--hyp", hyp, "--ref", ref)
	if res.Name != "chrF2++" || res.Signature != "nrefs:1|case:lc|eff:yes|nc:6|nw:2|space:no|version:2.6.0" {
		t.Errorf("name %q signature %q", res.Name, res.Signature)
	}
	if res.Score <= 0 || res.Score >= 100 {
		t.Errorf("chrF++ %v", res.Score)
	}
	var ter struct {
		Score     float64
		NumEdits  float64 `json:"num_edits"`
		Signature string
	}
	h := writeFile(t, "h.txt", "a b c d")
	r := writeFile(t, "r.txt", "a c b d")
	evalJSON(t, &ter, "--metric", "ter", "--hyp", h, "--ref", r)
	// One shift (b after c... or c before b) fixes the order: 1 edit / 4 words.
	closeTo(t, "TER", ter.Score, 25, 1e-9)
	if ter.Signature != "nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0" {
		t.Errorf("TER signature %q", ter.Signature)
	}
}

func TestEvalRougeJSONL(t *testing.T) {
	// rouge-score's testRougeLSumSentenceSplitting: sentences are lines, so
	// the segments are JSON strings holding newlines.
	hyp := writeFile(t, "hyp.jsonl", `"Second sentence.\nFirst Sentence."`, `"testing one"`)
	ref := writeFile(t, "ref.jsonl", `"First sentence.\nSecond Sentence."`, `"testing one two"`)
	var res map[string]struct{ Precision, Recall, Fmeasure float64 }
	evalJSON(t, &res, "--metric", "rouge", "--rouge-types", "rougeLsum,rouge2", "--use-stemmer", "--hyp", hyp, "--ref", ref)
	closeTo(t, "rougeLsum F", res["rougeLsum"].Fmeasure, (1+0.8)/2, 1e-12) // 2nd: P 1, R 2/3
	// rouge2: segment 1 has bigrams {second sentence, sentence first, first sentence}
	// vs {first sentence, sentence second, second sentence}: 2 of 3; segment 2: 1 of 1 vs 2.
	closeTo(t, "rouge2 P", res["rouge2"].Precision, (2.0/3+1)/2, 1e-12)
	closeTo(t, "rouge2 R", res["rouge2"].Recall, (2.0/3+0.5)/2, 1e-12)
}

func TestEvalSQuAD(t *testing.T) {
	hyp := writeFile(t, "hyp.txt", "1976", "Beyonce", "climate change")
	ref := writeFile(t, "ref.txt", "1976", "Beyoncé and Bruno Mars", "climate change")
	var res struct {
		ExactMatch float64 `json:"exact_match"`
		F1         float64
	}
	evalJSON(t, &res, "--metric", "squad", "--hyp", hyp, "--ref", ref)
	closeTo(t, "EM", res.ExactMatch, 200.0/3, 1e-9)
	closeTo(t, "F1", res.F1, 200.0/3, 1e-9)

	zh := writeFile(t, "zh.txt", "北京天安门")
	zhRef := writeFile(t, "zhref.txt", "天安门")
	evalJSON(t, &res, "--metric", "squad", "--cmrc", "--hyp", zh, "--ref", zhRef)
	closeTo(t, "CMRC F1", res.F1, 75, 1e-9)

	var v2 struct {
		Exact      float64
		NoAnsTotal int `json:"NoAns_total"`
	}
	blank := writeFile(t, "blank.txt", "1976", "", "x")
	evalJSON(t, &v2, "--metric", "squad", "--squad-v2", "--hyp", blank, "--ref", writeFile(t, "r.txt", "1976", "", ""))
	if v2.NoAnsTotal != 2 {
		t.Errorf("NoAns_total %d", v2.NoAnsTotal)
	}
	closeTo(t, "v2 exact", v2.Exact, 200.0/3, 1e-9)
}

func TestEvalPaired(t *testing.T) {
	hyp, r1 := writeFile(t, "hyp.txt", evalHyps...), writeFile(t, "r1.txt", evalRef1...)
	base := writeFile(t, "base.txt", "A dog bit a man.", "It is surprising.", "The man bit.")
	var res struct {
		Signature        string
		PValue           float64 `json:"p_value"`
		Baseline, System float64
		Samples          int
	}
	evalJSON(t, &res, "--hyp", hyp, "--ref", r1, "--baseline", base, "--paired-ar", "--paired-n", "500")
	if res.Samples != 500 || res.PValue <= 0 || res.PValue > 1 || res.System <= res.Baseline {
		t.Errorf("paired AR: %+v", res)
	}
	if !strings.HasPrefix(res.Signature, "nrefs:1|ar:500|seed:12345|case:mixed") {
		t.Errorf("signature %q", res.Signature)
	}
	out, _, err := flywheel(t, "eval", "metric", "--metric", "chrf", "--hyp", hyp, "--ref", r1, "--baseline", base, "--paired-bs", "--paired-n", "200")
	if err != nil || !strings.Contains(out, "(p = ") || !strings.Contains(out, "μ = ") {
		t.Errorf("paired bs text: %v\n%s", err, out)
	}
}

func TestEvalErrors(t *testing.T) {
	hyp := writeFile(t, "hyp.txt", "a", "b")
	short := writeFile(t, "short.txt", "a")
	bad := writeFile(t, "bad.jsonl", `"ok"`, `not json`)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "metric", "--hyp", hyp}, "--hyp and at least one --ref"},
		{[]string{"eval", "metric", "--hyp", hyp, "--ref", short}, "has 1 segments but"},
		{[]string{"eval", "metric", "--hyp", hyp, "--ref", bad}, "bad.jsonl:2: byte"},
		{[]string{"eval", "metric", "--metric", "meteor", "--hyp", hyp, "--ref", hyp}, "unknown --metric"},
		{[]string{"eval", "metric", "--tokenize", "ja", "--hyp", hyp, "--ref", hyp}, `unknown tokenizer "ja"`},
		{[]string{"eval", "metric", "--metric", "rouge", "--rouge-types", "rougeX", "--hyp", hyp, "--ref", hyp}, "invalid rouge type"},
		{[]string{"eval", "metric", "--sentence", "--hyp", hyp, "--ref", hyp}, "--sentence scores one segment"},
		{[]string{"eval", "metric", "--paired-bs", "--hyp", hyp, "--ref", hyp}, "need --baseline"},
		{[]string{"eval", "frobnicate"}, "unknown subcommand"},
	} {
		_, _, err := flywheel(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to contain %q", c.args, err, c.want)
		}
	}
}

func FuzzParseSegments(f *testing.F) {
	for _, seed := range []string{`"a"` + "\n" + `"b\nc"`, "plain\r\nlines\n", `"unterminated`, "", `{"x":1}`} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, data string, jsonl bool) {
		segs, err := parseSegments(strings.NewReader(data), "fuzz", jsonl)
		if err == nil && !jsonl && len(segs) > strings.Count(data, "\n")+1 {
			t.Fatalf("%d segments from %d lines", len(segs), strings.Count(data, "\n")+1)
		}
	})
}
