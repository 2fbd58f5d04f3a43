package eval

import "math"

// This file is the edit-distance-with-shifts search of sacreBLEU's TER
// (lib_ter.py), which follows tercom's heuristics. Words are interned to
// ints first.

const (
	terMaxShiftSize       = 10
	terMaxShiftDist       = 50
	terBeamWidth          = 25
	terMaxShiftCandidates = 1000
	terInfinity           = int64(1e16)
)

// Edit operations, rewriting the hypothesis into the reference.
const (
	opNop   byte = ' '
	opSub   byte = 's'
	opIns   byte = 'i'
	opDel   byte = 'd'
	opUndef byte = 'x'
)

// translationEditRate returns the number of edits (shifts included) that
// turn hyp into ref, and the reference length.
func translationEditRate(hypWords, refWords []string) (edits, refLen int) {
	if len(refWords) == 0 {
		return len(hypWords), 0
	}
	ids := make(map[string]int32, len(refWords)+len(hypWords))
	intern := func(words []string) []int32 {
		out := make([]int32, len(words))
		for i, w := range words {
			id, ok := ids[w]
			if !ok {
				id = int32(len(ids))
				ids[w] = id
			}
			out[i] = id
		}
		return out
	}
	ref := intern(refWords)
	input := intern(hypWords)
	ed := newBeamEditDistance(ref, len(input))
	shifts, checked := 0, 0
	for {
		var delta int
		var shifted []int32
		delta, shifted, checked = bestShift(input, ref, ed, checked)
		if checked >= terMaxShiftCandidates || delta <= 0 {
			break
		}
		shifts++
		input = shifted
	}
	dist, _ := ed.distance(input)
	return shifts + dist, len(ref)
}

// bestShift tries every candidate shift of a matching word sequence and
// returns the one that reduces the edit distance most (ties: longer, then
// earlier, then to an earlier target), with the running candidate count.
func bestShift(hyp, ref []int32, ed *beamEditDistance, checked int) (int, []int32, int) {
	preScore, invTrace := ed.distance(hyp)
	align, refErr, hypErr := traceToAlignment(flipTrace(invTrace), len(hyp), len(ref))

	found := false
	var best struct {
		score, length, startH, idx int
		words                      []int32
	}
	better := func(score, length, startH, idx int) bool {
		if !found {
			return true
		}
		switch {
		case score != best.score:
			return score > best.score
		case length != best.length:
			return length > best.length
		case startH != best.startH:
			return startH < best.startH
		}
		return idx < best.idx
	}

	nh, nr := len(hyp), len(ref)
scan:
	for startH := 0; startH < nh; startH++ {
		for startR := 0; startR < nr; startR++ {
			if abs(startR-startH) > terMaxShiftDist {
				continue
			}
			for length := 1; length <= terMaxShiftSize && hyp[startH+length-1] == ref[startR+length-1]; length++ {
				checked = tryShift(hyp, startH, startR, length, align, refErr, hypErr, ed, preScore, checked, better, func(score, idx int, words []int32) {
					found = true
					best.score, best.length, best.startH, best.idx, best.words = score, length, startH, idx, words
				})
				if checked >= terMaxShiftCandidates {
					break scan
				}
				if nh == startH+length || nr == startR+length {
					break
				}
			}
		}
	}
	if !found {
		return 0, hyp, checked
	}
	return best.score, best.words, checked
}

// tryShift evaluates moving hyp[startH:startH+length], which matches
// ref[startR:startR+length], to each target next to the alignment of that
// reference span.
func tryShift(hyp []int32, startH, startR, length int, align, refErr, hypErr []int,
	ed *beamEditDistance, preScore, checked int,
	better func(score, length, startH, idx int) bool, take func(score, idx int, words []int32)) int {
	// Shift only if the hypothesis words are wrong here and the reference
	// words are not matched, and not within the sequence itself.
	if sum(hypErr[startH:startH+length]) == 0 || sum(refErr[startR:startR+length]) == 0 {
		return checked
	}
	if a := align[startR]; startH <= a && a < startH+length {
		return checked
	}
	prevIdx := -1
	for offset := -1; offset < length; offset++ {
		var idx int
		switch p := startR + offset; {
		case p == -1:
			idx = 0
		case p < len(align):
			idx = align[p] + 1
		default:
			return checked
		}
		if idx == prevIdx {
			continue
		}
		prevIdx = idx
		shifted := performShift(hyp, startH, length, idx)
		d, _ := ed.distance(shifted)
		score := preScore - d
		checked++
		if better(score, length, startH, idx) {
			take(score, idx, shifted)
		}
	}
	return checked
}

// performShift moves words[start:start+length] to before target, with
// Python's slice clamping, exactly as sacreBLEU's _perform_shift (whose third
// case, a target inside the moved span, is kept as written).
func performShift(words []int32, start, length, target int) []int32 {
	out := make([]int32, 0, len(words))
	s := func(a, b int) []int32 { return pySlice(words, a, b) }
	switch {
	case target < start:
		out = append(out, s(0, target)...)
		out = append(out, s(start, start+length)...)
		out = append(out, s(target, start)...)
		out = append(out, s(start+length, len(words))...)
	case target > start+length:
		out = append(out, s(0, start)...)
		out = append(out, s(start+length, target)...)
		out = append(out, s(start, start+length)...)
		out = append(out, s(target, len(words))...)
	default:
		out = append(out, s(0, start)...)
		out = append(out, s(start+length, length+target)...)
		out = append(out, s(start, start+length)...)
		out = append(out, s(length+target, len(words))...)
	}
	return out
}

// pySlice is xs[a:b] with Python's clamping of out-of-range bounds.
func pySlice(xs []int32, a, b int) []int32 {
	a = max(0, min(a, len(xs)))
	b = max(0, min(b, len(xs)))
	if a >= b {
		return nil
	}
	return xs[a:b]
}

func flipTrace(trace []byte) []byte {
	out := make([]byte, len(trace))
	for i, op := range trace {
		switch op {
		case opIns:
			out[i] = opDel
		case opDel:
			out[i] = opIns
		default:
			out[i] = op
		}
	}
	return out
}

// traceToAlignment maps each reference position to a hypothesis position
// and marks the erroneous positions on both sides.
func traceToAlignment(trace []byte, nh, nr int) (align, refErr, hypErr []int) {
	align = make([]int, nr)
	refErr = make([]int, 0, nr)
	hypErr = make([]int, 0, nh)
	posHyp, posRef := -1, -1
	for _, op := range trace {
		switch op {
		case opNop, opSub:
			posHyp++
			posRef++
			align[posRef] = posHyp
			e := 0
			if op == opSub {
				e = 1
			}
			hypErr = append(hypErr, e)
			refErr = append(refErr, e)
		case opIns:
			posHyp++
			hypErr = append(hypErr, 1)
		case opDel:
			posRef++
			align[posRef] = posHyp
			refErr = append(refErr, 1)
		}
	}
	return align, refErr, hypErr
}

// beamEditDistance is Levenshtein distance to a fixed reference, computed
// only in a beam around the (length-ratio) diagonal, with the trace of
// operations. Every hypothesis it sees has the same length.
type beamEditDistance struct {
	ref        []int32
	nh         int
	cost       []int64 // (nh+1) × (nr+1)
	op         []byte
	lengthRate float64
	beam       int
}

func newBeamEditDistance(ref []int32, nh int) *beamEditDistance {
	nr := len(ref)
	e := &beamEditDistance{
		ref: ref, nh: nh,
		cost: make([]int64, (nh+1)*(nr+1)), op: make([]byte, (nh+1)*(nr+1)),
		lengthRate: 1, beam: terBeamWidth,
	}
	if nh > 0 {
		e.lengthRate = float64(nr) / float64(nh)
	}
	if float64(terBeamWidth) < e.lengthRate/2 {
		e.beam = int(math.Ceil(e.lengthRate/2 + terBeamWidth))
	}
	return e
}

// distance returns the edit distance from hyp to the reference and the
// trace of operations.
func (e *beamEditDistance) distance(hyp []int32) (int, []byte) {
	nr := len(e.ref)
	w := nr + 1
	for j := 0; j <= nr; j++ {
		e.cost[j], e.op[j] = int64(j), opIns
	}
	for k := w; k < len(e.cost); k++ {
		e.cost[k], e.op[k] = terInfinity, opUndef
	}
	nh := len(hyp)
	for i := 1; i <= nh; i++ {
		diag := int(math.Floor(float64(i) * e.lengthRate))
		minJ := max(0, diag-e.beam)
		maxJ := min(nr+1, diag+e.beam)
		if i == nh {
			maxJ = nr + 1
		}
		row, prev := i*w, (i-1)*w
		for j := minJ; j < maxJ; j++ {
			if j == 0 {
				e.cost[row], e.op[row] = e.cost[prev]+1, opDel
				continue
			}
			subCost, subOp := int64(1), opSub
			if hyp[i-1] == e.ref[j-1] {
				subCost, subOp = 0, opNop
			}
			// tercom prefers no-op/substitution, then deletion, then
			// insertion (swapped because the trace is flipped later).
			c, op := e.cost[row+j], e.op[row+j]
			if v := e.cost[prev+j-1] + subCost; c > v {
				c, op = v, subOp
			}
			if v := e.cost[prev+j] + 1; c > v {
				c, op = v, opDel
			}
			if v := e.cost[row+j-1] + 1; c > v {
				c, op = v, opIns
			}
			e.cost[row+j], e.op[row+j] = c, op
		}
	}
	var trace []byte
	i, j := nh, nr
	for i > 0 || j > 0 {
		op := e.op[i*w+j]
		trace = append(trace, op)
		switch op {
		case opSub, opNop:
			i--
			j--
		case opIns:
			j--
		case opDel:
			i--
		default:
			panic("ter: edit-distance trace left the beam")
		}
	}
	for l, r := 0, len(trace)-1; l < r; l, r = l+1, r-1 {
		trace[l], trace[r] = trace[r], trace[l]
	}
	return int(e.cost[nh*w+nr]), trace
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}
