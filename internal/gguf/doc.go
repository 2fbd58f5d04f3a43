// Package gguf reads and writes GGUF files: bytes on disk → metadata, tensor
// infos and memory-mapped tensor data, and back.
//
// A GGUF file (versions 2 and 3, little endian) is a header, a list of typed
// key/value pairs (the metadata), a list of tensor infos (name, dimensions in
// ggml order, ggml type, offset), padding to the alignment, and the data
// section holding the tensors' bytes:
//
//	"GGUF" | version u32 | tensor_count u64 | kv_count u64
//	kv_count × (key string | value type u32 | value)
//	tensor_count × (name string | n_dims u32 | n_dims × ne u64 | type u32 | offset u64)
//	padding to general.alignment (default 32)
//	data section: each tensor at its offset, a multiple of the alignment
//
// A string is a u64 byte length and the bytes; an array is an element type
// u32, a u64 count and the elements, which may be arrays themselves.
//
// Dimensions are kept in ggml order: Dims[0] (ne[0]) is the fastest-varying
// one, the length of a row. A [64,512] embedding therefore has 512 rows of 64.
//
// Parsing treats its input as untrusted: every count and length is checked
// against the bytes that remain before anything is allocated, and every error
// is an *Error that names the file, the byte offset, the key or tensor, and
// what is wrong.
package gguf
