package jsonschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// kind is the JSON type of a parsed value.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// value is a parsed JSON value that keeps the order of object members
// (schemas declare properties in the order a generator writes them).
type value struct {
	kind    kind
	bool    bool
	text    string // a string's contents, or a number's literal text
	items   []value
	members []member
}

type member struct {
	key string
	val value
}

// maxNesting bounds the depth of parsed documents and schemas.
const maxNesting = 512

// parseJSON parses one JSON value that makes up all of data.
func parseJSON(data []byte) (value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return value{}, syntaxError(dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return value{}, fmt.Errorf("invalid JSON at byte %d: data after the value", dec.InputOffset())
	}
	return v, nil
}

func syntaxError(dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("invalid JSON at byte %d: unexpected end of input", dec.InputOffset())
	}
	return fmt.Errorf("invalid JSON at byte %d: %w", dec.InputOffset(), err)
}

func parseValue(dec *json.Decoder, depth int) (value, error) {
	if depth > maxNesting {
		return value{}, fmt.Errorf("nested deeper than %d levels", maxNesting)
	}
	tok, err := dec.Token()
	if err != nil {
		return value{}, err
	}
	switch t := tok.(type) {
	case nil:
		return value{kind: kindNull}, nil
	case bool:
		return value{kind: kindBool, bool: t}, nil
	case json.Number:
		return value{kind: kindNumber, text: string(t)}, nil
	case string:
		return value{kind: kindString, text: t}, nil
	case json.Delim:
		if t == '[' {
			v := value{kind: kindArray}
			for dec.More() {
				item, err := parseValue(dec, depth+1)
				if err != nil {
					return value{}, err
				}
				v.items = append(v.items, item)
			}
			_, err := dec.Token() // ']'
			return v, err
		}
		v := value{kind: kindObject}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return value{}, err
			}
			val, err := parseValue(dec, depth+1)
			if err != nil {
				return value{}, err
			}
			v.members = append(v.members, member{key.(string), val})
		}
		_, err := dec.Token() // '}'
		return v, err
	}
	return value{}, fmt.Errorf("unexpected token %v", tok)
}

// member returns the value of key (the last one when it repeats, as
// encoding/json decodes it).
func (v *value) member(key string) (*value, bool) {
	for i := len(v.members) - 1; i >= 0; i-- {
		if v.members[i].key == key {
			return &v.members[i].val, true
		}
	}
	return nil, false
}

// number returns a number's value; ok is false when it is out of the
// float64 range.
func (v *value) number() (float64, bool) {
	f, err := strconv.ParseFloat(v.text, 64)
	return f, err == nil && !math.IsInf(f, 0)
}

// isInteger reports whether a number has no fractional part (1.0 counts).
func (v *value) isInteger() bool {
	f, ok := v.number()
	return ok && f == math.Trunc(f)
}

// describe names v for error messages: its type, and a short rendering of
// scalars.
func (v *value) describe() string {
	switch v.kind {
	case kindNumber, kindBool:
		return v.kind.String() + " " + string(v.appendCompact(nil))
	case kindString:
		s := string(v.appendCompact(nil))
		if len(s) > 40 {
			s = s[:37] + "…"
		}
		return "string " + s
	}
	return v.kind.String()
}

// equal reports whether a and b are the same JSON value: numbers by value,
// objects regardless of member order.
func equal(a, b *value) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case kindNull:
		return true
	case kindBool:
		return a.bool == b.bool
	case kindString:
		return a.text == b.text
	case kindNumber:
		x, okx := a.number()
		y, oky := b.number()
		if !okx || !oky {
			return a.text == b.text
		}
		return x == y
	case kindArray:
		if len(a.items) != len(b.items) {
			return false
		}
		for i := range a.items {
			if !equal(&a.items[i], &b.items[i]) {
				return false
			}
		}
		return true
	}
	ka, kb := a.distinctKeys(), b.distinctKeys()
	if len(ka) != len(kb) {
		return false
	}
	for _, k := range ka {
		x, _ := a.member(k)
		y, ok := b.member(k)
		if !ok || !equal(x, y) {
			return false
		}
	}
	return true
}

func (v *value) distinctKeys() []string {
	seen := make(map[string]bool, len(v.members))
	var keys []string
	for _, m := range v.members {
		if !seen[m.key] {
			seen[m.key] = true
			keys = append(keys, m.key)
		}
	}
	return keys
}

// appendCompact appends v written as compact JSON (numbers as written,
// strings escaped minimally, object members in order).
func (v *value) appendCompact(b []byte) []byte {
	switch v.kind {
	case kindNull:
		return append(b, "null"...)
	case kindBool:
		return strconv.AppendBool(b, v.bool)
	case kindNumber:
		return append(b, v.text...)
	case kindString:
		return appendQuoted(b, v.text)
	case kindArray:
		b = append(b, '[')
		for i := range v.items {
			if i > 0 {
				b = append(b, ',')
			}
			b = v.items[i].appendCompact(b)
		}
		return append(b, ']')
	}
	b = append(b, '{')
	for i, m := range v.members {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendQuoted(b, m.key)
		b = append(b, ':')
		b = m.val.appendCompact(b)
	}
	return append(b, '}')
}

// appendQuoted appends s as a JSON string: quotes, backslashes and control
// characters escaped, everything else (valid UTF-8) as it is.
func appendQuoted(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			b = utf8.AppendRune(b, r) // an invalid byte becomes U+FFFD
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}

// pointerToken escapes one reference token of a JSON pointer (RFC 6901).
func pointerToken(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// showPointer renders a JSON pointer for messages: the root as "(root)".
func showPointer(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}
