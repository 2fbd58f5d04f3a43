//go:build amd64 && !purego

package tensor

// The k-quant kernels of kquant_amd64.s: rows ≥ 1 weight rows of nb ≥ 1
// super-blocks each, stride bytes apart, times activations quantized by
// Q8KAct (xq, xd, xs = Q, D, Sums), into out[0:rows].

//go:noescape
func dotQ4KAVX2(w *byte, stride, rows int, xq *int8, xd *float32, xs *int16, nb int, out *float32)

//go:noescape
func dotQ5KAVX2(w *byte, stride, rows int, xq *int8, xd *float32, xs *int16, nb int, out *float32)

//go:noescape
func dotQ6KAVX2(w *byte, stride, rows int, xq *int8, xd *float32, xs *int16, nb int, out *float32)

// The dequantizers of kquant_amd64.s: nb blocks to 256·nb floats.

//go:noescape
func dequantQ4KAVX2(dst *float32, src *byte, nb int)

//go:noescape
func dequantQ5KAVX2(dst *float32, src *byte, nb int)

//go:noescape
func dequantQ6KAVX2(dst *float32, src *byte, nb int)

// quantizeQ8KAVX2 quantizes nb blocks of 256 floats of x into q and d (Q8KAct
// without the sums).
//
//go:noescape
func quantizeQ8KAVX2(x *float32, q *int8, d *float32, nb int)
