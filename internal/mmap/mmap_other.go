//go:build !unix

package mmap

import "os"

// Open reads the whole file at path (this platform has no mmap here).
func Open(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &File{Data: data}, nil
}
