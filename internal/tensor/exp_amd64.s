//go:build amd64 && !purego

#include "textflag.h"

// Vectorised float32 e^x (Cephes' expf: x = n·ln2 + r, a polynomial in r,
// times 2^n), 8 lanes at a time. Inputs are clamped to ±88.376; results
// below 2^-126 flush to zero. Each constant is 8 copies wide.
DATA expconst<>+0(SB)/4, $0x42b0c0a5
DATA expconst<>+4(SB)/4, $0x42b0c0a5
DATA expconst<>+8(SB)/4, $0x42b0c0a5
DATA expconst<>+12(SB)/4, $0x42b0c0a5
DATA expconst<>+16(SB)/4, $0x42b0c0a5
DATA expconst<>+20(SB)/4, $0x42b0c0a5
DATA expconst<>+24(SB)/4, $0x42b0c0a5
DATA expconst<>+28(SB)/4, $0x42b0c0a5
DATA expconst<>+32(SB)/4, $0xc2b0c0a5
DATA expconst<>+36(SB)/4, $0xc2b0c0a5
DATA expconst<>+40(SB)/4, $0xc2b0c0a5
DATA expconst<>+44(SB)/4, $0xc2b0c0a5
DATA expconst<>+48(SB)/4, $0xc2b0c0a5
DATA expconst<>+52(SB)/4, $0xc2b0c0a5
DATA expconst<>+56(SB)/4, $0xc2b0c0a5
DATA expconst<>+60(SB)/4, $0xc2b0c0a5
DATA expconst<>+64(SB)/4, $0x3f318000
DATA expconst<>+68(SB)/4, $0x3f318000
DATA expconst<>+72(SB)/4, $0x3f318000
DATA expconst<>+76(SB)/4, $0x3f318000
DATA expconst<>+80(SB)/4, $0x3f318000
DATA expconst<>+84(SB)/4, $0x3f318000
DATA expconst<>+88(SB)/4, $0x3f318000
DATA expconst<>+92(SB)/4, $0x3f318000
DATA expconst<>+96(SB)/4, $0xb95e8083
DATA expconst<>+100(SB)/4, $0xb95e8083
DATA expconst<>+104(SB)/4, $0xb95e8083
DATA expconst<>+108(SB)/4, $0xb95e8083
DATA expconst<>+112(SB)/4, $0xb95e8083
DATA expconst<>+116(SB)/4, $0xb95e8083
DATA expconst<>+120(SB)/4, $0xb95e8083
DATA expconst<>+124(SB)/4, $0xb95e8083
DATA expconst<>+128(SB)/4, $0x39506967
DATA expconst<>+132(SB)/4, $0x39506967
DATA expconst<>+136(SB)/4, $0x39506967
DATA expconst<>+140(SB)/4, $0x39506967
DATA expconst<>+144(SB)/4, $0x39506967
DATA expconst<>+148(SB)/4, $0x39506967
DATA expconst<>+152(SB)/4, $0x39506967
DATA expconst<>+156(SB)/4, $0x39506967
DATA expconst<>+160(SB)/4, $0x3ab743ce
DATA expconst<>+164(SB)/4, $0x3ab743ce
DATA expconst<>+168(SB)/4, $0x3ab743ce
DATA expconst<>+172(SB)/4, $0x3ab743ce
DATA expconst<>+176(SB)/4, $0x3ab743ce
DATA expconst<>+180(SB)/4, $0x3ab743ce
DATA expconst<>+184(SB)/4, $0x3ab743ce
DATA expconst<>+188(SB)/4, $0x3ab743ce
DATA expconst<>+192(SB)/4, $0x3c088908
DATA expconst<>+196(SB)/4, $0x3c088908
DATA expconst<>+200(SB)/4, $0x3c088908
DATA expconst<>+204(SB)/4, $0x3c088908
DATA expconst<>+208(SB)/4, $0x3c088908
DATA expconst<>+212(SB)/4, $0x3c088908
DATA expconst<>+216(SB)/4, $0x3c088908
DATA expconst<>+220(SB)/4, $0x3c088908
DATA expconst<>+224(SB)/4, $0x3d2aa9c1
DATA expconst<>+228(SB)/4, $0x3d2aa9c1
DATA expconst<>+232(SB)/4, $0x3d2aa9c1
DATA expconst<>+236(SB)/4, $0x3d2aa9c1
DATA expconst<>+240(SB)/4, $0x3d2aa9c1
DATA expconst<>+244(SB)/4, $0x3d2aa9c1
DATA expconst<>+248(SB)/4, $0x3d2aa9c1
DATA expconst<>+252(SB)/4, $0x3d2aa9c1
DATA expconst<>+256(SB)/4, $0x3e2aaaaa
DATA expconst<>+260(SB)/4, $0x3e2aaaaa
DATA expconst<>+264(SB)/4, $0x3e2aaaaa
DATA expconst<>+268(SB)/4, $0x3e2aaaaa
DATA expconst<>+272(SB)/4, $0x3e2aaaaa
DATA expconst<>+276(SB)/4, $0x3e2aaaaa
DATA expconst<>+280(SB)/4, $0x3e2aaaaa
DATA expconst<>+284(SB)/4, $0x3e2aaaaa
DATA expconst<>+288(SB)/4, $0x3f000000
DATA expconst<>+292(SB)/4, $0x3f000000
DATA expconst<>+296(SB)/4, $0x3f000000
DATA expconst<>+300(SB)/4, $0x3f000000
DATA expconst<>+304(SB)/4, $0x3f000000
DATA expconst<>+308(SB)/4, $0x3f000000
DATA expconst<>+312(SB)/4, $0x3f000000
DATA expconst<>+316(SB)/4, $0x3f000000
DATA expconst<>+320(SB)/4, $0x3fb8aa3b
DATA expconst<>+324(SB)/4, $0x3fb8aa3b
DATA expconst<>+328(SB)/4, $0x3fb8aa3b
DATA expconst<>+332(SB)/4, $0x3fb8aa3b
DATA expconst<>+336(SB)/4, $0x3fb8aa3b
DATA expconst<>+340(SB)/4, $0x3fb8aa3b
DATA expconst<>+344(SB)/4, $0x3fb8aa3b
DATA expconst<>+348(SB)/4, $0x3fb8aa3b
DATA expconst<>+352(SB)/4, $0x3f000000
DATA expconst<>+356(SB)/4, $0x3f000000
DATA expconst<>+360(SB)/4, $0x3f000000
DATA expconst<>+364(SB)/4, $0x3f000000
DATA expconst<>+368(SB)/4, $0x3f000000
DATA expconst<>+372(SB)/4, $0x3f000000
DATA expconst<>+376(SB)/4, $0x3f000000
DATA expconst<>+380(SB)/4, $0x3f000000
DATA expconst<>+384(SB)/4, $0x3f800000
DATA expconst<>+388(SB)/4, $0x3f800000
DATA expconst<>+392(SB)/4, $0x3f800000
DATA expconst<>+396(SB)/4, $0x3f800000
DATA expconst<>+400(SB)/4, $0x3f800000
DATA expconst<>+404(SB)/4, $0x3f800000
DATA expconst<>+408(SB)/4, $0x3f800000
DATA expconst<>+412(SB)/4, $0x3f800000
DATA expconst<>+416(SB)/4, $0x7f
DATA expconst<>+420(SB)/4, $0x7f
DATA expconst<>+424(SB)/4, $0x7f
DATA expconst<>+428(SB)/4, $0x7f
DATA expconst<>+432(SB)/4, $0x7f
DATA expconst<>+436(SB)/4, $0x7f
DATA expconst<>+440(SB)/4, $0x7f
DATA expconst<>+444(SB)/4, $0x7f
GLOBL expconst<>(SB), RODATA|NOPTR, $448

#define C(name) expconst<>+name(SB)

// EXP8 replaces Y0 by e^Y0, using Y1..Y3; Y12..Y15 hold bias, one, half, log2e.
#define EXP8 \
	VMINPS C(0), Y0, Y0 \
	VMAXPS C(32), Y0, Y0 \
	VMOVAPS Y14, Y1 \
	VFMADD231PS Y15, Y0, Y1 \
	VROUNDPS $1, Y1, Y1 \
	VFNMADD231PS C(64), Y1, Y0 \
	VFNMADD231PS C(96), Y1, Y0 \
	VMOVUPS C(128), Y2 \
	VFMADD213PS C(160), Y0, Y2 \
	VFMADD213PS C(192), Y0, Y2 \
	VFMADD213PS C(224), Y0, Y2 \
	VFMADD213PS C(256), Y0, Y2 \
	VFMADD213PS C(288), Y0, Y2 \
	VMULPS Y0, Y0, Y3 \
	VFMADD213PS Y0, Y3, Y2 \
	VADDPS Y13, Y2, Y2 \
	VCVTTPS2DQ Y1, Y1 \
	VPADDD Y12, Y1, Y1 \
	VPSLLD $23, Y1, Y1 \
	VMULPS Y1, Y2, Y0

#define LOADCONSTS \
	VMOVUPS C(416), Y12 \
	VMOVUPS C(384), Y13 \
	VMOVUPS C(352), Y14 \
	VMOVUPS C(320), Y15

// func expF32AVX2(x *float32, n int)
// x[i] = e^x[i]; n a multiple of 8.
TEXT ·expF32AVX2(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	LOADCONSTS

exploop:
	CMPQ CX, $8
	JL   expdone
	VMOVUPS (SI), Y0
	EXP8
	VMOVUPS Y0, (SI)
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  exploop

expdone:
	VZEROUPPER
	RET

// func expSubSumAVX2(x *float32, n int, m float32) float32
// x[i] = e^(x[i]-m), returning Σ x[i]; n a multiple of 8.
TEXT ·expSubSumAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS m+16(FP), Y5
	VXORPS Y4, Y4, Y4
	LOADCONSTS

esloop:
	CMPQ CX, $8
	JL   esdone
	VMOVUPS (SI), Y0
	VSUBPS Y5, Y0, Y0
	EXP8
	VMOVUPS Y0, (SI)
	VADDPS Y0, Y4, Y4
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  esloop

esdone:
	VEXTRACTF128 $1, Y4, X1
	VADDPS X1, X4, X4
	VHADDPS X4, X4, X4
	VHADDPS X4, X4, X4
	VZEROUPPER
	MOVSS X4, ret+24(FP)
	RET

// func siluMulAVX2(gate, up *float32, n int)
// g[i] = g[i]/(1 + e^-g[i]) · u[i]; n a multiple of 8.
TEXT ·siluMulAVX2(SB), NOSPLIT, $0-24
	MOVQ gate+0(FP), SI
	MOVQ up+8(FP), DI
	MOVQ n+16(FP), CX
	LOADCONSTS
	VXORPS Y6, Y6, Y6

siluloop:
	CMPQ CX, $8
	JL   siludone
	VMOVUPS (SI), Y5
	VSUBPS Y5, Y6, Y0
	EXP8
	VADDPS Y13, Y0, Y0
	VDIVPS Y0, Y5, Y5
	VMULPS (DI), Y5, Y5
	VMOVUPS Y5, (SI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  siluloop

siludone:
	VZEROUPPER
	RET
