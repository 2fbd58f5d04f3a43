package answer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"flywheel/internal/chunk"
	"flywheel/internal/llm"
	"flywheel/internal/prompt"
	"flywheel/internal/retrieve"
)

// testDocs are the source documents of the fake collection.
var testDocs = map[string]string{
	"volcano": "Volcanoes are openings in the crust of a planet. Magma rises through the crust and erupts as lava. Lava cools into basalt rock.",
	"rivers":  "Rivers\n\nRivers carry sediment to the sea. A delta forms where a river meets the sea. The Nile delta is in Egypt.",
	"nile":    "长江是中国最长的河流。尼罗河流经埃及，注入地中海。",
}

// hitOf makes the hit of a chunk of doc starting at the first occurrence
// of from.
func hitOf(doc, title, from string) retrieve.Hit {
	text := testDocs[doc]
	start := strings.Index(text, from)
	return retrieve.Hit{Passage: retrieve.Passage{
		Chunk: chunk.Chunk{ID: doc + "#0", DocID: doc, Text: text[start:], Start: start, End: len(text)},
		Doc:   retrieve.DocInfo{ID: doc, Title: title, Path: doc + ".txt"},
	}}
}

// fakeRetriever returns the same hits for every query.
type fakeRetriever struct {
	hits    []retrieve.Hit
	queries []retrieve.Query
}

func (f *fakeRetriever) Search(_ context.Context, q retrieve.Query) ([]retrieve.Hit, error) {
	f.queries = append(f.queries, q)
	return f.hits, nil
}

// reply is a canned model response: its text, each token's
// log-probability, the model's name, or an error.
type reply struct {
	text    string
	logprob float64
	model   string
	err     error
}

// fakeModel answers with its replies in turn, streaming word by word.
type fakeModel struct {
	replies []reply
	reqs    []llm.Request
}

func (m *fakeModel) Chat(_ context.Context, req llm.Request, stream func(string) error) (*llm.Response, error) {
	r := m.replies[len(m.reqs)]
	m.reqs = append(m.reqs, req)
	if r.err != nil {
		return nil, r.err
	}
	var lps []llm.Logprob
	for _, w := range strings.SplitAfter(r.text, " ") {
		if stream != nil {
			if err := stream(w); err != nil {
				return nil, err
			}
		}
		lps = append(lps, llm.Logprob{TokenLogprob: llm.TokenLogprob{Token: w, Logprob: r.logprob}})
	}
	u := llm.Usage{PromptTokens: 100, CompletionTokens: len(lps), TotalTokens: 100 + len(lps)}
	return &llm.Response{Model: r.model, Text: r.text, Logprobs: lps, Usage: u, Cost: 0.01, FinishReason: llm.FinishStop}, nil
}

// checkOffsets asserts that every citation's text is its document's
// text[Start:End].
func checkOffsets(t *testing.T, cs []Citation) {
	t.Helper()
	for _, c := range cs {
		if got := testDocs[c.DocID][c.Start:c.End]; got != c.Text {
			t.Errorf("citation %d: %s[%d:%d] = %q, not the cited %q", c.Number, c.DocID, c.Start, c.End, got, c.Text)
		}
	}
}

func TestExtractive(t *testing.T) {
	hits := []retrieve.Hit{hitOf("rivers", "Rivers", "Rivers carry"), hitOf("volcano", "Volcanoes", "Volcanoes"), hitOf("nile", "河流", "长江")}
	for _, tc := range []struct {
		question string
		want     []string // cited sentences, best first
		abstain  bool
	}{
		{"What does magma erupt as?", []string{"Magma rises through the crust and erupts as lava."}, false},
		{"Where do rivers carry sediment?", []string{"Rivers carry sediment to the sea."}, false},
		{"Where is the Nile delta?", []string{"The Nile delta is in Egypt."}, false},
		{"Where does the sea meet rivers with sediment?", []string{"Rivers carry sediment to the sea.", "A delta forms where a river meets the sea."}, false},
		{"尼罗河注入哪里？", []string{"尼罗河流经埃及，注入地中海。"}, false},
		{"Who won the Super Bowl in 2016?", nil, true},
	} {
		p := &Pipeline{Retriever: &fakeRetriever{hits: hits}}
		var streamed strings.Builder
		a, err := p.Ask(context.Background(), Question{Text: tc.question, Stream: func(d string) error { streamed.WriteString(d); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range a.Citations {
			got = append(got, c.Text)
		}
		if !slices.Equal(got, tc.want) || a.Abstained != tc.abstain || a.Model != ExtractiveModel {
			t.Errorf("%q: cited %q (abstained %v, model %q), want %q\ntrace %q", tc.question, got, a.Abstained, a.Model, tc.want, a.Trace)
		}
		checkOffsets(t, a.Citations)
		if streamed.String() != a.Text {
			t.Errorf("%q: streamed %q, answer %q", tc.question, streamed.String(), a.Text)
		}
		if tc.abstain {
			if a.Text != IDontKnow || a.Confidence != 0 || !strings.Contains(strings.Join(a.Trace, "\n"), "< 0.30") {
				t.Errorf("%q: abstention %q, confidence %v, trace %q", tc.question, a.Text, a.Confidence, a.Trace)
			}
			continue
		}
		if a.Confidence != a.Support || a.Support < DefaultMinSupport {
			t.Errorf("%q: confidence %v, support %v", tc.question, a.Confidence, a.Support)
		}
		if !strings.HasSuffix(a.Text, "[1]") && len(tc.want) == 1 {
			t.Errorf("%q: answer %q lacks its citation marker", tc.question, a.Text)
		}
	}
}

func TestExtractiveOffsetsIntoDocument(t *testing.T) {
	h := hitOf("rivers", "Rivers", "Rivers carry")
	if h.Chunk.Start == 0 {
		t.Fatal("the test chunk should start inside its document")
	}
	p := &Pipeline{Retriever: &fakeRetriever{hits: []retrieve.Hit{h}}}
	a, err := p.Ask(context.Background(), Question{Text: "Where does a delta form?"})
	if err != nil {
		t.Fatal(err)
	}
	want := Citation{Number: 1, DocID: "rivers", ChunkID: "rivers#0", Title: "Rivers", Path: "rivers.txt",
		Text: "A delta forms where a river meets the sea.", Start: 42, End: 84}
	if len(a.Citations) == 0 || a.Citations[0] != want {
		t.Fatalf("citations %+v, want %+v", a.Citations, want)
	}
	checkOffsets(t, a.Citations)
}

func TestMinSupport(t *testing.T) {
	hits := []retrieve.Hit{hitOf("volcano", "Volcanoes", "Volcanoes")}
	q := "What does magma erupt as in Iceland?" // support ≈ 0.49: Iceland is nowhere
	for _, tc := range []struct {
		min     float64
		abstain bool
	}{{0, false}, {0.9, true}, {-1, false}} {
		m := &fakeModel{replies: []reply{{text: "Red [1].", logprob: -0.1}}}
		p := &Pipeline{Retriever: &fakeRetriever{hits: hits}, Model: m, MinSupport: tc.min}
		a, err := p.Ask(context.Background(), Question{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if a.Abstained != tc.abstain || tc.abstain != (len(m.reqs) == 0) {
			t.Errorf("min support %v: support %.2f, abstained %v, model asked %d times", tc.min, a.Support, a.Abstained, len(m.reqs))
		}
	}
}

// modelHits are shown to the model as passages [1] rivers, [2] volcano.
func modelHits() []retrieve.Hit {
	return []retrieve.Hit{hitOf("rivers", "Rivers", "Rivers carry"), hitOf("volcano", "Volcanoes", "Volcanoes")}
}

func TestModelAnswerCitations(t *testing.T) {
	for _, tc := range []struct {
		reply     string
		chunks    []string
		numbers   []int
		traceHas  string
		lowerConf bool
	}{
		{"Magma erupts as lava [2].", []string{"volcano#0"}, []int{2}, "", false},
		{"Lava [2]; rivers carry sediment to the sea [1][2].", []string{"volcano#0", "rivers#0"}, []int{2, 1}, "", false},
		{"Magma erupts as lava.", nil, nil, "cites no passage", true},
		{"Lava [7].", nil, nil, "cites [7], but only 2 passages were shown", true},
	} {
		m := &fakeModel{replies: []reply{{text: tc.reply, logprob: -0.05, model: "small"}}}
		p := &Pipeline{Retriever: &fakeRetriever{hits: modelHits()}, Model: m}
		var streamed []string
		a, err := p.Ask(context.Background(), Question{Text: "What does magma erupt as?", Key: "alice",
			Stream: func(d string) error { streamed = append(streamed, d); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		var chunks []string
		var numbers []int
		for _, c := range a.Citations {
			chunks, numbers = append(chunks, c.ChunkID), append(numbers, c.Number)
			if c.Text != testDocs[c.DocID][c.Start:c.End] || c.Start != strings.Index(testDocs[c.DocID], c.Text) {
				t.Errorf("%q: citation %+v does not point at its chunk", tc.reply, c)
			}
		}
		if !slices.Equal(chunks, tc.chunks) || !slices.Equal(numbers, tc.numbers) {
			t.Errorf("%q: cited %v %v, want %v %v", tc.reply, chunks, numbers, tc.chunks, tc.numbers)
		}
		trace := strings.Join(a.Trace, "\n")
		if tc.traceHas != "" && !strings.Contains(trace, tc.traceHas) {
			t.Errorf("%q: trace %q lacks %q", tc.reply, trace, tc.traceHas)
		}
		if (a.Confidence < 0.5) != tc.lowerConf {
			t.Errorf("%q: confidence %.2f", tc.reply, a.Confidence)
		}
		if a.Text != tc.reply || strings.Join(streamed, "") != tc.reply || len(streamed) < 2 {
			t.Errorf("%q: text %q, streamed %q", tc.reply, a.Text, streamed)
		}
		req := m.reqs[0]
		if req.Key != "alice" || !req.Logprobs || len(req.Messages) != 2 ||
			!strings.Contains(req.Messages[1].Content, `<passage id="2" title="Volcanoes">`) ||
			!strings.Contains(req.Messages[1].Content, "Question: What does magma erupt as?") {
			t.Errorf("request %+v", req)
		}
		if a.Model != "small" || a.Usage.TotalTokens != 100+len(streamed) || a.Cost != 0.01 {
			t.Errorf("model %q usage %+v cost %v", a.Model, a.Usage, a.Cost)
		}
	}
}

func TestSelfCorrection(t *testing.T) {
	sure, unsure := -0.05, -5.0
	boom := errors.New("upstream down")
	for _, tc := range []struct {
		name     string
		replies  []reply // the model's, in turn
		escalate []reply // the escalation model's
		cot      bool
		replace  bool // the caller handles Replace
		text     string
		model    string
		calls    int // requests to the first model
		trace    []string
		streamed string // what the caller saw last (after the last Replace)
		replaced int
	}{
		{name: "confident: no retry", cot: true, replace: true,
			replies: []reply{{text: "Lava [2].", logprob: sure, model: "small"}},
			text:    "Lava [2].", model: "small", calls: 1, streamed: "Lava [2].",
		},
		{name: "chain of thought wins", cot: true, replace: true,
			replies: []reply{{text: "Basalt [2].", logprob: unsure, model: "small"},
				{text: "Passage 2 says magma erupts as lava.\nAnswer: Lava [2].", logprob: sure, model: "small"}},
			text: "Lava [2].", model: "small", calls: 2, streamed: "Lava [2].", replaced: 1,
			trace: []string{"retried with chain-of-thought →", "kept the retry"},
		},
		{name: "chain of thought loses", cot: true, replace: true,
			replies: []reply{{text: "Basalt [2].", logprob: -3, model: "small"},
				{text: "Unsure.\nAnswer: Rock [2].", logprob: -6, model: "small"}},
			text: "Basalt [2].", model: "small", calls: 2, streamed: "Basalt [2].",
			trace: []string{"kept the first answer"},
		},
		{name: "retry not streamed without Replace", cot: true,
			replies: []reply{{text: "Basalt [2].", logprob: unsure, model: "small"},
				{text: "Answer: Lava [2].", logprob: sure, model: "small"}},
			text: "Lava [2].", model: "small", calls: 2, streamed: "Basalt [2].",
			trace: []string{"kept the retry"},
		},
		{name: "escalation", replace: true,
			replies:  []reply{{text: "Basalt [2].", logprob: unsure, model: "small"}},
			escalate: []reply{{text: "Magma erupts as lava [2].", logprob: sure, model: "big"}},
			text:     "Magma erupts as lava [2].", model: "big", calls: 1, streamed: "Magma erupts as lava [2].", replaced: 1,
			trace: []string{"escalated to big →"},
		},
		{name: "chain of thought, then escalation", cot: true, replace: true,
			replies: []reply{{text: "Basalt [2].", logprob: unsure, model: "small"},
				{text: "Answer: Rock [2].", logprob: unsure - 1, model: "small"}},
			escalate: []reply{{text: "Lava [2].", model: "big"}},
			text:     "Lava [2].", model: "big", calls: 2, streamed: "Lava [2].", replaced: 1,
			trace: []string{"kept the first answer", "escalated to big"},
		},
		{name: "escalation fails", replace: true,
			replies:  []reply{{text: "Basalt [2].", logprob: unsure, model: "small"}},
			escalate: []reply{{err: boom}},
			text:     "Basalt [2].", model: "small", calls: 1, streamed: "Basalt [2].", replaced: 1,
			trace: []string{"the escalation failed (answer: asking the model: upstream down): kept the answer"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &fakeModel{replies: tc.replies}
			p := &Pipeline{Retriever: &fakeRetriever{hits: modelHits()}, Model: m, SelfCorrect: SelfCorrect{ChainOfThought: tc.cot}}
			var up *fakeModel
			if tc.escalate != nil {
				up = &fakeModel{replies: tc.escalate}
				p.SelfCorrect.Escalate = up
			}
			var shown strings.Builder
			replaced := 0
			q := Question{Text: "What does magma erupt as?", Stream: func(d string) error { shown.WriteString(d); return nil }}
			if tc.replace {
				q.Replace = func(reason string) error {
					if !strings.Contains(reason, "confidence") && !strings.Contains(reason, "escalation failed") {
						t.Errorf("replace reason %q", reason)
					}
					replaced++
					shown.Reset()
					return nil
				}
			}
			a, err := p.Ask(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if a.Text != tc.text || a.Model != tc.model || len(m.reqs) != tc.calls {
				t.Errorf("answer %q by %q after %d calls, want %q by %q after %d", a.Text, a.Model, len(m.reqs), tc.text, tc.model, tc.calls)
			}
			trace := strings.Join(a.Trace, "\n")
			for _, want := range tc.trace {
				if !strings.Contains(trace, want) {
					t.Errorf("trace lacks %q:\n%s", want, trace)
				}
			}
			if shown.String() != tc.streamed || replaced != tc.replaced {
				t.Errorf("caller sees %q after %d replacements, want %q after %d", shown.String(), replaced, tc.streamed, tc.replaced)
			}
			if tc.calls == 2 && !strings.Contains(m.reqs[1].Messages[0].Content, "Think step by step") {
				t.Errorf("the retry did not use the chain-of-thought template: %q", m.reqs[1].Messages[0].Content)
			}
			calls := len(m.reqs)
			if up != nil {
				calls += len(up.reqs)
			}
			if a.Usage.PromptTokens != 100*calls-100*countErrs(tc.escalate) {
				t.Errorf("usage %+v over %d calls", a.Usage, calls)
			}
		})
	}
}

func countErrs(rs []reply) int {
	n := 0
	for _, r := range rs {
		if r.err != nil {
			n++
		}
	}
	return n
}

func TestModelSaysIDontKnow(t *testing.T) {
	m := &fakeModel{replies: []reply{{text: "I don't know.", logprob: -0.01}}}
	p := &Pipeline{Retriever: &fakeRetriever{hits: modelHits()}, Model: m}
	a, err := p.Ask(context.Background(), Question{Text: "What does magma erupt as?"})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Abstained || len(a.Citations) != 0 {
		t.Errorf("abstained %v, citations %v", a.Abstained, a.Citations)
	}
}

func TestModelError(t *testing.T) {
	m := &fakeModel{replies: []reply{{err: errors.New("no route")}}}
	p := &Pipeline{Retriever: &fakeRetriever{hits: modelHits()}, Model: m}
	if _, err := p.Ask(context.Background(), Question{Text: "What does magma erupt as?"}); err == nil || !strings.Contains(err.Error(), "no route") {
		t.Fatalf("error %v", err)
	}
	if _, err := (&Pipeline{}).Ask(context.Background(), Question{Text: "x"}); err == nil {
		t.Fatal("no retriever: no error")
	}
}

func TestRetrievalQuery(t *testing.T) {
	r := &fakeRetriever{hits: modelHits()}
	p := &Pipeline{Retriever: r, K: 3, Mode: retrieve.ModeBM25}
	f := retrieve.Filter{PathPrefix: "geo/"}
	if _, err := p.Ask(context.Background(), Question{Text: "lava", Filter: f}); err != nil {
		t.Fatal(err)
	}
	if q := r.queries[0]; q.K != 3 || q.Mode != retrieve.ModeBM25 || q.Filter.PathPrefix != "geo/" || q.Text != "lava" {
		t.Errorf("query %+v", q)
	}
}

func TestContextBudget(t *testing.T) {
	words := func(s string) int { return len(strings.Fields(s)) }
	for _, tc := range []struct {
		context  int
		passages int // passages shown to the model
		err      string
	}{
		{0, 2, ""},
		{300, 2, ""}, // room for both
		{200, 1, ""}, // room for the first only
		{150, 0, "holds no passage"},
	} {
		m := &fakeModel{replies: []reply{{text: "Lava [1].", logprob: -0.1}}}
		p := &Pipeline{Retriever: &fakeRetriever{hits: modelHits()}, Model: m, Count: words, Context: tc.context,
			Request: llm.Request{MaxTokens: 50}, SelfCorrect: SelfCorrect{ChainOfThought: true}}
		a, err := p.Ask(context.Background(), Question{Text: "What does magma erupt as?"})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("context %d: error %v, want %q", tc.context, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("context %d: %v", tc.context, err)
		}
		shown := strings.Count(m.reqs[0].Messages[1].Content, "<passage id=")
		if shown != tc.passages {
			t.Errorf("context %d: %d passages shown, want %d; trace %q", tc.context, shown, tc.passages, a.Trace)
		}
		total := 0
		for _, msg := range m.reqs[0].Messages {
			total += words(msg.Content) + messageTokens
		}
		if tc.context > 0 && total+50 > tc.context {
			t.Errorf("context %d: prompt of %d words and 50 for the answer overflow it", tc.context, total)
		}
	}
}

func TestFewShotExamples(t *testing.T) {
	pool := prompt.Fixed([]prompt.Example{
		{Input: "What do rivers carry?", Output: "Sediment [1]."},
		{Input: "What is the capital of France?", Output: "Paris [1]."},
		{Input: "What erupts from volcanoes?", Output: "Lava [1]."},
	})
	for _, tc := range []struct {
		shots int
		want  []string // example questions in the prompt, in order
	}{
		{1, []string{"What erupts from volcanoes?"}},
		{2, []string{"What erupts from volcanoes?", "What do rivers carry?"}},
	} {
		m := &fakeModel{replies: []reply{{text: "Lava [2].", logprob: -0.05, model: "small"}}}
		p := &Pipeline{Retriever: &fakeRetriever{hits: modelHits()}, Model: m,
			Examples: &prompt.NGramOverlap{Examples: pool}, Shots: tc.shots}
		a, err := p.Ask(context.Background(), Question{Text: "What does magma erupt as from volcanoes?"})
		if err != nil {
			t.Fatal(err)
		}
		var prompts strings.Builder
		for _, msg := range m.reqs[0].Messages {
			prompts.WriteString(msg.Content)
		}
		text := prompts.String()
		last := -1
		for _, q := range tc.want {
			i := strings.Index(text, q)
			if i < 0 || i < last {
				t.Errorf("shots %d: example %q missing or out of order in %q", tc.shots, q, text)
			}
			last = i
		}
		if strings.Contains(text, "capital of France") {
			t.Errorf("shots %d: the least similar example is in the prompt", tc.shots)
		}
		if !strings.Contains(strings.Join(a.Trace, "\n"), fmt.Sprintf("%d worked examples", len(tc.want))) {
			t.Errorf("shots %d: trace %q", tc.shots, a.Trace)
		}
	}
}
