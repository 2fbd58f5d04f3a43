//go:build amd64 && !purego

#include "textflag.h"
#include "reduce_amd64.h"

// func dotBF16AVX2(w *uint16, x *float32, n int) float32
// n must be a multiple of 8.
TEXT ·dotBF16AVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

bf16loop16:
	CMPQ CX, $16
	JL   bf16loop8
	PREFETCHT0 1024(SI) // the weights run on into the next rows
	VPMOVZXWD (SI), Y4
	VPMOVZXWD 16(SI), Y5
	VPSLLD $16, Y4, Y4
	VPSLLD $16, Y5, Y5
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	ADDQ $32, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  bf16loop16

bf16loop8:
	CMPQ CX, $8
	JL   bf16done
	VPMOVZXWD (SI), Y4
	VPSLLD $16, Y4, Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  bf16loop8

bf16done:
	VADDPS Y1, Y0, Y0
	HSUM(Y0, X0, X1)
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// Integer dot of 32 signed bytes in Y(w) and Y(x) into 8 int32 lanes of
// Y(out) as floats: |w| ·(unsigned) sign(x, w), pairwise to int16, then to
// int32 with Y15 = int16 ones. Clobbers Y(t1), Y(t2).
#define I8DOT(w, x, out, t1, t2) \
	VPABSB w, t1 \
	VPSIGNB w, x, t2 \
	VPMADDUBSW t2, t1, out \
	VPMADDWD Y15, out, out \
	VCVTDQ2PS out, out

// func dotQ8_0AVX2(w *byte, xq *int8, xd *float32, nb int) float32
// w holds nb Q8_0 blocks (f16 d, 32 int8); xq/xd the activations quantized
// to int8 with one f32 scale per 32.
TEXT ·dotQ8_0AVX2(SB), NOSPLIT, $0-36
	MOVQ w+0(FP), SI
	MOVQ xq+8(FP), DI
	MOVQ xd+16(FP), R8
	MOVQ nb+24(FP), CX
	VXORPS Y0, Y0, Y0
	VPCMPEQW Y15, Y15, Y15
	VPSRLW $15, Y15, Y15

q8loop:
	CMPQ CX, $0
	JLE  q8done
	MOVWLZX (SI), AX
	VMOVD AX, X5
	VCVTPH2PS X5, X5
	VMULSS (R8), X5, X5
	VBROADCASTSS X5, Y5
	VMOVDQU 2(SI), Y6
	VMOVDQU (DI), Y7
	I8DOT(Y6, Y7, Y8, Y9, Y10)
	VFMADD231PS Y5, Y8, Y0
	ADDQ $34, SI
	ADDQ $32, DI
	ADDQ $4, R8
	DECQ CX
	JMP  q8loop

q8done:
	HSUM(Y0, X0, X1)
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func dotQ4_0AVX2(w *byte, xq *int8, xd *float32, nb int) float32
// w holds nb Q4_0 blocks (f16 d, 16 bytes: low nibbles are x[0..15], high
// nibbles x[16..31], each biased by 8).
TEXT ·dotQ4_0AVX2(SB), NOSPLIT, $0-36
	MOVQ w+0(FP), SI
	MOVQ xq+8(FP), DI
	MOVQ xd+16(FP), R8
	MOVQ nb+24(FP), CX
	VXORPS Y0, Y0, Y0
	VPCMPEQW Y15, Y15, Y15
	VPSRLW $15, Y15, Y15
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14
	MOVL $0x08080808, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13

q4loop:
	CMPQ CX, $0
	JLE  q4done
	MOVWLZX (SI), AX
	VMOVD AX, X5
	VCVTPH2PS X5, X5
	VMULSS (R8), X5, X5
	VBROADCASTSS X5, Y5
	VMOVDQU 2(SI), X6
	VPSRLW $4, X6, X7
	VINSERTI128 $1, X7, Y6, Y6
	VPAND Y14, Y6, Y6
	VPSUBB Y13, Y6, Y6
	VMOVDQU (DI), Y7
	I8DOT(Y6, Y7, Y8, Y9, Y10)
	VFMADD231PS Y5, Y8, Y0
	ADDQ $18, SI
	ADDQ $32, DI
	ADDQ $4, R8
	DECQ CX
	JMP  q4loop

q4done:
	HSUM(Y0, X0, X1)
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func gemm4x3F32(w *float32, ldw int, x *float32, ldx int, k int, out *[12]float32)
// out[3i+j] = Σ_k w[i·ldw + k]·x[j·ldx + k] for 4 rows of w and 3 rows of x;
// k must be a positive multiple of 8.
TEXT ·gemm4x3F32(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), SI
	MOVQ ldw+8(FP), R8
	SHLQ $2, R8
	MOVQ x+16(FP), DI
	MOVQ ldx+24(FP), R9
	SHLQ $2, R9
	MOVQ k+32(FP), CX
	MOVQ out+40(FP), DX
	LEAQ (SI)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	LEAQ (DI)(R9*1), R13
	LEAQ (R13)(R9*1), BX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	XORQ AX, AX

gemmloop:
	VMOVUPS (DI)(AX*1), Y12
	VMOVUPS (R13)(AX*1), Y13
	VMOVUPS (BX)(AX*1), Y14
	VMOVUPS (SI)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VMOVUPS (R10)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VFMADD231PS Y13, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VMOVUPS (R11)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VMOVUPS (R12)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y9
	VFMADD231PS Y13, Y15, Y10
	VFMADD231PS Y14, Y15, Y11
	ADDQ $32, AX
	SUBQ $8, CX
	JNZ  gemmloop

	HSUM(Y0, X0, X12)
	MOVSS X0, 0(DX)
	HSUM(Y1, X1, X12)
	MOVSS X1, 4(DX)
	HSUM(Y2, X2, X12)
	MOVSS X2, 8(DX)
	HSUM(Y3, X3, X12)
	MOVSS X3, 12(DX)
	HSUM(Y4, X4, X12)
	MOVSS X4, 16(DX)
	HSUM(Y5, X5, X12)
	MOVSS X5, 20(DX)
	HSUM(Y6, X6, X12)
	MOVSS X6, 24(DX)
	HSUM(Y7, X7, X12)
	MOVSS X7, 28(DX)
	HSUM(Y8, X8, X12)
	MOVSS X8, 32(DX)
	HSUM(Y9, X9, X12)
	MOVSS X9, 36(DX)
	HSUM(Y10, X10, X12)
	MOVSS X10, 40(DX)
	HSUM(Y11, X11, X12)
	MOVSS X11, 44(DX)
	VZEROUPPER
	RET

// Prefetch distances of the 4-row kernels, in rows: the hardware prefetcher
// does not follow four interleaved short row streams, so the kernels fetch
// the rows they will read a few groups later (measured on 110M-parameter
// models; see BenchmarkMatVecLarge).
#define PFQ8 12
#define PFQ4 32

// The 4-row kernels share each activation block across four weight rows:
// Y4 = |x| (unsigned bytes), Y5 = d_x broadcast, and for Q4_0 Y11 = d_x·Σx.

// Q8 row block: weights w (signed) enter as w·sign(x) against |x|, so one
// VPMADDUBSW multiplies signed by signed. ptr points at the block's f16 d.
#define Q8ROW(ptr, acc) \
	VPBROADCASTW (ptr), X6 \
	VCVTPH2PS X6, Y6 \
	VMULPS Y5, Y6, Y6 \
	VMOVDQU 2(ptr), Y7 \
	VPSIGNB Y9, Y7, Y7 \
	VPMADDUBSW Y7, Y4, Y8 \
	VPMADDWD Y15, Y8, Y8 \
	VCVTDQ2PS Y8, Y8 \
	VFMADD231PS Y6, Y8, acc

// Q4 row block: nibbles q ∈ 0..15 stand for q−8, so
// Σ(q−8)·x = Σq·x − 8Σx: VPMADDUBSW takes the unsigned nibbles against the
// signed activations, and the bias comes off in floats via Y11.
#define Q4ROW(ptr, acc) \
	VPBROADCASTW (ptr), X6 \
	VCVTPH2PS X6, Y6 \
	VMOVDQU 2(ptr), X7 \
	VPSRLW $4, X7, X8 \
	VINSERTI128 $1, X8, Y7, Y7 \
	VPAND Y14, Y7, Y7 \
	VPMADDUBSW Y9, Y7, Y8 \
	VPMADDWD Y15, Y8, Y8 \
	VCVTDQ2PS Y8, Y8 \
	VFMSUB213PS Y11, Y5, Y8 \
	VFMADD231PS Y6, Y8, acc

// Store the horizontal sums of Y0..Y3 to out[0..3] at DX.
#define STORE4 \
	HSUM(Y0, X0, X8) \
	MOVSS X0, 0(DX) \
	HSUM(Y1, X1, X8) \
	MOVSS X1, 4(DX) \
	HSUM(Y2, X2, X8) \
	MOVSS X2, 8(DX) \
	HSUM(Y3, X3, X8) \
	MOVSS X3, 12(DX)

// func dotQ8_0x4AVX2(w *byte, stride int, xq *int8, xd *float32, nb int, out *[4]float32)
// Four consecutive Q8_0 rows (stride bytes apart) times one quantized
// activation vector, with four independent accumulators.
TEXT ·dotQ8_0x4AVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), SI
	MOVQ stride+8(FP), R9
	MOVQ xq+16(FP), DI
	MOVQ xd+24(FP), R8
	MOVQ nb+32(FP), CX
	MOVQ out+40(FP), DX
	LEAQ (SI)(R9*1), R10
	LEAQ (R10)(R9*1), R11
	LEAQ (R11)(R9*1), R12
	MOVQ R9, R13 // rows PFQ8 ahead are prefetched as these are read
	IMULQ $PFQ8, R13
	ADDQ SI, R13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VPCMPEQW Y15, Y15, Y15
	VPSRLW $15, Y15, Y15

q8x4loop:
	CMPQ CX, $0
	JLE  q8x4done
	PREFETCHT0 (R13)
	PREFETCHT0 64(R13)
	PREFETCHT0 128(R13)
	ADDQ $136, R13
	VMOVDQU (DI), Y9
	VPABSB Y9, Y4
	VBROADCASTSS (R8), Y5
	Q8ROW(SI, Y0)
	Q8ROW(R10, Y1)
	Q8ROW(R11, Y2)
	Q8ROW(R12, Y3)
	ADDQ $34, SI
	ADDQ $34, R10
	ADDQ $34, R11
	ADDQ $34, R12
	ADDQ $32, DI
	ADDQ $4, R8
	DECQ CX
	JMP  q8x4loop

q8x4done:
	STORE4
	VZEROUPPER
	RET

// func dotQ4_0x4AVX2(w *byte, stride int, xq *int8, xd, xs *float32, nb int, out *[4]float32)
// xs[b] = d_x·Σ_j x_j of activation block b.
TEXT ·dotQ4_0x4AVX2(SB), NOSPLIT, $0-56
	MOVQ w+0(FP), SI
	MOVQ stride+8(FP), R9
	MOVQ xq+16(FP), DI
	MOVQ xd+24(FP), R8
	MOVQ xs+32(FP), BX
	MOVQ nb+40(FP), CX
	MOVQ out+48(FP), DX
	LEAQ (SI)(R9*1), R10
	LEAQ (R10)(R9*1), R11
	LEAQ (R11)(R9*1), R12
	MOVQ R9, R13 // rows PFQ4 ahead are prefetched as these are read
	IMULQ $PFQ4, R13
	ADDQ SI, R13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VPCMPEQW Y15, Y15, Y15
	VPSRLW $15, Y15, Y15
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14

q4x4loop:
	CMPQ CX, $0
	JLE  q4x4done
	PREFETCHT0 (R13)
	PREFETCHT0 64(R13)
	ADDQ $72, R13
	VMOVDQU (DI), Y9
	VBROADCASTSS (R8), Y5
	VBROADCASTSS (BX), Y11
	Q4ROW(SI, Y0)
	Q4ROW(R10, Y1)
	Q4ROW(R11, Y2)
	Q4ROW(R12, Y3)
	ADDQ $18, SI
	ADDQ $18, R10
	ADDQ $18, R11
	ADDQ $18, R12
	ADDQ $32, DI
	ADDQ $4, R8
	ADDQ $4, BX
	DECQ CX
	JMP  q4x4loop

q4x4done:
	STORE4
	VZEROUPPER
	RET
// The 8-row Q4_0 kernel shares each activation block across eight weight
// rows and loops over groups of eight rows itself, so a whole range of rows
// is one call. Rows 0..3 of a group are addressed from SI, rows 4..7 from
// R11, with R9 = stride and R10 = 3·stride. Shared per block: Y8 = x (signed
// bytes), Y9 = d_x, Y10 = d_x·Σx; constants Y13 = dword shift counts
// (0 in the low lane, 4 in the high lane), Y14 = 0x0f bytes, Y15 = int16 ones.
#define PFQ4R 32

// Q4 row block at scale address s and quants address q: one 16-byte load
// broadcast to both lanes, shifted by 0 (low lane: x[0..15]) or 4 (high
// lane: x[16..31]) and masked, gives the 32 nibbles in order. Their bias of
// 8 comes off in floats as in Q4ROW.
#define Q4R(s, q, acc) \
	VPBROADCASTW s, X12 \
	VCVTPH2PS X12, Y12 \
	VBROADCASTI128 q, Y11 \
	VPSRLVD Y13, Y11, Y11 \
	VPAND Y14, Y11, Y11 \
	VPMADDUBSW Y8, Y11, Y11 \
	VPMADDWD Y15, Y11, Y11 \
	VCVTDQ2PS Y11, Y11 \
	VFMSUB213PS Y10, Y9, Y11 \
	VFMADD231PS Y12, Y11, acc

// func dotQ4_0x8RowsAVX2(w *byte, stride int, xq *int8, xd, xs *float32, nb, groups int, out *float32)
// out[i] = row i · x for 8·groups consecutive Q4_0 rows (stride bytes
// apart) of nb ≥ 1 blocks; xs[b] = d_x·Σ_j x_j of activation block b.
TEXT ·dotQ4_0x8RowsAVX2(SB), NOSPLIT, $0-64
	MOVQ w+0(FP), DX
	MOVQ stride+8(FP), R9
	LEAQ (R9)(R9*2), R10
	VPCMPEQW Y15, Y15, Y15
	VPSRLW $15, Y15, Y15
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14
	MOVL $4, AX
	VMOVD AX, X13
	VPBROADCASTD X13, X13
	VPXOR Y12, Y12, Y12
	VINSERTI128 $1, X13, Y12, Y13

q4rgroup:
	MOVQ DX, SI
	LEAQ (SI)(R9*4), R11
	MOVQ R9, R13 // rows PFQ4R ahead are prefetched as these are read
	IMULQ $PFQ4R, R13
	ADDQ SI, R13
	MOVQ xq+16(FP), R12
	MOVQ xd+24(FP), AX
	MOVQ xs+32(FP), R14
	MOVQ nb+40(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

q4rloop:
	PREFETCHT0 (R13)
	PREFETCHT0 64(R13)
	PREFETCHT0 128(R13)
	ADDQ $144, R13
	VMOVDQU (R12), Y8
	VBROADCASTSS (AX), Y9
	VBROADCASTSS (R14), Y10
	Q4R((SI), 2(SI), Y0)
	Q4R((SI)(R9*1), 2(SI)(R9*1), Y1)
	Q4R((SI)(R9*2), 2(SI)(R9*2), Y2)
	Q4R((SI)(R10*1), 2(SI)(R10*1), Y3)
	Q4R((R11), 2(R11), Y4)
	Q4R((R11)(R9*1), 2(R11)(R9*1), Y5)
	Q4R((R11)(R9*2), 2(R11)(R9*2), Y6)
	Q4R((R11)(R10*1), 2(R11)(R10*1), Y7)
	ADDQ $18, SI
	ADDQ $18, R11
	ADDQ $32, R12
	ADDQ $4, AX
	ADDQ $4, R14
	DECQ CX
	JNZ  q4rloop

	// eight horizontal sums into one vector: out[0..7]
	VHADDPS Y1, Y0, Y0
	VHADDPS Y3, Y2, Y2
	VHADDPS Y2, Y0, Y0
	VHADDPS Y5, Y4, Y4
	VHADDPS Y7, Y6, Y6
	VHADDPS Y6, Y4, Y4
	VPERM2F128 $0x20, Y4, Y0, Y1
	VPERM2F128 $0x31, Y4, Y0, Y2
	VADDPS Y2, Y1, Y1
	MOVQ out+56(FP), BX
	VMOVUPS Y1, (BX)
	ADDQ $32, BX
	MOVQ BX, out+56(FP)
	LEAQ (DX)(R9*8), DX
	DECQ groups+48(FP)
	JNZ  q4rgroup
	VZEROUPPER
	RET

// func axpyF32AVX2(a float32, x, y *float32, n int)
// y[i] += a·x[i] for n elements, n a multiple of 8.
TEXT ·axpyF32AVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS a+0(FP), Y0
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX

axpyloop32:
	CMPQ CX, $32
	JL   axpyloop8
	VMOVUPS (DI), Y1
	VMOVUPS 32(DI), Y2
	VMOVUPS 64(DI), Y3
	VMOVUPS 96(DI), Y4
	VFMADD231PS (SI), Y0, Y1
	VFMADD231PS 32(SI), Y0, Y2
	VFMADD231PS 64(SI), Y0, Y3
	VFMADD231PS 96(SI), Y0, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  axpyloop32

axpyloop8:
	CMPQ CX, $8
	JL   axpydone
	VMOVUPS (DI), Y1
	VFMADD231PS (SI), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  axpyloop8

axpydone:
	VZEROUPPER
	RET

// func maxF32AVX2(x *float32, n int) float32
// The largest of x[0..n), n a positive multiple of 8, in four independent
// lanes of VMAXPS (which returns its memory operand when either is NaN, so
// a NaN in x may or may not come out, as with maxOfGo's comparisons).
TEXT ·maxF32AVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VMOVUPS (SI), Y0
	VMOVAPS Y0, Y1
	VMOVAPS Y0, Y2
	VMOVAPS Y0, Y3

maxloop32:
	CMPQ CX, $32
	JL   maxloop8
	VMAXPS (SI), Y0, Y0
	VMAXPS 32(SI), Y1, Y1
	VMAXPS 64(SI), Y2, Y2
	VMAXPS 96(SI), Y3, Y3
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  maxloop32

maxloop8:
	CMPQ CX, $8
	JL   maxdone
	VMAXPS (SI), Y0, Y0
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  maxloop8

maxdone:
	HMAX4
	VZEROUPPER
	MOVSS X0, ret+16(FP)
	RET

// func scaleF32AVX2(a float32, x *float32, n int)
// x[i] *= a for n elements, n a multiple of 8.
TEXT ·scaleF32AVX2(SB), NOSPLIT, $0-24
	VBROADCASTSS a+0(FP), Y0
	MOVQ x+8(FP), DI
	MOVQ n+16(FP), CX

scaleloop32:
	CMPQ CX, $32
	JL   scaleloop8
	VMULPS (DI), Y0, Y1
	VMULPS 32(DI), Y0, Y2
	VMULPS 64(DI), Y0, Y3
	VMULPS 96(DI), Y0, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  scaleloop32

scaleloop8:
	CMPQ CX, $8
	JL   scaledone
	VMULPS (DI), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  scaleloop8

scaledone:
	VZEROUPPER
	RET

// func dequantF16AVX2(dst *float32, src *uint16, n int)
// n a multiple of 8.
TEXT ·dequantF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

dqf16loop:
	CMPQ CX, $8
	JL   dqf16done
	VCVTPH2PS (SI), Y0
	VMOVUPS Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  dqf16loop

dqf16done:
	VZEROUPPER
	RET

// func dequantBF16AVX2(dst *float32, src *uint16, n int)
// n a multiple of 8.
TEXT ·dequantBF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

dqbf16loop:
	CMPQ CX, $8
	JL   dqbf16done
	VPMOVZXWD (SI), Y0
	VPSLLD $16, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  dqbf16loop

dqbf16done:
	VZEROUPPER
	RET

// Store d·(32 signed bytes in Y1) as 32 floats at DI; Y0 = d broadcast.
#define DEQ32 \
	VPMOVSXBD X1, Y2 \
	VPSRLDQ $8, X1, X3 \
	VPMOVSXBD X3, Y3 \
	VEXTRACTI128 $1, Y1, X4 \
	VPSRLDQ $8, X4, X5 \
	VPMOVSXBD X4, Y4 \
	VPMOVSXBD X5, Y5 \
	VCVTDQ2PS Y2, Y2 \
	VCVTDQ2PS Y3, Y3 \
	VCVTDQ2PS Y4, Y4 \
	VCVTDQ2PS Y5, Y5 \
	VMULPS Y0, Y2, Y2 \
	VMULPS Y0, Y3, Y3 \
	VMULPS Y0, Y4, Y4 \
	VMULPS Y0, Y5, Y5 \
	VMOVUPS Y2, (DI) \
	VMOVUPS Y3, 32(DI) \
	VMOVUPS Y4, 64(DI) \
	VMOVUPS Y5, 96(DI)

// func dequantQ8_0AVX2(dst *float32, src *byte, nb int)
TEXT ·dequantQ8_0AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX

dqq8loop:
	CMPQ CX, $0
	JLE  dqq8done
	VPBROADCASTW (SI), X0
	VCVTPH2PS X0, Y0
	VMOVDQU 2(SI), Y1
	DEQ32
	ADDQ $34, SI
	ADDQ $128, DI
	DECQ CX
	JMP  dqq8loop

dqq8done:
	VZEROUPPER
	RET

// func dequantQ4_0AVX2(dst *float32, src *byte, nb int)
TEXT ·dequantQ4_0AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14
	MOVL $0x08080808, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13

dqq4loop:
	CMPQ CX, $0
	JLE  dqq4done
	VPBROADCASTW (SI), X0
	VCVTPH2PS X0, Y0
	VMOVDQU 2(SI), X1
	VPSRLW $4, X1, X2
	VINSERTI128 $1, X2, Y1, Y1
	VPAND Y14, Y1, Y1
	VPSUBB Y13, Y1, Y1
	DEQ32
	ADDQ $18, SI
	ADDQ $128, DI
	DECQ CX
	JMP  dqq4loop

dqq4done:
	VZEROUPPER
	RET

// func gemvTF32AVX2(x *float32, a *float32, lda int, m int, n int, out *float32)
// out[p] = Σ_{d<m} x[d]·a[d·lda + p] for p < n, n a multiple of 8: the
// product of a vector with a row-major m×n block, 32 columns at a time so
// each loaded row segment feeds four accumulators.
TEXT ·gemvTF32AVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ lda+16(FP), R8
	SHLQ $2, R8
	MOVQ m+24(FP), R9
	MOVQ n+32(FP), R10
	MOVQ out+40(FP), DX

gtblock32:
	CMPQ R10, $32
	JL   gtblock8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ DI, R11
	XORQ CX, CX

gtrow32:
	VBROADCASTSS (SI)(CX*4), Y8
	VFMADD231PS (R11), Y8, Y0
	VFMADD231PS 32(R11), Y8, Y1
	VFMADD231PS 64(R11), Y8, Y2
	VFMADD231PS 96(R11), Y8, Y3
	ADDQ R8, R11
	INCQ CX
	CMPQ CX, R9
	JL   gtrow32
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	ADDQ $128, DI
	ADDQ $128, DX
	SUBQ $32, R10
	JMP  gtblock32

gtblock8:
	CMPQ R10, $8
	JL   gtdone
	VXORPS Y0, Y0, Y0
	MOVQ DI, R11
	XORQ CX, CX

gtrow8:
	VBROADCASTSS (SI)(CX*4), Y8
	VFMADD231PS (R11), Y8, Y0
	ADDQ R8, R11
	INCQ CX
	CMPQ CX, R9
	JL   gtrow8
	VMOVUPS Y0, (DX)
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $8, R10
	JMP  gtblock8

gtdone:
	VZEROUPPER
	RET
