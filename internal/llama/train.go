package llama

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"flywheel/internal/lora"
	"flywheel/internal/tensor"
)

// Training: a forward pass that keeps what its backward needs, and the
// backward, op by op in reverse (train_layer.go, train_head.go). Gradients
// flow into a LoRA adapter's gradient slab, or with full fine-tuning into a
// gradient slab shaped like the model (FullWeights). The frozen weights stay
// in their stored dtype; all activations and gradients are f32.

// IgnoreIndex marks a position whose prediction is not scored (the label
// Hugging Face datasets hold for prompt and padding tokens).
const IgnoreIndex = -100

// Batch is a training batch: sequences laid end to end. Positions restart at
// 0 in each sequence and attention never crosses from one to the next, so
// packed examples stay independent.
type Batch struct {
	Tokens  []int  // [N] token ids
	Targets []int  // [N] the token position i should predict, or IgnoreIndex
	Lens    []int  // the sequences' lengths, summing to N
	Seed    uint64 // randomness of this pass (LoRA dropout masks)
}

// Scored is the number of positions with a target.
func (b *Batch) Scored() int {
	n := 0
	for _, t := range b.Targets {
		if t != IgnoreIndex {
			n++
		}
	}
	return n
}

// TrainConfig says what a Trainer trains.
type TrainConfig struct {
	// Adapter is the LoRA adapter trained on the frozen model (its gradient
	// slab is allocated if absent).
	Adapter *lora.Adapter
	// Full trains every weight instead: the model must be one made by
	// NewFullWeights, whose gradients the Trainer fills.
	Full *FullWeights
	// Recompute keeps only each layer's input and recomputes the layer's
	// other activations during backward: about one more forward pass of
	// compute for a fraction of the memory.
	Recompute bool
	Pool      *tensor.Pool
}

// Trainer runs training passes of one model. It is not safe for concurrent
// use.
type Trainer struct {
	m    *Model
	cfg  TrainConfig
	pool *tensor.Pool
	grad *Model // full fine-tuning: gradients shaped like the model

	n      int                       // tokens of the current batch
	acts   []layerActs               // per layer, or one reused with Recompute
	inputs [][]float32               // with Recompute: each layer's input [n, Dim]
	xLast  []float32                 // [n, Dim] the residual stream after the last layer
	pos    []int                     // [n] position of each token in its sequence
	cos    []float32                 // [ctx, RopeDims/2] rotation tables by position
	sin    []float32                 // likewise
	tabLen int                       // positions the tables cover
	head   headState                 // output head and loss
	bw     backwardBufs              // gradients of activations, reused by every layer
	attn   []tensor.AttentionScratch // per worker
	lowest int                       // the lowest layer holding trained parameters

	layerPanels   []*layerPanels // frozen layer weights as panels, built on first use (see panels)
	headPanels    bool           // the frozen output head gets panels (see outputPanels)
	panelsPlanned bool
}

// NewTrainer prepares training of m as cfg says.
func NewTrainer(m *Model, cfg TrainConfig) (*Trainer, error) {
	if (cfg.Adapter == nil) == (cfg.Full == nil) {
		return nil, errors.New("train: give either a LoRA adapter or full weights to train")
	}
	tr := &Trainer{m: m, cfg: cfg, pool: cfg.Pool}
	if a := cfg.Adapter; a != nil {
		if err := a.Compatible(m.Config.LoRAShape()); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		if len(a.Grads) != len(a.Params) {
			a.AllocGrads()
		}
		tr.lowest = m.Config.Layers
		for _, mod := range a.Modules {
			tr.lowest = min(tr.lowest, mod.Layer)
		}
	} else {
		if cfg.Full.Model != m {
			return nil, errors.New("train: full fine-tuning trains the model of its FullWeights; pass FullWeights.Model")
		}
		tr.grad = cfg.Full.Grad
	}
	return tr, nil
}

// Model is the model being trained.
func (tr *Trainer) Model() *Model { return tr.m }

// Params and Grads are the slabs of trained parameters and their gradients,
// in the same layout, for the optimizer.
func (tr *Trainer) Params() []float32 {
	if tr.cfg.Adapter != nil {
		return tr.cfg.Adapter.Params
	}
	return tr.cfg.Full.Params
}

// Grads is the gradient slab matching Params.
func (tr *Trainer) Grads() []float32 {
	if tr.cfg.Adapter != nil {
		return tr.cfg.Adapter.Grads
	}
	return tr.cfg.Full.Grads
}

// ZeroGrads clears the gradients before an optimizer step's passes.
func (tr *Trainer) ZeroGrads() { clear(tr.Grads()) }

// Step runs the forward and backward pass of b, adds scale × the gradient
// of the summed token losses into Grads, and returns that sum (natural log
// units) over b's scored positions. An optimizer step over micro-batches
// calls it once per micro-batch with scale = 1/(scored tokens of the step).
func (tr *Trainer) Step(b Batch, scale float32) (float64, error) {
	if err := tr.forward(b); err != nil {
		return 0, err
	}
	loss := tr.headBackward(b, scale)
	tr.backward(b)
	return loss, nil
}

// Loss returns the summed token losses of b without computing gradients.
func (tr *Trainer) Loss(b Batch) (float64, error) {
	if err := tr.forward(b); err != nil {
		return 0, err
	}
	return tr.headLoss(b), nil
}

// check validates a batch against the model.
func (tr *Trainer) check(b Batch) error {
	c := &tr.m.Config
	if len(b.Tokens) == 0 {
		return errors.New("train: empty batch")
	}
	if len(b.Targets) != len(b.Tokens) {
		return fmt.Errorf("train: %d targets for %d tokens", len(b.Targets), len(b.Tokens))
	}
	sum := 0
	for _, l := range b.Lens {
		if l <= 0 {
			return fmt.Errorf("train: sequence length %d", l)
		}
		sum += l
	}
	if sum != len(b.Tokens) {
		return fmt.Errorf("train: sequence lengths sum to %d, the batch has %d tokens", sum, len(b.Tokens))
	}
	for i, id := range b.Tokens {
		if id < 0 || id >= c.Vocab {
			return fmt.Errorf("train: token %d: id %d out of range [0, %d)", i, id, c.Vocab)
		}
		if t := b.Targets[i]; t != IgnoreIndex && (t < 0 || t >= c.Vocab) {
			return fmt.Errorf("train: target %d: id %d out of range [0, %d)", i, t, c.Vocab)
		}
	}
	return nil
}

// forward runs the embedding and every layer over b, keeping activations
// (all of them, or with Recompute each layer's input) for backward.
func (tr *Trainer) forward(b Batch) error {
	if err := tr.check(b); err != nil {
		return err
	}
	m, D := tr.m, tr.m.Config.Dim
	tr.prepare(b)
	x := tr.layerInput(0)
	for t, id := range b.Tokens {
		tensor.Dequantize(x[t*D:(t+1)*D], m.Embed.Type, m.Embed.Row(id), D)
	}
	for l := range m.Layers {
		next := tr.layerInput(l + 1)
		tr.layerForward(l, tr.actsFor(l), b, next)
	}
	return nil
}

// prepare sizes the buffers for b and fills positions and rotation tables.
func (tr *Trainer) prepare(b Batch) {
	c := &tr.m.Config
	N := len(b.Tokens)
	tr.n = N
	if cap(tr.pos) < N {
		tr.pos = make([]int, N)
	}
	tr.pos = tr.pos[:N]
	longest, i := 0, 0
	for _, l := range b.Lens {
		for p := 0; p < l; p++ {
			tr.pos[i] = p
			i++
		}
		longest = max(longest, l)
	}
	tr.ropeTables(longest)
	if len(tr.attn) != tr.pool.Threads() {
		tr.attn = make([]tensor.AttentionScratch, tr.pool.Threads())
	}
	layers := c.Layers
	if tr.cfg.Recompute {
		layers = 1
		if len(tr.inputs) != c.Layers+1 {
			tr.inputs = make([][]float32, c.Layers+1)
		}
		for l := range tr.inputs {
			tr.inputs[l] = grow(tr.inputs[l], N*c.Dim)
		}
	}
	if len(tr.acts) != layers {
		tr.acts = make([]layerActs, layers)
	}
	for l := range tr.acts {
		tr.acts[l].size(c, tr.cfg.Adapter, N, !tr.cfg.Recompute)
	}
	tr.xLast = grow(tr.xLast, N*c.Dim)
	tr.bw.size(c, N)
}

// actsFor returns the activation record of layer l.
func (tr *Trainer) actsFor(l int) *layerActs {
	if tr.cfg.Recompute {
		a := &tr.acts[0]
		a.x = tr.inputs[l][:tr.n*tr.m.Config.Dim]
		return a
	}
	return &tr.acts[l]
}

// layerInput is where the input of layer l (l = Layers: the final residual
// stream) is kept.
func (tr *Trainer) layerInput(l int) []float32 {
	nd := tr.n * tr.m.Config.Dim
	switch {
	case tr.cfg.Recompute:
		return tr.inputs[l][:nd]
	case l == tr.m.Config.Layers:
		return tr.xLast[:nd]
	}
	return tr.acts[l].x[:nd]
}

// ropeTables fills cos/sin for positions 0..n-1: angle_i = (pos/scale)·θ_i
// with θ_i = base^(−2i/RopeDims), in float64 rounded to float32.
func (tr *Trainer) ropeTables(n int) {
	if n <= tr.tabLen {
		return
	}
	c := &tr.m.Config
	half := c.RopeDims / 2
	tr.cos, tr.sin = make([]float32, n*half), make([]float32, n*half)
	for p := 0; p < n; p++ {
		for i := 0; i < half; i++ {
			theta := math.Pow(c.RopeBase, -2*float64(i)/float64(c.RopeDims))
			s, co := math.Sincos(float64(p) / c.RopeScale * theta)
			tr.cos[p*half+i], tr.sin[p*half+i] = float32(co), float32(s)
		}
	}
	tr.tabLen = n
}

// rope rotates (inverse: un-rotates) every head of x [N, heads·HeadDim].
func (tr *Trainer) rope(x []float32, heads int, inverse bool) {
	c := &tr.m.Config
	hd, half, w := c.HeadDim, c.RopeDims/2, heads*c.HeadDim
	for t, p := range tr.pos {
		cos, sin := tr.cos[p*half:(p+1)*half], tr.sin[p*half:(p+1)*half]
		for h := 0; h < heads; h++ {
			v := x[t*w+h*hd : t*w+(h+1)*hd]
			if inverse {
				tensor.RopeBackward(v, cos, sin, c.RopeStyle)
			} else {
				tensor.Rope(v, cos, sin, c.RopeStyle)
			}
		}
	}
}

// eachAttentionJob runs fn for every (sequence, kv head) pair of b, spread
// over the pool's workers by a shared counter (sequences differ in cost).
// Each job owns one kv head's rows, so the query heads of its group may add
// into dk and dv without races.
func (tr *Trainer) eachAttentionJob(b Batch, fn func(worker, start, T, g int)) {
	c := &tr.m.Config
	starts := make([]int, len(b.Lens))
	for i := 1; i < len(b.Lens); i++ {
		starts[i] = starts[i-1] + b.Lens[i-1]
	}
	jobs := len(b.Lens) * c.KVHeads
	var next atomic.Int64
	threads := min(tr.pool.Threads(), jobs)
	p := tr.pool
	if threads == 1 {
		p = nil
	}
	p.Run(threads, func(worker, _, _ int) {
		for {
			j := int(next.Add(1) - 1)
			if j >= jobs {
				return
			}
			s, g := j/c.KVHeads, j%c.KVHeads
			fn(worker, starts[s], b.Lens[s], g)
		}
	})
}

// grow returns buf with length n, reallocated when too small.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// ActivationBytes is the memory the trainer holds for activations and their
// gradients (after a pass has sized the buffers): what Recompute saves.
func (tr *Trainer) ActivationBytes() int {
	n := len(tr.xLast)
	for _, in := range tr.inputs {
		n += cap(in)
	}
	for i := range tr.acts {
		a := &tr.acts[i]
		for _, b := range [][]float32{a.xn, a.q, a.k, a.v, a.lse, a.att, a.x2, a.xn2, a.g, a.u, a.h} {
			n += cap(b)
		}
		if !tr.cfg.Recompute {
			n += cap(a.x)
		}
		for _, u := range a.lu {
			n += cap(u)
		}
	}
	bw := &tr.bw
	for _, b := range [][]float32{bw.dx, bw.dxn, bw.dq, bw.datt, bw.dk, bw.dv, bw.dh, bw.dg, bw.du, bw.drop,
		tr.head.xn, tr.head.dxn, tr.head.xs, tr.head.dxs, tr.head.logits} {
		n += cap(b)
	}
	return 4 * n
}
