// Package mmap maps a file read-only into memory: path → []byte backed by the
// page cache, so model weights larger than free RAM load without copying.
package mmap
