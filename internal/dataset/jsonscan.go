package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// recordScanner cuts a stream into raw records: the elements of a top-level
// JSON array, or the non-blank lines of a JSONL file. It only finds where
// each record starts and ends (strings, escapes and bracket depth), so one
// malformed record does not lose the rest of the file; json.Valid judges each
// record afterwards.
type recordScanner struct {
	r     *bufio.Reader
	array bool
	line  int // line of the next byte to read, 1-based
	index int // number of records returned
	buf   []byte
	state scanState
}

type scanState int

const (
	scanStart scanState = iota // before the first record
	scanMore                   // after a record, before its separator
	scanDone
)

// errTruncated marks a file that ends inside a record or before the array's "]".
var errTruncated = errors.New("unexpected end of file")

// newRecordScanner peeks at the first byte to tell a JSON array from JSONL.
func newRecordScanner(r *bufio.Reader) (*recordScanner, error) {
	s := &recordScanner{r: r, line: 1}
	c, err := s.skipSpace()
	if err == io.EOF {
		s.state = scanDone
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	switch c {
	case '[':
		s.array = true
		s.r.ReadByte()
	case '{':
	default:
		return nil, fmt.Errorf("line %d: the file starts with %q: want a JSON array ([...]) or JSON lines ({...} per line)", s.line, c)
	}
	return s, nil
}

// skipSpace consumes whitespace and returns (without consuming) the next byte.
func (s *recordScanner) skipSpace() (byte, error) {
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case '\n':
			s.line++
			continue
		case ' ', '\t', '\r':
			continue
		}
		s.r.UnreadByte()
		return c, nil
	}
}

// next returns the next record's bytes (valid until the next call) and the
// line it starts on, or io.EOF. Any other error ends the stream.
func (s *recordScanner) next() ([]byte, int, error) {
	if s.state == scanDone {
		return nil, 0, io.EOF
	}
	if s.array {
		return s.nextElement()
	}
	return s.nextLine()
}

func (s *recordScanner) nextLine() ([]byte, int, error) {
	for {
		line := s.line
		b, err := s.readLine()
		if len(bytes.TrimSpace(b)) > 0 {
			s.index++
			return b, line, nil
		}
		if err != nil {
			s.state = scanDone
			if err == io.EOF {
				return nil, 0, io.EOF
			}
			return nil, 0, err
		}
	}
}

// readLine reads one line of any length without its "\n".
func (s *recordScanner) readLine() ([]byte, error) {
	s.buf = s.buf[:0]
	for {
		chunk, err := s.r.ReadSlice('\n')
		s.buf = append(s.buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if n := len(s.buf); n > 0 && s.buf[n-1] == '\n' {
			s.buf = s.buf[:n-1]
			s.line++
		}
		if err == nil && len(s.buf) == 0 {
			return s.buf, nil
		}
		return s.buf, err
	}
}

func (s *recordScanner) nextElement() ([]byte, int, error) {
	c, err := s.skipSpace()
	if err != nil {
		return nil, 0, s.truncated(err, "before the closing ]")
	}
	if s.state == scanMore {
		switch c {
		case ']':
			return nil, 0, s.finish()
		case ',':
			s.r.ReadByte()
			if c, err = s.skipSpace(); err != nil {
				return nil, 0, s.truncated(err, "after ,")
			}
		default:
			s.state = scanDone
			return nil, 0, fmt.Errorf("line %d: %q after record %d: want , or ]", s.line, c, s.index-1)
		}
	} else if c == ']' {
		return nil, 0, s.finish()
	}
	line := s.line
	b, err := s.readValue()
	if err != nil {
		s.state = scanDone
		return nil, 0, s.truncated(err, fmt.Sprintf("inside record %d, which starts on line %d", s.index, line))
	}
	s.index++
	s.state = scanMore
	return b, line, nil
}

// finish consumes the closing "]" and checks that only whitespace follows.
func (s *recordScanner) finish() error {
	s.r.ReadByte()
	s.state = scanDone
	c, err := s.skipSpace()
	if err == io.EOF {
		return io.EOF
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("line %d: %q after the closing ]: the file holds more than one JSON value", s.line, c)
}

func (s *recordScanner) truncated(err error, where string) error {
	s.state = scanDone
	if err == io.EOF {
		return fmt.Errorf("line %d: %w %s (is the file cut short?)", s.line, errTruncated, where)
	}
	return err
}

// readValue reads one JSON value: up to its matching bracket, or for a
// scalar up to the next , ] or whitespace outside a string.
func (s *recordScanner) readValue() ([]byte, error) {
	s.buf = s.buf[:0]
	depth := 0
	inString, escaped := false, false
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			if err == io.EOF && depth == 0 && !inString && len(s.buf) > 0 {
				return s.buf, nil
			}
			return nil, err
		}
		if c == '\n' {
			s.line++
		}
		if inString {
			s.buf = append(s.buf, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if depth == 0 {
					return s.buf, nil
				}
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 { // the end of a scalar element
				s.r.UnreadByte()
				return s.buf, nil
			}
			depth--
			if depth == 0 {
				s.buf = append(s.buf, c)
				return s.buf, nil
			}
		case ',', ' ', '\t', '\r', '\n':
			if depth == 0 {
				if c == '\n' {
					s.line--
				}
				s.r.UnreadByte()
				return s.buf, nil
			}
		}
		s.buf = append(s.buf, c)
	}
}

// member is one key of a JSON object with its raw value.
type member struct {
	key string
	val []byte
	off int // offset of the key's opening quote in the object's bytes
}

// parseObject lists the members of a valid JSON object in order.
func parseObject(b []byte) ([]member, error) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, fmt.Errorf("want a JSON object, got %s", jsonKind(b[i:]))
	}
	var out []member
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, nil
	}
	for i < len(b) {
		end := skipString(b, i)
		key, err := unquote(b[i:end])
		if err != nil {
			return nil, err
		}
		m := member{key: key, off: i}
		i = skipWS(b, end)
		i = skipWS(b, i+1) // ':'
		end = skipValue(b, i)
		m.val = b[i:end]
		for _, prev := range out {
			if prev.key == key {
				return nil, fmt.Errorf("key %q appears twice", key)
			}
		}
		out = append(out, m)
		i = skipWS(b, end)
		if i >= len(b) || b[i] == '}' {
			break
		}
		i = skipWS(b, i+1) // ','
	}
	return out, nil
}

// element is one value of a JSON array with its offset in the array's bytes.
type element struct {
	val []byte
	off int
}

// parseArray lists the elements of a valid JSON array.
func parseArray(b []byte) ([]element, error) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, fmt.Errorf("want a JSON list, got %s", jsonKind(b[i:]))
	}
	var out []element
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return out, nil
	}
	for i < len(b) {
		end := skipValue(b, i)
		out = append(out, element{val: b[i:end], off: i})
		i = skipWS(b, end)
		if i >= len(b) || b[i] == ']' {
			break
		}
		i = skipWS(b, i+1)
	}
	return out, nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
			continue
		}
		break
	}
	return i
}

// skipString returns the index just past the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// skipValue returns the index just past the valid JSON value at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// unquote decodes a JSON string token. Invalid UTF-8 is an error rather than
// silently becoming U+FFFD.
func unquote(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", fmt.Errorf("want a string, got %s", jsonKind(raw))
	}
	if !utf8.Valid(raw) {
		return "", errors.New("invalid UTF-8: re-encode the file as UTF-8")
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), nil
	}
	if loneSurrogate(inner) {
		return "", errors.New("invalid \\u escape: a lone UTF-16 surrogate (half of a character)")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s, nil
}

// loneSurrogate reports whether a JSON string body has a \uD800-\uDFFF
// escape that is not a high surrogate followed by a low one (encoding/json
// would quietly turn it into U+FFFD).
func loneSurrogate(b []byte) bool {
	high := false // the previous escape was a high surrogate
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			if high {
				return true
			}
			continue
		}
		i++
		if i >= len(b) || b[i] != 'u' || i+4 >= len(b) {
			if high {
				return true
			}
			continue
		}
		v, err := strconv.ParseUint(string(b[i+1:i+5]), 16, 32)
		i += 4
		switch {
		case err != nil:
			return false // json.Unmarshal reports it
		case v >= 0xD800 && v < 0xDC00:
			if high {
				return true
			}
			high = true
		case v >= 0xDC00 && v < 0xE000:
			if !high {
				return true
			}
			high = false
		default:
			if high {
				return true
			}
		}
	}
	return high
}

// jsonKind names the type of a raw JSON value for error messages.
func jsonKind(raw []byte) string {
	raw = raw[skipWS(raw, 0):]
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func isNull(raw []byte) bool { return string(raw) == "null" }

// parseBool reads a JSON boolean; LLaMA-Factory's KTO tags are booleans, but
// "true"/"false" strings and 0/1 are accepted too.
func parseBool(raw []byte) (bool, error) {
	switch string(raw) {
	case "true", `"true"`, "1":
		return true, nil
	case "false", `"false"`, "0":
		return false, nil
	}
	if s, err := unquote(raw); err == nil {
		if v, err := strconv.ParseBool(s); err == nil {
			return v, nil
		}
	}
	return false, fmt.Errorf("want true or false, got %s", jsonKind(raw))
}
