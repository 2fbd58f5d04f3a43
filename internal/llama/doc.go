// Package llama is the LLaMA-family decoder: model files (GGUF, Hugging Face
// safetensors directories, llama2.c checkpoints) → Model, and tokens → logits
// through a forward pass with a KV cache.
//
// Training (train*.go) takes batches of token sequences with targets →
// their cross-entropy and its gradient, into a LoRA adapter or, for full
// fine-tuning, every weight; forward_lora.go applies an adapter in the
// inference pass.
//
// Architectures: llama (grouped-query attention, RoPE base and linear
// scaling), mistral, and qwen2 (q/k/v biases). Weights stay memory-mapped in
// their stored dtype; activations are f32.
package llama
