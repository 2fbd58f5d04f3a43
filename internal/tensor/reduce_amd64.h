// Horizontal reductions shared by the AVX2 kernels.

// HSUM sums the 8 lanes of ymm y (whose low half is xmm x) into the low
// lane of x, using xmm t.
#define HSUM(y, x, t) \
	VEXTRACTF128 $1, y, t \
	VADDPS t, x, x \
	VHADDPS x, x, x \
	VHADDPS x, x, x

// HMAX4 leaves the largest of the 32 lanes of Y0..Y3 in the low lane of X0,
// using X1 (and overwriting Y2).
#define HMAX4 \
	VMAXPS Y1, Y0, Y0 \
	VMAXPS Y3, Y2, Y2 \
	VMAXPS Y2, Y0, Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VMAXPS X1, X0, X0 \
	VPERMILPS $0x4e, X0, X1 \
	VMAXPS X1, X0, X0 \
	VPERMILPS $0xb1, X0, X1 \
	VMAXPS X1, X0, X0
