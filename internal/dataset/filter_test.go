package dataset

import (
	"fmt"
	"strings"
	"testing"

	"flywheel/internal/tokenizer"
)

func TestDetectLanguage(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"The quick brown fox jumps over the lazy dog and runs to the forest.", LangEnglish},
		{"hi", LangEnglish},
		{"识别并解释给定列表中的两个科学理论：细胞理论和日心说。", LangChinese},
		{"我需要为John Doe生成一张发票。", LangChinese},
		{"用Python写一个函数：\n```python\ndef add(a, b):\n    return a + b\n```", LangChinese},
		{"Translate 你好 into English, please, and explain the tones of the word.", LangEnglish},
		{"今日はいい天気ですね。散歩に行きましょう。", LangJapanese},
		{"안녕하세요. 오늘 날씨가 좋네요.", LangKorean},
		{"Привет, как дела? Всё хорошо.", LangRussian},
		{"Le chat est sur la table et il dort dans la cuisine.", LangFrench},
		{"Der Hund ist nicht in dem Haus und die Katze auch nicht.", LangGerman},
		{"El perro está en la casa y el gato no está con él.", LangSpanish},
		{"12345 + 678 = 13023", LangUnknown},
		{"", LangUnknown},
	} {
		if got := DetectLanguage(c.text); got != c.want {
			t.Errorf("%q: %s, want %s", c.text, got, c.want)
		}
	}
}

func TestRepetition(t *testing.T) {
	for _, c := range []struct {
		text     string
		min, max float64
	}{
		{strings.Repeat("Ooh ooh ah ah! *giggle* ", 20), 0.9, 1},
		{"1326134." + strings.Repeat("0", 200), 0.9, 1},
		{"Making crepes is an easy and delicious process! Here are step-by-step instructions on how to make them: assemble your ingredients, mix the batter, let it rest, heat the pan, and cook each crepe until golden.", 0, 0.05},
		{"short", 0, 0},
	} {
		if got := Repetition(c.text); got < c.min || got > c.max {
			t.Errorf("%.40q: %.3f, want in [%v, %v]", c.text, got, c.min, c.max)
		}
	}
}

func TestFilter(t *testing.T) {
	ex := func(q, a string) Example {
		return Example{Messages: []Message{{RoleUser, q}, {RoleAssistant, a}}}
	}
	var long strings.Builder
	for i := range 400 {
		fmt.Fprintf(&long, "word%d ", i)
	}
	f := NewFilter(FilterOptions{Languages: []string{LangEnglish}, MinAnswerChars: 3, MaxTokens: 200})
	for _, c := range []struct {
		ex     Example
		reason string
	}{
		{ex("What is the capital of France?", "Paris is the capital of France."), ""},
		{ex("What is the capital of France?", "  "), DropShortAnswer},
		{ex("What is the capital of France?", "P."), DropShortAnswer},
		{ex("What is the capital of France?", strings.Repeat("Paris! ", 30)), DropRepetitive},
		{ex("法国的首都是哪里？", "巴黎是法国的首都。"), DropLanguage},
		{ex("Write a long text about the sea and the sky", long.String()+"the end"), DropTooManyTokens},
	} {
		ok, reason := f.Keep(&c.ex)
		if reason != c.reason || ok != (c.reason == "") {
			t.Errorf("%.50q: kept %v (%q), want %q", c.ex.Messages[1].Content, ok, reason, c.reason)
		}
	}
	r := f.Report()
	if r.Records != 6 || r.Kept != 1 || r.Dropped[DropShortAnswer] != 2 {
		t.Errorf("report %+v", r)
	}
}

// TestFilterTokens counts tokens with a real tokenizer (stories260K's
// 512-piece vocabulary).
func TestFilterTokens(t *testing.T) {
	tok, err := tokenizer.LoadLlama2C(testdata(t, "models/stories260K/tok512.bin"), 512)
	if err != nil {
		t.Fatal(err)
	}
	count := func(s string) int { return len(tok.Encode(s, false, false)) }
	ex := Example{Messages: []Message{{RoleUser, "Once upon a time"}, {RoleAssistant, "there was a little girl."}}}
	n := SequenceTokens(&ex, count)
	if want := count("Once upon a time") + count("there was a little girl."); n != want || n == 0 {
		t.Fatalf("SequenceTokens %d, want %d", n, want)
	}
	for _, c := range []struct {
		min, max int
		keep     bool
	}{{n, n, true}, {n + 1, 0, false}, {0, n - 1, false}} {
		f := NewFilter(FilterOptions{Tokens: count, MinTokens: c.min, MaxTokens: c.max})
		if ok, reason := f.Keep(&ex); ok != c.keep {
			t.Errorf("min %d max %d: kept %v (%s) with %d tokens", c.min, c.max, ok, reason, n)
		}
	}
}

func TestEstimateTokens(t *testing.T) {
	for text, want := range map[string]int{"": 0, "abcd": 1, "abcde": 2, "你好": 2, "你好 world": 4} {
		if got := EstimateTokens(text); got != want {
			t.Errorf("%q: %d, want %d", text, got, want)
		}
	}
}

func TestStatsSmall(t *testing.T) {
	label := false
	count := func(s string) int { return len(strings.Fields(s)) }
	s := NewStats(StatsOptions{Tokens: count, Bins: 4})
	exs := []Example{
		{Messages: []Message{{RoleUser, "a b"}, {RoleAssistant, "c"}}},
		{Messages: []Message{{RoleUser, "a b"}, {RoleAssistant, "c"}}},
		{System: "s", Messages: []Message{{RoleUser, "a"}, {RoleAssistant, "b c d"}, {RoleUser, "e"}, {RoleAssistant, "f g h i j k l m"}}},
		{Messages: []Message{{RoleUser, "q"}}, Chosen: &Message{RoleAssistant, "x y"}, Rejected: &Message{RoleAssistant, "z"}},
		{Messages: []Message{{RoleUser, "q"}, {RoleAssistant, "bad"}}, Label: &label},
	}
	for i := range exs {
		s.Add(&exs[i])
	}
	r := s.Report()
	if r.Records != 5 || r.Kinds != (KindCounts{3, 1, 1}) || r.KTOLabels != (LabelCounts{0, 1}) || r.WithSystem != 1 || r.TokensEstimated {
		t.Errorf("report %+v", r)
	}
	byName := map[string]FieldStats{}
	for _, f := range r.Fields {
		byName[f.Field] = f
	}
	// answers: 1, 1, 8, 1; prompt of the third: s + a + b c d + e = 6 tokens
	if a := byName["answer"]; a.Count != 4 || a.Min != 1 || a.Max != 8 || a.P50 != 1 || a.Mean != 11.0/4 {
		t.Errorf("answer %+v", a)
	}
	if p := byName["prompt"]; p.Max != 6 || p.Count != 5 {
		t.Errorf("prompt %+v", p)
	}
	if tot := byName["total"]; tot.Max != 14 || tot.Histogram.Width != 5 || tot.Histogram.Counts[0] != 4 || tot.Histogram.Counts[2] != 1 {
		t.Errorf("total %+v", tot)
	}
	if r.Turns.Max != 2 || r.Turns.Counts[0] != (TurnCount{1, 4}) {
		t.Errorf("turns %+v", r.Turns)
	}
	if r.Duplicates == nil || r.Duplicates.Exact != 1 || r.Duplicates.Rate != 0.2 {
		t.Errorf("duplicates %+v", r.Duplicates)
	}
	svg := string(HistogramSVG(r, "small"))
	if !strings.HasPrefix(svg, "<svg") || strings.Count(svg, "<rect") != 1+4*len(r.Fields) {
		t.Errorf("svg: %d rects", strings.Count(svg, "<rect"))
	}
}

func TestPercentile(t *testing.T) {
	v := []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for p, want := range map[float64]int{50: 5, 90: 9, 95: 10, 99: 10, 1: 1} {
		if got := percentile(v, p); got != want {
			t.Errorf("p%v: %d, want %d", p, got, want)
		}
	}
}
