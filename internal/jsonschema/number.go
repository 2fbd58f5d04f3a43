package jsonschema

import (
	"math"
	"strconv"
)

// The grammar writes numbers as -?(0|[1-9][0-9]{0,11})(\.[0-9]{1,6})?, so
// every number it can write is a whole count of micro-units (10⁻⁶) below
// 10¹⁸ in magnitude, and bounds become exact integer comparisons.
const (
	maxIntDigits  = 12
	maxFracDigits = 6
	unit          = 1_000_000 // 10^maxFracDigits
	maxUnits      = 1_000_000_000_000_000_000 - 1
)

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13}

// numState is the part of a number read so far.
type numState struct {
	neg   bool
	dot   bool
	ndig  uint8 // integer digits
	nfrac uint8 // fraction digits
	ip    int64 // integer part
	fp    int64 // fraction digits as an integer
}

// feed takes one byte of the number. It reports false when b cannot
// extend the number's text (whatever the bounds).
func (st *numState) feed(b byte, integer bool) bool {
	switch {
	case b >= '0' && b <= '9':
		d := int64(b - '0')
		if st.dot {
			if st.nfrac == maxFracDigits {
				return false
			}
			st.fp, st.nfrac = st.fp*10+d, st.nfrac+1
			return true
		}
		if st.ndig == 1 && st.ip == 0 || st.ndig == maxIntDigits {
			return false
		}
		st.ip, st.ndig = st.ip*10+d, st.ndig+1
		return true
	case b == '.':
		if integer || st.dot || st.ndig == 0 {
			return false
		}
		st.dot = true
		return true
	}
	return false
}

// need returns the fewest bytes that complete the number to a value in
// [lo, hi] (micro-units), or inf when none can; 0 when it is complete.
func (st *numState) need(lo, hi int64, integer bool) int {
	if st.neg {
		lo, hi = -hi, -lo
	}
	lo = max(lo, 0) // from here on lo and hi bound the magnitude
	if lo > hi {
		return inf
	}
	if st.dot {
		return fractionNeed(st.ip*unit+st.fp*pow10[maxFracDigits-st.nfrac], int(maxFracDigits-st.nfrac), st.nfrac == 0, lo, hi)
	}
	best := inf
	st.intOptions(func(cost int, a, b int64) {
		if cost >= best {
			return
		}
		if max(ceilDiv(lo, unit), a) <= min(hi/unit, b) {
			best = cost
			return
		}
		if integer {
			return
		}
		for f := 1; f <= maxFracDigits && cost+1+f < best; f++ {
			step := pow10[maxFracDigits-f]
			if onGrid(max(lo, a*unit), min(hi, b*unit+unit-step), step) {
				best = cost + 1 + f
			}
		}
	})
	return best
}

// intOptions calls yield with each way to finish the integer part: cost
// more digits give an integer part in [a, b].
func (st *numState) intOptions(yield func(cost int, a, b int64)) {
	switch {
	case st.ndig == 0:
		yield(1, 0, 9)
		for j := 2; j <= maxIntDigits; j++ {
			yield(j, pow10[j-1], pow10[j]-1)
		}
	case st.ip == 0:
		yield(0, 0, 0)
	default:
		for j := 0; j <= maxIntDigits-int(st.ndig); j++ {
			yield(j, st.ip*pow10[j], st.ip*pow10[j]+pow10[j]-1)
		}
	}
}

// fractionNeed is need after the dot: base is the value so far, room the
// fraction digits still allowed, mustDigit whether one must follow.
func fractionNeed(base int64, room int, mustDigit bool, lo, hi int64) int {
	f := 0
	if mustDigit {
		f = 1
	}
	for ; f <= room; f++ {
		step := pow10[room-f]
		if onGrid(max(lo, base), min(hi, base+pow10[room]-step), step) {
			return f
		}
	}
	return inf
}

// onGrid reports whether [a, b] (a ≥ 0) holds a multiple of step.
func onGrid(a, b, step int64) bool { return a <= b && ceilDiv(a, step)*step <= b }

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b } // a ≥ 0

// numberMinLen is the length of the shortest number in [lo, hi].
func numberMinLen(lo, hi int64, integer bool) int {
	pos := (&numState{}).need(lo, hi, integer)
	neg := (&numState{neg: true}).need(lo, hi, integer)
	return min(pos, add(1, neg))
}

// unitBounds converts a schema's bounds to micro-units: every number the
// grammar writes in [lo, hi] parses (as Validate parses it) to a float64
// that satisfies them. lo > hi when none does.
func unitBounds(lower, upper [2]bound) (lo, hi int64) {
	lo, hi = -maxUnits, maxUnits
	for _, b := range lower {
		if b.set {
			lo = max(lo, lowestUnits(b))
		}
	}
	for _, b := range upper {
		if b.set {
			hi = min(hi, highestUnits(b))
		}
	}
	return lo, hi
}

// lowestUnits returns a count of micro-units from which on every value
// satisfies the lower bound b (maxUnits+1 when none does).
func lowestUnits(b bound) int64 {
	ok := func(u int64) bool {
		f := unitsValue(u)
		return f > b.v || !b.exclusive && f == b.v
	}
	x := b.v * unit
	switch {
	case x >= maxUnits:
		if ok(maxUnits) {
			return maxUnits
		}
		return maxUnits + 1
	case x <= -maxUnits:
		return -maxUnits
	}
	u := int64(math.Ceil(x)) - 1
	for !ok(u) && u <= maxUnits {
		u++ // float rounding: a few steps at most
	}
	return u
}

// highestUnits mirrors lowestUnits for an upper bound.
func highestUnits(b bound) int64 {
	neg := bound{set: true, exclusive: b.exclusive, v: -b.v}
	return -lowestUnits(neg)
}

// unitsValue is the float64 that the text of u micro-units parses to.
func unitsValue(u int64) float64 {
	var b []byte
	if u < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendInt(b, u/unit, 10)
	b = append(b, '.')
	frac := strconv.AppendInt(nil, u%unit+unit, 10) // leading 1 keeps the zeros
	b = append(b, frac[1:]...)
	f, _ := strconv.ParseFloat(string(b), 64)
	return f
}
