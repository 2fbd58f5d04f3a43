// Package mmap maps a file read-only into memory: path → []byte backed by the
// page cache, so model weights larger than free RAM load without copying.
// It also hands out large anonymous regions backed by transparent huge
// pages (Huge), for weights that are streamed once per generated token.
package mmap
