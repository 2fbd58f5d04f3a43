package safetensors

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Encode writes tensors and metadata in the safetensors format. Header keys
// are sorted; the header is padded with spaces so the data section starts at
// a multiple of 8 bytes, and the data is ordered by element size (largest
// first), then name, so every tensor is aligned to its element size. Nothing
// is written when a tensor is invalid: an empty, reserved or repeated name,
// an unknown dtype, a negative dimension, or len(Data) != elements × size.
// Empty metadata is omitted.
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	return encode("", w, tensors, metadata)
}

// encode is Encode with the path used in error messages.
func encode(path string, w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header, order, err := buildHeader(tensors, metadata)
	if err != nil {
		err.Path = path
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	bw.Write(n[:])
	bw.Write(header)
	for _, i := range order {
		bw.Write(tensors[i].Data)
	}
	if err := bw.Flush(); err != nil { // bufio keeps the first write error
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	return nil
}

// headerEntry is one tensor of the JSON header.
type headerEntry struct {
	DType       DType    `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// buildHeader validates tensors and returns the padded JSON header and the
// order of the tensors' data.
func buildHeader(tensors []Tensor, metadata map[string]string) ([]byte, []int, *Error) {
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		fail := func(format string, args ...any) *Error {
			return &Error{Tensor: t.Name, Msg: fmt.Sprintf(format, args...)}
		}
		switch {
		case t.Name == "":
			return nil, nil, fail("empty tensor name")
		case t.Name == "__metadata__":
			return nil, nil, fail("the name is reserved for metadata")
		case seen[t.Name]:
			return nil, nil, fail("appears twice in the tensor list")
		case t.DType.Size() == 0:
			return nil, nil, fail("unknown dtype %q", t.DType)
		}
		seen[t.Name] = true
		for _, d := range t.Shape {
			if d < 0 {
				return nil, nil, fail("negative dimension %d in shape %v", d, t.Shape)
			}
		}
		nbytes, ok := byteCount(t.Shape, t.DType)
		if !ok {
			return nil, nil, fail("shape %v of %s overflows the element count", t.Shape, t.DType)
		}
		if int64(len(t.Data)) != nbytes {
			return nil, nil, fail("has %d data bytes, but shape %v of %s needs %d", len(t.Data), t.Shape, t.DType, nbytes)
		}
	}

	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ta, tb := tensors[a], tensors[b]
		return cmp.Or(cmp.Compare(tb.DType.Size(), ta.DType.Size()), cmp.Compare(ta.Name, tb.Name))
	})
	entries := make(map[string]any, len(tensors)+1) // encoding/json sorts the keys
	var offset int64
	for _, i := range order {
		t := tensors[i]
		shape := t.Shape
		if shape == nil {
			shape = []int64{} // a scalar: [] rather than null
		}
		end := offset + int64(len(t.Data))
		entries[t.Name] = headerEntry{t.DType, shape, [2]int64{offset, end}}
		offset = end
	}
	if len(metadata) > 0 {
		entries["__metadata__"] = metadata
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(entries); err != nil {
		return nil, nil, &Error{Msg: "encode header", Err: err}
	}
	header := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	for len(header)%8 != 0 {
		header = append(header, ' ')
	}
	return header, order, nil
}

// WriteFile writes tensors and metadata to path atomically: a crash leaves
// either the old file or the complete new one.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	return writeAtomic(path, func(w io.Writer) error { return encode(path, w, tensors, metadata) })
}

// ShardName is the file name of shard i (from 1) of n.
func ShardName(i, n int) string { return fmt.Sprintf("model-%05d-of-%05d.safetensors", i, n) }

// WriteSharded writes tensors into dir as a Hugging Face model directory:
// model.safetensors when their data fits in maxShardBytes (or maxShardBytes
// ≤ 0), otherwise shards named by ShardName plus model.safetensors.index.json.
// Shards are filled in the order of tensors, a new one started when the next
// tensor would overflow the current one; a tensor larger than maxShardBytes
// gets a shard of its own. Each file carries the metadata {"format": "pt"}
// that transformers expects. The index is written after the shards, and a
// stale model.safetensors or index from an earlier layout is removed, since
// readers would prefer it.
func WriteSharded(dir string, tensors []Tensor, maxShardBytes int64) error {
	metadata := map[string]string{"format": "pt"}
	if _, _, err := buildHeader(tensors, metadata); err != nil {
		err.Path = dir
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	var shards [][]Tensor
	var total, size int64
	for _, t := range tensors {
		n := int64(len(t.Data))
		if len(shards) == 0 || (maxShardBytes > 0 && size > 0 && size+n > maxShardBytes) {
			shards = append(shards, nil)
			size = 0
		}
		shards[len(shards)-1] = append(shards[len(shards)-1], t)
		size += n
		total += n
	}

	if len(shards) <= 1 {
		if err := WriteFile(filepath.Join(dir, SingleFileName), tensors, metadata); err != nil {
			return err
		}
		return removeStale(filepath.Join(dir, IndexFileName))
	}

	weightMap := map[string]string{}
	for i, shard := range shards {
		name := ShardName(i+1, len(shards))
		if err := WriteFile(filepath.Join(dir, name), shard, metadata); err != nil {
			return err
		}
		for _, t := range shard {
			weightMap[t.Name] = name
		}
	}
	type indexMetadata struct {
		TotalSize int64 `json:"total_size"`
	}
	raw, err := json.MarshalIndent(struct {
		Metadata  indexMetadata     `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}{indexMetadata{total}, weightMap}, "", "  ")
	if err != nil {
		return fmt.Errorf("safetensors: encode index: %w", err)
	}
	raw = append(raw, '\n')
	if err := writeAtomic(filepath.Join(dir, IndexFileName), func(w io.Writer) error {
		_, err := w.Write(raw)
		return err
	}); err != nil {
		return err
	}
	return removeStale(filepath.Join(dir, SingleFileName))
}

func removeStale(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("safetensors: removing a stale file: %w", err)
	}
	return nil
}

// writeAtomic writes a file through write into a temporary file in the same
// directory, syncs it and renames it over path.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("safetensors: sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("safetensors: close %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable where the system allows it; failure
// only weakens durability, so it is ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
