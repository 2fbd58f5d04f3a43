//go:build amd64 && !purego

#include "textflag.h"

// One k step of the 6×16 tile: the 16 panel values at k sit in Y12:Y13;
// x value xv of tile row i is broadcast into b and multiplied into the
// accumulators lo and hi.
#define ROW(xv, b, lo, hi) \
	VBROADCASTSS xv, b \
	VFMADD231PS  Y12, b, lo \
	VFMADD231PS  Y13, b, hi

// The tile's 6×16 sums sit in Y0..Y11 (row i in Y(2i), Y(2i+1)); c rows 0
// and 3 are addressed by DX and R12, the row stride in bytes by R11.
#define LOADC \
	VMOVUPS (DX), Y0 \
	VMOVUPS 32(DX), Y1 \
	VMOVUPS (DX)(R11*1), Y2 \
	VMOVUPS 32(DX)(R11*1), Y3 \
	VMOVUPS (DX)(R11*2), Y4 \
	VMOVUPS 32(DX)(R11*2), Y5 \
	VMOVUPS (R12), Y6 \
	VMOVUPS 32(R12), Y7 \
	VMOVUPS (R12)(R11*1), Y8 \
	VMOVUPS 32(R12)(R11*1), Y9 \
	VMOVUPS (R12)(R11*2), Y10 \
	VMOVUPS 32(R12)(R11*2), Y11

#define ZEROC \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1 \
	VXORPS Y2, Y2, Y2 \
	VXORPS Y3, Y3, Y3 \
	VXORPS Y4, Y4, Y4 \
	VXORPS Y5, Y5, Y5 \
	VXORPS Y6, Y6, Y6 \
	VXORPS Y7, Y7, Y7 \
	VXORPS Y8, Y8, Y8 \
	VXORPS Y9, Y9, Y9 \
	VXORPS Y10, Y10, Y10 \
	VXORPS Y11, Y11, Y11

#define STOREC \
	VMOVUPS Y0, (DX) \
	VMOVUPS Y1, 32(DX) \
	VMOVUPS Y2, (DX)(R11*1) \
	VMOVUPS Y3, 32(DX)(R11*1) \
	VMOVUPS Y4, (DX)(R11*2) \
	VMOVUPS Y5, 32(DX)(R11*2) \
	VMOVUPS Y6, (R12) \
	VMOVUPS Y7, 32(R12) \
	VMOVUPS Y8, (R12)(R11*1) \
	VMOVUPS Y9, 32(R12)(R11*1) \
	VMOVUPS Y10, (R12)(R11*2) \
	VMOVUPS Y11, 32(R12)(R11*2)

// func gemm6x16F32(x *float32, ldx int, panel *float32, k int, c *float32, ldc int, add bool)
// c[i·ldc + j] (+)= Σ_kk x[i·ldx + kk]·panel[kk·16 + j] for i < 6, j < 16;
// with add the sums are added to c, else they replace it. k must be ≥ 1.
TEXT ·gemm6x16F32(SB), NOSPLIT, $0-49
	MOVQ x+0(FP), SI
	MOVQ ldx+8(FP), R8
	SHLQ $2, R8
	MOVQ panel+16(FP), DI
	MOVQ k+24(FP), CX
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R11
	SHLQ $2, R11
	LEAQ (SI)(R8*2), R10
	ADDQ R8, R10           // x row 3
	LEAQ (DX)(R11*2), R12
	ADDQ R11, R12          // c row 3
	MOVBLZX add+48(FP), AX
	TESTL AX, AX
	JZ   zero
	LOADC
	JMP  loop

zero:
	ZEROC

loop:
	CMPQ CX, $2
	JL   last
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	ROW((SI), Y14, Y0, Y1)
	ROW((SI)(R8*1), Y15, Y2, Y3)
	ROW((SI)(R8*2), Y14, Y4, Y5)
	ROW((R10), Y15, Y6, Y7)
	ROW((R10)(R8*1), Y14, Y8, Y9)
	ROW((R10)(R8*2), Y15, Y10, Y11)
	VMOVUPS 64(DI), Y12
	VMOVUPS 96(DI), Y13
	ROW(4(SI), Y14, Y0, Y1)
	ROW(4(SI)(R8*1), Y15, Y2, Y3)
	ROW(4(SI)(R8*2), Y14, Y4, Y5)
	ROW(4(R10), Y15, Y6, Y7)
	ROW(4(R10)(R8*1), Y14, Y8, Y9)
	ROW(4(R10)(R8*2), Y15, Y10, Y11)
	ADDQ $8, SI
	ADDQ $8, R10
	ADDQ $128, DI
	SUBQ $2, CX
	JMP  loop

last:
	TESTQ CX, CX
	JZ   store
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	ROW((SI), Y14, Y0, Y1)
	ROW((SI)(R8*1), Y15, Y2, Y3)
	ROW((SI)(R8*2), Y14, Y4, Y5)
	ROW((R10), Y15, Y6, Y7)
	ROW((R10)(R8*1), Y14, Y8, Y9)
	ROW((R10)(R8*2), Y15, Y10, Y11)

store:
	STOREC
	VZEROUPPER
	RET

// func gemm6x16StridedF32(x *float32, xi, xk int, p *float32, pk, k int, c *float32, ldc int, add bool)
// The 6×16 tile on operands of any layout: c[i·ldc + j] (+)=
// Σ_kk x[i·xi + kk·xk]·p[kk·pk + j] for i < 6, j < 16 (strides in
// elements). One k step per iteration; k must be ≥ 1.
TEXT ·gemm6x16StridedF32(SB), NOSPLIT, $0-65
	MOVQ x+0(FP), SI
	MOVQ xi+8(FP), R8
	SHLQ $2, R8
	MOVQ xk+16(FP), R9
	SHLQ $2, R9
	MOVQ p+24(FP), DI
	MOVQ pk+32(FP), BX
	SHLQ $2, BX
	MOVQ k+40(FP), CX
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R11
	SHLQ $2, R11
	LEAQ (SI)(R8*2), R10
	ADDQ R8, R10           // x row 3
	LEAQ (DX)(R11*2), R12
	ADDQ R11, R12          // c row 3
	MOVBLZX add+64(FP), AX
	TESTL AX, AX
	JZ   szero
	LOADC
	JMP  sloop

szero:
	ZEROC

sloop:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	ROW((SI), Y14, Y0, Y1)
	ROW((SI)(R8*1), Y15, Y2, Y3)
	ROW((SI)(R8*2), Y14, Y4, Y5)
	ROW((R10), Y15, Y6, Y7)
	ROW((R10)(R8*1), Y14, Y8, Y9)
	ROW((R10)(R8*2), Y15, Y10, Y11)
	ADDQ R9, SI
	ADDQ R9, R10
	ADDQ BX, DI
	DECQ CX
	JNZ  sloop

	STOREC
	VZEROUPPER
	RET

// func pack8F32(dst *float32, src *float32, lds int, k int, pf int)
// dst[kk·16 + j] = src[j·lds + kk] for j < 8, kk < k: eight rows transposed
// into half of a 16-wide panel. k must be a positive multiple of 8. The same
// columns pf bytes further on are prefetched (the next panel's rows), so
// they arrive while this panel is multiplied.
TEXT ·pack8F32(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), R8
	SHLQ $2, R8
	MOVQ k+24(FP), CX
	MOVQ pf+32(FP), AX
	LEAQ (SI)(R8*2), R9
	ADDQ R8, R9            // row 3
	LEAQ (R9)(R8*2), R10
	ADDQ R8, R10           // row 6
	LEAQ (R9)(AX*1), BX    // row 3 + pf
	LEAQ (R10)(AX*1), DX   // row 6 + pf
	ADDQ SI, AX            // row 0 + pf

packloop:
	PREFETCHT0 (AX)
	PREFETCHT0 (AX)(R8*1)
	PREFETCHT0 (AX)(R8*2)
	PREFETCHT0 (BX)
	PREFETCHT0 (BX)(R8*1)
	PREFETCHT0 (BX)(R8*2)
	PREFETCHT0 (DX)
	PREFETCHT0 (DX)(R8*1)
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (R9), Y3
	VMOVUPS (R9)(R8*1), Y4
	VMOVUPS (R9)(R8*2), Y5
	VMOVUPS (R10), Y6
	VMOVUPS (R10)(R8*1), Y7
	VUNPCKLPS Y1, Y0, Y8   // r0[0] r1[0] r0[1] r1[1] per lane
	VUNPCKHPS Y1, Y0, Y9   // r0[2] r1[2] r0[3] r1[3]
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0 // rows 0-3 of columns 0 (low lane) and 4
	VSHUFPS $0xEE, Y10, Y8, Y1 // columns 1, 5
	VSHUFPS $0x44, Y11, Y9, Y2 // columns 2, 6
	VSHUFPS $0xEE, Y11, Y9, Y3 // columns 3, 7
	VSHUFPS $0x44, Y14, Y12, Y4 // rows 4-7
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 64(DI)
	VMOVUPS Y10, 128(DI)
	VMOVUPS Y11, 192(DI)
	VMOVUPS Y12, 256(DI)
	VMOVUPS Y13, 320(DI)
	VMOVUPS Y14, 384(DI)
	VMOVUPS Y15, 448(DI)
	ADDQ $32, SI
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, AX
	ADDQ $32, BX
	ADDQ $32, DX
	ADDQ $512, DI
	SUBQ $8, CX
	JNZ  packloop
	VZEROUPPER
	RET
