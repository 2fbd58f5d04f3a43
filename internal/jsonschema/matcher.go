package jsonschema

import "math"

// maxSpace bounds the spaces and tabs between two tokens of a document
// (besides one line break), so a model cannot loop on whitespace.
const maxSpace = 12

// maxThreads bounds the parses a Matcher follows at once (anyOf branches
// that agree so far).
const maxThreads = 64

// Matcher accepts the bytes of a document of its schema one at a time,
// exactly the prefixes of documents the grammar can finish (see the
// package comment for the grammar). It is not safe for concurrent use;
// Clone or CopyFrom give independent copies.
type Matcher struct {
	s     *Schema
	cur   threads // the parses still alive
	next  threads // scratch for FeedByte
	saved threads // Feed's copy to restore on failure
	spare []frame // saved stacks while an anyOf splits
}

// threads holds parses (stacks of frames, the root first) one after
// another: parse i is frames[ends[i-1]:ends[i]].
type threads struct {
	frames []frame
	ends   []int32
}

// NewMatcher returns a matcher at the start of a document. It fails when
// the schema uses keywords the grammar supports for validation only.
func (s *Schema) NewMatcher() (*Matcher, error) {
	if s.genErr != nil {
		return nil, s.genErr
	}
	m := &Matcher{s: s}
	m.cur.frames = append(m.cur.frames, frame{kind: frameRoot, node: s.root.id})
	m.cur.ends = append(m.cur.ends, 1)
	return m, nil
}

// Feed takes the bytes of text and reports whether the document can still
// be completed. On false the matcher is unchanged.
func (m *Matcher) Feed(text string) bool {
	m.saved.copyFrom(&m.cur)
	for i := 0; i < len(text); i++ {
		if !m.FeedByte(text[i]) {
			m.cur.copyFrom(&m.saved)
			return false
		}
	}
	return true
}

// FeedByte takes one byte; on false the matcher is unchanged.
func (m *Matcher) FeedByte(b byte) bool {
	if !m.feedInto(&m.next, &m.cur, b) {
		return false
	}
	m.cur, m.next = m.next, m.cur
	return true
}

// FeedFrom sets m to src after the byte b, reusing m's memory (the fast
// way to try many continuations of one state). On false m is left in a
// dead state that accepts nothing; src is never changed.
func (m *Matcher) FeedFrom(src *Matcher, b byte) bool {
	m.s = src.s
	return m.feedInto(&m.cur, &src.cur, b)
}

// CopyFrom sets m to the state of src, reusing m's memory.
func (m *Matcher) CopyFrom(src *Matcher) {
	m.s = src.s
	m.cur.copyFrom(&src.cur)
}

// Clone returns an independent copy of m.
func (m *Matcher) Clone() *Matcher {
	c := &Matcher{}
	c.CopyFrom(m)
	return c
}

// Done reports whether a complete document has been read and no byte may
// follow it.
func (m *Matcher) Done() bool {
	for i := range m.cur.ends {
		if !m.s.done(m.cur.thread(i)) {
			return false
		}
	}
	return len(m.cur.ends) > 0
}

// CanEnd reports whether what has been read is a complete document (it
// may still go on, as a number at the top level can).
func (m *Matcher) CanEnd() bool {
	for i := range m.cur.ends {
		if m.s.canEnd(m.cur.thread(i)) {
			return true
		}
	}
	return false
}

// Remaining returns the fewest bytes that complete the document
// (0 when it can end here).
func (m *Matcher) Remaining() int {
	best := inf
	for i := range m.cur.ends {
		th, sum := m.cur.thread(i), 0
		for j := range th {
			sum = add(sum, m.s.need(&th[j]))
		}
		best = min(best, sum)
	}
	return best
}

// StringRoom reports, when the matcher is inside a string between two
// characters (one parse, no escape or UTF-8 sequence half read), how many
// more characters the string may take (math.MaxInt when unbounded). Any
// text of that many characters or fewer without '"', '\\' or control
// characters and made of whole UTF-8 characters is then accepted, and
// never makes Remaining grow.
func (m *Matcher) StringRoom() (int, bool) {
	if len(m.cur.ends) != 1 {
		return 0, false
	}
	th := m.cur.thread(0)
	f := &th[len(th)-1]
	if f.kind != frameString || f.state != strBody || f.esc != 0 || f.u8 != 0 {
		return 0, false
	}
	n := m.s.nodes[f.node]
	if n.maxLength < 0 {
		return math.MaxInt, true
	}
	return n.maxLength - int(f.pos), true
}

func (t *threads) copyFrom(o *threads) {
	t.frames = append(t.frames[:0], o.frames...)
	t.ends = append(t.ends[:0], o.ends...)
}

func (t *threads) thread(i int) []frame {
	start := int32(0)
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.frames[start:t.ends[i]]
}

func (t *threads) commit() { t.ends = append(t.ends, int32(len(t.frames))) }

// dedup drops parses that repeat an earlier one, and those past maxThreads.
func (t *threads) dedup() {
	kept, w := 0, int32(0)
	for i := range t.ends {
		th := t.thread(i)
		dup := false
		start := int32(0)
		for k := 0; k < kept && !dup; k++ {
			dup = equalFrames(t.frames[start:t.ends[k]], th)
			start = t.ends[k]
		}
		if dup || kept == maxThreads {
			continue
		}
		w += int32(copy(t.frames[w:], th))
		t.ends[kept] = w
		kept++
	}
	t.frames, t.ends = t.frames[:w], t.ends[:kept]
}

func equalFrames(a, b []frame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// feedInto writes into out every parse of in after the byte b.
func (m *Matcher) feedInto(out, in *threads, b byte) bool {
	out.frames, out.ends = out.frames[:0], out.ends[:0]
	start := int32(0)
	for _, end := range in.ends {
		at := len(out.frames)
		out.frames = append(out.frames, in.frames[start:end]...)
		m.run(out, at, b)
		start = end
	}
	if len(out.ends) > 1 {
		out.dedup()
	}
	return len(out.ends) > 0
}

// run feeds b to the parse at out.frames[start:] (the last, uncommitted
// one), and commits it or drops it.
func (m *Matcher) run(out *threads, start int, b byte) {
	for {
		top := len(out.frames) - 1
		act, child := m.s.step(&out.frames[top], b)
		switch act {
		case actReject:
			out.frames = out.frames[:start]
			return
		case actConsume:
			out.commit()
			return
		case actFinish:
			out.frames = out.frames[:top]
			m.s.childDone(&out.frames[top-1])
			out.commit()
			return
		case actYield:
			out.frames = out.frames[:top]
			m.s.childDone(&out.frames[top-1])
		case actChild:
			m.startValue(out, start, child, b)
			return
		}
	}
}

// startValue begins a value of n with the byte b on the parse at
// out.frames[start:], splitting it into one parse per branch of a union.
func (m *Matcher) startValue(out *threads, start int, n *node, b byte) {
	n = resolve(n)
	if n.gen.kind != genUnion {
		m.startLeaf(out, start, n, b)
		return
	}
	from := len(m.spare)
	m.spare = append(m.spare, out.frames[start:]...)
	to := len(m.spare)
	out.frames = out.frames[:start]
	for _, leaf := range n.gen.branches {
		at := len(out.frames)
		out.frames = append(out.frames, m.spare[from:to]...)
		m.startLeaf(out, at, leaf, b)
	}
	m.spare = m.spare[:from]
}

// startLeaf begins a value of the non-union node n with b. Objects and
// arrays nest no deeper than Validate reads.
func (m *Matcher) startLeaf(out *threads, start int, n *node, b byte) {
	f, ok := m.s.fresh(n, b)
	if ok && (f.kind == frameObject || f.kind == frameArray) && len(out.frames)-start > maxNesting-8 {
		ok = false
	}
	if !ok {
		out.frames = out.frames[:start]
		return
	}
	out.frames = append(out.frames, f)
	m.run(out, start, b)
}
