package tensor

// Panels is a weight matrix laid out once for the outer-product kernel, for
// products repeated many times with the same weights (a frozen base during
// training): MatMulPanels then packs nothing, and the kernel streams the
// panels sequentially.
//
//	Data [⌈Rows/16⌉, Cols, 16]: Data[(p·Cols + k)·16 + i] = W[16p + i, k],
//	zero for rows beyond Rows
type Panels struct {
	Rows, Cols int
	Data       []float32
}

// numPanels is the number of 16-row panels.
func (w Panels) numPanels() int { return (w.Rows + gemmCols - 1) / gemmCols }

// panel returns panel q: [Cols, 16].
func (w Panels) panel(q int) []float32 {
	n := w.Cols * gemmCols
	return w.Data[q*n : (q+1)*n]
}

// PanelBytes is the memory Panels of a rows × cols matrix take.
func PanelBytes(rows, cols int) int {
	return (rows + gemmCols - 1) / gemmCols * gemmCols * cols * 4
}

// PackPanels lays out w (of any stored type, dequantized) as Panels.
func PackPanels(p *Pool, w Matrix) Panels {
	out := Panels{Rows: w.Rows, Cols: w.Cols, Data: make([]float32, PanelBytes(w.Rows, w.Cols)/4)}
	K := w.Cols
	p.Run(out.numPanels(), func(_, lo, hi int) {
		row := make([]float32, K)
		for q := lo; q < hi; q++ {
			dst := out.panel(q)
			for i := 0; i < gemmCols && q*gemmCols+i < w.Rows; i++ {
				Dequantize(row, w.Type, w.Row(q*gemmCols+i), K)
				for k, v := range row {
					dst[k*gemmCols+i] = v
				}
			}
		}
	})
	return out
}

// PackPanelsT lays out the transpose of w as Panels ([w.Cols, w.Rows]), for
// input gradients dx = dy·W: each 16-wide slice of a row of w is one k step
// of a panel, so packing reads w row by row.
func PackPanelsT(p *Pool, w Matrix) Panels {
	out := Panels{Rows: w.Cols, Cols: w.Rows, Data: make([]float32, PanelBytes(w.Cols, w.Rows)/4)}
	K, np := w.Rows, out.numPanels()
	p.Run(K, func(_, lo, hi int) {
		row := make([]float32, np*gemmCols)
		for k := lo; k < hi; k++ {
			Dequantize(row, w.Type, w.Row(k), w.Cols)
			for q := 0; q < np; q++ {
				copy(out.Data[(q*K+k)*gemmCols:(q*K+k+1)*gemmCols], row[q*gemmCols:])
			}
		}
	})
	return out
}

// panelsBlock is the number of input rows multiplied with every panel before
// the next rows: 256 rows of a 256-wide chunk (256 KiB) stay in L2 while the
// panels pass over them.
const panelsBlock = 256

// MatMulPanels computes out[t] = W · x[t], or adds it to out with add, for
// each of the T input rows:
//
//	x   [T, w.Cols]
//	out [T, w.Rows]
//
// Panels are split across the pool's workers; each multiplies its panels
// with blocks of input rows, six rows at a time.
func MatMulPanels(p *Pool, out []float32, w Panels, x []float32, T int, add bool) {
	if w.Rows*w.Cols*T < ParallelMin {
		p = nil
	}
	K := w.Cols
	j := &panelsJob{out: out[:T*w.Rows], w: w, x: x[:T*K], T: T, add: add}
	if !useAVX2 {
		p.Run(w.numPanels(), j.runGo)
		return
	}
	if m := T % gemmRows; m != 0 {
		xt := getScratch(gemmRows * K)
		defer putScratch(xt)
		j.xt = *xt
		copy(j.xt, j.x[(T-m)*K:])
		clear(j.xt[m*K:])
	}
	np := w.numPanels()
	p.RunChunks(np, max(1, np/(4*p.Threads())), j)
}

// panelsJob is one MatMulPanels call.
type panelsJob struct {
	out []float32
	w   Panels
	x   []float32
	T   int
	add bool
	xt  []float32 // [6, Cols]: the last T%6 input rows, padded to a tile
}

// Run multiplies panels [lo, hi) with every input row, in blocks of rows
// whose inputs stay in L2 while the panels pass over them: all of K when a
// block of at least 48 rows fits panelsL2 (each panel's chunks then meet
// inputs already in L2), else one 256-wide chunk of K at a time (each
// 16-column slice of the outputs is then read and written once per chunk).
func (j *panelsJob) Run(_, lo, hi int) {
	T, K, R := j.T, j.w.Cols, j.w.Rows
	kc := gemmChunk(K)
	tb := panelsL2 / (4 * K) / gemmRows * gemmRows
	kOuter := tb < 48
	if kOuter {
		blocks := (T + panelsBlock - 1) / panelsBlock
		tb = ((T+blocks-1)/blocks + gemmRows - 1) / gemmRows * gemmRows
	}
	full := hi // panels [lo, full) are 16 rows wide
	if hi*gemmCols > R {
		full = hi - 1
	}
	var tail [gemmRows * gemmCols]float32 // one partial tile of outputs
	for t0 := 0; t0 < T; t0 += tb {
		t1 := min(T, t0+tb)
		t6 := t1 - (t1-t0)%gemmRows // end of the whole tiles
		block := func(q, k0 int) {
			kn := min(kc, K-k0)
			panel := j.w.panel(q)[k0*gemmCols:]
			r := q * gemmCols
			for t := t0; t < t6; t += gemmRows {
				gemm6x16F32(&j.x[t*K+k0], K, &panel[0], kn, &j.out[t*R+r], R, j.add || k0 > 0)
			}
		}
		if kOuter {
			for k0 := 0; k0 < K; k0 += kc {
				for q := lo; q < full; q++ {
					block(q, k0)
				}
			}
		} else {
			for q := lo; q < full; q++ {
				for k0 := 0; k0 < K; k0 += kc {
					block(q, k0)
				}
			}
		}
		for q := lo; q < hi; q++ {
			r := q * gemmCols
			n := min(gemmCols, R-r)
			if q >= full {
				for t := t0; t < t6; t += gemmRows {
					j.partial(&tail, j.x[t*K:], j.w.panel(q), t, gemmRows, r, n)
				}
			}
			if t6 < t1 {
				j.partial(&tail, j.xt, j.w.panel(q), t6, t1-t6, r, n)
			}
		}
	}
}

// panelsL2 is the share of L2 a block of input rows may take.
const panelsL2 = 256 << 10

// partial computes the tile of output rows t..t+m (m ≤ 6; inputs x, six
// rows with stride K) and panel columns r..r+n (n ≤ 16) through a scratch tile.
func (j *panelsJob) partial(c *[gemmRows * gemmCols]float32, x, panel []float32, t, m, r, n int) {
	K, R := j.w.Cols, j.w.Rows
	kc := gemmChunk(K)
	for k0 := 0; k0 < K; k0 += kc {
		gemm6x16F32(&x[k0], K, &panel[k0*gemmCols], min(kc, K-k0), &c[0], gemmCols, k0 > 0)
	}
	for i := 0; i < m; i++ {
		o := j.out[(t+i)*R+r : (t+i)*R+r+n]
		for jj := range o {
			if j.add {
				o[jj] += c[i*gemmCols+jj]
			} else {
				o[jj] = c[i*gemmCols+jj]
			}
		}
	}
}

// runGo is the product without AVX2: the reference of the fast form.
func (j *panelsJob) runGo(_, lo, hi int) {
	T, K, R := j.T, j.w.Cols, j.w.Rows
	var acc [gemmCols]float32
	for q := lo; q < hi; q++ {
		panel := j.w.panel(q)
		r := q * gemmCols
		n := min(gemmCols, R-r)
		for t := 0; t < T; t++ {
			acc = [gemmCols]float32{}
			x := j.x[t*K : (t+1)*K]
			for k, xv := range x {
				pk := panel[k*gemmCols : (k+1)*gemmCols]
				for i := range acc {
					acc[i] += xv * pk[i]
				}
			}
			o := j.out[t*R+r : t*R+r+n]
			for i := range o {
				if j.add {
					o[i] += acc[i]
				} else {
					o[i] = acc[i]
				}
			}
		}
	}
}
