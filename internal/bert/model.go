package bert

import (
	"fmt"
	"math"

	"flywheel/internal/tensor"
	"flywheel/internal/tokenizer"
)

// layer is one transformer block's weights; matrices are [out rows, in cols].
type layer struct {
	q, k, v, o     tensor.Matrix // [H, H]
	qb, kb, vb, ob []float32     // [H]
	attnNormW      []float32     // [H] LayerNorm after attention
	attnNormB      []float32     // [H]
	up             tensor.Matrix // [I, H]
	upB            []float32     // [I]
	down           tensor.Matrix // [H, I]
	downB          []float32     // [H]
	outNormW       []float32     // [H] LayerNorm after the feed-forward
	outNormB       []float32     // [H]
}

// Model is a loaded encoder with its tokenizer. It is safe for concurrent
// use: every call allocates its own activations.
type Model struct {
	Config    Config
	Tokenizer *tokenizer.Tokenizer // nil when loaded without one: use EmbedIDs

	word      tensor.Matrix // [Vocab, H]
	position  tensor.Matrix // [MaxPositions, H]
	tokenType tensor.Matrix // [TypeVocab, H]
	embNormW  []float32     // [H]
	embNormB  []float32     // [H]
	layers    []layer

	pool    *tensor.Pool
	ownPool *tensor.Pool // made by SetThreads
	close   func() error
}

// SetPool runs the matrix products on p's workers (nil: the calling goroutine).
func (m *Model) SetPool(p *tensor.Pool) { m.pool = p }

// SetThreads runs the matrix products on a pool of n workers that the model
// owns and Close stops (n ≤ 1: the calling goroutine).
func (m *Model) SetThreads(n int) {
	if m.ownPool != nil {
		m.ownPool.Close()
		m.ownPool = nil
	}
	m.pool = nil
	if n > 1 {
		m.ownPool = tensor.NewPool(n)
		m.pool = m.ownPool
	}
}

// Close releases the mapped weight files and the model's own pool.
func (m *Model) Close() error {
	m.SetThreads(0)
	if m.close == nil {
		return nil
	}
	err := m.close()
	m.close = nil
	return err
}

// Dim is the length of the vectors Embed returns.
func (m *Model) Dim() int { return m.Config.Hidden }

// Embed returns the sentence vector of text: WordPiece with [CLS] and [SEP],
// cut to the model's longest input.
func (m *Model) Embed(text string) ([]float32, error) {
	if m.Tokenizer == nil {
		return nil, fmt.Errorf("bert: model has no tokenizer; use EmbedIDs")
	}
	ids := m.Tokenizer.Encode(text, true, false)
	if n := m.Config.MaxPositions; len(ids) > n {
		last := ids[len(ids)-1]
		ids = append(ids[:n-1], last) // keep the closing [SEP]
	}
	return m.EmbedIDs(ids)
}

// EmbedIDs returns the sentence vector of a token sequence (already holding
// its special tokens), all of token type 0.
func (m *Model) EmbedIDs(ids []int) ([]float32, error) {
	c := m.Config
	T, H := len(ids), c.Hidden
	if T == 0 {
		return nil, fmt.Errorf("bert: no tokens to embed")
	}
	if T > c.MaxPositions {
		return nil, fmt.Errorf("bert: %d tokens, the model takes at most %d", T, c.MaxPositions)
	}
	for i, id := range ids {
		if id < 0 || id >= c.Vocab {
			return nil, fmt.Errorf("bert: token %d at position %d is outside the vocabulary of %d", id, i, c.Vocab)
		}
	}
	x := m.Hidden(ids)
	out := make([]float32, H)
	switch c.Pooling {
	case PoolCLS:
		copy(out, x[:H])
	default:
		for t := range T {
			tensor.Add(out, x[t*H:(t+1)*H])
		}
		for i := range out {
			out[i] /= float32(T)
		}
	}
	if c.Normalize {
		normalize(out)
	}
	return out, nil
}

// Hidden runs the encoder and returns the last layer's token vectors [T, H].
// ids must be valid and at most MaxPositions long.
func (m *Model) Hidden(ids []int) []float32 {
	c := m.Config
	T, H, I := len(ids), c.Hidden, c.Intermediate
	x := make([]float32, T*H)      // [T, H] residual stream
	q := make([]float32, T*H)      // [T, H]
	k := make([]float32, T*H)      // [T, H]
	v := make([]float32, T*H)      // [T, H]
	a := make([]float32, T*H)      // [T, H] attention output
	proj := make([]float32, T*H)   // [T, H] projections back to H
	hidden := make([]float32, T*I) // [T, I] feed-forward inside
	scores := make([]float32, T)   // [T] one query's attention row
	m.embed(x, ids)
	for l := range m.layers {
		w := &m.layers[l]
		linear(m.pool, q, w.q, w.qb, x, T)
		linear(m.pool, k, w.k, w.kb, x, T)
		linear(m.pool, v, w.v, w.vb, x, T)
		attention(a, q, k, v, scores, T, H, c.Heads)
		linear(m.pool, proj, w.o, w.ob, a, T)
		addNorm(x, proj, w.attnNormW, w.attnNormB, c.Eps, H)
		linear(m.pool, hidden, w.up, w.upB, x, T)
		activate(hidden, c.Act)
		linear(m.pool, proj, w.down, w.downB, hidden, T)
		addNorm(x, proj, w.outNormW, w.outNormB, c.Eps, H)
	}
	return x
}

// embed writes LayerNorm(word + position + type 0) for each token into x.
func (m *Model) embed(x []float32, ids []int) {
	H := m.Config.Hidden
	row := make([]float32, H)
	for t, id := range ids {
		xt := x[t*H : (t+1)*H]
		tensor.Dequantize(xt, m.word.Type, m.word.Row(id), H)
		tensor.Dequantize(row, m.position.Type, m.position.Row(t), H)
		tensor.Add(xt, row)
		tensor.Dequantize(row, m.tokenType.Type, m.tokenType.Row(0), H)
		tensor.Add(xt, row)
		layerNorm(xt, m.embNormW, m.embNormB, m.Config.Eps)
	}
}

// linear computes out[t] = W·x[t] + b for T rows.
func linear(p *tensor.Pool, out []float32, w tensor.Matrix, b []float32, x []float32, T int) {
	tensor.MatMul(p, out, w, x, T)
	for t := range T {
		tensor.Add(out[t*w.Rows:(t+1)*w.Rows], b)
	}
}

// attention is bidirectional multi-head attention over one sequence:
// out[i] = Σ_j softmax_j(q[i]·k[j]/√d) v[j], head by head.
func attention(out, q, k, v, scores []float32, T, H, heads int) {
	d := H / heads
	scale := float32(1 / math.Sqrt(float64(d)))
	clear(out)
	for h := range heads {
		for i := range T {
			qi := q[i*H+h*d : i*H+(h+1)*d]
			for j := range T {
				scores[j] = tensor.DotF32(qi, k[j*H+h*d:j*H+(h+1)*d]) * scale
			}
			tensor.Softmax(scores[:T])
			oi := out[i*H+h*d : i*H+(h+1)*d]
			for j := range T {
				tensor.Axpy(scores[j], v[j*H+h*d:j*H+(h+1)*d], oi)
			}
		}
	}
}

// addNorm sets each row of x to LayerNorm(x + y).
func addNorm(x, y, w, b []float32, eps float32, H int) {
	tensor.Add(x, y)
	for t := 0; t < len(x); t += H {
		layerNorm(x[t:t+H], w, b, eps)
	}
}

// layerNorm normalises x to zero mean and unit variance, then scales by w
// and shifts by b.
func layerNorm(x, w, b []float32, eps float32) {
	var sum, sq float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := sum / float64(len(x))
	for _, v := range x {
		d := float64(v) - mean
		sq += d * d
	}
	inv := 1 / math.Sqrt(sq/float64(len(x))+float64(eps))
	for i, v := range x {
		x[i] = float32((float64(v)-mean)*inv)*w[i] + b[i]
	}
}

func activate(x []float32, act Activation) {
	for i, v := range x {
		switch act {
		case GELU:
			x[i] = float32(0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2)))
		case GELUTanh:
			u := float64(v)
			x[i] = float32(0.5 * u * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(u+0.044715*u*u*u))))
		case ReLU:
			x[i] = max(v, 0)
		}
	}
}

func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}
