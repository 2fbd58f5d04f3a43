package lora

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"

	"flywheel/internal/gguf"
	"flywheel/internal/tensor"
)

// llama.cpp's GGUF LoRA (as convert_lora_to_gguf.py writes and
// llama-adapter.cpp reads it): metadata general.type = "adapter",
// general.architecture = the base model's, adapter.type = "lora",
// adapter.lora.alpha (float32); for each adapted weight W named
// blk.N.attn_q.weight in the base GGUF, tensors blk.N.attn_q.weight.lora_a
// with dims [in, r] (PyTorch shape [r, in]) and …lora_b with dims [r, out].
// llama.cpp scales by alpha/r, so a rank-stabilised adapter is written with
// alpha·√r. Rows of B for q and k are in the pairing GGUF files of the
// architecture keep (interleaved for llama).

// SaveGGUF writes the adapter as a GGUF LoRA file that llama.cpp's --lora
// (and LoadGGUF) reads. The write is atomic.
func (a *Adapter) SaveGGUF(path string) error {
	if a.Shape.Arch == "" {
		return fmt.Errorf("save %s: the adapter's base architecture is unknown", path)
	}
	alpha := a.Config.Alpha
	if a.Config.RSLoRA {
		alpha *= math.Sqrt(float64(a.Config.Rank))
	}
	kv := []gguf.KV{
		{Key: "general.architecture", Value: gguf.String(a.Shape.Arch)},
		{Key: "general.type", Value: gguf.String("adapter")},
		{Key: "adapter.type", Value: gguf.String("lora")},
		{Key: "adapter.lora.alpha", Value: gguf.Float32(float32(alpha))},
	}
	if a.Config.BaseModel != "" {
		kv = append(kv, gguf.KV{Key: "general.base_model.0.name", Value: gguf.String(a.Config.BaseModel)})
	}
	var ts []gguf.WriterTensor
	for _, m := range a.Modules {
		B := a.B(m)
		if rotated(m.Target) {
			B = permuteHeadRows(B, m.Rank, a.Shape.HeadDim, a.Shape.Rope, a.Shape.GGUFRope)
		}
		base := ggufWeightName(m.Layer, m.Target)
		ts = append(ts,
			gguf.WriterTensor{Name: base + ".lora_a", Dims: []uint64{uint64(m.In), uint64(m.Rank)},
				Type: gguf.TensorType(tensor.F32), Data: f32Bytes(a.A(m))},
			gguf.WriterTensor{Name: base + ".lora_b", Dims: []uint64{uint64(m.Rank), uint64(m.Out)},
				Type: gguf.TensorType(tensor.F32), Data: f32Bytes(B)})
	}
	return gguf.WriteFile(path, kv, ts)
}

func ggufWeightName(l int, t Target) string {
	return fmt.Sprintf("blk.%d.%s.weight", l, ggufTensors[t])
}

var ggufLoraName = regexp.MustCompile(`^blk\.(\d+)\.([a-z_]+)\.weight\.lora_([ab])$`)

// LoadGGUF reads a llama.cpp GGUF LoRA file for a base model of shape s.
// Tensors may be F32, F16, BF16 or Q8_0.
func LoadGGUF(path string, s Shape) (*Adapter, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fail := func(format string, args ...any) error {
		return fmt.Errorf("adapter %s: %s", path, fmt.Sprintf(format, args...))
	}
	if typ, _ := f.GetString("general.type"); typ != "adapter" {
		return nil, fail("general.type is %q, want \"adapter\": is this a LoRA file?", typ)
	}
	if typ, _ := f.GetString("adapter.type"); typ != "lora" {
		return nil, fail("adapter.type is %q, want \"lora\"", typ)
	}
	if arch, _ := f.GetString("general.architecture"); s.Arch != "" && arch != s.Arch {
		return nil, fail("made for architecture %q, the model is %q", arch, s.Arch)
	}
	var alpha float64
	if _, ok := f.Get("adapter.lora.alpha"); ok {
		if alpha, err = f.GetFloat("adapter.lora.alpha"); err != nil {
			return nil, fail("%v", err)
		}
	}

	type key struct {
		layer  int
		target Target
	}
	found := map[key][2]*gguf.TensorInfo{}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		g := ggufLoraName.FindStringSubmatch(t.Name)
		if g == nil {
			return nil, fail("tensor %q is not a LoRA a or b weight of a decoder layer", t.Name)
		}
		l, _ := strconv.Atoi(g[1])
		ti := slices.Index(ggufTensors[:], g[2])
		if ti < 0 {
			return nil, fail("tensor %q adapts %s, which is not a LLaMA projection", t.Name, g[2])
		}
		k := key{l, Target(ti)}
		pair := found[k]
		pair[map[string]int{"a": 0, "b": 1}[g[3]]] = t
		found[k] = pair
	}
	if len(found) == 0 {
		return nil, fail("no LoRA tensors")
	}
	var layers []int
	var targets []Target
	rank := 0
	for k, pair := range found {
		layers = append(layers, k.layer)
		targets = append(targets, k.target)
		if pair[0] != nil && len(pair[0].Dims) == 2 {
			rank = int(pair[0].Dims[1])
		}
	}
	layers = slices.Compact(slices.Sorted(slices.Values(layers)))
	targets = slices.Compact(slices.Sorted(slices.Values(targets)))
	if alpha == 0 { // llama.cpp then scales by 1
		alpha = float64(rank)
	}
	c := Config{Rank: rank, Alpha: alpha, Targets: targets}
	if len(layers) < s.Layers {
		c.Layers = layers
	}
	a, err := New(s, c)
	if err != nil {
		return nil, fail("%v", err)
	}
	for _, m := range a.Modules {
		pair, ok := found[key{m.Layer, m.Target}]
		if !ok || pair[0] == nil || pair[1] == nil {
			return nil, fail("layer %d %v: lora_a and lora_b are not both present (every adapted layer must adapt the same projections)", m.Layer, m.Target)
		}
		if err := readGGUF(a.A(m), f, pair[0], m.In, m.Rank); err != nil {
			return nil, fail("%v", err)
		}
		B := a.B(m)
		if err := readGGUF(B, f, pair[1], m.Rank, m.Out); err != nil {
			return nil, fail("%v", err)
		}
		if rotated(m.Target) {
			copy(B, permuteHeadRows(B, m.Rank, s.HeadDim, s.GGUFRope, s.Rope))
		}
	}
	return a, nil
}

// readGGUF converts a 2-D tensor of dims [ne0, ne1] into dst.
func readGGUF(dst []float32, f *gguf.File, t *gguf.TensorInfo, ne0, ne1 int) error {
	if len(t.Dims) != 2 || t.Dims[0] != uint64(ne0) || t.Dims[1] != uint64(ne1) {
		return fmt.Errorf("tensor %s: dims %v, want [%d %d]", t.Name, t.Dims, ne0, ne1)
	}
	dt := tensor.DType(t.Type)
	if !dt.Supported() || ne0%dt.BlockSize() != 0 {
		return fmt.Errorf("tensor %s: type %v is not supported (want F32, F16, BF16 or Q8_0)", t.Name, t.Type)
	}
	tensor.Dequantize(dst, dt, f.TensorData(t), ne0*ne1)
	return nil
}

// Load reads an adapter for a base model of shape s: a PEFT directory, or a
// GGUF LoRA file.
func Load(path string, s Shape) (*Adapter, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("adapter: %w", err)
	}
	if st.IsDir() {
		return LoadPEFT(path, s)
	}
	return LoadGGUF(path, s)
}
