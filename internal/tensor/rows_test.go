package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDotRows checks the row-range products against DotRef row by row, for
// row counts that are not multiples of the four-row tile and for row
// lengths with and without an 8-column tail.
func TestDotRows(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, typ := range []DType{F32, F16, BF16, Q8_0} {
		for _, rows := range []int{1, 3, 4, 5, 8, 13, 37} {
			for _, cols := range []int{8, 24, 32, 96, 288, 100} {
				if typ == Q8_0 && cols%QK != 0 {
					continue
				}
				m, _ := randomMatrix(r, typ, rows, cols)
				x := randVec(r, cols, 1)
				rb := typ.RowBytes(cols)
				// rows packed, and rows further apart than their length
				// (attention's value rows, a context apart)
				for _, pad := range []int{0, 3 * rb} {
					stride := rb + pad
					data := make([]byte, (rows-1)*stride+rb)
					for i := range rows {
						copy(data[i*stride:], m.Row(i))
					}
					out := make([]float32, rows)
					DotRows(typ, data, stride, x, out)
					for i := range out {
						want := DotRef(typ, m.Row(i), x)
						if d := math.Abs(float64(out[i] - want)); d > 1e-4*math.Sqrt(float64(cols)) {
							t.Fatalf("%v %d×%d stride %d: row %d = %g, reference %g", typ, rows, cols, stride, i, out[i], want)
						}
					}
				}
			}
		}
	}
}

// BenchmarkMatVecRows is one decode-shaped matrix-vector product (the
// 110M model's 768×768 projections and its 2048×768 FFN) for the plain
// float types.
func BenchmarkMatVecRows(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, typ := range []DType{F32, F16} {
		for _, shape := range [][2]int{{768, 768}, {2048, 768}} {
			m, _ := randomMatrix(r, typ, shape[0], shape[1])
			x := randVec(r, shape[1], 1)
			out := make([]float32, shape[0])
			b.Run(fmt.Sprintf("%v/%dx%d", typ, shape[0], shape[1]), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(m.Data)))
				for b.Loop() {
					MatMul(nil, out, m, x, 1)
				}
			})
		}
	}
}
