// Package store persists collections, their documents and their chunks:
// records in → a SQLite database (through the pure-Go modernc.org/sqlite
// driver) in a data directory, and records back out.
//
// Every change to a collection is one transaction that also advances the
// collection's generation, so a process killed mid-ingest leaves whole
// documents only, and an index built from the chunks can tell, by
// comparing generations, whether it is current.
//
// A chunk may carry its embedding (a float32 BLOB) and a 64-bit vector ID
// (VectorID) that maps a vector index's hits back to it, so a vector index
// is rebuilt without embedding anything again. The schema is versioned:
// Open upgrades a data directory written by an older build in place.
package store
