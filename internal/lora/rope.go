package lora

import "flywheel/internal/tensor"

// permuteHeadRows returns the rows of b [rows, cols] reordered within each
// head of hd rows from one RoPE pairing to another: interleaved row 2j+s is
// halves row j + s·hd/2 (the permutation Hugging Face's and llama.cpp's
// converters apply to q and k). Only B of q and k needs it: the rows of B
// are the projection's outputs, A acts on the inputs.
func permuteHeadRows(b []float32, cols, hd int, from, to tensor.RopeStyle) []float32 {
	if from == to {
		return b
	}
	out := make([]float32, len(b))
	heads := len(b) / cols / hd
	for h := 0; h < heads; h++ {
		for j := 0; j < hd/2; j++ {
			for s := 0; s < 2; s++ {
				inter, halves := h*hd+2*j+s, h*hd+j+s*hd/2
				src, dst := halves, inter
				if from == tensor.RopeInterleaved {
					src, dst = inter, halves
				}
				copy(out[dst*cols:(dst+1)*cols], b[src*cols:(src+1)*cols])
			}
		}
	}
	return out
}

// rotated reports whether target t's output rows are RoPE-paired.
func rotated(t Target) bool { return t == Q || t == K }
