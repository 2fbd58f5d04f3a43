package gguf

import (
	"fmt"
	"math"
	"math/bits"
)

// TensorType is a ggml tensor type id.
type TensorType uint32

const (
	F32     TensorType = 0
	F16     TensorType = 1
	Q4_0    TensorType = 2
	Q4_1    TensorType = 3
	Q5_0    TensorType = 6
	Q5_1    TensorType = 7
	Q8_0    TensorType = 8
	Q8_1    TensorType = 9
	Q2_K    TensorType = 10
	Q3_K    TensorType = 11
	Q4_K    TensorType = 12
	Q5_K    TensorType = 13
	Q6_K    TensorType = 14
	Q8_K    TensorType = 15
	IQ2_XXS TensorType = 16
	IQ2_XS  TensorType = 17
	IQ3_XXS TensorType = 18
	IQ1_S   TensorType = 19
	IQ4_NL  TensorType = 20
	IQ3_S   TensorType = 21
	IQ2_S   TensorType = 22
	IQ4_XS  TensorType = 23
	I8      TensorType = 24
	I16     TensorType = 25
	I32     TensorType = 26
	I64     TensorType = 27
	F64     TensorType = 28
	IQ1_M   TensorType = 29
	BF16    TensorType = 30
	TQ1_0   TensorType = 34
	TQ2_0   TensorType = 35
	MXFP4   TensorType = 39
)

// tensorTraits is how a type stores its elements: in blocks of blockSize
// elements, each typeSize bytes (the sizes of ggml's block structs).
type tensorTraits struct {
	name      string
	blockSize int
	typeSize  int
}

var tensorTypes = map[TensorType]tensorTraits{
	F32:     {"F32", 1, 4},
	F16:     {"F16", 1, 2},
	Q4_0:    {"Q4_0", 32, 18},  // f16 scale + 32 4-bit quants
	Q4_1:    {"Q4_1", 32, 20},  // f16 scale, f16 min + 32 4-bit quants
	Q5_0:    {"Q5_0", 32, 22},  // f16 scale + 32 high bits + 32 4-bit quants
	Q5_1:    {"Q5_1", 32, 24},  // f16 scale, f16 min + 32 high bits + 32 4-bit quants
	Q8_0:    {"Q8_0", 32, 34},  // f16 scale + 32 int8
	Q8_1:    {"Q8_1", 32, 36},  // f16 scale, f16 sum + 32 int8
	Q2_K:    {"Q2_K", 256, 84}, // 16 scales + 64 quants + f16 d, dmin
	Q3_K:    {"Q3_K", 256, 110},
	Q4_K:    {"Q4_K", 256, 144}, // f16 d, dmin + 12 scales + 128 quants
	Q5_K:    {"Q5_K", 256, 176},
	Q6_K:    {"Q6_K", 256, 210}, // 128 low + 64 high + 16 scales + f16 d
	Q8_K:    {"Q8_K", 256, 292}, // f32 d + 256 int8 + 16 int16 sums
	IQ2_XXS: {"IQ2_XXS", 256, 66},
	IQ2_XS:  {"IQ2_XS", 256, 74},
	IQ3_XXS: {"IQ3_XXS", 256, 98},
	IQ1_S:   {"IQ1_S", 256, 50},
	IQ4_NL:  {"IQ4_NL", 32, 18},
	IQ3_S:   {"IQ3_S", 256, 110},
	IQ2_S:   {"IQ2_S", 256, 82},
	IQ4_XS:  {"IQ4_XS", 256, 136},
	I8:      {"I8", 1, 1},
	I16:     {"I16", 1, 2},
	I32:     {"I32", 1, 4},
	I64:     {"I64", 1, 8},
	F64:     {"F64", 1, 8},
	IQ1_M:   {"IQ1_M", 256, 56},
	BF16:    {"BF16", 1, 2},
	TQ1_0:   {"TQ1_0", 256, 54},
	TQ2_0:   {"TQ2_0", 256, 66},
	MXFP4:   {"MXFP4", 32, 17}, // e8m0 scale + 32 4-bit quants
}

// Known reports whether the type's storage layout is known.
func (t TensorType) Known() bool { _, ok := tensorTypes[t]; return ok }

func (t TensorType) String() string {
	if tr, ok := tensorTypes[t]; ok {
		return tr.name
	}
	return fmt.Sprintf("TensorType(%d)", uint32(t))
}

// BlockSize is the number of elements in one block, 0 for unknown types.
func (t TensorType) BlockSize() int { return tensorTypes[t].blockSize }

// TypeSize is the number of bytes of one block, 0 for unknown types.
func (t TensorType) TypeSize() int { return tensorTypes[t].typeSize }

// maxDims is ggml's limit on the number of dimensions.
const maxDims = 4

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name   string
	Dims   []uint64 // ggml order (ne): Dims[0] is the row length, the fastest-varying dimension
	Type   TensorType
	Offset uint64 // from the start of the data section, a multiple of the alignment
	Size   uint64 // bytes
}

// Elements is the number of elements, the product of the dimensions.
func (t TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// tensorSize checks a tensor's shape against its type and returns its size
// in bytes: at most 4 dimensions, each at least 1, an element count that
// fits in an int64, and a row length that is a multiple of the block size.
func tensorSize(dims []uint64, t TensorType) (uint64, error) {
	tr, ok := tensorTypes[t]
	if !ok {
		return 0, fmt.Errorf("unknown tensor type %d", uint32(t))
	}
	if len(dims) > maxDims {
		return 0, fmt.Errorf("%d dimensions, at most %d allowed", len(dims), maxDims)
	}
	n := uint64(1)
	for i, d := range dims {
		if d == 0 {
			return 0, fmt.Errorf("dimension %d is 0; every dimension must be at least 1", i)
		}
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("dimensions %v overflow: more than 2^63-1 elements", dims)
		}
		n = lo
	}
	row := uint64(1) // a tensor with no dimensions is a scalar
	if len(dims) > 0 {
		row = dims[0]
	}
	bs := uint64(tr.blockSize)
	if row%bs != 0 {
		return 0, fmt.Errorf("row length %d is not a multiple of the %s block size %d", row, tr.name, bs)
	}
	hi, size := bits.Mul64(n/bs, uint64(tr.typeSize))
	if hi != 0 {
		return 0, fmt.Errorf("size of %d %s elements overflows", n, tr.name)
	}
	return size, nil
}
