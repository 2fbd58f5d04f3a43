package train

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"flywheel/internal/dataset"
	"flywheel/internal/llama"
	"flywheel/internal/lora"
)

func TestSchedule(t *testing.T) {
	for _, tc := range []struct {
		s    Schedule
		step int
		want float64
	}{
		{Schedule{Kind: "constant", LR: 1, Warmup: 4, Total: 10}, 1, 0.25},
		{Schedule{Kind: "constant", LR: 1, Warmup: 4, Total: 10}, 4, 1},
		{Schedule{Kind: "constant", LR: 1, Warmup: 4, Total: 10}, 9, 1},
		{Schedule{Kind: "linear", LR: 1, LRMin: 0.1, Warmup: 0, Total: 10}, 1, 0.1 + 0.9*0.9},
		{Schedule{Kind: "linear", LR: 1, LRMin: 0.1, Warmup: 2, Total: 10}, 6, 0.1 + 0.9*0.5},
		{Schedule{Kind: "linear", LR: 1, LRMin: 0.1, Warmup: 2, Total: 10}, 10, 0.1},
		{Schedule{Kind: "cosine", LR: 1, LRMin: 0, Warmup: 0, Total: 4}, 2, 0.5},
		{Schedule{Kind: "cosine", LR: 2, LRMin: 1, Warmup: 1, Total: 5}, 5, 1},
		{Schedule{Kind: "cosine", LR: 1, LRMin: 0, Warmup: 0, Total: 4}, 9, 0}, // past the end: the floor
	} {
		if got := tc.s.At(tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%+v at %d = %g, want %g", tc.s, tc.step, got, tc.want)
		}
	}
	if _, err := ParseSchedule("step"); err == nil {
		t.Error("unknown schedule accepted")
	}
}

func TestAdamW(t *testing.T) {
	o := NewAdamW(3, 0.9, 0.99, 1e-8, 0.1)
	o.NoDecay = [][2]int{{1, 2}}
	p := []float32{1, 1, 1}
	g := []float32{0.5, 0.5, -2}
	o.Step(p, g, 0.01)
	// step 1: m̂ = g, v̂ = g², update = lr·g/(|g|+eps) = ±lr
	want := []float32{1*(1-0.001) - 0.01, 1 - 0.01, 1*(1-0.001) + 0.01}
	for i := range p {
		if math.Abs(float64(p[i]-want[i])) > 1e-6 {
			t.Errorf("p[%d] = %.8g, want %.8g", i, p[i], want[i])
		}
	}
	if o.T != 1 || math.Abs(float64(o.M[2])+0.2) > 1e-7 || math.Abs(float64(o.V[2])-0.04) > 1e-7 {
		t.Errorf("moments %v %v after one step", o.M, o.V)
	}
}

func TestClipGradNorm(t *testing.T) {
	g := []float32{3, 4}
	if n, c := ClipGradNorm(g, 1); math.Abs(n-5) > 1e-9 || math.Abs(c-1/(5+1e-6)) > 1e-12 ||
		math.Abs(float64(g[0])-0.6) > 1e-6 {
		t.Errorf("norm %g coef %g grads %v", n, c, g)
	}
	g = []float32{0.3, 0.4}
	if _, c := ClipGradNorm(g, 1); c != 1 || g[0] != 0.3 {
		t.Error("a small gradient was clipped")
	}
	if n, c := ClipGradNorm([]float32{30, 40}, 0); n != 50 || c != 1 {
		t.Error("max-norm 0 must only measure")
	}
}

func TestPlanEpoch(t *testing.T) {
	lens := []int{5, 9, 3, 7, 2, 8, 4}
	for _, tc := range []struct {
		batch, accum, maxLen int
		packing              bool
		steps                int
	}{{2, 1, 0, false, 4}, {2, 2, 0, false, 2}, {3, 1, 0, false, 3}, {1, 3, 0, false, 3}, {2, 1, 5, true, 0}} {
		plan := planEpoch(lens, 0, 7, tc.batch, tc.accum, tc.maxLen, tc.packing)
		var seen []int
		for _, step := range plan {
			if len(step) > tc.accum {
				t.Fatalf("%+v: a step of %d micro-batches", tc, len(step))
			}
			for _, mb := range step {
				tokens := 0
				for _, i := range mb {
					tokens += lens[i]
				}
				if !tc.packing && len(mb) > tc.batch || tc.packing && len(mb) > 1 && tokens > tc.batch*tc.maxLen {
					t.Fatalf("%+v: micro-batch %v", tc, mb)
				}
				seen = append(seen, mb...)
			}
		}
		slices.Sort(seen)
		if !slices.Equal(seen, []int{0, 1, 2, 3, 4, 5, 6}) {
			t.Fatalf("%+v: examples %v", tc, seen)
		}
		if tc.steps > 0 && len(plan) != tc.steps {
			t.Errorf("%+v: %d steps, want %d", tc, len(plan), tc.steps)
		}
		if again := planEpoch(lens, 0, 7, tc.batch, tc.accum, tc.maxLen, tc.packing); !equalPlans(plan, again) {
			t.Errorf("%+v: the plan is not fixed by seed and epoch", tc)
		}
	}
	if equalPlans(planEpoch(lens, 0, 7, 2, 1, 0, false), planEpoch(lens, 1, 7, 2, 1, 0, false)) {
		t.Error("two epochs in the same order")
	}
}

func equalPlans(a, b [][][]int) bool {
	return slices.EqualFunc(a, b, func(x, y [][]int) bool { return slices.EqualFunc(x, y, slices.Equal[[]int]) })
}

func TestLoadPreTokenized(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.jsonl")
	os.WriteFile(good, []byte(`{"input_ids": [1, 5, 6, 7], "labels": [-100, -100, 6, 7]}

{"input_ids": [1, 2, 3, 4, 5, 6, 7, 8], "labels": [-100, 2, 3, 4, 5, 6, 7, 8]}
{"input_ids": [1, 9]}
{"input_ids": [1, 9, 9], "labels": [-100, -100, -100]}
`), 0o644)
	ex, rep, err := LoadExamples(good, DataOptions{Vocab: 16, MaxLen: 6})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Examples != 3 || rep.Truncated != 1 || rep.Dropped != 1 || rep.Format != "pre-tokenized" || len(ex[1].Tokens) != 6 {
		t.Fatalf("report %+v, examples %v", rep, ex)
	}
	if ex[0].scored() != 2 || ex[2].scored() != 1 || rep.Scored != 2+5+1 {
		t.Errorf("scored %d %d, total %d", ex[0].scored(), ex[2].scored(), rep.Scored)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"input_ids": [1, 2], "labels": [1]}`, "bad.jsonl:1: field labels: 1 labels for 2 input_ids"},
		{"{\"input_ids\": [1, 2]}\n{\"input_ids\": [1, 99]}", "bad.jsonl:2: field input_ids[1]: id 99 is outside"},
		{`{"input_ids": [1, 2], "labels": [-100, -5]}`, "field labels[1]: -5 is neither -100"},
		{"{\"input_ids\": [1]}\n{\"input_ids\": [1,", "bad.jsonl:2: not a pre-tokenized record"},
	} {
		bad := filepath.Join(dir, "bad.jsonl")
		os.WriteFile(bad, []byte(tc.body), 0o644)
		if _, _, err := LoadExamples(bad, DataOptions{Vocab: 16}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.body, err, tc.want)
		}
	}
}

func FuzzParsePreTokenized(f *testing.F) {
	for _, s := range []string{`{"input_ids": [1, 5, 6, 7], "labels": [-100, -100, 6, 7]}`, `{"input_ids": [1]}`,
		`{"input_ids": [], "labels": []}`, `{"input_ids": [1, 2], "labels": [1]}`, `[1,2]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := parsePreTokenized(raw, 16)
		if err != nil {
			return
		}
		if len(e.Tokens) == 0 || e.Labels != nil && len(e.Labels) != len(e.Tokens) {
			t.Fatalf("accepted %+v", e)
		}
		for i := range e.Tokens {
			if l := e.label(i); e.Tokens[i] >= 16 || l != IgnoreIndex && (l < 0 || l >= 16) {
				t.Fatalf("accepted id out of range: %+v", e)
			}
		}
	})
}

// Text data through the dataset reader: an alpaca file, plain layout
// (stories260K has no chat template): BOS, prompt untrained, answer and EOS
// trained.
func TestLoadAlpaca(t *testing.T) {
	m := loadStories(t)
	path := filepath.Join(t.TempDir(), "a.json")
	os.WriteFile(path, []byte(`[{"instruction": "Tell a story.", "input": "", "output": "Once upon a time"},
{"instruction": "Say hi.", "output": "Hi"},
{"instruction": "Nothing to learn.", "output": ""}]`), 0o644)
	ex, rep, err := LoadExamples(path, DataOptions{Tokenizer: m.Tokenizer, Vocab: m.Config.Vocab})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Examples != 2 || rep.Dropped != 1 || rep.Format != "alpaca" {
		t.Fatalf("report %+v", rep)
	}
	tok := m.Tokenizer
	prompt := tok.Encode("Tell a story.", false, false)
	answer := tok.Encode("Once upon a time", false, false)
	want := append(append([]int{tok.BOS()}, prompt...), append(answer, tok.EOS())...)
	if !slices.Equal(ex[0].Tokens, want) {
		t.Fatalf("tokens %v, want %v", ex[0].Tokens, want)
	}
	for i, l := range ex[0].Labels {
		trained := i > len(prompt)
		if trained != (l != IgnoreIndex) || trained && l != want[i] {
			t.Fatalf("label %d = %d (tokens %v)", i, l, want)
		}
	}
}

// syntheticExamples makes n examples of random story tokens whose first
// half is prompt.
func syntheticExamples(n int, seed uint64) []Example {
	r := rand.New(rand.NewPCG(seed, 9))
	var out []Example
	for i := 0; i < n; i++ {
		l := 6 + r.IntN(10)
		e := Example{Tokens: []int{1}, Labels: []int{IgnoreIndex}}
		for j := 1; j < l; j++ {
			tok := 259 + r.IntN(200)
			e.Tokens = append(e.Tokens, tok)
			if j < l/2 {
				e.Labels = append(e.Labels, IgnoreIndex)
			} else {
				e.Labels = append(e.Labels, tok)
			}
		}
		out = append(out, e)
	}
	return out
}

func testConfig(out string) Config {
	c := DefaultConfig()
	c.Out = out
	c.LR = 3e-3
	c.Batch = 2
	c.Epochs = 2
	c.LoRA.Rank = 4
	c.LoRA.Dropout = 0.1
	c.Warmup = 2
	return c
}

func readMetricLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// A run writes the adapter (PEFT and GGUF), metrics.jsonl with exactly the
// issue's fields, loss.svg and a checkpoint; the loss falls.
func TestRunWritesOutputs(t *testing.T) {
	m := loadStories(t)
	trainSet, valSet := SplitValidation(syntheticExamples(12, 1), 0.25, 3)
	out := t.TempDir()
	cfg := testConfig(out)
	cfg.EvalEvery = 2
	var events []string
	res, err := Run(context.Background(), m, trainSet, valSet, cfg, func(e Event) { events = append(events, e.Kind) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 10 || res.Stopped != "" || math.IsNaN(res.BestVal) {
		t.Fatalf("result %+v", res)
	}
	for _, name := range []string{"adapter_config.json", "adapter_model.safetensors", "adapter.gguf", MetricsName, LossPlotName,
		"checkpoint/state.json", "checkpoint/optimizer.bin", "checkpoint/adapter_model.safetensors", "best/best.json", "best/adapter_config.json"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("missing %s", name)
		}
	}
	lines := readMetricLines(t, filepath.Join(out, MetricsName))
	if len(lines) != 10 {
		t.Fatalf("%d metric lines", len(lines))
	}
	for i, l := range lines {
		keys := []string{}
		for k := range l {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"grad_norm", "loss", "lr", "step", "tokens_per_s"}
		if (i+1)%2 == 0 {
			want = []string{"grad_norm", "loss", "lr", "step", "tokens_per_s", "val_loss"}
		}
		if !slices.Equal(keys, want) || l["step"].(float64) != float64(i+1) {
			t.Fatalf("line %d: %v", i+1, l)
		}
	}
	if first, last := lines[0]["loss"].(float64), lines[9]["loss"].(float64); !(last < first) {
		t.Errorf("loss %g → %g did not fall", first, last)
	}
	if !slices.Contains(events, "eval") || !slices.Contains(events, "checkpoint") || events[len(events)-1] != "done" {
		t.Errorf("events %v", events)
	}
	svg, _ := os.ReadFile(filepath.Join(out, LossPlotName))
	if !strings.HasPrefix(string(svg), "<svg") || !strings.Contains(string(svg), "polyline") {
		t.Error("loss.svg is not a plot")
	}
	// the saved adapter is the trained one
	a, err := m.LoadAdapter(out)
	if err != nil || !slices.Equal(a.Params, res.Adapter.Params) {
		t.Errorf("saved adapter differs: %v", err)
	}
}

// An interrupted run resumed from its checkpoint takes exactly the steps
// the uninterrupted run takes: same losses, same final adapter.
func TestResumeSameTrajectory(t *testing.T) {
	m := loadStories(t)
	data := syntheticExamples(10, 2)
	whole := t.TempDir()
	cfg := testConfig(whole)
	ref, err := Run(context.Background(), m, data, nil, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}

	parted := t.TempDir()
	cfg.Out = parted
	ctx, cancel := context.WithCancel(context.Background())
	_, err = Run(ctx, m, data, nil, cfg, func(e Event) {
		if e.Kind == "step" && e.Step == 4 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	st, err := readState(filepath.Join(parted, CheckpointDir))
	if err != nil || st.Step != 4 {
		t.Fatalf("checkpoint state %+v, %v", st, err)
	}
	cfg.Resume = parted
	got, err := Run(context.Background(), m, data, nil, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Metrics) != len(ref.Metrics) {
		t.Fatalf("%d steps, want %d", len(got.Metrics), len(ref.Metrics))
	}
	for i := range ref.Metrics {
		if got.Metrics[i].Loss != ref.Metrics[i].Loss || got.Metrics[i].LR != ref.Metrics[i].LR {
			t.Errorf("step %d: loss %.9g lr %g, uninterrupted %.9g %g", i+1, got.Metrics[i].Loss, got.Metrics[i].LR, ref.Metrics[i].Loss, ref.Metrics[i].LR)
		}
	}
	if !slices.Equal(got.Adapter.Params, ref.Adapter.Params) {
		t.Error("the resumed run ends with other parameters")
	}
	if lines := readMetricLines(t, filepath.Join(parted, MetricsName)); len(lines) != len(ref.Metrics) {
		t.Errorf("metrics.jsonl has %d lines after resuming, want %d", len(lines), len(ref.Metrics))
	}
	// resuming with other data is refused
	cfg.Resume = parted
	if _, err := Run(context.Background(), m, data[:9], nil, cfg, nil); err == nil || !strings.Contains(err.Error(), "training data") {
		t.Errorf("resume on other data: %v", err)
	}
}

// Gradient accumulation is the token-level mean over the whole step: two
// micro-batches of one equal one batch of two.
func TestGradAccumEqualsBatch(t *testing.T) {
	m := loadStories(t)
	data := syntheticExamples(6, 4)
	var runs [2]*Result
	for i, shape := range [][2]int{{2, 1}, {1, 2}} {
		cfg := testConfig(t.TempDir())
		cfg.LoRA.Dropout = 0
		cfg.Batch, cfg.GradAccum, cfg.Epochs = shape[0], shape[1], 1
		res, err := Run(context.Background(), m, data, nil, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = res
	}
	for i := range runs[0].Metrics {
		a, b := runs[0].Metrics[i], runs[1].Metrics[i]
		if math.Abs(a.Loss-b.Loss) > 1e-6*a.Loss || math.Abs(a.GradNorm-b.GradNorm) > 1e-5*a.GradNorm {
			t.Errorf("step %d: batch 2 loss %.9g norm %.6g; 2×1 accumulated %.9g %.6g", i+1, a.Loss, a.GradNorm, b.Loss, b.GradNorm)
		}
	}
}

// Early stopping: with a learning rate that wrecks the model, validation
// loss rises and the run stops after Patience evaluations, keeping the best.
func TestEarlyStopping(t *testing.T) {
	m := loadStories(t)
	trainSet, valSet := SplitValidation(syntheticExamples(16, 5), 0.25, 1)
	cfg := testConfig(t.TempDir())
	cfg.LR, cfg.Warmup, cfg.Clip, cfg.Schedule = 0.5, 0, 0, "constant"
	cfg.EvalEvery, cfg.Patience, cfg.Epochs = 1, 2, 5
	res, err := Run(context.Background(), m, trainSet, valSet, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != "early stopping" || res.Steps >= 5*len(planEpoch(make([]int, len(trainSet)), 0, 0, 2, 1, 0, false)) {
		t.Fatalf("stopped %q after %d steps", res.Stopped, res.Steps)
	}
	raw, err := os.ReadFile(filepath.Join(cfg.Out, BestDir, "best.json"))
	if err != nil || !strings.Contains(string(raw), `"step":`+itoa(res.BestStep)) {
		t.Errorf("best.json %s, best step %d", raw, res.BestStep)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// Full fine-tuning trains every weight and writes a loadable GGUF.
func TestRunFull(t *testing.T) {
	m := loadStories(t)
	cfg := testConfig(t.TempDir())
	cfg.Full, cfg.LR, cfg.Epochs, cfg.WeightDecay = true, 1e-3, 2, 0.01
	res, err := Run(context.Background(), m, syntheticExamples(8, 6), nil, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first, last := res.Metrics[0].Loss, res.Metrics[len(res.Metrics)-1].Loss; !(last < first) {
		t.Errorf("loss %g → %g did not fall", first, last)
	}
	got, err := llama.Load(filepath.Join(cfg.Out, "model.gguf"), llama.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if got.Config.Layers != m.Config.Layers || !slices.Equal(got.OutNorm, res.Full.Model.OutNorm) {
		t.Error("model.gguf does not hold the trained weights")
	}
}

// --init-adapter starts from a saved adapter: its rank, alpha and targets.
func TestInitAdapter(t *testing.T) {
	m := loadStories(t)
	a, _ := lora.New(m.Config.LoRAShape(), lora.Config{Rank: 2, Alpha: 3, Targets: []lora.Target{lora.V}})
	a.Init(1)
	for i := range a.Params {
		a.Params[i] += 0.01
	}
	dir := t.TempDir()
	a.SavePEFT(dir)
	cfg := testConfig(t.TempDir())
	cfg.InitAdapter, cfg.MaxSteps, cfg.LR = dir, 1, 1e-9
	res, err := Run(context.Background(), m, syntheticExamples(4, 7), nil, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Adapter.Config.Rank != 2 || len(res.Adapter.Params) != len(a.Params) {
		t.Fatalf("trained adapter %+v", res.Adapter.Config)
	}
	for i := range a.Params {
		if math.Abs(float64(res.Adapter.Params[i]-a.Params[i])) > 1e-6 {
			t.Fatal("the run did not start from the given adapter")
		}
	}
}

// With a chat encoder, the example's turns go to it and its assistant
// marks become the labels; tool turns and preference pairs are refused.
func TestEncodeChat(t *testing.T) {
	var got []ChatMessage
	chat := func(msgs []ChatMessage) ([]int, []bool, error) {
		got = msgs
		return []int{1, 7, 8, 9, 2}, []bool{false, false, true, true, true}, nil
	}
	ex := dataset.Example{System: "be brief", Messages: []dataset.Message{
		{Role: dataset.RoleUser, Content: "hi"}, {Role: dataset.RoleAssistant, Content: "hello"}}}
	e, why := Encode(&ex, nil, chat)
	if why != "" || !slices.Equal(e.Tokens, []int{1, 7, 8, 9, 2}) || !slices.Equal(e.Labels, []int{IgnoreIndex, IgnoreIndex, 8, 9, 2}) {
		t.Fatalf("encoded %+v (%s)", e, why)
	}
	if len(got) != 3 || got[0] != (ChatMessage{"system", "be brief"}) || got[2] != (ChatMessage{"assistant", "hello"}) {
		t.Errorf("the encoder got %+v", got)
	}
	tool := dataset.Example{Messages: []dataset.Message{{Role: dataset.RoleUser, Content: "x"},
		{Role: dataset.RoleFunctionCall, Content: "{}"}, {Role: dataset.RoleObservation, Content: "y"}, {Role: dataset.RoleAssistant, Content: "z"}}}
	if _, why := Encode(&tool, nil, chat); why == "" {
		t.Error("tool turns accepted")
	}
	pref := dataset.Example{Messages: []dataset.Message{{Role: dataset.RoleUser, Content: "x"}},
		Chosen: &dataset.Message{Role: dataset.RoleAssistant, Content: "a"}, Rejected: &dataset.Message{Role: dataset.RoleAssistant, Content: "b"}}
	if _, why := Encode(&pref, nil, chat); why == "" {
		t.Error("a preference pair accepted")
	}
}
