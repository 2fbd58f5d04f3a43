package gguf

import (
	"math"
	"reflect"
	"testing"
)

func TestValueScalarAccessors(t *testing.T) {
	type want struct {
		i      int64
		iok    bool
		u      uint64
		uok    bool
		f      float64
		fok    bool
		s      string
		sok    bool
		b, bok bool
	}
	tests := []struct {
		name string
		v    Value
		typ  ValueType
		want want
	}{
		{"uint8", Uint8(200), TypeUint8, want{i: 200, iok: true, u: 200, uok: true}},
		{"int8 negative", Int8(-1), TypeInt8, want{i: -1, iok: true}},
		{"uint16", Uint16(65535), TypeUint16, want{i: 65535, iok: true, u: 65535, uok: true}},
		{"int16", Int16(-32768), TypeInt16, want{i: -32768, iok: true}},
		{"uint32", Uint32(math.MaxUint32), TypeUint32, want{i: math.MaxUint32, iok: true, u: math.MaxUint32, uok: true}},
		{"int32 positive", Int32(7), TypeInt32, want{i: 7, iok: true, u: 7, uok: true}},
		{"uint64 max does not fit int64", Uint64(math.MaxUint64), TypeUint64, want{u: math.MaxUint64, uok: true}},
		{"int64 min", Int64(math.MinInt64), TypeInt64, want{i: math.MinInt64, iok: true}},
		{"float32", Float32(1.5), TypeFloat32, want{f: 1.5, fok: true}},
		{"float64", Float64(-0.25), TypeFloat64, want{f: -0.25, fok: true}},
		{"bool", Bool(true), TypeBool, want{b: true, bok: true}},
		{"string", String("llama"), TypeString, want{s: "llama", sok: true}},
		{"zero value is uint8 0", Value{}, TypeUint8, want{iok: true, uok: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			if v.Type() != tt.typ {
				t.Errorf("Type() = %s, want %s", v.Type(), tt.typ)
			}
			var got want
			got.i, got.iok = v.Int()
			got.u, got.uok = v.Uint()
			got.f, got.fok = v.Float()
			got.s, got.sok = v.Str()
			got.b, got.bok = v.Bool()
			if got != tt.want {
				t.Errorf("accessors = %+v, want %+v", got, tt.want)
			}
			if v.Len() != 0 {
				t.Errorf("Len() = %d for a scalar", v.Len())
			}
			if _, ok := v.Index(0); ok {
				t.Errorf("Index(0) ok on a scalar")
			}
		})
	}
}

func TestValueArrayAccessors(t *testing.T) {
	tests := []struct {
		name     string
		v        Value
		elem     ValueType
		n        int
		ints     []int64
		int32s   []int32
		float32s []float32
		strs     []string
	}{
		{"uint16", Array([]uint16{1, 65535}), TypeUint16, 2, []int64{1, 65535}, []int32{1, 65535}, nil, nil},
		{"int8", Array([]int8{-128, 5}), TypeInt8, 2, []int64{-128, 5}, []int32{-128, 5}, nil, nil},
		{"uint64 too big for Ints", Array([]uint64{math.MaxUint64}), TypeUint64, 1, nil, nil, nil, nil},
		{"int64 too big for Int32s", Array([]int64{1 << 40, -1}), TypeInt64, 2, []int64{1 << 40, -1}, nil, nil, nil},
		{"int32", Int32Array([]int32{3, -3}), TypeInt32, 2, []int64{3, -3}, []int32{3, -3}, nil, nil},
		{"float32", Float32Array([]float32{0.5, -2}), TypeFloat32, 2, nil, nil, []float32{0.5, -2}, nil},
		{"float64 as float32", Array([]float64{0.25}), TypeFloat64, 1, nil, nil, []float32{0.25}, nil},
		{"bool", Array([]bool{true, false}), TypeBool, 2, nil, nil, nil, nil},
		{"strings", StringArray([]string{"<unk>", "", "▁a"}), TypeString, 3, nil, nil, nil, []string{"<unk>", "", "▁a"}},
		{"empty strings", StringArray(nil), TypeString, 0, nil, nil, nil, []string{}},
		{"empty int32", Int32Array(nil), TypeInt32, 0, []int64{}, []int32{}, nil, nil},
		{"arrays", Arrays(Array([]uint8{1}), StringArray(nil)), TypeArray, 2, nil, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			if v.Type() != TypeArray || v.ElemType() != tt.elem || v.Len() != tt.n {
				t.Fatalf("got %s of %s × %d, want ARRAY of %s × %d", v.Type(), v.ElemType(), v.Len(), tt.elem, tt.n)
			}
			ints, ok := v.Ints()
			if ok != (tt.ints != nil) || (ok && !reflect.DeepEqual(ints, tt.ints)) {
				t.Errorf("Ints() = %v, %v; want %v", ints, ok, tt.ints)
			}
			int32s, ok := v.Int32s()
			if ok != (tt.int32s != nil) || (ok && !reflect.DeepEqual(int32s, tt.int32s)) {
				t.Errorf("Int32s() = %v, %v; want %v", int32s, ok, tt.int32s)
			}
			fs, ok := v.Float32s()
			if ok != (tt.float32s != nil) || (ok && !reflect.DeepEqual(fs, tt.float32s)) {
				t.Errorf("Float32s() = %v, %v; want %v", fs, ok, tt.float32s)
			}
			strs, ok := v.Strings()
			if ok != (tt.strs != nil) || (ok && len(strs) != len(tt.strs)) || (ok && len(strs) > 0 && !reflect.DeepEqual(strs, tt.strs)) {
				t.Errorf("Strings() = %q, %v; want %q", strs, ok, tt.strs)
			}
			if _, ok := v.Index(tt.n); ok {
				t.Errorf("Index(%d) ok past the end", tt.n)
			}
			if _, ok := v.Index(-1); ok {
				t.Errorf("Index(-1) ok")
			}
		})
	}
}

func TestValueIndex(t *testing.T) {
	v := Arrays(Array([]int16{-2, 9}), StringArray([]string{"x"}))
	inner, ok := v.Index(0)
	if !ok || inner.ElemType() != TypeInt16 {
		t.Fatalf("Index(0) = %v, %v", inner, ok)
	}
	e, ok := inner.Index(0)
	if x, xok := e.Int(); !ok || !xok || x != -2 || e.Type() != TypeInt16 {
		t.Errorf("inner.Index(0) = %v (%s), want INT16 -2", e, e.Type())
	}
	inner, _ = v.Index(1)
	e, _ = inner.Index(0)
	if s, ok := e.Str(); !ok || s != "x" {
		t.Errorf("second inner element = %v, want \"x\"", e)
	}
}

func TestValueIsImmutable(t *testing.T) {
	in := []string{"a", "b"}
	v := StringArray(in)
	in[0] = "changed"
	out, _ := v.Strings()
	out[1] = "changed"
	if again, _ := v.Strings(); again[0] != "a" || again[1] != "b" {
		t.Errorf("value changed through a slice: %q", again)
	}
}

func TestValueString(t *testing.T) {
	tests := []struct {
		v    Value
		want string
	}{
		{Uint8(7), "7"},
		{Int16(-3), "-3"},
		{Uint64(math.MaxUint64), "18446744073709551615"},
		{Float32(1e-5), "1e-05"},
		{Float64(0.1), "0.1"},
		{Bool(false), "false"},
		{String(`a"b` + "\n"), `"a\"b\n"`},
		{String(""), `""`},
		{Int32Array([]int32{1, -2}), "[1, -2]"},
		{StringArray(nil), "[]"},
		{StringArray([]string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}),
			`["a", "b", "c", "d", "e", "f", "g", "h", ... 2 more]`},
		{Arrays(Array([]bool{true}), Arrays()), "[[true], []]"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("String() = %s, want %s", got, tt.want)
		}
	}
}

func TestTypeNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{TypeUint8.String(), "UINT8"},
		{TypeArray.String(), "ARRAY"},
		{TypeFloat64.String(), "FLOAT64"},
		{ValueType(13).String(), "ValueType(13)"},
		{F32.String(), "F32"},
		{Q4_K.String(), "Q4_K"},
		{Q6_K.String(), "Q6_K"},
		{BF16.String(), "BF16"},
		{TensorType(31).String(), "TensorType(31)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestTensorTypeSizes(t *testing.T) {
	tests := []struct {
		typ              TensorType
		block, typeBytes int
	}{
		{F32, 1, 4}, {F16, 1, 2}, {Q4_0, 32, 18}, {Q4_1, 32, 20}, {Q5_0, 32, 22}, {Q5_1, 32, 24},
		{Q8_0, 32, 34}, {Q8_1, 32, 36}, {Q2_K, 256, 84}, {Q3_K, 256, 110}, {Q4_K, 256, 144},
		{Q5_K, 256, 176}, {Q6_K, 256, 210}, {Q8_K, 256, 292}, {I8, 1, 1}, {I16, 1, 2}, {I32, 1, 4},
		{I64, 1, 8}, {F64, 1, 8}, {BF16, 1, 2}, {IQ4_NL, 32, 18}, {IQ4_XS, 256, 136}, {MXFP4, 32, 17},
		{TensorType(4), 0, 0}, {TensorType(31), 0, 0}, {TensorType(1000), 0, 0},
	}
	for _, tt := range tests {
		if tt.typ.BlockSize() != tt.block || tt.typ.TypeSize() != tt.typeBytes || tt.typ.Known() != (tt.block > 0) {
			t.Errorf("%s: block %d, bytes %d, known %v; want %d, %d", tt.typ, tt.typ.BlockSize(), tt.typ.TypeSize(),
				tt.typ.Known(), tt.block, tt.typeBytes)
		}
	}
}

func TestTensorSize(t *testing.T) {
	tests := []struct {
		dims    []uint64
		typ     TensorType
		want    uint64
		wantErr string
	}{
		{[]uint64{64, 512}, F32, 131072, ""},
		{[]uint64{64, 2}, Q8_0, 4 * 34, ""},
		{[]uint64{256, 3}, Q4_K, 3 * 144, ""},
		{[]uint64{256, 1, 1, 2}, Q6_K, 2 * 210, ""},
		{nil, I32, 4, ""},
		{[]uint64{7}, BF16, 14, ""},
		{nil, Q8_0, 0, "row length 1 is not a multiple of the Q8_0 block size 32"},
		{[]uint64{48}, Q8_0, 0, "row length 48 is not a multiple"},
		{[]uint64{4, 0}, F32, 0, "dimension 1 is 0"},
		{[]uint64{1, 1, 1, 1, 1}, F32, 0, "5 dimensions, at most 4"},
		{[]uint64{1 << 32, 1 << 31}, F32, 0, "overflow"},
		{[]uint64{1 << 62}, F64, 0, "overflows"},
		{[]uint64{1}, TensorType(5), 0, "unknown tensor type 5"},
	}
	for _, tt := range tests {
		got, err := tensorSize(tt.dims, tt.typ)
		if tt.wantErr != "" {
			if err == nil || !contains(err.Error(), tt.wantErr) {
				t.Errorf("tensorSize(%v, %s) error = %v, want %q", tt.dims, tt.typ, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("tensorSize(%v, %s) = %d, %v; want %d", tt.dims, tt.typ, got, err, tt.want)
		}
	}
}
