package tensor

// ExpShifted sets dst[i] = e^(src[i] − m) and returns Σ dst[i]: the
// numerators and denominator of a softmax whose largest input is m. dst may
// be src. It runs the vector exponential in chunks whose float32 partial
// sums are added in float64, so a 32,000-word vocabulary sums accurately.
func ExpShifted(dst, src []float32, m float32) float64 {
	dst = dst[:len(src)]
	if len(dst) > 0 && &dst[0] != &src[0] {
		copy(dst, src)
	}
	const chunk = 1024
	var sum float64
	for lo := 0; lo < len(dst); lo += chunk {
		x := dst[lo:min(lo+chunk, len(dst))]
		var part float32
		n := 0
		if useAVX2 {
			n = len(x) &^ 7
			if n > 0 {
				part = expSubSumAVX2(&x[0], n, m)
			}
		}
		for i := n; i < len(x); i++ {
			x[i] = Exp(x[i] - m)
			part += x[i]
		}
		sum += float64(part)
	}
	return sum
}
