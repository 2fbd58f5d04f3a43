package llama

import (
	"fmt"
	"strconv"
	"strings"

	"flywheel/internal/tensor"
)

// quantMix chooses each weight matrix's storage type for a target type. For
// the k-quants it is llama.cpp's mix for LLaMA models (llama_tensor_get_type
// in llama-quant.cpp, without an importance matrix):
//
//   - q4_k (LLAMA_FTYPE_MOSTLY_Q4_K_M) and q5_k (Q5_K_M): the output head —
//     or the token embedding when the output is tied to it — is Q6_K, and so
//     are attn_v and ffn_down of the layers i where useMoreBits(i, layers);
//     every other matrix is Q4_K (Q5_K).
//   - q6_k (LLAMA_FTYPE_MOSTLY_Q6_K): every matrix is Q6_K.
//
// A matrix whose rows are not a multiple of 256 cannot be a k-quant: the
// output head then falls back to Q8_0 as in llama.cpp, and so does every
// other such matrix (llama.cpp picks Q5_0 or Q5_1, which flywheel does not
// store; Q8_0 keeps at least their precision). Rows that 32 does not divide
// either are F16, as in llama.cpp.
type quantMix struct {
	typ       tensor.DType
	layers    int
	hasOutput bool // the model has its own output.weight (else the embedding is the head)
}

// useMoreBits is llama.cpp's choice of the layers whose attn_v and ffn_down
// get Q6_K in the _M mixes: the first and last eighth and every third
// layer between.
func useMoreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

// typeOf returns the storage type of the weight matrix name with rows of
// cols elements, and why it is not m.typ ("" when it is).
func (m quantMix) typeOf(name string, cols int) (tensor.DType, string) {
	t, why := m.typ, ""
	if m.typ == tensor.Q4_K || m.typ == tensor.Q5_K {
		isHead := name == "output.weight" || (!m.hasOutput && name == "token_embd.weight")
		switch {
		case isHead:
			t, why = tensor.Q6_K, "output head as Q6_K (llama.cpp's _M mix)"
		case m.moreBits(name, "attn_v.weight") || m.moreBits(name, "ffn_down"):
			t, why = tensor.Q6_K, fmt.Sprintf("attn_v/ffn_down of layers %s as Q6_K (llama.cpp's _M mix)", m.moreBitsLayers())
		}
	}
	if cols%t.BlockSize() == 0 {
		return t, why
	}
	if t.BlockSize() == tensor.QK_K && cols%tensor.QK == 0 {
		return tensor.Q8_0, fmt.Sprintf("rows of %d not a multiple of %d (stored as Q8_0)", cols, t.BlockSize())
	}
	return tensor.F16, fmt.Sprintf("rows of %d not a multiple of %d (stored as F16)", cols, t.BlockSize())
}

// moreBits reports whether name is a kind of tensor (attn_v.weight,
// ffn_down) of a layer that useMoreBits picks.
func (m quantMix) moreBits(name, kind string) bool {
	if !strings.Contains(name, kind) {
		return false
	}
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return false
	}
	num, _, _ := strings.Cut(rest, ".")
	i, err := strconv.Atoi(num)
	return err == nil && useMoreBits(i, m.layers)
}

func (m quantMix) moreBitsLayers() string {
	var s []string
	for i := 0; i < m.layers; i++ {
		if useMoreBits(i, m.layers) {
			s = append(s, strconv.Itoa(i))
		}
	}
	return strings.Join(s, ", ")
}
