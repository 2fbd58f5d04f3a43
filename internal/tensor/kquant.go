package tensor

import (
	"encoding/binary"
	"math"
)

// The k-quants store 256 weights per super-block (ggml's block_q4_K,
// block_q5_K and block_q6_K; byte offsets within one block):
//
//	Q4_K (144 B): f16 d [0:2], f16 dmin [2:4], scales [4:16], qs [16:144]
//	  8 sub-blocks of 32, each with a 6-bit scale sc and min m packed in
//	  scales; x = d·sc·q − dmin·m with q ∈ 0..15. qs holds 64 weights per
//	  32 bytes: low nibbles are weights 0..31, high nibbles 32..63.
//	Q5_K (176 B): f16 d, f16 dmin, scales [4:16], qh [16:48], qs [48:176]
//	  as Q4_K with q ∈ 0..31: bit 4 of weight 64·c + i is bit 2c of qh[i]
//	  and of weight 64·c + 32 + i bit 2c+1.
//	Q6_K (210 B): ql [0:128], qh [128:192], int8 scales [192:208], f16 d [208:210]
//	  16 groups of 16, x = d·sc·(q − 32) with q ∈ 0..63. Each half of 128
//	  weights takes 64 bytes of ql and 32 of qh: weight i, 32+i, 64+i, 96+i
//	  (i < 32) have low bits ql[i]&15, ql[32+i]&15, ql[i]>>4, ql[32+i]>>4
//	  and high bits qh[i] bits 0-1, 2-3, 4-5, 6-7.
//
// The quantizers are ggml's reference ones without an importance matrix
// (quantize_row_q4_K_ref, …), written so that every float operation rounds
// as in C: products that C does not fuse are converted explicitly, which
// keeps Go from fusing them into FMAs.

// QK_K is the number of weights in one k-quant super-block.
const QK_K = 256

const (
	q4KBytes = 144
	q5KBytes = 176
	q6KBytes = 210
)

// groupMaxEps is ggml's GROUP_MAX_EPS: a group below it in magnitude is zero.
const groupMaxEps = 1e-15

// nearestInt is ggml's nearest_int: x rounded to nearest, ties to even,
// through the 1.5·2²³ trick (exact for |x| < 2²²; the same bits beyond).
func nearestInt(x float32) int32 {
	v := x + 12582912
	return int32(math.Float32bits(v)&0x7fffff) - 0x400000
}

// scaleMinK4 unpacks the 6-bit scale and min of sub-block j (0..7) from the
// 12 packed bytes of a Q4_K or Q5_K block.
func scaleMinK4(j int, q []byte) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xf | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

// packScaleMinK4 is the inverse of scaleMinK4 for all eight sub-blocks.
func packScaleMinK4(dst []byte, ls, lm *[8]uint8) {
	for j := 0; j < 8; j++ {
		if j < 4 {
			dst[j] = ls[j]
			dst[j+4] = lm[j]
		} else {
			dst[j+4] = ls[j]&0xf | (lm[j]&0xf)<<4
			dst[j-4] |= (ls[j] >> 4) << 6
			dst[j] |= (lm[j] >> 4) << 6
		}
	}
}

func f16At(b []byte) float32 { return F16ToF32(binary.LittleEndian.Uint16(b)) }

// dequantizeQ4K decodes n/256 Q4_K blocks (ggml's dequantize_row_q4_K).
func dequantizeQ4K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QK_K; b++ {
		blk := src[b*q4KBytes : (b+1)*q4KBytes]
		d, dmin := f16At(blk), f16At(blk[2:])
		out := dst[b*QK_K : (b+1)*QK_K]
		for c := 0; c < 4; c++ { // 64 weights per 32 bytes
			q := blk[16+32*c : 16+32*c+32]
			sc1, m1 := scaleMinK4(2*c, blk[4:16])
			sc2, m2 := scaleMinK4(2*c+1, blk[4:16])
			d1, dm1 := d*float32(sc1), dmin*float32(m1)
			d2, dm2 := d*float32(sc2), dmin*float32(m2)
			for i := 0; i < 32; i++ {
				out[64*c+i] = float32(d1*float32(q[i]&15)) - dm1
				out[64*c+32+i] = float32(d2*float32(q[i]>>4)) - dm2
			}
		}
	}
}

// dequantizeQ5K decodes n/256 Q5_K blocks (ggml's dequantize_row_q5_K).
func dequantizeQ5K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QK_K; b++ {
		blk := src[b*q5KBytes : (b+1)*q5KBytes]
		d, dmin := f16At(blk), f16At(blk[2:])
		qh := blk[16:48]
		out := dst[b*QK_K : (b+1)*QK_K]
		for c := 0; c < 4; c++ {
			ql := blk[48+32*c : 48+32*c+32]
			sc1, m1 := scaleMinK4(2*c, blk[4:16])
			sc2, m2 := scaleMinK4(2*c+1, blk[4:16])
			d1, dm1 := d*float32(sc1), dmin*float32(m1)
			d2, dm2 := d*float32(sc2), dmin*float32(m2)
			for i := 0; i < 32; i++ {
				lo := ql[i]&15 | (qh[i]>>(2*c)&1)<<4
				hi := ql[i]>>4 | (qh[i]>>(2*c+1)&1)<<4
				out[64*c+i] = float32(d1*float32(lo)) - dm1
				out[64*c+32+i] = float32(d2*float32(hi)) - dm2
			}
		}
	}
}

// q6KQuant returns the 6-bit quant (0..63) of weight i (0..255) of a Q6_K block.
func q6KQuant(blk []byte, i int) int8 {
	h, r := i/128, i%128
	l, part := r%32, r/32 // part 0..3: which of the four weights sharing ql/qh bytes
	lo := blk[64*h+l+32*(part&1)] >> (4 * (part >> 1)) & 15
	hi := blk[128+32*h+l] >> (2 * part) & 3
	return int8(lo | hi<<4)
}

// dequantizeQ6K decodes n/256 Q6_K blocks (ggml's dequantize_row_q6_K).
func dequantizeQ6K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QK_K; b++ {
		blk := src[b*q6KBytes : (b+1)*q6KBytes]
		d := f16At(blk[208:])
		for h := 0; h < 2; h++ {
			ql, qh := blk[64*h:64*h+64], blk[128+32*h:128+32*h+32]
			sc := blk[192+8*h : 192+8*h+8]
			out := dst[b*QK_K+128*h : b*QK_K+128*h+128]
			for i := 0; i < 32; i++ {
				g := i / 16 // the group within each 32-weight part
				q1 := int8(ql[i]&15|(qh[i]&3)<<4) - 32
				q2 := int8(ql[32+i]&15|(qh[i]>>2&3)<<4) - 32
				q3 := int8(ql[i]>>4|(qh[i]>>4&3)<<4) - 32
				q4 := int8(ql[32+i]>>4|(qh[i]>>6)<<4) - 32
				out[i] = float32(d*float32(int8(sc[g]))) * float32(q1)
				out[32+i] = float32(d*float32(int8(sc[2+g]))) * float32(q2)
				out[64+i] = float32(d*float32(int8(sc[4+g]))) * float32(q3)
				out[96+i] = float32(d*float32(int8(sc[6+g]))) * float32(q4)
			}
		}
	}
}

// dequantizeKAVX2 runs the SIMD dequantizer of a k-quant type.
func dequantizeKAVX2(dst []float32, t DType, src []byte) {
	nb := len(dst) / QK_K
	_ = src[t.RowBytes(nb*QK_K)-1] // bounds: the asm reads nb blocks
	switch t {
	case Q4_K:
		dequantQ4KAVX2(&dst[0], &src[0], nb)
	case Q5_K:
		dequantQ5KAVX2(&dst[0], &src[0], nb)
	case Q6_K:
		dequantQ6KAVX2(&dst[0], &src[0], nb)
	}
}

// makeQKX2 is ggml's make_qkx2_quants without mean absolute deviation: it
// fits x ≈ scale·L − min over L ∈ 0..nmax, minimising the weighted squared
// error, by trying nstep+1 grid scales around nmax/(max−min). It fills L
// and returns the scale and the min (subtracted, ≥ 0). laux is scratch.
func makeQKX2(nmax int32, x, weights []float32, L, laux []uint8, rmin, rdelta float32, nstep int) (scale, theMin float32) {
	n := len(x)
	lo, hi := x[0], x[0]
	sumW := weights[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < n; i++ {
		if x[i] < lo {
			lo = x[i]
		}
		if x[i] > hi {
			hi = x[i]
		}
		w := weights[i]
		sumW += w
		sumX += float32(w * x[i])
	}
	if lo > 0 {
		lo = 0
	}
	if hi == lo {
		for i := range L[:n] {
			L[i] = 0
		}
		return 0, -lo
	}
	clamp := func(l int32) uint8 { return uint8(max(0, min(nmax, l))) }
	iscale := float32(nmax) / (hi - lo)
	scale = 1 / iscale
	var bestMad float32
	for i := 0; i < n; i++ {
		L[i] = clamp(nearestInt(float32(iscale * (x[i] - lo))))
		diff := float32(scale*float32(L[i])) + lo - x[i]
		bestMad += float32(weights[i] * float32(diff*diff))
	}
	if nstep < 1 {
		return scale, -lo
	}
	for is := 0; is <= nstep; is++ {
		iscale = (rmin + float32(rdelta*float32(is)) + float32(nmax)) / (hi - lo)
		var sumL, sumL2, sumXL float32
		for i := 0; i < n; i++ {
			l := clamp(nearestInt(float32(iscale * (x[i] - lo))))
			laux[i] = l
			wl := float32(weights[i] * float32(l))
			sumL += wl
			sumL2 += float32(wl * float32(l))
			sumXL += float32(wl * x[i])
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if D <= 0 {
			continue
		}
		thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
		thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
		if thisMin > 0 {
			thisMin = 0
			thisScale = sumXL / sumL2
		}
		var mad float32
		for i := 0; i < n; i++ {
			diff := float32(thisScale*float32(laux[i])) + thisMin - x[i]
			mad += float32(weights[i] * float32(diff*diff))
		}
		if mad < bestMad {
			copy(L[:n], laux[:n])
			bestMad, scale, lo = mad, thisScale, thisMin
		}
	}
	return scale, -lo
}

// makeQX is ggml's make_qx_quants with rmse_type 1 and no importance: it
// fits x ≈ scale·(L − nmax) over L ∈ 0..2·nmax−1, weighting each error by
// x², trying 19 scales around −nmax/max. It fills L and returns the scale.
func makeQX(nmax int32, x []float32, L []int8) float32 {
	var vmax, amax float32
	for _, v := range x {
		if ax := abs32(v); ax > amax {
			amax, vmax = ax, v
		}
	}
	if amax < groupMaxEps {
		for i := range x {
			L[i] = 0
		}
		return 0
	}
	clamp := func(l int32) int32 { return max(-nmax, min(nmax-1, l)) }
	sums := func(iscale float32) (sumLX, sumL2 float32) {
		for _, v := range x {
			l := float32(clamp(nearestInt(float32(iscale * v))))
			w := float32(v * v)
			sumLX += float32(float32(w*v) * l)
			sumL2 += float32(float32(w*l) * l)
		}
		return sumLX, sumL2
	}
	set := func(iscale float32) {
		for i, v := range x {
			L[i] = int8(nmax + clamp(nearestInt(float32(iscale*v))))
		}
	}
	iscale := float32(-nmax) / vmax
	set(iscale)
	sumLX, sumL2 := sums(iscale)
	var scale float32
	if sumL2 != 0 {
		scale = sumLX / sumL2
	}
	best := float32(scale * sumLX)
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(float32(nmax) + float32(0.1*float32(is))) / vmax
		sumLX, sumL2 = sums(iscale)
		if sumL2 > 0 && float32(sumLX*sumLX) > float32(best*sumL2) {
			set(iscale)
			scale = sumLX / sumL2
			best = float32(scale * sumLX)
		}
	}
	return scale
}

// quantizeQ4K appends the Q4_K blocks of src (quantize_row_q4_K_ref).
func quantizeQ4K(dst []byte, src []float32) []byte {
	return quantizeQKX(dst, src, 15, -1, 0.1, 20)
}

// quantizeQ5K appends the Q5_K blocks of src (quantize_row_q5_K_ref).
func quantizeQ5K(dst []byte, src []float32) []byte {
	return quantizeQKX(dst, src, 31, -0.5, 0.1, 15)
}

// quantizeQKX is the shared body of the Q4_K (nmax 15) and Q5_K (nmax 31)
// reference quantizers: per sub-block of 32 a scale and min by makeQKX2,
// both quantized to 6 bits against the block's largest, then every weight
// requantized against the stored scale and min.
func quantizeQKX(dst []byte, src []float32, nmax int32, rmin, rdelta float32, nstep int) []byte {
	var (
		L       [QK_K]uint8
		laux    [32]uint8
		weights [32]float32
		scales  [8]float32
		mins    [8]float32
	)
	for b := 0; b+QK_K <= len(src); b += QK_K {
		x := src[b : b+QK_K]
		var maxScale, maxMin float32
		for j := 0; j < 8; j++ {
			xs := x[32*j : 32*j+32]
			var sumX2 float32
			for _, v := range xs {
				sumX2 += float32(v * v)
			}
			avX := float32(math.Sqrt(float64(sumX2 / 32)))
			for l, v := range xs {
				weights[l] = avX + abs32(v)
			}
			scales[j], mins[j] = makeQKX2(nmax, xs, weights[:], L[32*j:32*j+32], laux[:], rmin, rdelta, nstep)
			if scales[j] > maxScale {
				maxScale = scales[j]
			}
			if mins[j] > maxMin {
				maxMin = mins[j]
			}
		}
		var invScale, invMin float32
		if maxScale > 0 {
			invScale = 63 / maxScale
		}
		if maxMin > 0 {
			invMin = 63 / maxMin
		}
		var ls, lm [8]uint8
		for j := 0; j < 8; j++ {
			ls[j] = min(63, uint8(nearestInt(float32(invScale*scales[j]))))
			lm[j] = min(63, uint8(nearestInt(float32(invMin*mins[j]))))
		}
		dh, dminh := F32ToF16(maxScale/63), F32ToF16(maxMin/63)
		var packed [12]byte
		packScaleMinK4(packed[:], &ls, &lm)
		d, dmin := F16ToF32(dh), F16ToF32(dminh)
		for j := 0; j < 8; j++ {
			sc, m := scaleMinK4(j, packed[:])
			dj := float32(d * float32(sc))
			if dj == 0 {
				continue // keep makeQKX2's quants, as ggml does
			}
			dm := float32(dmin * float32(m))
			for i := 32 * j; i < 32*j+32; i++ {
				L[i] = uint8(max(0, min(nmax, nearestInt((x[i]+dm)/dj))))
			}
		}
		dst = binary.LittleEndian.AppendUint16(dst, dh)
		dst = binary.LittleEndian.AppendUint16(dst, dminh)
		dst = append(dst, packed[:]...)
		if nmax == 31 { // Q5_K: the fifth bits first
			var qh [32]byte
			for c := 0; c < 4; c++ {
				for i := 0; i < 32; i++ {
					qh[i] |= (L[64*c+i]>>4)<<(2*c) | (L[64*c+32+i]>>4)<<(2*c+1)
				}
			}
			dst = append(dst, qh[:]...)
		}
		for c := 0; c < 4; c++ {
			for i := 0; i < 32; i++ {
				dst = append(dst, L[64*c+i]&15|(L[64*c+32+i]&15)<<4)
			}
		}
	}
	return dst
}

// quantizeQ6K appends the Q6_K blocks of src (quantize_row_q6_K_ref).
func quantizeQ6K(dst []byte, src []float32) []byte {
	var (
		L      [QK_K]int8
		scales [16]float32
	)
	for b := 0; b+QK_K <= len(src); b += QK_K {
		x := src[b : b+QK_K]
		var maxScale, maxAbsScale float32
		for g := 0; g < 16; g++ {
			scales[g] = makeQX(32, x[16*g:16*g+16], L[16*g:16*g+16])
			if a := abs32(scales[g]); a > maxAbsScale {
				maxAbsScale, maxScale = a, scales[g]
			}
		}
		var blk [q6KBytes]byte
		if maxAbsScale < groupMaxEps {
			dst = append(dst, blk[:]...) // all zero, d = +0
			continue
		}
		iscale := -128 / maxScale
		dh := F32ToF16(1 / iscale)
		binary.LittleEndian.PutUint16(blk[208:], dh)
		d := F16ToF32(dh)
		for g := 0; g < 16; g++ {
			sc := int8(min(127, nearestInt(float32(iscale*scales[g]))))
			blk[192+g] = byte(sc)
			dg := float32(d * float32(sc))
			if dg == 0 {
				continue
			}
			for i := 16 * g; i < 16*g+16; i++ {
				L[i] = int8(max(-32, min(31, nearestInt(x[i]/dg))) + 32)
			}
		}
		for h := 0; h < 2; h++ {
			q := L[128*h : 128*h+128]
			for i := 0; i < 32; i++ {
				q1, q2, q3, q4 := byte(q[i]), byte(q[32+i]), byte(q[64+i]), byte(q[96+i])
				blk[64*h+i] = q1&15 | (q3&15)<<4
				blk[64*h+32+i] = q2&15 | (q4&15)<<4
				blk[128+32*h+i] = q1>>4 | (q2>>4)<<2 | (q3>>4)<<4 | (q4>>4)<<6
			}
		}
		dst = append(dst, blk[:]...)
	}
	return dst
}
