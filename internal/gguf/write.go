package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// maxNameLen is ggml's limit on tensor names (GGML_MAX_NAME, 64, counts the
// terminating NUL); llama.cpp refuses files with longer names.
const maxNameLen = 63

// WriterTensor is a tensor to write.
type WriterTensor struct {
	Name string
	Dims []uint64 // ggml order: Dims[0] is the row length
	Type TensorType
	Data []byte // exactly the size Dims and Type imply
}

// Encode writes a GGUF file of the given version (2 or 3, the same layout
// for little-endian files). The data section and every tensor are aligned to
// general.alignment (a UINT32) when kv holds it, else to 32; tensors are laid
// out in order. Everything is checked before the first byte is written.
func Encode(w io.Writer, version uint32, kv []KV, tensors []WriterTensor) error {
	if version != 2 && version != 3 {
		return &Error{Offset: -1, Where: "header", Err: fmt.Errorf("cannot write GGUF version %d, only 2 and 3", version)}
	}
	align, err := writeAlignment(kv)
	if err != nil {
		return err
	}
	header, err := encodeHeader(version, kv, tensors, align)
	if err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	return writeData(w, tensors, align)
}

// encodeHeader validates and encodes everything before the data section,
// padding included.
func encodeHeader(version uint32, kv []KV, tensors []WriterTensor, align uint64) ([]byte, error) {
	le := binary.LittleEndian
	b := []byte(magic)
	b = le.AppendUint32(b, version)
	b = le.AppendUint64(b, uint64(len(tensors)))
	b = le.AppendUint64(b, uint64(len(kv)))
	b, err := appendMetadata(b, kv)
	if err != nil {
		return nil, err
	}
	if b, err = appendTensorInfos(b, tensors, align); err != nil {
		return nil, err
	}
	return append(b, make([]byte, alignUp(uint64(len(b)), align)-uint64(len(b)))...), nil
}

// writeAlignment is the alignment kv asks for.
func writeAlignment(kv []KV) (uint64, error) {
	for _, e := range kv {
		if e.Key == alignmentKey {
			a, err := alignment(e.Value)
			if err != nil {
				return 0, &Error{Offset: -1, Where: fmt.Sprintf("key %q", e.Key), Err: err}
			}
			return a, nil
		}
	}
	return defaultAlignment, nil
}

func appendMetadata(b []byte, kv []KV) ([]byte, error) {
	seen := make(map[string]bool, len(kv))
	for _, e := range kv {
		fail := func(err error) error {
			return &Error{Offset: -1, Where: fmt.Sprintf("key %q", e.Key), Err: err}
		}
		if seen[e.Key] {
			return nil, fail(errors.New("duplicate key"))
		}
		seen[e.Key] = true
		b = appendString(b, e.Key)
		b = binary.LittleEndian.AppendUint32(b, uint32(e.Value.typ))
		var err error
		if b, err = appendValue(b, e.Value, 0); err != nil {
			return nil, fail(err)
		}
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue appends a value without its type tag.
func appendValue(b []byte, v Value, depth int) ([]byte, error) {
	switch v.typ {
	case TypeString:
		return appendString(b, v.str), nil
	case TypeArray:
		return appendArray(b, v, depth)
	}
	return appendScalar(b, v), nil
}

func appendArray(b []byte, v Value, depth int) ([]byte, error) {
	if depth >= maxNesting {
		return nil, fmt.Errorf("arrays nested more than %d deep", maxNesting)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(v.elem))
	b = binary.LittleEndian.AppendUint64(b, uint64(v.Len()))
	switch v.elem {
	case TypeString:
		for _, s := range v.strs {
			b = appendString(b, s)
		}
	case TypeArray:
		for i, e := range v.arrs {
			if e.typ != TypeArray {
				return nil, fmt.Errorf("element %d of an array of arrays is a %s", i, e.typ)
			}
			var err error
			if b, err = appendArray(b, e, depth+1); err != nil {
				return nil, err
			}
		}
	default:
		b = append(b, v.raw...)
	}
	return b, nil
}

// appendTensorInfos checks the tensors and appends their infos, laying the
// data out in order, each tensor at the next multiple of align.
func appendTensorInfos(b []byte, tensors []WriterTensor, align uint64) ([]byte, error) {
	le := binary.LittleEndian
	seen := make(map[string]bool, len(tensors))
	offset := uint64(0)
	for _, t := range tensors {
		fail := func(format string, args ...any) error {
			return &Error{Offset: -1, Where: fmt.Sprintf("tensor %q", t.Name), Err: fmt.Errorf(format, args...)}
		}
		switch {
		case t.Name == "":
			return nil, fail("empty tensor name")
		case len(t.Name) > maxNameLen:
			return nil, fail("name is %d bytes, ggml allows at most %d", len(t.Name), maxNameLen)
		case seen[t.Name]:
			return nil, fail("duplicate tensor name")
		}
		seen[t.Name] = true
		size, err := tensorSize(t.Dims, t.Type)
		if err != nil {
			return nil, fail("shape %v of type %s: %w", t.Dims, t.Type, err)
		}
		if uint64(len(t.Data)) != size {
			return nil, fail("data is %d bytes, shape %v of type %s needs %d", len(t.Data), t.Dims, t.Type, size)
		}
		b = appendString(b, t.Name)
		b = le.AppendUint32(b, uint32(len(t.Dims)))
		for _, d := range t.Dims {
			b = le.AppendUint64(b, d)
		}
		b = le.AppendUint32(b, uint32(t.Type))
		b = le.AppendUint64(b, offset)
		offset = alignUp(offset+size, align)
	}
	return b, nil
}

// writeData writes each tensor's data followed by zeros up to the alignment.
func writeData(w io.Writer, tensors []WriterTensor, align uint64) error {
	var zeros [256]byte
	for _, t := range tensors {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
		for pad := alignUp(uint64(len(t.Data)), align) - uint64(len(t.Data)); pad > 0; {
			n := min(pad, uint64(len(zeros)))
			if _, err := w.Write(zeros[:n]); err != nil {
				return err
			}
			pad -= n
		}
	}
	return nil
}

// WriteFile writes a GGUF version 3 file atomically: into a temporary file
// in the same directory, synced, then renamed over path, so a crash leaves
// either the old file or the complete new one.
func WriteFile(path string, kv []KV, tensors []WriterTensor) (err error) {
	fail := func(err error) error {
		var e *Error
		if errors.As(err, &e) {
			e.Path = path
			return e
		}
		return &Error{Path: path, Offset: -1, Err: err}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := Encode(bw, 3, kv, tensors); err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fail(err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable where the system supports it; it is
// best effort, the file itself is already synced.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
