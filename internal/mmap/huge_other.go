//go:build !linux

package mmap

// HugePages reports whether huge pages can be asked for: only on Linux.
func HugePages() bool { return false }

// Available is unknown here (-1).
func Available() int64 { return -1 }

// Huge returns n zeroed bytes of ordinary memory (huge pages are asked for
// on Linux only).
func Huge(n int) (*File, error) { return &File{Data: make([]byte, n)}, nil }

// Release does nothing here.
func Release(b []byte) {}
