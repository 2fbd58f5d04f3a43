//go:build amd64 && !purego

package tensor

import "golang.org/x/sys/cpu"

// useAVX2 selects the AVX2/FMA/F16C kernels of dot_amd64.s.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

//go:noescape
func dotBF16AVX2(w *uint16, x *float32, n int) float32

//go:noescape
func dotQ8_0AVX2(w *byte, xq *int8, xd *float32, nb int) float32

//go:noescape
func dotQ4_0AVX2(w *byte, xq *int8, xd *float32, nb int) float32

//go:noescape
func gemm4x3F32(w *float32, ldw int, x *float32, ldx int, k int, out *[12]float32)

//go:noescape
func dotQ8_0x4AVX2(w *byte, stride int, xq *int8, xd *float32, nb int, out *[4]float32)

//go:noescape
func dotQ4_0x4AVX2(w *byte, stride int, xq *int8, xd, xs *float32, nb int, out *[4]float32)

//go:noescape
func dotQ4_0x8RowsAVX2(w *byte, stride int, xq *int8, xd, xs *float32, nb, groups int, out *float32)

//go:noescape
func dotF32RowsAVX2(w *float32, stride int, x *float32, n, rows int, out *float32)

//go:noescape
func dotF16RowsAVX2(w *uint16, stride int, x *float32, n, rows int, out *float32)

//go:noescape
func quantizeQ8ActAVX2(x *float32, q *int8, d, s *float32, nb int)

//go:noescape
func axpyF32AVX2(a float32, x, y *float32, n int)

//go:noescape
func maxF32AVX2(x *float32, n int) float32

//go:noescape
func scaleF32AVX2(a float32, x *float32, n int)

//go:noescape
func dequantF16AVX2(dst *float32, src *uint16, n int)

//go:noescape
func dequantBF16AVX2(dst *float32, src *uint16, n int)

//go:noescape
func dequantQ8_0AVX2(dst *float32, src *byte, nb int)

//go:noescape
func dequantQ4_0AVX2(dst *float32, src *byte, nb int)

//go:noescape
func gemvTF32AVX2(x *float32, a *float32, lda int, m int, n int, out *float32)
