package llama

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"flywheel/internal/lora"
	"flywheel/internal/tensor"
)

// tinyLlama is a small GQA model with an untied head; tinyQwen has q/k/v
// biases, halves RoPE, a tied head and a sliding window.
var (
	tinyLlama = Config{Arch: "llama", Dim: 32, Hidden: 48, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 8, Vocab: 64,
		ContextLen: 64, NormEps: 1e-5, RopeBase: 10000, RopeScale: 1, RopeDims: 8}
	tinyQwen = Config{Arch: "qwen2", Dim: 32, Hidden: 64, Layers: 2, Heads: 4, KVHeads: 1, HeadDim: 8, Vocab: 48,
		ContextLen: 64, NormEps: 1e-6, RopeBase: 1000, RopeScale: 2, RopeDims: 8, RopeStyle: tensor.RopeHalves,
		QKVBias: true, TiedOutput: true, SlidingWindow: 4}
)

// tinyBatch is three sequences (5, 7 and 3 tokens) with some targets ignored.
func tinyBatch(vocab int, seed uint64) Batch {
	r := rand.New(rand.NewPCG(seed, 3))
	b := Batch{Lens: []int{5, 7, 3}, Seed: seed}
	for _, n := range b.Lens {
		for i := 0; i < n; i++ {
			b.Tokens = append(b.Tokens, r.IntN(vocab))
			t := r.IntN(vocab)
			if i == n-1 || r.IntN(4) == 0 {
				t = IgnoreIndex
			}
			b.Targets = append(b.Targets, t)
		}
	}
	return b
}

// smallRandom is Random with the matrices scaled down to std 0.05, so the
// loss is smooth enough for finite differences, stored as dtype.
func smallRandom(t *testing.T, c Config, dtype tensor.DType, seed uint64) *Model {
	t.Helper()
	m, err := Random(c, tensor.F32, seed)
	if err != nil {
		t.Fatal(err)
	}
	visitWeights(m, func(w *tensor.Matrix, v *[]float32) {
		if w == nil {
			return
		}
		f := tensor.F32s(w.Data)
		for i := range f {
			f[i] *= 0.3
		}
		*w = tensor.Matrix{Type: dtype, Rows: w.Rows, Cols: w.Cols, Data: tensor.Quantize(nil, dtype, f)}
	})
	if c.TiedOutput {
		m.Output = m.Embed
	}
	return m
}

func randomLoRA(t *testing.T, m *Model, c lora.Config, seed uint64) *lora.Adapter {
	t.Helper()
	a, err := lora.New(m.Config.LoRAShape(), c)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 5))
	for i := range a.Params {
		a.Params[i] = float32(r.NormFloat64() * 0.2)
	}
	return a
}

// The training forward computes the same losses as inference, with the
// adapter applied through State.SetAdapter.
func TestTrainLossMatchesInference(t *testing.T) {
	for _, c := range []Config{tinyLlama, tinyQwen} {
		m, err := Random(c, tensor.F32, 11)
		if err != nil {
			t.Fatal(err)
		}
		a := randomLoRA(t, m, lora.Config{Rank: 3, Alpha: 6, Targets: lora.AllTargets()}, 1)
		tr, err := NewTrainer(m, TrainConfig{Adapter: a})
		if err != nil {
			t.Fatal(err)
		}
		b := tinyBatch(c.Vocab, 1)
		got, err := tr.Loss(b)
		if err != nil {
			t.Fatal(err)
		}
		var want float64
		start := 0
		for _, n := range b.Lens {
			s := m.NewState(n, nil)
			if err := s.SetAdapter(a); err != nil {
				t.Fatal(err)
			}
			logits, err := s.ForwardAll(b.Tokens[start : start+n])
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				if tg := b.Targets[start+i]; tg != IgnoreIndex {
					want += tensor.CrossEntropy(logits[i*c.Vocab:(i+1)*c.Vocab], tg)
				}
			}
			start += n
		}
		if math.Abs(got-want) > 1e-5*want {
			t.Errorf("%s: training loss %.7g, inference %.7g", c.Arch, got, want)
		}
		// Step reports the same loss
		if l, _ := tr.Step(b, 1); math.Abs(l-got) > 1e-9*got {
			t.Errorf("%s: Step loss %.9g, Loss %.9g", c.Arch, l, got)
		}
	}
}

// checkGradient compares the gradient slab with directional finite
// differences of the loss: along random ±1 directions restricted to each of
// the regions (parameter tensors), and along the gradient itself.
// fdStep is the finite-difference step along a direction of unit length:
// large enough that float32 rounding of the loss stays small against it,
// small enough that the extrapolated O(h⁴) error does.
var fdStep = 3e-2

func checkGradient(t *testing.T, name string, params, grads []float32, regions [][2]int, loss func() float64) {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 7))
	dirs := [][]float32{}
	for _, reg := range regions {
		d := make([]float32, len(params))
		for i := reg[0]; i < reg[1]; i++ {
			d[i] = float32(r.IntN(2)*2 - 1)
		}
		dirs = append(dirs, d)
	}
	var gn float64
	for _, g := range grads {
		gn += float64(g) * float64(g)
	}
	d := make([]float32, len(params))
	for i, g := range grads {
		d[i] = float32(float64(g) / math.Sqrt(gn))
	}
	dirs = append(dirs, d)
	base := slices.Clone(params)
	for k, d := range dirs {
		var want float64
		var dn float64
		for i := range d {
			want += float64(grads[i]) * float64(d[i])
			dn += float64(d[i]) * float64(d[i])
		}
		eval := func(s float64) float64 {
			for i := range params {
				params[i] = base[i] + float32(s)*d[i]
			}
			return loss()
		}
		// central differences at h and h/2, Richardson-extrapolated: the
		// O(h²) error cancels, float32 rounding of the loss remains
		h := fdStep / math.Sqrt(dn)
		if k == len(regions) { // the gradient direction curves the most
			h /= 10
		}
		d1 := (eval(h) - eval(-h)) / (2 * h)
		d2 := (eval(h/2) - eval(-h/2)) / h
		got := (4*d2 - d1) / 3
		copy(params, base)
		if math.Abs(got-want) > 2e-3*math.Abs(want)+1e-4*math.Sqrt(dn) { // float32 rounding of the loss bounds the absolute error
			where := "gradient direction"
			if k < len(regions) {
				where = fmt.Sprintf("region %d", k)
			}
			t.Errorf("%s, %s: directional derivative %.6g, finite difference %.6g", name, where, want, got)
		}
	}
}

func TestTrainGradientsFull(t *testing.T) {
	for _, c := range []Config{tinyLlama, tinyQwen} {
		fw := NewFullWeights(smallRandom(t, c, tensor.F32, 12))
		tr, err := NewTrainer(fw.Model, TrainConfig{Full: fw})
		if err != nil {
			t.Fatal(err)
		}
		b := tinyBatch(c.Vocab, 2)
		tr.ZeroGrads()
		if _, err := tr.Step(b, 1); err != nil {
			t.Fatal(err)
		}
		var regions [][2]int
		off := 0
		visitWeights(fw.Model, func(w *tensor.Matrix, v *[]float32) {
			n := len(*vecOrNil(v))
			if w != nil {
				n = w.Rows * w.Cols
			}
			regions = append(regions, [2]int{off, off + n})
			off += n
		})
		grads := slices.Clone(fw.Grads)
		checkGradient(t, c.Arch+" full", fw.Params, grads, regions, func() float64 {
			l, err := tr.Loss(b)
			if err != nil {
				t.Fatal(err)
			}
			return l
		})
	}
}

func vecOrNil(v *[]float32) *[]float32 {
	if v == nil {
		return &[]float32{}
	}
	return v
}

func TestTrainGradientsLoRA(t *testing.T) {
	for _, tc := range []struct {
		c         Config
		dtype     tensor.DType
		recompute bool
		dropout   float64
		targets   []lora.Target
	}{
		{tinyLlama, tensor.F32, false, 0, lora.AllTargets()},
		{tinyLlama, tensor.F16, true, 0.3, lora.AllTargets()},
		{tinyQwen, tensor.Q8_0, false, 0, []lora.Target{lora.V, lora.O, lora.Down}},
	} {
		m := smallRandom(t, tc.c, tc.dtype, 13)
		a := randomLoRA(t, m, lora.Config{Rank: 2, Alpha: 4, Targets: tc.targets, Dropout: tc.dropout, Layers: []int{1}}, 2)
		if tc.c.Arch == "llama" {
			a = randomLoRA(t, m, lora.Config{Rank: 2, Alpha: 4, Targets: tc.targets, Dropout: tc.dropout}, 2)
		}
		tr, err := NewTrainer(m, TrainConfig{Adapter: a, Recompute: tc.recompute})
		if err != nil {
			t.Fatal(err)
		}
		b := tinyBatch(tc.c.Vocab, 3)
		tr.ZeroGrads()
		if _, err := tr.Step(b, 1); err != nil {
			t.Fatal(err)
		}
		var regions [][2]int
		for _, mod := range a.Modules {
			regions = append(regions, [2]int{mod.Offset, mod.Offset + mod.Rank*mod.In}, [2]int{mod.Offset + mod.Rank*mod.In, mod.Offset + mod.Size()})
		}
		grads := slices.Clone(a.Grads)
		checkGradient(t, tc.c.Arch+" lora "+tc.dtype.String(), a.Params, grads, regions, func() float64 {
			l, err := tr.Loss(b)
			if err != nil {
				t.Fatal(err)
			}
			return l
		})
	}
}

// Recompute changes memory, not numbers.
func TestRecomputeSameGradients(t *testing.T) {
	m, err := Random(tinyLlama, tensor.F32, 14)
	if err != nil {
		t.Fatal(err)
	}
	var grads [2][]float32
	var losses [2]float64
	var bytes [2]int
	for i, rc := range []bool{false, true} {
		a := randomLoRA(t, m, lora.Config{Rank: 2, Alpha: 4, Targets: lora.AllTargets(), Dropout: 0.1}, 3)
		tr, err := NewTrainer(m, TrainConfig{Adapter: a, Recompute: rc})
		if err != nil {
			t.Fatal(err)
		}
		losses[i], _ = tr.Step(tinyBatch(tinyLlama.Vocab, 4), 0.5)
		grads[i] = a.Grads
		bytes[i] = tr.ActivationBytes()
	}
	if losses[0] != losses[1] || !slices.Equal(grads[0], grads[1]) {
		t.Errorf("recompute changed the result: loss %g vs %g", losses[0], losses[1])
	}
	if bytes[1] >= bytes[0] {
		t.Errorf("recompute holds %d bytes of activations, without %d", bytes[1], bytes[0])
	}
}

func TestTrainRejectsBadBatches(t *testing.T) {
	m, _ := Random(tinyLlama, tensor.F32, 15)
	a := randomLoRA(t, m, lora.Config{Rank: 2, Alpha: 4, Targets: []lora.Target{lora.Q}}, 4)
	tr, _ := NewTrainer(m, TrainConfig{Adapter: a})
	for _, b := range []Batch{
		{},
		{Tokens: []int{1, 2}, Targets: []int{2}, Lens: []int{2}},
		{Tokens: []int{1, 2}, Targets: []int{2, 3}, Lens: []int{3}},
		{Tokens: []int{1, 64}, Targets: []int{2, 3}, Lens: []int{2}},
		{Tokens: []int{1, 2}, Targets: []int{2, -3}, Lens: []int{2}},
	} {
		if _, err := tr.Step(b, 1); err == nil {
			t.Errorf("batch %+v accepted", b)
		}
	}
	if _, err := NewTrainer(m, TrainConfig{}); err == nil {
		t.Error("a trainer with nothing to train")
	}
}

func TestRecomputeSameGradientsFull(t *testing.T) {
	var grads [2][]float32
	for i, rc := range []bool{false, true} {
		fw := NewFullWeights(smallRandom(t, tinyQwen, tensor.F32, 16))
		tr, err := NewTrainer(fw.Model, TrainConfig{Full: fw, Recompute: rc})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Step(tinyBatch(tinyQwen.Vocab, 5), 1); err != nil {
			t.Fatal(err)
		}
		grads[i] = fw.Grads
	}
	if !slices.Equal(grads[0], grads[1]) {
		t.Error("recompute changed the gradients of full fine-tuning")
	}
}

// Parallel passes (a pool of three workers) compute what one goroutine
// does, up to the rounding of differently split matrix products.
func TestTrainParallel(t *testing.T) {
	var grads [2][]float32
	var losses [2]float64
	pool := tensor.NewPool(3)
	defer pool.Close()
	for i, p := range []*tensor.Pool{nil, pool} {
		m := smallRandom(t, tinyLlama, tensor.F32, 17)
		a := randomLoRA(t, m, lora.Config{Rank: 2, Alpha: 4, Targets: lora.AllTargets(), Dropout: 0.2}, 6)
		tr, err := NewTrainer(m, TrainConfig{Adapter: a, Pool: p})
		if err != nil {
			t.Fatal(err)
		}
		b := tinyBatch(tinyLlama.Vocab, 6)
		// a batch large enough to cross the parallel thresholds
		for len(b.Tokens) < 600 {
			more := tinyBatch(tinyLlama.Vocab, uint64(len(b.Tokens)))
			b.Tokens = append(b.Tokens, more.Tokens...)
			b.Targets = append(b.Targets, more.Targets...)
			b.Lens = append(b.Lens, more.Lens...)
		}
		if losses[i], err = tr.Step(b, 0.01); err != nil {
			t.Fatal(err)
		}
		grads[i] = a.Grads
	}
	if math.Abs(losses[0]-losses[1]) > 1e-6*losses[0] {
		t.Errorf("loss %g with one goroutine, %g with three", losses[0], losses[1])
	}
	for i := range grads[0] {
		if d := math.Abs(float64(grads[0][i] - grads[1][i])); d > 1e-4*max(1e-3, math.Abs(float64(grads[0][i]))) {
			t.Fatalf("gradient %d: %g with one goroutine, %g with three", i, grads[0][i], grads[1][i])
		}
	}
}

// The frozen base laid out as panels changes rounding, not results: loss
// and adapter gradients equal those computed from the stored weights, at a
// shape with several panel chunks and L2 blocks, at an odd and an even
// number of tokens.
func TestFrozenPanelsSameGradients(t *testing.T) {
	c := Config{Arch: "llama", Dim: 512, Hidden: 2048, Layers: 1, Heads: 8, KVHeads: 8, HeadDim: 64, Vocab: 2048,
		ContextLen: 64, NormEps: 1e-5, RopeBase: 10000, RopeScale: 1, RopeDims: 64}
	m := smallRandom(t, c, tensor.F32, 16)
	even := Batch{Lens: []int{8, 8}, Seed: 1}
	for i := 0; i < 16; i++ {
		even.Tokens = append(even.Tokens, (i*37+5)%c.Vocab)
		even.Targets = append(even.Targets, (i*91+3)%c.Vocab)
	}
	for _, b := range []Batch{tinyBatch(c.Vocab, 5), even} {
		var losses [2]float64
		var grads [2][]float32
		for i, stored := range []bool{false, true} {
			a := randomLoRA(t, m, lora.Config{Rank: 4, Alpha: 8, Targets: lora.AllTargets()}, 6)
			tr, err := NewTrainer(m, TrainConfig{Adapter: a})
			if err != nil {
				t.Fatal(err)
			}
			if stored {
				tr.panelsPlanned = true // no panels: every product from the stored weights
			}
			tr.ZeroGrads()
			if losses[i], err = tr.Step(b, 1); err != nil {
				t.Fatal(err)
			}
			grads[i] = slices.Clone(a.Grads)
			if !stored && (tr.layerPanels == nil || tr.head.out == nil) {
				t.Fatal("the frozen weights were not laid out as panels")
			}
		}
		if d := math.Abs(losses[0] - losses[1]); d > 1e-5*math.Abs(losses[1]) {
			t.Errorf("%d tokens: loss %g with panels, %g without", len(b.Tokens), losses[0], losses[1])
		}
		var scale float64
		for _, g := range grads[1] {
			scale = max(scale, math.Abs(float64(g)))
		}
		for i := range grads[0] {
			if d := math.Abs(float64(grads[0][i] - grads[1][i])); d > 1e-4*scale {
				t.Fatalf("%d tokens: gradient %d = %g with panels, %g without", len(b.Tokens), i, grads[0][i], grads[1][i])
			}
		}
	}
}
