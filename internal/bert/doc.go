// Package bert turns text into a sentence vector with a BERT-family encoder:
// text → WordPiece ids → post-LayerNorm transformer → mean or [CLS] pooling →
// (optionally) unit length — the shapes of bge, e5 and all-MiniLM.
//
// Weights load from a Hugging Face directory (config.json, model.safetensors,
// tokenizer.json and, for sentence-transformers models, 1_Pooling/config.json)
// or from a GGUF file with llama.cpp's "bert" tensor and key names. Matrices
// may be F32, F16, BF16 or (GGUF) Q8_0/Q4_0 and run with the tensor kernels.
//
// The forward pass, for T tokens of hidden size H:
//
//	x = LayerNorm(word[id] + position[t] + tokenType[0])          [T, H]
//	per layer:
//	  q, k, v = x·Wqᵀ + bq, x·Wkᵀ + bk, x·Wvᵀ + bv                [T, H]
//	  a = softmax(q·kᵀ/√d) · v  per head, d = H / heads           [T, H]
//	  x = LayerNorm(x + a·Woᵀ + bo)
//	  x = LayerNorm(x + GELU(x·Wiᵀ + bi)·Wdᵀ + bd)                [T, I] inside
//	vector = mean over t of x[t]  (or x[0] for CLS pooling)       [H]
package bert
