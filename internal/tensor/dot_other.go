//go:build !amd64 || purego

package tensor

// useAVX2 is false where dot_amd64.s is not built; the pure-Go kernels run.
const useAVX2 = false

func dotBF16AVX2(w *uint16, x *float32, n int) float32                         { panic("unreachable") }
func dotQ8_0AVX2(w *byte, xq *int8, xd *float32, nb int) float32               { panic("unreachable") }
func dotQ4_0AVX2(w *byte, xq *int8, xd *float32, nb int) float32               { panic("unreachable") }
func gemm4x3F32(w *float32, ldw int, x *float32, ldx, k int, out *[12]float32) { panic("unreachable") }

func dotQ8_0x4AVX2(w *byte, stride int, xq *int8, xd *float32, nb int, out *[4]float32) {
	panic("unreachable")
}

func dotQ4_0x4AVX2(w *byte, stride int, xq *int8, xd, xs *float32, nb int, out *[4]float32) {
	panic("unreachable")
}

func dotQ4_0x8RowsAVX2(w *byte, stride int, xq *int8, xd, xs *float32, nb, groups int, out *float32) {
	panic("unreachable")
}

func dotF32RowsAVX2(w *float32, stride int, x *float32, n, rows int, out *float32) {
	panic("unreachable")
}

func dotF16RowsAVX2(w *uint16, stride int, x *float32, n, rows int, out *float32) {
	panic("unreachable")
}

func quantizeQ8ActAVX2(x *float32, q *int8, d, s *float32, nb int) { panic("unreachable") }

func axpyF32AVX2(a float32, x, y *float32, n int) { panic("unreachable") }
func maxF32AVX2(x *float32, n int) float32        { panic("unreachable") }
func scaleF32AVX2(a float32, x *float32, n int)   { panic("unreachable") }

func expF32AVX2(x *float32, n int)                       { panic("unreachable") }
func expSubSumAVX2(x *float32, n int, m float32) float32 { panic("unreachable") }
func siluMulAVX2(gate, up *float32, n int)               { panic("unreachable") }

func dequantF16AVX2(dst *float32, src *uint16, n int)  { panic("unreachable") }
func dequantBF16AVX2(dst *float32, src *uint16, n int) { panic("unreachable") }
func dequantQ8_0AVX2(dst *float32, src *byte, nb int)  { panic("unreachable") }
func dequantQ4_0AVX2(dst *float32, src *byte, nb int)  { panic("unreachable") }

func gemvTF32AVX2(x *float32, a *float32, lda int, m int, n int, out *float32) { panic("unreachable") }
