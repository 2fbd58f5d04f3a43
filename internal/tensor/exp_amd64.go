//go:build amd64 && !purego

package tensor

//go:noescape
func expF32AVX2(x *float32, n int)

//go:noescape
func expSubSumAVX2(x *float32, n int, m float32) float32

//go:noescape
func siluMulAVX2(gate, up *float32, n int)
