package tensor

// RopeStyle says which pairs of a head's dimensions rotate together in rotary
// position embeddings.
type RopeStyle int

const (
	// RopeInterleaved rotates (x0,x1), (x2,x3), …: Meta's LLaMA, llama2.c and
	// GGUF files of architecture llama (whose converter permutes q and k into
	// this order).
	RopeInterleaved RopeStyle = iota
	// RopeHalves rotates (x_i, x_{i+n/2}), the "rotate_half" of Hugging Face
	// checkpoints and of GGUF qwen2 (ggml's NEOX mode).
	RopeHalves
)

func (s RopeStyle) String() string {
	if s == RopeHalves {
		return "halves (neox)"
	}
	return "interleaved"
}

// Rope rotates the first 2·len(cos) dimensions of one head vector x by the
// angles whose cosines and sines are given (one per rotated pair).
func Rope(x, cos, sin []float32, style RopeStyle) {
	n := len(cos)
	switch style {
	case RopeInterleaved:
		for i := 0; i < n; i++ {
			a, b := x[2*i], x[2*i+1]
			x[2*i] = a*cos[i] - b*sin[i]
			x[2*i+1] = a*sin[i] + b*cos[i]
		}
	case RopeHalves:
		for i := 0; i < n; i++ {
			a, b := x[i], x[i+n]
			x[i] = a*cos[i] - b*sin[i]
			x[i+n] = a*sin[i] + b*cos[i]
		}
	}
}
