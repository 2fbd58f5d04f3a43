package tensor

import "math"

// Exp returns e^x in float32 within two ulp of the correctly rounded value
// (Cephes' expf: x = n·ln2 + r, a degree-7 polynomial in r, times 2^n),
// several times faster than math.Exp, which works in float64.
func Exp(x float32) float32 {
	switch {
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -103.97208: // below the smallest subnormal
		return 0
	case x != x:
		return x
	}
	kf := x * 1.44269504088896341
	if kf < 0 {
		kf -= 0.5
	} else {
		kf += 0.5
	}
	n := float32(int32(kf)) // round to nearest: |r| ≤ ln2/2
	r := x - n*0.693359375 - n*-2.12194440e-4
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r*r + r + 1
	// scale by 2^n in two steps so subnormal results and n = 128 stay exact
	k := int32(n)
	if k > -126 && k < 128 {
		return y * math.Float32frombits(uint32(k+127)<<23)
	}
	half := k / 2
	return y * math.Float32frombits(uint32(half+127)<<23) * math.Float32frombits(uint32(k-half+127)<<23)
}
