package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"flywheel/internal/llama"
	"flywheel/internal/lora"
	"flywheel/internal/tensor"
	"flywheel/internal/train"
)

func runTune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tune", stderr)
	d := train.DefaultConfig()
	var (
		model     = fs.String("model", "", "base model: a GGUF file, a Hugging Face directory or a llama2.c .bin `path`")
		tokPath   = fs.String("tokenizer", "", "tokenizer `file` when the model holds none")
		data      = fs.String("data", "", "training data `file`: alpaca, sharegpt or messages JSON/JSONL, or pre-tokenized JSONL {\"input_ids\", \"labels\"}")
		out       = fs.String("out", "", "output `directory`: adapter, checkpoints, metrics.jsonl, loss.svg")
		rank      = fs.Int("lora-rank", d.LoRA.Rank, "LoRA rank r")
		alpha     = fs.Float64("lora-alpha", d.LoRA.Alpha, "LoRA alpha (the update is scaled by alpha/r)")
		dropout   = fs.Float64("lora-dropout", d.LoRA.Dropout, "dropout on the adapter's input in training")
		targets   = fs.String("lora-targets", "q,k,v,o", "adapted projections: any of q,k,v,o,gate,up,down, or all")
		rslora    = fs.Bool("rslora", false, "rank-stabilised LoRA: scale by alpha/√r")
		full      = fs.Bool("full", false, "fine-tune every weight instead of an adapter (small models)")
		initAd    = fs.String("init-adapter", "", "start from this PEFT adapter `directory` (or GGUF LoRA) instead of a fresh one")
		lr        = fs.Float64("lr", d.LR, "peak learning rate")
		wd        = fs.Float64("weight-decay", 0, "AdamW weight decay")
		betas     = fs.String("betas", "0.9,0.999", "AdamW betas `b1,b2`")
		clip      = fs.Float64("clip", d.Clip, "clip the global gradient norm to this (0: off)")
		schedule  = fs.String("schedule", d.Schedule, "learning-rate schedule: constant, linear or cosine")
		warmup    = fs.Int("warmup", 0, "steps of linear warmup")
		lrMin     = fs.Float64("lr-min", 0, "the floor linear and cosine decay reach")
		accum     = fs.Int("grad-accum", d.GradAccum, "micro-batches per optimizer step")
		batch     = fs.Int("batch", d.Batch, "examples per micro-batch")
		epochs    = fs.Int("epochs", d.Epochs, "passes over the data")
		maxSteps  = fs.Int("max-steps", 0, "optimizer steps (overrides --epochs)")
		seed      = fs.Uint64("seed", d.Seed, "seed of shuffling, dropout and the adapter's initialisation")
		maxLen    = fs.Int("max-len", d.MaxLen, "cut examples to this many tokens (0: the model's context)")
		packing   = fs.Bool("packing", false, "fill micro-batches with batch×max-len tokens of examples (each attends only to itself)")
		chatTpl   = fs.String("chat-template", "auto", "format conversations with: auto (the model's template, else plain), none (plain), or a built-in `family`")
		recompute = fs.Bool("recompute", false, "recompute activations layer by layer in backward: less memory, ~30% more compute")
		valSplit  = fs.Float64("val-split", 0.05, "hold out this fraction of the data for validation (0: off)")
		valFile   = fs.String("val", "", "validation data `file` (instead of --val-split)")
		evalEvery = fs.Int("eval-every", 0, "evaluate every this many steps (0: after each epoch)")
		patience  = fs.Int("patience", 0, "stop after this many evaluations without improvement (0: never)")
		saveEvery = fs.Int("save-every", 100, "write a checkpoint every this many steps (0: only at the end)")
		resume    = fs.String("resume", "", "continue from a checkpoint `directory` (or an output directory holding one)")
		threads   = fs.Int("threads", runtime.NumCPU(), "compute threads")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *model == "" || *data == "" || *out == "":
		fs.Usage()
		return fmt.Errorf("tune: --model, --data and --out are required")
	case fs.NArg() > 0:
		return fmt.Errorf("tune: unexpected argument %q", fs.Arg(0))
	}
	cfg := d
	cfg.Full, cfg.InitAdapter, cfg.Out, cfg.Resume = *full, *initAd, *out, *resume
	cfg.LR, cfg.WeightDecay, cfg.Clip, cfg.Warmup, cfg.LRMin = *lr, *wd, *clip, *warmup, *lrMin
	cfg.GradAccum, cfg.Batch, cfg.Epochs, cfg.MaxSteps, cfg.Seed = *accum, *batch, *epochs, *maxSteps, *seed
	cfg.Packing, cfg.Recompute, cfg.EvalEvery, cfg.Patience, cfg.SaveEvery = *packing, *recompute, *evalEvery, *patience, *saveEvery
	var err error
	if cfg.Schedule, err = train.ParseSchedule(*schedule); err != nil {
		return fmt.Errorf("tune: --schedule: %w", err)
	}
	if cfg.Beta1, cfg.Beta2, err = parseBetas(*betas); err != nil {
		return fmt.Errorf("tune: --betas: %w", err)
	}
	cfg.LoRA = lora.Config{Rank: *rank, Alpha: *alpha, Dropout: *dropout, RSLoRA: *rslora}
	if cfg.LoRA.Targets, err = lora.ParseTargets(*targets); err != nil {
		return fmt.Errorf("tune: --lora-targets: %w", err)
	}

	m, err := llama.Load(*model, llama.Options{Tokenizer: *tokPath})
	if err != nil {
		return err
	}
	defer m.Close()
	cfg.LoRA.BaseModel = *model
	if cfg.MaxLen = *maxLen; cfg.MaxLen <= 0 || cfg.MaxLen > m.Config.ContextLen {
		cfg.MaxLen = m.Config.ContextLen
	}
	opt := train.DataOptions{Vocab: m.Config.Vocab, MaxLen: cfg.MaxLen}
	if m.Tokenizer != nil {
		opt.Tokenizer = m.Tokenizer
		tpl, err := train.ChatTemplate(m.Tokenizer, *chatTpl)
		if err != nil {
			return fmt.Errorf("tune: --chat-template: %w", err)
		}
		if tpl != nil {
			opt.Chat = train.TemplateEncoder(m.Tokenizer, tpl)
		}
	}
	trainSet, rep, err := train.LoadExamples(*data, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "data %s: %v\n", *data, rep)
	var valSet []train.Example
	if *valFile != "" {
		var vrep train.DataReport
		if valSet, vrep, err = train.LoadExamples(*valFile, opt); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "validation %s: %v\n", *valFile, vrep)
	} else if *valSplit > 0 {
		trainSet, valSet = train.SplitValidation(trainSet, *valSplit, cfg.Seed)
		fmt.Fprintf(stderr, "validation: %d of the examples held out (--val-split %g)\n", len(valSet), *valSplit)
	}
	if cfg.Full {
		vocab := vocabularyKV(*model, m.Tokenizer)
		cfg.SaveModel = func(path string, tuned *llama.Model) error { return llama.SaveGGUF(path, tuned, vocab...) }
	}
	pool := tensor.NewPool(*threads)
	defer pool.Close()
	cfg.Pool = pool

	bar := newTuneProgress(stderr)
	res, err := train.Run(ctx, m, trainSet, valSet, cfg, bar.event)
	bar.done()
	if res == nil {
		return err
	}
	printTuneResult(stdout, cfg, res)
	return err
}

func parseBetas(s string) (float64, float64, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 2 {
		return 0, 0, fmt.Errorf("%q: want two numbers, b1,b2", s)
	}
	b1, err1 := strconv.ParseFloat(strings.TrimSpace(parts[0]), 64)
	b2, err2 := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("%q: %w", s, err)
	}
	return b1, b2, nil
}

// recentSteps is how many of the last steps the closing training loss
// averages: one step's loss is that of one batch, and swings with it.
const recentSteps = 10

func printTuneResult(w io.Writer, cfg train.Config, res *train.Result) {
	fmt.Fprintf(w, "%d steps, %d tokens in %s (%.0f tokens/s)",
		res.Steps, res.Tokens, time.Duration(res.Seconds*float64(time.Second)).Round(time.Second),
		float64(res.Tokens)/max(res.Seconds, 1e-9))
	if n := min(recentSteps, len(res.Metrics)); n > 0 {
		var sum float64
		for _, m := range res.Metrics[len(res.Metrics)-n:] {
			sum += m.Loss
		}
		fmt.Fprintf(w, "; training loss %.4f (mean of the last %d steps; the last alone %.4f)", sum/float64(n), n, res.FinalLoss)
	}
	if res.BestStep > 0 {
		fmt.Fprintf(w, ", best validation loss %.4f at step %d", res.BestVal, res.BestStep)
		if res.InitialVal > 0 {
			fmt.Fprintf(w, " (%.4f before training)", res.InitialVal)
		}
	}
	if res.Stopped != "" {
		fmt.Fprintf(w, " (%s)", res.Stopped)
	}
	fmt.Fprintln(w)
	if cfg.Full {
		fmt.Fprintf(w, "model: %s\n", filepath.Join(cfg.Out, "model.gguf"))
	} else {
		fmt.Fprintf(w, "adapter: %s (PEFT), %s (GGUF LoRA)\n", cfg.Out, filepath.Join(cfg.Out, "adapter.gguf"))
	}
	fmt.Fprintf(w, "metrics: %s, %s\n", filepath.Join(cfg.Out, train.MetricsName), filepath.Join(cfg.Out, train.LossPlotName))
}

// tuneProgress draws training progress on a terminal: step, loss, lr,
// tokens/s and the time left, with a bar. Evaluations and checkpoints are
// reported on lines of their own.
type tuneProgress struct {
	w       io.Writer
	enabled bool
	drawn   bool
	last    time.Time
}

func newTuneProgress(w io.Writer) *tuneProgress {
	return &tuneProgress{w: w, enabled: isTerminal(w)}
}

func (p *tuneProgress) event(e train.Event) {
	switch e.Kind {
	case "step":
		if !p.enabled || time.Since(p.last) < progressEvery && e.Step < e.Steps {
			return
		}
		p.last = time.Now()
		const width = 24
		filled := width * e.Step / max(1, e.Steps)
		fmt.Fprintf(p.w, "\r\x1b[Kstep %d/%d [%s%s] loss %.4f  lr %.3g  %.0f tok/s  %s left",
			e.Step, e.Steps, strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
			e.Loss, e.LR, e.TokensPerSec, e.ETA.Round(time.Second))
		p.drawn = true
	case "eval":
		p.line(fmt.Sprintf("step %d: validation loss %.4f", e.Step, e.ValLoss))
	case "early-stop":
		p.line(fmt.Sprintf("step %d: early stopping", e.Step))
	case "cancelled":
		p.line(fmt.Sprintf("step %d: interrupted; checkpoint saved", e.Step))
	}
}

// line prints a message on its own line, below the bar.
func (p *tuneProgress) line(s string) {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
	fmt.Fprintln(p.w, s)
}

func (p *tuneProgress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
