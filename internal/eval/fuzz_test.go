package eval

import (
	"math"
	"testing"
)

// FuzzMetrics feeds arbitrary text to every text metric: none may panic,
// and every score must stay in its range.
func FuzzMetrics(f *testing.F) {
	for _, s := range [][2]string{
		{"The dog bit the man.", "The dog had bit the man."},
		{"我爱北京天安门。—好", "我爱北京天安门。"},
		{"&amp;quot; <skipped> 1,000.5 U.S.-\nend", "x=y 50% $5 #1"},
		{"ΣΑΣ İstanbul\u3000\x1ctab\t", "σας istanbul"},
		{"", "a"},
		{"a b c d e f g h i j k l", "l k j i h g f e d c b a"},
	} {
		f.Add(s[0], s[1])
	}
	bleus := []*BLEU{}
	for _, tok := range BLEUTokenizers() {
		b, _ := NewBLEU(BLEUConfig{Tokenize: tok, EffectiveOrder: true, Lowercase: true})
		bleus = append(bleus, b)
	}
	chrf, _ := NewCHRF(CHRFConfig{WordOrder: 2, CharOrder: 8})
	ters := []*TER{NewTER(TERConfig{}), NewTER(TERConfig{Normalized: true, AsianSupport: true, NoPunct: true})}
	rouge, _ := NewRouge(RougeConfig{UseStemmer: true, SplitSummaries: true})
	rougeCJK, _ := NewRouge(RougeConfig{Tokenizer: "cjk"})
	f.Fuzz(func(t *testing.T, hyp, ref string) {
		for _, b := range bleus {
			if s := b.SentenceScore(hyp, []string{ref}); math.IsNaN(s.Score) || s.Score < 0 || s.Score > 100+1e-9 {
				t.Fatalf("BLEU %s = %v", b.cfg.Tokenize, s.Score)
			}
		}
		if s := chrf.SentenceScore(hyp, []string{ref, hyp}); math.IsNaN(s) || s < 0 || s > 100+1e-9 {
			t.Fatalf("chrF = %v", s)
		}
		for _, ter := range ters {
			if s := ter.SentenceScore(hyp, []string{ref}); math.IsNaN(s.Score) || s.Score < 0 {
				t.Fatalf("TER = %v", s.Score)
			}
		}
		for _, r := range []*Rouge{rouge, rougeCJK} {
			for _, s := range r.ScoreMulti([]string{ref}, hyp) {
				if math.IsNaN(s.FMeasure) || s.FMeasure < 0 || s.FMeasure > 1+1e-12 {
					t.Fatalf("ROUGE = %+v", s)
				}
			}
		}
		_ = SQuADF1(hyp, ref)
		_ = CMRCF1(hyp, ref)
		_ = NewPorterStemmer(PorterNLTK).Stem(hyp)
	})
}
