package tensor

import "sync"

// Backward of MatMul. A linear layer y = x·Wᵀ (MatMul) has two gradients:
//
//	dx = dy·W      [T, in]  = [T, out]·[out, in]   (MatMulDX)
//	dW = dyᵀ·x     [out, in] = [out, T]·[T, in]    (MatMulDW)
//
// Both are computed as MatMul calls on transposed operands, so every
// multiply-add of training runs in the one matrix kernel that is made fast.
// A transposition costs one pass over a matrix; the product it feeds costs T
// (or out) passes.

// rowChunk is the number of input rows MatMulTiled hands to MatMul at a
// time: 256 rows of a few hundred floats stay in a core's L2 cache while
// every weight row passes over them (measured: 10-25% faster than one call
// over a 1024-row training batch; tiling the weight rows as well was slower).
const rowChunk = 256

// MatMulTiled is MatMul over T input rows in chunks of at most rowChunk,
// which keeps the inputs in cache when T is large (a training batch). The
// chunks are of nearly equal size, never of one row (which MatMul computes
// over quantized activations).
func MatMulTiled(p *Pool, out []float32, w Matrix, x []float32, T int) {
	chunks := (T + rowChunk - 1) / rowChunk
	for ci := 0; ci < chunks; ci++ {
		lo, hi := ci*T/chunks, (ci+1)*T/chunks
		MatMul(p, out[lo*w.Rows:hi*w.Rows], w, x[lo*w.Cols:hi*w.Cols], hi-lo)
	}
}

// dxTileElems bounds the f32 scratch of one transposed weight tile in
// MatMulDX (4 MiB), so a large output head is transposed in slices.
const dxTileElems = 1 << 20

// MatMulDX accumulates the input gradient of MatMul:
//
//	dx [T, w.Cols] += dy [T, w.Rows] · w
//
// w may be of any stored type; it is dequantized tile by tile into a
// transposed f32 scratch and multiplied with MatMul.
func MatMulDX(p *Pool, dx []float32, w Matrix, dy []float32, T int) {
	rows, cols := w.Rows, w.Cols
	tile := max(1, min(rows, dxTileElems/cols))
	wt := getScratch(cols * tile)
	part := getScratch(T * cols)
	var dyTile *[]float32
	if tile < rows {
		dyTile = getScratch(T * tile)
	}
	for r0 := 0; r0 < rows; r0 += tile {
		n := min(tile, rows-r0)
		transposeRows(p, (*wt)[:cols*n], w, r0, n)
		x := dy[:T*rows]
		if n < rows {
			x = (*dyTile)[:T*n]
			for t := 0; t < T; t++ {
				copy(x[t*n:(t+1)*n], dy[t*rows+r0:t*rows+r0+n])
			}
		}
		MatMulTiled(p, (*part)[:T*cols], Matrix{Type: F32, Rows: cols, Cols: n, Data: Bytes((*wt)[:cols*n])}, x, T)
		Add(dx[:T*cols], (*part)[:T*cols])
	}
	putScratch(wt)
	putScratch(part)
	if dyTile != nil {
		putScratch(dyTile)
	}
}

// MatMulDXRef is MatMulDX by definition, accumulating in float64: the
// reference the fast form is tested against.
func MatMulDXRef(dx []float32, w Matrix, dy []float32, T int) {
	wf := make([]float32, w.Rows*w.Cols)
	Dequantize(wf, w.Type, w.Data, w.Rows*w.Cols)
	for t := 0; t < T; t++ {
		for c := 0; c < w.Cols; c++ {
			var s float64
			for r := 0; r < w.Rows; r++ {
				s += float64(dy[t*w.Rows+r]) * float64(wf[r*w.Cols+c])
			}
			dx[t*w.Cols+c] += float32(s)
		}
	}
}

// MatMulDW accumulates the weight gradient of MatMul:
//
//	dw [R, C] += dyᵀ · x,   dy [T, R], x [T, C]
//
// (the sum over the T rows of the outer products dy[t]⊗x[t]).
func MatMulDW(p *Pool, dw []float32, dy, x []float32, T, R, C int) {
	dyT, xT, part := getScratch(R*T), getScratch(C*T), getScratch(R*C)
	Transpose(p, (*dyT)[:R*T], dy, T, R)
	Transpose(p, (*xT)[:C*T], x, T, C)
	// part[r, c] = Σ_t dyT[r, t]·xT[c, t]
	MatMulTiled(p, (*part)[:R*C], Matrix{Type: F32, Rows: C, Cols: T, Data: Bytes((*xT)[:C*T])}, (*dyT)[:R*T], R)
	Add(dw[:R*C], (*part)[:R*C])
	putScratch(dyT)
	putScratch(xT)
	putScratch(part)
}

// MatMulDWRef is MatMulDW by definition, accumulating in float64.
func MatMulDWRef(dw []float32, dy, x []float32, T, R, C int) {
	for r := 0; r < R; r++ {
		for c := 0; c < C; c++ {
			var s float64
			for t := 0; t < T; t++ {
				s += float64(dy[t*R+r]) * float64(x[t*C+c])
			}
			dw[r*C+c] += float32(s)
		}
	}
}

// transposeBlock is the edge of the square blocks Transpose moves, so both
// the rows read and the rows written stay in cache.
const transposeBlock = 32

// Transpose writes the transpose of src [rows, cols] into dst [cols, rows].
func Transpose(p *Pool, dst, src []float32, rows, cols int) {
	if rows*cols < ParallelMin {
		p = nil
	}
	nb := (rows + transposeBlock - 1) / transposeBlock
	p.Run(nb, func(_, lo, hi int) {
		for r0 := lo * transposeBlock; r0 < min(rows, hi*transposeBlock); r0 += transposeBlock {
			r1 := min(rows, r0+transposeBlock)
			for c0 := 0; c0 < cols; c0 += transposeBlock {
				c1 := min(cols, c0+transposeBlock)
				for r := r0; r < r1; r++ {
					row := src[r*cols : r*cols+c1]
					for c := c0; c < c1; c++ {
						dst[c*rows+r] = row[c]
					}
				}
			}
		}
	})
}

// transposeRows writes rows r0..r0+n of w, as f32, transposed into dst
// [w.Cols, n]: dst[c*n + j] = w[r0+j, c].
func transposeRows(p *Pool, dst []float32, w Matrix, r0, n int) {
	cols := w.Cols
	if w.Type == F32 {
		Transpose(p, dst, F32s(w.Data[r0*4*cols:(r0+n)*4*cols]), n, cols)
		return
	}
	if n*cols < ParallelMin {
		p = nil
	}
	nb := (n + transposeBlock - 1) / transposeBlock
	p.Run(nb, func(_, lo, hi int) {
		b := getScratch(transposeBlock * cols)
		defer putScratch(b)
		buf := *b
		for j0 := lo * transposeBlock; j0 < min(n, hi*transposeBlock); j0 += transposeBlock {
			j1 := min(n, j0+transposeBlock)
			rb := w.Type.RowBytes(cols)
			Dequantize(buf, w.Type, w.Data[(r0+j0)*rb:(r0+j1)*rb], (j1-j0)*cols)
			for c0 := 0; c0 < cols; c0 += transposeBlock {
				c1 := min(cols, c0+transposeBlock)
				for j := j0; j < j1; j++ {
					row := buf[(j-j0)*cols : (j-j0+1)*cols]
					for c := c0; c < c1; c++ {
						dst[c*n+j] = row[c]
					}
				}
			}
		}
	})
}

// scratchPool recycles the f32 scratch of the backward products, so a
// training step does not allocate its temporaries anew.
var scratchPool sync.Pool

func getScratch(n int) *[]float32 {
	if b, ok := scratchPool.Get().(*[]float32); ok {
		if cap(*b) >= n {
			*b = (*b)[:n]
			return b
		}
	}
	b := make([]float32, n)
	return &b
}

func putScratch(b *[]float32) { scratchPool.Put(b) }
