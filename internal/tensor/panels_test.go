package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// MatMulPanels, with weights packed as they are (PackPanels) and transposed
// (PackPanelsT), against a float64 product, replacing and adding, at shapes
// with a partial tile in every dimension and K over one panel chunk; also
// the pure-Go form.
func TestMatMulPanelsMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	pool := NewPool(3)
	defer pool.Close()
	for _, typ := range []DType{F32, F16, Q8_0} {
		for _, shape := range [][2]int{{16, 32}, {17, 64}, {40, 96}, {5, 544}, {48, 800}, {20, 1504}} {
			rows, cols := shape[0], shape[1]
			m, w := randomMatrix(r, typ, rows, cols)
			forms := []struct {
				name    string
				p       Panels
				rows, k int
				at      func(i, k int) float32
			}{
				{"W", PackPanels(pool, m), rows, cols, func(i, k int) float32 { return w[i*cols+k] }},
				{"Wᵀ", PackPanelsT(pool, m), cols, rows, func(i, k int) float32 { return w[k*cols+i] }},
			}
			for _, f := range forms {
				for _, T := range []int{1, 6, 7, 13, 301} {
					x := make([]float32, T*f.k)
					for i := range x {
						x[i] = float32(r.NormFloat64())
					}
					base := make([]float32, T*f.rows)
					for i := range base {
						base[i] = float32(r.NormFloat64())
					}
					for _, add := range []bool{false, true} {
						for _, goForm := range []bool{false, true} {
							for _, p := range []*Pool{nil, pool} {
								out := make([]float32, len(base))
								for i := range out {
									out[i] = float32(math.NaN())
								}
								if add {
									copy(out, base)
								}
								if goForm {
									j := &panelsJob{out: out, w: f.p, x: x, T: T, add: add}
									j.runGo(0, 0, f.p.numPanels())
								} else {
									MatMulPanels(p, out, f.p, x, T, add)
								}
								name := fmt.Sprintf("%v %s rows=%d K=%d T=%d add=%v go=%v pool=%v", typ, f.name, f.rows, f.k, T, add, goForm, p != nil)
								for tt := 0; tt < T; tt++ {
									for i := 0; i < f.rows; i++ {
										var want, mag float64
										if add {
											want = float64(base[tt*f.rows+i])
										}
										for k := 0; k < f.k; k++ {
											v := float64(f.at(i, k)) * float64(x[tt*f.k+k])
											want += v
											mag += math.Abs(v)
										}
										got := float64(out[tt*f.rows+i])
										if d := math.Abs(got - want); !(d <= 1e-6*mag+1e-5) {
											t.Fatalf("%s: out[%d,%d] = %g, want %g", name, tt, i, got, want)
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// MatMulPanels at the shapes of a LoRA step of a 110M model (T = 1024 rows
// of the batch; dim 768, hidden 2048, vocabulary 32000), one thread.
func BenchmarkMatMulPanels(b *testing.B) {
	r := rand.New(rand.NewPCG(25, 26))
	for _, s := range [][3]int{{1024, 768, 768}, {1024, 2048, 768}, {1024, 768, 2048}, {1024, 32000, 768}, {1024, 768, 32000}} {
		T, rows, cols := s[0], s[1], s[2]
		m, _ := randomMatrix(r, F32, rows, cols)
		w := PackPanels(nil, m)
		x := make([]float32, T*cols)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		out := make([]float32, T*rows)
		b.Run(fmt.Sprintf("T%d_R%d_K%d", T, rows, cols), func(b *testing.B) {
			for b.Loop() {
				MatMulPanels(nil, out, w, x, T, false)
			}
			b.ReportMetric(float64(2*T*rows*cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
