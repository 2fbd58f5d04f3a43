package llama

import (
	"fmt"

	"flywheel/internal/lora"
	"flywheel/internal/tensor"
)

// LoRAShape is the geometry a LoRA adapter of this model has.
func (c *Config) LoRAShape() lora.Shape {
	gs, ok := ropeStyles[c.Arch]
	if !ok {
		gs = c.RopeStyle
	}
	return lora.Shape{Arch: c.Arch, Layers: c.Layers, Dim: c.Dim, Hidden: c.Hidden,
		Heads: c.Heads, KVHeads: c.KVHeads, HeadDim: c.HeadDim, Rope: c.RopeStyle, GGUFRope: gs}
}

// LoadAdapter reads a LoRA adapter for m: a PEFT directory or a GGUF LoRA
// file.
func (m *Model) LoadAdapter(path string) (*lora.Adapter, error) {
	return lora.Load(path, m.Config.LoRAShape())
}

// KeepDType as Merged's dtype stores each merged matrix in its own type.
const KeepDType = tensor.DType(1<<32 - 1)

// Merged returns a copy of m with the adapter folded into its weights,
// W + (α/r)·B·A, each adapted matrix stored as dtype (or KeepDType).
// Unadapted weights are shared with m, which must stay open.
func (m *Model) Merged(a *lora.Adapter, dtype tensor.DType) (*Model, error) {
	if err := a.Compatible(m.Config.LoRAShape()); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	out := *m
	out.closers = nil
	out.Layers = append([]Layer(nil), m.Layers...)
	for i := range out.Layers {
		l := &out.Layers[i]
		for _, p := range []struct {
			t lora.Target
			w *tensor.Matrix
		}{{lora.Q, &l.Wq}, {lora.K, &l.Wk}, {lora.V, &l.Wv}, {lora.O, &l.Wo},
			{lora.Gate, &l.WGate}, {lora.Up, &l.WUp}, {lora.Down, &l.WDown}} {
			dt := dtype
			if dt == KeepDType {
				dt = p.w.Type
			}
			merged, err := a.Merge(*p.w, i, p.t, dt)
			if err != nil {
				return nil, fmt.Errorf("merge: %w", err)
			}
			*p.w = merged
		}
	}
	return &out, nil
}
