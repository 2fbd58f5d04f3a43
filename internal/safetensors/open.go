package safetensors

import (
	"fmt"

	"flywheel/internal/mmap"
)

// Open memory-maps the safetensors file at path read-only and parses it. The
// tensors' Data point into the mapping until Close; the file must not be
// truncated while it is open. On systems without mmap support the file is
// read into memory instead.
func Open(path string) (*File, error) {
	mf, err := mmap.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	data, release := mf.Data, mf.Close
	f, err := parse(path, data)
	if err != nil {
		release()
		return nil, err
	}
	f.release = release
	return f, nil
}
