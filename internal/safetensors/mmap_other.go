//go:build !unix

package safetensors

import "os"

// mapFile reads the whole file at path; systems without syscall.Mmap get a
// copy in memory instead of a mapping.
func mapFile(path string) (data []byte, release func() error, err error) {
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return data, func() error { return nil }, nil
}
