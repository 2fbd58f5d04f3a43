package lora

import (
	"fmt"

	"flywheel/internal/tensor"
)

// Delta returns m's weight update s·B·A [Out, In], the matrix Merge adds.
func (a *Adapter) Delta(m *Module) []float32 {
	d := make([]float32, m.Out*m.In)
	A, B, s := a.A(m), a.B(m), a.Config.Scale()
	for o := 0; o < m.Out; o++ {
		row := d[o*m.In : (o+1)*m.In]
		for j := 0; j < m.Rank; j++ {
			tensor.Axpy(s*B[o*m.Rank+j], A[j*m.In:(j+1)*m.In], row)
		}
	}
	return d
}

// Merge returns w + s·B·A for the module adapting target t of layer l,
// stored as dtype, or w itself when that projection is not adapted. The sum
// is formed in f32; F32 keeps it exactly, other types round it anew.
func (a *Adapter) Merge(w tensor.Matrix, l int, t Target, dtype tensor.DType) (tensor.Matrix, error) {
	m := a.Module(l, t)
	if m == nil {
		return w, nil
	}
	if w.Rows != m.Out || w.Cols != m.In {
		return w, fmt.Errorf("layer %d %v: weight is %d×%d, the adapter's module %d×%d", l, t, w.Rows, w.Cols, m.Out, m.In)
	}
	if dtype.BlockSize() == 0 || m.In%dtype.BlockSize() != 0 {
		return w, fmt.Errorf("layer %d %v: cannot store %d-wide rows as %v", l, t, m.In, dtype)
	}
	f := make([]float32, w.Rows*w.Cols)
	tensor.Dequantize(f, w.Type, w.Data, len(f))
	tensor.Add(f, a.Delta(m))
	return tensor.Matrix{Type: dtype, Rows: w.Rows, Cols: w.Cols, Data: tensor.Quantize(nil, dtype, f)}, nil
}
