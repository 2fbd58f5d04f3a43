package eval

// Metric is a corpus metric whose score is a function of per-segment
// sufficient statistics summed over the corpus: BLEU, CHRF and TER. The
// significance tests resample those statistics instead of the text.
type Metric interface {
	// SegmentStats returns one row of statistics per hypothesis, refs[i]
	// holding the references of hyps[i].
	SegmentStats(hyps []string, refs [][]string) ([][]float64, error)
	// StatsLen is the length of each row.
	StatsLen() int
	// Score is the corpus score of rows summed column by column.
	Score(sum []float64) float64
}

// Transpose turns reference streams (streams[k][i]: the k-th reference of
// segment i, sacreBLEU's layout) into per-segment reference lists. A stream
// shorter than the first has no reference for the segments past its end, so
// segments may have different numbers of references, as sacreBLEU allows
// with None; an empty string is an (empty) reference, as in sacreBLEU.
func Transpose(streams [][]string) [][]string {
	if len(streams) == 0 {
		return nil
	}
	refs := make([][]string, len(streams[0]))
	for i := range refs {
		for _, s := range streams {
			if i < len(s) {
				refs[i] = append(refs[i], s[i])
			}
		}
	}
	return refs
}

// RefCount is the number of references per segment for a signature: the
// common count, or -1 when it varies.
func RefCount(refs [][]string) int {
	if len(refs) == 0 {
		return 0
	}
	n := len(refs[0])
	for _, r := range refs[1:] {
		if len(r) != n {
			return -1
		}
	}
	return n
}
