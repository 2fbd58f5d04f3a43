package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

const (
	magic            = "GGUF"
	alignmentKey     = "general.alignment"
	defaultAlignment = 32

	// Smallest encodings, used to bound counts by the bytes that remain.
	minKVSize     = 8 + 4 + 1     // empty key, type, one-byte value
	minTensorSize = 8 + 4 + 4 + 8 // empty name, n_dims 0, type, offset
	minArraySize  = 4 + 8         // element type, count
	minStringSize = 8             // length

	// maxNesting bounds arrays of arrays, so hostile input cannot exhaust the
	// stack; real files nest at most once or twice.
	maxNesting = 16

	// maxPrealloc caps slice capacities taken from counts in the file.
	maxPrealloc = 1 << 12
)

// Parse parses a GGUF file held in data. The File keeps data: TensorData
// returns slices of it, so it must not be modified while the File is used.
func Parse(data []byte) (*File, error) {
	c := &cursor{data: data, where: "header"}
	f := &File{data: data, Alignment: defaultAlignment}
	nTensors, nKV, err := c.header(f)
	if err != nil {
		return nil, err
	}
	if err := c.metadata(f, nKV); err != nil {
		return nil, err
	}
	infoOffsets, err := c.tensorInfos(f, nTensors)
	if err != nil {
		return nil, err
	}
	f.DataOffset = alignUp(uint64(c.off), f.Alignment)
	if err := c.checkTensorRanges(f, infoOffsets); err != nil {
		return nil, err
	}
	f.index()
	return f, nil
}

// cursor reads little-endian values from data, tracking the offset and what
// is being read (a key or a tensor) for error messages.
type cursor struct {
	data  []byte
	off   int
	where string
}

// fail makes an error about the bytes at off.
func (c *cursor) fail(off int, format string, args ...any) error {
	return &Error{Offset: int64(off), Where: c.where, Err: fmt.Errorf(format, args...)}
}

func (c *cursor) left() uint64 { return uint64(len(c.data) - c.off) }

// take consumes the next n bytes.
func (c *cursor) take(n uint64, what string) ([]byte, error) {
	if n > c.left() {
		return nil, &Error{Offset: int64(c.off), Where: c.where,
			Err: fmt.Errorf("%w: %s needs %d bytes, %d left", io.ErrUnexpectedEOF, what, n, c.left())}
	}
	b := c.data[c.off : c.off+int(n)]
	c.off += int(n)
	return b, nil
}

func (c *cursor) u32(what string) (uint32, error) {
	b, err := c.take(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (c *cursor) u64(what string) (uint64, error) {
	b, err := c.take(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// str reads a string: a u64 length and that many bytes.
func (c *cursor) str(what string) (string, error) {
	start := c.off
	n, err := c.u64(what + " length")
	if err != nil {
		return "", err
	}
	if n > c.left() {
		return "", &Error{Offset: int64(start), Where: c.where,
			Err: fmt.Errorf("%w: %s is %d bytes long, only %d bytes left", io.ErrUnexpectedEOF, what, n, c.left())}
	}
	b, _ := c.take(n, what)
	return string(b), nil
}

// count reads a u64 count of items that take at least minSize bytes each
// and rejects a count that the remaining bytes cannot hold.
func (c *cursor) count(what string, minSize uint64) (uint64, error) {
	start := c.off
	n, err := c.u64(what)
	if err != nil {
		return 0, err
	}
	if n > c.left()/minSize {
		return 0, c.fail(start, "%s %d is too large: each item takes at least %d bytes and %d bytes are left",
			what, n, minSize, c.left())
	}
	return n, nil
}

func (c *cursor) header(f *File) (nTensors, nKV uint64, err error) {
	m, err := c.take(4, "magic")
	if err != nil {
		return 0, 0, err
	}
	if string(m) != magic {
		return 0, 0, c.fail(0, "not a GGUF file: starts with %q, want %q", m, magic)
	}
	if f.Version, err = c.u32("version"); err != nil {
		return 0, 0, err
	}
	if err := checkVersion(f.Version); err != nil {
		return 0, 0, c.fail(4, "%w", err)
	}
	if nTensors, err = c.u64("tensor_count"); err != nil {
		return 0, 0, err
	}
	if nKV, err = c.count("kv_count", minKVSize); err != nil {
		return 0, 0, err
	}
	if nTensors > c.left()/minTensorSize {
		return 0, 0, c.fail(8, "tensor_count %d is too large: each tensor info takes at least %d bytes and %d bytes are left",
			nTensors, minTensorSize, c.left())
	}
	return nTensors, nKV, nil
}

func checkVersion(v uint32) error {
	switch {
	case v == 2 || v == 3:
		return nil
	case v == 1:
		return fmt.Errorf("GGUF version 1 is not supported (only versions 2 and 3); convert the model again with a current llama.cpp")
	case v&0xFFFF == 0:
		return fmt.Errorf("version %#x looks byte-swapped: big-endian GGUF files are not supported", v)
	}
	return fmt.Errorf("GGUF version %d is not supported (only versions 2 and 3)", v)
}

// metadata reads the key/value pairs.
func (c *cursor) metadata(f *File, n uint64) error {
	f.KV = make([]KV, 0, min(n, maxPrealloc))
	seen := make(map[string]bool, min(n, maxPrealloc))
	for i := range n {
		c.where = fmt.Sprintf("key #%d", i)
		keyOff := c.off
		key, err := c.str("key")
		if err != nil {
			return err
		}
		c.where = fmt.Sprintf("key %q", key)
		if seen[key] {
			return c.fail(keyOff, "duplicate key")
		}
		seen[key] = true
		t, err := c.valueType("value type")
		if err != nil {
			return err
		}
		valueOff := c.off
		v, err := c.value(t, 0)
		if err != nil {
			return err
		}
		if key == alignmentKey {
			if f.Alignment, err = alignment(v); err != nil {
				return c.fail(valueOff, "%w", err)
			}
		}
		f.KV = append(f.KV, KV{Key: key, Value: v})
	}
	return nil
}

// alignment checks the value of general.alignment.
func alignment(v Value) (uint64, error) {
	if v.Type() != TypeUint32 {
		return 0, fmt.Errorf("%s is %s, want UINT32", alignmentKey, v.Type())
	}
	a, _ := v.Uint()
	if a == 0 || a&(a-1) != 0 {
		return 0, fmt.Errorf("%s is %d, want a power of two", alignmentKey, a)
	}
	return a, nil
}

// valueType reads a value type and rejects unknown ones.
func (c *cursor) valueType(what string) (ValueType, error) {
	start := c.off
	t, err := c.u32(what)
	if err != nil {
		return 0, err
	}
	if t > uint32(TypeFloat64) {
		return 0, c.fail(start, "unknown %s %d", what, t)
	}
	return ValueType(t), nil
}

// value reads a value of the known type t.
func (c *cursor) value(t ValueType, depth int) (Value, error) {
	switch t {
	case TypeString:
		s, err := c.str("string value")
		return String(s), err
	case TypeArray:
		return c.array(depth)
	}
	start := c.off
	b, err := c.take(uint64(t.size()), t.String()+" value")
	if err != nil {
		return Value{}, err
	}
	if t == TypeBool && b[0] > 1 {
		return Value{}, c.fail(start, "BOOL value is %d, want 0 or 1", b[0])
	}
	return scalarFromBytes(t, b), nil
}

// array reads an array after its ARRAY type tag: element type, count,
// elements.
func (c *cursor) array(depth int) (Value, error) {
	if depth >= maxNesting {
		return Value{}, c.fail(c.off, "arrays nested more than %d deep", maxNesting)
	}
	et, err := c.valueType("array element type")
	if err != nil {
		return Value{}, err
	}
	v := Value{typ: TypeArray, elem: et}
	switch et {
	case TypeString:
		n, err := c.count("array length", minStringSize)
		if err != nil {
			return Value{}, err
		}
		if n > 0 {
			v.strs = make([]string, 0, n) // n strings take at least 8n bytes of input
		}
		for range n {
			s, err := c.str("string element")
			if err != nil {
				return Value{}, err
			}
			v.strs = append(v.strs, s)
		}
	case TypeArray:
		n, err := c.count("array length", minArraySize)
		if err != nil {
			return Value{}, err
		}
		if n > 0 {
			v.arrs = make([]Value, 0, min(n, maxPrealloc))
		}
		for range n {
			e, err := c.array(depth + 1)
			if err != nil {
				return Value{}, err
			}
			v.arrs = append(v.arrs, e)
		}
	default:
		size := uint64(et.size())
		n, err := c.count("array length", size)
		if err != nil {
			return Value{}, err
		}
		start := c.off
		b, _ := c.take(n*size, "array elements")
		if et == TypeBool {
			for i, x := range b {
				if x > 1 {
					return Value{}, c.fail(start+i, "BOOL element %d is %d, want 0 or 1", i, x)
				}
			}
		}
		if n > 0 {
			v.raw = append([]byte(nil), b...)
		}
	}
	return v, nil
}

// tensorInfos reads the tensor infos and returns, for each, the offset of
// its data offset field (for errors found once the data section is known).
func (c *cursor) tensorInfos(f *File, n uint64) ([]int, error) {
	f.Tensors = make([]TensorInfo, 0, min(n, maxPrealloc))
	infoOffsets := make([]int, 0, min(n, maxPrealloc))
	seen := make(map[string]bool, min(n, maxPrealloc))
	for i := range n {
		c.where = fmt.Sprintf("tensor #%d", i)
		nameOff := c.off
		name, err := c.str("tensor name")
		if err != nil {
			return nil, err
		}
		c.where = fmt.Sprintf("tensor %q", name)
		if seen[name] {
			return nil, c.fail(nameOff, "duplicate tensor name")
		}
		seen[name] = true
		t, offOff, err := c.tensorInfo(name, f.Alignment)
		if err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, t)
		infoOffsets = append(infoOffsets, offOff)
	}
	return infoOffsets, nil
}

// tensorInfo reads one tensor info after its name.
func (c *cursor) tensorInfo(name string, align uint64) (TensorInfo, int, error) {
	t := TensorInfo{Name: name}
	shapeOff := c.off
	nDims, err := c.u32("n_dims")
	if err != nil {
		return t, 0, err
	}
	if nDims > maxDims {
		return t, 0, c.fail(shapeOff, "n_dims is %d, at most %d allowed", nDims, maxDims)
	}
	t.Dims = make([]uint64, nDims)
	for i := range t.Dims {
		if t.Dims[i], err = c.u64("dimension"); err != nil {
			return t, 0, err
		}
	}
	typeOff := c.off
	typ, err := c.u32("tensor type")
	if err != nil {
		return t, 0, err
	}
	t.Type = TensorType(typ)
	if !t.Type.Known() {
		return t, 0, c.fail(typeOff, "unknown tensor type %d", typ)
	}
	if t.Size, err = tensorSize(t.Dims, t.Type); err != nil {
		return t, 0, c.fail(shapeOff, "shape %v of type %s: %w", t.Dims, t.Type, err)
	}
	offOff := c.off
	if t.Offset, err = c.u64("data offset"); err != nil {
		return t, 0, err
	}
	if t.Offset%align != 0 {
		return t, 0, c.fail(offOff, "data offset %d is not a multiple of the alignment %d", t.Offset, align)
	}
	return t, offOff, nil
}

// checkTensorRanges makes sure every tensor's data lies inside the data.
// Tensors may overlap.
func (c *cursor) checkTensorRanges(f *File, infoOffsets []int) error {
	for i, t := range f.Tensors {
		start, carry := bits.Add64(f.DataOffset, t.Offset, 0)
		end, carry2 := bits.Add64(start, t.Size, 0)
		if carry != 0 || carry2 != 0 || end > uint64(len(c.data)) {
			c.where = fmt.Sprintf("tensor %q", t.Name)
			return c.fail(infoOffsets[i], "data at offset %d+%d, %d bytes, runs past the end of the file (%d bytes)",
				f.DataOffset, t.Offset, t.Size, len(c.data))
		}
	}
	return nil
}

// alignUp rounds x up to a multiple of a, a power of two; x is at most the
// length of a byte slice, so this cannot overflow.
func alignUp(x, a uint64) uint64 { return (x + a - 1) &^ (a - 1) }
