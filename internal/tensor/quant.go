package tensor

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"
)

// Block layouts (as ggml defines them):
//
//	Q8_0: f16 d, int8 q[32]            → x[j] = d·q[j]
//	Q4_0: f16 d, uint8 q[16]           → x[j] = d·((q[j]&15) − 8), x[j+16] = d·((q[j]>>4) − 8)

// Dequantize converts n elements of type t stored in src into dst[:n].
// n must be a multiple of t's block size. It is the reference definition of
// every storage type.
func Dequantize(dst []float32, t DType, src []byte, n int) {
	dst = dst[:n]
	if useAVX2 && n >= 8 && dequantizeAVX2(dst, t, src) {
		return
	}
	DequantizeRef(dst, t, src, n)
}

// dequantizeAVX2 converts len(dst) elements with the SIMD kernels, or
// reports false for a type or length they do not take.
func dequantizeAVX2(dst []float32, t DType, src []byte) bool {
	n := len(dst)
	switch {
	case t == F16 && n%8 == 0:
		_ = src[2*n-1]
		dequantF16AVX2(&dst[0], (*uint16)(unsafe.Pointer(&src[0])), n)
	case t == BF16 && n%8 == 0:
		_ = src[2*n-1]
		dequantBF16AVX2(&dst[0], (*uint16)(unsafe.Pointer(&src[0])), n)
	case t == Q8_0:
		_ = src[n/QK*34-1]
		dequantQ8_0AVX2(&dst[0], &src[0], n/QK)
	case t == Q4_0:
		_ = src[n/QK*18-1]
		dequantQ4_0AVX2(&dst[0], &src[0], n/QK)
	case isKQuant(t):
		dequantizeKAVX2(dst, t, src)
	default:
		return false
	}
	return true
}

// DequantizeRef is Dequantize in plain Go: the definition of each type.
func DequantizeRef(dst []float32, t DType, src []byte, n int) {
	dst = dst[:n]
	switch t {
	case F32:
		copy(dst, F32s(src[:4*n]))
	case F16:
		table := f16Lookup()
		for i := range dst {
			dst[i] = table[binary.LittleEndian.Uint16(src[2*i:])]
		}
	case BF16:
		for i := range dst {
			dst[i] = BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case Q8_0:
		for b := 0; b < n/QK; b++ {
			blk := src[b*34 : b*34+34]
			d := F16ToF32(binary.LittleEndian.Uint16(blk))
			out := dst[b*QK : b*QK+QK]
			for j := range out {
				out[j] = d * float32(int8(blk[2+j]))
			}
		}
	case Q4_0:
		for b := 0; b < n/QK; b++ {
			blk := src[b*18 : b*18+18]
			d := F16ToF32(binary.LittleEndian.Uint16(blk))
			out := dst[b*QK : b*QK+QK]
			for j := 0; j < QK/2; j++ {
				q := blk[2+j]
				out[j] = d * float32(int(q&15)-8)
				out[j+QK/2] = d * float32(int(q>>4)-8)
			}
		}
	case Q4_K:
		dequantizeQ4K(dst, src)
	case Q5_K:
		dequantizeQ5K(dst, src)
	case Q6_K:
		dequantizeQ6K(dst, src)
	default:
		panic(fmt.Sprintf("tensor: dequantize %v: unsupported type", t))
	}
}

// Quantize encodes src (len a multiple of t's block size) as type t, appending
// to dst. Q8_0, Q4_0 and the k-quants follow ggml's reference quantizers
// exactly, so the blocks are bit-identical to llama.cpp's.
func Quantize(dst []byte, t DType, src []float32) []byte {
	switch t {
	case F32:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
		}
	case F16:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint16(dst, F32ToF16(v))
		}
	case BF16:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint16(dst, F32ToBF16(v))
		}
	case Q8_0:
		for b := 0; b+QK <= len(src); b += QK {
			x := src[b : b+QK]
			var amax float32
			for _, v := range x {
				amax = max(amax, abs32(v))
			}
			d := amax / 127
			var id float32
			if d != 0 {
				id = 1 / d
			}
			dst = binary.LittleEndian.AppendUint16(dst, F32ToF16(d))
			for _, v := range x {
				dst = append(dst, byte(int8(roundAway(v*id))))
			}
		}
	case Q4_0:
		for b := 0; b+QK <= len(src); b += QK {
			x := src[b : b+QK]
			var amax, vmax float32 // largest magnitude, and that value with its sign
			for _, v := range x {
				if abs32(v) > amax {
					amax, vmax = abs32(v), v
				}
			}
			d := vmax / -8
			var id float32
			if d != 0 {
				id = 1 / d
			}
			dst = binary.LittleEndian.AppendUint16(dst, F32ToF16(d))
			for j := 0; j < QK/2; j++ {
				q0 := min(15, int8(x[j]*id+8.5))
				q1 := min(15, int8(x[j+QK/2]*id+8.5))
				dst = append(dst, byte(q0)|byte(q1)<<4)
			}
		}
	case Q4_K:
		dst = quantizeQ4K(dst, src)
	case Q5_K:
		dst = quantizeQ5K(dst, src)
	case Q6_K:
		dst = quantizeQ6K(dst, src)
	default:
		panic(fmt.Sprintf("tensor: quantize %v: unsupported type", t))
	}
	return dst
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// roundAway rounds half away from zero, as C's roundf.
func roundAway(x float32) float32 { return float32(math.Round(float64(x))) }

// F32s views little-endian float32 bytes as []float32 without copying.
// len(b) must be a multiple of 4; b must be 4-byte aligned.
func F32s(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}

// Bytes views a []float32 as its little-endian bytes without copying.
func Bytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
}

// Aligned4 reports whether b starts at a 4-byte aligned address, so F32s may
// view it.
func Aligned4(b []byte) bool {
	return len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%4 == 0
}
