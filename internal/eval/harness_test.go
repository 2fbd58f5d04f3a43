package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"
)

const xquadQuestions = "../../../shared/testdata/qa/xquad_en/questions.jsonl"

func xquadPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(xquadQuestions); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared test data missing: %v", err)
		}
		t.Skipf("shared test data missing: %s", xquadQuestions)
	}
	return xquadQuestions
}

// fakeRunner answers with the first gold answer, except that variant
// "half" answers "wrong answer" on every second example (by position in
// the set). It counts its calls per (variant, example).
type fakeRunner struct {
	mu    sync.Mutex
	calls map[string]int
	index map[string]int // example ID → position
	// cancelAfter, when > 0, cancels the run after that many calls.
	cancelAfter int
	cancel      context.CancelFunc
}

func newFakeRunner(t *testing.T, path string) *fakeRunner {
	exs, err := LoadExamples(DatasetConfig{Path: path}, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRunner{calls: map[string]int{}, index: map[string]int{}}
	for i, ex := range exs {
		f.index[ex.ID] = i
	}
	return f
}

func (f *fakeRunner) run(ctx context.Context, v Variant, ex Example) (Output, error) {
	f.mu.Lock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	if f.cancelAfter > 0 && n >= f.cancelAfter {
		f.cancel()
		f.mu.Unlock()
		return Output{}, ctx.Err()
	}
	f.calls[v.Name+"/"+ex.ID]++
	f.mu.Unlock()
	text := ex.References[0]
	if v.Name == "half" && f.index[ex.ID]%2 == 1 {
		text = "wrong answer"
	}
	return Output{Text: text, Contexts: []string{"The answer is " + ex.References[0] + "."},
		Usage: Usage{PromptTokens: 10, CompletionTokens: 2, Cost: 0.001, LatencyMS: 5}}, nil
}

// goldJudge is a deterministic judge: rubric scores are 5 for an answer
// equal to the reference and 1 otherwise; pairwise, an answer equal to the
// reference beats one that is not; the RAG judgments are ragJudge's.
func goldJudge(ctx context.Context, system, user string) (string, error) {
	ref := section(user, "Reference answer")
	switch {
	case strings.HasPrefix(system, "You are an impartial judge grading"):
		s := 1
		if section(user, "Answer") == ref {
			s = 5
		}
		return fmt.Sprintf(`{"correctness": %d, "relevance": %d, "completeness": %d, "clarity": %d}`, s, s, s, s), nil
	case strings.HasPrefix(system, "You are an impartial judge comparing"):
		a, b := section(user, "Answer A") == ref, section(user, "Answer B") == ref
		switch {
		case a && !b:
			return `{"winner": "A"}`, nil
		case b && !a:
			return `{"winner": "B"}`, nil
		}
		return `{"winner": "tie"}`, nil
	}
	return ragJudge(ctx, system, user)
}

func harnessConfig(t *testing.T, out string) Config {
	return Config{
		Dataset:     DatasetConfig{Path: xquadPath(t)},
		Out:         out,
		Metrics:     []string{"squad", "chrf", "judge_rubric", "judge_pairwise", "faithfulness"},
		Variants:    []Variant{{Name: "base"}, {Name: "half"}},
		Limit:       30,
		Concurrency: 2,
		Bootstrap:   200,
	}
}

func metricOf(t *testing.T, v VariantReport, name string) MetricScore {
	t.Helper()
	for _, m := range v.Metrics {
		if m.Metric == name {
			return m
		}
	}
	t.Fatalf("variant %s has no metric %s", v.Name, name)
	return MetricScore{}
}

func TestHarnessReport(t *testing.T) {
	out := t.TempDir()
	f := newFakeRunner(t, xquadPath(t))
	h := &Harness{Config: harnessConfig(t, out), Runner: f.run, Judge: goldJudge}
	rep, err := h.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Examples != 30 || len(f.calls) != 60 {
		t.Fatalf("examples %d, runner pairs %d; want 30 and 60", rep.Examples, len(f.calls))
	}
	// Read back report.json: the file is the contract.
	data, err := os.ReadFile(filepath.Join(out, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	var got Report
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Schema != ReportSchema || got.Baseline != "base" || len(got.Variants) != 2 || len(got.Comparisons) != 1 {
		t.Fatalf("report: schema %q baseline %q, %d variants, %d comparisons", got.Schema, got.Baseline, len(got.Variants), len(got.Comparisons))
	}
	base, half := got.Variants[0], got.Variants[1]
	want := []struct {
		v      VariantReport
		metric string
		score  float64
	}{
		{base, "squad_em", 100}, {half, "squad_em", 50},
		{base, "squad_f1", 100},
		{base, "chrf", 100},
		{base, "judge_rubric", 5}, {half, "judge_rubric", 3}, {half, "judge_rubric.correctness", 3},
		// Every statement of a gold answer is in its context; "wrong answer" is not.
		{base, "faithfulness", 1}, {half, "faithfulness", 0.5},
	}
	for _, w := range want {
		m := metricOf(t, w.v, w.metric)
		if m.Score != w.score || m.N != 30 || m.Errors != 0 {
			t.Errorf("%s %s: score %v n %d errors %d; want %v, 30, 0", w.v.Name, w.metric, m.Score, m.N, m.Errors, w.score)
		}
		if m.Low > m.Score || m.High < m.Score {
			t.Errorf("%s %s: score %v outside its interval [%v, %v]", w.v.Name, w.metric, m.Score, m.Low, m.High)
		}
	}
	// The half variant's F1 is 50 plus the partial credit "wrong answer"
	// gets from gold answers that contain "answer" (none here).
	if m := metricOf(t, half, "squad_f1"); m.Score != 50 {
		t.Errorf("half squad_f1 = %v, want 50", m.Score)
	}
	if m := metricOf(t, base, "squad_em"); m.Low != 100 || m.High != 100 {
		t.Errorf("constant scores have a zero-width interval, got [%v, %v]", m.Low, m.High)
	}
	if base.Answered != 30 || base.Usage.PromptTokens != 300 || math.Abs(base.Usage.Cost-0.03) > 1e-12 || base.Usage.MeanLatencyMS != 5 {
		t.Errorf("usage: %+v answered %d", base.Usage, base.Answered)
	}
	c := got.Comparisons[0]
	for _, d := range c.Metrics {
		if d.Metric == "squad_em" {
			if d.Delta != -50 || d.Baseline != 100 || d.System != 50 || d.N != 30 || !d.Worse || d.PValue > 0.05 || d.High >= 0 {
				t.Errorf("squad_em comparison: %+v", d)
			}
		}
	}
	p := c.Pairwise
	if p == nil || p.N != 30 || p.Wins != 0 || p.Ties != 15 || p.Losses != 15 || p.Inconsistent != 0 || p.LossRate.Rate != 0.5 {
		t.Errorf("pairwise: %+v", p)
	}
	checkHTML(t, filepath.Join(out, ReportHTML), []string{"base", "half"})
}

// checkHTML parses the page with x/net/html's tokenizer and checks that
// every element closes in order, that it loads nothing from outside, and
// that it names every variant.
func checkHTML(t *testing.T, path string, variants []string) {
	t.Helper()
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	void := map[string]bool{"meta": true, "br": true, "img": true, "link": true, "input": true, "hr": true}
	var stack []string
	var text strings.Builder
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				t.Fatalf("report.html: %v", z.Err())
			}
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken:
			for _, a := range tok.Attr {
				if a.Key == "src" || a.Key == "href" {
					t.Errorf("report.html loads %s=%q: it must be self-contained", a.Key, a.Val)
				}
			}
			if tok.Data == "script" || tok.Data == "link" {
				t.Errorf("report.html has a <%s>", tok.Data)
			}
			if !void[tok.Data] {
				stack = append(stack, tok.Data)
			}
		case html.EndTagToken:
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				t.Fatalf("report.html: </%s> closes %v", tok.Data, stack)
			}
			stack = stack[:len(stack)-1]
		case html.TextToken:
			text.WriteString(tok.Data)
		}
	}
	if len(stack) != 0 {
		t.Errorf("report.html: unclosed %v", stack)
	}
	for _, v := range variants {
		if !strings.Contains(text.String(), v) {
			t.Errorf("report.html does not name variant %q", v)
		}
	}
}

// TestHarnessResume interrupts a run half-way, damages the journal's last
// line as a crash would, and checks that the second run answers only what
// the first did not.
func TestHarnessResume(t *testing.T) {
	out := t.TempDir()
	path := xquadPath(t)
	cfg := harnessConfig(t, out)
	cfg.Metrics = []string{"squad_em", "judge_rubric"}

	first := newFakeRunner(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	first.cancelAfter, first.cancel = 31, cancel
	if _, err := (&Harness{Config: cfg, Runner: first.run, Judge: goldJudge}).Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: got %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(out, ReportJSON)); err == nil {
		t.Error("an interrupted run wrote a report")
	}
	// A crash in the middle of a write leaves half a line.
	jf, err := os.OpenFile(filepath.Join(out, OutputsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	jf.WriteString(`{"key": "half a li`)
	jf.Close()

	second := newFakeRunner(t, path)
	judgeCalls := 0
	var mu sync.Mutex
	counting := func(ctx context.Context, system, user string) (string, error) {
		mu.Lock()
		judgeCalls++
		mu.Unlock()
		return goldJudge(ctx, system, user)
	}
	rep, err := (&Harness{Config: cfg, Runner: second.run, Judge: counting}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	firstN := 0
	for pair, n := range first.calls {
		firstN += n
		if second.calls[pair] > 0 {
			t.Errorf("%s answered in both runs", pair)
		}
	}
	secondN := 0
	for _, n := range second.calls {
		secondN += n
	}
	if firstN != 31 || firstN+secondN != 60 {
		t.Errorf("runner calls: %d then %d; want 31 then 29", firstN, secondN)
	}
	if judgeCalls != 60 {
		t.Errorf("judge calls %d, want 60", judgeCalls)
	}
	if m := metricOf(t, rep.Variants[1], "squad_em"); m.Score != 50 || m.N != 30 {
		t.Errorf("resumed half squad_em = %v (n %d), want 50 (30)", m.Score, m.N)
	}

	// A third run does nothing but rewrite the report.
	third := newFakeRunner(t, path)
	judgeCalls = 0
	if _, err := (&Harness{Config: cfg, Runner: third.run, Judge: counting}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(third.calls) != 0 || judgeCalls != 0 {
		t.Errorf("a finished run ran again: %d runner, %d judge calls", len(third.calls), judgeCalls)
	}
	lines := bytes.Count(must(os.ReadFile(filepath.Join(out, OutputsFile))), []byte{'\n'})
	if lines != 60 {
		t.Errorf("outputs.jsonl has %d lines, want 60", lines)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestHarnessRunnerErrors checks that failed answers are counted, scored
// as empty by reference metrics, and tried again by the next run.
func TestHarnessRunnerErrors(t *testing.T) {
	out := t.TempDir()
	cfg := harnessConfig(t, out)
	cfg.Metrics = []string{"squad_em"}
	cfg.Variants = cfg.Variants[:1]
	cfg.Limit = 4
	fail := func(ctx context.Context, v Variant, ex Example) (Output, error) {
		if strings.HasSuffix(ex.ID, "5b") {
			return Output{}, errors.New("model crashed")
		}
		return Output{Text: ex.References[0]}, nil
	}
	rep, err := (&Harness{Config: cfg, Runner: fail}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Variants[0]
	if v.Failed != 1 || v.Answered != 3 || metricOf(t, v, "squad_em").Score != 75 {
		t.Errorf("failed %d answered %d em %v; want 1, 3, 75", v.Failed, v.Answered, metricOf(t, v, "squad_em").Score)
	}
	retried := 0
	again := func(ctx context.Context, v Variant, ex Example) (Output, error) {
		retried++
		return Output{Text: ex.References[0]}, nil
	}
	if rep, err = (&Harness{Config: cfg, Runner: again}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if retried != 1 || rep.Variants[0].Failed != 0 || metricOf(t, rep.Variants[0], "squad_em").Score != 100 {
		t.Errorf("retry: %d calls, failed %d; want 1 and 0", retried, rep.Variants[0].Failed)
	}
}

// TestHarnessNeedsJudge checks that judge metrics without a judge fail
// before any work.
func TestHarnessNeedsJudge(t *testing.T) {
	cfg := harnessConfig(t, t.TempDir())
	called := false
	run := func(ctx context.Context, v Variant, ex Example) (Output, error) { called = true; return Output{}, nil }
	if _, err := (&Harness{Config: cfg, Runner: run}).Run(context.Background()); err == nil || called {
		t.Errorf("got %v (runner called: %v), want an error before running", err, called)
	}
}
