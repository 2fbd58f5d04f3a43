package tokenizer

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// This file holds a test-only reader of the metadata section of a GGUF file
// (magic, version, tensor count, KV pairs) and the Metadata adapter over it,
// so the tests need no other package.

// ggufMeta is the metadata of a GGUF file, values as decoded by readGGUFMeta.
type ggufMeta map[string]any

func (m ggufMeta) String(key string) (string, bool) { v, ok := m[key].(string); return v, ok }
func (m ggufMeta) Strings(key string) ([]string, bool) {
	v, ok := m[key].([]string)
	return v, ok
}
func (m ggufMeta) Float32s(key string) ([]float32, bool) {
	v, ok := m[key].([]float32)
	return v, ok
}
func (m ggufMeta) Int32s(key string) ([]int32, bool) { v, ok := m[key].([]int32); return v, ok }
func (m ggufMeta) Bool(key string) (bool, bool)      { v, ok := m[key].(bool); return v, ok }
func (m ggufMeta) Bytes(key string) ([]byte, bool)   { v, ok := m[key].([]byte); return v, ok }
func (m ggufMeta) Uint(key string) (uint64, bool) {
	switch v := m[key].(type) {
	case uint8:
		return uint64(v), true
	case uint16:
		return uint64(v), true
	case uint32:
		return uint64(v), true
	case uint64:
		return v, true
	case int8:
		return uint64(v), v >= 0
	case int16:
		return uint64(v), v >= 0
	case int32:
		return uint64(v), v >= 0
	case int64:
		return uint64(v), v >= 0
	}
	return 0, false
}

type ggufReader struct {
	b   []byte
	off int
	err error
}

func (r *ggufReader) take(n int) []byte {
	if r.err != nil {
		return make([]byte, n)
	}
	if n < 0 || len(r.b)-r.off < n {
		r.err = fmt.Errorf("byte offset %d: truncated (want %d bytes)", r.off, n)
		return make([]byte, max(n, 0))
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}
func (r *ggufReader) u32() uint32 { return binary.LittleEndian.Uint32(r.take(4)) }
func (r *ggufReader) u64() uint64 { return binary.LittleEndian.Uint64(r.take(8)) }
func (r *ggufReader) str() string {
	n := r.u64()
	if n > uint64(len(r.b)) {
		r.err = fmt.Errorf("byte offset %d: string length %d too large", r.off, n)
		return ""
	}
	return string(r.take(int(n)))
}

func (r *ggufReader) scalar(typ uint32) any {
	switch typ {
	case 0:
		return r.take(1)[0]
	case 1:
		return int8(r.take(1)[0])
	case 2:
		return binary.LittleEndian.Uint16(r.take(2))
	case 3:
		return int16(binary.LittleEndian.Uint16(r.take(2)))
	case 4:
		return r.u32()
	case 5:
		return int32(r.u32())
	case 6:
		return math.Float32frombits(r.u32())
	case 7:
		return r.take(1)[0] != 0
	case 8:
		return r.str()
	case 10:
		return r.u64()
	case 11:
		return int64(r.u64())
	case 12:
		return math.Float64frombits(r.u64())
	}
	r.err = fmt.Errorf("byte offset %d: unknown value type %d", r.off, typ)
	return nil
}

func (r *ggufReader) value(typ uint32) any {
	if typ != 9 {
		return r.scalar(typ)
	}
	et, n := r.u32(), r.u64()
	if n > uint64(len(r.b)) {
		r.err = fmt.Errorf("byte offset %d: array length %d too large", r.off, n)
		return nil
	}
	switch et {
	case 8:
		v := make([]string, n)
		for i := range v {
			v[i] = r.str()
		}
		return v
	case 6:
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(r.u32())
		}
		return v
	case 5:
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(r.u32())
		}
		return v
	}
	v := make([]any, n)
	for i := range v {
		v[i] = r.scalar(et)
	}
	return v
}

func readGGUFMeta(path string) (ggufMeta, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &ggufReader{b: b}
	if string(r.take(4)) != "GGUF" {
		return nil, fmt.Errorf("%s: not a GGUF file", path)
	}
	r.u32() // version
	r.u64() // tensor count
	nkv := r.u64()
	m := ggufMeta{}
	for i := uint64(0); i < nkv && r.err == nil; i++ {
		k := r.str()
		m[k] = r.value(r.u32())
	}
	if r.err != nil {
		return nil, fmt.Errorf("%s: %w", path, r.err)
	}
	return m, nil
}

// testdata returns the path of a shared test file, skipping the test when it
// is absent (failing when CI is set).
func testdata(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "testdata", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("missing shared test data %s: %v", p, err)
		}
		t.Skipf("missing shared test data %s (clone ../shared next to the repository)", p)
	}
	return p
}

// loadGGUFTokenizer builds the tokenizer of a GGUF file from the shared test data.
func loadGGUFTokenizer(t testing.TB, rel string) *Tokenizer {
	t.Helper()
	md, err := readGGUFMeta(testdata(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := FromMetadata(md)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func loadLlama2CTokenizer(t testing.TB) *Tokenizer {
	t.Helper()
	tok, err := LoadLlama2C(testdata(t, "models/stories260K/tok512.bin"), 512)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
