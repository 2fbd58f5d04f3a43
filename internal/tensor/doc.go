// Package tensor holds the numeric core: stored weights (f32, f16, bf16, q8_0,
// q4_0, q4_K, q5_K, q6_K) → f32 activations, through dequantization, dot
// products, matrix multiplication and the elementwise math of a transformer
// (RMSNorm, RoPE, softmax, SiLU).
//
// Every kernel has a plain reference form kept as the definition; faster forms
// are tested against it.
package tensor
