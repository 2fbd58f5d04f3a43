package tensor

import "unsafe"

// DotRows writes out[i] = Dot(t, row i, x) for len(out) rows of type t
// that start stride bytes apart in rows: one call for a worker's whole
// range of a matrix-vector product. F32 and F16 rows whose length is a
// multiple of 8 go through one kernel call for the range; other types go
// row by row.
func DotRows(t DType, rows []byte, stride int, x []float32, out []float32) {
	n, cols := len(out), len(x)
	if n == 0 {
		return
	}
	rb := t.RowBytes(cols)
	if useAVX2 && (t == F32 || t == F16) && cols%8 == 0 {
		_ = rows[(n-1)*stride+rb-1] // bounds: the asm reads n rows
		if t == F32 {
			dotF32RowsAVX2((*float32)(unsafe.Pointer(&rows[0])), stride, &x[0], cols, n, &out[0])
		} else {
			dotF16RowsAVX2((*uint16)(unsafe.Pointer(&rows[0])), stride, &x[0], cols, n, &out[0])
		}
		return
	}
	for r := range n {
		out[r] = Dot(t, rows[r*stride:r*stride+rb], x)
	}
}
