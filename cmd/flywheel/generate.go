package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"

	"flywheel/internal/generate"
	"flywheel/internal/jsonschema"
	"flywheel/internal/llama"
	"flywheel/internal/tensor"
)

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("generate", stderr)
	var (
		model     = fs.String("model", "", "model: a GGUF file, a Hugging Face directory or a llama2.c .bin `path`")
		tokPath   = fs.String("tokenizer", "", "tokenizer `file` (llama2.c tokenizer.bin or a GGUF vocabulary) when the model holds none")
		prompt    = fs.String("prompt", "", "prompt `text`")
		maxTokens = fs.Int("max-tokens", 256, "most tokens to generate (≤ 0: until the context is full)")
		temp      = fs.Float64("temperature", 0.8, "sampling temperature; 0 is greedy")
		topK      = fs.Int("top-k", 40, "keep the k most likely tokens (0: off)")
		topP      = fs.Float64("top-p", 0.95, "keep the most likely tokens up to this probability mass (1: off)")
		minP      = fs.Float64("min-p", 0.05, "drop tokens less likely than this fraction of the top token (0: off)")
		penalty   = fs.Float64("repeat-penalty", 1.0, "penalise the last 64 tokens by this factor (1: off)")
		seed      = fs.Uint64("seed", 0, "random seed; 0 picks one (printed with --json)")
		threads   = fs.Int("threads", runtime.NumCPU(), "compute threads")
		ctxLen    = fs.Int("ctx", 0, "context length in tokens (0: the model's, at most 4096)")
		asJSON    = fs.Bool("json", false, "print one JSON object with ids, text, logprobs and timings instead of streaming")
		noBOS     = fs.Bool("no-bos", false, "do not add the beginning-of-sequence token")
		loraPath  = fs.String("lora", "", "apply a LoRA adapter at run time: a PEFT `directory` or a GGUF LoRA file")
		schema    = fs.String("json-schema", "", "write only JSON valid under the JSON schema in this `file` (the prompt is not echoed)")
		stops     stringList
	)
	fs.Var(&stops, "stop", "stop before this `string` (repeatable)")
	mapped := fs.Bool("mmap", false, "decode from the file mapping instead of copying the weights into huge pages")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *model == "" {
		fs.Usage()
		return fmt.Errorf("generate: --model is required")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("generate: unexpected argument %q (quote the prompt and pass it with --prompt)", fs.Arg(0))
	}
	var constraint *jsonschema.Schema
	if *schema != "" {
		var err error
		if constraint, err = loadSchema(*schema); err != nil {
			return err
		}
	}
	m, err := llama.Load(*model, llama.Options{Tokenizer: *tokPath, HugePages: !*mapped})
	if err != nil {
		return err
	}
	defer m.Close()
	if m.Tokenizer == nil {
		return fmt.Errorf("model %s holds no tokenizer: name one with --tokenizer", *model)
	}
	if *seed == 0 {
		*seed = rand.Uint64()
	}
	pool := tensor.NewPool(*threads)
	defer pool.Close()
	if *ctxLen <= 0 {
		*ctxLen = min(m.Config.ContextLen, 4096)
	}
	state := m.NewState(*ctxLen, pool)
	if *loraPath != "" {
		a, err := m.LoadAdapter(*loraPath)
		if err != nil {
			return err
		}
		if err := state.SetAdapter(a); err != nil {
			return err
		}
	}

	ids := m.Tokenizer.Encode(*prompt, !*noBOS, false)
	if len(ids) == 0 {
		return errors.New("generate: the prompt is empty and the model adds no BOS token: give a --prompt")
	}
	opt := generate.Options{
		SamplerOptions: generate.SamplerOptions{
			Temperature: *temp, TopK: *topK, TopP: *topP, MinP: *minP,
			RepeatPenalty: *penalty, Seed: *seed,
		},
		MaxTokens: *maxTokens,
		Stop:      stops,
		Schema:    constraint,
	}
	if *asJSON {
		opt.TopLogprobs = 5
		res, err := generate.Run(ctx, state, m.Tokenizer, ids, opt, nil)
		if res == nil {
			return err
		}
		return writeGenerateJSON(stdout, *model, *seed, res)
	}
	if constraint == nil {
		fmt.Fprint(stdout, *prompt)
	}
	res, err := generate.Run(ctx, state, m.Tokenizer, ids, opt, func(s string) error {
		_, err := io.WriteString(stdout, s)
		return err
	})
	fmt.Fprintln(stdout)
	if res != nil {
		fmt.Fprintf(stderr, "\n%d prompt tokens in %.0f ms (%.1f tok/s), %d generated in %.0f ms (%.1f tok/s), finish: %s, seed %d\n",
			len(res.PromptTokens), ms(res.PromptDuration.Seconds()), perSecond(len(res.PromptTokens), res.PromptDuration.Seconds()),
			len(res.Tokens), ms(res.GenDuration.Seconds()), perSecond(len(res.Tokens), res.GenDuration.Seconds()),
			res.FinishReason, *seed)
	}
	return err
}

// loadSchema reads and compiles the JSON schema of --json-schema.
func loadSchema(path string) (*jsonschema.Schema, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("generate: --json-schema: %w", err)
	}
	s, err := jsonschema.Compile(raw)
	if err == nil {
		_, err = s.NewMatcher() // a schema supported for validation only
	}
	if err != nil {
		return nil, fmt.Errorf("generate: --json-schema %s: %w", path, err)
	}
	return s, nil
}

func ms(s float64) float64 { return s * 1000 }

func perSecond(n int, s float64) float64 {
	if s <= 0 {
		return 0
	}
	return float64(n) / s
}

// generateJSON is the --json output of generate.
type generateJSON struct {
	Model        string             `json:"model"`
	Seed         uint64             `json:"seed"`
	PromptTokens []int              `json:"prompt_tokens"`
	Tokens       []int              `json:"tokens"`
	Text         string             `json:"text"`
	Logprobs     []generate.Logprob `json:"logprobs"`
	FinishReason string             `json:"finish_reason"`
	Timings      struct {
		PromptMS        float64 `json:"prompt_ms"`
		PromptPerSecond float64 `json:"prompt_tokens_per_s"`
		GenMS           float64 `json:"gen_ms"`
		GenPerSecond    float64 `json:"gen_tokens_per_s"`
	} `json:"timings"`
}

func writeGenerateJSON(w io.Writer, model string, seed uint64, res *generate.Result) error {
	out := generateJSON{
		Model: model, Seed: seed, PromptTokens: res.PromptTokens, Tokens: res.Tokens,
		Text: res.Text, Logprobs: res.Logprobs, FinishReason: res.FinishReason,
	}
	if out.Tokens == nil {
		out.Tokens = []int{}
	}
	if out.Logprobs == nil {
		out.Logprobs = []generate.Logprob{}
	}
	p, g := res.PromptDuration.Seconds(), res.GenDuration.Seconds()
	out.Timings.PromptMS, out.Timings.PromptPerSecond = ms(p), perSecond(len(res.PromptTokens), p)
	out.Timings.GenMS, out.Timings.GenPerSecond = ms(g), perSecond(len(res.Tokens), g)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
