//go:build unix

package mmap

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Open maps the whole file at path read-only. Close releases the mapping.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &os.PathError{Op: "map", Path: path, Err: errors.New("not a regular file")}
	}
	size := st.Size()
	if size == 0 {
		return &File{}, nil
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("%s: file of %d bytes is too large to map", path, size)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	forget := remember(data)
	return &File{Data: data, unmap: func() error { forget(); return syscall.Munmap(data) }}, nil
}
