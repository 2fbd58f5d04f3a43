//go:build !amd64 || purego

package tensor

func gemm6x16F32(x *float32, ldx int, panel *float32, k int, c *float32, ldc int, add bool) {
	panic("unreachable")
}

func gemm6x16StridedF32(x *float32, xi, xk int, p *float32, pk, k int, c *float32, ldc int, add bool) {
	panic("unreachable")
}

func pack8F32(dst *float32, src *float32, lds int, k int, pf int) { panic("unreachable") }
