// Package store persists collections, their documents and their chunks:
// records in → a SQLite database (through the pure-Go modernc.org/sqlite
// driver) in a data directory, and records back out.
//
// Every change to a collection is one transaction that also advances the
// collection's generation, so a process killed mid-ingest leaves whole
// documents only, and an index built from the chunks can tell, by
// comparing generations, whether it is current.
package store
