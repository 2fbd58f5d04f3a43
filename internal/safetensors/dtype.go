package safetensors

// DType is a safetensors element type, spelled as in the file header.
type DType string

// The element types this package knows. Their sizes are those of the
// safetensors reference implementation.
const (
	BOOL   DType = "BOOL"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
)

// Size is the number of bytes of one element, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case BOOL, U8, I8, F8E5M2, F8E4M3:
		return 1
	case I16, U16, F16, BF16:
		return 2
	case I32, U32, F32:
		return 4
	case F64, I64, U64:
		return 8
	}
	return 0
}

// Tensor is one named tensor: row-major ("C" order), little-endian elements.
// A tensor read from a File has Data pointing into the file's memory mapping:
// it is read-only and valid until the File is closed.
type Tensor struct {
	Name  string
	DType DType
	Shape []int64 // outermost dimension first; empty for a scalar
	Data  []byte  // Elements() * DType.Size() bytes
}

// Elements is the number of elements, the product of Shape (1 for a scalar).
// It is -1 when a dimension is negative or the product overflows int64.
func (t Tensor) Elements() int64 {
	n, ok := elementCount(t.Shape)
	if !ok {
		return -1
	}
	return n
}

// elementCount multiplies the dimensions of shape, reporting false on a
// negative dimension or an int64 overflow.
func elementCount(shape []int64) (int64, bool) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > maxInt64/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// byteCount is elementCount times the element size of dt, with the same
// failure conditions; dt must be known.
func byteCount(shape []int64, dt DType) (int64, bool) {
	n, ok := elementCount(shape)
	size := int64(dt.Size())
	if !ok || size == 0 || n > maxInt64/size {
		return 0, false
	}
	return n * size, true
}

const maxInt64 = 1<<63 - 1
