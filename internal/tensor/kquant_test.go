package tensor

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

var kTypes = []DType{Q4_K, Q5_K, Q6_K}

// kquantRef holds testdata/kquant-*: 16 crafted rows of 256 floats and
// the blocks llama.cpp's llama-quantize made of them (README.md).
func kquantRef(t testing.TB) (src []float32, blocks map[DType][]byte) {
	raw, err := os.ReadFile("testdata/kquant-src.f32")
	if err != nil {
		t.Fatal(err)
	}
	src = make([]float32, len(raw)/4)
	for i := range src {
		src[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	blocks = map[DType][]byte{}
	for typ, name := range map[DType]string{Q4_K: "q4_k", Q5_K: "q5_k", Q6_K: "q6_k"} {
		b, err := os.ReadFile("testdata/kquant-" + name + ".bin")
		if err != nil {
			t.Fatal(err)
		}
		blocks[typ] = b
	}
	return src, blocks
}

// Our quantizers write llama.cpp's bytes, row kinds chosen for their edge
// cases (zeros, constants, one sign, outliers, subnormal and huge scales,
// rounding ties).
func TestKQuantMatchesLlamaCpp(t *testing.T) {
	src, ref := kquantRef(t)
	for _, typ := range kTypes {
		got := Quantize(nil, typ, src)
		want := ref[typ]
		if len(got) != len(want) {
			t.Fatalf("%v: %d bytes, llama.cpp %d", typ, len(got), len(want))
		}
		bb := typ.RowBytes(QK_K)
		for r := 0; r < len(src)/QK_K; r++ {
			if g, w := got[r*bb:(r+1)*bb], want[r*bb:(r+1)*bb]; !bytes.Equal(g, w) {
				t.Errorf("%v row %d:\n got  %x\n want %x", typ, r, g, w)
			}
		}
	}
}

// Dequantizing llama.cpp's blocks gives back its Gaussian rows (11..15)
// with the error each format is known for: a misread layout is far off.
func TestKQuantDequantizeLlamaCpp(t *testing.T) {
	src, ref := kquantRef(t)
	for _, tc := range []struct {
		typ    DType
		maxRel float64 // RMS error / RMS value
	}{{Q4_K, 0.1}, {Q5_K, 0.05}, {Q6_K, 0.025}} {
		got, def := make([]float32, len(src)), make([]float32, len(src))
		Dequantize(got, tc.typ, ref[tc.typ], len(src))
		DequantizeRef(def, tc.typ, ref[tc.typ], len(src))
		if !slices.Equal(got, def) {
			t.Errorf("%v: Dequantize and DequantizeRef differ", tc.typ)
		}
		for r := 11; r < 16; r++ {
			var e, s float64
			for i := r * QK_K; i < (r+1)*QK_K; i++ {
				e += math.Pow(float64(got[i]-src[i]), 2)
				s += math.Pow(float64(src[i]), 2)
			}
			if rel := math.Sqrt(e / s); rel > tc.maxRel {
				t.Errorf("%v row %d: relative RMS error %.3f > %.3f", tc.typ, r, rel, tc.maxRel)
			}
		}
		// the all-zero row stays zero, the constant row within f16 rounding
		for i := 0; i < QK_K; i++ {
			if got[i] != 0 || math.Abs(float64(got[QK_K+i])-0.5) > 1e-3 {
				t.Fatalf("%v: zero/constant rows dequantize to %g, %g", tc.typ, got[i], got[QK_K+i])
			}
		}
	}
}

func TestScaleMinK4(t *testing.T) {
	// scales 1..8 and mins 40..47, packed by hand: for j ≥ 4 the low
	// nibbles sit in bytes 8..11 and the top two bits in bits 6-7 of
	// bytes j−4 (scale) and j (min)
	ls := [8]uint8{1, 2, 3, 4, 5, 6, 7, 8}
	lm := [8]uint8{40, 41, 42, 43, 44, 45, 46, 47}
	want := []byte{
		1, 2, 3, 4, // scales 0..3, no high bits of scales 4..7 (all < 16)
		40 | 2<<6, 41 | 2<<6, 42 | 2<<6, 43 | 2<<6, // mins 0..3 | top bits of mins 4..7 (44>>4 = 2)
		5 | (44&15)<<4, 6 | (45&15)<<4, 7 | (46&15)<<4, 8 | (47&15)<<4,
	}
	var got [12]byte
	packScaleMinK4(got[:], &ls, &lm)
	if !bytes.Equal(got[:], want) {
		t.Fatalf("packed % x, want % x", got, want)
	}
	for j := 0; j < 8; j++ {
		if sc, m := scaleMinK4(j, want); sc != ls[j] || m != lm[j] {
			t.Errorf("j=%d: scale %d min %d, want %d %d", j, sc, m, ls[j], lm[j])
		}
	}
}

// Blocks laid out by hand from ggml-common.h, values worked out by hand.
func TestKQuantDequantizeBlocks(t *testing.T) {
	// Q4_K: d = 0.5, dmin = 0.25, sub-block 0: scale 2, min 4; sub-block 1:
	// scale 3, min 1; sub-block 7: scale 63, min 0.
	q4 := make([]byte, q4KBytes)
	binary.LittleEndian.PutUint16(q4[0:], 0x3800) // 0.5
	binary.LittleEndian.PutUint16(q4[2:], 0x3400) // 0.25
	ls := [8]uint8{2, 3, 0, 0, 0, 0, 0, 63}
	lm := [8]uint8{4, 1, 0, 0, 0, 0, 0, 0}
	packScaleMinK4(q4[4:16], &ls, &lm)
	q4[16+5] = 0x9c // weight 5: nibble 12; weight 37: nibble 9
	q4[16+96+31] = 0xf0
	// weight 5 = 0.5·2·12 − 0.25·4 = 11; weight 37 = 0.5·3·9 − 0.25·1 = 13.25;
	// weight 6 = 0.5·2·0 − 1 = −1; weight 255 (sub-block 7, nibble 15) = 0.5·63·15
	// and Q5_K with the same scales and weight 37's fifth bit set (qh[5] bit 1):
	// 0.5·3·(9+16) − 0.25 = 37.25; weight 255: bit 7 of qh[31] unset
	q5 := make([]byte, q5KBytes)
	copy(q5, q4[:16])
	copy(q5[48:], q4[16:])
	q5[16+5] = 0x02
	// Q6_K: d = 2, group g has scale g−8. Weight 0: ql[0]&15 = 3, qh[0]
	// bits 0-1 = 2 → q = 35, x = 2·(−8)·3 = −48. Weight 70 (first half,
	// part 2, l = 6, group 4): ql[6]>>4 = 15, qh[6] bits 4-5 = 3 → q = 63,
	// x = 2·(−4)·31 = −248. Weight 233 (second half, part 3, l = 9, group
	// 14): ql[64+32+9]>>4 = 1, qh[32+9] bits 6-7 = 0 → q = 1, x = 2·6·(−31).
	q6 := make([]byte, q6KBytes)
	for g := 0; g < 16; g++ {
		q6[192+g] = byte(int8(g - 8))
	}
	binary.LittleEndian.PutUint16(q6[208:], 0x4000) // 2
	for i := 0; i < 128; i++ {
		q6[i] = 0x00 // low bits 0 …
	}
	for i := 0; i < 64; i++ {
		q6[128+i] = 0xaa // … and high bits 2: q = 32, x = 0, except:
	}
	q6[0] = 0x03
	q6[128+0] = 0xaa&^3 | 2
	q6[6] = 0xf0
	q6[128+6] = 0xaa&^0x30 | 3<<4
	q6[64+32+9] = 0x10
	q6[128+32+9] = 0xaa &^ 0xc0

	for _, tc := range []struct {
		typ  DType
		blk  []byte
		want map[int]float32
	}{
		{Q4_K, q4, map[int]float32{5: 11, 37: 13.25, 6: -1, 255: 0.5 * 63 * 15, 100: 0}},
		{Q5_K, q5, map[int]float32{5: 11, 37: 37.25, 6: -1, 255: 0.5 * 63 * 15}},
		{Q6_K, q6, map[int]float32{0: -48, 70: -248, 233: 2 * 6 * -31, 1: 0, 255: 0}},
	} {
		got := make([]float32, QK_K)
		DequantizeRef(got, tc.typ, tc.blk, QK_K)
		for i, w := range tc.want {
			if got[i] != w {
				t.Errorf("%v weight %d = %g, want %g", tc.typ, i, got[i], w)
			}
		}
		// the dot products agree with the definition on the same block
		x := make([]float32, QK_K)
		for i := range x {
			x[i] = float32(i%7) - 3
		}
		if g, w := Dot(tc.typ, tc.blk, x), DotRef(tc.typ, tc.blk, x); math.Abs(float64(g-w)) > 1e-3*math.Abs(float64(w))+1e-3 {
			t.Errorf("%v: Dot %g, reference %g", tc.typ, g, w)
		}
	}
}

func randomKInputs(r *rand.Rand, typ DType, n int) (row []byte, w, x []float32) {
	m, w := randomMatrix(r, typ, 1, n)
	x = make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return m.Data, w, x
}

func TestKQuantDot(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, typ := range kTypes {
		for _, n := range []int{256, 512, 768, 1280, 2816} {
			row, w, x := randomKInputs(r, typ, n)
			if got, want := Dot(typ, row, x), DotRef(typ, row, x); math.Abs(float64(got-want)) > 1e-4*math.Sqrt(float64(n)) {
				t.Errorf("%v n=%d: Dot = %g, reference %g", typ, n, got, want)
			}
			var a Q8KAct
			a.Quantize(x)
			ref := DotQ8KActRef(typ, row, &a)
			if got := DotQ8KAct(typ, row, &a); math.Abs(float64(got-ref)) > 1e-5*(1+math.Abs(float64(ref))) {
				t.Errorf("%v n=%d: DotQ8KAct = %g, reference %g", typ, n, got, ref)
			}
			// each activation moves by at most half its block's step
			var exact, bound float64
			for i := range x {
				exact += float64(w[i]) * float64(x[i])
				bound += math.Abs(float64(w[i])) * float64(a.D[i/QK_K]) / 2
			}
			if d := math.Abs(float64(ref) - exact); d > bound+1e-3 {
				t.Errorf("%v n=%d: quantized dot %g, f32 dot %g: |Δ| %g > bound %g", typ, n, ref, exact, d, bound)
			}
		}
	}
}

func TestQ8KActQuantize(t *testing.T) {
	x := make([]float32, 2*QK_K)
	for i := range x {
		x[i] = float32(i%QK_K) - 100 // −100 … 155
	}
	x[QK_K+3] = -254 // the second block's largest magnitude
	var a Q8KAct
	a.Quantize(x)
	if a.D[0] != 155.0/127 || a.D[1] != 254.0/127 {
		t.Errorf("scales %v", a.D)
	}
	if a.Q[255] != 127 || a.Q[QK_K+3] != -127 || a.Q[100] != 0 {
		t.Errorf("q[255] %d, q[259] %d, q[100] %d", a.Q[255], a.Q[QK_K+3], a.Q[100])
	}
	for g := range a.Sums {
		var s int16
		for _, q := range a.Q[16*g : 16*g+16] {
			s += int16(q)
		}
		if a.Sums[g] != s {
			t.Errorf("sum of group %d = %d, want %d", g, a.Sums[g], s)
		}
	}
}

// The SIMD activation quantizer equals the plain-Go one bit for bit.
func TestQ8KActQuantizeSIMD(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, n := range []int{256, 768, 2048} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * math.Pow(10, float64(i/256-1)))
		}
		x[5] = 0.5 * float32(r.NormFloat64()) // and one block of ties
		for i := 256; i < min(n, 512); i++ {
			x[i] = float32(i%9) - 4.5
		}
		if n >= 512 {
			x[300] = 127 // d = 1: x/d lands on halves
		}
		var a, ref Q8KAct
		a.Quantize(x)
		ref.Q, ref.D = make([]int8, n), make([]float32, n/QK_K)
		ref.quantizeRef(x)
		if !slices.Equal(a.Q, ref.Q) || !slices.Equal(a.D, ref.D) {
			t.Errorf("n=%d: SIMD and reference quantization differ", n)
		}
	}
	var a Q8KAct
	a.Quantize(make([]float32, QK_K)) // all zero: d = 0, q = 0
	if a.D[0] != 0 || slices.ContainsFunc(a.Q, func(q int8) bool { return q != 0 }) {
		t.Errorf("zeros: d %g, q %v", a.D[0], a.Q[:8])
	}
}

func TestKQuantMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	pool := NewPool(3)
	defer pool.Close()
	// [T, rows, cols]: rows not a multiple of 4, tokens not of 3
	// (and T ≥ 6 with K > 512: the chunked outer-product form)
	shapes := [][3]int{{1, 1, 256}, {1, 7, 512}, {1, 33, 768}, {5, 9, 256}, {4, 6, 512}, {7, 18, 768}, {13, 35, 1024}}
	for _, typ := range kTypes {
		for _, shape := range shapes {
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

func TestKQuantDequantizeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for _, typ := range kTypes {
		for _, n := range []int{256, 768, 2816} {
			f := make([]float32, n)
			for i := range f {
				f[i] = float32(r.NormFloat64())
			}
			data := Quantize(nil, typ, f)
			got, want := make([]float32, n), make([]float32, n)
			Dequantize(got, typ, data, n)
			DequantizeRef(want, typ, data, n)
			if !slices.Equal(got, want) {
				t.Errorf("%v n=%d: Dequantize and DequantizeRef differ", typ, n)
			}
		}
	}
}

// Any block bytes (weights read from a file) give the same dot product and
// the same dequantized values in the SIMD kernels as in the reference.
func FuzzKQuantDot(f *testing.F) {
	_, ref := kquantRef(f)
	for _, typ := range kTypes {
		f.Add(uint8(typ), ref[typ][:2*typ.RowBytes(QK_K)], uint64(1))
	}
	f.Fuzz(func(t *testing.T, typ uint8, blocks []byte, seed uint64) {
		dt := DType(typ)
		if !isKQuant(dt) || len(blocks) < dt.RowBytes(QK_K) {
			return
		}
		nb := len(blocks) / dt.RowBytes(QK_K)
		row := slices.Clone(blocks[:nb*dt.RowBytes(QK_K)])
		for b := 0; b < nb; b++ { // finite half-precision scales only
			blk := row[b*dt.RowBytes(QK_K):]
			for _, off := range map[DType][]int{Q4_K: {0, 2}, Q5_K: {0, 2}, Q6_K: {208}}[dt] {
				if blk[off+1]&0x7c == 0x7c {
					blk[off+1] &^= 0x40
				}
			}
		}
		r := rand.New(rand.NewPCG(seed, 0))
		x := make([]float32, nb*QK_K)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		var a Q8KAct
		a.Quantize(x)
		want := DotQ8KActRef(dt, row, &a)
		got := DotQ8KAct(dt, row, &a)
		// the kernels sum in float lanes in another order: the tolerance
		// scales with the magnitudes of the products, not their sum
		mag := kAbsDot(dt, row, &a)
		if math.Abs(float64(got-want)) > 1e-6*(1+mag) && !math.IsInf(mag, 0) {
			t.Fatalf("%v: SIMD %g, reference %g", dt, got, want)
		}
		w, wref := make([]float32, len(x)), make([]float32, len(x))
		Dequantize(w, dt, row, len(x))
		DequantizeRef(wref, dt, row, len(x))
		if !slices.Equal(w, wref) {
			t.Fatalf("%v: SIMD and reference dequantization differ", dt)
		}
	})
}

// kAbsDot is Σ|every integer product the kernels sum|·its scale: the
// magnitude that their float rounding is relative to.
func kAbsDot(t DType, row []byte, a *Q8KAct) float64 {
	bb := t.RowBytes(QK_K)
	var s float64
	for b, dx := range a.D {
		blk := row[b*bb : (b+1)*bb]
		xq := a.Q[b*QK_K : (b+1)*QK_K]
		for i, x := range xq {
			ax := math.Abs(float64(x)) * float64(dx)
			if t == Q6_K {
				sc := math.Abs(float64(int8(blk[192+i/16])))
				s += math.Abs(float64(f16At(blk[208:]))) * sc * (float64(q6KQuant(blk, i)) + 32) * ax
				continue
			}
			sc, m := scaleMinK4(i/32, blk[4:16])
			s += (math.Abs(float64(f16At(blk)))*float64(sc)*float64(kQuant(t, blk, i)) + math.Abs(float64(f16At(blk[2:])))*float64(m)) * ax
		}
	}
	return s
}

func BenchmarkKQuantize(b *testing.B) {
	r := rand.New(rand.NewPCG(27, 28))
	x := make([]float32, 64*QK_K)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for _, typ := range kTypes {
		b.Run(typ.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(4 * len(x)))
			var buf []byte
			for b.Loop() {
				buf = Quantize(buf[:0], typ, x)
			}
		})
	}
}

// Decode-sized products (the 110M shape's FFN and output head) on one
// thread: the weights stream from memory, not cache.
func BenchmarkKQuantMatVecLarge(b *testing.B) {
	r := rand.New(rand.NewPCG(29, 30))
	for _, typ := range slices.Concat([]DType{Q8_0, Q4_0}, kTypes) {
		for _, shape := range [][2]int{{2048, 768}, {768, 2048}, {32000, 768}} {
			m, _ := randomMatrix(r, typ, shape[0], shape[1])
			x := make([]float32, shape[1])
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
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
