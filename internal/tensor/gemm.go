package tensor

// The prompt form of MatMul (T ≥ gemmMinT with AVX2) multiplies 6 input rows
// by 16 weight rows at a time in outer-product form: the 16 weight rows are
// packed k-major into a panel (panel[k·16 + j] = W[r+j, k]), so each k step
// loads 16 weights, broadcasts 6 inputs and does 12 FMAs into 12 ymm
// accumulators, with no horizontal sums. K is split into chunks of gemmKC so
// a panel chunk stays in L1 while the tiles of all T rows pass over it.

const (
	gemmRows = 6  // input rows per tile
	gemmCols = 16 // weight rows per tile (one panel)
	gemmMinT = 6  // fewer input rows take the dot-product tiles
	gemmKC   = 256

	// gemmWholeK is the widest row whose 16-row block is dequantized at
	// once (256 KiB of f32, within L2) rather than chunk by chunk.
	gemmWholeK = 4096
)

// gemmChunk is the K chunk of the panels: all of K up to 2·gemmKC (a panel
// of 32 KiB, still no slower than two chunks), else gemmKC (a multiple of
// every block size).
func gemmChunk(K int) int {
	if K <= 2*gemmKC {
		return K
	}
	return gemmKC
}

// gemmScratch is one worker's buffers for the outer-product form.
type gemmScratch struct {
	panel []float32 // [kc, 16] packed weights
	rows  []float32 // [16, K] (K ≤ gemmWholeK) or [16, kc] dequantized weights (non-F32)
	x     []float32 // [6, kc] the last input rows, padded to a whole tile
	c     []float32 // [T rounded up to 6, 16] outputs of a partial tile
}

// size makes the buffers large enough for T input rows of K columns.
func (s *gemmScratch) size(T, K int) {
	kc := gemmChunk(K)
	s.panel = growF32(s.panel, gemmCols*kc)
	if K <= gemmWholeK {
		kc = K
	}
	s.rows = growF32(s.rows, gemmCols*kc)
	s.x = growF32(s.x, gemmRows*kc)
	s.c = growF32(s.c, (T+gemmRows-1)/gemmRows*gemmRows*gemmCols)
}

// growF32 returns b, or a new slice when b is shorter than n.
func growF32(b []float32, n int) []float32 {
	if len(b) < n {
		return make([]float32, n)
	}
	return b
}

// gemm computes out[t, r] for all t and r in [lo, hi).
func (j *matmulJob) gemm(worker, lo, hi int) {
	s := &j.gemms[worker]
	T, R := j.T, j.w.Rows
	for r := lo; r < hi; r += gemmCols {
		n := min(gemmCols, hi-r)
		if n == gemmCols {
			j.gemmBlock(s, r, n, j.out[r:], R, false)
			continue
		}
		j.gemmBlock(s, r, n, s.c, gemmCols, true)
		for t := 0; t < T; t++ {
			copy(j.out[t*R+r:t*R+r+n], s.c[t*gemmCols:])
		}
	}
}

// gemmBlock computes c[t·ldc + i] = Σ_k x[t, k]·W[r+i, k] for i < n ≤ 16;
// padded says c holds whole tiles (T rounded up to 6), else the last T % 6
// rows go through s.c.
func (j *matmulJob) gemmBlock(s *gemmScratch, r, n int, c []float32, ldc int, padded bool) {
	K, T := j.w.Cols, j.T
	x := j.x
	kc := gemmChunk(K)
	T6 := T - T%gemmRows
	for k0 := 0; k0 < K; k0 += kc {
		kn := min(kc, K-k0)
		panel := j.pack(s, r, n, k0, kn)
		add := k0 > 0
		for t := 0; t < T6; t += gemmRows {
			gemm6x16F32(&x[t*K+k0], K, &panel[0], kn, &c[t*ldc], ldc, add)
		}
		if T6 == T {
			continue
		}
		// the last T%6 rows: padded to a tile, into s.c when c cannot
		// take the padding rows
		xt := s.x[:gemmRows*kn]
		for t := T6; t < T; t++ {
			copy(xt[(t-T6)*kn:(t-T6+1)*kn], x[t*K+k0:t*K+k0+kn])
		}
		ct, ldt := c[T6*ldc:], ldc
		if !padded {
			ct, ldt = s.c, gemmCols
		}
		gemm6x16F32(&xt[0], kn, &panel[0], kn, &ct[0], ldt, add)
	}
	if T6 < T && !padded {
		for t := T6; t < T; t++ {
			copy(c[t*ldc:t*ldc+n], s.c[(t-T6)*gemmCols:])
		}
	}
}

// pack returns the panel of W rows r..r+n, columns k0..k0+kn:
// panel[k·16 + i] = W[r+i, k0+k], zero for i ≥ n. The chunks of a block of
// rows are packed in order from k0 = 0: quantized rows up to gemmWholeK
// columns are dequantized whole at k0 = 0 (one sequential read of the
// block, which the hardware prefetches well) and the later chunks packed
// from there.
func (j *matmulJob) pack(s *gemmScratch, r, n, k0, kn int) []float32 {
	w := j.w
	rb := w.Type.RowBytes(w.Cols)
	var src []float32
	lds, pf := w.Cols, 0
	switch {
	case w.Type == F32:
		src = F32s(w.Data[r*rb : (r+n)*rb])[k0:]
		pf = gemmCols * rb // the next block of rows
	case w.Cols <= gemmWholeK:
		if k0 == 0 {
			Dequantize(s.rows, w.Type, w.Data[r*rb:(r+n)*rb], n*w.Cols)
		}
		src = s.rows[k0:]
	default:
		lds = kn
		off, nb := w.Type.RowBytes(k0), w.Type.RowBytes(kn)
		for i := 0; i < n; i++ {
			d := w.Data[(r+i)*rb+off : (r+i)*rb+off+nb]
			Dequantize(s.rows[i*kn:(i+1)*kn], w.Type, d, kn)
		}
		src = s.rows
	}
	panel := s.panel[:gemmCols*kn]
	k8 := 0
	if n == gemmCols {
		k8 = kn &^ 7
		if k8 > 0 {
			pack8F32(&panel[0], &src[0], lds, k8, pf)
			pack8F32(&panel[8], &src[8*lds], lds, k8, pf)
		}
	}
	for k := k8; k < kn; k++ {
		p := panel[k*gemmCols : (k+1)*gemmCols]
		for i := range p {
			if i < n {
				p[i] = src[i*lds+k]
			} else {
				p[i] = 0
			}
		}
	}
	return panel
}

// gemm6x16 is the 6×16 tile product on slices: c[i·ldc + j] (+)=
// Σ_{kk<k} x[i·ldx + kk]·panel[kk·16 + j] for i < 6, j < 16, with the
// bounds checked once; the assembly kernel with AVX2, gemm6x16Go without.
func gemm6x16(x []float32, ldx int, panel []float32, k int, c []float32, ldc int, add bool) {
	_, _, _ = x[(gemmRows-1)*ldx+k-1], panel[k*gemmCols-1], c[(gemmRows-1)*ldc+gemmCols-1]
	if useAVX2 {
		gemm6x16F32(&x[0], ldx, &panel[0], k, &c[0], ldc, add)
		return
	}
	gemm6x16Go(x, ldx, panel, k, c, ldc, add)
}

// gemm6x16Go is the tile product in Go: the reference of the kernel (the
// strided tile with x row-major and the panel's rows 16 apart).
func gemm6x16Go(x []float32, ldx int, panel []float32, k int, c []float32, ldc int, add bool) {
	tileStridedGo(x, ldx, 1, panel, gemmCols, k, c, ldc, add)
}
