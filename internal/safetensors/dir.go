package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// File names of a Hugging Face model directory.
const (
	SingleFileName = "model.safetensors"
	IndexFileName  = "model.safetensors.index.json"
)

// Set is the tensors of a model directory, across one or more files.
type Set struct {
	Dir   string
	Files []*File // one per shard, in file-name order

	tensors map[string]Tensor
}

// index is model.safetensors.index.json. Its "metadata" (usually just
// "total_size") is not needed to read the shards.
type index struct {
	WeightMap map[string]string `json:"weight_map"` // tensor name → shard file name
}

// OpenDir opens the safetensors weights of a model directory: the shards
// listed by model.safetensors.index.json when that file exists, otherwise
// model.safetensors. Every tensor must be in exactly one shard, and in the
// shard the index names for it; a shard's tensors that the index does not
// list are still included. Shard names must stay inside dir.
func OpenDir(dir string) (*Set, error) {
	indexPath := filepath.Join(dir, IndexFileName)
	raw, err := os.ReadFile(indexPath)
	if errors.Is(err, fs.ErrNotExist) {
		f, err := Open(filepath.Join(dir, SingleFileName))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, &Error{Path: dir, Msg: "neither " + SingleFileName + " nor " + IndexFileName + " found", Err: err}
			}
			return nil, err
		}
		return newSet(dir, []*File{f}, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}

	var idx index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, &Error{Path: indexPath, Msg: "not a valid index", Err: err}
	}
	if len(idx.WeightMap) == 0 {
		return nil, &Error{Path: indexPath, Msg: `"weight_map" is missing or empty`}
	}
	// One shard name per file, each opened once, in name order.
	var shards []string
	for _, name := range slices.Sorted(maps.Keys(idx.WeightMap)) {
		shard := idx.WeightMap[name]
		if !filepath.IsLocal(shard) || filepath.Ext(shard) != ".safetensors" {
			return nil, &Error{Path: indexPath, Tensor: name, Msg: fmt.Sprintf("shard %q is not a .safetensors file inside the directory", shard)}
		}
		shard = filepath.Clean(shard)
		idx.WeightMap[name] = shard
		if !slices.Contains(shards, shard) {
			shards = append(shards, shard)
		}
	}
	slices.Sort(shards)
	files := make([]*File, 0, len(shards))
	for _, shard := range shards {
		f, err := Open(filepath.Join(dir, shard))
		if err != nil {
			closeAll(files)
			if errors.Is(err, fs.ErrNotExist) {
				return nil, &Error{Path: indexPath, Msg: fmt.Sprintf("shard %q is missing", shard), Err: err}
			}
			return nil, err
		}
		files = append(files, f)
	}
	return newSet(dir, files, &idx)
}

// newSet indexes the tensors of files, checking them against idx when given.
// On error it closes the files.
func newSet(dir string, files []*File, idx *index) (*Set, error) {
	s := &Set{Dir: dir, Files: files, tensors: map[string]Tensor{}}
	where := map[string]string{} // tensor name → path of its file
	for _, f := range files {
		for _, t := range f.Tensors {
			if other, dup := where[t.Name]; dup {
				closeAll(files)
				return nil, &Error{Path: dir, Tensor: t.Name, Msg: fmt.Sprintf("present in two shards, %s and %s", filepath.Base(other), filepath.Base(f.Path))}
			}
			where[t.Name] = f.Path
			s.tensors[t.Name] = t
		}
	}
	if idx != nil {
		for _, name := range slices.Sorted(maps.Keys(idx.WeightMap)) {
			shard := idx.WeightMap[name]
			if where[name] != filepath.Join(dir, shard) {
				closeAll(files)
				return nil, &Error{Path: filepath.Join(dir, shard), Tensor: name, Msg: "listed in " + IndexFileName + " for this shard, but the shard does not hold it"}
			}
		}
	}
	return s, nil
}

// Tensor returns the tensor called name from whichever file holds it.
func (s *Set) Tensor(name string) (Tensor, bool) {
	t, ok := s.tensors[name]
	return t, ok
}

// Names lists all tensor names in sorted order.
func (s *Set) Names() []string { return slices.Sorted(maps.Keys(s.tensors)) }

// Close closes every file of the set; tensors' Data become invalid.
func (s *Set) Close() error {
	s.tensors = nil
	err := closeAll(s.Files)
	s.Files = nil
	return err
}

func closeAll(files []*File) error {
	var errs []error
	for _, f := range files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}
