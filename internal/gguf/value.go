package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ValueType is the type tag of a metadata value as stored in the file.
type ValueType uint32

const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{
	TypeUint8: "UINT8", TypeInt8: "INT8", TypeUint16: "UINT16", TypeInt16: "INT16",
	TypeUint32: "UINT32", TypeInt32: "INT32", TypeFloat32: "FLOAT32", TypeBool: "BOOL",
	TypeString: "STRING", TypeArray: "ARRAY", TypeUint64: "UINT64", TypeInt64: "INT64",
	TypeFloat64: "FLOAT64",
}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("ValueType(%d)", uint32(t))
}

// size is the encoded size of a fixed-size type, 0 for STRING, ARRAY and
// unknown types.
func (t ValueType) size() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

func (t ValueType) signed() bool {
	return t == TypeInt8 || t == TypeInt16 || t == TypeInt32 || t == TypeInt64
}

func (t ValueType) unsigned() bool {
	return t == TypeUint8 || t == TypeUint16 || t == TypeUint32 || t == TypeUint64
}

func (t ValueType) integer() bool { return t.signed() || t.unsigned() }

// Value is one metadata value of any type, arrays (also nested) included.
// It is immutable: constructors copy their input and accessors return copies.
// The zero Value is the UINT8 0.
type Value struct {
	typ  ValueType
	elem ValueType // element type when typ is TypeArray
	bits uint64    // fixed-size scalar: integer (signed ones sign-extended), float bits, or bool 0/1
	str  string    // STRING
	raw  []byte    // array of fixed-size elements, little endian as in the file; nil when empty
	strs []string  // array of strings; nil when empty
	arrs []Value   // array of arrays; nil when empty
}

// KV is one metadata entry.
type KV struct {
	Key   string
	Value Value
}

// Type is the value's type.
func (v Value) Type() ValueType { return v.typ }

// ElemType is the type of an array's elements (arrays of arrays have
// ARRAY); it is meaningless for other values.
func (v Value) ElemType() ValueType { return v.elem }

// Len is the number of elements of an array, 0 for other values.
func (v Value) Len() int {
	if v.typ != TypeArray {
		return 0
	}
	switch v.elem {
	case TypeString:
		return len(v.strs)
	case TypeArray:
		return len(v.arrs)
	}
	if n := v.elem.size(); n > 0 {
		return len(v.raw) / n
	}
	return 0
}

// Index is element i of an array; ok is false for other values or when i
// is out of range.
func (v Value) Index(i int) (Value, bool) {
	if v.typ != TypeArray || i < 0 || i >= v.Len() {
		return Value{}, false
	}
	switch v.elem {
	case TypeString:
		return String(v.strs[i]), true
	case TypeArray:
		return v.arrs[i], true
	}
	n := v.elem.size()
	return scalarFromBytes(v.elem, v.raw[i*n:(i+1)*n]), true
}

// Str is the value of a STRING.
func (v Value) Str() (string, bool) {
	if v.typ != TypeString {
		return "", false
	}
	return v.str, true
}

// Int is the value of any integer type that fits in an int64.
func (v Value) Int() (int64, bool) {
	switch {
	case v.typ.signed():
		return int64(v.bits), true
	case v.typ.unsigned() && v.bits <= math.MaxInt64:
		return int64(v.bits), true
	}
	return 0, false
}

// Uint is the value of any integer type that is not negative.
func (v Value) Uint() (uint64, bool) {
	switch {
	case v.typ.unsigned():
		return v.bits, true
	case v.typ.signed() && int64(v.bits) >= 0:
		return v.bits, true
	}
	return 0, false
}

// Float is the value of a FLOAT32 or FLOAT64.
func (v Value) Float() (float64, bool) {
	switch v.typ {
	case TypeFloat32:
		return float64(math.Float32frombits(uint32(v.bits))), true
	case TypeFloat64:
		return math.Float64frombits(v.bits), true
	}
	return 0, false
}

// Bool is the value of a BOOL.
func (v Value) Bool() (bool, bool) {
	if v.typ != TypeBool {
		return false, false
	}
	return v.bits != 0, true
}

// Strings is a copy of an array of strings.
func (v Value) Strings() ([]string, bool) {
	if v.typ != TypeArray || v.elem != TypeString {
		return nil, false
	}
	return slices.Clone(v.strs), true
}

// Float32s is an array of FLOAT32 or FLOAT64 as float32.
func (v Value) Float32s() ([]float32, bool) {
	if v.typ != TypeArray || (v.elem != TypeFloat32 && v.elem != TypeFloat64) {
		return nil, false
	}
	out := make([]float32, v.Len())
	for i := range out {
		e, _ := v.Index(i)
		f, _ := e.Float()
		out[i] = float32(f)
	}
	return out, true
}

// Ints is an array of any integer type whose elements all fit in an int64.
func (v Value) Ints() ([]int64, bool) {
	if v.typ != TypeArray || !v.elem.integer() {
		return nil, false
	}
	out := make([]int64, v.Len())
	for i := range out {
		e, _ := v.Index(i)
		x, ok := e.Int()
		if !ok {
			return nil, false
		}
		out[i] = x
	}
	return out, true
}

// Int32s is an array of any integer type whose elements all fit in an int32.
func (v Value) Int32s() ([]int32, bool) {
	xs, ok := v.Ints()
	if !ok {
		return nil, false
	}
	out := make([]int32, len(xs))
	for i, x := range xs {
		if x < math.MinInt32 || x > math.MaxInt32 {
			return nil, false
		}
		out[i] = int32(x)
	}
	return out, true
}

// maxPrinted is how many elements of an array String prints.
const maxPrinted = 8

// String formats the value for people: strings quoted, floats in the
// shortest form that reads back exactly, arrays as [a, b, ...] with at most
// 8 elements followed by the number left out.
func (v Value) String() string {
	var b strings.Builder
	v.format(&b)
	return b.String()
}

func (v Value) format(b *strings.Builder) {
	switch v.typ {
	case TypeString:
		b.WriteString(strconv.Quote(v.str))
	case TypeBool:
		b.WriteString(strconv.FormatBool(v.bits != 0))
	case TypeFloat32:
		f, _ := v.Float()
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 32))
	case TypeFloat64:
		f, _ := v.Float()
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	case TypeArray:
		v.formatArray(b)
	default:
		if v.typ.signed() {
			b.WriteString(strconv.FormatInt(int64(v.bits), 10))
		} else {
			b.WriteString(strconv.FormatUint(v.bits, 10))
		}
	}
}

func (v Value) formatArray(b *strings.Builder) {
	n := v.Len()
	b.WriteByte('[')
	for i := range min(n, maxPrinted) {
		if i > 0 {
			b.WriteString(", ")
		}
		e, _ := v.Index(i)
		e.format(b)
	}
	if n > maxPrinted {
		fmt.Fprintf(b, ", ... %d more", n-maxPrinted)
	}
	b.WriteByte(']')
}

// scalarFromBytes decodes a fixed-size value of type t from the start of b,
// which must hold t.size() bytes.
func scalarFromBytes(t ValueType, b []byte) Value {
	v := Value{typ: t}
	le := binary.LittleEndian
	switch t {
	case TypeUint8, TypeBool:
		v.bits = uint64(b[0])
	case TypeInt8:
		v.bits = uint64(int64(int8(b[0])))
	case TypeUint16:
		v.bits = uint64(le.Uint16(b))
	case TypeInt16:
		v.bits = uint64(int64(int16(le.Uint16(b))))
	case TypeUint32, TypeFloat32:
		v.bits = uint64(le.Uint32(b))
	case TypeInt32:
		v.bits = uint64(int64(int32(le.Uint32(b))))
	case TypeUint64, TypeInt64, TypeFloat64:
		v.bits = le.Uint64(b)
	}
	return v
}

// appendScalar appends the encoding of a fixed-size value; truncating the
// sign-extended bits gives the two's complement of signed types.
func appendScalar(b []byte, v Value) []byte {
	switch v.typ.size() {
	case 1:
		return append(b, byte(v.bits))
	case 2:
		return binary.LittleEndian.AppendUint16(b, uint16(v.bits))
	case 4:
		return binary.LittleEndian.AppendUint32(b, uint32(v.bits))
	}
	return binary.LittleEndian.AppendUint64(b, v.bits)
}

// Constructors of scalar values.

func Uint8(x uint8) Value   { return Value{typ: TypeUint8, bits: uint64(x)} }
func Int8(x int8) Value     { return Value{typ: TypeInt8, bits: uint64(int64(x))} }
func Uint16(x uint16) Value { return Value{typ: TypeUint16, bits: uint64(x)} }
func Int16(x int16) Value   { return Value{typ: TypeInt16, bits: uint64(int64(x))} }
func Uint32(x uint32) Value { return Value{typ: TypeUint32, bits: uint64(x)} }
func Int32(x int32) Value   { return Value{typ: TypeInt32, bits: uint64(int64(x))} }
func Uint64(x uint64) Value { return Value{typ: TypeUint64, bits: x} }
func Int64(x int64) Value   { return Value{typ: TypeInt64, bits: uint64(x)} }
func String(s string) Value { return Value{typ: TypeString, str: s} }

func Float32(x float32) Value {
	return Value{typ: TypeFloat32, bits: uint64(math.Float32bits(x))}
}

func Float64(x float64) Value {
	return Value{typ: TypeFloat64, bits: math.Float64bits(x)}
}

func Bool(x bool) Value {
	v := Value{typ: TypeBool}
	if x {
		v.bits = 1
	}
	return v
}

// Element is a Go type that maps to a GGUF array element type.
type Element interface {
	uint8 | int8 | uint16 | int16 | uint32 | int32 | uint64 | int64 |
		float32 | float64 | bool | string
}

// Array makes an array of scalars, e.g. Array([]uint64{1, 2}); the element
// type follows from the Go type.
func Array[T Element](xs []T) Value {
	switch s := any(xs).(type) {
	case []string:
		return StringArray(s)
	case []uint8:
		return pack(s, Uint8)
	case []int8:
		return pack(s, Int8)
	case []uint16:
		return pack(s, Uint16)
	case []int16:
		return pack(s, Int16)
	case []uint32:
		return pack(s, Uint32)
	case []int32:
		return pack(s, Int32)
	case []uint64:
		return pack(s, Uint64)
	case []int64:
		return pack(s, Int64)
	case []float32:
		return pack(s, Float32)
	case []float64:
		return pack(s, Float64)
	case []bool:
		return pack(s, Bool)
	}
	panic("unreachable: Element covers every case")
}

// pack encodes fixed-size elements into an array value.
func pack[T any](xs []T, scalar func(T) Value) Value {
	var zero T
	v := Value{typ: TypeArray, elem: scalar(zero).typ}
	for _, x := range xs {
		v.raw = appendScalar(v.raw, scalar(x))
	}
	return v
}

// StringArray makes an array of strings.
func StringArray(xs []string) Value {
	v := Value{typ: TypeArray, elem: TypeString}
	if len(xs) > 0 {
		v.strs = slices.Clone(xs)
	}
	return v
}

// Float32Array makes an array of FLOAT32.
func Float32Array(xs []float32) Value { return Array(xs) }

// Int32Array makes an array of INT32.
func Int32Array(xs []int32) Value { return Array(xs) }

// Arrays makes an array whose elements are arrays, each with its own element
// type. Encode rejects elements that are not arrays.
func Arrays(elems ...Value) Value {
	v := Value{typ: TypeArray, elem: TypeArray}
	if len(elems) > 0 {
		v.arrs = slices.Clone(elems)
	}
	return v
}
