// Package embed turns texts into vectors: text → []float32, through a local
// BERT-family encoder (package bert) or any OpenAI-compatible /v1/embeddings
// endpoint. Both satisfy [Embedder]; [New] picks one from a [Config] and
// reports [ErrNotConfigured] when neither is set, so that retrieval can fall
// back to BM25 and say so.
package embed
