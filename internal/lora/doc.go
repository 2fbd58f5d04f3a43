// Package lora holds low-rank adapters: a base model's geometry and an
// adapter's rank, alpha and targets → the A and B matrices of every adapted
// projection in one slab, their forward contribution y += (α/r)·(x·Aᵀ)·Bᵀ
// and its backward, merging into base weights, and the two file layouts
// other tools read: Hugging Face PEFT (adapter_config.json +
// adapter_model.safetensors) and llama.cpp's GGUF LoRA.
//
// The package knows nothing of a model's forward pass (it never imports
// llama): a model calls Forward and Backward after each adapted product and
// describes itself with a Shape.
package lora
