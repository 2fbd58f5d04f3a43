package jsonschema

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValidationError is one value of a document that breaks the schema.
type ValidationError struct {
	Pointer string // JSON pointer of the value in the document ("": the whole document)
	Message string // what was expected and what was found
}

func (e *ValidationError) Error() string { return showPointer(e.Pointer) + ": " + e.Message }

// maxReported bounds the errors one Validate reports.
const maxReported = 20

// Validate checks a JSON document against the schema. The error (nil when
// the document is valid) lists every offending value found, one per line,
// each a *ValidationError naming its JSON pointer and what was expected:
// "/action_items/0/owner: want string, got number 3". A document that is
// not JSON gives an error naming the byte offset.
func (s *Schema) Validate(doc []byte) error {
	v, err := parseJSON(doc)
	if err != nil {
		return fmt.Errorf("jsonschema: document: %w", err)
	}
	errs := newChecker().check(s.root, &v, "")
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return errors.Join(list...)
}

// checker validates values, remembering the result of each schema on each
// value: schemas that reach one node along many paths (anyOf of shared
// $refs) cost no more than once.
type checker struct {
	memo map[checked][]*ValidationError
}

type checked struct {
	n *node
	v *value
}

func newChecker() *checker { return &checker{memo: map[checked][]*ValidationError{}} }

// report collects validation errors.
type report struct {
	list []*ValidationError
}

func (r *report) add(ptr, format string, args ...any) {
	if len(r.list) < maxReported {
		r.list = append(r.list, &ValidationError{Pointer: ptr, Message: fmt.Sprintf(format, args...)})
	}
}

func (r *report) addAll(errs []*ValidationError) {
	r.list = append(r.list, errs[:min(len(errs), maxReported-len(r.list))]...)
}

// check returns what is wrong with v under n (at most maxReported errors).
func (c *checker) check(n *node, v *value, ptr string) []*ValidationError {
	key := checked{n, v}
	if errs, ok := c.memo[key]; ok {
		return errs
	}
	var r report
	if n.never {
		r.add(ptr, "no value is allowed here (the schema is false)")
	} else {
		if n.refNode != nil {
			r.addAll(c.check(n.refNode, v, ptr))
		}
		for _, m := range n.allOf {
			r.addAll(c.check(m, v, ptr))
		}
		if len(n.anyOf) > 0 {
			c.checkAnyOf(n, v, ptr, &r)
		}
		if len(n.oneOf) > 0 {
			c.checkOneOf(n, v, ptr, &r)
		}
		c.checkOwn(n, v, ptr, &r)
	}
	c.memo[key] = r.list
	return r.list
}

// matches reports whether v is valid under n.
func (c *checker) matches(n *node, v *value) bool { return len(c.check(n, v, "")) == 0 }

func (c *checker) checkAnyOf(n *node, v *value, ptr string, r *report) {
	var why []string
	for i, m := range n.anyOf {
		errs := c.check(m, v, ptr)
		if len(errs) == 0 {
			return
		}
		why = append(why, branchReason("anyOf", i, errs[0]))
	}
	r.add(ptr, "want a value matching one of anyOf, got %s (%s)", v.describe(), joinReasons(why))
}

func (c *checker) checkOneOf(n *node, v *value, ptr string, r *report) {
	var why []string
	var matched []string
	for i, m := range n.oneOf {
		if errs := c.check(m, v, ptr); len(errs) == 0 {
			matched = append(matched, strconv.Itoa(i))
		} else {
			why = append(why, branchReason("oneOf", i, errs[0]))
		}
	}
	switch {
	case len(matched) == 0:
		r.add(ptr, "want a value matching one of oneOf, got %s (%s)", v.describe(), joinReasons(why))
	case len(matched) > 1:
		r.add(ptr, "want a value matching exactly one of oneOf, got one matching %s", strings.Join(matched, " and "))
	}
}

// branchReason says briefly why branch i of a combinator failed (briefly:
// nested combinators would otherwise nest their reasons without bound).
func branchReason(keyword string, i int, e *ValidationError) string {
	msg := e.Error()
	if len(msg) > 100 {
		cut := 97
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return fmt.Sprintf("%s/%d: %s", keyword, i, msg)
}

func joinReasons(why []string) string {
	if len(why) > 4 {
		why = append(why[:4:4], "…")
	}
	return strings.Join(why, "; ")
}

// checkOwn checks the keywords of n other than $ref, anyOf, oneOf and
// allOf.
func (c *checker) checkOwn(n *node, v *value, ptr string, r *report) {
	if !n.types.allows(v.kind, v.kind == kindNumber && v.isInteger()) {
		r.add(ptr, "want %s, got %s", n.types, v.describe())
		return
	}
	if n.hasEnum && !n.inEnum(v) {
		r.add(ptr, "want %s, got %s", n.enumText(), v.describe())
		return
	}
	switch v.kind {
	case kindObject:
		c.checkObject(n, v, ptr, r)
	case kindArray:
		c.checkArray(n, v, ptr, r)
	case kindString:
		n.validateString(v, ptr, r)
	case kindNumber:
		n.validateNumber(v, ptr, r)
	}
}

func (n *node) inEnum(v *value) bool {
	for i := range n.enum {
		if equal(&n.enum[i], v) {
			return true
		}
	}
	return false
}

// enumText renders the allowed values for a message.
func (n *node) enumText() string {
	if len(n.enum) == 1 {
		return string(n.enum[0].appendCompact(nil))
	}
	b := []byte("one of [")
	for i := range n.enum {
		if i > 0 {
			b = append(b, ", "...)
		}
		if len(b) > 200 {
			b = append(b, "…"...)
			break
		}
		b = n.enum[i].appendCompact(b)
	}
	return string(append(b, ']'))
}

func (c *checker) checkObject(n *node, v *value, ptr string, r *report) {
	for _, key := range v.distinctKeys() {
		val, _ := v.member(key)
		at := ptr + "/" + pointerToken(key)
		switch p := n.property(key); {
		case p != nil && p.schema != nil:
			r.addAll(c.check(p.schema, val, at))
		case n.noAdditional:
			r.add(at, "property %q is not allowed (additionalProperties is false)", key)
		case n.additional != nil:
			r.addAll(c.check(n.additional, val, at))
		}
	}
	for _, p := range n.props {
		if _, ok := v.member(p.name); p.required && !ok {
			r.add(ptr, "missing required property %q", p.name)
		}
	}
}

func (n *node) property(name string) *property {
	for i := range n.props {
		if n.props[i].name == name {
			return &n.props[i]
		}
	}
	return nil
}

func (c *checker) checkArray(n *node, v *value, ptr string, r *report) {
	if len(v.items) < n.minItems {
		r.add(ptr, "want at least %d items, got %d", n.minItems, len(v.items))
	}
	if n.maxItems >= 0 && len(v.items) > n.maxItems {
		r.add(ptr, "want at most %d items, got %d", n.maxItems, len(v.items))
	}
	if n.items != nil {
		for i := range v.items {
			r.addAll(c.check(n.items, &v.items[i], ptr+"/"+strconv.Itoa(i)))
		}
	}
}

func (n *node) validateString(v *value, ptr string, r *report) {
	chars := utf8.RuneCountInString(v.text)
	if chars < n.minLength {
		r.add(ptr, "want at least %d characters, got %d", n.minLength, chars)
	}
	if n.maxLength >= 0 && chars > n.maxLength {
		r.add(ptr, "want at most %d characters, got %d", n.maxLength, chars)
	}
}

func (n *node) validateNumber(v *value, ptr string, r *report) {
	f, ok := v.number()
	if !ok {
		if n.lower[0].set || n.lower[1].set || n.upper[0].set || n.upper[1].set {
			r.add(ptr, "number %s is out of range", v.text)
		}
		return
	}
	for _, b := range n.lower {
		if b.set && (f < b.v || b.exclusive && f == b.v) {
			r.add(ptr, "want %s %s, got %s", map[bool]string{false: "≥", true: ">"}[b.exclusive], formatFloat(b.v), v.text)
		}
	}
	for _, b := range n.upper {
		if b.set && (f > b.v || b.exclusive && f == b.v) {
			r.add(ptr, "want %s %s, got %s", map[bool]string{false: "≤", true: "<"}[b.exclusive], formatFloat(b.v), v.text)
		}
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
