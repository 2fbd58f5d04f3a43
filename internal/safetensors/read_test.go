package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// file assembles a safetensors file from a header text and a data section,
// without padding, so tests control every byte.
func file(header string, data []byte) []byte {
	return withLength(uint64(len(header)), header, data)
}

// withLength is file with an arbitrary header length field.
func withLength(n uint64, header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, n)
	b = append(b, header...)
	return append(b, data...)
}

func f32s(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// seq is n bytes counting from start, so every tensor's data is distinct.
func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// corrupt is the table of malformed files; it also seeds FuzzParse.
var corrupt = []struct {
	name   string
	data   []byte
	tensor string // the tensor the error must name, if any
	want   string // phrase the error must contain
}{
	{"empty file", nil, "", "truncated: 0 bytes"},
	{"7 bytes", []byte{1, 2, 3, 4, 5, 6, 7}, "", "truncated: 7 bytes"},
	{"absurd header length", withLength(1<<40, "{}", nil), "", "header length 1099511627776 exceeds the limit"},
	{"max uint64 header length", withLength(math.MaxUint64, "{}", nil), "", "exceeds the limit"},
	{"header longer than file", withLength(100, "{}", nil), "", "header length 100 exceeds the 2 bytes after the length field"},
	{"header not JSON", file("{not json}", nil), "", "header is not valid JSON"},
	{"header cut short", file(`{"a":{"dtype":"F32"`, nil), "", "header is not valid JSON"},
	{"header is a list", file("[1,2]", nil), "", "header is not a JSON object"},
	{"header is null", file("null", nil), "", "header is not a JSON object"},
	{"header is a string", file(`"{}"`, nil), "", "header is not a JSON object"},
	{"empty header", file("", nil), "", "header is not valid JSON"},
	{"bytes after the header object", file("{} x", nil), "", "unexpected bytes after the closing brace"},
	{"two header objects", file("{}{}", nil), "", "unexpected bytes after the closing brace"},
	{"header not UTF-8", file("{\"\xff\":1}", nil), "", "not valid UTF-8"},
	{"entry not an object", file(`{"a":5}`, nil), "a", "header entry is not a JSON object"},
	{"entry null", file(`{"a":null}`, nil), "a", "header entry is not a JSON object"},
	{"missing dtype", file(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, seq(0, 4)), "a", `missing "dtype"`},
	{"missing shape", file(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, seq(0, 4)), "a", `missing "shape"`},
	{"missing data_offsets", file(`{"a":{"dtype":"F32","shape":[1]}}`, seq(0, 4)), "a", `missing "data_offsets"`},
	{"unknown dtype", file(`{"w":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}}`, seq(0, 4)), "w", `unknown dtype "F99"`},
	{"lower-case dtype", file(`{"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, seq(0, 4)), "w", `unknown dtype "f32"`},
	{"dtype not a string", file(`{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, seq(0, 4)), "w", "dtype 4 is not a string"},
	{"shape not a list", file(`{"w":{"dtype":"F32","shape":3,"data_offsets":[0,12]}}`, seq(0, 12)), "w", "shape 3 is not a list of integers"},
	{"shape null", file(`{"w":{"dtype":"F32","shape":null,"data_offsets":[0,4]}}`, seq(0, 4)), "w", "shape null is not a list of integers"},
	{"fractional dimension", file(`{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, seq(0, 4)), "w", "is not a list of integers"},
	{"negative dimension", file(`{"w":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,0]}}`, nil), "w", "negative dimension -1 in shape [-1 4]"},
	{"element count overflow", file(`{"w":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil), "w", "overflows the element count"},
	{"byte count overflow", file(`{"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}`, nil), "w", "overflows the element count"},
	{"dimension beyond int64", file(`{"w":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,0]}}`, nil), "w", "is not a list of integers"},
	{"shape and offsets disagree", file(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, seq(0, 8)), "w", "data_offsets [0, 8] hold 8 bytes, but shape [3] of F32 needs 12"},
	{"offsets beyond data", file(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, seq(0, 8)), "w", "data_offsets [0, 16] out of range: the data section is 8 bytes"},
	{"offsets reversed", file(`{"w":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}}`, seq(0, 8)), "w", "out of range"},
	{"negative offset", file(`{"w":{"dtype":"U8","shape":[4],"data_offsets":[-4,0]}}`, seq(0, 8)), "w", "out of range"},
	{"three offsets", file(`{"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4,8]}}`, seq(0, 8)), "w", "is not a list of two integers"},
	{"offsets not a list", file(`{"w":{"dtype":"U8","shape":[4],"data_offsets":"0-4"}}`, seq(0, 4)), "w", "is not a list of two integers"},
	{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, seq(0, 12)), "b", `data_offsets [4, 12] overlap tensor "a", which ends at 8`},
	{"same range twice", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, seq(0, 4)), "b", `overlap tensor "a"`},
	{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, seq(0, 12)), "b", "leave a gap of 4 bytes after the previous tensor, which ends at 4"},
	{"gap at start", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, seq(0, 8)), "a", "leave a gap of 4 bytes"},
	{"trailing bytes", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, seq(0, 8)), "", "4 trailing bytes after the last tensor, which ends at 4"},
	{"data but no tensors", file(`{}`, seq(0, 3)), "", "3 trailing bytes"},
	{"duplicate name", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, seq(0, 2)), "a", "appears twice in the header"},
	{"duplicate field", file(`{"a":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}}`, seq(0, 1)), "a", `key "dtype" appears twice`},
	{"empty name", file(`{"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, seq(0, 1)), "", "empty tensor name"},
	{"metadata with a number", file(`{"__metadata__":{"format":1}}`, nil), "", `"__metadata__" must be an object of strings`},
	{"metadata a list", file(`{"__metadata__":["pt"]}`, nil), "", `"__metadata__" must be an object of strings`},
}

func TestParseCorrupt(t *testing.T) {
	for _, tc := range corrupt {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.data)
			if err == nil {
				t.Fatalf("Parse succeeded with %d tensors, want error containing %q", len(f.Tensors), tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if e.Tensor != tc.tensor {
				t.Errorf("error names tensor %q, want %q", e.Tensor, tc.tensor)
			}
		})
	}
}

func TestOpenCorruptNamesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	if err := os.WriteFile(path, file(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, seq(0, 8)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	want := `safetensors: ` + path + `: tensor "w": data_offsets [0, 8] hold 8 bytes, but shape [3] of F32 needs 12`
	if err == nil || err.Error() != want {
		t.Fatalf("Open error = %v\nwant %s", err, want)
	}

	if _, err := Open(filepath.Join(t.TempDir(), "absent.safetensors")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing file: %v, want fs.ErrNotExist", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.safetensors")
	os.WriteFile(empty, nil, 0o644)
	if _, err := Open(empty); err == nil || !strings.Contains(err.Error(), empty+": truncated: 0 bytes") {
		t.Errorf("Open of an empty file: %v", err)
	}
}

// TestParseValid covers legal files that Encode does not produce: unpadded
// headers, header order different from data order, zero-size tensors,
// scalars, a null metadata object, white space around the header.
func TestParseValid(t *testing.T) {
	header := ` {"b":{"shape":[2],"dtype":"I16","data_offsets":[4,8]},
		"__metadata__":null,
		"z":{"dtype":"F32","shape":[0,3],"data_offsets":[8,8]},
		"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},
		"y":{"dtype":"BF16","shape":[1,0],"data_offsets":[8,8], "extra": "ignored"}}   `
	data := seq(10, 8)
	f, err := Parse(file(header, data))
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		name  string
		dtype DType
		shape []int64
		data  []byte
	}
	want := []got{
		{"a", F32, []int64{}, data[0:4]},
		{"b", I16, []int64{2}, data[4:8]},
		{"y", BF16, []int64{1, 0}, []byte{}},
		{"z", F32, []int64{0, 3}, []byte{}},
	}
	if len(f.Tensors) != len(want) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(want))
	}
	for i, w := range want {
		tt := f.Tensors[i]
		if tt.Name != w.name || tt.DType != w.dtype || !slices.Equal(tt.Shape, w.shape) || !bytes.Equal(tt.Data, w.data) {
			t.Errorf("tensor %d = %s %s %v %v, want %s %s %v %v", i, tt.Name, tt.DType, tt.Shape, tt.Data, w.name, w.dtype, w.shape, w.data)
		}
		if got, ok := f.Tensor(w.name); !ok || got.Name != w.name {
			t.Errorf("Tensor(%q) = %v, %v", w.name, got.Name, ok)
		}
	}
	if f.Metadata != nil {
		t.Errorf("Metadata = %v, want nil", f.Metadata)
	}
	if a, _ := f.Tensor("a"); a.Elements() != 1 {
		t.Errorf("scalar has %d elements, want 1", a.Elements())
	}
	if _, ok := f.Tensor("missing"); ok {
		t.Error("Tensor(missing) found")
	}
	// Data is capped: appending must not write into the next tensor.
	a, _ := f.Tensor("a")
	_ = append(a.Data, 0xEE)
	if b, _ := f.Tensor("b"); b.Data[0] != 14 {
		t.Errorf("append to a.Data changed b to %v", b.Data)
	}
}

func TestElements(t *testing.T) {
	for _, tc := range []struct {
		shape []int64
		want  int64
	}{
		{nil, 1},
		{[]int64{3, 4, 5}, 60},
		{[]int64{7, 0}, 0},
		{[]int64{-1}, -1},
		{[]int64{1 << 32, 1 << 31}, -1},
		{[]int64{0, 1 << 62, 1 << 62}, 0},
	} {
		if got := (Tensor{Shape: tc.shape}).Elements(); got != tc.want {
			t.Errorf("Elements(%v) = %d, want %d", tc.shape, got, tc.want)
		}
	}
}

func TestOpenMapsAndCloses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	w := Tensor{Name: "w", DType: F32, Shape: []int64{2, 2}, Data: f32s(1, 2, 3, 4)}
	if err := WriteFile(path, []Tensor{w}, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := f.Tensor("w")
	if !ok || !reflect.DeepEqual(got, w) {
		t.Errorf("Tensor(w) = %+v, want %+v", got, w)
	}
	if f.Path != path || f.Metadata["format"] != "pt" {
		t.Errorf("Path %q, Metadata %v", f.Path, f.Metadata)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, ok := f.Tensor("w"); ok {
		t.Error("Tensor found after Close")
	}
}

// FuzzParse checks that no input panics and that an accepted file's tensors
// are exactly what the header promises: each Data is the right length, lies
// in the input at its offsets, and the tensors tile the data section. An
// accepted file also survives Encode → Parse unchanged.
func FuzzParse(f *testing.F) {
	for _, tc := range corrupt {
		f.Add(tc.data)
	}
	for _, tc := range roundTrips {
		var buf bytes.Buffer
		if err := Encode(&buf, tc.tensors, tc.metadata); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			return
		}
		start := 8 + int64(binary.LittleEndian.Uint64(data))
		var end int64
		for i, tt := range file.Tensors {
			o := file.offsets[i]
			if o[0] != end {
				t.Fatalf("tensor %q begins at %d, previous ended at %d", tt.Name, o[0], end)
			}
			end = o[1]
			if want := tt.Elements() * int64(tt.DType.Size()); int64(len(tt.Data)) != want || o[1]-o[0] != want {
				t.Fatalf("tensor %q: %d data bytes, offsets %v, want %d", tt.Name, len(tt.Data), o, want)
			}
			if start+o[1] > int64(len(data)) {
				t.Fatalf("tensor %q: offsets %v beyond %d bytes", tt.Name, o, len(data))
			}
			if len(tt.Data) > 0 && &tt.Data[0] != &data[start+o[0]] {
				t.Fatalf("tensor %q: Data is not the input at offset %d", tt.Name, start+o[0])
			}
		}
		if start+end != int64(len(data)) {
			t.Fatalf("tensors end at %d, file at %d", start+end, len(data))
		}

		var buf bytes.Buffer
		if err := Encode(&buf, file.Tensors, file.Metadata); err != nil {
			t.Fatalf("Encode of a parsed file: %v", err)
		}
		again, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("Parse of re-encoded file: %v", err)
		}
		if len(again.Tensors) != len(file.Tensors) || len(again.Metadata) != len(file.Metadata) {
			t.Fatalf("re-encoded file has %d tensors and %d metadata", len(again.Tensors), len(again.Metadata))
		}
		for _, tt := range file.Tensors {
			got, ok := again.Tensor(tt.Name)
			if !ok || got.DType != tt.DType || !slices.Equal(got.Shape, tt.Shape) || !bytes.Equal(got.Data, tt.Data) {
				t.Fatalf("tensor %q changed in re-encoding", tt.Name)
			}
		}
	})
}
