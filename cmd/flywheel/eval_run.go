package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"flywheel/internal/answer"
	"flywheel/internal/collection"
	"flywheel/internal/embed"
	"flywheel/internal/eval"
	"flywheel/internal/llm"
	"flywheel/internal/prompt"
	"flywheel/internal/retrieve"
	"flywheel/internal/store"
)

const evalRunUsage = `usage: flywheel eval run CONFIG.yaml [--data-dir DIR] [--limit N] [--out DIR]

Runs a test set through one or more variants, computes the metrics, and
writes OUT/report.json and OUT/report.html, comparing each variant with the
baseline (95% bootstrap intervals, paired bootstrap p-values). A run that
is interrupted continues where it stopped when started again.

CONFIG.yaml (relative paths are relative to the file):

  dataset: {path: questions.jsonl}     # qa {"id","question","answers","doc_ids"}, pairs {"input","reference"}, or alpaca/sharegpt/messages
  out: runs/xquad
  metrics: [squad, rouge, chrf, meteor, recall@5, judge_rubric, judge_pairwise, ragas]
  variants:
    - {name: base, model: model.gguf}
    - {name: tuned, model: model.gguf, adapter: adapter-dir, prompt: instruct, max_tokens: 64}
    - {name: rag, model: model.gguf, collection: docs, retrieval: {mode: hybrid, k: 4}}
    - {name: cloud, llm_url: http://localhost:8080/v1, llm_model: NAME, api_key_env: KEY_VAR}
  baseline: base                       # default: the first variant
  limit: 100                           # first N examples (default: all)
  concurrency: 2
  bootstrap: 1000
  seed: 12345
  judge: {llm_url: ..., llm_model: ..., criteria: [{name: correctness, description: ...}], questions: 3}
  embedding: {model: bge-dir}          # or {url: ..., name: ...}; answer_relevancy only

Metrics: bleu chrf chrf++ ter rouge1 rouge2 rougeL rougeLsum (rouge) squad_em
squad_f1 (squad) cmrc_em cmrc_f1 (cmrc) meteor recall@K mrr@K ndcg@K
judge_rubric judge_pairwise faithfulness answer_relevancy context_precision
context_recall (ragas).

Flags:
`

// runEvalRun is `flywheel eval run CONFIG.yaml`.
func runEvalRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval run", stderr)
	fs.Usage = func() {
		io.WriteString(stderr, evalRunUsage)
		fs.PrintDefaults()
	}
	dataDir := fs.String("data-dir", "", "data `directory` holding the collections and prompt overrides (default: the config's data_dir, else "+store.DefaultDir+")")
	limit := fs.Int("limit", -1, "score only the first `N` examples (overrides the config)")
	out := fs.String("out", "", "output `directory` (overrides the config)")
	threads := fs.Int("threads", 0, "compute `threads` of local models (0: one per core)")
	var path string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		path, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if path == "" && fs.NArg() == 1 {
		path = fs.Arg(0)
	} else if fs.NArg() > 0 || path == "" {
		fs.Usage()
		return fmt.Errorf("eval run: give one CONFIG.yaml")
	}
	cfg, err := eval.LoadConfig(path)
	if err != nil {
		return fmt.Errorf("eval run: %w", err)
	}
	if *limit >= 0 {
		cfg.Limit = *limit
	}
	if *out != "" {
		cfg.Out = *out
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if cfg.DataDir == "" {
		cfg.DataDir = store.DefaultDir
	}
	env, err := newRunEnv(ctx, cfg, *threads, stderr)
	if err != nil {
		return fmt.Errorf("eval run: %s: %w", path, err)
	}
	defer env.close()

	bars := map[string]*progress{}
	h := &eval.Harness{Config: cfg, Runner: env.run, Judge: env.judge, Embed: env.embed, JudgeID: env.judgeID,
		Progress: func(p eval.Progress) {
			b := bars[p.Stage]
			if b == nil {
				unit := map[string]string{"generate": "answers", "judge": "judgments"}[p.Stage]
				b = newProgress(stderr, "eval run: "+p.Stage, unit)
				bars[p.Stage] = b
			}
			b.Set(int64(p.Done), int64(p.Done), int64(p.Total))
		}}
	rep, err := h.Run(ctx)
	for _, b := range bars {
		b.Done()
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("%w (the answers so far are kept in %s: run the same command again to continue)", err, cfg.Out)
		}
		return err
	}
	printRunSummary(stdout, rep, cfg.Out)
	return nil
}

// printRunSummary prints each metric's score per variant, with intervals
// and the difference from the baseline.
func printRunSummary(w io.Writer, rep *eval.Report, out string) {
	fmt.Fprintf(w, "%d examples, baseline %s\n", rep.Examples, rep.Baseline)
	deltas := map[string]map[string]eval.MetricDelta{}
	for _, c := range rep.Comparisons {
		deltas[c.Variant] = map[string]eval.MetricDelta{}
		for _, d := range c.Metrics {
			deltas[c.Variant][d.Metric] = d
		}
	}
	for _, v := range rep.Variants {
		fmt.Fprintf(w, "\n%s (%d answered, %d failed)\n", v.Name, v.Answered, v.Failed)
		for _, m := range v.Metrics {
			line := fmt.Sprintf("  %-24s %9.4g  [%.4g, %.4g]  n=%d", m.Metric, m.Score, m.Low, m.High, m.N)
			if m.Errors > 0 {
				line += fmt.Sprintf(" (%d not scored)", m.Errors)
			}
			if d, ok := deltas[v.Name][m.Metric]; ok && d.N > 0 {
				mark := ""
				if d.Better || d.Worse {
					mark = " *"
				}
				line += fmt.Sprintf("  Δ %+.4g [%+.4g, %+.4g] p=%.4f%s", d.Delta, d.Low, d.High, d.PValue, mark)
			}
			fmt.Fprintln(w, line)
		}
	}
	for _, c := range rep.Comparisons {
		if p := c.Pairwise; p != nil {
			fmt.Fprintf(w, "\npairwise %s vs %s: win %.1f%% tie %.1f%% loss %.1f%% (n=%d, %d inconsistent, %d errors)\n",
				c.Variant, c.Baseline, 100*p.WinRate.Rate, 100*p.TieRate.Rate, 100*p.LossRate.Rate, p.N, p.Inconsistent, p.Errors)
		}
	}
	fmt.Fprintf(w, "\nreport: %s/%s, %s/%s\n", out, eval.ReportJSON, out, eval.ReportHTML)
}

// runEnv holds what the variants and the judge need: models (one per
// local model file, adapters loaded by name), endpoints, prompt templates,
// collections.
type runEnv struct {
	prompts  *prompt.Library
	locals   map[string]*llm.Local // by model path
	variants map[string]*variantEnv
	st       *store.Store
	colls    map[string]*collection.Collection
	judge    eval.Chat
	judgeID  string
	embed    eval.Embed
	closers  []func() error
}

// variantEnv is one variant's model and, with a collection, its answer
// pipeline.
type variantEnv struct {
	model    llm.Model // nil: extractive answers (with a collection)
	name     string    // Request.Model: the adapter's name, or "" for the base
	template *prompt.Template
	pipeline *answer.Pipeline
}

// adapterName is a name for an adapter the local engine accepts.
var adapterName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

func newRunEnv(ctx context.Context, cfg eval.Config, threads int, stderr io.Writer) (_ *runEnv, err error) {
	env := &runEnv{locals: map[string]*llm.Local{}, variants: map[string]*variantEnv{}, colls: map[string]*collection.Collection{}}
	defer func() {
		if err != nil {
			env.close()
		}
	}()
	if env.prompts, err = prompt.Open(cfg.DataDir); err != nil {
		return nil, err
	}
	for _, v := range cfg.Variants {
		ve, err := env.variant(ctx, cfg, v, threads, stderr)
		if err != nil {
			return nil, fmt.Errorf("variant %s: %w", v.Name, err)
		}
		env.variants[v.Name] = ve
	}
	if err := env.openJudge(cfg, threads); err != nil {
		return nil, err
	}
	if cfg.NeedsEmbedding() {
		if err := env.openEmbedding(cfg.Embedding); err != nil {
			return nil, err
		}
	}
	return env, nil
}

func (e *runEnv) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// model opens the chat model m names: a local model (shared by every
// variant of the same file, an adapter loaded under adapter) or an
// OpenAI-compatible endpoint. It returns the model and the Request.Model
// to ask for.
func (e *runEnv) model(m eval.ModelConfig, adapter string, slots, threads int) (llm.Model, string, error) {
	switch {
	case m.Model != "" && m.LLMURL != "":
		return nil, "", fmt.Errorf("model %s and llm_url %s are both set: choose a local model or an endpoint", m.Model, m.LLMURL)
	case m.LLMURL != "":
		if m.Adapter != "" {
			return nil, "", fmt.Errorf("adapter %s needs a local model (model:), not llm_url", m.Adapter)
		}
		o, err := llm.NewOpenAI(llm.OpenAIConfig{URL: m.LLMURL, Model: m.LLMModel, APIKeyEnv: m.APIKeyEnv})
		return o, "", err
	case m.Model == "":
		return nil, "", nil
	}
	l := e.locals[m.Model]
	if l == nil {
		var err error
		if l, err = llm.NewLocal(llm.LocalConfig{Model: m.Model, Slots: max(1, slots), Threads: threads}); err != nil {
			return nil, "", err
		}
		e.locals[m.Model] = l
		e.closers = append(e.closers, l.Close)
	}
	if m.Adapter == "" {
		return l, "", nil
	}
	name := "adapter-" + adapterName.ReplaceAllString(adapter, "_")
	if !containsString(l.Adapters(), name) {
		if err := l.LoadAdapter(name, m.Adapter); err != nil {
			return nil, "", err
		}
	}
	return l, name, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (e *runEnv) variant(ctx context.Context, cfg eval.Config, v eval.Variant, threads int, stderr io.Writer) (*variantEnv, error) {
	m, name, err := e.model(v.ModelConfig, v.Name, cfg.Concurrency, threads)
	if err != nil {
		return nil, err
	}
	ve := &variantEnv{model: m, name: name}
	if v.Collection == "" {
		if m == nil {
			return nil, errors.New("no model: set model (a local model file) or llm_url, or a collection for extractive answers")
		}
		tmpl := v.Prompt
		if tmpl == "" {
			tmpl = "instruct"
		}
		if ve.template, err = e.prompts.Get(tmpl); err != nil {
			return nil, fmt.Errorf("prompt: %w", err)
		}
		for _, tv := range ve.template.Vars {
			if tv.Required && !fillable[tv.Name] {
				return nil, fmt.Errorf("prompt %s needs variable %q, which eval run cannot fill (it fills %s): choose another template", tmpl, tv.Name, fillableList())
			}
		}
		return ve, nil
	}
	c, err := e.collection(ctx, cfg.DataDir, v, stderr)
	if err != nil {
		return nil, err
	}
	mode, err := retrieve.ParseMode(v.Retrieval.Mode)
	if v.Retrieval.Mode == "" {
		mode, err = c.Retriever().DefaultMode(), nil
	}
	if err != nil {
		return nil, err
	}
	ve.pipeline = &answer.Pipeline{Retriever: c.Retriever(), Mode: mode, K: v.Retrieval.K, Model: m, Prompts: e.prompts,
		Template: v.Prompt, Request: llm.Request{Model: name, MaxTokens: v.MaxTokens, Temperature: v.Temperature}}
	return ve, nil
}

// collection opens a collection of the data directory once, with its
// embedding model unless every variant that uses it searches by BM25.
func (e *runEnv) collection(ctx context.Context, dataDir string, v eval.Variant, stderr io.Writer) (*collection.Collection, error) {
	if c := e.colls[v.Collection]; c != nil {
		return c, nil
	}
	if e.st == nil {
		st, err := store.Open(ctx, dataDir)
		if err != nil {
			return nil, err
		}
		e.st = st
		e.closers = append(e.closers, st.Close)
	}
	c, err := collection.Open(ctx, e.st, v.Collection, collectionEvents(stderr))
	if err != nil {
		return nil, err
	}
	if v.Retrieval.Mode != string(retrieve.ModeBM25) {
		if err := c.OpenVectors(ctx, store.EmbedConfig{}, ""); err != nil {
			return nil, fmt.Errorf("%w (retrieval: {mode: bm25} searches without it)", err)
		}
	}
	e.colls[v.Collection] = c
	return c, nil
}

// fillable are the template variables eval run fills from an example.
var fillable = map[string]bool{"instruction": true, "question": true, "system": true}

func fillableList() string { return "instruction, question and system" }

// run answers one example with one variant.
func (e *runEnv) run(ctx context.Context, v eval.Variant, ex eval.Example) (eval.Output, error) {
	ve := e.variants[v.Name]
	if ve.pipeline != nil {
		return ve.ask(ctx, ex)
	}
	system := v.System
	if system == "" {
		system = ex.System
	}
	vars := prompt.Vars{}
	for _, tv := range ve.template.Vars {
		switch tv.Name {
		case "instruction", "question":
			vars[tv.Name] = prompt.String(ex.Input)
		case "system":
			vars[tv.Name] = prompt.String(system)
		}
	}
	msgs, err := ve.template.Render(vars)
	if err != nil {
		return eval.Output{}, err
	}
	if len(ex.History) > 0 && len(msgs) > 0 {
		last := msgs[len(msgs)-1]
		msgs = msgs[:len(msgs)-1]
		for _, h := range ex.History {
			msgs = append(msgs, llm.Message{Role: string(h.Role), Content: h.Content})
		}
		msgs = append(msgs, last)
	}
	start := time.Now()
	resp, err := ve.model.Chat(ctx, llm.Request{Model: ve.name, Messages: msgs, MaxTokens: v.MaxTokens, Temperature: v.Temperature}, nil)
	if err != nil {
		return eval.Output{}, err
	}
	return eval.Output{Text: strings.TrimSpace(resp.Text), Usage: eval.Usage{PromptTokens: resp.Usage.PromptTokens,
		CompletionTokens: resp.Usage.CompletionTokens, Cost: resp.Cost, LatencyMS: msSince(start)}}, nil
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// ask answers through the variant's answer pipeline, recording the
// passages it retrieved as the answer's contexts.
func (ve *variantEnv) ask(ctx context.Context, ex eval.Example) (eval.Output, error) {
	rec := &recordingRetriever{inner: ve.pipeline.Retriever}
	p := *ve.pipeline
	p.Retriever = rec
	start := time.Now()
	a, err := p.Ask(ctx, answer.Question{Text: ex.Input})
	if err != nil {
		return eval.Output{}, err
	}
	out := eval.Output{Text: a.Text, Usage: eval.Usage{PromptTokens: a.Usage.PromptTokens,
		CompletionTokens: a.Usage.CompletionTokens, Cost: a.Cost, LatencyMS: msSince(start)}}
	seen := map[string]bool{}
	for _, h := range rec.hits() {
		out.Contexts = append(out.Contexts, h.Chunk.Text)
		if !seen[h.Doc.ID] {
			seen[h.Doc.ID] = true
			out.Retrieved = append(out.Retrieved, h.Doc.ID)
		}
	}
	for _, c := range a.Citations {
		out.Citations = append(out.Citations, c.DocID)
	}
	return out, nil
}

// recordingRetriever keeps the hits of the searches made through it.
type recordingRetriever struct {
	inner answer.Retriever
	mu    sync.Mutex
	found []retrieve.Hit
}

func (r *recordingRetriever) Search(ctx context.Context, q retrieve.Query) ([]retrieve.Hit, error) {
	hits, err := r.inner.Search(ctx, q)
	r.mu.Lock()
	r.found = append(r.found, hits...)
	r.mu.Unlock()
	return hits, err
}

func (r *recordingRetriever) hits() []retrieve.Hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.found
}

// openJudge adapts the judge model to eval.Chat: greedy decoding, one
// system and one user message.
func (e *runEnv) openJudge(cfg eval.Config, threads int) error {
	j := cfg.Judge
	e.judgeID = fmt.Sprintf("%s|%s|%s|%s", j.Model, j.Adapter, j.LLMURL, j.LLMModel)
	if !cfg.NeedsJudge() {
		return nil
	}
	m, name, err := e.model(j.ModelConfig, "judge", cfg.Concurrency, threads)
	if err != nil {
		return fmt.Errorf("judge: %w", err)
	}
	if m == nil {
		return errors.New("the metrics need a judge model: set judge.model (a local model file) or judge.llm_url and judge.llm_model")
	}
	maxTokens := j.MaxTokens
	if maxTokens == 0 {
		maxTokens = 512
	}
	e.judge = func(ctx context.Context, system, user string) (string, error) {
		resp, err := m.Chat(ctx, llm.Request{Model: name, MaxTokens: maxTokens, Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: system}, {Role: llm.RoleUser, Content: user}}}, nil)
		if err != nil {
			return "", err
		}
		return resp.Text, nil
	}
	return nil
}

// openEmbedding adapts the embedding model to eval.Embed.
func (e *runEnv) openEmbedding(c eval.EmbeddingConfig) error {
	emb, err := embed.New(embed.Config{Model: c.Model, Remote: embed.RemoteConfig{URL: c.URL, Model: c.Name, APIKeyEnv: c.APIKeyEnv}})
	if err != nil {
		return fmt.Errorf("embedding: %w", err)
	}
	e.judgeID += "|" + emb.Name()
	e.embed = emb.Embed
	return nil
}
