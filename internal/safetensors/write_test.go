package safetensors

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// roundTrips are valid tensor sets; they also seed FuzzParse.
var roundTrips = []struct {
	name     string
	tensors  []Tensor
	metadata map[string]string
}{
	{"empty", nil, nil},
	{"metadata only", nil, map[string]string{"format": "pt", "note": `quotes " and <html> & unicode ✓`}},
	{"one f32", []Tensor{{Name: "w", DType: F32, Shape: []int64{2, 3}, Data: f32s(0, 1, 2, 3, 4, 5)}}, nil},
	{"many dtypes", []Tensor{
		{Name: "model.embed_tokens.weight", DType: BF16, Shape: []int64{4, 3}, Data: seq(0, 24)},
		{Name: "model.norm.weight", DType: F16, Shape: []int64{3}, Data: seq(30, 6)},
		{Name: "lm_head.weight", DType: F32, Shape: []int64{4, 3}, Data: seq(40, 48)},
		{Name: "ids", DType: I64, Shape: []int64{2}, Data: seq(90, 16)},
		{Name: "f64", DType: F64, Shape: []int64{1}, Data: seq(110, 8)},
		{Name: "i32", DType: I32, Shape: []int64{1, 1}, Data: seq(120, 4)},
		{Name: "i16", DType: I16, Shape: []int64{3}, Data: seq(130, 6)},
		{Name: "mask", DType: BOOL, Shape: []int64{5}, Data: []byte{1, 0, 0, 1, 1}},
		{Name: "bytes", DType: U8, Shape: []int64{3}, Data: seq(140, 3)},
		{Name: "i8", DType: I8, Shape: []int64{1}, Data: seq(150, 1)},
		{Name: "scalar", DType: F32, Shape: []int64{}, Data: f32s(3.5)},
		{Name: "empty", DType: F32, Shape: []int64{0, 4}, Data: nil},
	}, map[string]string{"format": "pt", "step": "100"}},
}

func TestEncodeParseRoundTrip(t *testing.T) {
	for _, tc := range roundTrips {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, tc.tensors, tc.metadata); err != nil {
				t.Fatal(err)
			}
			raw := buf.Bytes()
			n := binary.LittleEndian.Uint64(raw)
			if (8+n)%8 != 0 {
				t.Errorf("data section starts at %d, not a multiple of 8", 8+n)
			}
			fields, err := objectFields(raw[8 : 8+n])
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, f := range fields {
				keys = append(keys, f.key)
			}
			if !slices.IsSorted(keys) {
				t.Errorf("header keys not sorted: %q", keys)
			}

			f, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Tensors) != len(tc.tensors) {
				t.Fatalf("%d tensors, want %d", len(f.Tensors), len(tc.tensors))
			}
			for _, want := range tc.tensors {
				got, ok := f.Tensor(want.Name)
				if !ok {
					t.Fatalf("tensor %q missing", want.Name)
				}
				if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
					t.Errorf("tensor %q = %s %v %v, want %s %v %v", want.Name, got.DType, got.Shape, got.Data, want.DType, want.Shape, want.Data)
				}
			}
			// Largest elements first, so each tensor is aligned to its element size.
			for i, tt := range f.Tensors {
				if start := 8 + int64(n) + f.offsets[i][0]; start%int64(tt.DType.Size()) != 0 {
					t.Errorf("tensor %q starts at %d, unaligned for %s", tt.Name, start, tt.DType)
				}
			}
			if len(f.Metadata) != len(tc.metadata) {
				t.Errorf("metadata %v, want %v", f.Metadata, tc.metadata)
			}
			for k, v := range tc.metadata {
				if f.Metadata[k] != v {
					t.Errorf("metadata[%q] = %q, want %q", k, f.Metadata[k], v)
				}
			}
		})
	}
}

// TestEncodeGolden compares whole files with the bytes the reference
// implementation's own tests expect for the same input.
func TestEncodeGolden(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tensors  []Tensor
		metadata map[string]string
		header   string // JSON before padding
		pad      int
		data     []byte
	}{
		{"empty", nil, nil, `{}`, 6, nil},
		{"metadata", nil, map[string]string{"framework": "pt"}, `{"__metadata__":{"framework":"pt"}}`, 5, nil},
		{"f32 [1,1,2,3]",
			[]Tensor{{Name: "attn0", DType: F32, Shape: []int64{1, 1, 2, 3}, Data: f32s(0, 1, 2, 3, 4, 5)}}, nil,
			`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}`, 7, f32s(0, 1, 2, 3, 4, 5)},
		{"data order by element size, then name",
			[]Tensor{
				{Name: "a", DType: U8, Shape: []int64{2}, Data: []byte{1, 2}},
				{Name: "c", DType: F16, Shape: []int64{1}, Data: []byte{3, 4}},
				{Name: "b", DType: F32, Shape: []int64{1}, Data: []byte{5, 6, 7, 8}},
			}, nil,
			`{"a":{"dtype":"U8","shape":[2],"data_offsets":[6,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"c":{"dtype":"F16","shape":[1],"data_offsets":[4,6]}}`,
			1, []byte{5, 6, 7, 8, 3, 4, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header := tc.header + strings.Repeat(" ", tc.pad)
			want := file(header, tc.data)
			var buf bytes.Buffer
			if err := Encode(&buf, tc.tensors, tc.metadata); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("Encode =\n%q\nwant\n%q", buf.Bytes(), want)
			}
		})
	}
}

func TestEncodeInvalid(t *testing.T) {
	ok := Tensor{Name: "ok", DType: F32, Shape: []int64{1}, Data: f32s(1)}
	for _, tc := range []struct {
		name    string
		tensors []Tensor
		tensor  string
		want    string
	}{
		{"length mismatch", []Tensor{ok, {Name: "w", DType: F32, Shape: []int64{2, 2}, Data: seq(0, 12)}}, "w", "has 12 data bytes, but shape [2 2] of F32 needs 16"},
		{"unknown dtype", []Tensor{{Name: "w", DType: "Q4_K", Shape: []int64{1}, Data: seq(0, 1)}}, "w", `unknown dtype "Q4_K"`},
		{"missing dtype", []Tensor{{Name: "w", Shape: []int64{1}, Data: seq(0, 1)}}, "w", `unknown dtype ""`},
		{"negative dimension", []Tensor{{Name: "w", DType: U8, Shape: []int64{2, -2}}}, "w", "negative dimension -2"},
		{"overflow", []Tensor{{Name: "w", DType: F64, Shape: []int64{1 << 31, 1 << 31}}}, "w", "overflows the element count"},
		{"duplicate", []Tensor{ok, ok}, "ok", "appears twice in the tensor list"},
		{"empty name", []Tensor{{DType: U8, Shape: []int64{1}, Data: seq(0, 1)}}, "", "empty tensor name"},
		{"reserved name", []Tensor{{Name: "__metadata__", DType: U8, Shape: []int64{1}, Data: seq(0, 1)}}, "__metadata__", "reserved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Encode(&buf, tc.tensors, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Encode error %v, want one containing %q", err, tc.want)
			}
			if e, ok := err.(*Error); !ok || e.Tensor != tc.tensor {
				t.Errorf("error %#v does not name tensor %q", err, tc.tensor)
			}
			if buf.Len() != 0 {
				t.Errorf("Encode wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	first := []Tensor{{Name: "w", DType: F32, Shape: []int64{2}, Data: f32s(1, 2)}}
	if err := WriteFile(path, first, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)

	bad := []Tensor{{Name: "w", DType: F32, Shape: []int64{3}, Data: f32s(1, 2)}}
	err := WriteFile(path, bad, nil)
	if err == nil || !strings.Contains(err.Error(), path+`: tensor "w": has 8 data bytes`) {
		t.Fatalf("WriteFile of a bad tensor: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("a failed WriteFile changed the existing file")
	}

	second := []Tensor{{Name: "v", DType: I8, Shape: []int64{1}, Data: []byte{7}}}
	if err := WriteFile(path, second, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v, ok := f.Tensor("v"); !ok || v.Data[0] != 7 || len(f.Tensors) != 1 {
		t.Errorf("after overwrite: %+v", f.Tensors)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %q, want only the file (no temporaries)", names)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
}
