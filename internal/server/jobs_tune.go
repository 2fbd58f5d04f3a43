package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"flywheel/internal/dataset"
	"flywheel/internal/llama"
	"flywheel/internal/lora"
	"flywheel/internal/store"
	"flywheel/internal/tensor"
	"flywheel/internal/train"
)

// TuneConfig says what fine-tuning jobs may train.
type TuneConfig struct {
	// Models maps the names a job gives as "model" to base model files (a
	// GGUF file, a Hugging Face directory or a llama2.c .bin). Admin keys
	// may also give a path on the server.
	Models map[string]string
	// Threads are a run's compute threads (≤ 0: one per core).
	Threads int
}

// trainMetricsName is the metrics file in a run's output directory.
const trainMetricsName = train.MetricsName

// tuneRequest is the body of POST /api/jobs.
type tuneRequest struct {
	Kind  string `json:"kind"`
	Model string `json:"model"`
	// Data is a training file on the server (admin keys only);
	// FromFeedback a collection whose feedback becomes the data (its
	// supervised examples, as GET /api/feedback/export?format=sft).
	Data         string      `json:"data,omitempty"`
	FromFeedback string      `json:"from_feedback,omitempty"`
	Options      tuneOptions `json:"options"`
}

// tuneOptions are the settings of `flywheel tune` a job may change; zero
// fields keep its defaults.
type tuneOptions struct {
	Epochs       int     `json:"epochs,omitempty"`
	MaxSteps     int     `json:"max_steps,omitempty"`
	Batch        int     `json:"batch,omitempty"`
	GradAccum    int     `json:"grad_accum,omitempty"`
	MaxLen       int     `json:"max_len,omitempty"`
	LR           float64 `json:"lr,omitempty"`
	Schedule     string  `json:"schedule,omitempty"`
	Warmup       int     `json:"warmup,omitempty"`
	LoRARank     int     `json:"lora_rank,omitempty"`
	LoRAAlpha    float64 `json:"lora_alpha,omitempty"`
	LoRATargets  string  `json:"lora_targets,omitempty"`
	ValSplit     float64 `json:"val_split,omitempty"`
	EvalEvery    int     `json:"eval_every,omitempty"`
	SaveEvery    int     `json:"save_every,omitempty"`
	Seed         uint64  `json:"seed,omitempty"`
	ChatTemplate string  `json:"chat_template,omitempty"`
}

// check returns the option at fault and why, or "".
func (o tuneOptions) check() (field, msg string) {
	ints := []struct {
		name   string
		v, max int
	}{{"epochs", o.Epochs, 1000}, {"max_steps", o.MaxSteps, 1 << 20}, {"batch", o.Batch, 1024}, {"grad_accum", o.GradAccum, 1024},
		{"max_len", o.MaxLen, 1 << 16}, {"warmup", o.Warmup, 1 << 20}, {"lora_rank", o.LoRARank, 1024},
		{"eval_every", o.EvalEvery, 1 << 20}, {"save_every", o.SaveEvery, 1 << 20}}
	for _, f := range ints {
		if f.v < 0 || f.v > f.max {
			return "options." + f.name, fmt.Sprintf("options.%s %d: give 0 (the default) to %d", f.name, f.v, f.max)
		}
	}
	switch {
	case o.LR < 0 || o.LR > 1 || math.IsNaN(o.LR):
		return "options.lr", fmt.Sprintf("options.lr %g: give a learning rate in (0, 1]", o.LR)
	case o.LoRAAlpha < 0 || o.LoRAAlpha > 1e4:
		return "options.lora_alpha", fmt.Sprintf("options.lora_alpha %g: give 0 (the default) to 10000", o.LoRAAlpha)
	case o.ValSplit < 0 || o.ValSplit >= 1:
		return "options.val_split", fmt.Sprintf("options.val_split %g: give a fraction in [0, 1)", o.ValSplit)
	}
	if o.Schedule != "" {
		if _, err := train.ParseSchedule(o.Schedule); err != nil {
			return "options.schedule", err.Error()
		}
	}
	if o.LoRATargets != "" {
		if _, err := lora.ParseTargets(o.LoRATargets); err != nil {
			return "options.lora_targets", err.Error()
		}
	}
	return "", ""
}

// checkTune validates a job request; on a problem it writes the error
// (400, or 404 for a from_feedback collection the caller may not see)
// and returns false.
func (s *Server) checkTune(w http.ResponseWriter, r *http.Request, req *tuneRequest) bool {
	_, admin := Identity(r.Context())
	if req.Kind == "" {
		req.Kind = "tune"
	}
	field, msg := "", ""
	switch {
	case req.Kind != "tune":
		field, msg = "kind", fmt.Sprintf("kind %q: the server runs \"tune\" jobs (LoRA fine-tuning)", req.Kind)
	case req.Model == "":
		field, msg = "model", "field \"model\" is missing: "+s.modelChoices(admin)
	case s.cfg.Tune.Models[req.Model] == "" && !admin:
		field, msg = "model", fmt.Sprintf("model %q: %s", req.Model, s.modelChoices(false))
	case (req.Data == "") == (req.FromFeedback == ""):
		field, msg = "data", `give either "data" (a training file on the server, admin keys) or "from_feedback" (a collection whose feedback to train on)`
	case req.Data != "" && !admin:
		field, msg = "data", `"data" names a file on the server, which only admin keys may do: use "from_feedback"`
	case s.cfg.Tune.Models[req.Model] == "" && !exists(req.Model):
		field, msg = "model", fmt.Sprintf("model %q is neither a served name nor a file: %s", req.Model, s.modelChoices(true))
	case req.Data != "" && !exists(req.Data):
		field, msg = "data", fmt.Sprintf("data %q: no such file on the server", req.Data)
	default:
		field, msg = req.Options.check()
	}
	if field != "" {
		writeErrorParam(w, http.StatusBadRequest, msg, field, "")
		return false
	}
	if req.FromFeedback != "" {
		_, ok := s.visibleCollection(w, r, req.FromFeedback)
		return ok
	}
	return true
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// modelChoices says which models a job may train.
func (s *Server) modelChoices(admin bool) string {
	var names []string
	for n := range s.cfg.Tune.Models {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	if len(names) == 0 {
		b.WriteString("the server offers no model to fine-tune (flywheel serve --model PATH offers its model)")
	} else {
		b.WriteString("use one of " + strings.Join(names, ", "))
	}
	if admin {
		b.WriteString(", or a model file's path on the server")
	}
	return b.String()
}

// runTune fine-tunes a LoRA adapter as the job asks, into
// DATA/jobs/ID/out, continuing from the checkpoint there if any.
func (r *jobRunner) runTune(ctx context.Context, job store.Job) (*jobProgress, error) {
	s := r.s
	var req tuneRequest
	if err := json.Unmarshal(job.Config, &req); err != nil {
		return nil, fmt.Errorf("the job's configuration: %w", err)
	}
	dir := s.jobDir(job.ID)
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	data := req.Data
	if req.FromFeedback != "" {
		var err error
		if data, err = s.feedbackData(ctx, job, filepath.Join(dir, "data.jsonl"), req.FromFeedback); err != nil {
			return nil, err
		}
	}
	modelPath := s.cfg.Tune.Models[req.Model]
	if modelPath == "" {
		modelPath = req.Model
	}
	m, err := llama.Load(modelPath, llama.Options{})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	cfg, err := tuneConfig(req.Options, m, out)
	if err != nil {
		return nil, err
	}
	cfg.LoRA.BaseModel = modelPath
	trainSet, valSet, err := r.tuneData(job.ID, data, req.Options, m, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(out, train.CheckpointDir, "state.json")); err == nil {
		cfg.Resume = out
		r.emit(job.ID, jobEvent{Type: "log", Message: "resuming from the last checkpoint"})
	}
	pool := tensor.NewPool(s.cfg.Tune.Threads)
	defer pool.Close()
	cfg.Pool = pool
	prog := &jobProgress{Examples: len(trainSet)}
	res, err := train.Run(ctx, m, trainSet, valSet, cfg, r.progress(job.ID, prog))
	if res != nil {
		prog.Step, prog.Loss = res.Steps, res.FinalLoss
	}
	if err == nil {
		rel, _ := filepath.Rel(s.cfg.Store.Dir(), filepath.Join(out, "adapter.gguf"))
		prog.Adapter = rel
	}
	return prog, err
}

// feedbackData writes the supervised examples of a collection's feedback
// to path, once: a resumed job trains on the same data.
func (s *Server) feedbackData(ctx context.Context, job store.Job, path, coll string) (string, error) {
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	q := store.FeedbackQuery{Owner: job.Owner, Collection: coll}
	if u, err := s.cfg.Store.Collection(ctx, coll); err == nil && u.Owner != job.Owner {
		q.AnyOwner = true // an admin's job on another's collection
	}
	examples, err := s.trainingExamples(ctx, q, false)
	if err != nil {
		return "", err
	}
	if len(examples) == 0 {
		return "", fmt.Errorf("the feedback on collection %q teaches nothing yet: rate answers 4 or 5, or correct them, then start the job again", coll)
	}
	w, err := dataset.Create(path, dataset.WriterOptions{Format: dataset.FormatMessages, JSONL: true})
	if err != nil {
		return "", err
	}
	for _, ex := range examples {
		if err := w.Write(ex); err != nil {
			w.Abort()
			return "", err
		}
	}
	return path, w.Close()
}

// tuneConfig is `flywheel tune`'s defaults with the job's options.
func tuneConfig(o tuneOptions, m *llama.Model, out string) (train.Config, error) {
	cfg := train.DefaultConfig()
	cfg.Out = out
	set := func(dst *int, v int) {
		if v > 0 {
			*dst = v
		}
	}
	set(&cfg.Epochs, o.Epochs)
	set(&cfg.MaxSteps, o.MaxSteps)
	set(&cfg.Batch, o.Batch)
	set(&cfg.GradAccum, o.GradAccum)
	set(&cfg.MaxLen, o.MaxLen)
	set(&cfg.Warmup, o.Warmup)
	set(&cfg.LoRA.Rank, o.LoRARank)
	set(&cfg.EvalEvery, o.EvalEvery)
	cfg.SaveEvery = 100
	set(&cfg.SaveEvery, o.SaveEvery)
	if o.LR > 0 {
		cfg.LR = o.LR
	}
	if o.LoRAAlpha > 0 {
		cfg.LoRA.Alpha = o.LoRAAlpha
	}
	if o.Seed > 0 {
		cfg.Seed = o.Seed
	}
	var err error
	if o.Schedule != "" {
		if cfg.Schedule, err = train.ParseSchedule(o.Schedule); err != nil {
			return cfg, err
		}
	}
	if o.LoRATargets != "" {
		if cfg.LoRA.Targets, err = lora.ParseTargets(o.LoRATargets); err != nil {
			return cfg, err
		}
	}
	if cfg.MaxLen > m.Config.ContextLen {
		cfg.MaxLen = m.Config.ContextLen
	}
	return cfg, nil
}

// tuneData loads and tokenizes the training data, holding out the
// validation split.
func (r *jobRunner) tuneData(id, path string, o tuneOptions, m *llama.Model, cfg train.Config) (trainSet, valSet []train.Example, err error) {
	opt := train.DataOptions{Vocab: m.Config.Vocab, MaxLen: cfg.MaxLen}
	if m.Tokenizer != nil {
		opt.Tokenizer = m.Tokenizer
		tpl, err := train.ChatTemplate(m.Tokenizer, o.ChatTemplate)
		if err != nil {
			return nil, nil, fmt.Errorf("options.chat_template: %w", err)
		}
		if tpl != nil {
			opt.Chat = train.TemplateEncoder(m.Tokenizer, tpl)
		}
	}
	trainSet, rep, err := train.LoadExamples(path, opt)
	if err != nil {
		return nil, nil, err
	}
	r.emit(id, jobEvent{Type: "log", Message: fmt.Sprintf("data: %v", rep)})
	if len(trainSet) == 0 {
		return nil, nil, errors.New("no training example is left after tokenizing: " + rep.String())
	}
	split := o.ValSplit
	if split > 0 && len(trainSet) >= 2 {
		trainSet, valSet = train.SplitValidation(trainSet, split, cfg.Seed)
	}
	return trainSet, valSet, nil
}

// progress turns training events into job events, and records the
// progress in the store at most once a second (and at evaluations and
// checkpoints).
func (r *jobRunner) progress(id string, prog *jobProgress) func(train.Event) {
	var saved time.Time
	return func(e train.Event) {
		prog.Step, prog.Steps, prog.Epoch = e.Step, e.Steps, e.Epoch
		switch e.Kind {
		case "step":
			prog.Loss, prog.LR, prog.TokensPerSec, prog.ETASeconds = e.Loss, e.LR, e.TokensPerSec, e.ETA.Seconds()
			r.emit(id, jobEvent{Type: "step", Step: e.Step, Steps: e.Steps, Loss: e.Loss, LR: e.LR})
		case "eval":
			prog.ValLoss = e.ValLoss
			r.emit(id, jobEvent{Type: "eval", Step: e.Step, Steps: e.Steps, ValLoss: e.ValLoss})
		case "checkpoint":
			r.emit(id, jobEvent{Type: "checkpoint", Step: e.Step, Steps: e.Steps})
		default:
			r.emit(id, jobEvent{Type: "log", Step: e.Step, Message: e.Kind})
		}
		if e.Kind == "step" && time.Since(saved) < time.Second {
			return
		}
		saved = time.Now()
		raw, _ := json.Marshal(prog)
		if err := r.s.cfg.Store.UpdateJob(context.Background(), id, jobRunning, raw, ""); err != nil {
			r.s.cfg.Logger.Error("recording a job's progress", "job", id, "error", err.Error())
		}
	}
}
