//go:build amd64 && !purego

#include "textflag.h"
#include "reduce_amd64.h"

// Integer dot products of k-quant rows with activations quantized by Q8KAct
// (int8 in blocks of 256, one f32 scale per block, int16 sums of every 16).
// Each block's products are summed exactly in int32 lanes and scaled once.

// kq4shuf: VPSHUFB masks that broadcast int16 lane k (k = 0..7) of each
// 128-bit half, 32 bytes per k: the sub-block scale of Q4_K/Q5_K.
DATA kq4shuf<>+0(SB)/8, $0x0100010001000100
DATA kq4shuf<>+8(SB)/8, $0x0100010001000100
DATA kq4shuf<>+16(SB)/8, $0x0100010001000100
DATA kq4shuf<>+24(SB)/8, $0x0100010001000100
DATA kq4shuf<>+32(SB)/8, $0x0302030203020302
DATA kq4shuf<>+40(SB)/8, $0x0302030203020302
DATA kq4shuf<>+48(SB)/8, $0x0302030203020302
DATA kq4shuf<>+56(SB)/8, $0x0302030203020302
DATA kq4shuf<>+64(SB)/8, $0x0504050405040504
DATA kq4shuf<>+72(SB)/8, $0x0504050405040504
DATA kq4shuf<>+80(SB)/8, $0x0504050405040504
DATA kq4shuf<>+88(SB)/8, $0x0504050405040504
DATA kq4shuf<>+96(SB)/8, $0x0706070607060706
DATA kq4shuf<>+104(SB)/8, $0x0706070607060706
DATA kq4shuf<>+112(SB)/8, $0x0706070607060706
DATA kq4shuf<>+120(SB)/8, $0x0706070607060706
DATA kq4shuf<>+128(SB)/8, $0x0908090809080908
DATA kq4shuf<>+136(SB)/8, $0x0908090809080908
DATA kq4shuf<>+144(SB)/8, $0x0908090809080908
DATA kq4shuf<>+152(SB)/8, $0x0908090809080908
DATA kq4shuf<>+160(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kq4shuf<>+168(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kq4shuf<>+176(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kq4shuf<>+184(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kq4shuf<>+192(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kq4shuf<>+200(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kq4shuf<>+208(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kq4shuf<>+216(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kq4shuf<>+224(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA kq4shuf<>+232(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA kq4shuf<>+240(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA kq4shuf<>+248(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL kq4shuf<>(SB), RODATA|NOPTR, $256

// kq6shuf: VPSHUFB masks that take int8 scale 2i to bytes 0..7 and 2i+1 to
// bytes 8..15 (i = 0..7): the two 16-weight group scales of Q6_K's 32-weight
// part i, to be widened to int16.
DATA kq6shuf<>+0(SB)/8, $0x0000000000000000
DATA kq6shuf<>+8(SB)/8, $0x0101010101010101
DATA kq6shuf<>+16(SB)/8, $0x0202020202020202
DATA kq6shuf<>+24(SB)/8, $0x0303030303030303
DATA kq6shuf<>+32(SB)/8, $0x0404040404040404
DATA kq6shuf<>+40(SB)/8, $0x0505050505050505
DATA kq6shuf<>+48(SB)/8, $0x0606060606060606
DATA kq6shuf<>+56(SB)/8, $0x0707070707070707
DATA kq6shuf<>+64(SB)/8, $0x0808080808080808
DATA kq6shuf<>+72(SB)/8, $0x0909090909090909
DATA kq6shuf<>+80(SB)/8, $0x0a0a0a0a0a0a0a0a
DATA kq6shuf<>+88(SB)/8, $0x0b0b0b0b0b0b0b0b
DATA kq6shuf<>+96(SB)/8, $0x0c0c0c0c0c0c0c0c
DATA kq6shuf<>+104(SB)/8, $0x0d0d0d0d0d0d0d0d
DATA kq6shuf<>+112(SB)/8, $0x0e0e0e0e0e0e0e0e
DATA kq6shuf<>+120(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL kq6shuf<>(SB), RODATA|NOPTR, $128

// kq6shufw: VPSHUFB masks over int16 group scales [g0..7 | g0..7] (or
// g8..15): for part i = 0..3 of a 128-weight half, int16 lane 2i to the
// low 128 bits and lane 2i+1 to the high 128 bits.
DATA kq6shufw<>+0(SB)/8, $0x0100010001000100
DATA kq6shufw<>+8(SB)/8, $0x0100010001000100
DATA kq6shufw<>+16(SB)/8, $0x0302030203020302
DATA kq6shufw<>+24(SB)/8, $0x0302030203020302
DATA kq6shufw<>+32(SB)/8, $0x0504050405040504
DATA kq6shufw<>+40(SB)/8, $0x0504050405040504
DATA kq6shufw<>+48(SB)/8, $0x0706070607060706
DATA kq6shufw<>+56(SB)/8, $0x0706070607060706
DATA kq6shufw<>+64(SB)/8, $0x0908090809080908
DATA kq6shufw<>+72(SB)/8, $0x0908090809080908
DATA kq6shufw<>+80(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kq6shufw<>+88(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kq6shufw<>+96(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kq6shufw<>+104(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kq6shufw<>+112(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA kq6shufw<>+120(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL kq6shufw<>(SB), RODATA|NOPTR, $128

// Masks of UNPACKK4: kshufA gathers bytes 0-3, 8-11, 4-7, 8-11 of the packed
// scales, kshufH bytes 0-3 and 4-7 (whose top two bits complete scales and
// mins 4..7) into the second and fourth quarters; kmaskA, kmaskS, kmaskH
// keep the bits of each quarter; kshufM repeats each min twice (one per
// 16-weight activation sum).
DATA kshufA<>+0(SB)/8, $0x0b0a090803020100
DATA kshufA<>+8(SB)/8, $0x0b0a090807060504
GLOBL kshufA<>(SB), RODATA|NOPTR, $16
DATA kshufH<>+0(SB)/8, $0x0302010080808080
DATA kshufH<>+8(SB)/8, $0x0706050480808080
GLOBL kshufH<>(SB), RODATA|NOPTR, $16
DATA kmaskA<>+0(SB)/8, $0x0f0f0f0f3f3f3f3f
DATA kmaskA<>+8(SB)/8, $0x000000003f3f3f3f
GLOBL kmaskA<>(SB), RODATA|NOPTR, $16
DATA kmaskS<>+0(SB)/8, $0x0000000000000000
DATA kmaskS<>+8(SB)/8, $0x0f0f0f0f00000000
GLOBL kmaskS<>(SB), RODATA|NOPTR, $16
DATA kmaskH<>+0(SB)/8, $0x3030303000000000
DATA kmaskH<>+8(SB)/8, $0x3030303000000000
GLOBL kmaskH<>(SB), RODATA|NOPTR, $16
DATA kshufM<>+0(SB)/8, $0x0b0b0a0a09090808
DATA kshufM<>+8(SB)/8, $0x0f0f0e0e0d0d0c0c
GLOBL kshufM<>(SB), RODATA|NOPTR, $16

// kq8perm: VPERMD order that undoes the lane interleaving of VPACKSSDW and
// VPACKSSWB (dwords 0, 4, 1, 5, 2, 6, 3, 7).
DATA kq8perm<>+0(SB)/8, $0x0000000400000000
DATA kq8perm<>+8(SB)/8, $0x0000000500000001
DATA kq8perm<>+16(SB)/8, $0x0000000600000002
DATA kq8perm<>+24(SB)/8, $0x0000000700000003
GLOBL kq8perm<>(SB), RODATA|NOPTR, $32

// Horizontal sum of the 8 lanes of ymm y (whose low half is xmm x) into the
// low lane of x, using xmm t.
// Prefetch distance of the dot kernels, in bytes ahead of the block being
// read: a row and the next follow each other in memory, and fetching ~2 KiB
// ahead keeps the stream from DRAM busy (measured on the 32000×768 output
// head of the 110M shape: Q6_K 2.0 → 1.4 ms per product on one thread).
#define PFK 2048

// Unpack the 12 packed scale bytes of the Q4_K/Q5_K block at SI into X2 as
// 16 bytes: the eight 6-bit scales, then the eight 6-bit mins (ggml's
// get_scale_min_k4 for all j at once). Clobbers X3, X4, X5.
#define UNPACKK4 \
	VMOVDQU 4(SI), X2 \
	VPSHUFB kshufA<>(SB), X2, X3 \
	VPSHUFB kshufH<>(SB), X2, X4 \
	VPSRLW $4, X3, X5 \
	VPAND kmaskS<>(SB), X5, X5 \
	VPAND kmaskA<>(SB), X3, X3 \
	VPSRLW $2, X4, X4 \
	VPAND kmaskH<>(SB), X4, X4 \
	VPOR X5, X3, X3 \
	VPOR X4, X3, X2

// Per block of Q4_K/Q5_K: from X2 (UNPACKK4) set Y4 = the eight scales as
// int16 in both 128-bit halves, Y7 = d·d_x broadcast, and subtract
// dmin·d_x·m_j·(Σ x of each half of sub-block j) from the accumulator Y1.
// Clobbers Y2, Y3, Y5, Y6, Y8.
#define KSETUP \
	VPSHUFB kshufM<>(SB), X2, X3 \
	VPMOVZXBW X3, Y3 \
	VPMADDWD (R9), Y3, Y3 \
	VCVTDQ2PS Y3, Y3 \
	VPMOVZXBW X2, Y2 \
	VINSERTI128 $1, X2, Y2, Y4 \
	VPBROADCASTD (SI), X6 \
	VCVTPH2PS X6, Y6 \
	VBROADCASTSS (R8), Y5 \
	VMULPS Y5, Y6, Y6 \
	VMOVSLDUP Y6, Y7 \
	VMOVSHDUP Y6, Y8 \
	VFNMADD231PS Y8, Y3, Y1

// One 64-weight chunk of Q4_K: 32 bytes of nibbles at qoff(SI) against
// activations at xoff(DI) (low nibbles) and xoff+32 (high nibbles), with
// sub-block scales picked by the masks at soff and soff+32; int32 sums
// into Y9.
#define Q4KCHUNK(qoff, xoff, xoff2, soff, soff2) \
	VMOVDQU qoff(SI), Y10 \
	VPSRLW $4, Y10, Y11 \
	VPAND Y15, Y10, Y10 \
	VPAND Y15, Y11, Y11 \
	VPMADDUBSW xoff(DI), Y10, Y10 \
	VPMADDUBSW xoff2(DI), Y11, Y11 \
	VPSHUFB kq4shuf<>+soff(SB), Y4, Y12 \
	VPMADDWD Y12, Y10, Y10 \
	VPSHUFB kq4shuf<>+soff2(SB), Y4, Y13 \
	VPMADDWD Y13, Y11, Y11 \
	VPADDD Y10, Y9, Y9 \
	VPADDD Y11, Y9, Y9

// One 64-weight chunk of Q5_K: as Q4KCHUNK, with the fifth bits taken from
// bit 0 of each byte of Y3 (the running qh), which shifts right by one bit
// per 32 weights.
#define Q5KCHUNK(qoff, xoff, xoff2, soff, soff2) \
	VMOVDQU qoff(SI), Y10 \
	VPSRLW $4, Y10, Y11 \
	VPAND Y15, Y10, Y10 \
	VPAND Y15, Y11, Y11 \
	VPSLLW $4, Y3, Y12 \
	VPAND Y14, Y12, Y12 \
	VPOR Y12, Y10, Y10 \
	VPSRLW $1, Y3, Y3 \
	VPSLLW $4, Y3, Y13 \
	VPAND Y14, Y13, Y13 \
	VPOR Y13, Y11, Y11 \
	VPSRLW $1, Y3, Y3 \
	VPMADDUBSW xoff(DI), Y10, Y10 \
	VPMADDUBSW xoff2(DI), Y11, Y11 \
	VPSHUFB kq4shuf<>+soff(SB), Y4, Y12 \
	VPMADDWD Y12, Y10, Y10 \
	VPSHUFB kq4shuf<>+soff2(SB), Y4, Y13 \
	VPMADDWD Y13, Y11, Y11 \
	VPADDD Y10, Y9, Y9 \
	VPADDD Y11, Y9, Y9

// One 32-weight part of Q6_K: q holds its six-bit quants (0..63) as bytes;
// multiply with the activations at xoff(DI), weight by the two group scales
// picked by the mask at soff from sc (int16 scales of 8 groups in both
// halves), add to Y9. Clobbers yt.
#define Q6KPART(q, yt, sc, xoff, soff) \
	VPMADDUBSW xoff(DI), q, q \
	VPSHUFB kq6shufw<>+soff(SB), sc, yt \
	VPMADDWD yt, q, q \
	VPADDD q, Y9, Y9

// Store 8 weights at DI+doff: float(bytes at qoff(SP)) · Y5 − Y6.
#define DQ8MS(qoff, doff) \
	VPMOVZXBD qoff(SP), Y7 \
	VCVTDQ2PS Y7, Y7 \
	VMULPS Y5, Y7, Y7 \
	VSUBPS Y6, Y7, Y7 \
	VMOVUPS Y7, doff(DI)

// 32 weights of one Q4_K/Q5_K sub-block from bytes at qoff(SP), scale and
// min of sub-block j from sOff(SP) and mOff(SP), to DI+doff.
#define DQ32(qoff, sOff, mOff, doff) \
	VBROADCASTSS sOff(SP), Y5 \
	VBROADCASTSS mOff(SP), Y6 \
	DQ8MS(qoff, doff) \
	DQ8MS(qoff+8, doff+32) \
	DQ8MS(qoff+16, doff+64) \
	DQ8MS(qoff+24, doff+96)

// From X2 (UNPACKK4) and the block's f16 d, dmin at SI, store d·sc_j at
// 0(SP) and dmin·m_j at 32(SP) (j = 0..7).
#define KSCALES \
	VPMOVZXBW X2, Y2 \
	VPMOVZXWD X2, Y3 \
	VCVTDQ2PS Y3, Y3 \
	VEXTRACTI128 $1, Y2, X4 \
	VPMOVZXWD X4, Y4 \
	VCVTDQ2PS Y4, Y4 \
	MOVWLZX (SI), AX \
	VMOVD AX, X5 \
	VCVTPH2PS X5, X5 \
	VBROADCASTSS X5, Y5 \
	MOVWLZX 2(SI), AX \
	VMOVD AX, X6 \
	VCVTPH2PS X6, X6 \
	VBROADCASTSS X6, Y6 \
	VMULPS Y5, Y3, Y3 \
	VMULPS Y6, Y4, Y4 \
	VMOVUPS Y3, 0(SP) \
	VMOVUPS Y4, 32(SP)

// Dequantize one 64-weight chunk c whose 32 bytes of nibbles are in Y8
// (Y9 free), to DI + 256·c.
#define DQCHUNK(s0, s1, m0, m1, d0, d1) \
	VPSRLW $4, Y8, Y9 \
	VPAND Y15, Y8, Y8 \
	VPAND Y15, Y9, Y9 \
	VMOVDQU Y8, 64(SP) \
	VMOVDQU Y9, 96(SP) \
	DQ32(64, s0, m0, d0) \
	DQ32(96, s1, m1, d1)

// Q5_K: as DQCHUNK with the fifth bits from bit 0 of the bytes of the
// running qh in Y3 (shifted right once per 32 weights).
#define DQ5CHUNK(s0, s1, m0, m1, d0, d1) \
	VPSRLW $4, Y8, Y9 \
	VPAND Y15, Y8, Y8 \
	VPAND Y15, Y9, Y9 \
	VPSLLW $4, Y3, Y10 \
	VPAND Y14, Y10, Y10 \
	VPOR Y10, Y8, Y8 \
	VPSRLW $1, Y3, Y3 \
	VPSLLW $4, Y3, Y10 \
	VPAND Y14, Y10, Y10 \
	VPOR Y10, Y9, Y9 \
	VPSRLW $1, Y3, Y3 \
	VMOVDQU Y8, 64(SP) \
	VMOVDQU Y9, 96(SP) \
	DQ32(64, s0, m0, d0) \
	DQ32(96, s1, m1, d1)

// Store 8 Q6_K weights at DI+doff: float(signed bytes at qoff(SP)) · the
// group scale at sOff(SP).
#define DQ6x8(qoff, sOff, doff) \
	VPMOVSXBD qoff(SP), Y7 \
	VCVTDQ2PS Y7, Y7 \
	VBROADCASTSS sOff(SP), Y5 \
	VMULPS Y5, Y7, Y7 \
	VMOVUPS Y7, doff(DI)

// One half (128 weights) of a Q6_K block: ql at qlOff(SI), qh at qhOff(SI);
// quants − 32 to 64(SP)..191(SP), then to floats at DI+doff with the group
// scales from sOff(SP) on (8 of them).
#define DQ6HALF(qlOff, qhOff, sOff, doff) \
	VMOVDQU qlOff(SI), Y10 \
	VMOVDQU (qlOff+32)(SI), Y11 \
	VMOVDQU qhOff(SI), Y12 \
	VPAND Y15, Y10, Y1 \
	VPSLLW $4, Y12, Y2 \
	VPAND Y14, Y2, Y2 \
	VPOR Y2, Y1, Y1 \
	VPSUBB Y13, Y1, Y1 \
	VMOVDQU Y1, 64(SP) \
	VPAND Y15, Y11, Y1 \
	VPSLLW $2, Y12, Y2 \
	VPAND Y14, Y2, Y2 \
	VPOR Y2, Y1, Y1 \
	VPSUBB Y13, Y1, Y1 \
	VMOVDQU Y1, 96(SP) \
	VPSRLW $4, Y10, Y1 \
	VPAND Y15, Y1, Y1 \
	VPAND Y14, Y12, Y2 \
	VPOR Y2, Y1, Y1 \
	VPSUBB Y13, Y1, Y1 \
	VMOVDQU Y1, 128(SP) \
	VPSRLW $4, Y11, Y1 \
	VPAND Y15, Y1, Y1 \
	VPSRLW $2, Y12, Y2 \
	VPAND Y14, Y2, Y2 \
	VPOR Y2, Y1, Y1 \
	VPSUBB Y13, Y1, Y1 \
	VMOVDQU Y1, 160(SP) \
	DQ6x8(64, sOff, doff) \
	DQ6x8(72, sOff, doff+32) \
	DQ6x8(80, sOff+4, doff+64) \
	DQ6x8(88, sOff+4, doff+96) \
	DQ6x8(96, sOff+8, doff+128) \
	DQ6x8(104, sOff+8, doff+160) \
	DQ6x8(112, sOff+12, doff+192) \
	DQ6x8(120, sOff+12, doff+224) \
	DQ6x8(128, sOff+16, doff+256) \
	DQ6x8(136, sOff+16, doff+288) \
	DQ6x8(144, sOff+20, doff+320) \
	DQ6x8(152, sOff+20, doff+352) \
	DQ6x8(160, sOff+24, doff+384) \
	DQ6x8(168, sOff+24, doff+416) \
	DQ6x8(176, sOff+28, doff+448) \
	DQ6x8(184, sOff+28, doff+480)

// func dotQ4KAVX2(w *byte, stride, rows int, xq *int8, xd *float32, xs *int16, nb int, out *float32)
TEXT ·dotQ4KAVX2(SB), NOSPLIT, $0-64
	MOVQ w+0(FP), R10
	MOVQ rows+16(FP), R12
	MOVQ out+56(FP), R13
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15

q4row:
	MOVQ R10, SI
	MOVQ xq+24(FP), DI
	MOVQ xd+32(FP), R8
	MOVQ xs+40(FP), R9
	MOVQ nb+48(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

q4kloop:
	PREFETCHT0 PFK(SI)
	PREFETCHT0 (PFK+64)(SI)
	PREFETCHT0 (PFK+128)(SI)
	UNPACKK4
	KSETUP
	VPXOR Y9, Y9, Y9
	Q4KCHUNK(16, 0, 32, 0, 32)
	Q4KCHUNK(48, 64, 96, 64, 96)
	Q4KCHUNK(80, 128, 160, 128, 160)
	Q4KCHUNK(112, 192, 224, 192, 224)
	VCVTDQ2PS Y9, Y9
	VFMADD231PS Y7, Y9, Y0
	ADDQ $144, SI
	ADDQ $256, DI
	ADDQ $4, R8
	ADDQ $32, R9
	DECQ CX
	JNZ  q4kloop

	HSUM(Y0, X0, X2)
	HSUM(Y1, X1, X3)
	VADDSS X1, X0, X0
	MOVSS X0, (R13)
	ADDQ $4, R13
	ADDQ stride+8(FP), R10
	DECQ R12
	JNZ  q4row
	VZEROUPPER
	RET

// func dotQ5KAVX2(w *byte, stride, rows int, xq *int8, xd *float32, xs *int16, nb int, out *float32)
TEXT ·dotQ5KAVX2(SB), NOSPLIT, $0-64
	MOVQ w+0(FP), R10
	MOVQ rows+16(FP), R12
	MOVQ out+56(FP), R13
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x10101010, AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14

q5row:
	MOVQ R10, SI
	MOVQ xq+24(FP), DI
	MOVQ xd+32(FP), R8
	MOVQ xs+40(FP), R9
	MOVQ nb+48(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

q5kloop:
	PREFETCHT0 PFK(SI)
	PREFETCHT0 (PFK+64)(SI)
	PREFETCHT0 (PFK+128)(SI)
	UNPACKK4
	KSETUP
	VMOVDQU 16(SI), Y3
	VPXOR Y9, Y9, Y9
	Q5KCHUNK(48, 0, 32, 0, 32)
	Q5KCHUNK(80, 64, 96, 64, 96)
	Q5KCHUNK(112, 128, 160, 128, 160)
	Q5KCHUNK(144, 192, 224, 192, 224)
	VCVTDQ2PS Y9, Y9
	VFMADD231PS Y7, Y9, Y0
	ADDQ $176, SI
	ADDQ $256, DI
	ADDQ $4, R8
	ADDQ $32, R9
	DECQ CX
	JNZ  q5kloop

	HSUM(Y0, X0, X2)
	HSUM(Y1, X1, X3)
	VADDSS X1, X0, X0
	MOVSS X0, (R13)
	ADDQ $4, R13
	ADDQ stride+8(FP), R10
	DECQ R12
	JNZ  q5row
	VZEROUPPER
	RET

// func dotQ6KAVX2(w *byte, stride, rows int, xq *int8, xd *float32, xs *int16, nb int, out *float32)
// The bias of 32 comes off per block as 32·Σ_g sc_g·Σx_g from the sums.
TEXT ·dotQ6KAVX2(SB), NOSPLIT, $0-64
	MOVQ w+0(FP), R10
	MOVQ rows+16(FP), R12
	MOVQ out+56(FP), R13
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x30303030, AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14

q6row:
	MOVQ R10, SI
	MOVQ xq+24(FP), DI
	MOVQ xd+32(FP), R8
	MOVQ xs+40(FP), R9
	MOVQ nb+48(FP), CX
	VXORPS Y0, Y0, Y0

q6kloop:
	PREFETCHT0 PFK(SI)
	PREFETCHT0 (PFK+64)(SI)
	PREFETCHT0 (PFK+128)(SI)
	PREFETCHT0 (PFK+192)(SI)
	VMOVDQU 192(SI), X13
	MOVWLZX 208(SI), AX
	VMOVD AX, X7
	VCVTPH2PS X7, X7
	VMULSS (R8), X7, X7
	VBROADCASTSS X7, Y7
	VPMOVSXBW X13, Y3
	VPMADDWD (R9), Y3, Y8
	VPSLLD $5, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPSUBD Y8, Y9, Y9
	VPERMQ $0x44, Y3, Y8
	VPERMQ $0xee, Y3, Y13

	// first 128 weights: ql[0:64], qh[0:32]
	VMOVDQU 0(SI), Y10
	VMOVDQU 32(SI), Y11
	VMOVDQU 128(SI), Y12
	VPAND Y15, Y10, Y1
	VPSLLW $4, Y12, Y2
	VPAND Y14, Y2, Y2
	VPOR Y2, Y1, Y1
	Q6KPART(Y1, Y2, Y8, 0, 0)
	VPAND Y15, Y11, Y3
	VPSLLW $2, Y12, Y4
	VPAND Y14, Y4, Y4
	VPOR Y4, Y3, Y3
	Q6KPART(Y3, Y4, Y8, 32, 32)
	VPSRLW $4, Y10, Y5
	VPAND Y15, Y5, Y5
	VPAND Y14, Y12, Y6
	VPOR Y6, Y5, Y5
	Q6KPART(Y5, Y6, Y8, 64, 64)
	VPSRLW $4, Y11, Y1
	VPAND Y15, Y1, Y1
	VPSRLW $2, Y12, Y2
	VPAND Y14, Y2, Y2
	VPOR Y2, Y1, Y1
	Q6KPART(Y1, Y2, Y8, 96, 96)

	// second 128 weights: ql[64:128], qh[32:64]
	VMOVDQU 64(SI), Y10
	VMOVDQU 96(SI), Y11
	VMOVDQU 160(SI), Y12
	VPAND Y15, Y10, Y1
	VPSLLW $4, Y12, Y2
	VPAND Y14, Y2, Y2
	VPOR Y2, Y1, Y1
	Q6KPART(Y1, Y2, Y13, 128, 0)
	VPAND Y15, Y11, Y3
	VPSLLW $2, Y12, Y4
	VPAND Y14, Y4, Y4
	VPOR Y4, Y3, Y3
	Q6KPART(Y3, Y4, Y13, 160, 32)
	VPSRLW $4, Y10, Y5
	VPAND Y15, Y5, Y5
	VPAND Y14, Y12, Y6
	VPOR Y6, Y5, Y5
	Q6KPART(Y5, Y6, Y13, 192, 64)
	VPSRLW $4, Y11, Y1
	VPAND Y15, Y1, Y1
	VPSRLW $2, Y12, Y2
	VPAND Y14, Y2, Y2
	VPOR Y2, Y1, Y1
	Q6KPART(Y1, Y2, Y13, 224, 96)

	VCVTDQ2PS Y9, Y9
	VFMADD231PS Y7, Y9, Y0
	ADDQ $210, SI
	ADDQ $256, DI
	ADDQ $4, R8
	ADDQ $32, R9
	DECQ CX
	JNZ  q6kloop

	HSUM(Y0, X0, X2)
	MOVSS X0, (R13)
	ADDQ $4, R13
	ADDQ stride+8(FP), R10
	DECQ R12
	JNZ  q6row
	VZEROUPPER
	RET

// Dequantization of k-quant blocks to float32 for the prompt GEMM: the
// same float operations as DequantizeRef (unfused), so the same bits. Each
// block's per-sub-block scales go to the frame at 0(SP), its quants widened
// to bytes at 64(SP), then 8 weights at a time are widened to int32,
// converted and scaled.

// func dequantQ4KAVX2(dst *float32, src *byte, nb int)
TEXT ·dequantQ4KAVX2(SB), NOSPLIT, $128-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15

dq4kloop:
	PREFETCHT0 PFK(SI)
	PREFETCHT0 (PFK+64)(SI)
	PREFETCHT0 (PFK+128)(SI)
	UNPACKK4
	KSCALES
	VMOVDQU 16(SI), Y8
	DQCHUNK(0, 4, 32, 36, 0, 128)
	VMOVDQU 48(SI), Y8
	DQCHUNK(8, 12, 40, 44, 256, 384)
	VMOVDQU 80(SI), Y8
	DQCHUNK(16, 20, 48, 52, 512, 640)
	VMOVDQU 112(SI), Y8
	DQCHUNK(24, 28, 56, 60, 768, 896)
	ADDQ $144, SI
	ADDQ $1024, DI
	DECQ CX
	JNZ  dq4kloop
	VZEROUPPER
	RET

// func dequantQ5KAVX2(dst *float32, src *byte, nb int)
TEXT ·dequantQ5KAVX2(SB), NOSPLIT, $128-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x10101010, AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14

dq5kloop:
	PREFETCHT0 PFK(SI)
	PREFETCHT0 (PFK+64)(SI)
	PREFETCHT0 (PFK+128)(SI)
	UNPACKK4
	KSCALES
	VMOVDQU 16(SI), Y3
	VMOVDQU 48(SI), Y8
	DQ5CHUNK(0, 4, 32, 36, 0, 128)
	VMOVDQU 80(SI), Y8
	DQ5CHUNK(8, 12, 40, 44, 256, 384)
	VMOVDQU 112(SI), Y8
	DQ5CHUNK(16, 20, 48, 52, 512, 640)
	VMOVDQU 144(SI), Y8
	DQ5CHUNK(24, 28, 56, 60, 768, 896)
	ADDQ $176, SI
	ADDQ $1024, DI
	DECQ CX
	JNZ  dq5kloop
	VZEROUPPER
	RET

// func dequantQ6KAVX2(dst *float32, src *byte, nb int)
TEXT ·dequantQ6KAVX2(SB), NOSPLIT, $192-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x30303030, AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14
	MOVL $0x20202020, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13

dq6kloop:
	MOVWLZX 208(SI), AX
	VMOVD AX, X5
	VCVTPH2PS X5, X5
	VBROADCASTSS X5, Y5
	VPMOVSXBD 192(SI), Y3
	VCVTDQ2PS Y3, Y3
	VMULPS Y5, Y3, Y3
	VMOVUPS Y3, 0(SP)
	VPMOVSXBD 200(SI), Y4
	VCVTDQ2PS Y4, Y4
	VMULPS Y5, Y4, Y4
	VMOVUPS Y4, 32(SP)
	DQ6HALF(0, 128, 0, 0)
	DQ6HALF(64, 160, 32, 512)
	ADDQ $210, SI
	ADDQ $1024, DI
	DECQ CX
	JNZ  dq6kloop
	VZEROUPPER
	RET

// func quantizeQ8KAVX2(x *float32, q *int8, d *float32, nb int)
// Per block of 256: d = max|x|/127, q = x·(1/d) rounded to nearest even
// (VCVTPS2DQ under the default MXCSR), or 0 when d = 0.
TEXT ·quantizeQ8KAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ q+8(FP), DI
	MOVQ d+16(FP), DX
	MOVQ nb+24(FP), CX
	MOVL $0x7fffffff, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	VMOVDQU kq8perm<>(SB), Y14
	MOVL $0x42fe0000, AX // 127
	VMOVD AX, X13
	MOVL $0x3f800000, AX // 1
	VMOVD AX, X12

q8kblock:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ SI, R8
	MOVQ $8, BX

q8kmax:
	VANDPS (R8), Y15, Y4
	VMAXPS Y4, Y0, Y0
	VANDPS 32(R8), Y15, Y5
	VMAXPS Y5, Y1, Y1
	VANDPS 64(R8), Y15, Y6
	VMAXPS Y6, Y2, Y2
	VANDPS 96(R8), Y15, Y7
	VMAXPS Y7, Y3, Y3
	ADDQ $128, R8
	DECQ BX
	JNZ  q8kmax

	HMAX4
	VDIVSS X13, X0, X0
	VMOVSS X0, (DX)
	VXORPS X2, X2, X2
	VUCOMISS X2, X0
	JEQ  q8kscaled
	VDIVSS X0, X12, X2

q8kscaled:
	VBROADCASTSS X2, Y2
	MOVQ $8, BX

q8kround:
	VMULPS (SI), Y2, Y4
	VMULPS 32(SI), Y2, Y5
	VMULPS 64(SI), Y2, Y6
	VMULPS 96(SI), Y2, Y7
	VCVTPS2DQ Y4, Y4
	VCVTPS2DQ Y5, Y5
	VCVTPS2DQ Y6, Y6
	VCVTPS2DQ Y7, Y7
	VPACKSSDW Y5, Y4, Y4
	VPACKSSDW Y7, Y6, Y6
	VPACKSSWB Y6, Y4, Y4
	VPERMD Y4, Y14, Y4
	VMOVDQU Y4, (DI)
	ADDQ $128, SI
	ADDQ $32, DI
	DECQ BX
	JNZ  q8kround

	ADDQ $4, DX
	DECQ CX
	JNZ  q8kblock
	VZEROUPPER
	RET
