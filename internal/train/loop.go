package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"flywheel/internal/llama"
	"flywheel/internal/lora"
	"flywheel/internal/tensor"
)

// Config is a fine-tuning run. DefaultConfig gives the usual values.
type Config struct {
	// LoRA is the adapter trained (rank, alpha, targets, dropout, RSLoRA);
	// ignored with Full.
	LoRA lora.Config
	// Full trains every weight of the model instead (small models).
	Full bool
	// InitAdapter starts from an existing adapter (PEFT directory or GGUF
	// LoRA) instead of a fresh one; its rank, alpha and targets are kept.
	InitAdapter string

	LR, WeightDecay   float64
	Beta1, Beta2, Eps float64
	Clip              float64 // global-norm clipping threshold; ≤ 0: none
	Schedule          string  // "constant", "linear" or "cosine"
	Warmup            int     // steps of linear warmup
	LRMin             float64 // the floor linear and cosine decay reach
	Batch             int     // examples per micro-batch (with Packing: Batch·MaxLen tokens)
	GradAccum         int     // micro-batches per optimizer step
	Epochs            int     // passes over the data (when MaxSteps is 0)
	MaxSteps          int     // optimizer steps; > 0 overrides Epochs
	Seed              uint64  // shuffling, dropout and a fresh adapter's initialisation
	MaxLen            int     // the examples' length limit (they are cut before); sets the packing budget
	Packing           bool    // fill micro-batches by tokens rather than by count
	EvalEvery         int     // evaluate every this many steps; 0: after each epoch
	Patience          int     // stop after this many evaluations without improvement; 0: never
	SaveEvery         int     // checkpoint every this many steps; 0: only when stopping
	Recompute         bool    // recompute activations in backward (less memory)
	Out               string  // output directory
	Resume            string  // a checkpoint (or output) directory to continue from
	// SaveModel writes fully fine-tuned weights (model.gguf in Out and in
	// best/); nil: llama.SaveGGUF without tokenizer metadata.
	SaveModel func(path string, m *llama.Model) error
	Pool      *tensor.Pool
}

// DefaultConfig returns the defaults of `flywheel tune`.
func DefaultConfig() Config {
	return Config{
		LoRA: lora.Config{Rank: 8, Alpha: 16, Dropout: 0.05, Targets: []lora.Target{lora.Q, lora.K, lora.V, lora.O}},
		LR:   2e-4, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Clip: 1,
		Schedule: "cosine", Batch: 4, GradAccum: 1, Epochs: 3, Seed: 42, MaxLen: 512,
	}
}

// Event reports progress: after every optimizer step (Kind "step"), after
// each evaluation ("eval"), checkpoint ("checkpoint") and at the end
// ("early-stop", "done", "cancelled").
type Event struct {
	Kind         string
	Step, Steps  int
	Epoch        int
	Loss, LR     float64
	GradNorm     float64
	TokensPerSec float64
	ValLoss      float64 // with Kind "eval"
	Elapsed, ETA time.Duration
	Path         string // with Kind "checkpoint"
}

// Result sums up a finished (or stopped) run.
type Result struct {
	Steps      int
	FinalLoss  float64 // the last step's loss
	InitialVal float64 // validation loss before the first step (0 when resumed or without validation)
	BestVal    float64 // NaN without validation
	BestStep   int
	Stopped    string // "", "early stopping" or "cancelled"
	Tokens     int64
	Seconds    float64
	Adapter    *lora.Adapter      // the trained adapter (LoRA)
	Full       *llama.FullWeights // the trained weights (Full)
	Metrics    []Metric
}

// Run fine-tunes m on train, validating on val (may be empty), writing the
// result, checkpoints, metrics.jsonl and loss.svg into cfg.Out. Cancelling
// ctx saves a checkpoint of the last finished step and returns ctx.Err()
// (wrapped) together with the partial result.
func Run(ctx context.Context, m *llama.Model, trainSet, valSet []Example, cfg Config, progress func(Event)) (*Result, error) {
	if progress == nil {
		progress = func(Event) {}
	}
	r, err := newRun(m, trainSet, valSet, cfg, progress)
	if err != nil {
		return nil, err
	}
	defer r.metricsFile.Close()
	return r.loop(ctx)
}

// run is one fine-tuning run in progress.
type run struct {
	cfg         Config
	m           *llama.Model
	train, val  []Example
	lens        []int
	trainer     *llama.Trainer
	adapter     *lora.Adapter
	full        *llama.FullWeights
	opt         *AdamW
	sched       Schedule
	state       State
	metrics     []Metric
	metricsFile *os.File
	progress    func(Event)
	epochPlan   [][][]int // steps of state.Epoch
	plannedFor  int
}

func newRun(m *llama.Model, trainSet, valSet []Example, cfg Config, progress func(Event)) (*run, error) {
	if err := cfg.check(len(trainSet)); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, m: m, train: trainSet, val: valSet, progress: progress, plannedFor: -1}
	for _, e := range trainSet {
		r.lens = append(r.lens, len(e.Tokens))
	}
	if err := r.setupModel(); err != nil {
		return nil, err
	}
	params := r.trainer.Params()
	r.opt = NewAdamW(len(params), cfg.Beta1, cfg.Beta2, cfg.Eps, cfg.WeightDecay)
	if r.full != nil {
		r.opt.NoDecay = r.full.VectorRanges()
	}
	r.state = State{Format: stateFormat, Version: 1, Mode: r.mode(), Seed: cfg.Seed, Batch: cfg.Batch,
		GradAccum: cfg.GradAccum, Packing: cfg.Packing, MaxLen: cfg.MaxLen, Data: fingerprint(trainSet)}
	r.state.TotalSteps = r.totalSteps()
	r.sched = Schedule{Kind: cfg.Schedule, LR: cfg.LR, LRMin: cfg.LRMin, Warmup: cfg.Warmup, Total: r.state.TotalSteps}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	if cfg.Resume != "" {
		if err := r.resume(); err != nil {
			return nil, err
		}
	}
	f, err := writeMetrics(filepath.Join(cfg.Out, MetricsName), r.metrics)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	r.metricsFile = f
	return r, nil
}

func (c *Config) check(n int) error {
	switch {
	case n == 0:
		return errors.New("no training examples")
	case c.Out == "":
		return errors.New("no output directory")
	case c.LR <= 0:
		return fmt.Errorf("learning rate %g must be positive", c.LR)
	case c.Batch <= 0 || c.GradAccum <= 0:
		return fmt.Errorf("batch %d and gradient accumulation %d must be positive", c.Batch, c.GradAccum)
	case c.MaxSteps <= 0 && c.Epochs <= 0:
		return errors.New("give a positive number of epochs or of steps")
	case c.Beta1 < 0 || c.Beta1 >= 1 || c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("betas %g, %g must be in [0, 1)", c.Beta1, c.Beta2)
	case c.Packing && c.MaxLen <= 0:
		return errors.New("packing needs a max-len")
	}
	if _, err := ParseSchedule(c.Schedule); err != nil {
		return err
	}
	return nil
}

func (r *run) mode() string {
	if r.cfg.Full {
		return "full"
	}
	return "lora"
}

// setupModel makes the trained parameters and the trainer.
func (r *run) setupModel() error {
	cfg := r.cfg
	tc := llama.TrainConfig{Recompute: cfg.Recompute, Pool: cfg.Pool}
	if cfg.Full {
		r.full = llama.NewFullWeights(r.m)
		r.m = r.full.Model
		tc.Full = r.full
	} else {
		var err error
		if cfg.InitAdapter != "" {
			r.adapter, err = r.m.LoadAdapter(cfg.InitAdapter)
			if err != nil {
				return fmt.Errorf("--init-adapter: %w", err)
			}
			r.adapter.Config.Dropout = cfg.LoRA.Dropout
		} else {
			lc := cfg.LoRA
			if lc.BaseModel == "" {
				lc.BaseModel = r.m.File.Path
			}
			r.adapter, err = lora.New(r.m.Config.LoRAShape(), lc)
			if err != nil {
				return err
			}
			r.adapter.Init(cfg.Seed)
		}
		tc.Adapter = r.adapter
	}
	var err error
	r.trainer, err = llama.NewTrainer(r.m, tc)
	return err
}

// plan returns the steps of epoch e.
func (r *run) plan(e int) [][][]int {
	if r.plannedFor != e {
		c := r.cfg
		r.epochPlan = planEpoch(r.lens, e, c.Seed, c.Batch, c.GradAccum, c.MaxLen, c.Packing)
		r.plannedFor = e
	}
	return r.epochPlan
}

func (r *run) totalSteps() int {
	if r.cfg.MaxSteps > 0 {
		return r.cfg.MaxSteps
	}
	total := 0
	for e := 0; e < r.cfg.Epochs; e++ {
		total += len(r.plan(e))
	}
	return total
}

// resume restores parameters, optimizer and state from a checkpoint.
func (r *run) resume() error {
	dir, err := checkpointPath(r.cfg.Resume)
	if err != nil {
		return err
	}
	st, err := readState(dir)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	cur := r.state
	for _, c := range []struct {
		what      string
		got, want any
	}{{"mode", st.Mode, cur.Mode}, {"training data", st.Data, cur.Data}, {"seed", st.Seed, cur.Seed},
		{"batch", st.Batch, cur.Batch}, {"grad-accum", st.GradAccum, cur.GradAccum},
		{"packing", st.Packing, cur.Packing}, {"max-len", st.MaxLen, cur.MaxLen}} {
		if c.got != c.want {
			return fmt.Errorf("resume %s: the checkpoint's %s is %v, this run's %v; resume with the same data and flags", dir, c.what, c.got, c.want)
		}
	}
	if r.adapter != nil {
		a, err := r.m.LoadAdapter(dir)
		if err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		if len(a.Params) != len(r.adapter.Params) || a.Config.Rank != r.adapter.Config.Rank {
			return fmt.Errorf("resume %s: the checkpoint's adapter (rank %d, %d parameters) differs from this run's (rank %d, %d)",
				dir, a.Config.Rank, len(a.Params), r.adapter.Config.Rank, len(r.adapter.Params))
		}
		copy(r.adapter.Params, a.Params)
	} else if err := readParams(filepath.Join(dir, "params.bin"), r.full.Params); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if err := readOptimizer(filepath.Join(dir, "optimizer.bin"), r.opt); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	st.TotalSteps = cur.TotalSteps // --max-steps or --epochs may extend a finished run
	r.state = *st
	// the run's metrics so far: in the output directory, or beside the
	// checkpoint when continuing into a new directory
	for _, p := range []string{filepath.Join(r.cfg.Out, MetricsName), filepath.Join(filepath.Dir(dir), MetricsName)} {
		if r.metrics, err = readMetrics(p, st.Step); err != nil || len(r.metrics) > 0 {
			return err
		}
	}
	return nil
}

// loop runs optimizer steps until the planned total, early stopping or
// cancellation.
func (r *run) loop(ctx context.Context) (*Result, error) {
	st := &r.state
	start := time.Now()
	spent := st.Seconds
	res := &Result{Adapter: r.adapter, Full: r.full, BestVal: math.NaN()}
	if len(r.val) > 0 && st.Step == 0 { // the starting point, for comparison
		val, err := r.validationLoss()
		if err != nil {
			return nil, err
		}
		res.InitialVal = val
		r.progress(Event{Kind: "eval", Step: 0, Steps: st.TotalSteps, ValLoss: val})
	}
	var stopErr error
	for st.Step < st.TotalSteps {
		steps := r.plan(st.Epoch)
		if st.EpochStep >= len(steps) {
			st.Epoch, st.EpochStep = st.Epoch+1, 0
			continue
		}
		met, err := r.step(ctx, steps[st.EpochStep])
		if err != nil {
			if ctx.Err() != nil {
				stopErr = err
				res.Stopped = "cancelled"
				break
			}
			return nil, err
		}
		st.Seconds = spent + time.Since(start).Seconds()
		endOfEpoch := st.EpochStep == len(steps)
		if len(r.val) > 0 && ((r.cfg.EvalEvery > 0 && st.Step%r.cfg.EvalEvery == 0) ||
			(r.cfg.EvalEvery <= 0 && endOfEpoch) || st.Step == st.TotalSteps) {
			if err := r.evaluate(&met); err != nil {
				return nil, err
			}
		}
		if err := r.logMetric(met); err != nil {
			return nil, err
		}
		if r.cfg.SaveEvery > 0 && st.Step%r.cfg.SaveEvery == 0 {
			if err := r.checkpoint(); err != nil {
				return nil, err
			}
		}
		if r.cfg.Patience > 0 && st.BadEvals >= r.cfg.Patience {
			res.Stopped = "early stopping"
			break
		}
	}
	if err := r.checkpoint(); err != nil {
		return nil, err
	}
	if err := r.finish(res); err != nil {
		return nil, err
	}
	kind := "done"
	switch res.Stopped {
	case "cancelled":
		kind = "cancelled"
	case "early stopping":
		kind = "early-stop"
	}
	r.progress(Event{Kind: kind, Step: st.Step, Steps: st.TotalSteps, Loss: res.FinalLoss, ValLoss: res.BestVal,
		Elapsed: time.Duration(st.Seconds * float64(time.Second))})
	if stopErr != nil {
		return res, fmt.Errorf("training stopped at step %d (checkpoint saved in %s): %w", st.Step, filepath.Join(r.cfg.Out, CheckpointDir), stopErr)
	}
	return res, nil
}

// step runs one optimizer step over a step's micro-batches. On
// cancellation the parameters are left as they were.
func (r *run) step(ctx context.Context, micro [][]int) (Metric, error) {
	st := &r.state
	t0 := time.Now()
	batches, scored := collateStep(r.train, micro, st.Seed, st.Step+1)
	r.trainer.ZeroGrads()
	var sum float64
	tokens := 0
	for _, b := range batches {
		if err := ctx.Err(); err != nil {
			return Metric{}, err
		}
		s, err := r.trainer.Step(b, 1/float32(scored))
		if err != nil {
			return Metric{}, err
		}
		sum += s
		tokens += len(b.Tokens)
	}
	grads := r.trainer.Grads()
	norm, _ := ClipGradNorm(grads, r.cfg.Clip)
	lr := r.sched.At(st.Step + 1)
	r.opt.Step(r.trainer.Params(), grads, lr)
	st.Step++
	st.EpochStep++
	st.Tokens += int64(tokens)
	dt := time.Since(t0).Seconds()
	met := Metric{Step: st.Step, Loss: sum / float64(scored), LR: lr, GradNorm: norm, TokensPerS: float64(tokens) / dt}
	elapsed := st.Seconds + dt // st.Seconds is updated after the step
	perStep := elapsed / float64(st.Step)
	eta := time.Duration(perStep * float64(st.TotalSteps-st.Step) * float64(time.Second))
	r.progress(Event{Kind: "step", Step: st.Step, Steps: st.TotalSteps, Epoch: st.Epoch, Loss: met.Loss, LR: lr,
		GradNorm: norm, TokensPerSec: met.TokensPerS, Elapsed: time.Duration(elapsed * float64(time.Second)), ETA: eta})
	return met, nil
}

// evaluate measures the validation loss after the current step, keeps the
// best adapter, and counts evaluations without improvement.
func (r *run) evaluate(met *Metric) error {
	st := &r.state
	val, err := r.validationLoss()
	if err != nil {
		return err
	}
	met.ValLoss = &val
	if st.BestStep == 0 || val < st.BestVal {
		st.BestVal, st.BestStep, st.BadEvals = val, st.Step, 0
		if err := saveCheckpoint(filepath.Join(r.cfg.Out, BestDir), func(tmp string) error {
			if err := r.saveWeights(tmp); err != nil {
				return err
			}
			raw, _ := json.Marshal(map[string]any{"step": st.Step, "val_loss": val})
			return writeFileSync(filepath.Join(tmp, "best.json"), append(raw, '\n'))
		}); err != nil {
			return err
		}
	} else {
		st.BadEvals++
	}
	r.progress(Event{Kind: "eval", Step: st.Step, Steps: st.TotalSteps, Epoch: st.Epoch, ValLoss: val})
	return nil
}

// validationLoss is the mean loss over the validation set's trained tokens.
func (r *run) validationLoss() (float64, error) {
	var sum float64
	n := 0
	for _, b := range collateAll(r.val, r.cfg.Batch) {
		s, err := r.trainer.Loss(b)
		if err != nil {
			return 0, fmt.Errorf("validation: %w", err)
		}
		sum += s
		n += b.Scored()
	}
	return sum / float64(max(1, n)), nil
}

func (r *run) logMetric(m Metric) error {
	r.metrics = append(r.metrics, m)
	raw, _ := json.Marshal(m)
	if _, err := r.metricsFile.Write(append(raw, '\n')); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// saveWeights writes the trained parameters into dir: a PEFT adapter, or
// with full fine-tuning the model as GGUF.
func (r *run) saveWeights(dir string) error {
	if r.adapter != nil {
		return r.adapter.SavePEFT(dir)
	}
	return r.saveModel(filepath.Join(dir, "model.gguf"))
}

func (r *run) saveModel(path string) error {
	if r.cfg.SaveModel != nil {
		return r.cfg.SaveModel(path, r.full.Model)
	}
	return llama.SaveGGUF(path, r.full.Model)
}

// checkpoint writes OUT/checkpoint for the current state.
func (r *run) checkpoint() error {
	dir := filepath.Join(r.cfg.Out, CheckpointDir)
	err := saveCheckpoint(dir, func(tmp string) error {
		if r.adapter != nil {
			if err := r.adapter.SavePEFT(tmp); err != nil {
				return err
			}
		} else if err := writeParams(filepath.Join(tmp, "params.bin"), r.full.Params); err != nil {
			return err
		}
		if err := writeOptimizer(filepath.Join(tmp, "optimizer.bin"), r.opt); err != nil {
			return err
		}
		return writeState(tmp, &r.state)
	})
	if err == nil {
		r.progress(Event{Kind: "checkpoint", Step: r.state.Step, Steps: r.state.TotalSteps, Path: dir})
	}
	return err
}

// finish writes the final weights and the loss plot, and fills res.
func (r *run) finish(res *Result) error {
	st := &r.state
	if r.adapter != nil {
		if err := r.adapter.SavePEFT(r.cfg.Out); err != nil {
			return err
		}
		if err := r.adapter.SaveGGUF(filepath.Join(r.cfg.Out, "adapter.gguf")); err != nil {
			return err
		}
	} else if err := r.saveModel(filepath.Join(r.cfg.Out, "model.gguf")); err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(r.cfg.Out, LossPlotName), lossSVG(r.metrics)); err != nil {
		return err
	}
	res.Steps, res.Tokens, res.Seconds, res.Metrics = st.Step, st.Tokens, st.Seconds, r.metrics
	if len(r.metrics) > 0 {
		res.FinalLoss = r.metrics[len(r.metrics)-1].Loss
	}
	if st.BestStep > 0 {
		res.BestVal, res.BestStep = st.BestVal, st.BestStep
	}
	return nil
}
