package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"

	"flywheel/internal/answer"
	"flywheel/internal/embed"
	"flywheel/internal/llama"
	"flywheel/internal/llm"
	"flywheel/internal/prompt"
	"flywheel/internal/retrieve"
)

// askFlags are the flags of `flywheel ask`.
type askFlags struct {
	dataDir, name, mode                  *string
	embedding                            *embedFlags
	k, sentences, budget                 *int
	filters                              stringList
	modelPath, tokPath, loraPath         *string
	llmURL, llmModel, llmKeyEnv, pricing *string
	maxTokens, threads                   *int
	temperature, minSupport, threshold   *float64
	cot, asJSON, trace                   *bool
	examples, selector                   *string
	shots                                *int
}

func runAsk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ask", stderr)
	f := askFlags{
		dataDir:     dataDirFlag(fs),
		name:        fs.String("collection", "", "`name` of the collection to answer from"),
		mode:        fs.String("mode", "", "retrieval `mode`: bm25, vector or hybrid (default: hybrid with an embedding model, else bm25)"),
		embedding:   addEmbedFlags(fs),
		k:           fs.Int("k", 5, "passages retrieved"),
		sentences:   fs.Int("sentences", 3, "without a model: the most sentences an extractive answer quotes"),
		budget:      fs.Int("context-budget", 0, "most `tokens` of passages in the prompt (0: 2000, or what a local model's context leaves)"),
		modelPath:   fs.String("model", "", "local model `path` (GGUF file, Hugging Face directory or llama2.c .bin); with neither --model nor --llm-url answers are extractive"),
		tokPath:     fs.String("tokenizer", "", "tokenizer `file` for a local model that holds none"),
		loraPath:    fs.String("lora", "", "serve the local model with this LoRA adapter (a PEFT `directory` or a GGUF LoRA file)"),
		llmURL:      fs.String("llm-url", "", "OpenAI-compatible endpoint `URL`; with --model as well, the local model answers first and low-confidence answers escalate to the endpoint"),
		llmModel:    fs.String("llm-model", "", "model `name` at --llm-url"),
		llmKeyEnv:   fs.String("llm-key-env", "OPENAI_API_KEY", "environment `variable` holding the API key of --llm-url"),
		pricing:     fs.String("pricing", "", "pricing table `file` (JSON: model → {\"input\", \"output\"} dollars per 1M tokens) to cost the answer"),
		maxTokens:   fs.Int("max-tokens", 256, "most tokens of an answer"),
		temperature: fs.Float64("temperature", 0, "sampling temperature (0: greedy)"),
		threads:     fs.Int("threads", runtime.NumCPU(), "compute threads of a local model"),
		minSupport:  fs.Float64("min-support", answer.DefaultMinSupport, "answer \"I don't know\" when retrieval support (0 to 1) is below this (0 or negative: always answer)"),
		threshold:   fs.Float64("threshold", 0, "self-correct model answers whose confidence is below this (0: the calibration's, 0.4; negative: never)"),
		cot:         fs.Bool("cot", true, "self-correct a low-confidence model answer by retrying once with chain of thought"),
		asJSON:      fs.Bool("json", false, "print the answer as JSON: answer, citations, confidence, usage, cost, trace"),
		trace:       fs.Bool("trace", false, "print what the pipeline did to standard error"),
		examples:    fs.String("examples", "", "worked examples (few-shot) `file`: JSONL or a JSON array with question/answer, input/output or instruction/response fields"),
		selector:    fs.String("examples-selector", "ngram", "how --examples are picked per question: ngram (overlap with the question), similarity or mmr (the collection's embedding model), length (in file order, within --context-budget)"),
		shots:       fs.Int("shots", 2, "worked examples per question"),
	}
	fs.Var(&f.filters, "filter", "only documents whose `key=value` holds (repeatable; keys: title, path, doc_id or a metadata field)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flywheel ask --collection NAME [--model PATH | --llm-url URL --llm-model NAME] [--json] QUESTION\n\n"+
			"Answers a question from a collection, citing its sources. Without a model the answer quotes the\n"+
			"best supporting sentences; it is \"I don't know\" when nothing retrieved supports an answer.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	question := strings.TrimSpace(strings.Join(fs.Args(), " "))
	if *f.name == "" || question == "" {
		fs.Usage()
		return fmt.Errorf("ask: --collection and a QUESTION are required: %w", errUsage)
	}
	filter, err := retrieve.ParseFilter(f.filters)
	if err != nil {
		return err
	}
	st, c, err := openForSearch(ctx, "ask", *f.dataDir, *f.name, *f.mode, f.embedding, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if !filter.IsZero() {
		if err := c.LoadFilterDocs(); err != nil {
			return err
		}
	}
	r := c.Retriever()
	p := &answer.Pipeline{Retriever: r, K: *f.k, Sentences: *f.sentences, Budget: *f.budget,
		MinSupport: *f.minSupport, Threshold: *f.threshold,
		Request: llm.Request{MaxTokens: *f.maxTokens, Temperature: *f.temperature}}
	if *f.minSupport == 0 {
		p.MinSupport = -1 // 0 on the command line means always answer
	}
	if p.Mode, err = searchMode(r, *f.mode, stderr); err != nil {
		return err
	}
	if p.Examples, err = f.exampleSelector(c.Embedder()); err != nil {
		return err
	}
	p.Shots = *f.shots
	closeModels, err := f.openModels(p)
	if err != nil {
		return err
	}
	defer closeModels()
	q := answer.Question{Text: question, Filter: filter}
	if !*f.asJSON {
		q.Stream = func(d string) error { _, err := io.WriteString(stdout, d); return err }
		q.Replace = func(reason string) error {
			_, err := fmt.Fprintf(stdout, "\n\n(%s; the new answer follows)\n", reason)
			return err
		}
	}
	a, err := p.Ask(ctx, q)
	if err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	if *f.trace {
		for _, line := range a.Trace {
			fmt.Fprintf(stderr, "ask: %s\n", line)
		}
	}
	if *f.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(a)
	}
	printAnswerSources(stdout, a)
	return nil
}

// openModels sets the pipeline's model from the flags: a local model, an
// endpoint, or the local model escalating to the endpoint. close releases
// them.
func (f *askFlags) openModels(p *answer.Pipeline) (close func(), err error) {
	close = func() {}
	if *f.modelPath == "" && *f.llmURL == "" {
		if *f.loraPath != "" {
			return close, errors.New("ask: --lora needs a local --model")
		}
		return close, nil
	}
	var ledger *llm.Ledger
	if *f.pricing != "" {
		prices, err := llm.LoadPricing(*f.pricing)
		if err != nil {
			return close, fmt.Errorf("ask: %w", err)
		}
		ledger = llm.NewLedger(prices)
	}
	meter := func(m llm.Model) llm.Model {
		if ledger == nil {
			return m
		}
		return ledger.Meter(m)
	}
	var remote llm.Model
	if *f.llmURL != "" {
		if *f.llmModel == "" {
			return close, errors.New("ask: --llm-url needs --llm-model NAME (the model the endpoint should use)")
		}
		o, err := llm.NewOpenAI(llm.OpenAIConfig{URL: *f.llmURL, Model: *f.llmModel, APIKeyEnv: *f.llmKeyEnv})
		if err != nil {
			return close, fmt.Errorf("ask: %w", err)
		}
		remote = meter(o)
	}
	if *f.modelPath == "" {
		if *f.loraPath != "" {
			return close, errors.New("ask: --lora needs a local --model")
		}
		p.Model = remote
		p.SelfCorrect.ChainOfThought = *f.cot
		return close, nil
	}
	local, close, err := f.openLocal(p)
	if err != nil {
		return func() {}, err
	}
	p.Model = meter(local)
	p.SelfCorrect = answer.SelfCorrect{ChainOfThought: *f.cot, Escalate: remote}
	return close, nil
}

// openLocal loads the local model (with its adapter) and fits the passage
// budget and token count to it.
func (f *askFlags) openLocal(p *answer.Pipeline) (*llm.Local, func(), error) {
	lm, err := llama.Load(*f.modelPath, llama.Options{Tokenizer: *f.tokPath, HugePages: true})
	if err != nil {
		return nil, nil, fmt.Errorf("ask: %w", err)
	}
	local, err := llm.NewLocalFromModel(lm, llm.LocalConfig{Threads: *f.threads, Name: modelName(*f.modelPath)})
	if err != nil {
		lm.Close()
		return nil, nil, fmt.Errorf("ask: %w", err)
	}
	close := func() { local.Close(); lm.Close() }
	if *f.loraPath != "" {
		if err := local.LoadAdapter("lora", *f.loraPath); err != nil {
			close()
			return nil, nil, fmt.Errorf("ask: --lora: %w", err)
		}
		p.Request.Model = "lora"
	}
	tok := lm.Tokenizer
	p.Count = func(s string) int { return len(tok.Encode(s, false, false)) }
	p.Context = local.Context()
	return local, close, nil
}

// exampleSelector loads --examples and picks them by --examples-selector
// (nil without --examples). emb is the collection's embedding model, or
// nil.
func (f *askFlags) exampleSelector(emb embed.Embedder) (prompt.Selector, error) {
	if *f.examples == "" {
		return nil, nil
	}
	exs, err := prompt.LoadExamples(*f.examples)
	if err != nil {
		return nil, fmt.Errorf("ask: --examples: %w", err)
	}
	pool := prompt.Fixed(exs)
	switch *f.selector {
	case "ngram":
		return &prompt.NGramOverlap{Examples: pool}, nil
	case "length":
		budget := *f.budget
		if budget <= 0 {
			budget = 500
		}
		return &prompt.LengthBased{Examples: pool, Budget: budget}, nil
	case "similarity", "mmr":
		if emb == nil {
			return nil, fmt.Errorf("ask: --examples-selector %s needs an embedding model: ingest the collection with --embed-model or --embed-url, or use ngram", *f.selector)
		}
		if *f.selector == "mmr" {
			return &prompt.MMR{Examples: pool, Embed: emb.Embed}, nil
		}
		return &prompt.Similarity{Examples: pool, Embed: emb.Embed}, nil
	}
	return nil, fmt.Errorf("ask: unknown --examples-selector %q: use ngram, similarity, mmr or length", *f.selector)
}

// modelName is a model path's name: its file name without the extension.
func modelName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// printAnswerSources prints, after the streamed answer, its citations and
// how sure it is.
func printAnswerSources(w io.Writer, a *answer.Answer) {
	fmt.Fprintln(w)
	if len(a.Citations) > 0 {
		fmt.Fprintln(w, "\nSources:")
	}
	for _, c := range a.Citations {
		name := c.Title
		if name == "" {
			name = c.Path
		}
		fmt.Fprintf(w, "[%d] %s [%s] bytes %d-%d: %s\n", c.Number, name, c.DocID, c.Start, c.End, snippet(c.Text, 160))
	}
	how := a.Model
	if a.Abstained {
		how = "abstained"
	}
	fmt.Fprintf(w, "\nconfidence %.2f, support %.2f, %s", a.Confidence, a.Support, how)
	if a.Usage.TotalTokens > 0 {
		fmt.Fprintf(w, ", %d prompt + %d completion tokens", a.Usage.PromptTokens, a.Usage.CompletionTokens)
	}
	if a.Cost > 0 {
		fmt.Fprintf(w, ", $%.6f", a.Cost)
	}
	fmt.Fprintln(w)
}
