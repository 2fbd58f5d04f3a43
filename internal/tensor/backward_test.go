package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Every backward function is checked against central finite differences of
// a float64 form of its forward, on L = Σ c_i·y_i with random c (so dy = c).
// The float64 forms are written out here from the definitions; the float32
// forwards are checked against them too.

func randVec(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

func to64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// numGrad returns ∂f/∂x by central differences, x perturbed in place.
func numGrad(x []float64, f func() float64) []float64 {
	const h = 1e-6
	g := make([]float64, len(x))
	for i := range x {
		old := x[i]
		x[i] = old + h
		fp := f()
		x[i] = old - h
		fm := f()
		x[i] = old
		g[i] = (fp - fm) / (2 * h)
	}
	return g
}

// closeTo fails when got and want differ by more than tol relative to the
// largest |want|, or to 0.01 when all are smaller (gradients are compared as
// whole tensors; the test inputs are of order 1).
func closeTo(t *testing.T, name string, got []float32, want []float64, tol float64) {
	t.Helper()
	var scale float64
	for _, w := range want {
		scale = max(scale, math.Abs(w))
	}
	scale = max(scale, 0.01)
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol*scale {
			t.Fatalf("%s[%d] = %.9g, want %.9g (diff %.3g, scale %.3g)", name, i, got[i], want[i], d, scale)
		}
	}
}

func dot64(c []float32, y []float64) float64 {
	var s float64
	for i := range y {
		s += float64(c[i]) * y[i]
	}
	return s
}

func rmsnorm64(x, w []float64, eps float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	r := 1 / math.Sqrt(ss/float64(len(x))+eps)
	y := make([]float64, len(x))
	for i := range x {
		y[i] = w[i] * x[i] * r
	}
	return y
}

func TestRMSNormBackward(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{1, 7, 64, 288} {
		x, w, c := randVec(r, n, 1), randVec(r, n, 0.5), randVec(r, n, 1)
		const eps = 1e-5
		x64, w64 := to64(x), to64(w)
		y := make([]float32, n)
		RMSNorm(y, x, w, eps)
		closeTo(t, "y", y, rmsnorm64(x64, w64, eps), 1e-6)

		dx, dw := randVec(r, n, 1), make([]float32, n)
		dx0 := append([]float32(nil), dx...)
		RMSNormBackward(dx, dw, c, x, w, eps)
		for i := range dx {
			dx[i] -= dx0[i] // RMSNormBackward adds
		}
		loss := func() float64 { return dot64(c, rmsnorm64(x64, w64, eps)) }
		closeTo(t, "dx", dx, numGrad(x64, loss), 1e-5)
		closeTo(t, "dw", dw, numGrad(w64, loss), 1e-5)
	}
}

func rope64(x []float64, cos, sin []float64, style RopeStyle) []float64 {
	y := append([]float64(nil), x...)
	n := len(cos)
	for i := 0; i < n; i++ {
		ia, ib := 2*i, 2*i+1
		if style == RopeHalves {
			ia, ib = i, i+n
		}
		a, b := x[ia], x[ib]
		y[ia], y[ib] = a*cos[i]-b*sin[i], a*sin[i]+b*cos[i]
	}
	return y
}

func TestRopeBackward(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, style := range []RopeStyle{RopeInterleaved, RopeHalves} {
		const hd, half = 16, 6 // partial rotation: 12 of 16 dims
		x, c := randVec(r, hd, 1), randVec(r, hd, 1)
		cos, sin := make([]float32, half), make([]float32, half)
		for i := range cos {
			a := r.Float64() * 6
			cos[i], sin[i] = float32(math.Cos(a)), float32(math.Sin(a))
		}
		x64 := to64(x)
		y := append([]float32(nil), x...)
		Rope(y, cos, sin, style)
		closeTo(t, "y", y, rope64(x64, to64(cos), to64(sin), style), 1e-6)
		d := append([]float32(nil), c...)
		RopeBackward(d, cos, sin, style)
		closeTo(t, style.String()+" dx", d, numGrad(x64, func() float64 { return dot64(c, rope64(x64, to64(cos), to64(sin), style)) }), 1e-6)
	}
}

func swiglu64(g, u []float64) []float64 {
	h := make([]float64, len(g))
	for i := range g {
		h[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
	}
	return h
}

func TestSwiGLUBackward(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	const n = 100
	g, u, c := randVec(r, n, 3), randVec(r, n, 1), randVec(r, n, 1)
	g[0], g[1] = 60, -60 // saturated
	g64, u64 := to64(g), to64(u)
	h := make([]float32, n)
	SwiGLU(h, g, u)
	closeTo(t, "h", h, swiglu64(g64, u64), 1e-6)
	dg, du := make([]float32, n), make([]float32, n)
	SwiGLUBackward(dg, du, c, g, u)
	loss := func() float64 { return dot64(c, swiglu64(g64, u64)) }
	closeTo(t, "dg", dg, numGrad(g64, loss), 1e-5)
	closeTo(t, "du", du, numGrad(u64, loss), 1e-5)
}

func ce64(l []float64, target int) float64 {
	m := math.Inf(-1)
	for _, v := range l {
		m = max(m, v)
	}
	var s float64
	for _, v := range l {
		s += math.Exp(v - m)
	}
	return math.Log(s) + m - l[target]
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{2, 10, 512} {
		l := randVec(r, n, 4)
		target := r.IntN(n)
		l64 := to64(l)
		want := ce64(l64, target)
		if got := CrossEntropy(l, target); math.Abs(got-want) > 1e-6*max(1, want) {
			t.Errorf("n=%d: CrossEntropy = %.9g, want %.9g", n, got, want)
		}
		g := append([]float32(nil), l...)
		const scale = 0.25
		if got := SoftmaxCrossEntropy(g, target, scale); math.Abs(got-want) > 1e-6*max(1, want) {
			t.Errorf("n=%d: SoftmaxCrossEntropy = %.9g, want %.9g", n, got, want)
		}
		num := numGrad(l64, func() float64 { return scale * ce64(l64, target) })
		closeTo(t, "dlogits", g, num, 1e-6)
	}
}

// The loss and its gradient over one row of a 32000-token vocabulary, as
// the output head of a LoRA step computes them for every scored position.
func BenchmarkSoftmaxCrossEntropy(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	l := randVec(r, 32000, 4)
	g := make([]float32, len(l))
	for b.Loop() {
		copy(g, l)
		SoftmaxCrossEntropy(g, 123, 0.25)
	}
	b.ReportMetric(float64(len(l))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
}

// attention64 is causal attention of one head by definition: q [T, hd],
// k, v [T, hd], window 0 = all.
func attention64(q, k, v []float64, T, hd, window int, scale float64) []float64 {
	out := make([]float64, T*hd)
	for t := 0; t < T; t++ {
		j0 := 0
		if window > 0 {
			j0 = max(0, t-window+1)
		}
		s := make([]float64, t+1-j0)
		m := math.Inf(-1)
		for j := j0; j <= t; j++ {
			var d float64
			for i := 0; i < hd; i++ {
				d += q[t*hd+i] * k[j*hd+i]
			}
			s[j-j0] = d * scale
			m = max(m, s[j-j0])
		}
		var sum float64
		for i := range s {
			s[i] = math.Exp(s[i] - m)
			sum += s[i]
		}
		for j := j0; j <= t; j++ {
			for i := 0; i < hd; i++ {
				out[t*hd+i] += s[j-j0] / sum * v[j*hd+i]
			}
		}
	}
	return out
}

// gather copies a head's strided rows into a dense [T, hd] float64 array.
func gather(x []float32, T, hd, stride int) []float64 {
	out := make([]float64, T*hd)
	for t := 0; t < T; t++ {
		for i := 0; i < hd; i++ {
			out[t*hd+i] = float64(x[t*stride+i])
		}
	}
	return out
}

func scatter(x []float32, T, hd, stride int) []float32 {
	out := make([]float32, T*hd)
	for t := 0; t < T; t++ {
		copy(out[t*hd:(t+1)*hd], x[t*stride:t*stride+hd])
	}
	return out
}

func TestAttentionHeadBackward(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, tc := range []struct{ T, hd, window int }{{1, 4, 0}, {7, 8, 0}, {9, 6, 3}} {
		// two query heads in a row of stride 2·hd, one kv head of stride hd+2
		qs, ks := 2*tc.hd, tc.hd+2
		a := AttentionHead{T: tc.T, HeadDim: tc.hd, QStride: qs, KVStride: ks, LSEStride: 2,
			Scale: float32(1 / math.Sqrt(float64(tc.hd))), Window: tc.window}
		q, k, v := randVec(r, tc.T*qs, 1), randVec(r, tc.T*ks, 1), randVec(r, tc.T*ks, 1)
		out, lse := make([]float32, tc.T*qs), make([]float32, tc.T*2)
		scores := make([]float32, tc.T)
		h := tc.hd // the second query head
		a.ForwardRef(out[h:], lse, q[h:], k, v, scores)
		q64, k64, v64 := gather(q[h:], tc.T, tc.hd, qs), gather(k, tc.T, tc.hd, ks), gather(v, tc.T, tc.hd, ks)
		want := attention64(q64, k64, v64, tc.T, tc.hd, tc.window, float64(a.Scale))
		closeTo(t, "out", scatter(out[h:], tc.T, tc.hd, qs), want, 1e-6)

		c := randVec(r, tc.T*qs, 1)
		dq, dk, dv := make([]float32, tc.T*qs), make([]float32, tc.T*ks), make([]float32, tc.T*ks)
		a.BackwardRef(dq[h:], dk, dv, c[h:], out[h:], lse, q[h:], k, v)
		cd := scatter(c[h:], tc.T, tc.hd, qs)
		loss := func() float64 {
			return dot64(cd, attention64(q64, k64, v64, tc.T, tc.hd, tc.window, float64(a.Scale)))
		}
		closeTo(t, "dq", scatter(dq[h:], tc.T, tc.hd, qs), numGrad(q64, loss), 1e-5)
		closeTo(t, "dk", scatter(dk, tc.T, tc.hd, ks), numGrad(k64, loss), 1e-5)
		closeTo(t, "dv", scatter(dv, tc.T, tc.hd, ks), numGrad(v64, loss), 1e-5)
		// the other head's rows are untouched
		for t0 := 0; t0 < tc.T; t0++ {
			for i := 0; i < tc.hd; i++ {
				if dq[t0*qs+i] != 0 || out[t0*qs+i] != 0 {
					t.Fatalf("head 0 written at row %d", t0)
				}
			}
		}
	}
}

// The blocked attention equals the row-by-row reference.
func TestAttentionBlocked(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	var w AttentionScratch
	for _, tc := range []struct{ T, hd, window int }{{1, 8, 0}, {50, 16, 0}, {64, 8, 0}, {200, 48, 0}, {150, 8, 70}, {130, 8, 3}, {256, 64, 0}, {100, 64, 40}, {77, 20, 0}} {
		qs, ks := 3*tc.hd, tc.hd+1
		a := AttentionHead{T: tc.T, HeadDim: tc.hd, QStride: qs, KVStride: ks, LSEStride: 3,
			Scale: float32(1 / math.Sqrt(float64(tc.hd))), Window: tc.window}
		q, k, v := randVec(r, tc.T*qs, 1.5), randVec(r, tc.T*ks, 1.5), randVec(r, tc.T*ks, 1)
		outRef, lseRef := make([]float32, tc.T*qs), make([]float32, tc.T*3)
		out, lse := make([]float32, tc.T*qs), make([]float32, tc.T*3)
		a.ForwardRef(outRef, lseRef, q, k, v, make([]float32, tc.T))
		a.Forward(out, lse, q, k, v, &w)
		closeTo(t, "out", out, to64(outRef), 1e-5)
		closeTo(t, "lse", lse, to64(lseRef), 1e-6)

		dout := randVec(r, tc.T*qs, 1)
		dqRef, dkRef, dvRef := randVec(r, tc.T*qs, 1), randVec(r, tc.T*ks, 1), randVec(r, tc.T*ks, 1)
		dq, dk, dv := append([]float32(nil), dqRef...), append([]float32(nil), dkRef...), append([]float32(nil), dvRef...)
		a.BackwardRef(dqRef, dkRef, dvRef, dout, outRef, lseRef, q, k, v)
		a.Backward(dq, dk, dv, dout, out, lse, q, k, v, &w)
		closeTo(t, "dq", dq, to64(dqRef), 1e-5)
		closeTo(t, "dk", dk, to64(dkRef), 1e-5)
		closeTo(t, "dv", dv, to64(dvRef), 1e-5)
	}
}

func TestMatMulDXDW(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	pool := NewPool(3)
	defer pool.Close()
	for _, typ := range allTypes {
		for _, shape := range [][3]int{{1, 3, 32}, {5, 7, 64}, {33, 40, 96}, {4, 2000, 608}} {
			T, rows, cols := shape[0], shape[1], shape[2]
			w, _ := randomMatrix(r, typ, rows, cols)
			dy := randVec(r, T*rows, 1)
			x0 := randVec(r, T*cols, 1)
			got, want := append([]float32(nil), x0...), append([]float32(nil), x0...)
			MatMulDX(pool, got, w, dy, T)
			MatMulDXRef(want, w, dy, T)
			closeTo(t, typ.String()+" dx", got, to64(want), 1e-5)
		}
	}
	for _, shape := range [][3]int{{1, 1, 1}, {7, 5, 3}, {64, 33, 40}, {300, 8, 96}} {
		T, R, C := shape[0], shape[1], shape[2]
		dy, x := randVec(r, T*R, 1), randVec(r, T*C, 1)
		dw0 := randVec(r, R*C, 1)
		got, want := append([]float32(nil), dw0...), append([]float32(nil), dw0...)
		MatMulDW(pool, got, dy, x, T, R, C)
		MatMulDWRef(want, dy, x, T, R, C)
		closeTo(t, "dw", got, to64(want), 1e-5)
	}
}

func TestMatMulTiled(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	pool := NewPool(3)
	defer pool.Close()
	for _, typ := range []DType{F32, F16, Q8_0} {
		for _, shape := range [][3]int{{5, 300, 64}, {300, 70, 64}, {600, 1000, 96}, {257, 523, 32}} {
			T, rows, cols := shape[0], shape[1], shape[2]
			w, _ := randomMatrix(r, typ, rows, cols)
			x := randVec(r, T*cols, 1)
			got, want := make([]float32, T*rows), make([]float32, T*rows)
			MatMulTiled(pool, got, w, x, T)
			MatMul(nil, want, w, x, T)
			closeTo(t, typ.String()+" tiled", got, to64(want), 1e-6)
		}
	}
}

// The tile path of MatMulDX (a weight larger than one transposed tile).
func TestMatMulDXTiles(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	rows, cols, T := dxTileElems/64+5, 64, 3
	w, _ := randomMatrix(r, Q8_0, rows, cols)
	dy := randVec(r, T*rows, 1)
	got, want := make([]float32, T*cols), make([]float32, T*cols)
	MatMulDX(nil, got, w, dy, T)
	MatMulDXRef(want, w, dy, T)
	closeTo(t, "dx", got, to64(want), 1e-5)
}

func TestExpShifted(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{1, 7, 8, 100, 5000} {
		x := randVec(r, n, 20)
		y := make([]float32, n)
		const m = 3
		got := ExpShifted(y, x, m)
		var want float64
		for i, v := range x {
			e := math.Exp(float64(v - m)) // the shift is a float32 subtraction
			want += e
			if d := math.Abs(float64(y[i]) - e); d > 4e-7*e {
				t.Fatalf("n=%d: e^(%g−3) = %g, want %g", n, v, y[i], e)
			}
		}
		if math.Abs(got-want) > 1e-6*want {
			t.Errorf("n=%d: sum %g, want %g", n, got, want)
		}
	}
}

func BenchmarkExpShifted(b *testing.B) {
	b.ReportAllocs()
	x := randVec(rand.New(rand.NewPCG(1, 2)), 4096, 10)
	y := make([]float32, len(x))
	for b.Loop() {
		ExpShifted(y, x, 3)
	}
}

// One head of blocked attention forward and backward at the shape of a
// 110M model's training step (256 positions, head size 64, 12 heads in a
// row), one thread.
func BenchmarkAttentionHead(b *testing.B) {
	r := rand.New(rand.NewPCG(11, 11))
	const T, hd, heads = 256, 64, 12
	a := AttentionHead{T: T, HeadDim: hd, QStride: heads * hd, KVStride: heads * hd, LSEStride: heads,
		Scale: float32(1 / math.Sqrt(hd))}
	q, k, v, dout := randVec(r, T*heads*hd, 1), randVec(r, T*heads*hd, 1), randVec(r, T*heads*hd, 1), randVec(r, T*heads*hd, 1)
	out, lse := make([]float32, T*heads*hd), make([]float32, T*heads)
	dq, dk, dv := make([]float32, T*heads*hd), make([]float32, T*heads*hd), make([]float32, T*heads*hd)
	var w AttentionScratch
	for _, step := range []string{"forward", "backward"} {
		b.Run(step, func(b *testing.B) {
			for b.Loop() {
				if step == "forward" {
					a.Forward(out, lse, q, k, v, &w)
				} else {
					a.Backward(dq, dk, dv, dout, out, lse, q, k, v, &w)
				}
			}
		})
	}
}
