package llama

import (
	"fmt"

	"flywheel/internal/lora"
)

// SetAdapter applies a LoRA adapter in the state's forward pass without
// merging it: each adapted projection adds (α/r)·(x·Aᵀ)·Bᵀ to its output.
// nil removes the adapter. Positions already cached keep what they were
// computed with, so set the adapter before the first Forward.
func (s *State) SetAdapter(a *lora.Adapter) error {
	if a != nil {
		if err := a.Compatible(s.m.Config.LoRAShape()); err != nil {
			return fmt.Errorf("adapter: %w", err)
		}
	}
	s.lora.adapter = a
	return nil
}

// loraHook is the adapter of a State and its scratch.
type loraHook struct {
	adapter *lora.Adapter
	u       []float32 // [T, rank] the low-rank activation x·Aᵀ
}

// adapt adds the adapter's contribution to projection t of layer l: y [T,
// out] for input x [T, in]. Without an adapter (or module) it does nothing.
func (s *State) adapt(l int, t lora.Target, y, x []float32, T int) {
	m := s.lora.adapter.Module(l, t)
	if m == nil {
		return
	}
	s.lora.u = grow(s.lora.u, T*m.Rank)
	s.lora.adapter.Forward(s.pool, m, y, x, s.lora.u, T)
}
