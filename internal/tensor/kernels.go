package tensor

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"
)

// Matrix is a row-major weight matrix of Rows × Cols elements stored as Type.
// In ggml's dimension order Cols is ne0 and Rows is ne1; in PyTorch's it is
// the shape [Rows, Cols] of an nn.Linear(Cols → Rows) weight.
type Matrix struct {
	Type       DType
	Rows, Cols int
	Data       []byte
}

// Row returns the stored bytes of row i.
func (m Matrix) Row(i int) []byte {
	rb := m.Type.RowBytes(m.Cols)
	return m.Data[i*rb : (i+1)*rb]
}

// Check reports whether Data holds exactly Rows × Cols elements of Type.
func (m Matrix) Check() error {
	if !m.Type.Supported() {
		return fmt.Errorf("unsupported type %v", m.Type)
	}
	if bs := m.Type.BlockSize(); m.Cols%bs != 0 {
		return fmt.Errorf("row length %d is not a multiple of the %v block size %d", m.Cols, m.Type, bs)
	}
	if want := m.Rows * m.Type.RowBytes(m.Cols); len(m.Data) != want {
		return fmt.Errorf("%d×%d %v needs %d bytes, have %d", m.Rows, m.Cols, m.Type, want, len(m.Data))
	}
	return nil
}

// DotRef is the reference dot product of one stored row with x: dequantize,
// then accumulate in float64. Every fast kernel is tested against it.
func DotRef(t DType, row []byte, x []float32) float32 {
	w := make([]float32, len(x))
	Dequantize(w, t, row, len(x))
	var s float64
	for i := range w {
		s += float64(w[i]) * float64(x[i])
	}
	return float32(s)
}

// Dot is the dot product of one stored row (len(x) elements of type t) with x.
func Dot(t DType, row []byte, x []float32) float32 {
	switch t {
	case F32:
		return DotF32(F32s(row[:4*len(x)]), x)
	case F16:
		return dotF16(row, x)
	case BF16:
		return dotBF16(row, x)
	case Q8_0:
		return dotQ8_0(row, x)
	case Q4_0:
		return dotQ4_0(row, x)
	case Q4_K:
		return dotQ4K(row, x)
	case Q5_K:
		return dotQ5K(row, x)
	case Q6_K:
		return dotQ6K(row, x)
	}
	panic(fmt.Sprintf("tensor: dot %v: unsupported type", t))
}

// DotF32 returns Σ a[i]·b[i] over len(a) elements.
func DotF32(a, b []float32) float32 {
	b = b[:len(a)]
	if useAVX2 && len(a) >= 8 {
		n := len(a) &^ 7
		var s float32
		dotF32RowsAVX2(&a[0], 0, &b[0], n, 1, &s)
		return s + dotF32Go(a[n:], b[n:])
	}
	return dotF32Go(a, b)
}

// dotF32Go is DotF32 in plain Go, four accumulators wide.
func dotF32Go(a, b []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dotF16(row []byte, x []float32) float32 {
	row = row[:2*len(x)]
	if useAVX2 && len(x) >= 8 {
		n := len(x) &^ 7
		var s float32
		dotF16RowsAVX2((*uint16)(unsafe.Pointer(&row[0])), 0, &x[0], n, 1, &s)
		return s + dotF16Go(row[2*n:], x[n:])
	}
	return dotF16Go(row, x)
}

func dotF16Go(row []byte, x []float32) float32 {
	table := f16Lookup()
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(x); i += 2 {
		s0 += table[binary.LittleEndian.Uint16(row[2*i:])] * x[i]
		s1 += table[binary.LittleEndian.Uint16(row[2*i+2:])] * x[i+1]
	}
	if i < len(x) {
		s0 += table[binary.LittleEndian.Uint16(row[2*i:])] * x[i]
	}
	return s0 + s1
}

func dotBF16(row []byte, x []float32) float32 {
	row = row[:2*len(x)]
	if useAVX2 && len(x) >= 8 {
		n := len(x) &^ 7
		return dotBF16AVX2((*uint16)(unsafe.Pointer(&row[0])), &x[0], n) + dotBF16Go(row[2*n:], x[n:])
	}
	return dotBF16Go(row, x)
}

func dotBF16Go(row []byte, x []float32) float32 {
	var s float32
	for i := range x {
		s += math.Float32frombits(uint32(binary.LittleEndian.Uint16(row[2*i:]))<<16) * x[i]
	}
	return s
}

func dotQ8_0(row []byte, x []float32) float32 {
	var s float32
	for b := 0; b < len(x)/QK; b++ {
		blk := row[b*34 : b*34+34]
		q := blk[2:34]
		xs := x[b*QK : b*QK+QK]
		var bs float32
		for j := 0; j < QK; j += 4 {
			bs += float32(int8(q[j]))*xs[j] + float32(int8(q[j+1]))*xs[j+1] +
				float32(int8(q[j+2]))*xs[j+2] + float32(int8(q[j+3]))*xs[j+3]
		}
		s += F16ToF32(binary.LittleEndian.Uint16(blk)) * bs
	}
	return s
}

func dotQ4_0(row []byte, x []float32) float32 {
	var s float32
	for b := 0; b < len(x)/QK; b++ {
		blk := row[b*18 : b*18+18]
		xs := x[b*QK : b*QK+QK]
		var bs float32
		for j := 0; j < QK/2; j++ {
			q := blk[2+j]
			bs += float32(int(q&15)-8)*xs[j] + float32(int(q>>4)-8)*xs[j+QK/2]
		}
		s += F16ToF32(binary.LittleEndian.Uint16(blk)) * bs
	}
	return s
}

// RMSNorm sets out = x / sqrt(mean(x²) + eps) ⊙ weight.
func RMSNorm(out, x, weight []float32, eps float32) {
	var ss float32
	for _, v := range x {
		ss += v * v
	}
	scale := 1 / float32(math.Sqrt(float64(ss/float32(len(x))+eps)))
	for i, v := range x {
		out[i] = weight[i] * (v * scale)
	}
}

// Softmax replaces x with exp(x − max) / Σ exp(x − max).
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	m := maxOf(x)
	var sum float32
	n := 0
	if useAVX2 {
		n = len(x) &^ 7
		if n > 0 {
			sum = expSubSumAVX2(&x[0], n, m)
		}
	}
	for i := n; i < len(x); i++ {
		x[i] = Exp(x[i] - m)
		sum += x[i]
	}
	scaleBy(1/sum, x)
}

// SwiGLUInPlace sets g[i] = SiLU(g[i])·u[i], the gated activation of LLaMA's
// feed-forward block.
func SwiGLUInPlace(g, u []float32) {
	u = u[:len(g)]
	n := 0
	if useAVX2 {
		n = len(g) &^ 7
		if n > 0 {
			siluMulAVX2(&g[0], &u[0], n)
		}
	}
	for i := n; i < len(g); i++ {
		g[i] = SiLU(g[i]) * u[i]
	}
}

// SiLU returns x·σ(x).
func SiLU(x float32) float32 { return x / (1 + Exp(-x)) }

// GemvT sets out[p] = Σ_{d<len(x)} x[d]·a[d·lda + p] for p < len(out): a
// vector times a row-major block of len(x) rows, each len(out) long and lda
// apart. Attention computes its scores this way against the transposed key
// cache.
func GemvT(out, x, a []float32, lda int) {
	m, n := len(x), len(out)
	if m == 0 {
		clear(out)
		return
	}
	_ = a[(m-1)*lda+n-1]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		gemvTF32AVX2(&x[0], &a[0], lda, m, done, &out[0])
	}
	for p := done; p < n; p++ {
		var s float32
		for d, xd := range x {
			s += xd * a[d*lda+p]
		}
		out[p] = s
	}
}

// Axpy sets y[i] += a·x[i] over len(y) elements.
func Axpy(a float32, x, y []float32) {
	x = x[:len(y)]
	n := 0
	if useAVX2 && len(y) >= 8 {
		n = len(y) &^ 7
		axpyF32AVX2(a, &x[0], &y[0], n)
	}
	for i := n; i < len(y); i++ {
		y[i] += a * x[i]
	}
}

// Add sets dst[i] += src[i].
func Add(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}
