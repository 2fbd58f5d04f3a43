//go:build amd64 && !purego

#include "textflag.h"

// Matrix-vector products over whole row ranges for F32 and F16 weights:
// one call covers a worker's rows, each read as one sequential stream with
// the weights prefetched 1 KiB ahead (running on into the next rows), so a
// decode step makes one call per range instead of one per row.

#define HSUM(y, x, t) \
	VEXTRACTF128 $1, y, t \
	VADDPS t, x, x \
	VHADDPS x, x, x \
	VHADDPS x, x, x

// func dotF32RowsAVX2(w *float32, stride int, x *float32, n, rows int, out *float32)
// out[i] = Σ_c w[i·stride/4 + c]·x[c] for i < rows; stride in bytes, n a
// multiple of 8.
TEXT ·dotF32RowsAVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DX
	MOVQ stride+8(FP), R9
	MOVQ rows+32(FP), R8
	MOVQ out+40(FP), BX

f32row:
	MOVQ DX, SI
	MOVQ x+16(FP), DI
	MOVQ n+24(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

f32loop32:
	CMPQ CX, $32
	JL   f32loop8
	PREFETCHT0 1024(SI)
	PREFETCHT0 1088(SI)
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  f32loop32

f32loop8:
	CMPQ CX, $8
	JL   f32done
	VMOVUPS (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  f32loop8

f32done:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM(Y0, X0, X1)
	MOVSS X0, (BX)
	ADDQ $4, BX
	ADDQ R9, DX
	DECQ R8
	JNZ  f32row
	VZEROUPPER
	RET

// func dotF16RowsAVX2(w *uint16, stride int, x *float32, n, rows int, out *float32)
// As dotF32RowsAVX2 for half-precision weights.
TEXT ·dotF16RowsAVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DX
	MOVQ stride+8(FP), R9
	MOVQ rows+32(FP), R8
	MOVQ out+40(FP), BX

f16row:
	MOVQ DX, SI
	MOVQ x+16(FP), DI
	MOVQ n+24(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

f16loop32:
	CMPQ CX, $32
	JL   f16loop8
	PREFETCHT0 1024(SI)
	VCVTPH2PS (SI), Y4
	VCVTPH2PS 16(SI), Y5
	VCVTPH2PS 32(SI), Y6
	VCVTPH2PS 48(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ $64, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  f16loop32

f16loop8:
	CMPQ CX, $8
	JL   f16done
	VCVTPH2PS (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  f16loop8

f16done:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM(Y0, X0, X1)
	MOVSS X0, (BX)
	ADDQ $4, BX
	ADDQ R9, DX
	DECQ R8
	JNZ  f16row
	VZEROUPPER
	RET
