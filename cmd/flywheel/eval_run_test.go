package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"flywheel/internal/eval"
)

// fakeJudgeEndpoint is an OpenAI-compatible /chat/completions server on the
// loopback: it answers every question "four" and judges as a fixed judge
// (every rubric score 4; pairwise, answer A wins).
func fakeJudgeEndpoint(t *testing.T, calls *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req struct {
			Messages []struct{ Role, Content string } `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		text := "four"
		if sys := req.Messages[0].Content; strings.HasPrefix(sys, "You are an impartial judge grading") {
			text = `{"correctness": 4, "relevance": 4, "completeness": 4, "clarity": 4}`
		} else if strings.HasPrefix(sys, "You are an impartial judge comparing") {
			text = `{"winner": "A"}`
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id": "x", "object": "chat.completion", "model": "fake", "choices": [{"index": 0, "message": {"role": "assistant", "content": %q}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 7, "completion_tokens": 1, "total_tokens": 8}}`, text)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestEvalRun runs a local model (stories260K) and an endpoint on ten
// XQuAD questions, with a judge, and checks report.json.
func TestEvalRun(t *testing.T) {
	questions := sharedData(t, "qa/xquad_en/questions.jsonl")
	model := sharedData(t, "models/stories260K/stories260K-f32.gguf")
	var calls atomic.Int64
	srv := fakeJudgeEndpoint(t, &calls)
	dir := t.TempDir()
	config := fmt.Sprintf(`dataset: {path: %s}
out: out
metrics: [squad_em, chrf, judge_rubric, judge_pairwise]
variants:
  - {name: local, model: %s, max_tokens: 8}
  - {name: endpoint, llm_url: %s, llm_model: fake}
limit: 10
concurrency: 2
bootstrap: 100
judge: {llm_url: %s, llm_model: judge}
`, questions, model, srv.URL, srv.URL)
	path := filepath.Join(dir, "run.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := flywheel(t, "eval", "run", path, "--threads", "2")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "out", eval.ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	var rep eval.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Variants) != 2 || rep.Variants[0].Answered != 10 || rep.Variants[1].Answered != 10 {
		t.Fatalf("report: %s", data)
	}
	score := func(v eval.VariantReport, metric string) float64 {
		for _, m := range v.Metrics {
			if m.Metric == metric {
				return m.Score
			}
		}
		t.Fatalf("no %s for %s", metric, v.Name)
		return 0
	}
	// "four" is the gold answer of 3 of the first 10 questions.
	if em := score(rep.Variants[1], "squad_em"); em != 30 {
		t.Errorf("endpoint squad_em = %v, want 30", em)
	}
	if r := score(rep.Variants[1], "judge_rubric"); r != 4 {
		t.Errorf("endpoint judge_rubric = %v, want 4", r)
	}
	// The judge always prefers A: each pair is judged twice, swapped, so
	// every verdict is inconsistent and counts as a tie.
	if p := rep.Comparisons[0].Pairwise; p == nil || p.Ties != 10 || p.Inconsistent != 10 {
		t.Errorf("pairwise: %+v", p)
	}
	if rep.Variants[1].Usage.PromptTokens != 70 {
		t.Errorf("endpoint usage: %+v", rep.Variants[1].Usage)
	}
	if !strings.Contains(stdout, "squad_em") || !strings.Contains(stdout, "report.html") {
		t.Errorf("summary:\n%s", stdout)
	}
	// Started again, the run answers and judges nothing.
	before := calls.Load()
	if _, stderr, err := flywheel(t, "eval", "run", path); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if calls.Load() != before {
		t.Errorf("the second run made %d requests, want 0", calls.Load()-before)
	}
}

func TestEvalRunErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	q := write("q.jsonl", `{"id": "1", "question": "q?", "answers": ["a"]}`+"\n")
	cases := []struct {
		name, config, want string
	}{
		{"unknown key", "dataset: {path: q.jsonl}\nout: o\nmetrics: [squad]\nvariants: [{name: a, modle: x}]\n", "run.yaml:4: field modle not found"},
		{"no model", "dataset: {path: q.jsonl}\nout: o\nmetrics: [squad]\nvariants: [{name: a}]\n", "variant a: no model"},
		{"no judge", "dataset: {path: q.jsonl}\nout: o\nmetrics: [judge_rubric]\nvariants: [{name: a, llm_url: 'http://127.0.0.1:1', llm_model: m}]\n", "need a judge model"},
		{"both", "dataset: {path: q.jsonl}\nout: o\nmetrics: [squad]\nvariants: [{name: a, model: m.gguf, llm_url: 'http://127.0.0.1:1'}]\n", "both set"},
		{"bad prompt", "dataset: {path: q.jsonl}\nout: o\nmetrics: [squad]\nvariants: [{name: a, llm_url: 'http://127.0.0.1:1', llm_model: m, prompt: nope}]\n", "prompt:"},
	}
	_ = q
	for _, c := range cases {
		path := write("run.yaml", c.config)
		_, _, err := flywheel(t, "eval", "run", path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
	if _, _, err := flywheel(t, "eval", "run"); err == nil {
		t.Error("eval run without a config: no error")
	}
}
