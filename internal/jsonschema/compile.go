package jsonschema

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Schema is a compiled JSON schema. It is immutable and safe for
// concurrent use.
type Schema struct {
	nodes  []*node
	root   *node
	any    *node // the schema true: generated for missing items and additional properties
	key    *node // a string without bounds: the keys of free-form objects
	none   *node // the schema false: the value of a required property additionalProperties forbids
	lits   [][]lit
	genErr error // why NewMatcher cannot build a grammar (nil: it can)
}

// typeSet is a set of JSON schema types; 0 means any type.
type typeSet uint8

const (
	typeNull typeSet = 1 << iota
	typeBoolean
	typeObject
	typeArray
	typeNumber
	typeInteger
	typeString
)

var typeNames = [...]string{"null", "boolean", "object", "array", "number", "integer", "string"}

func (t typeSet) String() string {
	var names []string
	for i, name := range typeNames {
		if t&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return strings.Join(names, " or ")
}

// allows reports whether a value of kind k (integral when integer) has a
// type in t.
func (t typeSet) allows(k kind, integer bool) bool {
	if t == 0 {
		return true
	}
	switch k {
	case kindNull:
		return t&typeNull != 0
	case kindBool:
		return t&typeBoolean != 0
	case kindObject:
		return t&typeObject != 0
	case kindArray:
		return t&typeArray != 0
	case kindString:
		return t&typeString != 0
	}
	return t&typeNumber != 0 || integer && t&typeInteger != 0
}

// bound is a minimum or a maximum (set false: none).
type bound struct {
	set, exclusive bool
	v              float64
}

// node is one compiled schema (a subschema of the document at ptr).
type node struct {
	id    int32
	ptr   string // JSON pointer of the schema in the schema document
	never bool   // the schema false
	types typeSet

	props        []property // in declared order, then required names not declared
	required     map[string]bool
	additional   *node // nil: any value
	noAdditional bool  // additionalProperties: false

	items              *node // nil: any value
	minItems, maxItems int   // maxItems < 0: no maximum

	minLength, maxLength int // maxLength < 0: no maximum

	lower, upper [2]bound // minimum and exclusiveMinimum; maximum and exclusiveMaximum

	enum    []value
	hasEnum bool

	ref       string
	refNode   *node
	anyOf     []*node
	oneOf     []*node
	allOf     []*node
	constrain bool // it has keywords besides $ref, anyOf, oneOf and allOf

	gen genNode // the grammar's view, filled when the schema can be generated
}

type property struct {
	name     string
	schema   *node // nil: a required name not among properties
	required bool
}

// annotations are keywords that do not constrain values.
var annotations = map[string]bool{
	"$schema": true, "$id": true, "id": true, "$comment": true, "title": true,
	"description": true, "default": true, "examples": true, "format": true,
	"readOnly": true, "writeOnly": true, "deprecated": true,
	"contentMediaType": true, "contentEncoding": true,
	"definitions": true, "$defs": true, // places for $ref targets
}

// Compile reads a JSON schema. Errors name the place in the schema
// ("schema at /properties/x: …").
func Compile(raw []byte) (*Schema, error) {
	doc, err := parseJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("jsonschema: %w", err)
	}
	c := &compiler{doc: doc, s: &Schema{}, byPtr: map[string]*node{}}
	if c.s.root, err = c.compile("", &c.doc, 0); err != nil {
		return nil, err
	}
	if err := c.resolveRefs(); err != nil {
		return nil, err
	}
	if err := checkLoops(c.s.nodes); err != nil {
		return nil, err
	}
	c.s.any = c.s.newNode("", typeSet(0))
	c.s.key = c.s.newNode("", typeString)
	c.s.none = c.s.newNode("", 0)
	c.s.none.never = true
	c.s.genErr = c.s.prepareGrammar()
	return c.s, nil
}

type compiler struct {
	doc     value
	s       *Schema
	byPtr   map[string]*node
	pending []*node // nodes whose $ref is not resolved yet
}

func (s *Schema) newNode(ptr string, types typeSet) *node {
	n := &node{id: int32(len(s.nodes)), ptr: ptr, types: types, maxItems: -1, maxLength: -1}
	s.nodes = append(s.nodes, n)
	return n
}

func schemaError(ptr, format string, args ...any) error {
	return fmt.Errorf("jsonschema: schema at %s: %s", showPointer(ptr), fmt.Sprintf(format, args...))
}

// compile returns the node of the schema v found at ptr, compiling it once.
func (c *compiler) compile(ptr string, v *value, depth int) (*node, error) {
	if n, ok := c.byPtr[ptr]; ok {
		return n, nil
	}
	if depth > maxNesting {
		return nil, schemaError(ptr, "nested deeper than %d levels", maxNesting)
	}
	n := c.s.newNode(ptr, 0)
	c.byPtr[ptr] = n
	switch v.kind {
	case kindBool:
		n.never = !v.bool
		return n, nil
	case kindObject:
	default:
		return nil, schemaError(ptr, "want an object or a boolean, got %s", v.kind)
	}
	for _, m := range v.members {
		if annotations[m.key] {
			continue
		}
		if err := c.keyword(n, m.key, &m.val, depth); err != nil {
			return nil, err
		}
		switch m.key {
		case "$ref", "anyOf", "oneOf", "allOf":
		default:
			n.constrain = true
		}
	}
	c.addRequiredOnly(n)
	return n, nil
}

// keyword compiles one keyword of n.
func (c *compiler) keyword(n *node, key string, v *value, depth int) error {
	at := n.ptr + "/" + pointerToken(key)
	sub := func(ptr string, v *value) (*node, error) { return c.compile(ptr, v, depth+1) }
	var err error
	switch key {
	case "type":
		n.types, err = parseTypes(at, v)
	case "properties":
		if v.kind != kindObject {
			return schemaError(at, "want an object of schemas, got %s", v.kind)
		}
		for _, m := range v.members {
			p, err := sub(at+"/"+pointerToken(m.key), &m.val)
			if err != nil {
				return err
			}
			n.setProperty(m.key, p)
		}
	case "required":
		err = c.required(n, at, v)
	case "additionalProperties":
		if v.kind == kindBool && !v.bool {
			n.noAdditional = true
		} else if v.kind != kindBool {
			n.additional, err = sub(at, v)
		}
	case "items":
		if v.kind == kindArray {
			return schemaError(at, "an array of schemas (tuple validation) is not supported: give one schema for every item")
		}
		n.items, err = sub(at, v)
	case "enum":
		if v.kind != kindArray {
			return schemaError(at, "want an array of values, got %s", v.kind)
		}
		n.enum, n.hasEnum = v.items, true
	case "const":
		n.enum, n.hasEnum = []value{*v}, true
	case "minItems":
		n.minItems, err = parseCount(at, v)
	case "maxItems":
		n.maxItems, err = parseCount(at, v)
	case "minLength":
		n.minLength, err = parseCount(at, v)
	case "maxLength":
		n.maxLength, err = parseCount(at, v)
	case "minimum":
		err = parseBound(at, v, &n.lower, false)
	case "maximum":
		err = parseBound(at, v, &n.upper, false)
	case "exclusiveMinimum":
		err = parseBound(at, v, &n.lower, true)
	case "exclusiveMaximum":
		err = parseBound(at, v, &n.upper, true)
	case "$ref":
		if v.kind != kindString {
			return schemaError(at, "want a string, got %s", v.kind)
		}
		n.ref = v.text
		c.pending = append(c.pending, n)
	case "anyOf", "oneOf", "allOf":
		if v.kind != kindArray || len(v.items) == 0 {
			return schemaError(at, "want a non-empty array of schemas")
		}
		list := make([]*node, len(v.items))
		for i := range v.items {
			if list[i], err = sub(at+"/"+strconv.Itoa(i), &v.items[i]); err != nil {
				return err
			}
		}
		switch key {
		case "anyOf":
			n.anyOf = list
		case "oneOf":
			n.oneOf = list
		default:
			n.allOf = list
		}
	default:
		return schemaError(n.ptr, "keyword %q is not supported", key)
	}
	return err
}

func (n *node) setProperty(name string, schema *node) {
	for i := range n.props {
		if n.props[i].name == name {
			n.props[i].schema = schema
			return
		}
	}
	n.props = append(n.props, property{name: name, schema: schema})
}

func (c *compiler) required(n *node, at string, v *value) error {
	if v.kind != kindArray {
		return schemaError(at, "want an array of property names, got %s", v.kind)
	}
	n.required = map[string]bool{}
	for i, item := range v.items {
		if item.kind != kindString {
			return schemaError(at+"/"+strconv.Itoa(i), "want a property name, got %s", item.kind)
		}
		n.required[item.text] = true
	}
	return nil
}

// addRequiredOnly marks the required properties and appends the required
// names that properties does not declare.
func (c *compiler) addRequiredOnly(n *node) {
	for i := range n.props {
		n.props[i].required = n.required[n.props[i].name]
	}
	for name := range n.required {
		found := false
		for _, p := range n.props {
			found = found || p.name == name
		}
		if !found {
			n.props = append(n.props, property{name: name, required: true})
		}
	}
	// names map iteration order is random: keep the undeclared ones sorted
	declared := 0
	for declared < len(n.props) && n.props[declared].schema != nil {
		declared++
	}
	extra := n.props[declared:]
	for i := 1; i < len(extra); i++ {
		for j := i; j > 0 && extra[j].name < extra[j-1].name; j-- {
			extra[j], extra[j-1] = extra[j-1], extra[j]
		}
	}
}

func parseTypes(at string, v *value) (typeSet, error) {
	one := func(at string, v *value) (typeSet, error) {
		if v.kind == kindString {
			for i, name := range typeNames {
				if v.text == name {
					return 1 << i, nil
				}
			}
		}
		return 0, schemaError(at, "unknown type %s (want null, boolean, object, array, number, integer or string)", v.describe())
	}
	if v.kind != kindArray {
		return one(at, v)
	}
	if len(v.items) == 0 {
		return 0, schemaError(at, "an empty list of types allows nothing")
	}
	var t typeSet
	for i := range v.items {
		x, err := one(at+"/"+strconv.Itoa(i), &v.items[i])
		if err != nil {
			return 0, err
		}
		t |= x
	}
	return t, nil
}

func parseCount(at string, v *value) (int, error) {
	if v.kind == kindNumber && v.isInteger() {
		if f, _ := v.number(); f >= 0 && f <= 1<<31-1 {
			return int(f), nil
		}
	}
	return 0, schemaError(at, "want a non-negative integer, got %s", v.describe())
}

// parseBound reads minimum/maximum into b[0], and
// exclusiveMinimum/exclusiveMaximum: a number (draft 6 and later) into b[1],
// or a boolean that makes b[0] exclusive (draft 4).
func parseBound(at string, v *value, b *[2]bound, exclusive bool) error {
	if exclusive && v.kind == kindBool {
		b[0].exclusive = v.bool
		return nil
	}
	f, ok := v.number()
	if v.kind != kindNumber || !ok {
		return schemaError(at, "want a number, got %s", v.describe())
	}
	if exclusive {
		b[1] = bound{set: true, exclusive: true, v: f}
	} else {
		b[0].set, b[0].v = true, f
	}
	return nil
}

// resolveRefs links every $ref to the node it points at.
func (c *compiler) resolveRefs() error {
	for len(c.pending) > 0 {
		n := c.pending[len(c.pending)-1]
		c.pending = c.pending[:len(c.pending)-1]
		ptr, err := refPointer(n.ref)
		if err != nil {
			return schemaError(n.ptr+"/$ref", "%v", err)
		}
		target, err := c.lookup(ptr)
		if err != nil {
			return schemaError(n.ptr+"/$ref", "%q: %v", n.ref, err)
		}
		if n.refNode, err = c.compile(ptr, target, 0); err != nil {
			return err
		}
	}
	return nil
}

// refPointer returns the canonical JSON pointer of a local reference.
func refPointer(ref string) (string, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return "", fmt.Errorf("%q: only references inside the schema (\"#/…\") are supported", ref)
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return "", fmt.Errorf("%q: %v", ref, err)
	}
	if frag != "" && !strings.HasPrefix(frag, "/") {
		return "", fmt.Errorf("%q: want a JSON pointer such as \"#/$defs/name\"", ref)
	}
	return frag, nil
}

// lookup returns the value at a JSON pointer of the schema document.
func (c *compiler) lookup(ptr string) (*value, error) {
	v := &c.doc
	if ptr == "" {
		return v, nil
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v.kind {
		case kindObject:
			next, ok := v.member(tok)
			if !ok {
				return nil, fmt.Errorf("no member %q", tok)
			}
			v = next
		case kindArray:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v.items) {
				return nil, fmt.Errorf("no item %q", tok)
			}
			v = &v.items[i]
		default:
			return nil, fmt.Errorf("%q leads into a %s", tok, v.kind)
		}
	}
	return v, nil
}

// inPlace lists the schemas that apply to the same value as n.
func (n *node) inPlace() []*node {
	var out []*node
	if n.refNode != nil {
		out = append(out, n.refNode)
	}
	out = append(out, n.anyOf...)
	out = append(out, n.oneOf...)
	return append(out, n.allOf...)
}

// checkLoops rejects schemas that reach themselves through $ref, anyOf,
// oneOf or allOf without descending into the value: validating or
// generating them would never end.
func checkLoops(nodes []*node) error {
	const (
		unseen = iota
		active
		done
	)
	state := make([]uint8, len(nodes))
	var visit func(n *node) error
	visit = func(n *node) error {
		switch state[n.id] {
		case active:
			return schemaError(n.ptr, "it refers back to itself (through $ref, anyOf, oneOf or allOf) without descending into the value")
		case done:
			return nil
		}
		state[n.id] = active
		for _, m := range n.inPlace() {
			if err := visit(m); err != nil {
				return err
			}
		}
		state[n.id] = done
		return nil
	}
	for _, n := range nodes {
		if err := visit(n); err != nil {
			return err
		}
	}
	return nil
}
