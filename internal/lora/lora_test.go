package lora

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"flywheel/internal/gguf"
	"flywheel/internal/safetensors"
	"flywheel/internal/tensor"
)

// testShape is a small GQA model: 2 layers, width 16, 4 query heads and 2
// kv heads of 4, feed-forward 24, interleaved q/k rows as llama GGUFs hold.
var testShape = Shape{Arch: "llama", Layers: 2, Dim: 16, Hidden: 24, Heads: 4, KVHeads: 2, HeadDim: 4,
	Rope: tensor.RopeInterleaved, GGUFRope: tensor.RopeInterleaved}

func randomAdapter(t *testing.T, s Shape, c Config, seed uint64) *Adapter {
	t.Helper()
	a, err := New(s, c)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range a.Params {
		a.Params[i] = float32(r.NormFloat64() * 0.3)
	}
	return a
}

func TestParseTargets(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Target
		err  bool
	}{
		{"q,v", []Target{Q, V}, false},
		{"v, q ,q", []Target{Q, V}, false},
		{"q_proj,k_proj,down", []Target{Q, K, Down}, false},
		{"all", AllTargets(), false},
		{"gate,up,down,o", []Target{O, Gate, Up, Down}, false},
		{"qq", nil, true},
		{"", nil, true},
	} {
		got, err := ParseTargets(tc.in)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("ParseTargets(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestNewLayout(t *testing.T) {
	a, err := New(testShape, Config{Rank: 3, Alpha: 6, Targets: []Target{V, Q, Down}})
	if err != nil {
		t.Fatal(err)
	}
	// per layer: q 3·(16+16), v 3·(16+8), down 3·(24+16)
	per := 3*(16+16) + 3*(16+8) + 3*(24+16)
	if len(a.Params) != 2*per || len(a.Modules) != 6 {
		t.Fatalf("%d params in %d modules, want %d in 6", len(a.Params), len(a.Modules), 2*per)
	}
	m := a.Module(1, V)
	if m == nil || m.Offset != per+3*32 || m.In != 16 || m.Out != 8 {
		t.Fatalf("layer 1 v: %+v", m)
	}
	if a.Module(0, K) != nil {
		t.Error("k is not a target")
	}
	if s := a.Config.Scale(); s != 2 {
		t.Errorf("scale %g, want 2", s)
	}
	a.Config.RSLoRA = true
	if s := a.Config.Scale(); math.Abs(float64(s)-6/math.Sqrt(3)) > 1e-6 {
		t.Errorf("rslora scale %g", s)
	}
	for _, c := range []Config{{Rank: 0, Alpha: 1, Targets: []Target{Q}}, {Rank: 2, Alpha: 1}, {Rank: 2, Alpha: 1, Targets: []Target{Q}, Dropout: 1},
		{Rank: 2, Alpha: 1, Targets: []Target{Q}, Layers: []int{2}}} {
		if _, err := New(testShape, c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}

func TestInit(t *testing.T) {
	a, _ := New(testShape, Config{Rank: 4, Alpha: 8, Targets: AllTargets()})
	a.Init(7)
	for _, m := range a.Modules {
		bound := float32(1 / math.Sqrt(float64(m.In)))
		for _, v := range a.A(m) {
			if v < -bound || v > bound {
				t.Fatalf("A value %g outside ±%g", v, bound)
			}
		}
		for _, v := range a.B(m) {
			if v != 0 {
				t.Fatal("B is not zero")
			}
		}
	}
	b, _ := New(testShape, a.Config)
	b.Init(7)
	if !slices.Equal(a.Params, b.Params) {
		t.Error("Init is not deterministic")
	}
}

// forward64 is the module's output change by definition: s·(x·Aᵀ)·Bᵀ.
func forward64(a *Adapter, m *Module, x []float64, T int) []float64 {
	A, B, s := a.A(m), a.B(m), float64(a.Config.Scale())
	y := make([]float64, T*m.Out)
	for t := 0; t < T; t++ {
		for o := 0; o < m.Out; o++ {
			var sum float64
			for j := 0; j < m.Rank; j++ {
				var u float64
				for i := 0; i < m.In; i++ {
					u += x[t*m.In+i] * float64(A[j*m.In+i])
				}
				sum += u * float64(B[o*m.Rank+j])
			}
			y[t*m.Out+o] = s * sum
		}
	}
	return y
}

func TestForwardBackward(t *testing.T) {
	a := randomAdapter(t, testShape, Config{Rank: 3, Alpha: 5, Targets: []Target{K, Down}}, 1)
	r := rand.New(rand.NewPCG(2, 2))
	for _, m := range a.Modules {
		const T = 5
		x := make([]float32, T*m.In)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		c := make([]float32, T*m.Out) // dy
		for i := range c {
			c[i] = float32(r.NormFloat64())
		}
		y := make([]float32, T*m.Out)
		u := make([]float32, T*m.Rank)
		a.Forward(nil, m, y, x, u, T)
		x64 := make([]float64, len(x))
		for i, v := range x {
			x64[i] = float64(v)
		}
		want := forward64(a, m, x64, T)
		for i := range y {
			if math.Abs(float64(y[i])-want[i]) > 1e-5 {
				t.Fatalf("%v: y[%d] = %g, want %g", m.Target, i, y[i], want[i])
			}
		}
		a.AllocGrads()
		dx := make([]float32, len(x))
		a.Backward(nil, m, dx, c, x, u, T, 0)

		loss := func() float64 {
			var s float64
			for i, v := range forward64(a, m, x64, T) {
				s += float64(c[i]) * v
			}
			return s
		}
		check := func(name string, got []float32, param []float32, p64 []float64) {
			const h = 1e-3 // the loss is linear in each of A, B and x: exact up to rounding
			for i := range got {
				var num float64
				if param != nil {
					old := param[i]
					param[i] = old + h
					fp := loss()
					param[i] = old - h
					fm := loss()
					param[i] = old
					num = (fp - fm) / (2 * h)
				} else {
					old := p64[i]
					p64[i] = old + h
					fp := loss()
					p64[i] = old - h
					fm := loss()
					p64[i] = old
					num = (fp - fm) / (2 * h)
				}
				if math.Abs(float64(got[i])-num) > 1e-3*max(1, math.Abs(num)) {
					t.Fatalf("%v %s[%d] = %g, finite difference %g", m.Target, name, i, got[i], num)
				}
			}
		}
		check("dA", a.GradA(m), a.A(m), nil)
		check("dB", a.GradB(m), a.B(m), nil)
		check("dx", dx, nil, x64)
	}
}

func TestDropout(t *testing.T) {
	a := randomAdapter(t, testShape, Config{Rank: 2, Alpha: 2, Targets: []Target{Q, V}, Dropout: 0.25}, 3)
	x := make([]float32, 40000)
	for i := range x {
		x[i] = 1
	}
	m := a.Modules[0]
	d1 := a.Dropout(make([]float32, len(x)), x, m, 42)
	d2 := a.Dropout(make([]float32, len(x)), x, m, 42)
	d3 := a.Dropout(make([]float32, len(x)), x, m, 43)
	d4 := a.Dropout(make([]float32, len(x)), x, a.Modules[1], 42)
	if !slices.Equal(d1, d2) || slices.Equal(d1, d3) || slices.Equal(d1, d4) {
		t.Fatal("the mask must depend on exactly the seed and the module")
	}
	zeros := 0
	for _, v := range d1 {
		switch v {
		case 0:
			zeros++
		case 1 / 0.75:
		default:
			t.Fatalf("kept value %g, want %g", v, 1/0.75)
		}
	}
	if f := float64(zeros) / float64(len(x)); math.Abs(f-0.25) > 0.01 {
		t.Errorf("dropped fraction %.4f, want 0.25", f)
	}
	a.Config.Dropout = 0
	if got := a.Dropout(nil, x, m, 1); &got[0] != &x[0] {
		t.Error("no dropout must return x itself")
	}
}

func TestMerge(t *testing.T) {
	a := randomAdapter(t, testShape, Config{Rank: 2, Alpha: 3, Targets: []Target{O}}, 4)
	m := a.Module(1, O)
	w := make([]float32, m.Out*m.In)
	for i := range w {
		w[i] = float32(i) / 100
	}
	W := tensor.Matrix{Type: tensor.F32, Rows: m.Out, Cols: m.In, Data: tensor.Bytes(w)}
	merged, err := a.Merge(W, 1, O, tensor.F32)
	if err != nil {
		t.Fatal(err)
	}
	got := tensor.F32s(merged.Data)
	A, B, s := a.A(m), a.B(m), a.Config.Scale()
	for o := 0; o < m.Out; o++ {
		for i := 0; i < m.In; i++ {
			want := w[o*m.In+i]
			for j := 0; j < m.Rank; j++ {
				want += s * B[o*m.Rank+j] * A[j*m.In+i]
			}
			if math.Abs(float64(got[o*m.In+i]-want)) > 1e-6 {
				t.Fatalf("merged[%d,%d] = %g, want %g", o, i, got[o*m.In+i], want)
			}
		}
	}
	if same, _ := a.Merge(W, 0, Q, tensor.F32); &same.Data[0] != &W.Data[0] {
		t.Error("an unadapted projection must come back unchanged")
	}
}

func TestPEFTRoundTrip(t *testing.T) {
	for _, rope := range []tensor.RopeStyle{tensor.RopeInterleaved, tensor.RopeHalves} {
		s := testShape
		s.Rope = rope
		a := randomAdapter(t, s, Config{Rank: 2, Alpha: 4, Targets: []Target{Q, K, V, Up}, Dropout: 0.1, RSLoRA: true, BaseModel: "stories"}, 5)
		dir := t.TempDir()
		if err := a.SavePEFT(dir); err != nil {
			t.Fatal(err)
		}
		f, err := safetensors.Open(filepath.Join(dir, PEFTWeightsName))
		if err != nil {
			t.Fatal(err)
		}
		m := a.Module(1, Q)
		tA, okA := f.Tensor("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight")
		tB, okB := f.Tensor("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight")
		if !okA || !okB || !slices.Equal(tA.Shape, []int64{2, 16}) || !slices.Equal(tB.Shape, []int64{16, 2}) {
			t.Fatalf("q of layer 1: %v %v %v %v", okA, tA.Shape, okB, tB.Shape)
		}
		// HF row j of each head (halves order) is interleaved row 2j for j < hd/2
		fileB := tensor.F32s(append([]byte(nil), tB.Data...))
		B := a.B(m)
		for h := 0; h < s.Heads; h++ {
			for j := 0; j < s.HeadDim; j++ {
				src := h*s.HeadDim + j
				if rope == tensor.RopeInterleaved {
					src = h*s.HeadDim + 2*(j%(s.HeadDim/2)) + j/(s.HeadDim/2) // halves row j ← interleaved row 2j or 2(j−hd/2)+1
				}
				dst := h*s.HeadDim + j
				if fileB[dst*2] != B[src*2] || fileB[dst*2+1] != B[src*2+1] {
					t.Fatalf("%v: file row %d is not model row %d", rope, dst, src)
				}
			}
		}
		f.Close()
		b, err := LoadPEFT(dir, s)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Params, b.Params) || b.Config.Rank != 2 || b.Config.Alpha != 4 || !b.Config.RSLoRA ||
			b.Config.Dropout != 0.1 || !slices.Equal(b.Config.Targets, a.Config.Targets) || b.Config.BaseModel != "stories" {
			t.Fatalf("%v: loaded %+v", rope, b.Config)
		}
	}
}

func TestGGUFRoundTrip(t *testing.T) {
	a := randomAdapter(t, testShape, Config{Rank: 3, Alpha: 6, Targets: []Target{Q, K, Gate, Down}, Layers: []int{1}, RSLoRA: true}, 6)
	path := filepath.Join(t.TempDir(), "a.gguf")
	if err := a.SaveGGUF(path); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	alpha, _ := f.GetFloat("adapter.lora.alpha")
	typ, _ := f.GetString("general.type")
	ti, ok := f.Tensor("blk.1.ffn_down.weight.lora_a")
	tb, okb := f.Tensor("blk.1.ffn_down.weight.lora_b")
	if typ != "adapter" || math.Abs(alpha-6*math.Sqrt(3)) > 1e-5 || !ok || !okb ||
		!slices.Equal(ti.Dims, []uint64{24, 3}) || !slices.Equal(tb.Dims, []uint64{3, 16}) {
		t.Fatalf("type %q alpha %g, lora_a %v %v, lora_b %v %v", typ, alpha, ok, ti, okb, tb)
	}
	f.Close()
	b, err := LoadGGUF(path, testShape)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Params, b.Params) || !slices.Equal(b.Config.Layers, []int{1}) {
		t.Fatalf("loaded %+v", b.Config)
	}
	// the same scale, expressed without rslora
	if math.Abs(float64(a.Config.Scale()-b.Config.Scale())) > 1e-6 {
		t.Errorf("scale %g, want %g", b.Config.Scale(), a.Config.Scale())
	}
	if _, err := LoadGGUF(path, Shape{Arch: "qwen2", Layers: 2, Dim: 16, Hidden: 24, Heads: 4, KVHeads: 2, HeadDim: 4}); err == nil {
		t.Error("an adapter of another architecture loaded")
	}
	// Load dispatches on the path
	if c, err := Load(path, testShape); err != nil || !slices.Equal(c.Params, a.Params) {
		t.Errorf("Load: %v", err)
	}
}

func TestLoadPEFTRejects(t *testing.T) {
	a := randomAdapter(t, testShape, Config{Rank: 2, Alpha: 4, Targets: []Target{Q}}, 7)
	for _, tc := range []struct{ name, config string }{
		{"dora", `{"peft_type":"LORA","r":2,"lora_alpha":4,"use_dora":true}`},
		{"prefix", `{"peft_type":"PREFIX_TUNING","r":2,"lora_alpha":4}`},
		{"rank pattern", `{"r":2,"lora_alpha":4,"rank_pattern":{"q_proj":4}}`},
		{"bias", `{"r":2,"lora_alpha":4,"bias":"all"}`},
		{"rank", `{"r":0,"lora_alpha":4}`},
		{"json", `{"r":2,`},
	} {
		dir := t.TempDir()
		if err := a.SavePEFT(dir); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, PEFTConfigName), []byte(tc.config), 0o644)
		if _, err := LoadPEFT(dir, testShape); err == nil {
			t.Errorf("%s: loaded", tc.name)
		}
	}
	// weights of the wrong shape for the model
	dir := t.TempDir()
	a.SavePEFT(dir)
	wide := testShape
	wide.Dim = 32
	if _, err := LoadPEFT(dir, wide); err == nil {
		t.Error("an adapter for width 16 loaded for width 32")
	}
}

// FuzzParsePEFT feeds arbitrary adapter_config.json and weight bytes to the
// loader: it must return an adapter or an error, never panic.
func FuzzParsePEFT(f *testing.F) {
	s := testShape
	a, _ := New(s, Config{Rank: 2, Alpha: 4, Targets: []Target{Q, V}})
	dir := f.TempDir()
	if err := a.SavePEFT(dir); err != nil {
		f.Fatal(err)
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, PEFTConfigName))
	weights, _ := os.ReadFile(filepath.Join(dir, PEFTWeightsName))
	f.Add(cfg, weights)
	f.Add([]byte(`{"r":2,"lora_alpha":4}`), weights[:len(weights)/2])
	f.Add([]byte(`{"r":1,"lora_alpha":4}`), weights)
	f.Fuzz(func(t *testing.T, cfg, weights []byte) {
		w, err := safetensors.Parse(weights)
		if err != nil {
			return
		}
		if a, err := parsePEFT(cfg, w, s); err == nil && len(a.Params) == 0 {
			t.Fatal("an empty adapter loaded")
		}
	})
}

// An adapter as PEFT writes it elsewhere: bf16 weights, a regex for
// target_modules, fields this package does not know, only some layers.
func TestLoadForeignPEFT(t *testing.T) {
	dir := t.TempDir()
	cfg := `{"alpha_pattern": {}, "auto_mapping": null, "base_model_name_or_path": "meta-llama/x", "bias": "none",
 "fan_in_fan_out": false, "inference_mode": true, "init_lora_weights": true, "layer_replication": null,
 "layers_pattern": null, "layers_to_transform": [1], "loftq_config": {}, "lora_alpha": 16, "lora_dropout": 0.05,
 "megatron_config": null, "megatron_core": "megatron.core", "modules_to_save": null, "peft_type": "LORA", "r": 2,
 "rank_pattern": {}, "revision": null, "target_modules": "q_proj|v_proj", "task_type": "CAUSAL_LM", "use_dora": false, "use_rslora": false}`
	os.WriteFile(filepath.Join(dir, PEFTConfigName), []byte(cfg), 0o644)
	bf16 := func(vals []float32) []byte {
		var b []byte
		for _, v := range vals {
			h := tensor.F32ToBF16(v)
			b = append(b, byte(h), byte(h>>8))
		}
		return b
	}
	ramp := func(n int, base float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = base + float32(i)/64
		}
		return v
	}
	qB, vB := ramp(16*2, 1), ramp(8*2, 2)
	ts := []safetensors.Tensor{
		{Name: "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight", DType: safetensors.BF16, Shape: []int64{2, 16}, Data: bf16(ramp(32, 0))},
		{Name: "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight", DType: safetensors.BF16, Shape: []int64{16, 2}, Data: bf16(qB)},
		{Name: "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight", DType: safetensors.BF16, Shape: []int64{2, 16}, Data: bf16(ramp(32, 3))},
		{Name: "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight", DType: safetensors.BF16, Shape: []int64{8, 2}, Data: bf16(vB)},
	}
	if err := safetensors.WriteFile(filepath.Join(dir, PEFTWeightsName), ts, nil); err != nil {
		t.Fatal(err)
	}
	a, err := LoadPEFT(dir, testShape)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Config.Layers, []int{1}) || !slices.Equal(a.Config.Targets, []Target{Q, V}) || a.Config.Scale() != 8 || a.Config.BaseModel != "meta-llama/x" {
		t.Fatalf("config %+v", a.Config)
	}
	v := a.Module(1, V)
	for i, want := range vB {
		if got := a.B(v)[i]; got != tensor.BF16ToF32(tensor.F32ToBF16(want)) {
			t.Fatalf("v B[%d] = %g, want %g", i, got, want)
		}
	}
	// q's B rows come back in the model's interleaved order: model row 1 of
	// head 0 is Hugging Face row hd/2 = 2
	q := a.B(a.Module(1, Q))
	if q[1*2] != tensor.BF16ToF32(tensor.F32ToBF16(qB[2*2])) {
		t.Errorf("q B row 1 = %g, want Hugging Face row 2 = %g", q[2], qB[4])
	}
}

// One adapted projection of a 110M model (768 → 768, rank 8) over the 1024
// tokens of a 4 × 256 batch, forward and backward, one thread.
func BenchmarkAdapterStep(b *testing.B) {
	s := Shape{Arch: "llama", Layers: 1, Dim: 768, Hidden: 2048, Heads: 12, KVHeads: 12, HeadDim: 64}
	a, err := New(s, Config{Rank: 8, Alpha: 16, Targets: []Target{Q}})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for i := range a.Params {
		a.Params[i] = float32(r.NormFloat64() * 0.1)
	}
	a.AllocGrads()
	m := a.Modules[0]
	const T = 1024
	x, dy := make([]float32, T*m.In), make([]float32, T*m.Out)
	for i := range x {
		x[i], dy[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	y, u, dx := make([]float32, T*m.Out), make([]float32, T*m.Rank), make([]float32, T*m.In)
	for b.Loop() {
		a.Forward(nil, m, y, x, u, T)
		a.Backward(nil, m, dx, dy, x, u, T, 0)
	}
	// forward 2·T·r·(in + out), backward 4·T·r·(in + out) (dB, du, dA, dx)
	b.ReportMetric(float64(6*T*m.Rank*(m.In+m.Out))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
