package lora

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"flywheel/internal/tensor"
)

// Target is a linear projection of a LLaMA block that an adapter can modify.
type Target int

// The targets, in the order of the forward pass.
const (
	Q Target = iota
	K
	V
	O
	Gate
	Up
	Down
	NumTargets
)

var targetNames = [NumTargets]string{"q", "k", "v", "o", "gate", "up", "down"}

// peftModules are the Hugging Face module names of the targets.
var peftModules = [NumTargets]string{
	"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
	"mlp.gate_proj", "mlp.up_proj", "mlp.down_proj",
}

// ggufTensors are llama.cpp's names of the targets' base weights.
var ggufTensors = [NumTargets]string{
	"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down",
}

func (t Target) String() string {
	if t >= 0 && t < NumTargets {
		return targetNames[t]
	}
	return fmt.Sprintf("Target(%d)", int(t))
}

// ParseTargets reads a comma-separated list of targets: any of q, k, v, o,
// gate, up, down (Hugging Face names such as q_proj work too), or "all".
func ParseTargets(s string) ([]Target, error) {
	if strings.TrimSpace(s) == "all" {
		return AllTargets(), nil
	}
	var out []Target
	for _, f := range strings.Split(s, ",") {
		name := strings.TrimSuffix(strings.TrimSpace(f), "_proj")
		if name == "" {
			continue
		}
		i := slices.Index(targetNames[:], name)
		if i < 0 {
			return nil, fmt.Errorf("unknown LoRA target %q (want any of q, k, v, o, gate, up, down, or all)", f)
		}
		if !slices.Contains(out, Target(i)) {
			out = append(out, Target(i))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no LoRA targets in %q", s)
	}
	slices.Sort(out)
	return out, nil
}

// AllTargets returns every target.
func AllTargets() []Target {
	out := make([]Target, NumTargets)
	for i := range out {
		out[i] = Target(i)
	}
	return out
}

// Shape is the geometry of the base model an adapter attaches to.
type Shape struct {
	Arch                    string // GGUF architecture name ("llama", "mistral", "qwen2")
	Layers, Dim, Hidden     int
	Heads, KVHeads, HeadDim int
	// Rope is the RoPE pairing the base model's q and k rows are held in;
	// the rows of B for q and k follow it. GGUFRope is the pairing GGUF files
	// of Arch store (interleaved for llama and mistral, halves for qwen2).
	// Hugging Face checkpoints, and so PEFT adapters, use halves.
	Rope, GGUFRope tensor.RopeStyle
}

// Dims returns the input and output widths of a target's projection.
func (s Shape) Dims(t Target) (in, out int) {
	q, kv := s.Heads*s.HeadDim, s.KVHeads*s.HeadDim
	switch t {
	case Q:
		return s.Dim, q
	case K, V:
		return s.Dim, kv
	case O:
		return q, s.Dim
	case Gate, Up:
		return s.Dim, s.Hidden
	case Down:
		return s.Hidden, s.Dim
	}
	panic(fmt.Sprintf("lora: unknown target %d", t))
}

// Config is an adapter's hyper-parameters.
type Config struct {
	Rank    int
	Alpha   float64
	Targets []Target
	Layers  []int   // the adapted layers; nil: all
	Dropout float64 // probability of dropping an input element in training
	RSLoRA  bool    // scale by α/√r (rank-stabilised LoRA) instead of α/r

	BaseModel string // the base model's name or path, recorded in saved files
}

// Scale is the factor of the low-rank product: α/r, or α/√r with RSLoRA.
func (c Config) Scale() float32 {
	if c.RSLoRA {
		return float32(c.Alpha / math.Sqrt(float64(c.Rank)))
	}
	return float32(c.Alpha / float64(c.Rank))
}

// Module is one adapted projection: A [Rank, In] and B [Out, Rank], found in
// the adapter's slabs at Offset (A) and Offset + Rank·In (B).
type Module struct {
	Layer   int
	Target  Target
	In, Out int
	Rank    int
	Offset  int
	index   int // position in the adapter's module list
}

// Size is the number of parameters of the module.
func (m *Module) Size() int { return m.Rank * (m.In + m.Out) }

// Adapter is a LoRA adapter: every module's A and B live in one slab of
// parameters, and in training their gradients and optimizer moments in slabs
// of the same layout.
type Adapter struct {
	Config  Config
	Shape   Shape
	Params  []float32 // A then B of each module, modules layer by layer in target order
	Grads   []float32 // same layout; nil until AllocGrads
	Modules []*Module
	index   map[[2]int]*Module // (layer, target) → module
}

// New returns an adapter of the given configuration for a base model of
// shape s, with every parameter zero (see Init).
func New(s Shape, c Config) (*Adapter, error) {
	if c.Rank <= 0 {
		return nil, fmt.Errorf("LoRA rank %d must be positive", c.Rank)
	}
	if c.Alpha <= 0 {
		return nil, fmt.Errorf("LoRA alpha %g must be positive", c.Alpha)
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return nil, fmt.Errorf("LoRA dropout %g must be in [0, 1)", c.Dropout)
	}
	if len(c.Targets) == 0 {
		return nil, fmt.Errorf("LoRA needs at least one target")
	}
	layers := c.Layers
	if layers == nil {
		for l := 0; l < s.Layers; l++ {
			layers = append(layers, l)
		}
	}
	a := &Adapter{Config: c, Shape: s, index: map[[2]int]*Module{}}
	a.Config.Targets = slices.Sorted(slices.Values(c.Targets))
	a.Config.Targets = slices.Compact(a.Config.Targets)
	off := 0
	for _, l := range slices.Compact(slices.Sorted(slices.Values(layers))) {
		if l < 0 || l >= s.Layers {
			return nil, fmt.Errorf("LoRA layer %d is out of range (the model has %d)", l, s.Layers)
		}
		for _, t := range a.Config.Targets {
			if t < 0 || t >= NumTargets {
				return nil, fmt.Errorf("unknown LoRA target %d", t)
			}
			in, out := s.Dims(t)
			m := &Module{Layer: l, Target: t, In: in, Out: out, Rank: c.Rank, Offset: off, index: len(a.Modules)}
			a.Modules = append(a.Modules, m)
			a.index[[2]int{l, int(t)}] = m
			off += m.Size()
		}
	}
	a.Params = make([]float32, off)
	return a, nil
}

// Module returns the module adapting target t of layer l, or nil.
func (a *Adapter) Module(l int, t Target) *Module {
	if a == nil {
		return nil
	}
	return a.index[[2]int{l, int(t)}]
}

// A returns m's down-projection [Rank, In] within the parameter slab.
func (a *Adapter) A(m *Module) []float32 { return a.Params[m.Offset : m.Offset+m.Rank*m.In] }

// B returns m's up-projection [Out, Rank] within the parameter slab.
func (a *Adapter) B(m *Module) []float32 {
	return a.Params[m.Offset+m.Rank*m.In : m.Offset+m.Size()]
}

// GradA and GradB are A's and B's gradients within the gradient slab.
func (a *Adapter) GradA(m *Module) []float32 { return a.Grads[m.Offset : m.Offset+m.Rank*m.In] }

// GradB is B's gradient within the gradient slab.
func (a *Adapter) GradB(m *Module) []float32 {
	return a.Grads[m.Offset+m.Rank*m.In : m.Offset+m.Size()]
}

// AllocGrads gives the adapter a zeroed gradient slab.
func (a *Adapter) AllocGrads() {
	if len(a.Grads) != len(a.Params) {
		a.Grads = make([]float32, len(a.Params))
	}
	clear(a.Grads)
}

// Init sets the parameters as PEFT initialises them: A uniform in
// ±1/√In (Kaiming-uniform with a = √5), B zero, so the adapted model starts
// equal to the base. The draw is fixed by seed.
func (a *Adapter) Init(seed uint64) {
	r := rand.New(rand.NewPCG(seed, seed^0x4c6f5241))
	for _, m := range a.Modules {
		bound := 1 / math.Sqrt(float64(m.In))
		A := a.A(m)
		for i := range A {
			A[i] = float32((2*r.Float64() - 1) * bound)
		}
		clear(a.B(m))
	}
}

// Clone returns a deep copy of a's parameters and layout (without gradients).
func (a *Adapter) Clone() *Adapter {
	b, err := New(a.Shape, a.Config)
	if err != nil {
		panic(err) // a was valid
	}
	copy(b.Params, a.Params)
	return b
}

// Compatible reports why a cannot attach to a model of shape s, or nil.
func (a *Adapter) Compatible(s Shape) error {
	if a.Shape.Layers != s.Layers || a.Shape.Dim != s.Dim || a.Shape.Hidden != s.Hidden ||
		a.Shape.Heads != s.Heads || a.Shape.KVHeads != s.KVHeads || a.Shape.HeadDim != s.HeadDim {
		return fmt.Errorf("the adapter was made for a model of %d layers, width %d, feed-forward %d, %d/%d heads of %d; this model has %d layers, width %d, feed-forward %d, %d/%d heads of %d",
			a.Shape.Layers, a.Shape.Dim, a.Shape.Hidden, a.Shape.Heads, a.Shape.KVHeads, a.Shape.HeadDim,
			s.Layers, s.Dim, s.Hidden, s.Heads, s.KVHeads, s.HeadDim)
	}
	if a.Shape.Rope != s.Rope {
		return fmt.Errorf("the adapter's q and k rows are in %v RoPE order, the model's in %v", a.Shape.Rope, s.Rope)
	}
	return nil
}
