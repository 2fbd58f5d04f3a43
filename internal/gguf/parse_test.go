package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// baseFile is the small valid file the corrupt cases mutate.
func baseFile(t testing.TB) []byte {
	kv := []KV{
		{"general.architecture", String("llama")},
		{"general.alignment", Uint32(32)},
		{"x.one", Bool(true)},
		{"x.two", Int32Array([]int32{1, 2, 3})},
	}
	tensors := []WriterTensor{
		{Name: "t0", Dims: []uint64{4, 2}, Type: F32, Data: pattern(32, 1)}, // data at 0
		{Name: "t1", Dims: []uint64{32}, Type: Q8_0, Data: pattern(34, 2)},  // data at 32..66, padded to 96
	}
	return encode(t, 3, kv, tensors)
}

// at is the position of the first occurrence of s in b.
func at(b []byte, s string) int {
	i := bytes.Index(b, []byte(s))
	if i < 0 {
		panic("test file lacks " + s)
	}
	return i
}

type corruptCase struct {
	name string
	data []byte
	want string // phrase of the error; empty when the data is valid
	off  int64  // byte offset the error names; -1 for none
}

// corruptCases are mutations of baseFile, each with the error it must give.
func corruptCases(t testing.TB) []corruptCase {
	base := baseFile(t)
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(base)) }
	put32 := func(off int, v uint32) []byte {
		return edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b })
	}
	put64 := func(off int, v uint64) []byte {
		return edit(func(b []byte) []byte { binary.LittleEndian.PutUint64(b[off:], v); return b })
	}
	var (
		arch  = at(base, "llama")
		align = at(base, "general.alignment") // type at +17, value at +21
		one   = at(base, "x.one")             // type at +5, value at +9
		two   = at(base, "x.two")             // type at +5, element type at +9, count at +13
		t0    = at(base, "t0")                // n_dims at +2, dims at +6 and +14, type at +22, offset at +26
		t1    = at(base, "t1")                // n_dims at +2, dim at +6, type at +14, offset at +18
	)
	f, err := Parse(base)
	if err != nil {
		t.Fatalf("base file: %v", err)
	}
	dataOff := int(f.DataOffset)

	// A key holding arrays nested one level deeper than allowed.
	deep := []byte("GGUF\x03\x00\x00\x00")
	deep = binary.LittleEndian.AppendUint64(deep, 0)
	deep = binary.LittleEndian.AppendUint64(deep, 1)
	deep = appendString(deep, "deep")
	deep = binary.LittleEndian.AppendUint32(deep, uint32(TypeArray))
	for range maxNesting {
		deep = binary.LittleEndian.AppendUint32(deep, uint32(TypeArray))
		deep = binary.LittleEndian.AppendUint64(deep, 1)
	}
	deep = binary.LittleEndian.AppendUint32(deep, uint32(TypeUint8))
	deep = binary.LittleEndian.AppendUint64(deep, 0)

	hugeCounts := []byte("GGUF\x03\x00\x00\x00")
	hugeCounts = binary.LittleEndian.AppendUint64(hugeCounts, 1<<60)
	hugeCounts = binary.LittleEndian.AppendUint64(hugeCounts, 1<<60)

	return []corruptCase{
		{"valid", base, "", -1},
		{"overlapping tensors are allowed", put64(t1+18, 0), "", -1},
		{"truncated after the last tensor's data", base[:dataOff+66], "", -1},

		{"empty", nil, "unexpected EOF: magic needs 4 bytes, 0 left", 0},
		{"10 bytes", base[:10], "unexpected EOF: tensor_count needs 8 bytes, 2 left", 8},
		{"bad magic", edit(func(b []byte) []byte { copy(b, "GGML"); return b }), `not a GGUF file: starts with "GGML"`, 0},
		{"version 1", put32(4, 1), "GGUF version 1 is not supported", 4},
		{"version 99", put32(4, 99), "GGUF version 99 is not supported (only versions 2 and 3)", 4},
		{"big endian", put32(4, 3<<24), "looks byte-swapped", 4},
		{"huge tensor count", put64(8, 1<<60), "tensor_count 1152921504606846976 is too large", 8},
		{"huge kv count", put64(16, 1<<60), "kv_count 1152921504606846976 is too large", 16},
		{"huge counts in a bare header", hugeCounts, "kv_count 1152921504606846976 is too large", 16},
		{"huge key length", put64(24, 1<<62), `key #0: unexpected EOF: key is 4611686018427387904 bytes long`, 24},
		{"string longer than the file", put64(arch-8, 1000), `key "general.architecture": unexpected EOF: string value is 1000 bytes long, only`, int64(arch - 8)},
		{"unknown value type", put32(one+5, 13), `key "x.one": unknown value type 13`, int64(one + 5)},
		{"unknown array element type", put32(two+9, 42), `key "x.two": unknown array element type 42`, int64(two + 9)},
		{"huge array length", put64(two+13, 1<<40), `key "x.two": array length 1099511627776 is too large`, int64(two + 13)},
		{"bool not 0 or 1", edit(func(b []byte) []byte { b[one+9] = 2; return b }), "BOOL value is 2, want 0 or 1", int64(one + 9)},
		{"duplicate key", edit(func(b []byte) []byte { copy(b[two:], "x.one"); return b }), `key "x.one": duplicate key`, int64(two - 8)},
		{"nested too deep", deep, `key "deep": arrays nested more than 16 deep`, -1},
		{"alignment 0", put32(align+21, 0), "general.alignment is 0, want a power of two", int64(align + 21)},
		{"alignment 48", put32(align+21, 48), "general.alignment is 48, want a power of two", int64(align + 21)},
		{"alignment not UINT32", put32(align+17, uint32(TypeInt32)), "general.alignment is INT32, want UINT32", int64(align + 21)},
		{"offset off the alignment 64", put32(align+21, 64), `tensor "t1": data offset 32 is not a multiple of the alignment 64`, int64(t1 + 18)},
		{"huge tensor name length", put64(t0-8, 1<<50), `tensor #0: unexpected EOF: tensor name is 1125899906842624 bytes long`, int64(t0 - 8)},
		{"n_dims 5", put32(t0+2, 5), `tensor "t0": n_dims is 5, at most 4 allowed`, int64(t0 + 2)},
		{"zero dimension", put64(t0+14, 0), `tensor "t0": shape [4 0] of type F32: dimension 1 is 0`, int64(t0 + 2)},
		{"overflowing dimensions", edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[t0+6:], 1<<40)
			binary.LittleEndian.PutUint64(b[t0+14:], 1<<40)
			return b
		}), "overflow: more than 2^63-1 elements", int64(t0 + 2)},
		{"unknown tensor type", put32(t0+22, 31), `tensor "t0": unknown tensor type 31`, int64(t0 + 22)},
		{"row not whole blocks", put64(t1+6, 16), "row length 16 is not a multiple of the Q8_0 block size 32", int64(t1 + 2)},
		{"misaligned offset", put64(t1+18, 33), `tensor "t1": data offset 33 is not a multiple of the alignment 32`, int64(t1 + 18)},
		{"offset past the end", put64(t1+18, 1<<20), `tensor "t1": data at offset`, int64(t1 + 18)},
		{"offset overflowing", put64(t1+18, 1<<64-32), "runs past the end of the file", int64(t1 + 18)},
		{"data too big", put32(t1+14, uint32(F32)), `tensor "t1": data at offset`, int64(t1 + 18)},
		{"duplicate tensor name", edit(func(b []byte) []byte { b[t1+1] = '0'; return b }), `tensor "t0": duplicate tensor name`, int64(t1 - 8)},
		{"truncated tensor info", base[:t1+10], `tensor "t1": unexpected EOF: dimension needs 8 bytes, 4 left`, int64(t1 + 6)},
		{"truncated data", base[:dataOff+65], `tensor "t1": data at offset`, int64(t1 + 18)},
	}
}

func TestCorrupt(t *testing.T) {
	for _, c := range corruptCases(t) {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(c.data)
			if c.want == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				checkInBounds(t, f, c.data)
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q", c.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "gguf: offset ") {
				t.Errorf("error = %q, want it to contain %q", err, c.want)
			}
			if c.off >= 0 && e.Offset != c.off {
				t.Errorf("error offset = %d, want %d (%v)", e.Offset, c.off, err)
			}
		})
	}
}

// TestTruncated cuts the base file at every length: inside the header and
// tensor infos the error is an unexpected end (or a count the rest cannot
// hold), inside the data a tensor out of range; once the last tensor's data
// is whole the padding is not needed.
func TestTruncated(t *testing.T) {
	base := baseFile(t)
	f, _ := Parse(base)
	headerEnd := at(base, "t1") + 26 // end of the last tensor info
	dataEnd := int(f.DataOffset) + 32 + 34
	for n := range len(base) {
		_, err := Parse(base[:n])
		var want string
		switch {
		case n < headerEnd:
			if !errors.Is(err, io.ErrUnexpectedEOF) && (err == nil || !strings.Contains(err.Error(), "is too large")) {
				t.Errorf("cut at %d: %v, want an unexpected EOF or a too large count", n, err)
			}
			continue
		case n < dataEnd:
			want = "runs past the end of the file"
		}
		if want == "" && err != nil {
			t.Errorf("cut at %d (of %d): %v, want success", n, len(base), err)
		}
		if want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("cut at %d: %v, want %q", n, err, want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.gguf")
	b := baseFile(t)
	binary.LittleEndian.PutUint32(b[4:], 1)
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.gguf")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, want string
	}{
		{bad, "gguf: " + bad + ": offset 4: header: GGUF version 1 is not supported"},
		{empty, "gguf: " + empty + ": offset 0: header: unexpected EOF: magic needs 4 bytes, 0 left"},
		{filepath.Join(dir, "missing.gguf"), "gguf: " + filepath.Join(dir, "missing.gguf") + ": open: no such file"},
		{dir, "gguf: " + dir + ": map: not a regular file"},
	}
	for _, tt := range tests {
		f, err := Open(tt.path)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Open(%s) = %v, %v; want error %q", tt.path, f, err, tt.want)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing.gguf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file error %v does not wrap os.ErrNotExist", err)
	}
}

// checkInBounds asserts that every tensor's data is the slice of data its
// info describes.
func checkInBounds(t *testing.T, f *File, data []byte) {
	t.Helper()
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		d := f.TensorData(ti)
		start := f.DataOffset + ti.Offset
		if uint64(len(d)) != ti.Size || start+ti.Size > uint64(len(data)) || start+ti.Size < start {
			t.Fatalf("%s: %d bytes at %d+%d, size %d, file %d bytes", ti.Name, len(d), f.DataOffset, ti.Offset, ti.Size, len(data))
		}
		if len(d) > 0 && &d[0] != &data[start] {
			t.Fatalf("%s: TensorData is not the file's bytes at %d", ti.Name, start)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range corruptCases(f) {
		f.Add(c.data)
	}
	f.Add(encode(f, 3, roundTripKV(), roundTripTensors()))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			_ = err.Error()
			return
		}
		checkInBounds(t, file, data)
		for _, kv := range file.KV { // formatting and accessors must not panic either
			v := kv.Value
			_ = v.String()
			v.Ints()
			v.Int32s()
			v.Float32s()
			v.Strings()
		}
	})
}
