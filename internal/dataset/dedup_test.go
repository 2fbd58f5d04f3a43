package dataset

import (
	"reflect"
	"strings"
	"testing"
)

// shingleSet is the exact set of shingle hashes of a text, for true Jaccard.
func shingleSet(sh *shingler, text string) map[uint64]bool {
	runes := append([]rune(nil), sh.normalize(text)...)
	set := map[uint64]bool{}
	k := min(sh.k, len(runes))
	for i := 0; i+k <= len(runes); i++ {
		set[exactHash(runes[i:i+k])] = true
	}
	return set
}

func jaccard(a, b map[uint64]bool) float64 {
	inter := 0
	for h := range a {
		if b[h] {
			inter++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 1
	}
	return float64(inter) / float64(union)
}

// TestDedupPrecisionRecall plants edited copies of distinct records and
// checks that dedup finds those at or above the threshold and merges
// nothing else.
func TestDedupPrecisionRecall(t *testing.T) {
	const threshold = 0.8
	s := newSynth(7)
	sh := newShingler(5)
	type rec struct {
		ex     Example
		origin int // index of the record it was copied from, -1 for an original
		truth  float64
	}
	var recs []rec
	for i := 0; i < 3000; i++ {
		chinese := i%4 == 3
		if i < 400 || s.rng.IntN(4) != 0 {
			recs = append(recs, rec{ex: s.example(500, chinese), origin: -1})
			continue
		}
		o := s.rng.IntN(len(recs))
		for recs[o].origin >= 0 {
			o = s.rng.IntN(len(recs))
		}
		zh := isChinese(recs[o].ex.Messages[0].Content)
		rate := []float64{0.01, 0.02, 0.04, 0.06, 0.1, 0.2}[s.rng.IntN(6)]
		cp := s.editExample(recs[o].ex, rate, zh)
		truth := jaccard(shingleSet(sh, recs[o].ex.Text()), shingleSet(sh, cp.Text()))
		recs = append(recs, rec{ex: cp, origin: o, truth: truth})
	}
	d := NewDeduper(DedupOptions{Threshold: threshold})
	// found: flagged pairs; tp: of them, true Jaccard ≥ threshold − 0.05
	// (the estimate's noise); strict: true Jaccard ≥ threshold.
	var found, tp, strict, positives, missed, clear, clearMissed int
	for i := range recs {
		recs[i].ex.Pos = Position{Index: i}
		dup, isDup := d.Add(&recs[i].ex)
		r := recs[i]
		isPositive := r.origin >= 0 && r.truth >= threshold
		if isPositive {
			positives++
		}
		if r.origin >= 0 && r.truth >= threshold+0.05 {
			clear++
		}
		switch {
		case isDup:
			found++
			j := jaccard(shingleSet(sh, recs[dup.Of.Index].ex.Text()), shingleSet(sh, r.ex.Text()))
			if j >= threshold-0.05 {
				tp++
			} else {
				t.Logf("wrong merge: record %d (copy of %d) into %d: true Jaccard %.3f, estimated %.3f", i, r.origin, dup.Of.Index, j, dup.Similarity)
			}
			if j >= threshold {
				strict++
			}
		case isPositive:
			missed++
			if r.truth >= threshold+0.05 {
				clearMissed++
			}
		}
	}
	precision := float64(tp) / float64(found)
	strictPrecision := float64(strict) / float64(found)
	recall := float64(positives-missed) / float64(positives)
	clearRecall := float64(clear-clearMissed) / float64(clear)
	t.Logf("%d records, %d planted copies at Jaccard ≥ %.2f (%d at ≥ %.2f): flagged %d, missed %d", len(recs), positives, threshold, clear, threshold+0.05, found, missed)
	t.Logf("precision %.4f (%.4f counting pairs in [%.2f, %.2f) as wrong), recall %.4f (%.4f at ≥ %.2f)",
		precision, strictPrecision, threshold-0.05, threshold, recall, clearRecall, threshold+0.05)
	if precision < 0.99 || strictPrecision < 0.95 || recall < 0.95 || clearRecall < 0.99 {
		t.Errorf("precision %.4f (want ≥ 0.99), strict %.4f (want ≥ 0.95), recall %.4f (want ≥ 0.95), recall well above the threshold %.4f (want ≥ 0.99)",
			precision, strictPrecision, recall, clearRecall)
	}
	distinctMerged := 0
	for _, c := range d.Clusters() {
		for _, dd := range c.Duplicates {
			if recs[dd.Pos.Index].origin < 0 {
				distinctMerged++
			}
		}
	}
	if distinctMerged > 0 {
		t.Errorf("%d distinct records were merged into others", distinctMerged)
	}
}

// TestDedupExactAcrossFiles finds exact copies (differing in case,
// punctuation and spacing) across two files and reports them as clusters.
func TestDedupExactAcrossFiles(t *testing.T) {
	a := []Example{
		{Messages: []Message{{RoleUser, "What is 2+2?"}, {RoleAssistant, "4."}}, Pos: Position{File: "a.json", Line: 2, Index: 0}},
		{Messages: []Message{{RoleUser, "Name a colour"}, {RoleAssistant, "Blue"}}, Pos: Position{File: "a.json", Line: 7, Index: 1}},
	}
	b := []Example{
		{Messages: []Message{{RoleUser, "what is 2 + 2"}, {RoleAssistant, "4"}}, Pos: Position{File: "b.jsonl", Line: 1, Index: 0}},
		{Messages: []Message{{RoleUser, "Name a color"}, {RoleAssistant, "Red"}}, Pos: Position{File: "b.jsonl", Line: 2, Index: 1}},
		{Messages: []Message{{RoleUser, "NAME A COLOUR!"}, {RoleAssistant, "blue"}}, Pos: Position{File: "b.jsonl", Line: 3, Index: 2}},
	}
	d := NewDeduper(DedupOptions{})
	var dropped []Position
	for _, ex := range append(a, b...) {
		if dup, ok := d.Add(&ex); ok {
			if !dup.Exact || dup.Similarity != 1 {
				t.Errorf("%v: %+v, want an exact duplicate", ex.Pos, dup)
			}
			dropped = append(dropped, ex.Pos)
		}
	}
	want := []Position{b[0].Pos, b[2].Pos}
	if !reflect.DeepEqual(dropped, want) {
		t.Errorf("dropped %v, want %v", dropped, want)
	}
	clusters := d.Clusters()
	if len(clusters) != 2 || clusters[0].Kept != a[0].Pos || clusters[1].Kept != a[1].Pos || clusters[1].Duplicates[0].Pos != b[2].Pos {
		t.Errorf("clusters %+v", clusters)
	}
	r := d.Report()
	if r.Records != 5 || r.Kept != 3 || r.Exact != 2 || r.Near != 0 || r.Clusters != 2 {
		t.Errorf("report %+v", r)
	}
}

// TestDedupChinese finds an edited copy of a Chinese text.
func TestDedupChinese(t *testing.T) {
	base := "细胞理论是生物科学的一个理论，它认为所有生命体都是由微小的基本单元——细胞所构成。这是生物学的一个基础理论，认为细胞是所有生物的基本结构和功能单位，所有的生物都是由一个或多个细胞组成，细胞只能通过细胞分裂产生新的细胞。"
	edited := strings.Replace(base, "微小的", "很小的", 1)
	other := "日心说是指太阳是太阳系的中心，也就是说，行星围绕太阳旋转的理论。这个理论打破了传统的地心说观点，认为地球并不是宇宙的中心。日心说的提出者是尼古拉·哥白尼，他在16世纪初发表了他的著作《天体运行论》。"
	d := NewDeduper(DedupOptions{})
	for i, text := range []string{base, other, edited} {
		ex := Example{Messages: []Message{{RoleUser, "解释"}, {RoleAssistant, text}}, Pos: Position{Index: i}}
		dup, ok := d.Add(&ex)
		if want := i == 2; ok != want || ok && (dup.Of.Index != 0 || dup.Exact) {
			t.Errorf("record %d: duplicate %v %+v, want %v", i, ok, dup, want)
		}
	}
}

// TestBandingFor checks that the LSH banding finds pairs at the threshold.
func TestBandingFor(t *testing.T) {
	for _, th := range []float64{0.5, 0.7, 0.8, 0.9, 0.95} {
		b := bandingFor(th)
		if b.bands*b.rows > maxBandHashes || b.candidateProbability(th) < 0.99 {
			t.Errorf("threshold %v: %+v finds a pair at the threshold with probability %.4f", th, b, b.candidateProbability(th))
		}
	}
}

// TestGrouper groups transitively: A~B and B~C put A, B and C together.
func TestGrouper(t *testing.T) {
	s := newSynth(3)
	a := s.example(600, false)
	b := s.editExample(a, 0.02, false)
	c := s.editExample(b, 0.02, false)
	x := s.example(600, false)
	g := NewGrouper(DedupOptions{})
	for _, ex := range []Example{a, x, b, c} {
		g.Add(&ex)
	}
	if g.Group(2) != 0 || g.Group(3) != 0 || g.Group(1) != 1 || g.Len() != 4 {
		t.Errorf("groups %d %d %d %d", g.Group(0), g.Group(1), g.Group(2), g.Group(3))
	}
}

func TestCompactSimilarity(t *testing.T) {
	var a, b compactSig
	for i := range a {
		a[i] = byte(i)
		b[i] = byte(i)
		if i%4 == 0 {
			b[i] ^= 0x80
		}
		if i%4 == 1 {
			b[i] ^= 0x01
		}
	}
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	want := (float64(same)/sigLen - 1.0/256) / (1 - 1.0/256)
	if got := a.similarity(&b); got != want || same != sigLen/2 {
		t.Errorf("similarity %v, want %v", got, want)
	}
}
