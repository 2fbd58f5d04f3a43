// Package collection holds named document collections: files → documents
// → chunks stored in the store, indexed by BM25 and (with an embedding
// model) an HNSW graph, kept in step with the store's generation and
// rebuilt from it after a crash; and a retriever over them. It is the one
// place that wires document, chunk, index, embed and store together, so
// the command line and the server ingest and search the same way.
package collection
