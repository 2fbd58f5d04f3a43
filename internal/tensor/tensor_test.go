package tensor

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestF16(t *testing.T) {
	tests := []struct {
		f    float32
		bits uint16
	}{
		{0, 0x0000},
		{1, 0x3c00},
		{-2, 0xc000},
		{65504, 0x7bff},                 // largest half
		{6.103515625e-05, 0x0400},       // smallest normal
		{5.960464477539063e-08, 0x0001}, // smallest subnormal
		{float32(math.Inf(1)), 0x7c00},  // inf
		{0.333251953125, 0x3555},        // 1/3 rounded
		{1.0009765625, 0x3c01},          // 1 + 2^-10
		{1 + 2.0/4096, 0x3c00},          // halfway above even: stays
		{1 + 6.0/4096, 0x3c02},          // halfway above odd: up to even
		{70000, 0x7c00},                 // overflow
	}
	for _, tc := range tests {
		if got := F32ToF16(tc.f); got != tc.bits {
			t.Errorf("F32ToF16(%g) = %#04x, want %#04x", tc.f, got, tc.bits)
		}
	}
	// every half converts to float32 and back unchanged (NaN payloads aside)
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		if f != f {
			continue
		}
		if back := F32ToF16(f); back != uint16(h) {
			t.Fatalf("half %#04x → %g → %#04x", h, f, back)
		}
	}
}

func TestBF16(t *testing.T) {
	tests := []struct {
		f    float32
		bits uint16
	}{
		{1, 0x3f80}, {-1, 0xbf80}, {3.140625, 0x4049}, {1.00390625, 0x3f80}, {1.01171875, 0x3f82},
	}
	for _, tc := range tests {
		if got := F32ToBF16(tc.f); got != tc.bits {
			t.Errorf("F32ToBF16(%g) = %#04x, want %#04x", tc.f, got, tc.bits)
		}
		if back := BF16ToF32(tc.bits); F32ToBF16(back) != tc.bits {
			t.Errorf("BF16 %#04x does not round trip", tc.bits)
		}
	}
}

// Blocks written out by hand from ggml's reference quantizer definitions.
func TestQuantizeBlocks(t *testing.T) {
	x := make([]float32, QK)
	for i := range x {
		x[i] = float32(i) - 12.5 // −12.5 … 18.5
	}
	q8 := Quantize(nil, Q8_0, x)
	if len(q8) != 34 {
		t.Fatalf("q8_0 block is %d bytes", len(q8))
	}
	d := float32(18.5) / 127
	if got := binary.LittleEndian.Uint16(q8); got != F32ToF16(d) {
		t.Errorf("q8_0 scale %#04x, want %#04x", got, F32ToF16(d))
	}
	for i, v := range x {
		want := int8(math.Round(float64(v * (1 / d))))
		if int8(q8[2+i]) != want {
			t.Errorf("q8_0 q[%d] = %d, want %d", i, int8(q8[2+i]), want)
		}
	}
	q4 := Quantize(nil, Q4_0, x)
	if len(q4) != 18 {
		t.Fatalf("q4_0 block is %d bytes", len(q4))
	}
	d4 := float32(18.5) / -8
	if got := binary.LittleEndian.Uint16(q4); got != F32ToF16(d4) {
		t.Errorf("q4_0 scale %#04x, want %#04x", got, F32ToF16(d4))
	}
	// the largest value maps to −8 (nibble 0); the most negative clamps at 15
	if lo := q4[2+15] >> 4; lo != 0 {
		t.Errorf("nibble of max value = %d, want 0", lo)
	}
	// x[0] = −12.5: −12.5/−2.3125 + 8.5 = 13.9 → 13
	if lo := q4[2] & 15; lo != 13 {
		t.Errorf("nibble of x[0] = %d, want 13", lo)
	}
	// dequantization reproduces values within half a step
	for _, tc := range []struct {
		typ  DType
		blk  []byte
		step float32
	}{{Q8_0, q8, d}, {Q4_0, q4, -d4}} {
		y := make([]float32, QK)
		Dequantize(y, tc.typ, tc.blk, QK)
		for i := range x {
			if e := abs32(y[i] - x[i]); e > tc.step*0.51+1e-3 && !(tc.typ == Q4_0 && x[i] < -8*tc.step) {
				t.Errorf("%v: x[%d]=%g dequantized to %g", tc.typ, i, x[i], y[i])
			}
		}
	}
}

var allTypes = []DType{F32, F16, BF16, Q8_0, Q4_0}

func randomMatrix(r *rand.Rand, typ DType, rows, cols int) (Matrix, []float32) {
	f := make([]float32, rows*cols)
	for i := range f {
		f[i] = float32(r.NormFloat64())
	}
	data := Quantize(nil, typ, f)
	m := Matrix{Type: typ, Rows: rows, Cols: cols, Data: data}
	// the values the stored matrix really holds
	Dequantize(f, typ, data, rows*cols)
	return m, f
}

func TestDotMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range allTypes {
		for _, n := range []int{32, 64, 96, 288, 4096} {
			m, _ := randomMatrix(r, typ, 1, n)
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			got, want := Dot(typ, m.Row(0), x), DotRef(typ, m.Row(0), x)
			if d := math.Abs(float64(got - want)); d > 1e-4*math.Sqrt(float64(n)) {
				t.Errorf("%v n=%d: Dot = %g, reference %g", typ, n, got, want)
			}
		}
	}
	// float types also at lengths that are not a multiple of the unroll
	for _, typ := range []DType{F32, F16, BF16} {
		for _, n := range []int{1, 3, 7, 33} {
			m, _ := randomMatrix(r, typ, 1, n)
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(i) - 2
			}
			if got, want := Dot(typ, m.Row(0), x), DotRef(typ, m.Row(0), x); math.Abs(float64(got-want)) > 1e-4 {
				t.Errorf("%v n=%d: Dot = %g, reference %g", typ, n, got, want)
			}
		}
	}
}

func TestMatMulMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pool := NewPool(3)
	defer pool.Close()
	// shapes [T, rows, cols]: block tails, rows not a multiple of 4, tokens
	// not a multiple of 3, cols not a multiple of 8 (float types only)
	shapes := [][3]int{{1, 1, 32}, {7, 5, 64}, {1, 33, 96}, {4, 172, 64}, {9, 64, 192}, {3, 8, 32}, {128, 67, 288}}
	for _, typ := range allTypes {
		cases := shapes
		if typ.BlockSize() == 1 {
			cases = append(cases, [3]int{5, 9, 172}, [3]int{1, 3, 13}, [3]int{6, 11, 7})
		}
		for _, shape := range cases {
			T, rows, cols := shape[0], shape[1], shape[2]
			m, w := randomMatrix(r, typ, rows, cols)
			x := make([]float32, T*cols)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			for _, p := range []*Pool{nil, pool} {
				assertMatMul(t, p, m, w, x, T)
			}
		}
	}
}

// assertMatMul checks MatMul(p, out, m, x, T) against the reference of the
// path it takes: with one token and AVX2, quantized activations times the
// stored blocks (exact integer sums); otherwise a float64 product with w,
// the values m holds.
func assertMatMul(t *testing.T, p *Pool, m Matrix, w, x []float32, T int) {
	t.Helper()
	rows, cols := m.Rows, m.Cols
	out := make([]float32, T*rows)
	MatMul(p, out, m, x, T)
	for tt := 0; tt < T; tt++ {
		xt := x[tt*cols : (tt+1)*cols]
		var ref func(row []byte) float32
		if T == 1 && useAVX2 {
			switch m.Type {
			case Q8_0, Q4_0:
				var a Q8Act
				a.Quantize(xt)
				ref = func(row []byte) float32 { return DotQ8ActRef(m.Type, row, &a) }
			case Q4_K, Q5_K, Q6_K:
				var a Q8KAct
				a.Quantize(xt)
				ref = func(row []byte) float32 { return DotQ8KActRef(m.Type, row, &a) }
			}
		}
		for i := 0; i < rows; i++ {
			var want float64
			if ref != nil {
				want = float64(ref(m.Row(i)))
			} else {
				for j := 0; j < cols; j++ {
					want += float64(w[i*cols+j]) * float64(xt[j])
				}
			}
			if d := math.Abs(float64(out[tt*rows+i]) - want); d > 1e-4*math.Sqrt(float64(cols)) {
				t.Fatalf("%v T=%d %dx%d: out[%d,%d] = %g, want %g", m.Type, T, rows, cols, tt, i, out[tt*rows+i], want)
			}
		}
	}
}

// The SIMD dequantizers equal the reference bit for bit.
func TestDequantizeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, typ := range allTypes {
		for _, n := range []int{32, 64, 96, 800} {
			f := make([]float32, n)
			for i := range f {
				f[i] = float32(r.NormFloat64())
			}
			data := Quantize(nil, typ, f)
			got, want := make([]float32, n), make([]float32, n)
			Dequantize(got, typ, data, n)
			DequantizeRef(want, typ, data, n)
			if !slices.Equal(got, want) {
				t.Errorf("%v n=%d: SIMD and reference dequantization differ", typ, n)
			}
		}
	}
}

// The SIMD dot products equal the plain-Go ones at every length, tails
// included.
func TestDotKernelsAllLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, typ := range []DType{F32, F16, BF16} {
		for n := 1; n <= 80; n++ {
			m, w := randomMatrix(r, typ, 1, n)
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			var want float64
			for i := range x {
				want += float64(w[i]) * float64(x[i])
			}
			if got := Dot(typ, m.Row(0), x); math.Abs(float64(got)-want) > 1e-5*math.Sqrt(float64(n)) {
				t.Fatalf("%v n=%d: Dot = %g, want %g", typ, n, got, want)
			}
		}
	}
}

func TestExp(t *testing.T) {
	ulp := func(f float32) float64 {
		return float64(math.Nextafter32(f, float32(math.Inf(1))) - f)
	}
	check := func(x float32) {
		want := math.Exp(float64(x))
		got := Exp(x)
		if math.IsInf(want, 1) || want > math.MaxFloat32 {
			if !math.IsInf(float64(got), 1) {
				t.Fatalf("Exp(%g) = %g, want +Inf", x, got)
			}
			return
		}
		if d := math.Abs(float64(got) - want); d > 2*ulp(float32(want)) {
			t.Fatalf("Exp(%g) = %g, want %g (%.1f ulp)", x, got, want, d/ulp(float32(want)))
		}
	}
	for x := float32(-104); x < 89; x += 0.0137 {
		check(x)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 200000; i++ {
		check(float32(r.Float64()*40 - 20))
	}
	for _, x := range []float32{0, -0, 1e-8, -1e-8, 88.72, -87.3, -100, 89, -110} {
		check(x)
	}
	if Exp(float32(math.NaN())) == Exp(float32(math.NaN())) {
		t.Error("Exp(NaN) is not NaN")
	}
}

// The vectorised exponentials of Softmax and SwiGLU equal the scalar ones.
func TestVectorExp(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1, 7, 8, 9, 64, 100, 1001} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * 30)
		}
		x[0] = 200 // a very confident logit
		p := slices.Clone(x)
		Softmax(p)
		var m float64 = -math.MaxFloat64
		for _, v := range x {
			m = max(m, float64(v))
		}
		var sum float64
		for _, v := range x {
			sum += math.Exp(float64(v) - m)
		}
		for i, v := range x {
			if want := math.Exp(float64(v)-m) / sum; math.Abs(float64(p[i])-want) > 2e-7*want+1e-37 {
				t.Fatalf("n=%d: softmax[%d] = %g, want %g", n, i, p[i], want)
			}
		}
		g, u := slices.Clone(x), make([]float32, n)
		for i := range u {
			g[i] /= 5 // a realistic gate range
			u[i] = float32(r.NormFloat64())
		}
		want := make([]float64, n)
		for i := range g {
			want[i] = float64(g[i]) / (1 + math.Exp(-float64(g[i]))) * float64(u[i])
		}
		SwiGLUInPlace(g, u)
		for i := range g {
			if math.Abs(float64(g[i])-want[i]) > 1e-6*math.Abs(want[i])+1e-30 {
				t.Fatalf("n=%d: SwiGLUInPlace[%d] = %g, want %g", n, i, g[i], want[i])
			}
		}
	}
}

func BenchmarkExp(b *testing.B) {
	x := make([]float32, 1024)
	for i := range x {
		x[i] = float32(i)/64 - 8
	}
	b.Run("Exp", func(b *testing.B) {
		for b.Loop() {
			for _, v := range x {
				Exp(v)
			}
		}
	})
	b.Run("math.Exp", func(b *testing.B) {
		for b.Loop() {
			for _, v := range x {
				_ = float32(math.Exp(float64(v)))
			}
		}
	})
}

func TestGemvT(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, m := range []int{1, 8, 48, 64} {
		for _, n := range []int{1, 7, 8, 31, 32, 33, 100} {
			lda := n + 5
			a := make([]float32, m*lda)
			x := make([]float32, m)
			for i := range a {
				a[i] = float32(r.NormFloat64())
			}
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			out := make([]float32, n)
			GemvT(out, x, a, lda)
			for p := range out {
				var want float64
				for d := range x {
					want += float64(x[d]) * float64(a[d*lda+p])
				}
				if math.Abs(float64(out[p])-want) > 1e-5*math.Sqrt(float64(m)) {
					t.Fatalf("m=%d n=%d: out[%d] = %g, want %g", m, n, p, out[p], want)
				}
			}
		}
	}
}

func TestAxpy(t *testing.T) {
	for n := 0; n <= 70; n++ {
		x, y, want := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(i)*0.5-3, float32(n-i)
			want[i] = y[i] + 1.5*x[i]
		}
		Axpy(1.5, x, y)
		for i := range y {
			if y[i] != want[i] {
				t.Fatalf("n=%d: y[%d] = %g, want %g", n, i, y[i], want[i])
			}
		}
	}
}

// maxOf (AVX2 lanes and the Go tail) equals the plain maximum wherever the
// largest element sits, negative and −Inf values included; scaleBy equals
// the product element by element.
func TestMaxOfScaleBy(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	inf := float32(math.Inf(-1))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 64, 100, 32000} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64()) - 50
		}
		if n > 2 {
			x[n/3] = inf
		}
		for _, at := range []int{0, n / 2, n - 1} {
			if n == 0 {
				if got := maxOf(x); got != inf {
					t.Fatalf("n=0: maxOf = %g, want -Inf", got)
				}
				break
			}
			y := append([]float32(nil), x...)
			y[at] = 3.25
			if got, ref := maxOf(y), maxOfGo(y); got != 3.25 || ref != 3.25 {
				t.Errorf("n=%d, largest at %d: maxOf = %g, maxOfGo = %g, want 3.25", n, at, got, ref)
			}
		}
		y := append([]float32(nil), x...)
		scaleBy(-0.75, y)
		for i := range y {
			if want := x[i] * -0.75; y[i] != want {
				t.Fatalf("n=%d: scaleBy: y[%d] = %g, want %g", n, i, y[i], want)
			}
		}
	}
}

// Quantized-activation dot products: the SIMD kernel equals the Go
// reference, and both stay within the activation rounding of the f32 dot.
func TestDotQ8Act(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, typ := range []DType{Q8_0, Q4_0} {
		for _, n := range []int{32, 64, 96, 288, 768, 2048} {
			m, w := randomMatrix(r, typ, 1, n)
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			var a Q8Act
			a.Quantize(x)
			ref := DotQ8ActRef(typ, m.Row(0), &a)
			if got := DotQ8Act(typ, m.Row(0), &a); math.Abs(float64(got-ref)) > 1e-5*(1+math.Abs(float64(ref))) {
				t.Errorf("%v n=%d: DotQ8Act = %g, reference %g", typ, n, got, ref)
			}
			// each activation moves by at most half its block's step
			var exact, bound float64
			for i := range x {
				exact += float64(w[i]) * float64(x[i])
				bound += math.Abs(float64(w[i])) * float64(a.D[i/QK]) / 2
			}
			if d := math.Abs(float64(ref) - exact); d > bound+1e-4 {
				t.Errorf("%v n=%d: quantized dot %g, f32 dot %g: |Δ| %g > bound %g", typ, n, ref, exact, d, bound)
			}
		}
	}
	// quantizing activations: d = max|x|/127, q = round(x/d)
	var a Q8Act
	x := make([]float32, 32)
	for i := range x {
		x[i] = float32(i) - 10
	}
	a.Quantize(x)
	if a.D[0] != 21.0/127 || a.Q[31] != 127 || a.Q[0] != int8(math.Round(-10*127/21.0)) {
		t.Errorf("Quantize: d %g, q %v", a.D[0], a.Q)
	}
}

func TestPoolCoversRange(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		p := NewPool(threads)
		for _, n := range []int{0, 1, 2, 5, 100} {
			seen := make([]int, n)
			p.Run(n, func(_, lo, hi int) {
				for i := lo; i < hi; i++ {
					seen[i]++
				}
			})
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("threads=%d n=%d: index %d visited %d times", threads, n, i, c)
				}
			}
		}
		p.Close()
	}
}

func TestRope(t *testing.T) {
	// a 90° rotation of each pair
	cos, sin := []float32{0, 0}, []float32{1, 1}
	x := []float32{1, 2, 3, 4}
	Rope(x, cos, sin, RopeInterleaved)
	if fmt.Sprint(x) != "[-2 1 -4 3]" {
		t.Errorf("interleaved: %v", x)
	}
	x = []float32{1, 2, 3, 4}
	Rope(x, cos, sin, RopeHalves)
	if fmt.Sprint(x) != "[-3 -4 1 2]" {
		t.Errorf("halves: %v", x)
	}
}

func TestRMSNormSoftmax(t *testing.T) {
	out := make([]float32, 2)
	RMSNorm(out, []float32{3, 4}, []float32{1, 2}, 0)
	// rms = sqrt(12.5)
	if math.Abs(float64(out[0])-3/math.Sqrt(12.5)) > 1e-6 || math.Abs(float64(out[1])-8/math.Sqrt(12.5)) > 1e-6 {
		t.Errorf("RMSNorm = %v", out)
	}
	p := []float32{1, 2, 3}
	Softmax(p)
	e := []float64{math.Exp(-2), math.Exp(-1), 1}
	s := e[0] + e[1] + e[2]
	for i := range p {
		if math.Abs(float64(p[i])-e[i]/s) > 1e-6 {
			t.Errorf("softmax[%d] = %g, want %g", i, p[i], e[i]/s)
		}
	}
}

func BenchmarkDotF32(b *testing.B) {
	x := make([]float32, 4096)
	y := make([]float32, 4096)
	b.SetBytes(8 * 4096)
	for _, impl := range []struct {
		name string
		dot  func(a, b []float32) float32
	}{{"go", dotF32Go}, {"dispatch", DotF32}} {
		b.Run(impl.name, func(b *testing.B) {
			for b.Loop() {
				impl.dot(x, y)
			}
		})
	}
}

func BenchmarkMatVec(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, typ := range slices.Concat(allTypes, kTypes) {
		m, _ := randomMatrix(r, typ, 768, 768)
		x := make([]float32, 768)
		out := make([]float32, 768)
		b.Run(typ.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(m.Data)))
			for b.Loop() {
				MatMul(nil, out, m, x, 1)
			}
		})
	}
}

func BenchmarkMatMul(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	const T = 32
	for _, typ := range slices.Concat(allTypes, kTypes) {
		m, _ := randomMatrix(r, typ, 768, 768)
		x := make([]float32, T*768)
		out := make([]float32, T*768)
		b.Run(typ.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				MatMul(nil, out, m, x, T)
			}
			b.ReportMetric(float64(2*T*768*768)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
