package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Output is what a variant answered to one example.
type Output struct {
	Text string `json:"text"`
	// Contexts are the passages the answer was given, in rank order (RAG
	// metrics); Retrieved the IDs of their documents (retrieval metrics);
	// Citations the sources the answer cites.
	Contexts  []string `json:"contexts,omitempty"`
	Retrieved []string `json:"retrieved,omitempty"`
	Citations []string `json:"citations,omitempty"`
	Usage     Usage    `json:"usage"`
}

// Usage is the cost of one answer.
type Usage struct {
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	Cost             float64 `json:"cost"`       // US dollars
	LatencyMS        float64 `json:"latency_ms"` // wall time of the answer
}

// Runner answers one example with one variant. The command layer builds
// it (models, adapters, prompts, retrieval), so the harness imports none of
// them. An error that is not ctx's is recorded against the pair, which a
// resumed run tries again.
type Runner func(ctx context.Context, v Variant, ex Example) (Output, error)

// Progress reports the harness's advance: Stage is "generate" or "judge";
// Done of Total pairs (work finished in an earlier, interrupted run counts
// as done).
type Progress struct {
	Stage       string
	Done, Total int
}

// Harness runs a test set through variants and reports their scores.
//
// Run is resumable: every finished (variant, example) answer is appended to
// Out/outputs.jsonl and every judge verdict to Out/judgments.jsonl, one
// synced line each, keyed by a fingerprint of the settings that produced
// it. A run started again with the same configuration skips what is there
// and continues where the last one stopped; changing a variant's settings
// re-runs that variant only.
type Harness struct {
	Config Config
	Runner Runner
	// Judge is the judge model (judge_* and RAG metrics); Embed the
	// embedding model (answer_relevancy).
	Judge Chat
	Embed Embed
	// JudgeID identifies the judge (and embedding) model in the resume
	// keys; "" derives it from Config.Judge and Config.Embedding.
	JudgeID  string
	Progress func(Progress)
}

// Names of the files in Config.Out.
const (
	OutputsFile   = "outputs.jsonl"
	JudgmentsFile = "judgments.jsonl"
	ReportJSON    = "report.json"
	ReportHTML    = "report.html"
)

// outputRecord is a line of outputs.jsonl.
type outputRecord struct {
	Key     string `json:"key"`
	Variant string `json:"variant"`
	Example string `json:"example"`
	Output  Output `json:"output"`
	Error   string `json:"error,omitempty"`
}

// judgmentRecord is a line of judgments.jsonl: a metric's result (its JSON
// form: RubricScore, RAGScore or PairwiseVerdict) or the error that
// prevented it. Final errors (an unreadable reply, an undefined score) are
// kept; others (a failed request) are tried again by a resumed run.
type judgmentRecord struct {
	Key     string          `json:"key"`
	Metric  string          `json:"metric"`
	Variant string          `json:"variant"`
	Example string          `json:"example"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   string          `json:"error,omitempty"`
	Final   bool            `json:"final,omitempty"`
}

// Run answers, judges, scores, and writes report.json and report.html to
// Config.Out.
func (h *Harness) Run(ctx context.Context) (*Report, error) {
	cfg := h.Config
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("eval run: %w", err)
	}
	if h.Runner == nil {
		return nil, errors.New("eval run: no runner")
	}
	if cfg.NeedsJudge() && h.Judge == nil {
		return nil, errors.New("eval run: the metrics need a judge model: set judge.model or judge.llm_url")
	}
	if cfg.NeedsEmbedding() && h.Embed == nil {
		return nil, errors.New("eval run: answer_relevancy needs an embedding model: set embedding.model or embedding.url")
	}
	exs, err := LoadExamples(cfg.Dataset, cfg.Limit)
	if err != nil {
		return nil, fmt.Errorf("eval run: dataset: %w", err)
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("eval run: %w", err)
	}
	outs, err := h.generate(ctx, cfg, exs)
	if err != nil {
		return nil, err
	}
	judged, err := h.judgeAll(ctx, cfg, exs, outs)
	if err != nil {
		return nil, err
	}
	rep, err := buildReport(ctx, cfg, exs, outs, judged)
	if err != nil {
		return nil, err
	}
	if err := rep.write(cfg.Out); err != nil {
		return nil, fmt.Errorf("eval run: %w", err)
	}
	return rep, nil
}

func (h *Harness) progress(stage string, done, total int) {
	if h.Progress != nil {
		h.Progress(Progress{Stage: stage, Done: done, Total: total})
	}
}

// outputs[v][i] is variant v's record for example i.
type outputs map[string][]*outputRecord

// generate answers every (variant, example) pair that outputs.jsonl does
// not hold yet.
func (h *Harness) generate(ctx context.Context, cfg Config, exs []Example) (outputs, error) {
	j, done, err := openRecords(filepath.Join(cfg.Out, OutputsFile), func(r *outputRecord) string { return r.Key })
	if err != nil {
		return nil, fmt.Errorf("eval run: %w", err)
	}
	defer j.close()

	outs := outputs{}
	type pair struct{ v, i int }
	var todo []pair
	for vi, v := range cfg.Variants {
		outs[v.Name] = make([]*outputRecord, len(exs))
		for i, ex := range exs {
			if r := done[fingerprint("output", v, ex)]; r != nil && r.Error == "" {
				outs[v.Name][i] = r
			} else {
				todo = append(todo, pair{vi, i})
			}
		}
	}
	total := len(cfg.Variants) * len(exs)
	var mu sync.Mutex
	finished := total - len(todo)
	h.progress("generate", finished, total)
	err = forEach(ctx, cfg.Concurrency, len(todo), func(ctx context.Context, k int) error {
		v, ex := cfg.Variants[todo[k].v], exs[todo[k].i]
		out, err := h.Runner(ctx, v, ex)
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		r := &outputRecord{Key: fingerprint("output", v, ex), Variant: v.Name, Example: ex.ID, Output: out}
		if err != nil {
			r.Error = err.Error()
		}
		if err := j.append(r); err != nil {
			return err
		}
		mu.Lock()
		outs[v.Name][todo[k].i] = r
		finished++
		h.progress("generate", finished, total)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("eval run: %w", err)
	}
	return outs, nil
}

// forEach calls do for 0..n-1 on up to workers goroutines (0: 1) and
// stops at the first error.
func forEach(ctx context.Context, workers, n int, do func(ctx context.Context, k int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				if err := do(ctx, k); err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for k := range n {
		select {
		case next <- k:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// judgments[metric][variant][i] is the judge's record for example i.
type judgments map[string]map[string][]*judgmentRecord

// judgeTask is one judge call to make (or to find in the journal).
type judgeTask struct {
	metric, variant string
	i               int
	key             string
	run             func(ctx context.Context) (any, error)
}

// judgeAll runs the judge metrics on every answered pair that
// judgments.jsonl does not hold yet.
func (h *Harness) judgeAll(ctx context.Context, cfg Config, exs []Example, outs outputs) (judgments, error) {
	tasks := h.judgeTasks(cfg, exs, outs)
	res := judgments{}
	if len(tasks) == 0 {
		return res, nil
	}
	j, done, err := openRecords(filepath.Join(cfg.Out, JudgmentsFile), func(r *judgmentRecord) string { return r.Key })
	if err != nil {
		return nil, fmt.Errorf("eval run: %w", err)
	}
	defer j.close()
	var todo []judgeTask
	for _, t := range tasks {
		if res[t.metric] == nil {
			res[t.metric] = map[string][]*judgmentRecord{}
		}
		if res[t.metric][t.variant] == nil {
			res[t.metric][t.variant] = make([]*judgmentRecord, len(exs))
		}
		if r := done[t.key]; r != nil && (r.Error == "" || r.Final) {
			res[t.metric][t.variant][t.i] = r
		} else {
			todo = append(todo, t)
		}
	}
	var mu sync.Mutex
	finished := len(tasks) - len(todo)
	h.progress("judge", finished, len(tasks))
	err = forEach(ctx, cfg.Concurrency, len(todo), func(ctx context.Context, k int) error {
		t := todo[k]
		result, err := t.run(ctx)
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		r := &judgmentRecord{Key: t.key, Metric: t.metric, Variant: t.variant, Example: exs[t.i].ID}
		if err != nil {
			r.Error, r.Final = err.Error(), isParseError(err) || errors.Is(err, ErrUndefined)
		} else if r.Result, err = json.Marshal(result); err != nil {
			return err
		}
		if err := j.append(r); err != nil {
			return err
		}
		mu.Lock()
		res[t.metric][t.variant][t.i] = r
		finished++
		h.progress("judge", finished, len(tasks))
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("eval run: %w", err)
	}
	return res, nil
}

// judgeTasks lists the judge work: each judge metric on each variant's
// answer to each example (judge_pairwise: each variant against the
// baseline). Pairs whose answer failed are not judged; the report counts
// them as errors.
func (h *Harness) judgeTasks(cfg Config, exs []Example, outs outputs) []judgeTask {
	judgeID := h.JudgeID
	if judgeID == "" {
		judgeID = fingerprint(cfg.Judge, cfg.Embedding)
	}
	var tasks []judgeTask
	for _, m := range cfg.Metrics {
		if !judgeMetric(m) {
			continue
		}
		for _, v := range cfg.Variants {
			if m == "judge_pairwise" && v.Name == cfg.Baseline {
				continue
			}
			for i, ex := range exs {
				out := outs[v.Name][i]
				if out == nil || out.Error != "" {
					continue
				}
				base := outs[cfg.Baseline][i]
				if m == "judge_pairwise" && (base == nil || base.Error != "") {
					continue
				}
				t := judgeTask{metric: m, variant: v.Name, i: i}
				t.key = fingerprint("judge", m, judgeID, cfg.Judge.Criteria, cfg.Judge.Questions, ex, out.Output)
				if m == "judge_pairwise" {
					t.key = fingerprint(t.key, base.Output)
				}
				t.run = h.judgeCall(cfg, m, ex, out.Output, base)
				tasks = append(tasks, t)
			}
		}
	}
	return tasks
}

// judgeCall returns the call that computes metric m for one answer.
func (h *Harness) judgeCall(cfg Config, m string, ex Example, out Output, base *outputRecord) func(context.Context) (any, error) {
	ref := ""
	if len(ex.References) > 0 {
		ref = ex.References[0]
	}
	rag := RAGInput{Question: ex.Input, Answer: out.Text, Reference: ref, Contexts: out.Contexts}
	return func(ctx context.Context) (any, error) {
		switch m {
		case "judge_rubric":
			return JudgeRubric(ctx, h.Judge, cfg.Judge.Criteria, RubricInput{Question: ex.Input, Reference: ref, Answer: out.Text})
		case "judge_pairwise":
			return JudgePairwise(ctx, h.Judge, PairwiseInput{Question: ex.Input, Reference: ref, A: out.Text, B: base.Output.Text})
		case "faithfulness":
			return Faithfulness(ctx, h.Judge, rag)
		case "answer_relevancy":
			return AnswerRelevancy(ctx, h.Judge, h.Embed, rag, cfg.Judge.Questions)
		case "context_precision":
			return ContextPrecision(ctx, h.Judge, rag)
		case "context_recall":
			return ContextRecall(ctx, h.Judge, rag)
		}
		return nil, fmt.Errorf("no judge metric %q", m)
	}
}
