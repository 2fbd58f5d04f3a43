package tensor

import "unsafe"

// DotRows writes out[i] = Dot(t, row i, x) for len(out) rows of type t
// that start stride bytes apart in rows: one call for a worker's whole
// range of a matrix-vector product, or for attention's weighted sum over
// the rows of a value block. F32 and F16 rows go through one kernel call
// for the range (a tail of fewer than 8 columns is added row by row);
// other types go row by row.
func DotRows(t DType, rows []byte, stride int, x []float32, out []float32) {
	n, cols := len(out), len(x)
	if n == 0 {
		return
	}
	rb := t.RowBytes(cols)
	n8 := cols &^ 7
	if !useAVX2 || (t != F32 && t != F16) || n8 == 0 {
		for r := range n {
			out[r] = Dot(t, rows[r*stride:r*stride+rb], x)
		}
		return
	}
	_ = rows[(n-1)*stride+rb-1] // bounds: the asm reads n rows
	if t == F32 {
		dotF32RowsAVX2((*float32)(unsafe.Pointer(&rows[0])), stride, &x[0], n8, n, &out[0])
	} else {
		dotF16RowsAVX2((*uint16)(unsafe.Pointer(&rows[0])), stride, &x[0], n8, n, &out[0])
	}
	if n8 < cols {
		tail := t.RowBytes(n8)
		for r := range n {
			out[r] += Dot(t, rows[r*stride+tail:r*stride+rb], x[n8:])
		}
	}
}
