package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The outer-product form of MatMul (T ≥ gemmMinT) against a float64
// reference over the dequantized weights, at shapes with a partial tile in
// every dimension: T % 6, rows % 16 (also per worker: a pool of 3 splits the
// rows unevenly), K % 8, and K over gemmKC (several panel chunks).
func TestGemmMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	pool := NewPool(3)
	defer pool.Close()
	floatK := []int{1, 7, 8, 48, 172, 288, 800}
	cols := map[DType][]int{
		F32: floatK, F16: floatK, BF16: floatK,
		Q8_0: {32, 288, 544}, Q4_0: {32, 288, 544},
		Q4_K: {256, 768}, Q5_K: {256, 768}, Q6_K: {256, 768},
	}
	for _, typ := range slices.Concat(allTypes, kTypes) {
		for _, K := range cols[typ] {
			for _, rows := range []int{1, 5, 16, 17, 40} {
				m, w := randomMatrix(r, typ, rows, K)
				for T := 1; T <= 13; T++ {
					x := make([]float32, T*K)
					for i := range x {
						x[i] = float32(r.NormFloat64())
					}
					for _, p := range []*Pool{nil, pool} {
						name := fmt.Sprintf("%v T=%d rows=%d K=%d pool=%v", typ, T, rows, K, p != nil)
						checkMatMul(t, name, p, m, w, x, T)
					}
				}
			}
		}
	}
}

// checkMatMul compares MatMul with the float64 product of x and the
// dequantized weights w. T = 1 with Q8_0/Q4_0/k-quants runs on quantized
// activations and is not compared here (TestMatMulMatchesReference covers it).
func checkMatMul(t *testing.T, name string, p *Pool, m Matrix, w, x []float32, T int) {
	t.Helper()
	if T == 1 && m.Type != F32 && m.Type != F16 && m.Type != BF16 {
		return
	}
	R, K := m.Rows, m.Cols
	out := make([]float32, T*R)
	for i := range out {
		out[i] = float32(math.NaN()) // every output must be written
	}
	MatMul(p, out, m, x, T)
	for tt := 0; tt < T; tt++ {
		for i := 0; i < R; i++ {
			var want, mag float64
			for k := 0; k < K; k++ {
				v := float64(w[i*K+k]) * float64(x[tt*K+k])
				want += v
				mag += math.Abs(v)
			}
			got := float64(out[tt*R+i])
			if d := math.Abs(got - want); !(d <= 1e-6*mag+1e-6) {
				t.Fatalf("%s: out[%d,%d] = %g, want %g", name, tt, i, got, want)
			}
		}
	}
}

// The tile kernel in use (assembly with AVX2) equals gemm6x16Go, replacing
// and adding, at odd k and strides.
func TestGemm6x16(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	for _, k := range []int{1, 2, 3, 64, 255} {
		for _, add := range []bool{false, true} {
			ldx, ldc := k+3, 21
			x, panel := randVec(r, 5*ldx+k, 1), randVec(r, k*gemmCols, 1)
			c0 := randVec(r, 5*ldc+gemmCols, 1)
			got, want := slices.Clone(c0), slices.Clone(c0)
			gemm6x16(x, ldx, panel, k, got, ldc, add)
			gemm6x16Go(x, ldx, panel, k, want, ldc, add)
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("k=%d add=%v: c[%d] = %g, want %g", k, add, i, got[i], want[i])
				}
			}
		}
	}
}

// The packed panel holds W transposed, zero past the rows of a partial block.
func TestGemmPack(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2: the outer-product form is not used")
	}
	r := rand.New(rand.NewPCG(23, 24))
	for _, typ := range []DType{F32, Q8_0} {
		for _, n := range []int{16, 11} {
			const K = 96
			m, w := randomMatrix(r, typ, 20, K)
			j := &matmulJob{w: m, T: gemmMinT}
			var s gemmScratch
			s.size(gemmMinT, K)
			for _, k0 := range []int{0, 32} {
				kn := K - k0
				panel := j.pack(&s, 3, n, k0, kn)
				for k := 0; k < kn; k++ {
					for i := 0; i < gemmCols; i++ {
						want := float32(0)
						if i < n {
							want = w[(3+i)*K+k0+k]
						}
						if got := panel[k*gemmCols+i]; got != want {
							t.Fatalf("%v n=%d k0=%d: panel[%d,%d] = %g, want %g", typ, n, k0, k, i, got, want)
						}
					}
				}
			}
		}
	}
}

// MatMul at the prompt and training shapes of small models, single-threaded:
// [T, rows, cols] of the QKV/output projections (288, 768), the FFN, an
// attention head (48) and a training chunk (rowChunk = 256).
func BenchmarkMatMulShapes(b *testing.B) {
	r := rand.New(rand.NewPCG(25, 26))
	for _, s := range [][3]int{{256, 288, 288}, {256, 768, 288}, {256, 288, 768}, {256, 256, 48}, {256, 512, 512}, {64, 2048, 768}, {32, 768, 2048}} {
		T, rows, cols := s[0], s[1], s[2]
		m, _ := randomMatrix(r, F32, rows, cols)
		x := make([]float32, T*cols)
		out := make([]float32, T*rows)
		b.Run(fmt.Sprintf("T%d_R%d_K%d", T, rows, cols), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				MatMul(nil, out, m, x, T)
			}
			b.ReportMetric(float64(2*T*rows*cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// The tile kernel alone with its operands in L1 (a 6 × kc input tile and a
// kc × 16 panel, used over and over): the ceiling every product built on
// it is measured against.
func BenchmarkGemmKernelL1(b *testing.B) {
	for _, kc := range []int{64, 192, 256} {
		x, panel, c := make([]float32, gemmRows*kc), make([]float32, kc*gemmCols), make([]float32, gemmRows*gemmCols)
		b.Run(fmt.Sprintf("kc%d", kc), func(b *testing.B) {
			const calls = 100
			for b.Loop() {
				for range calls {
					gemm6x16(x, kc, panel, kc, c, gemmCols, true)
				}
			}
			b.ReportMetric(float64(2*gemmRows*gemmCols*kc*calls)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
