// Package safetensors reads and writes safetensors files and Hugging Face
// config.json: bytes on disk → named tensors memory-mapped, and back.
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of
// JSON header mapping each tensor name to its dtype, shape and byte range
// ("data_offsets", relative to the first byte after the header), an optional
// "__metadata__" object of strings, then the raw little-endian tensor bytes.
//
// Files come from untrusted places, so Parse checks every number in the
// header before it is used and rejects the file on the first problem; no input
// makes it panic or read out of bounds. Errors say which file, which tensor
// and what is wrong.
//
// A model directory holds either model.safetensors or shards listed by
// model.safetensors.index.json; OpenDir reads both layouts and WriteSharded
// writes them. ReadConfig and WriteConfig handle the config.json of
// LLaMA-family models (llama, mistral, qwen2).
package safetensors
