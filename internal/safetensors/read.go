package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// MaxHeaderSize bounds the JSON header a reader accepts. It is the limit of the
// safetensors reference implementation (100 MB); real headers are a few MB.
const MaxHeaderSize = 100_000_000

// Error is a malformed safetensors file, index or tensor list: which file,
// which tensor, what is wrong.
type Error struct {
	Path   string // file or directory; "" when parsing bytes from memory
	Tensor string // tensor name; "" when the problem is not about one tensor
	Msg    string // what is wrong
	Err    error  // underlying cause, if any
}

func (e *Error) Error() string {
	s := "safetensors: "
	if e.Path != "" {
		s += e.Path + ": "
	}
	if e.Tensor != "" {
		s += "tensor " + strconv.Quote(e.Tensor) + ": "
	}
	s += e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// File is a parsed safetensors file.
type File struct {
	Path     string            // "" for Parse
	Tensors  []Tensor          // sorted by data offset
	Metadata map[string]string // the "__metadata__" object; nil when absent

	index   map[string]int // name → position in Tensors
	offsets [][2]int64     // data_offsets of Tensors[i], relative to the data section
	release func() error   // unmaps the file; nil for Parse
}

// Parse reads a whole safetensors file held in data; the tensors' Data are
// subslices of data, not copies. It checks the header as the reference
// implementation does, and also rejects duplicate and empty tensor names.
func Parse(data []byte) (*File, error) { return parse("", data) }

// Close releases the memory mapping of a File from Open. The Data of its
// tensors must not be used afterwards. Close is safe to call more than once.
func (f *File) Close() error {
	release := f.release
	f.release = nil
	f.Tensors, f.index, f.offsets = nil, nil, nil
	if release == nil {
		return nil
	}
	if err := release(); err != nil {
		return &Error{Path: f.Path, Msg: "unmap", Err: err}
	}
	return nil
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (Tensor, bool) {
	i, ok := f.index[name]
	if !ok {
		return Tensor{}, false
	}
	return f.Tensors[i], true
}

// parse is Parse with the path used in error messages.
func parse(path string, data []byte) (*File, error) {
	fail := func(tensor, format string, args ...any) error {
		return &Error{Path: path, Tensor: tensor, Msg: fmt.Sprintf(format, args...)}
	}
	if len(data) < 8 {
		return nil, fail("", "truncated: %d bytes, need at least 8 for the header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderSize {
		return nil, fail("", "header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, fail("", "header length %d exceeds the %d bytes after the length field (truncated file?)", n, len(data)-8)
	}
	header := data[8 : 8+n]
	body := data[8+n:]
	if !utf8.Valid(header) {
		return nil, fail("", "header is not valid UTF-8")
	}
	fields, err := objectFields(header)
	var dup duplicateKeyError
	switch {
	case errors.As(err, &dup):
		return nil, fail(string(dup), "appears twice in the header")
	case errors.Is(err, errNotObject):
		return nil, fail("", "header is not a JSON object")
	case err != nil:
		return nil, &Error{Path: path, Msg: "header is not valid JSON", Err: err}
	}

	f := &File{Path: path, index: make(map[string]int, len(fields))}
	for _, fld := range fields {
		if fld.key == "__metadata__" {
			if f.Metadata, err = parseMetadata(fld.value); err != nil {
				return nil, &Error{Path: path, Msg: `"__metadata__" must be an object of strings`, Err: err}
			}
			continue
		}
		if fld.key == "" {
			return nil, fail("", "empty tensor name")
		}
		t, offs, err := parseEntry(fld.key, fld.value, int64(len(body)))
		if err != nil {
			err.Path = path
			return nil, err
		}
		f.Tensors = append(f.Tensors, t)
		f.offsets = append(f.offsets, offs)
	}

	// Order by offset, then check that the tensors tile the data section
	// exactly: each begins where the previous ended and the last ends at the
	// end of the file. The reference implementation rejects gaps, overlaps and
	// trailing bytes the same way, which also means no two tensors alias.
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		oa, ob := f.offsets[a], f.offsets[b]
		return cmp.Or(cmp.Compare(oa[0], ob[0]), cmp.Compare(oa[1], ob[1]),
			cmp.Compare(f.Tensors[a].Name, f.Tensors[b].Name))
	})
	tensors := make([]Tensor, len(order))
	offsets := make([][2]int64, len(order))
	var end int64
	prev := ""
	for i, j := range order {
		t, o := f.Tensors[j], f.offsets[j]
		switch {
		case o[0] > end:
			return nil, fail(t.Name, "data_offsets [%d, %d] leave a gap of %d bytes after the previous tensor, which ends at %d", o[0], o[1], o[0]-end, end)
		case o[0] < end:
			return nil, fail(t.Name, "data_offsets [%d, %d] overlap tensor %q, which ends at %d", o[0], o[1], prev, end)
		}
		end, prev = o[1], t.Name
		t.Data = body[o[0]:o[1]:o[1]]
		tensors[i], offsets[i] = t, o
		f.index[t.Name] = i
	}
	if end != int64(len(body)) {
		return nil, fail("", "%d trailing bytes after the last tensor, which ends at %d", int64(len(body))-end, end)
	}
	f.Tensors, f.offsets = tensors, offsets
	return f, nil
}

// parseEntry checks one header entry {"dtype", "shape", "data_offsets"}
// against itself and against a data section of dataLen bytes.
func parseEntry(name string, raw []byte, dataLen int64) (Tensor, [2]int64, *Error) {
	t := Tensor{Name: name}
	var offs [2]int64
	fail := func(format string, args ...any) (Tensor, [2]int64, *Error) {
		return t, offs, &Error{Tensor: name, Msg: fmt.Sprintf(format, args...)}
	}
	fields, err := objectFields(raw)
	if err != nil {
		return t, offs, &Error{Tensor: name, Msg: "header entry is not a JSON object with dtype, shape and data_offsets", Err: err}
	}
	var dtype, shape, offsets json.RawMessage
	for _, f := range fields {
		switch f.key {
		case "dtype":
			dtype = f.value
		case "shape":
			shape = f.value
		case "data_offsets":
			offsets = f.value
		}
	}
	for _, req := range []struct {
		name  string
		value json.RawMessage
	}{{"dtype", dtype}, {"shape", shape}, {"data_offsets", offsets}} {
		if req.value == nil {
			return fail("missing %q", req.name)
		}
	}

	var ds string
	if err := json.Unmarshal(dtype, &ds); err != nil {
		return fail("dtype %s is not a string", dtype)
	}
	t.DType = DType(ds)
	if t.DType.Size() == 0 {
		return fail("unknown dtype %q", ds)
	}

	if shape[0] != '[' || json.Unmarshal(shape, &t.Shape) != nil {
		return fail("shape %s is not a list of integers", shape)
	}
	for _, d := range t.Shape {
		if d < 0 {
			return fail("negative dimension %d in shape %v", d, t.Shape)
		}
	}
	nbytes, ok := byteCount(t.Shape, t.DType)
	if !ok {
		return fail("shape %v of %s overflows the element count", t.Shape, t.DType)
	}

	var o []int64
	if offsets[0] != '[' || json.Unmarshal(offsets, &o) != nil || len(o) != 2 {
		return fail("data_offsets %s is not a list of two integers", offsets)
	}
	offs = [2]int64{o[0], o[1]}
	if o[0] < 0 || o[1] < o[0] || o[1] > dataLen {
		return fail("data_offsets [%d, %d] out of range: the data section is %d bytes", o[0], o[1], dataLen)
	}
	if o[1]-o[0] != nbytes {
		return fail("data_offsets [%d, %d] hold %d bytes, but shape %v of %s needs %d", o[0], o[1], o[1]-o[0], t.Shape, t.DType, nbytes)
	}
	return t, offs, nil
}

func parseMetadata(raw json.RawMessage) (map[string]string, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, fmt.Errorf("got %.40s", raw)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// field is one member of a JSON object, in document order.
type field struct {
	key   string
	value json.RawMessage // never empty
}

// errNotObject is the error of objectFields for valid JSON that is no object.
var errNotObject = errors.New("not a JSON object")

// duplicateKeyError is the error of objectFields for a key seen twice.
type duplicateKeyError string

func (e duplicateKeyError) Error() string { return fmt.Sprintf("key %q appears twice", string(e)) }

// objectFields splits a JSON object into its members, rejecting anything else,
// trailing bytes other than white space, and duplicate keys (which
// encoding/json would silently resolve to the last one).
func objectFields(data []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, errNotObject
	}
	var fields []field
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("key %v is not a string", tok)
		}
		if seen[key] {
			return nil, duplicateKeyError(key)
		}
		seen[key] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, err
		}
		fields = append(fields, field{key, value})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, err
	}
	rest := data[dec.InputOffset():]
	if len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return nil, fmt.Errorf("unexpected bytes after the closing brace at offset %d", dec.InputOffset())
	}
	return fields, nil
}
