package train

import (
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"flywheel/internal/llama"
	"flywheel/internal/lora"
	"flywheel/internal/refdata"
)

// sharedData returns the path of a file of the shared reference data.
func sharedData(t testing.TB, rel string) string { return refdata.Path(t, rel) }

func loadStories(t testing.TB) *llama.Model {
	t.Helper()
	m, err := llama.Load(sharedData(t, "models/stories260K/stories260K.bin"),
		llama.Options{Tokenizer: sharedData(t, "models/stories260K/tok512.bin")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

type abPair struct {
	A [][]float32 `json:"A"`
	B [][]float32 `json:"B"`
}

// reference is the part of stories260K_sft_lora_r4.json (PyTorch) the
// optimizer is checked against; see spec.conventions there.
type reference struct {
	Data struct {
		Tokens [][]int `json:"tokens"`
		Labels [][]int `json:"labels"`
	} `json:"data"`
	Cases []struct {
		Name string `json:"name"`
		Spec struct {
			Targets   []string `json:"targets"`
			Rank      int      `json:"rank"`
			Alpha     float64  `json:"alpha"`
			Clip      float64  `json:"grad_clip_max_norm"`
			Steps     int      `json:"optimizer_steps_run"`
			Optimizer struct {
				Betas       [2]float64 `json:"betas"`
				Eps         float64    `json:"eps"`
				WeightDecay float64    `json:"weight_decay"`
			} `json:"optimizer"`
			Schedule struct {
				LRMax  float64 `json:"lr_max"`
				Warmup int     `json:"warmup_steps"`
				Total  int     `json:"total_steps"`
				LRMin  float64 `json:"lr_min"`
			} `json:"schedule"`
		} `json:"spec"`
		Init        map[string]abPair `json:"init_matrices"`
		LR          []float64         `json:"lr_per_step"`
		Losses      []float64         `json:"loss_history"`
		GradNorms   []float64         `json:"grad_norm_per_step"`
		ClipCoefs   []float64         `json:"clip_coef_per_step"`
		AfterStep1  map[string]abPair `json:"matrices_after_step1"`
		AfterStep20 map[string]abPair `json:"matrices_after_step20"`
		Grads0      map[string]abPair `json:"grads_step0"`
	} `json:"lora_cases"`
}

var refTargets = map[string]lora.Target{"wq": lora.Q, "wk": lora.K, "wv": lora.V, "wo": lora.O,
	"w1": lora.Gate, "w3": lora.Up, "w2": lora.Down}

// refModule finds the module of a reference key such as "layers.3.wv".
func refModule(t *testing.T, a *lora.Adapter, key string) *lora.Module {
	t.Helper()
	parts := strings.Split(key, ".")
	l, err := strconv.Atoi(parts[1])
	if len(parts) != 3 || err != nil {
		t.Fatalf("reference key %q", key)
	}
	m := a.Module(l, refTargets[parts[2]])
	if m == nil {
		t.Fatalf("no module for %s", key)
	}
	return m
}

func flatten(x [][]float32) []float32 {
	var out []float32
	for _, row := range x {
		out = append(out, row...)
	}
	return out
}

// refExamples turns the reference rows into examples (padding dropped).
func refExamples(ref *reference) []Example {
	var out []Example
	for s, toks := range ref.Data.Tokens {
		labels := ref.Data.Labels[s]
		n := len(toks)
		for n > 1 && labels[n-1] == llama.IgnoreIndex && toks[n-1] == 0 {
			n--
		}
		out = append(out, Example{Tokens: toks[:n], Labels: labels[:n]})
	}
	return out
}

// Twenty AdamW steps on the fixed batch follow PyTorch's trajectory: lr per
// step exactly, losses within 1e-4 relative (the issue allows 1e-3; measured
// ≤ 1.2e-5 after 20 steps of the seven-target case, ≤ 2.5e-6 for q,v), grad
// norms and clip coefficients within 1e-5, matrices after steps 1 and 20
// within 2e-5 absolute except where Adam's first step divides a gradient of
// ~1e-8 by itself (the README's caveat).
func TestAdamWReferenceTrajectory(t *testing.T) {
	raw, err := os.ReadFile(sharedData(t, "train/stories260K_sft_lora_r4.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	m := loadStories(t)
	examples := refExamples(&ref)
	for _, c := range ref.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var targets []lora.Target
			for _, n := range c.Spec.Targets {
				targets = append(targets, refTargets[n])
			}
			a, err := lora.New(m.Config.LoRAShape(), lora.Config{Rank: c.Spec.Rank, Alpha: c.Spec.Alpha, Targets: targets})
			if err != nil {
				t.Fatal(err)
			}
			for key, ab := range c.Init {
				mod := refModule(t, a, key)
				copy(a.A(mod), flatten(ab.A))
				copy(a.B(mod), flatten(ab.B))
			}
			tr, err := llama.NewTrainer(m, llama.TrainConfig{Adapter: a})
			if err != nil {
				t.Fatal(err)
			}
			o := c.Spec.Optimizer
			opt := NewAdamW(len(a.Params), o.Betas[0], o.Betas[1], o.Eps, o.WeightDecay)
			s := c.Spec.Schedule
			sched := Schedule{Kind: "cosine", LR: s.LRMax, LRMin: s.LRMin, Warmup: s.Warmup, Total: s.Total}
			batch, scored := collate(examples)
			grad0 := map[*lora.Module][2][]float32{}
			var worstLoss float64
			for step := 1; step <= c.Spec.Steps; step++ {
				tr.ZeroGrads()
				sum, err := tr.Step(batch, 1/float32(scored))
				if err != nil {
					t.Fatal(err)
				}
				loss := sum / float64(scored)
				worstLoss = max(worstLoss, math.Abs(loss-c.Losses[step-1])/c.Losses[step-1])
				if want := c.Losses[step-1]; math.Abs(loss-want) > 1e-4*want {
					t.Errorf("step %d: loss %.9g, want %.9g", step, loss, want)
				}
				norm, coef := ClipGradNorm(a.Grads, c.Spec.Clip)
				if want := c.GradNorms[step-1]; math.Abs(norm-want) > 1e-5*want {
					t.Errorf("step %d: grad norm %.9g, want %.9g", step, norm, want)
				}
				if want := c.ClipCoefs[step-1]; math.Abs(coef-want) > 1e-5*want {
					t.Errorf("step %d: clip coefficient %.9g, want %.9g", step, coef, want)
				}
				lr := sched.At(step)
				if want := c.LR[step-1]; math.Abs(lr-want) > 1e-15*want {
					t.Errorf("step %d: lr %.17g, want %.17g", step, lr, want)
				}
				if step == 1 {
					for key := range c.Grads0 {
						mod := refModule(t, a, key)
						grad0[mod] = [2][]float32{append([]float32(nil), a.GradA(mod)...), append([]float32(nil), a.GradB(mod)...)}
					}
				}
				opt.Step(a.Params, a.Grads, lr)
				for want, after := range map[int]map[string]abPair{1: c.AfterStep1, 20: c.AfterStep20} {
					if want != step || after == nil {
						continue
					}
					compareMatrices(t, a, after, grad0, step)
				}
			}
			sum, _ := tr.Loss(batch)
			final := sum / float64(scored)
			if want := c.Losses[c.Spec.Steps]; math.Abs(final-want) > 1e-4*want {
				t.Errorf("loss after %d steps %.9g, want %.9g", c.Spec.Steps, final, want)
			}
			t.Logf("loss after %d steps %.9g, PyTorch %.9g; largest relative loss difference over the steps %.2g",
				c.Spec.Steps, final, c.Losses[c.Spec.Steps], worstLoss)
		})
	}
}

// collate lays the examples out as one batch, with its scored-target count.
func collate(examples []Example) (llama.Batch, int) {
	var b llama.Batch
	for _, e := range examples {
		appendExample(&b, e)
	}
	return b, b.Scored()
}

func compareMatrices(t *testing.T, a *lora.Adapter, want map[string]abPair, grad0 map[*lora.Module][2][]float32, step int) {
	t.Helper()
	var worst float64
	for key, ab := range want {
		mod := refModule(t, a, key)
		g := grad0[mod]
		for k, p := range []struct {
			got, want []float32
		}{{a.A(mod), flatten(ab.A)}, {a.B(mod), flatten(ab.B)}} {
			for i, w := range p.want {
				if g[k] != nil && math.Abs(float64(g[k][i])) < 1e-6 {
					continue // Adam's first step normalises a vanishing gradient: ill-conditioned
				}
				d := math.Abs(float64(p.got[i] - w))
				worst = max(worst, d)
				if d > 2e-5 {
					t.Fatalf("after step %d: %s element %d = %.8g, want %.8g", step, key, i, p.got[i], w)
				}
			}
		}
	}
	t.Logf("after step %d: largest matrix difference %.2g", step, worst)
}
