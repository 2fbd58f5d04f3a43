// Package retrieve turns a query into ranked passages ([]Hit): BM25 over
// an index.BM25, vector search through a VectorSearcher and an Embedder,
// or both fused by reciprocal-rank fusion; optionally diversified by MMR,
// reordered by a Reranker and restricted by metadata filters. Every hit
// explains its score.
//
// The package declares what it needs from the vector side (VectorSearcher,
// Embedder) and from storage (PassageSource), so it depends on neither.
package retrieve
