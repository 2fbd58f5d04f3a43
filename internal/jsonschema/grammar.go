package jsonschema

import (
	"slices"
	"strings"
)

// inf is the length of what cannot be written; sums saturate at it.
const inf = 1 << 40

func add(xs ...int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return min(s, inf)
}

// genKind is how the grammar writes a node's values.
type genKind uint8

const (
	genConcrete    genKind = iota // by its own keywords
	genLiterals                   // one of the enum/const values, verbatim
	genAlias                      // as another node (a bare $ref, a one-schema allOf)
	genUnion                      // as any of its branches (anyOf, disjoint oneOf)
	genUnsupported                // not at all (validation only)
)

// genNode is the grammar's view of a node.
type genNode struct {
	kind     genKind
	why      string  // genUnsupported: the reason
	target   *node   // genAlias
	branches []*node // genUnion: the non-union nodes its branches come down to, those that can be written
	lits     int32   // genLiterals: the literal set
	minLen   int     // bytes of the shortest value
	viable   typeSet // genConcrete: the types whose values can be written
	numLo    int64   // number bounds in micro-units
	numHi    int64
	obj      *genObject // declared properties (nil: a free-form object)
	value    *node      // free-form objects: the schema of every value
	items    *node      // arrays: the schema of every item
}

// genObject is the grammar of an object with declared properties, written
// in declared order.
type genObject struct {
	props []genProp
	keys  []int32 // keys[i]: literal set of the keys that may come once properties before i are done (-1: none)
	rest  []int   // rest[i]: bytes of `,"k":v` for every required property from i on, and '}'
	first []int   // first[i]: bytes of the shortest next member and the rest (inf when none may come)
}

type genProp struct {
	value    *node
	key      string // the key as a JSON string, quotes included
	required bool
}

// lit is one literal value of a set; tag is the property index of a key.
type lit struct {
	text string
	tag  int32
}

const (
	boolLits = 0 // the literal set false, true
	nullLits = 1 // the literal set null
)

// prepareGrammar fills every node's genNode. It returns why the schema
// cannot be generated, or nil.
func (s *Schema) prepareGrammar() error {
	s.lits = [][]lit{{{text: "false"}, {text: "true"}}, {{text: "null"}}}
	for _, n := range s.nodes {
		s.classify(n)
	}
	s.minLengths()
	for _, n := range s.nodes {
		s.finishNode(n)
	}
	if err := s.checkGenerable(); err != nil {
		return err
	}
	if s.root.gen.minLen >= inf {
		return schemaError("", "no value satisfies it within what the generator writes (numbers below 10¹² with at most 6 decimals)")
	}
	return nil
}

// classify sets n.gen.kind (and the enum literals).
func (s *Schema) classify(n *node) {
	g := &n.gen
	g.minLen = inf
	combinators := 0
	for _, l := range [][]*node{n.anyOf, n.oneOf, n.allOf} {
		if len(l) > 0 {
			combinators++
		}
	}
	if n.refNode != nil {
		combinators++
	}
	switch {
	case n.hasEnum:
		g.kind = genLiterals
		g.lits = s.enumLiterals(n)
	case combinators == 0:
		g.kind = genConcrete
	case combinators > 1 || n.constrain:
		g.kind, g.why = genUnsupported, "$ref, anyOf, oneOf or allOf beside other keywords is supported for validation only"
	case n.refNode != nil:
		g.kind, g.target = genAlias, n.refNode
	case len(n.allOf) == 1:
		g.kind, g.target = genAlias, n.allOf[0]
	case len(n.allOf) > 1:
		g.kind, g.why = genUnsupported, "allOf of several schemas is supported for validation only"
	default:
		g.kind = genUnion
	}
}

// enumLiterals returns the literal set of the enum values that satisfy
// all of n, written compactly, sorted and without repeats.
func (s *Schema) enumLiterals(n *node) int32 {
	var set []lit
	c := newChecker()
	for i := range n.enum {
		if c.matches(n, &n.enum[i]) {
			set = append(set, lit{text: string(n.enum[i].appendCompact(nil))})
		}
	}
	slices.SortFunc(set, func(a, b lit) int { return strings.Compare(a.text, b.text) })
	set = slices.CompactFunc(set, func(a, b lit) bool { return a.text == b.text })
	s.lits = append(s.lits, set)
	return int32(len(s.lits) - 1)
}

// resolve follows aliases to the node that says how to write a value.
func resolve(n *node) *node {
	for n.gen.kind == genAlias {
		n = n.gen.target
	}
	return n
}

// minLengths computes every node's shortest value by iterating to a fixed
// point (recursive schemas converge: lengths only shrink).
func (s *Schema) minLengths() {
	for changed := true; changed; {
		changed = false
		for _, n := range s.nodes {
			if l := s.minLen(n); l < n.gen.minLen {
				n.gen.minLen, changed = l, true
			}
		}
	}
}

func (s *Schema) minLen(n *node) int {
	g := &n.gen
	switch g.kind {
	case genLiterals:
		best := inf
		for _, l := range s.lits[g.lits] {
			best = min(best, len(l.text))
		}
		return best
	case genAlias:
		return g.target.gen.minLen
	case genUnion:
		best := inf
		for _, b := range n.anyOf {
			best = min(best, b.gen.minLen)
		}
		for _, b := range n.oneOf {
			best = min(best, b.gen.minLen)
		}
		return best
	case genUnsupported:
		return inf
	}
	best := inf
	for _, l := range s.typeMinLens(n) {
		best = min(best, l)
	}
	return best
}

// typeMinLens returns the shortest value of each type a concrete node
// allows, in typeNames order (inf for the types it does not allow).
func (s *Schema) typeMinLens(n *node) [len(typeNames)]int {
	var out [len(typeNames)]int
	for i := range out {
		out[i] = inf
	}
	if n.never {
		return out
	}
	allows := func(t typeSet) bool { return n.types == 0 || n.types&t != 0 }
	if allows(typeNull) {
		out[0] = 4
	}
	if allows(typeBoolean) {
		out[1] = 4
	}
	if allows(typeObject) {
		out[2] = add(1, s.objectTables(n).open(0))
	}
	if allows(typeArray) {
		out[3] = arrayNeed(arrOpen, 0, n.minItems, s.itemsOf(n).gen.minLen) + 1
		if n.maxItems >= 0 && n.maxItems < n.minItems {
			out[3] = inf
		}
	}
	lo, hi := unitBounds(n.lower, n.upper)
	if allows(typeNumber) {
		out[4] = numberMinLen(lo, hi, false)
	} else if allows(typeInteger) {
		out[5] = numberMinLen(lo, hi, true)
	}
	if allows(typeString) && (n.maxLength < 0 || n.minLength <= n.maxLength) {
		out[6] = 2 + n.minLength
	}
	return out
}

func (s *Schema) itemsOf(n *node) *node {
	if n.items != nil {
		return n.items
	}
	return s.any
}

// freeValue is the schema of the values of a free-form object.
func (s *Schema) freeValue(n *node) *node {
	if n.additional != nil {
		return n.additional
	}
	return s.any
}

// objectTables builds the grammar of n's declared properties from the
// current minimum lengths (nil for a free-form object).
func (s *Schema) objectTables(n *node) *genObject {
	if len(n.props) == 0 {
		return nil
	}
	o := &genObject{
		props: make([]genProp, len(n.props)),
		keys:  make([]int32, len(n.props)+1),
		rest:  make([]int, len(n.props)+1),
		first: make([]int, len(n.props)+1),
	}
	for i, p := range n.props {
		v := p.schema
		if v == nil { // required but not declared: an additional property
			v = s.freeValue(n)
			if n.noAdditional {
				v = s.none
			}
		}
		o.props[i] = genProp{value: v, key: string(appendQuoted(nil, p.name)), required: p.required}
	}
	member := func(i int) int { return add(len(o.props[i].key), 1, o.props[i].value.gen.minLen) }
	o.rest[len(o.props)] = 1
	o.first[len(o.props)] = inf
	for i := len(o.props) - 1; i >= 0; i-- {
		o.rest[i] = o.rest[i+1]
		if o.props[i].required {
			o.rest[i] = add(o.rest[i], 1, member(i))
		}
		o.first[i] = min(add(member(i), o.rest[i+1]), inf)
		if !o.props[i].required {
			o.first[i] = min(o.first[i], o.first[i+1])
		}
	}
	return o
}

// open is the fewest bytes after '{' when the properties before i are done
// and no member has been written.
func (o *genObject) open(i int) int {
	if o == nil || o.rest[i] == 1 {
		return 1
	}
	return o.first[i]
}

// finishNode stores the tables the matcher reads.
func (s *Schema) finishNode(n *node) {
	g := &n.gen
	switch g.kind {
	case genUnion:
		g.branches = unionLeaves(n)
	case genConcrete:
		for i, l := range s.typeMinLens(n) {
			if l < inf {
				g.viable |= 1 << i
			}
		}
		g.numLo, g.numHi = unitBounds(n.lower, n.upper)
		g.obj, g.value, g.items = s.objectTables(n), s.freeValue(n), s.itemsOf(n)
		if g.obj != nil {
			s.keySets(g.obj)
		}
	}
}

// unionLeaves returns the nodes, none a union, that the branches of the
// union n (and of the unions among them) resolve to, each once, leaving
// out those that cannot be written.
func unionLeaves(n *node) []*node {
	seen := map[*node]bool{}
	var out []*node
	var walk func(m *node)
	walk = func(m *node) {
		m = resolve(m)
		if seen[m] {
			return
		}
		seen[m] = true
		if m.gen.kind != genUnion {
			if m.gen.minLen < inf {
				out = append(out, m)
			}
			return
		}
		for _, b := range m.anyOf {
			walk(b)
		}
		for _, b := range m.oneOf {
			walk(b)
		}
	}
	walk(n)
	return out
}

// leaves returns the nodes a value of n may be written as.
func leaves(n *node) []*node {
	if n = resolve(n); n.gen.kind == genUnion {
		return n.gen.branches
	}
	return []*node{n}
}

// keySets fills o.keys: at i, the keys of the properties from i up to and
// including the first required one, leaving out those that cannot be
// written.
func (s *Schema) keySets(o *genObject) {
	for i := range o.props {
		var set []lit
		for j := i; j < len(o.props); j++ {
			p := o.props[j]
			if p.value.gen.minLen < inf {
				set = append(set, lit{text: p.key, tag: int32(j)})
			}
			if p.required {
				break
			}
		}
		o.keys[i] = -1
		if len(set) > 0 {
			slices.SortFunc(set, func(a, b lit) int { return strings.Compare(a.text, b.text) })
			s.lits = append(s.lits, set)
			o.keys[i] = int32(len(s.lits) - 1)
		}
	}
	o.keys[len(o.props)] = -1
}

// checkGenerable walks the nodes a generated document can reach and
// reports the first the grammar cannot write.
func (s *Schema) checkGenerable() error {
	seen := make([]bool, len(s.nodes))
	var visit func(n *node) error
	visit = func(n *node) error {
		if seen[n.id] {
			return nil
		}
		seen[n.id] = true
		g := &n.gen
		switch g.kind {
		case genUnsupported:
			return schemaError(n.ptr, "%s", g.why)
		case genLiterals:
			return nil
		case genAlias:
			return visit(g.target)
		case genUnion:
			if len(n.oneOf) > 0 {
				if err := s.checkDisjoint(n); err != nil {
					return err
				}
			}
			for _, b := range append(slices.Clone(n.anyOf), n.oneOf...) {
				if err := visit(b); err != nil {
					return err
				}
			}
			return nil
		}
		allows := func(t typeSet) bool { return !n.never && (n.types == 0 || n.types&t != 0) }
		var next []*node
		if allows(typeArray) {
			next = append(next, g.items)
		}
		if allows(typeObject) && g.obj == nil {
			next = append(next, g.value)
		}
		if allows(typeObject) && g.obj != nil {
			for _, p := range g.obj.props {
				next = append(next, p.value)
			}
		}
		for _, m := range next {
			if err := visit(m); err != nil {
				return err
			}
		}
		return nil
	}
	return visit(s.root)
}

// checkDisjoint accepts a oneOf for generation when no value can match two
// of its branches, so writing any one of them satisfies it.
func (s *Schema) checkDisjoint(n *node) error {
	bs := n.oneOf
	for i := range bs {
		for j := i + 1; j < len(bs); j++ {
			if s.overlap(bs[i], bs[j]) {
				return schemaError(n.ptr, "oneOf branches %s and %s may both match a value: generation supports oneOf only when its branches are of different types or distinct constants (anyOf works for overlapping ones)",
					showPointer(bs[i].ptr), showPointer(bs[j].ptr))
			}
		}
	}
	return nil
}

// overlap reports whether a value may be written as both a and b (as far
// as types and constants tell).
func (s *Schema) overlap(a, b *node) bool {
	for _, x := range leaves(a) {
		for _, y := range leaves(b) {
			if s.leavesOverlap(x, y) {
				return true
			}
		}
	}
	return false
}

func (s *Schema) leavesOverlap(a, b *node) bool {
	if a.gen.kind == genLiterals && b.gen.kind != genLiterals {
		a, b = b, a
	}
	if b.gen.kind == genLiterals {
		c := newChecker()
		for _, l := range s.lits[b.gen.lits] {
			v, err := parseJSON([]byte(l.text))
			if err != nil || c.matches(a, &v) {
				return true
			}
		}
		return false
	}
	return s.genTypes(a)&s.genTypes(b) != 0
}

// genTypes is the set of types the grammar may write for the leaf n, with
// number and integer standing for each other.
func (s *Schema) genTypes(n *node) typeSet {
	var t typeSet
	if n.gen.kind == genLiterals {
		for _, l := range s.lits[n.gen.lits] {
			t |= literalType(l.text)
		}
	} else {
		t = n.gen.viable
	}
	if t&(typeNumber|typeInteger) != 0 {
		t |= typeNumber | typeInteger
	}
	return t
}

func literalType(text string) typeSet {
	switch text[0] {
	case 'n':
		return typeNull
	case 't', 'f':
		return typeBoolean
	case '{':
		return typeObject
	case '[':
		return typeArray
	case '"':
		return typeString
	}
	return typeNumber
}
