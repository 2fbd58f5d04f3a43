package lora

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"flywheel/internal/safetensors"
	"flywheel/internal/tensor"
)

// PEFT file names inside an adapter directory.
const (
	PEFTConfigName  = "adapter_config.json"
	PEFTWeightsName = "adapter_model.safetensors"
)

// peftConfig is the part of PEFT's adapter_config.json this package reads
// and writes.
type peftConfig struct {
	PeftType          string          `json:"peft_type"`
	TaskType          string          `json:"task_type"`
	BaseModel         string          `json:"base_model_name_or_path"`
	R                 int             `json:"r"`
	LoraAlpha         float64         `json:"lora_alpha"`
	LoraDropout       float64         `json:"lora_dropout"`
	TargetModules     json.RawMessage `json:"target_modules"`
	Bias              string          `json:"bias"`
	FanInFanOut       bool            `json:"fan_in_fan_out"`
	UseRSLoRA         bool            `json:"use_rslora"`
	UseDoRA           bool            `json:"use_dora"`
	InferenceMode     bool            `json:"inference_mode"`
	InitLoraWeights   bool            `json:"init_lora_weights"`
	LayersToTransform json.RawMessage `json:"layers_to_transform"`
	RankPattern       map[string]any  `json:"rank_pattern"`
	AlphaPattern      map[string]any  `json:"alpha_pattern"`
	ModulesToSave     json.RawMessage `json:"modules_to_save"`
}

func peftName(l int, t Target, ab string) string {
	return fmt.Sprintf("base_model.model.model.layers.%d.%s.lora_%s.weight", l, peftModules[t], ab)
}

// SavePEFT writes the adapter into dir in Hugging Face PEFT's layout:
// adapter_config.json and adapter_model.safetensors with tensors named
// base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight [r, in]
// and …lora_B.weight [out, r], in f32. Rows of B for q and k are put in
// Hugging Face's RoPE order. Both files are written atomically.
func (a *Adapter) SavePEFT(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save adapter: %w", err)
	}
	var ts []safetensors.Tensor
	for _, m := range a.Modules {
		B := a.B(m)
		if rotated(m.Target) {
			B = permuteHeadRows(B, m.Rank, a.Shape.HeadDim, a.Shape.Rope, tensor.RopeHalves)
		}
		ts = append(ts,
			safetensors.Tensor{Name: peftName(m.Layer, m.Target, "A"), DType: safetensors.F32,
				Shape: []int64{int64(m.Rank), int64(m.In)}, Data: f32Bytes(a.A(m))},
			safetensors.Tensor{Name: peftName(m.Layer, m.Target, "B"), DType: safetensors.F32,
				Shape: []int64{int64(m.Out), int64(m.Rank)}, Data: f32Bytes(B)})
	}
	if err := safetensors.WriteFile(filepath.Join(dir, PEFTWeightsName), ts, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("save adapter: %w", err)
	}
	c := a.Config
	var modules []string
	for _, t := range c.Targets {
		_, name, _ := strings.Cut(peftModules[t], ".")
		modules = append(modules, name)
	}
	targets, _ := json.Marshal(modules)
	pc := peftConfig{
		PeftType: "LORA", TaskType: "CAUSAL_LM", BaseModel: c.BaseModel,
		R: c.Rank, LoraAlpha: c.Alpha, LoraDropout: c.Dropout, TargetModules: targets,
		Bias: "none", UseRSLoRA: c.RSLoRA, InferenceMode: true, InitLoraWeights: true,
		RankPattern: map[string]any{}, AlphaPattern: map[string]any{},
		LayersToTransform: json.RawMessage("null"), ModulesToSave: json.RawMessage("null"),
	}
	if c.Layers != nil {
		pc.LayersToTransform, _ = json.Marshal(c.Layers)
	}
	raw, err := json.MarshalIndent(pc, "", "  ")
	if err != nil {
		return fmt.Errorf("save adapter: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, PEFTConfigName), append(raw, '\n'))
}

// peftTensorName matches the names of LoRA weights PEFT writes, with or
// without the adapter name ("default") PEFT keeps in memory.
var peftTensorName = regexp.MustCompile(`(?:^|\.)layers\.(\d+)\.((?:self_attn|mlp)\.[a-z_]+)\.lora_([AB])(?:\.[A-Za-z0-9_-]+)?\.weight$`)

// LoadPEFT reads a Hugging Face PEFT adapter directory for a base model of
// shape s. Rows of B for q and k are put into the model's RoPE order.
func LoadPEFT(dir string, s Shape) (*Adapter, error) {
	cfgPath := filepath.Join(dir, PEFTConfigName)
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("adapter %s: %w", dir, err)
	}
	wPath := filepath.Join(dir, PEFTWeightsName)
	f, err := safetensors.Open(wPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("adapter %s: no %s (only safetensors adapters are read; convert adapter_model.bin with PEFT first)", dir, PEFTWeightsName)
		}
		return nil, fmt.Errorf("adapter %s: %w", dir, err)
	}
	defer f.Close()
	a, err := parsePEFT(raw, f, s)
	if err != nil {
		return nil, fmt.Errorf("adapter %s: %w", dir, err)
	}
	return a, nil
}

// parsePEFT builds an adapter from the bytes of adapter_config.json and the
// parsed weights file.
func parsePEFT(cfgRaw []byte, f *safetensors.File, s Shape) (*Adapter, error) {
	var pc peftConfig
	if err := json.Unmarshal(cfgRaw, &pc); err != nil {
		return nil, fmt.Errorf("%s: %w", PEFTConfigName, err)
	}
	if err := pc.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", PEFTConfigName, err)
	}
	type key struct {
		layer  int
		target Target
	}
	found := map[key][2]*safetensors.Tensor{}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		g := peftTensorName.FindStringSubmatch(t.Name)
		if g == nil {
			return nil, fmt.Errorf("%s: tensor %q is not a LoRA A or B weight of a decoder layer (embedding, head and bias adapters are not supported)", PEFTWeightsName, t.Name)
		}
		l, err := strconv.Atoi(g[1])
		if err != nil || l >= s.Layers {
			return nil, fmt.Errorf("%s: tensor %q: layer %s is out of range (the model has %d)", PEFTWeightsName, t.Name, g[1], s.Layers)
		}
		ti := slices.Index(peftModules[:], g[2])
		if ti < 0 {
			return nil, fmt.Errorf("%s: tensor %q adapts %s, which is not a LLaMA projection", PEFTWeightsName, t.Name, g[2])
		}
		k := key{l, Target(ti)}
		pair := found[k]
		pair[map[string]int{"A": 0, "B": 1}[g[3]]] = t
		found[k] = pair
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%s: no LoRA weights", PEFTWeightsName)
	}
	var layers []int
	var targets []Target
	for k := range found {
		layers = append(layers, k.layer)
		targets = append(targets, k.target)
	}
	layers = slices.Compact(slices.Sorted(slices.Values(layers)))
	targets = slices.Compact(slices.Sorted(slices.Values(targets)))
	c := Config{Rank: pc.R, Alpha: pc.LoraAlpha, Targets: targets, Dropout: pc.LoraDropout,
		RSLoRA: pc.UseRSLoRA, BaseModel: pc.BaseModel}
	if len(layers) < s.Layers {
		c.Layers = layers
	}
	a, err := New(s, c)
	if err != nil {
		return nil, err
	}
	for _, m := range a.Modules {
		pair, ok := found[key{m.Layer, m.Target}]
		if !ok || pair[0] == nil || pair[1] == nil {
			return nil, fmt.Errorf("%s: layer %d %v: A and B weights are not both present (every adapted layer must adapt the same projections)", PEFTWeightsName, m.Layer, m.Target)
		}
		if err := readF32(a.A(m), pair[0], m.Rank, m.In); err != nil {
			return nil, fmt.Errorf("%s: %w", PEFTWeightsName, err)
		}
		B := a.B(m)
		if err := readF32(B, pair[1], m.Out, m.Rank); err != nil {
			return nil, fmt.Errorf("%s: %w", PEFTWeightsName, err)
		}
		if rotated(m.Target) {
			copy(B, permuteHeadRows(B, m.Rank, s.HeadDim, tensor.RopeHalves, s.Rope))
		}
	}
	return a, nil
}

func (pc *peftConfig) check() error {
	switch {
	case pc.PeftType != "" && pc.PeftType != "LORA":
		return fmt.Errorf("peft_type %q: only LORA adapters are supported", pc.PeftType)
	case pc.UseDoRA:
		return errors.New("use_dora: DoRA adapters are not supported")
	case pc.FanInFanOut:
		return errors.New("fan_in_fan_out: transposed (GPT-2 style) adapters are not supported")
	case pc.Bias != "" && pc.Bias != "none":
		return fmt.Errorf("bias %q: adapters with trained biases are not supported", pc.Bias)
	case len(pc.RankPattern) > 0 || len(pc.AlphaPattern) > 0:
		return errors.New("rank_pattern/alpha_pattern: per-module ranks and alphas are not supported")
	case pc.R <= 0:
		return fmt.Errorf("field r = %d: must be a positive rank", pc.R)
	case pc.LoraAlpha <= 0:
		return fmt.Errorf("field lora_alpha = %g: must be positive", pc.LoraAlpha)
	case pc.LoraDropout < 0 || pc.LoraDropout >= 1:
		return fmt.Errorf("field lora_dropout = %g: must be in [0, 1)", pc.LoraDropout)
	}
	if len(pc.ModulesToSave) > 0 && string(pc.ModulesToSave) != "null" && string(pc.ModulesToSave) != "[]" {
		return fmt.Errorf("modules_to_save %s: fully trained extra modules are not supported", pc.ModulesToSave)
	}
	return nil
}

// readF32 converts a 2-D F32, F16 or BF16 tensor of the given shape into dst.
func readF32(dst []float32, t *safetensors.Tensor, rows, cols int) error {
	if len(t.Shape) != 2 || t.Shape[0] != int64(rows) || t.Shape[1] != int64(cols) {
		return fmt.Errorf("tensor %s: shape %v, want [%d %d]", t.Name, t.Shape, rows, cols)
	}
	switch t.DType {
	case safetensors.F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
	case safetensors.F16:
		tensor.Dequantize(dst, tensor.F16, t.Data, len(dst))
	case safetensors.BF16:
		tensor.Dequantize(dst, tensor.BF16, t.Data, len(dst))
	default:
		return fmt.Errorf("tensor %s: dtype %s (want F32, F16 or BF16)", t.Name, t.DType)
	}
	return nil
}

// f32Bytes copies f32 values into little-endian bytes.
func f32Bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, synced and renamed over path.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
