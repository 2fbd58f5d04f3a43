package gguf

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// pattern is n deterministic, distinct-looking bytes.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

func encode(t testing.TB, version uint32, kv []KV, tensors []WriterTensor) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, version, kv, tensors); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

// roundTripKV holds every value type, edge values, empty and nested arrays.
func roundTripKV() []KV {
	return []KV{
		{"general.architecture", String("llama")},
		{"general.alignment", Uint32(64)},
		{"t.uint8", Uint8(255)},
		{"t.int8", Int8(-128)},
		{"t.uint16", Uint16(65535)},
		{"t.int16", Int16(-32768)},
		{"t.uint32", Uint32(math.MaxUint32)},
		{"t.int32", Int32(math.MinInt32)},
		{"t.float32", Float32(1e-5)},
		{"t.bool.true", Bool(true)},
		{"t.bool.false", Bool(false)},
		{"t.string.empty", String("")},
		{"t.string", String("héllo\x00wörld ▁ 你好")},
		{"t.uint64", Uint64(math.MaxUint64)},
		{"t.int64", Int64(math.MinInt64)},
		{"t.float64", Float64(-math.MaxFloat64)},
		{"t.float64.nan", Float64(math.NaN())},
		{"t.array.uint8", Array([]uint8{0, 1, 255})},
		{"t.array.int8", Array([]int8{-1, 127})},
		{"t.array.uint16", Array([]uint16{1, 65535})},
		{"t.array.int16", Array([]int16{-2, 2})},
		{"t.array.uint32", Array([]uint32{4, math.MaxUint32})},
		{"t.array.int32", Int32Array([]int32{-5, 5, 0})},
		{"t.array.float32", Float32Array([]float32{0.5, -1.25, float32(math.Inf(1))})},
		{"t.array.bool", Array([]bool{true, false, true})},
		{"t.array.string", StringArray([]string{"<unk>", "", "<s>", "▁the"})},
		{"t.array.uint64", Array([]uint64{math.MaxUint64})},
		{"t.array.int64", Array([]int64{math.MinInt64, 1})},
		{"t.array.float64", Array([]float64{math.Pi})},
		{"t.array.empty.int32", Int32Array(nil)},
		{"t.array.empty.string", StringArray(nil)},
		{"t.array.empty.arrays", Arrays()},
		{"t.array.arrays", Arrays(
			StringArray([]string{"a", ""}),
			Array([]uint8{}),
			Arrays(Float32Array([]float32{2}), Arrays()),
			Array([]int64{-9}),
		)},
		{"", String("an empty key is legal")},
	}
}

func roundTripTensors() []WriterTensor {
	return []WriterTensor{
		{Name: "f32", Dims: []uint64{3, 2}, Type: F32, Data: pattern(24, 1)},
		{Name: "f16", Dims: []uint64{5}, Type: F16, Data: pattern(10, 2)},
		{Name: "q8_0", Dims: []uint64{64, 2}, Type: Q8_0, Data: pattern(4*34, 3)},
		{Name: "q4_k", Dims: []uint64{256}, Type: Q4_K, Data: pattern(144, 4)},
		{Name: "q6_k", Dims: []uint64{256, 1, 1, 2}, Type: Q6_K, Data: pattern(2*210, 5)},
		{Name: "bf16", Dims: []uint64{7, 1, 1}, Type: BF16, Data: pattern(14, 6)},
		{Name: "scalar", Dims: nil, Type: I32, Data: pattern(4, 7)},
	}
}

// sameValue compares values through their canonical encoding and type.
func sameValue(a, b Value) bool {
	ea, erra := appendValue(nil, a, 0)
	eb, errb := appendValue(nil, b, 0)
	return a.Type() == b.Type() && erra == nil && errb == nil && bytes.Equal(ea, eb)
}

func TestRoundTrip(t *testing.T) {
	kv, tensors := roundTripKV(), roundTripTensors()
	dir := t.TempDir()
	path := filepath.Join(dir, "rt.gguf")
	if err := WriteFile(path, kv, tensors); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only rt.gguf (no temp file left)", len(entries))
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	if f.Path != path || f.Version != 3 || f.Alignment != 64 {
		t.Errorf("path %q version %d alignment %d; want %q 3 64", f.Path, f.Version, f.Alignment, path)
	}
	if f.DataOffset%64 != 0 {
		t.Errorf("DataOffset %d not aligned to 64", f.DataOffset)
	}
	checkKV(t, f, kv)
	checkTensors(t, f, tensors, 64)

	// Spot checks through the typed accessors.
	if v, _ := f.Get("t.int8"); v.String() != "-128" {
		t.Errorf("t.int8 = %v", v)
	}
	if x, err := f.GetUint("t.uint64"); err != nil || x != math.MaxUint64 {
		t.Errorf("GetUint(t.uint64) = %d, %v", x, err)
	}
	if x, err := f.GetFloat("t.float32"); err != nil || x != float64(float32(1e-5)) {
		t.Errorf("GetFloat(t.float32) = %g, %v", x, err)
	}
	if s, err := f.GetString("t.string"); err != nil || s != "héllo\x00wörld ▁ 你好" {
		t.Errorf("GetString(t.string) = %q, %v", s, err)
	}
	if v, _ := f.Get("t.float64.nan"); !math.IsNaN(must(v.Float())) {
		t.Errorf("t.float64.nan = %v", v)
	}
	if v, _ := f.Get("t.array.arrays"); v.String() != `[["a", ""], [], [[2], []], [-9]]` {
		t.Errorf("t.array.arrays = %v", v)
	}
	if v, _ := f.Get("t.array.string"); !reflect.DeepEqual(must(v.Strings()), []string{"<unk>", "", "<s>", "▁the"}) {
		t.Errorf("t.array.string = %v", v)
	}

	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if d := f.TensorData(&f.Tensors[0]); d != nil {
		t.Errorf("TensorData after Close = %d bytes, want nil", len(d))
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func must[T any](x T, _ bool) T { return x }

func checkKV(t *testing.T, f *File, kv []KV) {
	t.Helper()
	if len(f.KV) != len(kv) {
		t.Fatalf("%d keys, want %d", len(f.KV), len(kv))
	}
	for i, want := range kv {
		got := f.KV[i]
		if got.Key != want.Key || !sameValue(got.Value, want.Value) {
			t.Errorf("KV[%d] = %q %s %v, want %q %s %v", i, got.Key, got.Value.Type(), got.Value,
				want.Key, want.Value.Type(), want.Value)
		}
		if v, ok := f.Get(want.Key); !ok || !sameValue(v, want.Value) {
			t.Errorf("Get(%q) = %v, %v", want.Key, v, ok)
		}
	}
}

func checkTensors(t *testing.T, f *File, tensors []WriterTensor, align uint64) {
	t.Helper()
	if len(f.Tensors) != len(tensors) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(tensors))
	}
	end := uint64(0)
	for i, want := range tensors {
		got, ok := f.Tensor(want.Name)
		if !ok || got != &f.Tensors[i] {
			t.Fatalf("Tensor(%q) = %v, %v; want Tensors[%d]", want.Name, got, ok, i)
		}
		if got.Type != want.Type || len(got.Dims) != len(want.Dims) ||
			(len(want.Dims) > 0 && !reflect.DeepEqual(got.Dims, want.Dims)) {
			t.Errorf("%s: %s %v, want %s %v", want.Name, got.Type, got.Dims, want.Type, want.Dims)
		}
		if got.Size != uint64(len(want.Data)) {
			t.Errorf("%s: size %d, want %d", want.Name, got.Size, len(want.Data))
		}
		if got.Offset%align != 0 || got.Offset < end {
			t.Errorf("%s: offset %d not aligned to %d or overlapping the previous tensor (ends at %d)",
				want.Name, got.Offset, align, end)
		}
		end = got.Offset + got.Size
		if data := f.TensorData(got); !bytes.Equal(data, want.Data) {
			t.Errorf("%s: TensorData differs (%d bytes, want %d)", want.Name, len(data), len(want.Data))
		}
	}
}

func TestEncodeVersion2AndDefaultAlignment(t *testing.T) {
	tensors := []WriterTensor{
		{Name: "a", Dims: []uint64{3}, Type: F32, Data: pattern(12, 0)},
		{Name: "b", Dims: []uint64{32}, Type: Q4_0, Data: pattern(18, 9)},
	}
	kv := []KV{{"general.name", String("v2")}}
	data := encode(t, 2, kv, tensors)
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 2 || f.Alignment != 32 || f.DataOffset%32 != 0 || f.Path != "" {
		t.Errorf("version %d alignment %d data offset %d path %q", f.Version, f.Alignment, f.DataOffset, f.Path)
	}
	checkKV(t, f, kv)
	checkTensors(t, f, tensors, 32)
	// The second tensor starts at the first multiple of 32 after the first,
	// and the file ends with the last tensor padded to the alignment.
	if f.Tensors[1].Offset != 32 || uint64(len(data)) != f.DataOffset+64 {
		t.Errorf("offset of b %d, file %d bytes (data at %d); want 32 and %d", f.Tensors[1].Offset, len(data),
			f.DataOffset, f.DataOffset+64)
	}
	if err := f.Close(); err != nil {
		t.Errorf("Close of a parsed File: %v", err)
	}
}

func TestEncodeEmpty(t *testing.T) {
	data := encode(t, 3, nil, nil)
	want := []byte("GGUF\x03\x00\x00\x00" + strings.Repeat("\x00", 16) + strings.Repeat("\x00", 8))
	if !bytes.Equal(data, want) {
		t.Errorf("empty file = %q, want %q (24-byte header padded to 32)", data, want)
	}
	f, err := Parse(data)
	if err != nil || len(f.KV) != 0 || len(f.Tensors) != 0 || f.DataOffset != 32 {
		t.Errorf("Parse(empty file) = %+v, %v", f, err)
	}
}

func TestEncodeErrors(t *testing.T) {
	ok := WriterTensor{Name: "ok", Dims: []uint64{2}, Type: F32, Data: make([]byte, 8)}
	tests := []struct {
		name    string
		version uint32
		kv      []KV
		tensors []WriterTensor
		want    string
	}{
		{"version 1", 1, nil, nil, "cannot write GGUF version 1"},
		{"duplicate key", 3, []KV{{"a", Uint8(1)}, {"a", Uint8(2)}}, nil, `key "a": duplicate key`},
		{"alignment type", 3, []KV{{"general.alignment", Int32(32)}}, nil, "general.alignment is INT32, want UINT32"},
		{"alignment zero", 3, []KV{{"general.alignment", Uint32(0)}}, nil, "general.alignment is 0, want a power of two"},
		{"alignment 48", 3, []KV{{"general.alignment", Uint32(48)}}, nil, "general.alignment is 48, want a power of two"},
		{"array of non-arrays", 3, []KV{{"x", Arrays(Uint8(1))}}, nil, "element 0 of an array of arrays is a UINT8"},
		{"nested too deep", 3, []KV{{"x", nested(maxNesting + 1)}}, nil, "arrays nested more than 16 deep"},
		{"data too short", 3, nil, []WriterTensor{{Name: "t", Dims: []uint64{4}, Type: F32, Data: make([]byte, 15)}},
			`tensor "t": data is 15 bytes, shape [4] of type F32 needs 16`},
		{"unknown type", 3, nil, []WriterTensor{{Name: "t", Dims: []uint64{4}, Type: 31, Data: nil}}, "unknown tensor type 31"},
		{"five dims", 3, nil, []WriterTensor{{Name: "t", Dims: []uint64{1, 1, 1, 1, 1}, Type: F32}}, "5 dimensions, at most 4"},
		{"zero dim", 3, nil, []WriterTensor{{Name: "t", Dims: []uint64{4, 0}, Type: F32}}, "dimension 1 is 0"},
		{"row not whole blocks", 3, nil, []WriterTensor{{Name: "t", Dims: []uint64{16}, Type: Q8_0}}, "not a multiple of the Q8_0 block size 32"},
		{"duplicate tensor", 3, nil, []WriterTensor{ok, ok}, `tensor "ok": duplicate tensor name`},
		{"empty name", 3, nil, []WriterTensor{{Dims: []uint64{1}, Type: I8, Data: []byte{1}}}, "empty tensor name"},
		{"long name", 3, nil, []WriterTensor{{Name: strings.Repeat("n", 64), Dims: []uint64{1}, Type: I8, Data: []byte{1}}},
			"name is 64 bytes, ggml allows at most 63"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Encode(&buf, tt.version, tt.kv, tt.tensors)
			if err == nil || !contains(err.Error(), tt.want) {
				t.Fatalf("Encode error = %v, want it to contain %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Encode wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

// nested is an array of arrays depth levels deep.
func nested(depth int) Value {
	v := Array([]uint8{})
	for range depth - 1 {
		v = Arrays(v)
	}
	return v
}

func TestNestingLimitRoundTrips(t *testing.T) {
	kv := []KV{{"deep", nested(maxNesting)}}
	f, err := Parse(encode(t, 3, kv, nil))
	if err != nil {
		t.Fatal(err)
	}
	checkKV(t, f, kv)
}

func TestWriteFileErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.gguf")
	err := WriteFile(path, []KV{{"general.alignment", Uint32(3)}}, nil)
	var e *Error
	if !errors.As(err, &e) || e.Path != path || !contains(err.Error(), "gguf: "+path+`: key "general.alignment": general.alignment is 3`) {
		t.Errorf("WriteFile error = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed WriteFile left %d files behind", len(entries))
	}
	err = WriteFile(filepath.Join(dir, "missing", "x.gguf"), nil, nil)
	if err == nil || !contains(err.Error(), "missing") {
		t.Errorf("WriteFile into a missing directory: %v", err)
	}
}

func TestWriteFileReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf")
	for _, name := range []string{"first", "second"} {
		if err := WriteFile(path, []KV{{"general.name", String(name)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if s, err := f.GetString("general.name"); s != "second" || err != nil {
		t.Errorf("general.name = %q, %v; want second", s, err)
	}
}

func TestGetterErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.gguf")
	kv := []KV{{"s", String("x")}, {"neg", Int32(-1)}, {"u", Uint32(5)}, {"f", Float32(0.5)}}
	if err := WriteFile(path, kv, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"missing", func() error { _, err := f.GetUint("llama.block_count"); return err },
			"gguf: " + path + `: key "llama.block_count": missing`},
		{"string as uint", func() error { _, err := f.GetUint("s"); return err }, `key "s": is STRING, want an integer`},
		{"negative as uint", func() error { _, err := f.GetUint("neg"); return err }, `key "neg": is INT32 -1, want a non-negative integer`},
		{"uint as string", func() error { _, err := f.GetString("u"); return err }, `key "u": is UINT32, want a STRING`},
		{"uint as float", func() error { _, err := f.GetFloat("u"); return err }, `key "u": is UINT32, want a float`},
		{"missing float", func() error { _, err := f.GetFloat("nope"); return err }, `key "nope": missing`},
		{"missing string", func() error { _, err := f.GetString("nope"); return err }, `key "nope": missing`},
	}
	for _, tt := range tests {
		if err := tt.call(); err == nil || !contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.want)
		}
	}
	if x, err := f.GetUint("u"); x != 5 || err != nil {
		t.Errorf("GetUint(u) = %d, %v", x, err)
	}
	if x, err := f.GetFloat("f"); x != 0.5 || err != nil {
		t.Errorf("GetFloat(f) = %g, %v", x, err)
	}
	if _, ok := f.Tensor("nope"); ok {
		t.Errorf("Tensor(nope) found")
	}
	if f.TensorData(nil) != nil {
		t.Errorf("TensorData(nil) != nil")
	}
}
