//go:build amd64 && !purego

#include "textflag.h"

// q8actperm: VPERMD order that undoes the lane interleaving of VPACKSSDW and
// VPACKSSWB (dwords 0, 4, 1, 5, 2, 6, 3, 7).
DATA q8actperm<>+0(SB)/8, $0x0000000400000000
DATA q8actperm<>+8(SB)/8, $0x0000000500000001
DATA q8actperm<>+16(SB)/8, $0x0000000600000002
DATA q8actperm<>+24(SB)/8, $0x0000000700000003
GLOBL q8actperm<>(SB), RODATA|NOPTR, $32

// Round the floats of Y(v) half away from zero to int32 in place, as
// math.Round does: truncate, then step away from zero where the dropped
// fraction f = v − trunc(v) (exact) has |f| ≥ ½. Y10 = −½, Y11 = ½;
// clobbers Y4, Y6, Y7.
#define ROUNDAWAY(v) \
	VCVTTPS2DQ v, Y4 \
	VCVTDQ2PS Y4, Y6 \
	VSUBPS Y6, v, Y6 \
	VCMPPS $0x1d, Y11, Y6, Y7 \
	VPSUBD Y7, Y4, Y4 \
	VCMPPS $0x12, Y10, Y6, Y7 \
	VPADDD Y7, Y4, v

// func quantizeQ8ActAVX2(x *float32, q *int8, d, s *float32, nb int)
// Per block of 32: d = max|x|/127, q = round(x·(1/d)) (half away from
// zero), or 0 when d = 0, and s = d·Σq: Q8Act.quantizeRef in AVX2.
TEXT ·quantizeQ8ActAVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ q+8(FP), DI
	MOVQ d+16(FP), DX
	MOVQ s+24(FP), R8
	MOVQ nb+32(FP), CX
	MOVL $0x7fffffff, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	VMOVDQU q8actperm<>(SB), Y14
	MOVL $0x42fe0000, AX // 127
	VMOVD AX, X13
	MOVL $0x3f800000, AX // 1
	VMOVD AX, X12
	MOVL $0x3f000000, AX // ½
	VMOVD AX, X11
	VPBROADCASTD X11, Y11
	MOVL $0xbf000000, AX // −½
	VMOVD AX, X10
	VPBROADCASTD X10, Y10

q8ablock:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VANDPS Y0, Y15, Y4
	VANDPS Y1, Y15, Y5
	VANDPS Y2, Y15, Y6
	VANDPS Y3, Y15, Y7
	VMAXPS Y5, Y4, Y4
	VMAXPS Y7, Y6, Y6
	VMAXPS Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VMAXPS X5, X4, X4
	VPERMILPS $0x4e, X4, X5
	VMAXPS X5, X4, X4
	VPERMILPS $0xb1, X4, X5
	VMAXPS X5, X4, X4
	VDIVSS X13, X4, X8 // d
	VMOVSS X8, (DX)
	VXORPS X5, X5, X5
	VUCOMISS X5, X8
	JEQ  q8ascaled
	VDIVSS X8, X12, X5

q8ascaled:
	VBROADCASTSS X5, Y5
	VMULPS Y5, Y0, Y0
	VMULPS Y5, Y1, Y1
	VMULPS Y5, Y2, Y2
	VMULPS Y5, Y3, Y3
	ROUNDAWAY(Y0)
	ROUNDAWAY(Y1)
	ROUNDAWAY(Y2)
	ROUNDAWAY(Y3)

	// s = d·Σq
	VPADDD Y1, Y0, Y4
	VPADDD Y3, Y2, Y5
	VPADDD Y5, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDD X5, X4, X4
	VPSHUFD $0x4e, X4, X5
	VPADDD X5, X4, X4
	VPSHUFD $0xb1, X4, X5
	VPADDD X5, X4, X4
	VCVTDQ2PS X4, X4
	VMULSS X4, X8, X4
	VMOVSS X4, (R8)

	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD Y0, Y14, Y0
	VMOVDQU Y0, (DI)
	ADDQ $128, SI
	ADDQ $32, DI
	ADDQ $4, DX
	ADDQ $4, R8
	DECQ CX
	JNZ  q8ablock
	VZEROUPPER
	RET
