package eval

import (
	"fmt"
	"strings"
	"testing"
)

// benchCorpus makes n reference/hypothesis pairs of 10–30 words from a
// 2,000-word vocabulary, each hypothesis word replaced with probability
// 3/10, with a 64-bit LCG that testdata/bench_nltk.py reproduces, so NLTK
// scores the very same corpus.
func benchCorpus(n int) (hyps []string, refs [][]string) {
	state := uint64(42)
	next := func() uint64 {
		state = state*6364136223846793005 + 1442695040888963407
		return state >> 33
	}
	word := func() string { return fmt.Sprintf("w%d", next()%2000) }
	hyps, refs = make([]string, n), make([][]string, n)
	for i := range hyps {
		l := 10 + int(next()%21)
		ref, hyp := make([]string, l), make([]string, l)
		for j := range ref {
			ref[j] = word()
			hyp[j] = ref[j]
			if next()%10 < 3 {
				hyp[j] = word()
			}
		}
		refs[i] = []string{strings.Join(ref, " ") + "."}
		hyps[i] = strings.Join(hyp, " ") + "."
	}
	return hyps, refs
}

// BenchmarkCorpusBLEU100k: sacreBLEU-exact corpus BLEU (13a) of 100,000
// sentence pairs per iteration.
func BenchmarkCorpusBLEU100k(b *testing.B) {
	hyps, refs := benchCorpus(100_000)
	bleu, _ := NewBLEU(BLEUConfig{})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := bleu.CorpusScore(hyps, refs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCorpusCHRF100k: corpus chrF2 of 100,000 sentence pairs.
func BenchmarkCorpusCHRF100k(b *testing.B) {
	hyps, refs := benchCorpus(100_000)
	chrf, _ := NewCHRF(CHRFConfig{})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := chrf.CorpusScore(hyps, refs); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchCorpusScore pins the benchmark corpus: its first pair and its
// BLEU (testdata/bench_nltk.py prints NLTK's on the same corpus).
func TestBenchCorpusScore(t *testing.T) {
	hyps, refs := benchCorpus(1000)
	if !strings.HasPrefix(refs[0][0], "w") || len(hyps) != 1000 {
		t.Fatalf("corpus %q / %q", hyps[0], refs[0][0])
	}
	bleu, _ := NewBLEU(BLEUConfig{})
	s, _ := bleu.CorpusScore(hyps, refs)
	if s.Score < 30 || s.Score > 60 {
		t.Errorf("BLEU %v of the benchmark corpus", s.Score)
	}
	t.Logf("first pair %q / %q; BLEU %.4f", hyps[0], refs[0][0], s.Score)
}
