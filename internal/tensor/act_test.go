package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The multi-row kernels equal the plain-Go dot of each row, for row counts
// around the tiles of eight and four and for block counts with odd tails.
func TestDotQ8ActRows(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, typ := range []DType{Q8_0, Q4_0} {
		for _, rows := range []int{1, 3, 4, 7, 8, 9, 12, 15, 16, 17, 33, 40} {
			for _, cols := range []int{32, 96, 288, 800} {
				m, _ := randomMatrix(r, typ, rows, cols)
				x := make([]float32, cols)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				var a Q8Act
				a.Quantize(x)
				out := make([]float32, rows)
				DotQ8ActRows(typ, m.Data, m.Type.RowBytes(cols), &a, out)
				for i, got := range out {
					want := DotQ8ActRef(typ, m.Row(i), &a)
					if math.Abs(float64(got-want)) > 1e-5*(1+math.Abs(float64(want))) {
						t.Fatalf("%v %dx%d: row %d = %g, reference %g", typ, rows, cols, i, got, want)
					}
				}
			}
		}
	}
}

// The SIMD activation quantizer equals the plain-Go one bit for bit,
// including halves (math.Round rounds them away from zero) and zero blocks.
func TestQ8ActQuantizeSIMD(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	for _, n := range []int{32, 96, 288, 768, 2048} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * math.Pow(10, float64(i/32%5-2)))
		}
		if n >= 96 {
			for i := 32; i < 64; i++ {
				x[i] = float32(i%9) - 4.5 // d = 4.5/127: x/d lands near halves
			}
			x[64] = 127 // d = 1: x/d lands on halves
			for i := 65; i < 96; i++ {
				x[i] = float32(i%11) - 5.5
			}
		}
		if n >= 288 {
			clear(x[128:160]) // d = 0
		}
		var a, ref Q8Act
		a.Quantize(x)
		ref.Q, ref.D, ref.S = make([]int8, n), make([]float32, n/QK), make([]float32, n/QK)
		ref.quantizeRef(x)
		if !slices.Equal(a.Q, ref.Q) || !slices.Equal(a.D, ref.D) || !slices.Equal(a.S, ref.S) {
			t.Errorf("n=%d: SIMD and reference quantization differ", n)
		}
	}
}

// Decode-sized Q4_0 products (the 15M and 110M shapes' projections, FFN
// and output head) on one thread, and the activation quantizer they start
// with.
func BenchmarkQ4_0MatVec(b *testing.B) {
	r := rand.New(rand.NewPCG(45, 46))
	for _, shape := range [][2]int{{288, 288}, {768, 288}, {32000, 288}, {768, 768}, {2048, 768}, {768, 2048}, {32000, 768}} {
		m, _ := randomMatrix(r, Q4_0, shape[0], shape[1])
		x := make([]float32, shape[1])
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		out := make([]float32, shape[0])
		b.Run(fmt.Sprintf("%dx%d", shape[0], shape[1]), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(m.Data)))
			for b.Loop() {
				MatMul(nil, out, m, x, 1)
			}
		})
	}
	x := make([]float32, 2048)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	var a Q8Act
	b.Run("quantize2048", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a.Quantize(x)
		}
	})
}
