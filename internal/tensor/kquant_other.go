//go:build !amd64 || purego

package tensor

func dotQ4KAVX2(w *byte, stride, rows int, xq *int8, xd *float32, xs *int16, nb int, out *float32) {
	panic("unreachable")
}

func dotQ5KAVX2(w *byte, stride, rows int, xq *int8, xd *float32, xs *int16, nb int, out *float32) {
	panic("unreachable")
}

func dotQ6KAVX2(w *byte, stride, rows int, xq *int8, xd *float32, xs *int16, nb int, out *float32) {
	panic("unreachable")
}

func dequantQ4KAVX2(dst *float32, src *byte, nb int) { panic("unreachable") }
func dequantQ5KAVX2(dst *float32, src *byte, nb int) { panic("unreachable") }
func dequantQ6KAVX2(dst *float32, src *byte, nb int) { panic("unreachable") }

func quantizeQ8KAVX2(x *float32, q *int8, d *float32, nb int) { panic("unreachable") }
