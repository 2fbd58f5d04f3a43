package prompt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"flywheel/internal/refdata"
)

// fakeEmbedder embeds by table and records what it was asked.
type fakeEmbedder struct {
	vectors map[string][]float32
	calls   [][]string
}

func (f *fakeEmbedder) embed(_ context.Context, texts []string) ([][]float32, error) {
	f.calls = append(f.calls, texts)
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v, ok := f.vectors[t]
		if !ok {
			return nil, fmt.Errorf("no vector for %q", t)
		}
		out[i] = v
	}
	return out, nil
}

// A vector pool: the query is (0.8, 0.6, 0); "d" is closest, "a" and
// "a again" are the same point, "c" is orthogonal to the query.
var (
	vectorPool = []Example{{"a", "A"}, {"a again", "A2"}, {"b", "B"}, {"c", "C"}, {"d", "D"}}
	poolVecs   = map[string][]float32{
		"q": {0.8, 0.6, 0}, "q2": {0, 1, 0},
		"a": {1, 0, 0}, "a again": {1, 0, 0}, "b": {0, 1, 0}, "c": {0, 0, 1}, "d": {0.6, 0.8, 0},
	}
)

func outputs(exs []Example) string {
	var s []string
	for _, e := range exs {
		s = append(s, e.Output)
	}
	return strings.Join(s, " ")
}

func TestEmbeddingSelectors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		sel   func(*fakeEmbedder) Selector
		k     int
		query string
		want  string
	}{
		// cosines to q: d .96, a .8, a again .8, b .6, c 0
		{"similarity", func(f *fakeEmbedder) Selector { return &Similarity{Examples: Fixed(vectorPool), Embed: f.embed} }, 3, "q", "D A A2"},
		{"similarity all", func(f *fakeEmbedder) Selector { return &Similarity{Examples: Fixed(vectorPool), Embed: f.embed} }, 0, "q", "D A A2 B C"},
		{"similarity other query", func(f *fakeEmbedder) Selector { return &Similarity{Examples: Fixed(vectorPool), Embed: f.embed} }, 2, "q2", "B D"},
		// λ .5: d (.48); then a (.4 − .5·.6 = .1) over b (.3 − .4) and c (0); then
		// c (0) over the duplicate a again (.4 − .5) and b (.3 − .5·.8).
		{"mmr 0.5", func(f *fakeEmbedder) Selector { return &MMR{Examples: Fixed(vectorPool), Embed: f.embed, Lambda: 0.5} }, 3, "q", "D A C"},
		{"mmr default λ", func(f *fakeEmbedder) Selector { return &MMR{Examples: Fixed(vectorPool), Embed: f.embed} }, 3, "q", "D A C"},
		// λ .7: d; a (.56 − .18 = .38); a again (.56 − .3 = .26) over b (.42 − .24 = .18).
		{"mmr 0.7", func(f *fakeEmbedder) Selector { return &MMR{Examples: Fixed(vectorPool), Embed: f.embed, Lambda: 0.7} }, 3, "q", "D A A2"},
		{"mmr 1 is similarity", func(f *fakeEmbedder) Selector { return &MMR{Examples: Fixed(vectorPool), Embed: f.embed, Lambda: 1} }, 0, "q", "D A A2 B C"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeEmbedder{vectors: poolVecs}
			got, err := tt.sel(f).Select(ctx, tt.query, tt.k)
			if err != nil {
				t.Fatal(err)
			}
			if outputs(got) != tt.want {
				t.Errorf("picked %q, want %q", outputs(got), tt.want)
			}
		})
	}
}

// Inputs are embedded once; the query and new inputs go in one call.
func TestSimilarityCache(t *testing.T) {
	ctx := context.Background()
	f := &fakeEmbedder{vectors: poolVecs}
	pool := vectorPool[:3]
	s := &Similarity{Examples: func(context.Context) ([]Example, error) { return pool, nil }, Embed: f.embed}
	for _, q := range []string{"q", "q2"} {
		if _, err := s.Select(ctx, q, 1); err != nil {
			t.Fatal(err)
		}
	}
	pool = vectorPool // the store gained two examples
	if _, err := s.Select(ctx, "q", 1); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"q", "a", "a again", "b"}, {"q2"}, {"q", "c", "d"}}
	if !reflect.DeepEqual(f.calls, want) {
		t.Errorf("embed calls %q, want %q", f.calls, want)
	}
}

func TestSelectorErrors(t *testing.T) {
	ctx := context.Background()
	f := &fakeEmbedder{vectors: poolVecs}
	failing := func(context.Context) ([]Example, error) { return nil, errors.New("store down") }
	tests := []struct {
		name string
		sel  Selector
		want string
	}{
		{"no source", &Similarity{Embed: f.embed}, "prompt: similarity selector: no Examples source: set it, e.g. to prompt.Fixed(examples)"},
		{"source fails", &NGramOverlap{Examples: failing}, "prompt: n-gram selector: examples: store down"},
		{"no embed", &MMR{Examples: Fixed(vectorPool)}, "prompt: mmr selector: no Embed function"},
		{"embed fails", &Similarity{Examples: Fixed([]Example{{"unknown", ""}}), Embed: f.embed}, `prompt: similarity selector: embed: no vector for "unknown"`},
	}
	for _, tt := range tests {
		_, err := tt.sel.Select(ctx, "q", 1)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %s", tt.name, err, tt.want)
		}
	}
}

func TestLengthBased(t *testing.T) {
	ctx := context.Background()
	pool := []Example{
		{"one two three", "four five"}, // 5 words
		{"six seven", "eight nine"},    // 4
		{"ten", "eleven"},              // 2
		{"twelve", ""},                 // 1
	}
	tests := []struct {
		budget, k int
		want      string
	}{
		// query "a b" is 2 words: 8 left; 5 fits, 4 does not, 2 and 1 do.
		{10, 0, "one two three|ten|twelve"},
		{10, 2, "one two three|ten"},
		// 3 left: the first two are skipped.
		{5, 0, "ten|twelve"},
		{2, 0, ""},
		{0, 3, "one two three|six seven|ten"}, // no budget
	}
	for _, tt := range tests {
		got, err := (&LengthBased{Examples: Fixed(pool), Budget: tt.budget, Count: words1}).Select(ctx, "a b", tt.k)
		if err != nil {
			t.Fatal(err)
		}
		var inputs []string
		for _, e := range got {
			inputs = append(inputs, e.Input)
		}
		if s := strings.Join(inputs, "|"); s != tt.want {
			t.Errorf("budget %d k %d: picked %q, want %q", tt.budget, tt.k, s, tt.want)
		}
	}
}

func TestNGramOverlap(t *testing.T) {
	ctx := context.Background()
	en := []Example{
		{"How do I reset my password?", "0"},
		{"How do I change my email?", "1"},
		{"What is the refund policy?", "2"},
		{"Reset the router", "3"},
	}
	zh := []Example{
		{"北京是中国的首都吗", "0"},
		{"上海有多少人口", "1"},
		{"中国的首都在哪里", "2"},
	}
	tests := []struct {
		name  string
		sel   *NGramOverlap
		query string
		k     int
		want  string
	}{
		// Jaccard of 1- and 2-grams: 10/17, 6/21, 0, 1/20.
		{"english", &NGramOverlap{Examples: Fixed(en)}, "I forgot my password, how do I reset it?", 0, "0 1 3"},
		{"english k", &NGramOverlap{Examples: Fixed(en)}, "I forgot my password, how do I reset it?", 2, "0 1"},
		{"threshold", &NGramOverlap{Examples: Fixed(en), Threshold: 0.1}, "I forgot my password, how do I reset it?", 0, "0 1"},
		{"keep all", &NGramOverlap{Examples: Fixed(en), Threshold: -1}, "I forgot my password, how do I reset it?", 0, "0 1 3 2"},
		// unigrams only: 6/8, 4/10, 0, 1/10 — "3" ties with "1"? no: 4/10 > 1/10.
		{"unigrams", &NGramOverlap{Examples: Fixed(en), N: 1}, "I forgot my password, how do I reset it?", 0, "0 1 3"},
		// characters: 7/25, 0, and 7/27 — each Han character is a word.
		{"chinese", &NGramOverlap{Examples: Fixed(zh)}, "中国首都是哪个城市", 0, "2 0"},
	}
	for _, tt := range tests {
		got, err := tt.sel.Select(ctx, tt.query, tt.k)
		if err != nil {
			t.Fatal(err)
		}
		if outputs(got) != tt.want {
			t.Errorf("%s: picked %q, want %q", tt.name, outputs(got), tt.want)
		}
	}
}

func TestNGramScores(t *testing.T) {
	q := ngrams(words("I forgot my password, how do I reset it?"), 2)
	tests := []struct {
		in   string
		want float64
	}{
		{"How do I reset my password?", 10.0 / 17},
		{"How do I change my email?", 6.0 / 21},
		{"Reset the router", 1.0 / 20},
	}
	for _, tt := range tests {
		if got := jaccard(q, ngrams(words(tt.in), 2)); got != tt.want {
			t.Errorf("jaccard(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// On real questions, a question with words added still finds itself first.
func TestNGramOverlapRealQuestions(t *testing.T) {
	ctx := context.Background()
	for _, set := range []struct{ file, suffix string }{
		{"qa/xquad_en/questions.jsonl", " Please answer briefly."},
		{"qa/cmrc2018_dev/questions.jsonl", "请简要回答。"},
	} {
		pool := readQuestions(t, set.file)[:300]
		sel := &NGramOverlap{Examples: Fixed(pool)}
		for i := 0; i < len(pool); i += 37 {
			got, err := sel.Select(ctx, pool[i].Input+set.suffix, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Input != pool[i].Input {
				t.Errorf("%s question %d: picked %+v, want itself %q", set.file, i, got, pool[i].Input)
			}
		}
	}
}

// readQuestions reads a QA set's questions as examples: the question and
// its first answer.
func readQuestions(t testing.TB, rel string) []Example {
	data, err := os.ReadFile(refdata.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	var out []Example
	for line := range strings.Lines(string(data)) {
		var q struct {
			Question string
			Answers  []string
		}
		if err := json.Unmarshal([]byte(line), &q); err != nil {
			t.Fatal(err)
		}
		out = append(out, Example{q.Question, q.Answers[0]})
	}
	return out
}
