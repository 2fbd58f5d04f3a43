package eval

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

// section returns the text under "label:\n" in a prompt built by sections.
func section(prompt, label string) string {
	_, rest, ok := strings.Cut(prompt, label+":\n")
	if !ok {
		return ""
	}
	text, _, _ := strings.Cut(rest, "\n\n")
	return text
}

// preferGood is a consistent judge: the answer containing "good" wins.
func preferGood(ctx context.Context, system, user string) (string, error) {
	a, b := strings.Contains(section(user, "Answer A"), "good"), strings.Contains(section(user, "Answer B"), "good")
	switch {
	case a && !b:
		return `{"winner": "A"}`, nil
	case b && !a:
		return "After careful thought, [[B]]", nil
	}
	return `The winner: tie`, nil
}

// alwaysFirst is a judge with a position bias: it always picks A.
func alwaysFirst(ctx context.Context, system, user string) (string, error) {
	return "```json\n{\"winner\": \"A\"}\n```", nil
}

func TestJudgePairwise(t *testing.T) {
	cases := []struct {
		name  string
		judge Chat
		a, b  string
		want  PairwiseVerdict
	}{
		{"a better", preferGood, "a good answer", "a bad answer", PairwiseVerdict{WinnerA, WinnerA, WinnerA, true}},
		{"b better", preferGood, "bad", "good", PairwiseVerdict{WinnerB, WinnerB, WinnerB, true}},
		{"both good", preferGood, "good", "good too", PairwiseVerdict{WinnerTie, WinnerTie, WinnerTie, true}},
		{"position bias is a tie", alwaysFirst, "x", "y", PairwiseVerdict{WinnerTie, WinnerA, WinnerB, false}},
	}
	for _, c := range cases {
		got, err := JudgePairwise(context.Background(), c.judge, PairwiseInput{Question: "q?", A: c.a, B: c.b})
		if err != nil || got != c.want {
			t.Errorf("%s: got %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
	mumble := func(ctx context.Context, system, user string) (string, error) { return "both have merits", nil }
	if _, err := JudgePairwise(context.Background(), mumble, PairwiseInput{}); !isParseError(err) {
		t.Errorf("unreadable verdict: got %v, want a *ParseError", err)
	}
}

func TestSummarizePairwise(t *testing.T) {
	v := []PairwiseVerdict{{WinnerA, WinnerA, WinnerA, true}, {WinnerA, WinnerA, WinnerA, true},
		{WinnerB, WinnerB, WinnerB, true}, {WinnerTie, WinnerA, WinnerB, false}}
	s := SummarizePairwise(v, 1)
	if s.N != 4 || s.Wins != 2 || s.Losses != 1 || s.Ties != 1 || s.Inconsistent != 1 || s.Errors != 1 {
		t.Fatalf("counts: %+v", s)
	}
	// Wilson interval of 2/4 at z = 1.959964: 0.5 ± 0.75·√(1/16 + z²/64)/(1 + z²/4)... worked out:
	// centre 0.5, half-width = z·√(0.0625 + z²/64)/(1 + z²/4).
	z := 1.959963984540054
	half := z * math.Sqrt(0.0625+z*z/64) / (1 + z*z/4)
	if r := s.WinRate; r.Rate != 0.5 || math.Abs(r.Low-(0.5-half)) > 1e-12 || math.Abs(r.High-(0.5+half)) > 1e-12 {
		t.Errorf("win rate %+v, want 0.5 ± %g", r, half)
	}
	if r := WilsonRate(0, 10); r.Low != 0 || r.Rate != 0 || math.Abs(r.High-0.27753279) > 1e-8 {
		t.Errorf("WilsonRate(0, 10) = %+v, want [0, 0.27753279]", r)
	}
}

func TestParseRubric(t *testing.T) {
	crit := []Criterion{{Name: "correctness"}, {Name: "clarity"}}
	cases := []struct {
		reply string
		want  []float64 // nil: a parse error
	}{
		{`{"correctness": 4, "clarity": 5}`, []float64{4, 5}},
		{`Here you go: {"scores": {"Correctness": "3", "clarity": 2}} hope it helps`, []float64{3, 2}},
		{"**Correctness** (1-5): 4/5\n**Clarity**: 2 out of 5", []float64{4, 2}},
		{"correctness = 1\nclarity - 5", []float64{1, 5}},
		{`{"correctness": 4}` + "\nclarity: 3", []float64{4, 3}}, // JSON first, prose for the rest
		{`{"correctness": 7, "clarity": 5}`, nil},                // out of range
		{"correctness: 4", nil}, // clarity missing
		{"no scores at all", nil},
	}
	for _, c := range cases {
		got, err := parseRubric(c.reply, crit)
		if c.want == nil {
			if !isParseError(err) {
				t.Errorf("%q: got %+v, %v; want a *ParseError", c.reply, got, err)
			}
			continue
		}
		if err != nil || len(got.Scores) != 2 || got.Scores[0].Score != c.want[0] || got.Scores[1].Score != c.want[1] ||
			got.Mean != (c.want[0]+c.want[1])/2 {
			t.Errorf("%q: got %+v, %v; want %v", c.reply, got, err, c.want)
		}
	}
}

func TestJudgeRubricPrompt(t *testing.T) {
	var sys, usr string
	judge := func(ctx context.Context, system, user string) (string, error) {
		sys, usr = system, user
		return `{"correctness": 5, "relevance": 4, "completeness": 3, "clarity": 4}`, nil
	}
	got, err := JudgeRubric(context.Background(), judge, nil, RubricInput{Question: "Q?", Reference: "R.", Answer: "A."})
	if err != nil || got.Mean != 4 {
		t.Fatalf("got %+v, %v; want mean 4", got, err)
	}
	if section(usr, "Question") != "Q?" || section(usr, "Reference answer") != "R." || section(usr, "Answer") != "A." ||
		!strings.Contains(sys, `"correctness": 3`) {
		t.Errorf("prompt:\n%s\n---\n%s", sys, usr)
	}
}

func TestParseVerdict(t *testing.T) {
	cases := []struct {
		reply string
		want  bool
		ok    bool
	}{
		{`{"reason": "stated", "verdict": 1}`, true, true},
		{`{"verdict": "no"}`, false, true},
		{`{"attributed": true}`, true, true},
		{"Yes, the context says so.", true, true},
		{"Verdict: 0", false, true},
		{"I cannot tell", false, false},
	}
	for _, c := range cases {
		got, err := parseVerdict(c.reply)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%q: got %v, %v", c.reply, got, err)
		}
	}
}

// ragJudge is a deterministic judge for the RAG metrics: an answer's
// statements are its sentences; a statement or sentence is supported when
// the context contains it; a context is useful when it contains the
// reference answer; the generated questions are fixed.
func ragJudge(ctx context.Context, system, user string) (string, error) {
	switch system {
	case statementsSystem:
		var quoted []string
		for _, s := range SplitSentences(section(user, "Answer")) {
			quoted = append(quoted, `"`+s+`"`)
		}
		return `{"statements": [` + strings.Join(quoted, ", ") + `]}`, nil
	case supportSystem:
		return verdictJSON(strings.Contains(section(user, "Context"), section(user, "Statement"))), nil
	case attributedSystem:
		return verdictJSON(strings.Contains(section(user, "Context"), section(user, "Sentence"))), nil
	case usefulSystem:
		return verdictJSON(strings.Contains(section(user, "Context"), section(user, "Answer"))), nil
	}
	if strings.HasPrefix(system, "You write the questions") {
		if strings.Contains(user, "not sure") {
			return `{"questions": ["What?"], "noncommittal": 1}`, nil
		}
		return "1. Where is the tower?\n2. What is in Paris?\n3. Irrelevant text", nil
	}
	return "", errors.New("unexpected prompt")
}

func verdictJSON(b bool) string {
	if b {
		return `{"reason": "found", "verdict": 1}`
	}
	return `{"reason": "not found", "verdict": 0}`
}

// fixedEmbed embeds a few texts as fixed vectors.
func fixedEmbed(ctx context.Context, texts []string) ([][]float32, error) {
	vec := map[string][]float32{
		"Where is the Eiffel Tower?": {1, 0},
		"Where is the tower?":        {1, 0},  // cos 1
		"What is in Paris?":          {0, 1},  // cos 0
		"What?":                      {1, 1},  // noncommittal anyway
		"How tall is it?":            {-1, 0}, // cos −1
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v, ok := vec[t]
		if !ok {
			return nil, errors.New("no vector for " + t)
		}
		out[i] = v
	}
	return out, nil
}

func TestRAGMetrics(t *testing.T) {
	ctx := context.Background()
	contexts := []string{"Berlin is in Germany.", "The Eiffel Tower is in Paris.", "It is 330 m tall.", "Paris is in France."}
	in := RAGInput{
		Question:  "Where is the Eiffel Tower?",
		Answer:    "The Eiffel Tower is in Paris. It is 330 m tall. It was built in 1850.",
		Reference: "The Eiffel Tower is in Paris. Paris is in France. It opened in 1889.",
		Contexts:  contexts,
	}
	type metric func(context.Context, RAGInput) (RAGScore, error)
	cases := []struct {
		name string
		f    metric
		in   RAGInput
		want float64
	}{
		// 2 of the 3 statements are in the context.
		{"faithfulness", func(ctx context.Context, in RAGInput) (RAGScore, error) { return Faithfulness(ctx, ragJudge, in) }, in, 2.0 / 3},
		// 2 of the 3 reference sentences are in the context.
		{"context recall", func(ctx context.Context, in RAGInput) (RAGScore, error) { return ContextRecall(ctx, ragJudge, in) }, in, 2.0 / 3},
		// The reference "Paris" is in contexts 2 and 4 → v = 0,1,0,1:
		// (1/2 + 2/4) / (2 + 1e-10).
		{"context precision", func(ctx context.Context, in RAGInput) (RAGScore, error) {
			in.Reference = "Paris"
			return ContextPrecision(ctx, ragJudge, in)
		}, in, (0.5 + 0.5) / (2 + 1e-10)},
		// v = 1,0,0,0: 1/(1 + 1e-10), ragas' 0.9999999999.
		{"context precision first", func(ctx context.Context, in RAGInput) (RAGScore, error) {
			in.Reference = "Berlin"
			return ContextPrecision(ctx, ragJudge, in)
		}, in, 1 / (1 + 1e-10)},
		{"context precision none", func(ctx context.Context, in RAGInput) (RAGScore, error) {
			in.Reference = "Rome"
			return ContextPrecision(ctx, ragJudge, in)
		}, in, 0},
		// Questions "Where is the tower?" (cos 1) and "What is in Paris?" (cos 0);
		// the third line is no question.
		{"answer relevancy", func(ctx context.Context, in RAGInput) (RAGScore, error) {
			return AnswerRelevancy(ctx, ragJudge, fixedEmbed, in, 3)
		}, in, 0.5},
		{"answer relevancy noncommittal", func(ctx context.Context, in RAGInput) (RAGScore, error) {
			in.Answer = "I am not sure."
			return AnswerRelevancy(ctx, ragJudge, fixedEmbed, in, 3)
		}, in, 0},
	}
	for _, c := range cases {
		got, err := c.f(ctx, c.in)
		if err != nil || got.Score != c.want {
			t.Errorf("%s: got %.17g (%+v), %v; want %.17g", c.name, got.Score, got.Items, err, c.want)
		}
	}
	if _, err := Faithfulness(ctx, ragJudge, RAGInput{Answer: "", Contexts: contexts}); !errors.Is(err, ErrUndefined) {
		t.Errorf("faithfulness of an empty answer: got %v, want ErrUndefined", err)
	}
	if _, err := ContextPrecision(ctx, ragJudge, RAGInput{Reference: "x"}); !errors.Is(err, ErrUndefined) {
		t.Errorf("context precision without contexts: got %v, want ErrUndefined", err)
	}
}
