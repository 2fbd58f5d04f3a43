package tensor

// MulStrided computes a product whose operands lie in place in any layout:
//
//	c[i·ldc + j] (+)= Σ_{k<K} X(i, k)·P(k, j)    i < m, j < n
//	X(i, k) = x[i·xi + k·xk],  P(k, j) = p[k·pk + j]
//
// With xi = 1 and xk = rows, X is a row-major matrix read transposed, so
// products such as uᵀ·dy need no transpose; with K small (a LoRA rank)
// each output tile is still read and written once. It runs on the calling
// goroutine, on the 6×16 tile kernel with AVX2; edge tiles pass through
// scratch.
func MulStrided(c []float32, ldc int, x []float32, xi, xk int, p []float32, pk, m, n, K int, add bool) {
	if m <= 0 || n <= 0 {
		return
	}
	if K <= 0 {
		if !add {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	// the last n%16 columns, gathered once into a zero-padded [K, 16] panel
	var edge []float32
	if n%gemmCols != 0 {
		e := getScratch(K * gemmCols)
		defer putScratch(e)
		edge = (*e)[:K*gemmCols]
		j0, nj := n/gemmCols*gemmCols, n%gemmCols
		for k := 0; k < K; k++ {
			copy(edge[k*gemmCols:k*gemmCols+nj], p[k*pk+j0:k*pk+j0+nj])
			clear(edge[k*gemmCols+nj : (k+1)*gemmCols])
		}
	}
	// the last m%6 rows of X, gathered row-major and zero-padded to a tile
	var rows []float32
	if m%gemmRows != 0 {
		r := getScratch(gemmRows * K)
		defer putScratch(r)
		rows = (*r)[:gemmRows*K]
		i0, mi := m/gemmRows*gemmRows, m%gemmRows
		for ii := 0; ii < gemmRows; ii++ {
			for k := 0; k < K; k++ {
				if ii < mi {
					rows[ii*K+k] = x[(i0+ii)*xi+k*xk]
				} else {
					rows[ii*K+k] = 0
				}
			}
		}
	}
	var tile [gemmRows * gemmCols]float32
	for i := 0; i < m; i += gemmRows {
		mi := min(gemmRows, m-i)
		xs, si, sk := x[i*xi:], xi, xk
		if mi < gemmRows {
			xs, si, sk = rows, K, 1
		}
		for j := 0; j < n; j += gemmCols {
			nj := min(gemmCols, n-j)
			ps, psk := p[j:], pk
			if nj < gemmCols {
				ps, psk = edge, gemmCols
			}
			if mi == gemmRows && nj == gemmCols {
				tileStrided(xs, si, sk, ps, psk, K, c[i*ldc+j:], ldc, add)
				continue
			}
			tileStrided(xs, si, sk, ps, psk, K, tile[:], gemmCols, false)
			for r := 0; r < mi; r++ {
				o, t := c[(i+r)*ldc+j:(i+r)*ldc+j+nj], tile[r*gemmCols:]
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

// tileStrided is one 6×16 tile of MulStrided, with the bounds of all three
// operands checked once; the assembly kernel with AVX2, tileStridedGo
// without.
func tileStrided(x []float32, xi, xk int, p []float32, pk, K int, c []float32, ldc int, add bool) {
	_ = x[(gemmRows-1)*xi+(K-1)*xk]
	_ = p[(K-1)*pk+gemmCols-1]
	_ = c[(gemmRows-1)*ldc+gemmCols-1]
	if useAVX2 {
		gemm6x16StridedF32(&x[0], xi, xk, &p[0], pk, K, &c[0], ldc, add)
		return
	}
	tileStridedGo(x, xi, xk, p, pk, K, c, ldc, add)
}

// tileStridedGo is the tile in Go: the reference of the kernel.
func tileStridedGo(x []float32, xi, xk int, p []float32, pk, K int, c []float32, ldc int, add bool) {
	var acc [gemmRows][gemmCols]float32
	for k := 0; k < K; k++ {
		pr := p[k*pk : k*pk+gemmCols]
		for i := range acc {
			xv := x[i*xi+k*xk]
			for j := range acc[i] {
				acc[i][j] += xv * pr[j]
			}
		}
	}
	for i := range acc {
		o := c[i*ldc : i*ldc+gemmCols]
		for j := range o {
			if add {
				o[j] += acc[i][j]
			} else {
				o[j] = acc[i][j]
			}
		}
	}
}
