package tensor

import "sync"

// ParallelMin is the number of multiply-adds below which a kernel runs on
// the calling goroutine alone: waking workers costs more.
const ParallelMin = 1 << 15

// MatMul computes out[t] = W · x[t] for each of the T input rows:
//
//	x   [T, W.Cols]
//	out [T, W.Rows]
//
// Rows of W are split across the pool's workers. With T = 1 (decoding) each
// row is one dot product, over quantized activations for Q8_0, Q4_0 and the
// k-quants (Q8KAct) when the CPU has AVX2 (Q4_0 eight rows per activation
// block, DotQ8ActRows), and workers claim chunks of rows (vecChunk) so a
// late or preempted one does not hold up the product. With T > 1 (a prompt) blocks of
// four rows are dequantized once and multiplied with three input rows at a
// time, so the weights are read once per prompt rather than once per token;
// from gemmMinT rows on, with AVX2, blocks of 16 rows are packed into panels
// and multiplied with six input rows at a time in outer-product form (gemm.go).
func MatMul(p *Pool, out []float32, w Matrix, x []float32, T int) {
	if w.Rows*w.Cols*T < ParallelMin {
		p = nil
	}
	j := matmulJobs.Get().(*matmulJob)
	j.out, j.w, j.x, j.T = out[:T*w.Rows], w, x[:T*w.Cols], T
	j.quantized = T == 1 && useAVX2 && (w.Type == Q8_0 || w.Type == Q4_0)
	if j.quantized {
		j.act.Quantize(j.x)
	}
	j.kquantized = T == 1 && useAVX2 && isKQuant(w.Type)
	if j.kquantized {
		j.kact.Quantize(j.x)
	}
	if T > 1 {
		j.prepare(p.Threads(), w.Cols)
		p.RunTask(w.Rows, j)
	} else {
		p.RunChunks(w.Rows, vecChunk(w.Rows, p.Threads()), j)
	}
	j.out, j.x, j.w.Data = nil, nil, nil
	matmulJobs.Put(j)
}

// vecChunk is the number of rows a worker claims at a time in a
// matrix-vector product: about four chunks per worker, so one that starts
// late or is preempted leaves its rows to the others, in multiples of eight
// rows (the Q4_0 kernel's tile) and no fewer than 64 (a claim costs an
// atomic add on a shared cache line).
func vecChunk(rows, threads int) int {
	c := max(rows/(4*threads), 64)
	return (c + 7) &^ 7
}

var matmulJobs = sync.Pool{New: func() any { return new(matmulJob) }}

// matmulJob is one MatMul call, reused so decoding allocates nothing.
type matmulJob struct {
	out       []float32
	w         Matrix
	x         []float32
	T         int
	quantized bool
	act       Q8Act
	scratch   [][]float32   // per worker: four dequantized rows
	gemms     []gemmScratch // per worker: panels of the outer-product form

	// k-quant weights take activations quantized in blocks of 256
	kquantized bool
	kact       Q8KAct
}

func (j *matmulJob) Run(worker, lo, hi int) {
	if j.T == 1 {
		j.vec(lo, hi)
		return
	}
	j.mat(worker, lo, hi)
}

func (j *matmulJob) vec(lo, hi int) {
	w := j.w
	if j.kquantized {
		rb := w.Type.RowBytes(w.Cols)
		DotQ8KActRows(w.Type, w.Data[lo*rb:hi*rb], rb, &j.kact, j.out[lo:hi])
		return
	}
	if j.quantized {
		rb := w.Type.RowBytes(w.Cols)
		DotQ8ActRows(w.Type, w.Data[lo*rb:hi*rb], rb, &j.act, j.out[lo:hi])
		return
	}
	rb := w.Type.RowBytes(w.Cols)
	DotRows(w.Type, w.Data[lo*rb:hi*rb], rb, j.x, j.out[lo:hi])
}

func (j *matmulJob) mat(worker, lo, hi int) {
	K, T, R := j.w.Cols, j.T, j.w.Rows
	if useAVX2 && T >= gemmMinT {
		j.gemm(worker, lo, hi)
		return
	}
	buf := j.scratch[worker]
	var acc [12]float32
	x, out := j.x, j.out
	r := lo
	if useAVX2 && K >= 8 {
		K8 := K &^ 7
		for ; r+4 <= hi; r += 4 {
			rows := j.rows(buf, r, 4)
			t := 0
			for ; t+3 <= T; t += 3 {
				gemm4x3F32(&rows[0], K, &x[t*K], K, K8, &acc)
				for i := 0; i < 4; i++ {
					for k := 0; k < 3; k++ {
						v := acc[3*i+k]
						if K8 < K {
							v += dotF32Go(rows[i*K+K8:(i+1)*K], x[(t+k)*K+K8:(t+k+1)*K])
						}
						out[(t+k)*R+r+i] = v
					}
				}
			}
			for ; t < T; t++ {
				for i := 0; i < 4; i++ {
					out[t*R+r+i] = DotF32(rows[i*K:(i+1)*K], x[t*K:(t+1)*K])
				}
			}
		}
	}
	for ; r < hi; r++ {
		row := j.rows(buf, r, 1)
		for t := 0; t < T; t++ {
			out[t*R+r] = DotF32(row, x[t*K:(t+1)*K])
		}
	}
}

// prepare sizes the per-worker buffers before workers start.
func (j *matmulJob) prepare(workers, K int) {
	for len(j.scratch) < workers {
		j.scratch = append(j.scratch, nil)
	}
	for i := range j.scratch {
		if len(j.scratch[i]) < 4*K {
			j.scratch[i] = make([]float32, 4*K)
		}
	}
	if useAVX2 && j.T >= gemmMinT {
		for len(j.gemms) < workers {
			j.gemms = append(j.gemms, gemmScratch{})
		}
		for i := range j.gemms {
			j.gemms[i].size(j.T, K)
		}
	}
}

// rows returns rows r..r+n of W as f32: in place for F32, else dequantized
// into buf.
func (j *matmulJob) rows(buf []float32, r, n int) []float32 {
	K := j.w.Cols
	rb := j.w.Type.RowBytes(K)
	data := j.w.Data[r*rb : (r+n)*rb]
	if j.w.Type == F32 {
		return F32s(data)
	}
	Dequantize(buf[:n*K], j.w.Type, data, n*K)
	return buf[:n*K]
}
