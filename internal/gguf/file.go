package gguf

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"flywheel/internal/mmap"
)

// Error is a problem with a GGUF file, or with a metadata value a caller
// asked for. Its message reads like
//
//	gguf: model.gguf: offset 1234: tensor "output.weight": unknown tensor type 99
type Error struct {
	Path   string // the file; empty when parsing bytes
	Offset int64  // byte offset of the problem; -1 when it is not about a place in the file
	Where  string // the part being read: `header`, `key "general.name"`, `tensor "output.weight"`
	Err    error  // what is wrong; io.ErrUnexpectedEOF (wrapped) when the data ends too soon
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("gguf: ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, "offset %d: ", e.Offset)
	}
	if e.Where != "" {
		b.WriteString(e.Where + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// File is a parsed GGUF file. Tensor data stays in the file's bytes (a
// read-only memory mapping when opened with Open) until Close.
type File struct {
	Path       string // empty when parsed from bytes
	Version    uint32
	Alignment  uint64 // of the data section and of every tensor's offset
	KV         []KV   // metadata, in file order
	Tensors    []TensorInfo
	DataOffset uint64 // absolute offset of the data section

	data    []byte
	release func() error   // unmaps the file; nil for Parse
	keys    map[string]int // key → index in KV
	names   map[string]int // tensor name → index in Tensors
}

// Open reads the GGUF file at path. On unix systems the file is memory-mapped
// read-only, so opening a large model is cheap and its tensor data is paged in
// on use; elsewhere it is read into memory. Call Close when done with the
// tensor data.
func Open(path string) (*File, error) {
	mf, err := mmap.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) { // the path is in our prefix already
			err = fmt.Errorf("%s: %w", pe.Op, pe.Err)
		}
		return nil, &Error{Path: path, Offset: -1, Err: err}
	}
	data, release := mf.Data, mf.Close
	f, err := Parse(data)
	if err != nil {
		if release != nil {
			release()
		}
		var e *Error
		if errors.As(err, &e) {
			e.Path = path
		}
		return nil, err
	}
	f.Path = path
	f.release = release
	return f, nil
}

// Close releases the file's memory mapping. Metadata and tensor infos stay
// valid; TensorData returns nil afterwards.
func (f *File) Close() error {
	f.data = nil
	release := f.release
	f.release = nil
	if release == nil {
		return nil
	}
	if err := release(); err != nil {
		return &Error{Path: f.Path, Offset: -1, Err: fmt.Errorf("unmapping: %w", err)}
	}
	return nil
}

func (f *File) index() {
	f.keys = make(map[string]int, len(f.KV))
	for i, kv := range f.KV {
		f.keys[kv.Key] = i
	}
	f.names = make(map[string]int, len(f.Tensors))
	for i, t := range f.Tensors {
		f.names[t.Name] = i
	}
}

// Get is the value of a metadata key.
func (f *File) Get(key string) (Value, bool) {
	i, ok := f.keys[key]
	if !ok {
		return Value{}, false
	}
	return f.KV[i].Value, true
}

// Tensor is the info of the tensor called name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.names[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// TensorData is the bytes of a tensor: a slice of the file's mapping, not a
// copy, valid until Close; it must not be modified. It is nil after Close or
// when t does not lie inside the file.
func (f *File) TensorData(t *TensorInfo) []byte {
	if t == nil {
		return nil
	}
	start := f.DataOffset + t.Offset
	end := start + t.Size
	if start < f.DataOffset || end < start || end > uint64(len(f.data)) {
		return nil
	}
	return f.data[start:end:end]
}

// GetString is the STRING value of key, or an error naming the file and key.
func (f *File) GetString(key string) (string, error) {
	v, err := f.lookup(key)
	if err != nil {
		return "", err
	}
	s, ok := v.Str()
	if !ok {
		return "", f.keyError(key, "is %s, want a STRING", v.Type())
	}
	return s, nil
}

// GetUint is the value of an integer key that is not negative, or an error
// naming the file and key.
func (f *File) GetUint(key string) (uint64, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	x, ok := v.Uint()
	if !ok {
		if v.Type().integer() {
			return 0, f.keyError(key, "is %s %s, want a non-negative integer", v.Type(), v)
		}
		return 0, f.keyError(key, "is %s, want an integer", v.Type())
	}
	return x, nil
}

// GetFloat is the value of a FLOAT32 or FLOAT64 key, or an error naming the
// file and key.
func (f *File) GetFloat(key string) (float64, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	x, ok := v.Float()
	if !ok {
		return 0, f.keyError(key, "is %s, want a float", v.Type())
	}
	return x, nil
}

func (f *File) lookup(key string) (Value, error) {
	v, ok := f.Get(key)
	if !ok {
		return Value{}, f.keyError(key, "missing")
	}
	return v, nil
}

func (f *File) keyError(key, format string, args ...any) error {
	return &Error{Path: f.Path, Offset: -1, Where: fmt.Sprintf("key %q", key), Err: fmt.Errorf(format, args...)}
}
