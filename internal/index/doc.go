// Package index turns chunks into searchable indexes, and queries into
// ranked chunk IDs: a BM25 inverted index over analyzed terms (bm25*.go)
// and vector indexes (hnsw*.go, flat*.go). Each index has a versioned
// on-disk format written atomically (temp file, fsync, rename).
//
// The BM25 analyzers split Latin-script text into lower-cased words (with
// optional stop words and Porter stemming) and CJK text into character
// unigrams and bigrams, so one index serves English and Chinese.
package index
