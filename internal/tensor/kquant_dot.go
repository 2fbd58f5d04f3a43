package tensor

import (
	"fmt"
	"math"
)

// dotQ4K is the dot product of a Q4_K row with f32 x: per sub-block
// d·sc·Σq·x − dmin·m·Σx.
func dotQ4K(row []byte, x []float32) float32 {
	var s float32
	for b := 0; b < len(x)/QK_K; b++ {
		blk := row[b*q4KBytes : (b+1)*q4KBytes]
		xs := x[b*QK_K : (b+1)*QK_K]
		d, dmin := f16At(blk), f16At(blk[2:])
		var sq, sm float32
		for c := 0; c < 4; c++ {
			q := blk[16+32*c : 16+32*c+32]
			lo, hi := xs[64*c:64*c+32], xs[64*c+32:64*c+64]
			var qlo, qhi, xlo, xhi float32
			for i := 0; i < 32; i++ {
				qlo += float32(q[i]&15) * lo[i]
				qhi += float32(q[i]>>4) * hi[i]
				xlo += lo[i]
				xhi += hi[i]
			}
			sc1, m1 := scaleMinK4(2*c, blk[4:16])
			sc2, m2 := scaleMinK4(2*c+1, blk[4:16])
			sq += float32(sc1)*qlo + float32(sc2)*qhi
			sm += float32(m1)*xlo + float32(m2)*xhi
		}
		s += d*sq - dmin*sm
	}
	return s
}

// dotQ5K is dotQ4K with the fifth bits of Q5_K.
func dotQ5K(row []byte, x []float32) float32 {
	var s float32
	for b := 0; b < len(x)/QK_K; b++ {
		blk := row[b*q5KBytes : (b+1)*q5KBytes]
		xs := x[b*QK_K : (b+1)*QK_K]
		d, dmin := f16At(blk), f16At(blk[2:])
		qh := blk[16:48]
		var sq, sm float32
		for c := 0; c < 4; c++ {
			q := blk[48+32*c : 48+32*c+32]
			lo, hi := xs[64*c:64*c+32], xs[64*c+32:64*c+64]
			var qlo, qhi, xlo, xhi float32
			for i := 0; i < 32; i++ {
				qlo += float32(q[i]&15|(qh[i]>>(2*c)&1)<<4) * lo[i]
				qhi += float32(q[i]>>4|(qh[i]>>(2*c+1)&1)<<4) * hi[i]
				xlo += lo[i]
				xhi += hi[i]
			}
			sc1, m1 := scaleMinK4(2*c, blk[4:16])
			sc2, m2 := scaleMinK4(2*c+1, blk[4:16])
			sq += float32(sc1)*qlo + float32(sc2)*qhi
			sm += float32(m1)*xlo + float32(m2)*xhi
		}
		s += d*sq - dmin*sm
	}
	return s
}

// dotQ6K is the dot product of a Q6_K row with f32 x: d·Σ_groups sc·Σ(q−32)·x.
func dotQ6K(row []byte, x []float32) float32 {
	var s float32
	for b := 0; b < len(x)/QK_K; b++ {
		blk := row[b*q6KBytes : (b+1)*q6KBytes]
		xs := x[b*QK_K : (b+1)*QK_K]
		var bs float32
		for h := 0; h < 2; h++ {
			ql, qh := blk[64*h:64*h+64], blk[128+32*h:128+32*h+32]
			xh := xs[128*h : 128*h+128]
			var g [8]float32 // the four 32-weight parts, each as two groups of 16
			for i := 0; i < 32; i++ {
				k := i / 16
				g[k] += float32(int8(ql[i]&15|(qh[i]&3)<<4)-32) * xh[i]
				g[2+k] += float32(int8(ql[32+i]&15|(qh[i]>>2&3)<<4)-32) * xh[32+i]
				g[4+k] += float32(int8(ql[i]>>4|(qh[i]>>4&3)<<4)-32) * xh[64+i]
				g[6+k] += float32(int8(ql[32+i]>>4|(qh[i]>>6)<<4)-32) * xh[96+i]
			}
			for k, v := range g {
				bs += float32(int8(blk[192+8*h+k])) * v
			}
		}
		s += f16At(blk[208:]) * bs
	}
	return s
}

// Q8KAct is a vector of activations quantized to int8 in blocks of 256 with
// one float32 scale each, plus the sum of every 16 quants: the form the
// integer dot products of k-quant weights consume (llama.cpp's block_q8_K).
type Q8KAct struct {
	Q    []int8    // [n]
	D    []float32 // [n/256] scales
	Sums []int16   // [n/16] Σq of each group of 16 (for the mins of Q4_K/Q5_K and the bias of Q6_K)
}

// Quantize fills a with x (len a multiple of 256): d = max|x|/127 per
// block, q = x/d rounded to nearest, ties to even.
func (a *Q8KAct) Quantize(x []float32) {
	n := len(x)
	if cap(a.Q) < n {
		a.Q, a.D, a.Sums = make([]int8, n), make([]float32, n/QK_K), make([]int16, n/16)
	}
	a.Q, a.D, a.Sums = a.Q[:n], a.D[:n/QK_K], a.Sums[:n/16]
	if useAVX2 && n >= QK_K {
		quantizeQ8KAVX2(&x[0], &a.Q[0], &a.D[0], n/QK_K)
	} else {
		a.quantizeRef(x)
	}
	for g := range a.Sums {
		var sum int16
		for _, v := range a.Q[16*g : 16*g+16] {
			sum += int16(v)
		}
		a.Sums[g] = sum
	}
}

// quantizeRef sets a.Q and a.D from x in plain Go: the definition of the
// SIMD quantizer.
func (a *Q8KAct) quantizeRef(x []float32) {
	for b := range a.D {
		xs := x[b*QK_K : (b+1)*QK_K]
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
		q := a.Q[b*QK_K : (b+1)*QK_K]
		for j, v := range xs {
			q[j] = int8(math.RoundToEven(float64(v * id)))
		}
	}
}

// DotQ8KAct is the dot product of one stored Q4_K, Q5_K or Q6_K row with
// quantized activations, with exact integer sums within each block.
func DotQ8KAct(t DType, row []byte, a *Q8KAct) float32 {
	var out [1]float32
	DotQ8KActRows(t, row, t.RowBytes(len(a.Q)), a, out[:])
	return out[0]
}

// DotQ8KActRows sets out[i] to the dot product of row i of rows (len(out)
// rows, stride bytes apart) with a: one call for a whole block of a matrix.
func DotQ8KActRows(t DType, rows []byte, stride int, a *Q8KAct, out []float32) {
	nb := len(a.D)
	if len(out) == 0 {
		return
	}
	if useAVX2 && nb > 0 && isKQuant(t) {
		_ = rows[(len(out)-1)*stride+t.RowBytes(nb*QK_K)-1] // bounds: the asm reads every row
		w, n, xq, xd, xs := &rows[0], len(out), &a.Q[0], &a.D[0], &a.Sums[0]
		switch t {
		case Q4_K:
			dotQ4KAVX2(w, stride, n, xq, xd, xs, nb, &out[0])
		case Q5_K:
			dotQ5KAVX2(w, stride, n, xq, xd, xs, nb, &out[0])
		case Q6_K:
			dotQ6KAVX2(w, stride, n, xq, xd, xs, nb, &out[0])
		}
		return
	}
	for i := range out {
		out[i] = DotQ8KActRef(t, rows[i*stride:], a)
	}
}

// DotQ8KActRef is DotQ8KAct in plain Go: the reference of the SIMD kernels.
// Per block it forms the integer sums Σ sc·Σq·x and Σ m·Σx (Q4_K, Q5_K) or
// Σ sc·Σ(q−32)·x (Q6_K) and scales them once.
func DotQ8KActRef(t DType, row []byte, a *Q8KAct) float32 {
	var s float32
	for b, dx := range a.D {
		xq := a.Q[b*QK_K : (b+1)*QK_K]
		sums := a.Sums[b*QK_K/16 : (b+1)*QK_K/16]
		switch t {
		case Q4_K, Q5_K:
			bb := t.RowBytes(QK_K)
			blk := row[b*bb : (b+1)*bb]
			var isum, msum int32
			for j := 0; j < 8; j++ {
				sc, m := scaleMinK4(j, blk[4:16])
				var qx int32
				for i := 32 * j; i < 32*j+32; i++ {
					qx += int32(kQuant(t, blk, i)) * int32(xq[i])
				}
				isum += int32(sc) * qx
				msum += int32(m) * (int32(sums[2*j]) + int32(sums[2*j+1]))
			}
			s += dx * (f16At(blk)*float32(isum) - f16At(blk[2:])*float32(msum))
		case Q6_K:
			blk := row[b*q6KBytes : (b+1)*q6KBytes]
			var isum int32
			for g := 0; g < 16; g++ {
				var qx int32
				for i := 16 * g; i < 16*g+16; i++ {
					qx += int32(q6KQuant(blk, i)) * int32(xq[i])
				}
				isum += int32(int8(blk[192+g])) * (qx - 32*int32(sums[g]))
			}
			s += dx * f16At(blk[208:]) * float32(isum)
		default:
			panic(fmt.Sprintf("tensor: DotQ8KAct: weights must be Q4_K, Q5_K or Q6_K, not %v", t))
		}
	}
	return s
}

// kQuant returns the unsigned quant of weight i (0..255) of a Q4_K or Q5_K block.
func kQuant(t DType, blk []byte, i int) uint8 {
	c, l := i/64, i%64
	if t == Q4_K {
		return blk[16+32*c+l%32] >> (4 * (l / 32)) & 15
	}
	q := blk[48+32*c+l%32] >> (4 * (l / 32)) & 15
	return q | (blk[16+l%32]>>(2*c+l/32)&1)<<4
}

func isKQuant(t DType) bool { return t == Q4_K || t == Q5_K || t == Q6_K }
