package eval

import (
	"context"
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
		if m := Meteor(hyp, []string{ref}, MeteorConfig{}); math.IsNaN(m) || m < 0 || m > 1 {
			t.Fatalf("METEOR = %v", m)
		}
		_ = SQuADF1(hyp, ref)
		_ = CMRCF1(hyp, ref)
		_ = NewPorterStemmer(PorterNLTK).Stem(hyp)
	})
}

// FuzzJudgeReplies feeds arbitrary judge replies to every reply parser:
// none may panic, and what they accept must be in range.
func FuzzJudgeReplies(f *testing.F) {
	for _, seed := range []string{
		`{"winner": "A"}`, "[[B]]", "The winner: tie", `{"correctness": 4, "clarity": 5}`,
		"**Correctness** (1-5): 4/5\nclarity - 2", `{"scores": {"correctness": "3"}}`,
		`{"reason": "x", "verdict": 1}`, "Yes.", `{"statements": ["a", "b"]}`, "- one\n2) two",
		`{"questions": ["q?"], "noncommittal": 1}`, "1. Where?\nnot a question", "{", `{"a": {"b": [1, 2, {"c": null}]}}`,
	} {
		f.Add(seed)
	}
	crit := []Criterion{{Name: "correctness"}, {Name: "clarity"}}
	f.Fuzz(func(t *testing.T, reply string) {
		if w, err := parseWinner(reply); err == nil && w != WinnerA && w != WinnerB && w != WinnerTie {
			t.Fatalf("winner %q", w)
		}
		if r, err := parseRubric(reply, crit); err == nil {
			for _, s := range r.Scores {
				if s.Score < 1 || s.Score > 5 {
					t.Fatalf("score %v accepted", s.Score)
				}
			}
		}
		parseVerdict(reply)
		parseQuestions(reply)
		if _, err := extractStatements(context.Background(), func(context.Context, string, string) (string, error) { return reply, nil }, "q", "a"); err != nil && !isParseError(err) {
			t.Fatalf("statements: %v", err)
		}
	})
}
