package tensor

import "math"

// The blocked forms of attention: the same arithmetic as ForwardRef and
// BackwardRef, but on blocks of attnBlock query rows at once, so the
// products q·kᵀ, p·v and their gradients run on the matrix kernel. A block
// of rows i0..i1 needs keys up to i1 only (causality), which skips about
// half of the full T×T products.
//
// Each head's keys and values are laid out once as the kernel's panels of
// 16 positions, for the products with them on the right (q·kᵀ, dout·vᵀ).
// Every other operand is read in place through its strides (MulStrided:
// p·v and ds·k read v and k as they lie, dsᵀ·q and pᵀ·dout read the block's
// weights transposed), and dq, dk and dv are added into the caller's
// buffers by the kernel itself.

// attnBlock is the number of query rows per block.
const attnBlock = 64

// AttentionScratch is the working memory of one worker's blocked
// attention; the zero value is ready and grows on demand.
type AttentionScratch struct {
	kRows, vRows []float32 // [⌈T/16⌉, HeadDim, 16] keys, values: 16 positions per panel
	s, ds        []float32 // [attnBlock, T] weights and their gradients
	norm         [attnBlock]float32
	tiles        tileScratch
}

func (w *AttentionScratch) size(T, hd int) {
	grow := func(b []float32, n int) []float32 {
		if cap(b) < n {
			return make([]float32, n)
		}
		return b[:n]
	}
	pad := func(n int) int { return (n + gemmCols - 1) / gemmCols * gemmCols }
	w.kRows, w.vRows = grow(w.kRows, pad(T)*hd), grow(w.vRows, pad(T)*hd)
	w.s, w.ds = grow(w.s, attnBlock*T), grow(w.ds, attnBlock*T)
	w.tiles.x = grow(w.tiles.x, gemmRows*hd)
}

// packRows lays out rows × cols values (row r at src[r·stride]), times
// scale, as panels of 16 rows: dst[(p·cols + c)·16 + i] =
// scale·src[(16p + i)·stride + c], zero past the last row. A product with
// them sums over c for 16 rows at once.
func packRows(dst, src []float32, rows, cols, stride int, scale float32) {
	for p := 0; p*gemmCols < rows; p++ {
		panel := dst[p*cols*gemmCols : (p+1)*cols*gemmCols]
		for i := 0; i < gemmCols; i++ {
			r := p*gemmCols + i
			if r >= rows {
				for c := 0; c < cols; c++ {
					panel[c*gemmCols+i] = 0
				}
				continue
			}
			for c, v := range src[r*stride : r*stride+cols] {
				panel[c*gemmCols+i] = scale * v
			}
		}
	}
}

// tileScratch holds a product's partial tiles.
type tileScratch struct {
	x []float32 // [6, K] the last rows of x, padded to a tile
	c [gemmRows * gemmCols]float32
}

// mulPanels sets c[i·ldc + j] = Σ_{k<K} x[i·ldx + k]·P_j[k] for i < m and
// j < n, or adds it to c with add, where P_j is column j%16 of panel j/16,
// the panels lying pstride floats apart ([K, 16] each, as packRows lays
// them out). One thread; partial tiles pass through sc.
func mulPanels(c []float32, ldc int, x []float32, ldx, m int, pan []float32, pstride, K, n int, add bool, sc *tileScratch) {
	for i := 0; i < m; i += gemmRows {
		mi := min(gemmRows, m-i)
		xs, lx := x[i*ldx:], ldx
		if mi < gemmRows {
			xs, lx = sc.x[:gemmRows*K], K
			for r := 0; r < gemmRows; r++ {
				if r < mi {
					copy(xs[r*K:(r+1)*K], x[(i+r)*ldx:(i+r)*ldx+K])
				} else {
					clear(xs[r*K : (r+1)*K])
				}
			}
		}
		for j := 0; j < n; j += gemmCols {
			nj := min(gemmCols, n-j)
			panel := pan[j/gemmCols*pstride:]
			if mi == gemmRows && nj == gemmCols {
				gemm6x16(xs, lx, panel, K, c[i*ldc+j:], ldc, add)
				continue
			}
			gemm6x16(xs, lx, panel, K, sc.c[:], gemmCols, false)
			for r := 0; r < mi; r++ {
				o, t := c[(i+r)*ldc+j:(i+r)*ldc+j+nj], sc.c[r*gemmCols:]
				for jj := range o {
					if add {
						o[jj] += t[jj]
					} else {
						o[jj] = t[jj]
					}
				}
			}
		}
	}
}

// keyStart is the first key of the panels block i0.. multiplies: the first
// visible key rounded down to a panel (keys before it get weight 0).
func (a AttentionHead) keyStart(i0 int) int { return a.first(i0) / gemmCols * gemmCols }

// blockWeights turns s [n, nk] (scaled scores of rows i0.. against keys
// j0..j0+nk) into exp(s − lse) on the visible keys and 0 elsewhere. With
// lse nil it computes each row's log-sum-exp into lseOut first and leaves
// the weights unnormalised: norm[r] = 1/Σ exp is the factor row r's output
// still needs (the forward; it scales hd outputs rather than nk weights).
func (a AttentionHead) blockWeights(s []float32, i0, n, j0, nk int, lse, lseOut, norm []float32) {
	for r := 0; r < n; r++ {
		i := i0 + r
		row := s[r*nk : (r+1)*nk]
		lo, hi := a.first(i)-j0, i-j0+1 // visible keys, relative to j0
		vis := row[lo:hi]
		if lse == nil {
			m := maxOf(vis)
			sum := ExpShifted(vis, vis, m)
			norm[r] = float32(1 / sum)
			lseOut[i*a.LSEStride] = m + float32(math.Log(sum))
		} else {
			ExpShifted(vis, vis, lse[i*a.LSEStride])
		}
		clear(row[:lo])
		clear(row[hi:])
	}
}

// Forward computes what ForwardRef does, in blocks of query rows on the
// matrix kernel; w is the worker's scratch.
func (a AttentionHead) Forward(out, lse, q, k, v []float32, w *AttentionScratch) {
	T, hd := a.T, a.HeadDim
	w.size(T, hd)
	packRows(w.kRows, k, T, hd, a.KVStride, a.Scale)
	for i0 := 0; i0 < T; i0 += attnBlock {
		i1 := min(T, i0+attnBlock)
		n := i1 - i0
		j0 := a.keyStart(i0)
		nk := i1 - j0
		// s = Scale·q[i0:i1]·k[j0:i1]ᵀ, then the weights p (unnormalised)
		s := w.s[:n*nk]
		mulPanels(s, nk, q[i0*a.QStride:], a.QStride, n, w.kRows[j0*hd:], hd*gemmCols, hd, nk, false, &w.tiles)
		a.blockWeights(s, i0, n, j0, nk, nil, lse, w.norm[:n])
		// out[i0:i1] = p·v[j0:i1], normalised
		MulStrided(out[i0*a.QStride:], a.QStride, s, nk, 1, v[j0*a.KVStride:], a.KVStride, n, hd, nk, false)
		for r, f := range w.norm[:n] {
			scaleBy(f, out[(i0+r)*a.QStride:(i0+r)*a.QStride+hd])
		}
	}
}

// Backward computes what BackwardRef does (adding into dq, dk and dv), in
// blocks of query rows on the matrix kernel; w is the worker's scratch.
func (a AttentionHead) Backward(dq, dk, dv, dout, out, lse, q, k, v []float32, w *AttentionScratch) {
	T, hd := a.T, a.HeadDim
	w.size(T, hd)
	packRows(w.kRows, k, T, hd, a.KVStride, a.Scale)
	packRows(w.vRows, v, T, hd, a.KVStride, 1)
	for i0 := 0; i0 < T; i0 += attnBlock {
		i1 := min(T, i0+attnBlock)
		n := i1 - i0
		j0 := a.keyStart(i0)
		nk := i1 - j0
		qb, dob := q[i0*a.QStride:], dout[i0*a.QStride:]
		// p = exp(Scale·q·kᵀ − lse)
		p := w.s[:n*nk]
		mulPanels(p, nk, qb, a.QStride, n, w.kRows[j0*hd:], hd*gemmCols, hd, nk, false, &w.tiles)
		a.blockWeights(p, i0, n, j0, nk, lse, nil, nil)
		// dp = dout·vᵀ;  ds = Scale·p ⊙ (dp − D), D_i = dout_i·out_i
		ds := w.ds[:n*nk]
		mulPanels(ds, nk, dob, a.QStride, n, w.vRows[j0*hd:], hd*gemmCols, hd, nk, false, &w.tiles)
		for r := 0; r < n; r++ {
			i := i0 + r
			D := DotF32(dout[i*a.QStride:i*a.QStride+hd], out[i*a.QStride:i*a.QStride+hd])
			pr, dr := p[r*nk:(r+1)*nk], ds[r*nk:(r+1)*nk]
			for c := range dr {
				dr[c] = pr[c] * (dr[c] - D) * a.Scale
			}
		}
		// dq[i0:i1] += ds·k[j0:i1]
		MulStrided(dq[i0*a.QStride:], a.QStride, ds, nk, 1, k[j0*a.KVStride:], a.KVStride, n, hd, nk, true)
		// dk[j0:i1] += dsᵀ·q[i0:i1];  dv[j0:i1] += pᵀ·dout[i0:i1], with ds
		// and p read transposed and q and dout read in place
		MulStrided(dk[j0*a.KVStride:], a.KVStride, ds, 1, nk, qb, a.QStride, nk, hd, n, true)
		MulStrided(dv[j0*a.KVStride:], a.KVStride, p, 1, nk, dob, a.QStride, nk, hd, n, true)
	}
}
