package jsonschema

import "sort"

// frame is one construct being read: the document (the root frame), an
// object, an array, a string, a number or a literal. A parse is a stack of
// frames; frames hold only numbers, so copying and comparing parses is
// cheap.
type frame struct {
	kind       frameKind
	state      uint8
	ws         uint8 // whitespace in the current gap: spaces and tabs, and wsNewline
	esc        uint8 // string: escape state
	u8         uint8 // string: UTF-8 continuation bytes still due
	u8lo, u8hi uint8 // string: the range of the next continuation byte
	node       int32
	pos        int32 // object: next property; array: items begun; string: characters
	prop       int32 // object: the property whose key or value is read
	set        int32 // literal set being matched (object keys, enum values, true/false/null)
	lo, hi     int32 // candidates of set still matching
	off        int32 // bytes of the candidates matched
	num        numState
}

type frameKind uint8

const (
	frameRoot frameKind = iota
	frameObject
	frameArray
	frameString
	frameNumber
	frameLiteral
)

// states
const (
	rootValue uint8 = iota // before the value
	rootIn                 // reading it
	rootDone               // after it
)

const (
	objFresh       uint8 = iota // before '{'
	objOpen                     // after '{'
	objKey                      // reading a declared key
	objFreeKey                  // reading a free-form key (a child string)
	objColon                    // after a key
	objBeforeValue              // after ':'
	objValue                    // reading a value
	objNext                     // after a value
	objComma                    // after ','
)

const (
	arrFresh uint8 = iota
	arrOpen
	arrValue
	arrNext
	arrComma
)

const (
	strFresh uint8 = iota
	strBody
)

const (
	numNumber  uint8 = iota // fractions allowed
	numInteger              // integers only
)

// escape states of a string
const (
	escNone      = iota
	escBackslash // after '\'
	escU0        // after "\u"
	escU1        // one hex digit, not 'd'
	escU1D       // the hex digit 'd' (a surrogate if 8-f follows)
	escU2
	escU3
)

// action is what a frame does with a byte.
type action uint8

const (
	actReject  action = iota
	actConsume        // taken; the frame goes on
	actFinish         // taken; the frame is complete
	actYield          // not taken; the frame is complete and its parent takes the byte
	actChild          // the byte starts a value the parent expects
)

// isSpace reports whether b is whitespace the grammar writes ('\r' is
// not: a gap holds at most one line break, '\n').
func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\t' }

// wsNewline marks a gap that holds its line break.
const wsNewline = 0x80

// space takes a whitespace byte of a gap.
func (f *frame) space(b byte) action {
	switch {
	case b == '\n' && f.ws&wsNewline == 0:
		f.ws |= wsNewline
	case b != '\n' && f.ws&^wsNewline < maxSpace:
		f.ws++
	default:
		return actReject
	}
	return actConsume
}

// fresh returns the frame that reads a value of the (resolved, non-union)
// node n beginning with b.
func (s *Schema) fresh(n *node, b byte) (frame, bool) {
	g := &n.gen
	if g.kind == genLiterals {
		return s.literal(n.id, g.lits), true
	}
	if g.kind != genConcrete {
		return frame{}, false
	}
	f := frame{node: n.id}
	switch {
	case b == '{' && g.viable&typeObject != 0:
		f.kind = frameObject
	case b == '[' && g.viable&typeArray != 0:
		f.kind = frameArray
	case b == '"' && g.viable&typeString != 0:
		f.kind = frameString
	case (b == '-' || b >= '0' && b <= '9') && g.viable&(typeNumber|typeInteger) != 0:
		f.kind = frameNumber
		if g.viable&typeNumber == 0 {
			f.state = numInteger
		}
	case (b == 't' || b == 'f') && g.viable&typeBoolean != 0:
		return s.literal(n.id, boolLits), true
	case b == 'n' && g.viable&typeNull != 0:
		return s.literal(n.id, nullLits), true
	default:
		return frame{}, false
	}
	return f, true
}

func (s *Schema) literal(node, set int32) frame {
	return frame{kind: frameLiteral, node: node, set: set, hi: int32(len(s.lits[set]))}
}

// step feeds b to the frame f on top of a parse.
func (s *Schema) step(f *frame, b byte) (action, *node) {
	switch f.kind {
	case frameRoot:
		return s.stepRoot(f, b)
	case frameObject:
		return s.stepObject(f, b)
	case frameArray:
		return s.stepArray(f, b)
	case frameString:
		return s.stepString(f, b), nil
	case frameNumber:
		return s.stepNumber(f, b), nil
	}
	return s.stepLiteral(f, b), nil
}

// childDone moves f past the child value (or key) that just ended.
func (s *Schema) childDone(f *frame) {
	f.ws = 0
	switch f.kind {
	case frameRoot:
		f.state = rootDone
	case frameArray:
		f.state = arrNext
	case frameObject:
		if f.state == objFreeKey {
			f.state = objColon
		} else {
			f.state = objNext
		}
	}
}

func (s *Schema) stepRoot(f *frame, b byte) (action, *node) {
	if f.state != rootValue {
		return actReject, nil
	}
	if isSpace(b) {
		return f.space(b), nil
	}
	f.state = rootIn
	return actChild, s.nodes[f.node]
}

func (s *Schema) stepObject(f *frame, b byte) (action, *node) {
	n := s.nodes[f.node]
	o := n.gen.obj
	if f.state == objKey {
		return s.stepKey(f, o, b), nil
	}
	if f.state == objFresh {
		if b != '{' {
			return actReject, nil
		}
		f.state = objOpen
		return actConsume, nil
	}
	if isSpace(b) {
		return f.space(b), nil
	}
	switch f.state {
	case objOpen, objComma:
		if b == '}' && f.state == objOpen && s.mayClose(n, f) {
			return actFinish, nil
		}
		if b != '"' {
			return actReject, nil
		}
		if o == nil {
			if n.noAdditional {
				return actReject, nil
			}
			f.state, f.ws = objFreeKey, 0
			return actChild, s.key
		}
		if o.keys[f.pos] < 0 {
			return actReject, nil
		}
		f.state, f.set, f.lo, f.hi, f.off = objKey, o.keys[f.pos], 0, int32(len(s.lits[o.keys[f.pos]])), 0
		return s.stepKey(f, o, b), nil
	case objColon:
		if b != ':' {
			return actReject, nil
		}
		f.state, f.ws = objBeforeValue, 0
		return actConsume, nil
	case objBeforeValue:
		f.state = objValue
		if o == nil {
			return actChild, n.gen.value
		}
		return actChild, o.props[f.prop].value
	case objNext:
		switch {
		case b == '}' && s.mayClose(n, f):
			return actFinish, nil
		case b == ',' && (o == nil && !n.noAdditional || o != nil && o.keys[f.pos] >= 0):
			f.state, f.ws = objComma, 0
			return actConsume, nil
		}
	}
	return actReject, nil
}

// mayClose reports whether no required property is left.
func (s *Schema) mayClose(n *node, f *frame) bool {
	o := n.gen.obj
	return o == nil || o.rest[f.pos] == 1
}

// stepKey matches b against the declared keys that may come next.
func (s *Schema) stepKey(f *frame, o *genObject, b byte) action {
	lo, hi, ok := s.narrow(f, b)
	if !ok {
		return actReject
	}
	f.lo, f.hi, f.off = lo, hi, f.off+1
	if l := s.lits[f.set][lo]; int(f.off) == len(l.text) {
		// keys are JSON strings: none is a prefix of another
		f.state, f.prop, f.pos, f.ws = objColon, l.tag, l.tag+1, 0
	}
	return actConsume
}

// narrow returns the candidates of f's literal set that have b after the
// bytes matched so far (sorted texts with a common prefix are contiguous).
func (s *Schema) narrow(f *frame, b byte) (lo, hi int32, ok bool) {
	set, off := s.lits[f.set], int(f.off)
	at := func(i int) int {
		if t := set[i].text; len(t) > off {
			return int(t[off])
		}
		return -1
	}
	n := int(f.hi - f.lo)
	first := int(f.lo) + sort.Search(n, func(i int) bool { return at(int(f.lo)+i) >= int(b) })
	end := int(f.lo) + sort.Search(n, func(i int) bool { return at(int(f.lo)+i) > int(b) })
	return int32(first), int32(end), first < end
}

// exact reports whether the first candidate of f has been matched whole.
func (s *Schema) exact(f *frame) bool { return len(s.lits[f.set][f.lo].text) == int(f.off) }

func (s *Schema) stepLiteral(f *frame, b byte) action {
	lo, hi, ok := s.narrow(f, b)
	if !ok {
		if s.exact(f) {
			return actYield
		}
		return actReject
	}
	f.lo, f.hi, f.off = lo, hi, f.off+1
	if hi-lo == 1 && s.exact(f) {
		return actFinish
	}
	return actConsume
}

func (s *Schema) stepArray(f *frame, b byte) (action, *node) {
	n := s.nodes[f.node]
	g := &n.gen
	if f.state == arrFresh {
		if b != '[' {
			return actReject, nil
		}
		f.state = arrOpen
		return actConsume, nil
	}
	if isSpace(b) {
		return f.space(b), nil
	}
	itemOK := g.items.gen.minLen < inf && (n.maxItems < 0 || int(f.pos) < n.maxItems)
	switch f.state {
	case arrOpen:
		if b == ']' {
			if n.minItems == 0 {
				return actFinish, nil
			}
			return actReject, nil
		}
		if !itemOK {
			return actReject, nil
		}
	case arrNext:
		switch {
		case b == ']' && int(f.pos) >= n.minItems:
			return actFinish, nil
		case b == ',' && itemOK:
			f.state, f.ws = arrComma, 0
			return actConsume, nil
		}
		return actReject, nil
	}
	f.state, f.pos = arrValue, f.pos+1 // arrOpen or arrComma: an item begins
	return actChild, g.items
}

func (s *Schema) stepString(f *frame, b byte) action {
	n := s.nodes[f.node]
	if f.state == strFresh {
		if b != '"' {
			return actReject
		}
		f.state = strBody
		return actConsume
	}
	roomy := n.maxLength < 0 || int(f.pos) < n.maxLength
	switch {
	case f.u8 > 0:
		if b < f.u8lo || b > f.u8hi {
			return actReject
		}
		f.u8, f.u8lo, f.u8hi = f.u8-1, 0x80, 0xBF
		if f.u8 == 0 {
			f.pos++
		}
		return actConsume
	case f.esc != escNone:
		return s.stepEscape(f, b)
	case b == '"':
		if int(f.pos) >= n.minLength {
			return actFinish
		}
		return actReject
	case !roomy || b < 0x20:
		return actReject
	case b == '\\':
		f.esc = escBackslash
		return actConsume
	case b < 0x80:
		f.pos++
		return actConsume
	}
	// the lead byte of a UTF-8 sequence, and the range of the next byte
	// (no overlong forms, no surrogates, nothing above U+10FFFF)
	switch {
	case b >= 0xC2 && b <= 0xDF:
		f.u8, f.u8lo, f.u8hi = 1, 0x80, 0xBF
	case b == 0xE0:
		f.u8, f.u8lo, f.u8hi = 2, 0xA0, 0xBF
	case b == 0xED:
		f.u8, f.u8lo, f.u8hi = 2, 0x80, 0x9F
	case b >= 0xE1 && b <= 0xEF:
		f.u8, f.u8lo, f.u8hi = 2, 0x80, 0xBF
	case b == 0xF0:
		f.u8, f.u8lo, f.u8hi = 3, 0x90, 0xBF
	case b >= 0xF1 && b <= 0xF3:
		f.u8, f.u8lo, f.u8hi = 3, 0x80, 0xBF
	case b == 0xF4:
		f.u8, f.u8lo, f.u8hi = 3, 0x80, 0x8F
	default:
		return actReject
	}
	return actConsume
}

// stepEscape reads the byte after '\' or a hex digit of "\uXXXX" (no
// surrogates: each escape is one character).
func (s *Schema) stepEscape(f *frame, b byte) action {
	if f.esc == escBackslash {
		switch b {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			f.esc = escNone
			f.pos++
		case 'u':
			f.esc = escU0
		default:
			return actReject
		}
		return actConsume
	}
	if !isHex(b) {
		return actReject
	}
	switch f.esc {
	case escU0:
		f.esc = escU1
		if b == 'd' || b == 'D' {
			f.esc = escU1D
		}
	case escU1D:
		if b >= '8' {
			return actReject
		}
		f.esc = escU2
	case escU1:
		f.esc = escU2
	case escU2:
		f.esc = escU3
	default: // the last digit
		f.esc = escNone
		f.pos++
	}
	return actConsume
}

func isHex(b byte) bool { return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' }

func (s *Schema) stepNumber(f *frame, b byte) action {
	g := &s.nodes[f.node].gen
	integer := f.state == numInteger
	if f.num == (numState{}) && b == '-' {
		if (&numState{neg: true}).need(g.numLo, g.numHi, integer) >= inf {
			return actReject
		}
		f.num.neg = true
		return actConsume
	}
	next := f.num
	if !next.feed(b, integer) {
		if f.num.ndig > 0 && f.num.need(g.numLo, g.numHi, integer) == 0 {
			return actYield
		}
		return actReject
	}
	if next.need(g.numLo, g.numHi, integer) >= inf {
		return actReject
	}
	f.num = next
	return actConsume
}

// canEnd reports whether the parse th is a complete document.
func (s *Schema) canEnd(th []frame) bool {
	root := &th[0]
	switch {
	case len(th) == 1:
		return root.state == rootDone
	case len(th) == 2 && root.state == rootIn:
		f := &th[1]
		switch f.kind {
		case frameNumber:
			g := &s.nodes[f.node].gen
			return f.num.ndig > 0 && f.num.need(g.numLo, g.numHi, f.state == numInteger) == 0
		case frameLiteral:
			return s.exact(f)
		}
	}
	return false
}

// done reports whether the parse th is a complete document that nothing
// may follow: the root value closed, or a top-level number that no digit
// can extend.
func (s *Schema) done(th []frame) bool {
	if len(th) == 1 {
		return th[0].state == rootDone
	}
	if len(th) != 2 || th[1].kind != frameNumber || !s.canEnd(th) {
		return false
	}
	f := &th[1]
	g := &s.nodes[f.node].gen
	for _, b := range []byte("0123456789.") {
		next := f.num
		if next.feed(b, f.state == numInteger) && next.need(g.numLo, g.numHi, f.state == numInteger) < inf {
			return false
		}
	}
	return true
}

// need returns the fewest bytes that complete f, not counting the child
// being read above it.
func (s *Schema) need(f *frame) int {
	n := s.nodes[f.node]
	g := &n.gen
	switch f.kind {
	case frameRoot:
		if f.state == rootValue {
			return g.minLen
		}
		return 0
	case frameObject:
		return s.objectNeed(f, n)
	case frameArray:
		if f.state == arrFresh {
			return g.minLen
		}
		return arrayNeed(f.state, int(f.pos), n.minItems, g.items.gen.minLen)
	case frameString:
		return stringNeed(f, n.minLength)
	case frameNumber:
		if f.num == (numState{}) {
			return g.minLen
		}
		return f.num.need(g.numLo, g.numHi, f.state == numInteger)
	}
	best := inf
	for _, l := range s.lits[f.set][f.lo:f.hi] {
		best = min(best, len(l.text)-int(f.off))
	}
	return best
}

func (s *Schema) objectNeed(f *frame, n *node) int {
	o := n.gen.obj
	if o == nil {
		v := n.gen.value.gen.minLen
		switch f.state {
		case objFresh:
			return 2
		case objFreeKey, objColon:
			return add(1, v, 1)
		case objBeforeValue:
			return add(v, 1)
		case objComma:
			return add(3, v, 1)
		}
		return 1
	}
	after := func(p int32) int { return add(o.props[p].value.gen.minLen, o.rest[p+1]) }
	switch f.state {
	case objFresh:
		return add(1, o.open(0))
	case objOpen:
		return o.open(int(f.pos))
	case objKey:
		best := inf
		for _, l := range s.lits[f.set][f.lo:f.hi] {
			best = min(best, add(len(l.text)-int(f.off), 1, after(l.tag)))
		}
		return best
	case objColon:
		return add(1, after(f.prop))
	case objBeforeValue:
		return after(f.prop)
	case objValue:
		return o.rest[f.prop+1]
	case objNext:
		return o.rest[f.pos]
	}
	return o.first[f.pos] // objComma
}

// arrayNeed is the fewest bytes that finish an array in state with pos
// items begun, each item at least itemLen bytes (not counting an item
// being read).
func arrayNeed(state uint8, pos, minItems, itemLen int) int {
	left := max(minItems-pos, 0)
	switch state {
	case arrOpen:
		if minItems == 0 {
			return 1
		}
		return add(mul(minItems, itemLen), minItems-1, 1)
	case arrComma:
		left = max(left, 1)
		return add(itemLen, mul(left-1, itemLen+1), 1)
	}
	return add(mul(left, itemLen+1), 1) // arrValue, arrNext
}

// mul multiplies counts, saturating at inf.
func mul(a, b int) int {
	if a != 0 && b >= inf/a {
		return inf
	}
	return a * b
}

// stringNeed is the fewest bytes that close the string of f.
func stringNeed(f *frame, minLength int) int {
	if f.state == strFresh {
		return 2 + minLength
	}
	chars := int(f.pos)
	pending := int(f.u8)
	switch f.esc {
	case escBackslash:
		pending = 1
	case escU0:
		pending = 4
	case escU1, escU1D:
		pending = 3
	case escU2:
		pending = 2
	case escU3:
		pending = 1
	}
	if pending > 0 {
		chars++ // the character being written
	}
	return pending + max(minLength-chars, 0) + 1
}
