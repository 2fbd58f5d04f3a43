package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// MulStrided against its definition in float64, with X read row-major and
// transposed, P with padded rows, every edge of the 6×16 tiles, and both
// set and add.
func TestMulStrided(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, s := range [][3]int{{1, 1, 1}, {5, 15, 3}, {6, 16, 8}, {8, 17, 8}, {13, 40, 33}, {12, 32, 1}, {1024, 48, 8}, {8, 768, 64}} {
		m, n, K := s[0], s[1], s[2]
		for _, transposed := range []bool{false, true} {
			for _, add := range []bool{false, true} {
				name := fmt.Sprintf("m%d_n%d_K%d_T%v_add%v", m, n, K, transposed, add)
				// X stored [m, K+2] row-major, or [K, m+3] when read transposed
				xi, xk, xlen := K+2, 1, m*(K+2)
				if transposed {
					xi, xk, xlen = 1, m+3, K*(m+3)
				}
				x := randVec(r, xlen, 1)
				pk := n + 5
				p := randVec(r, K*pk, 1)
				ldc := n + 1
				c := randVec(r, m*ldc, 1)
				want := make([]float64, len(c))
				for i := range want {
					want[i] = float64(c[i])
				}
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						var sum float64
						for k := 0; k < K; k++ {
							sum += float64(x[i*xi+k*xk]) * float64(p[k*pk+j])
						}
						if add {
							want[i*ldc+j] += sum
						} else {
							want[i*ldc+j] = sum
						}
					}
				}
				MulStrided(c, ldc, x, xi, xk, p, pk, m, n, K, add)
				for i := range c {
					if math.Abs(float64(c[i])-want[i]) > 1e-5*max(1, math.Abs(want[i])) {
						t.Fatalf("%s: c[%d] = %g, want %g", name, i, c[i], want[i])
					}
				}
			}
		}
	}
}
