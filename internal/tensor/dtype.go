package tensor

import (
	"fmt"
	"strings"
)

// DType is a storage type of weights. Its values are ggml's type ids, so a
// GGUF tensor's type converts directly.
type DType uint32

const (
	F32  DType = 0
	F16  DType = 1
	Q4_0 DType = 2
	Q8_0 DType = 8
	Q4_K DType = 12
	Q5_K DType = 13
	Q6_K DType = 14
	BF16 DType = 30
)

// QK is the number of weights in one Q8_0 or Q4_0 block.
const QK = 32

// dtypeInfo is indexed by DType (an array: lookups sit in hot loops).
var dtypeInfo = [...]struct {
	name       string
	blockSize  int // elements per block; 0: unsupported
	blockBytes int // bytes per block
}{
	F32:  {"F32", 1, 4},
	F16:  {"F16", 1, 2},
	BF16: {"BF16", 1, 2},
	Q8_0: {"Q8_0", QK, 2 + QK},
	Q4_0: {"Q4_0", QK, 2 + QK/2},
	Q4_K: {"Q4_K", QK_K, q4KBytes},
	Q5_K: {"Q5_K", QK_K, q5KBytes},
	Q6_K: {"Q6_K", QK_K, q6KBytes},
}

// Supported reports whether the engine can compute with t.
func (t DType) Supported() bool { return int(t) < len(dtypeInfo) && dtypeInfo[t].blockSize > 0 }

func (t DType) String() string {
	if t.Supported() {
		return dtypeInfo[t].name
	}
	return fmt.Sprintf("DType(%d)", uint32(t))
}

// BlockSize is the number of elements in one storage block.
func (t DType) BlockSize() int { return dtypeInfo[t].blockSize }

// RowBytes is the byte size of n elements of type t; n must be a multiple of
// the block size.
func (t DType) RowBytes(n int) int {
	i := dtypeInfo[t]
	return n / i.blockSize * i.blockBytes
}

// ParseDType maps a name such as "f16" or "Q8_0" to its DType.
func ParseDType(name string) (DType, error) {
	for t, i := range dtypeInfo {
		if i.blockSize > 0 && strings.EqualFold(i.name, name) {
			return DType(t), nil
		}
	}
	return 0, fmt.Errorf("unknown dtype %q (want f32, f16, bf16, q8_0, q4_0, q4_k, q5_k or q6_k)", name)
}
