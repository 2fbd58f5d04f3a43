package tensor

import "math"

// Q8Act is a vector of activations quantized to int8 in blocks of 32 with
// one float32 scale each, the form the integer dot products of Q8_0 and
// Q4_0 weights consume (as llama.cpp quantizes activations to q8 blocks;
// the scale stays f32 here rather than f16).
type Q8Act struct {
	Q []int8    // [n]
	D []float32 // [n/32] scales
	S []float32 // [n/32] d·Σq of each block (Q4_0's bias of 8 comes off with it)
}

// Quantize fills a with x (len a multiple of 32): d = max|x|/127,
// q = round(x/d).
func (a *Q8Act) Quantize(x []float32) {
	n := len(x)
	if cap(a.Q) < n {
		a.Q, a.D, a.S = make([]int8, n), make([]float32, n/QK), make([]float32, n/QK)
	}
	a.Q, a.D, a.S = a.Q[:n], a.D[:n/QK], a.S[:n/QK]
	if useAVX2 && n >= QK {
		quantizeQ8ActAVX2(&x[0], &a.Q[0], &a.D[0], &a.S[0], n/QK)
		return
	}
	a.quantizeRef(x)
}

// quantizeRef sets a from x in plain Go: the definition of the SIMD
// quantizer.
func (a *Q8Act) quantizeRef(x []float32) {
	for b := range a.D {
		xs := x[b*QK : (b+1)*QK]
		var amax float32
		for _, v := range xs {
			amax = max(amax, abs32(v))
		}
		d := amax / 127
		a.D[b] = d
		var id float32
		if d != 0 {
			id = 1 / d
		}
		q := a.Q[b*QK : (b+1)*QK]
		var sum int32
		for j, v := range xs {
			q[j] = int8(math.Round(float64(v * id)))
			sum += int32(q[j])
		}
		a.S[b] = d * float32(sum)
	}
}

// DotQ8Act is the dot product of one stored Q8_0 or Q4_0 row with quantized
// activations: Σ_blocks d_w·d_x·Σ_j w_j·x_j with exact integer inner sums.
func DotQ8Act(t DType, row []byte, a *Q8Act) float32 {
	nb := len(a.D)
	if useAVX2 && nb > 0 {
		switch t {
		case Q8_0:
			return dotQ8_0AVX2(&row[0], &a.Q[0], &a.D[0], nb)
		case Q4_0:
			return dotQ4_0AVX2(&row[0], &a.Q[0], &a.D[0], nb)
		}
	}
	return DotQ8ActRef(t, row, a)
}

// DotQ8Act4 computes the dot products of four consecutive rows (stride
// bytes apart, starting at rows) with a into out.
func DotQ8Act4(t DType, rows []byte, stride int, a *Q8Act, out *[4]float32) {
	nb := len(a.D)
	if useAVX2 && nb > 0 {
		_ = rows[3*stride+t.RowBytes(nb*QK)-1] // bounds: the asm reads four rows
		switch t {
		case Q8_0:
			dotQ8_0x4AVX2(&rows[0], stride, &a.Q[0], &a.D[0], nb, out)
			return
		case Q4_0:
			dotQ4_0x4AVX2(&rows[0], stride, &a.Q[0], &a.D[0], &a.S[0], nb, out)
			return
		}
	}
	for i := range out {
		out[i] = DotQ8ActRef(t, rows[i*stride:], a)
	}
}

// DotQ8ActRows sets out[i] to the dot product of row i of rows (len(out)
// Q8_0 or Q4_0 rows, stride bytes apart) with a: one call for a whole range
// of a matrix. Q4_0 rows go eight at a time through one kernel call.
func DotQ8ActRows(t DType, rows []byte, stride int, a *Q8Act, out []float32) {
	n, nb := len(out), len(a.D)
	r := 0
	if useAVX2 && t == Q4_0 && nb > 0 && n >= 8 {
		groups := n / 8
		_ = rows[(8*groups-1)*stride+t.RowBytes(nb*QK)-1] // bounds: the asm reads 8·groups rows
		dotQ4_0x8RowsAVX2(&rows[0], stride, &a.Q[0], &a.D[0], &a.S[0], nb, groups, &out[0])
		r = 8 * groups
	}
	var four [4]float32
	for ; r+4 <= n; r += 4 {
		DotQ8Act4(t, rows[r*stride:], stride, a, &four)
		copy(out[r:r+4], four[:])
	}
	for ; r < n; r++ {
		out[r] = DotQ8Act(t, rows[r*stride:], a)
	}
}

// DotQ8ActRef is DotQ8Act in plain Go: the reference of the SIMD kernels.
func DotQ8ActRef(t DType, row []byte, a *Q8Act) float32 {
	var s float32
	for b, dx := range a.D {
		q := a.Q[b*QK : (b+1)*QK]
		var isum int32
		var dw float32
		switch t {
		case Q8_0:
			blk := row[b*34 : b*34+34]
			dw = F16ToF32(uint16(blk[0]) | uint16(blk[1])<<8)
			for j := 0; j < QK; j++ {
				isum += int32(int8(blk[2+j])) * int32(q[j])
			}
		case Q4_0:
			blk := row[b*18 : b*18+18]
			dw = F16ToF32(uint16(blk[0]) | uint16(blk[1])<<8)
			for j := 0; j < QK/2; j++ {
				isum += (int32(blk[2+j]&15) - 8) * int32(q[j])
				isum += (int32(blk[2+j]>>4) - 8) * int32(q[j+QK/2])
			}
		default:
			panic("tensor: DotQ8Act: weights must be Q8_0 or Q4_0")
		}
		s += dw * dx * float32(isum)
	}
	return s
}
