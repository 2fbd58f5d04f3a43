package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// DefaultDir is the data directory when none is given.
const DefaultDir = "flywheel-data"

// ErrNotFound is wrapped by errors about a missing collection.
var ErrNotFound = errors.New("not found")

// schemaVersion is the version of the tables below after migrations;
// Open upgrades an older database and refuses one written by a newer build.
const schemaVersion = 3

// migrations[i] upgrades a database from version i+1 to i+2. Version 2
// records a collection's embedding model and each chunk's vector; version
// 3 adds what the server keeps: collection owners, API keys (hashed),
// answers, their feedback, and jobs.
var migrations = []string{
	`ALTER TABLE collections ADD COLUMN embed_model TEXT NOT NULL DEFAULT '';
	ALTER TABLE collections ADD COLUMN embed_url TEXT NOT NULL DEFAULT '';
	ALTER TABLE collections ADD COLUMN embed_name TEXT NOT NULL DEFAULT '';
	ALTER TABLE chunks ADD COLUMN vec_id INTEGER;
	ALTER TABLE chunks ADD COLUMN vector BLOB;
	CREATE INDEX chunks_vec ON chunks (collection, vec_id);`,
	`ALTER TABLE collections ADD COLUMN owner TEXT NOT NULL DEFAULT '';
	CREATE TABLE api_keys (
		name TEXT PRIMARY KEY,
		scope TEXT NOT NULL,
		hash TEXT NOT NULL UNIQUE,
		prefix TEXT NOT NULL,
		created TEXT NOT NULL,
		revoked TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE answers (
		id TEXT PRIMARY KEY,
		owner TEXT NOT NULL,
		collection TEXT NOT NULL,
		question TEXT NOT NULL,
		answer TEXT NOT NULL,
		citations TEXT NOT NULL,
		confidence REAL NOT NULL,
		model TEXT NOT NULL,
		created TEXT NOT NULL
	);
	CREATE INDEX answers_collection ON answers (collection, created);
	CREATE TABLE feedback (
		id INTEGER PRIMARY KEY,
		answer_id TEXT NOT NULL REFERENCES answers(id),
		owner TEXT NOT NULL,
		rating INTEGER NOT NULL,
		correction TEXT NOT NULL DEFAULT '',
		tags TEXT NOT NULL DEFAULT '',
		created TEXT NOT NULL
	);
	CREATE INDEX feedback_answer ON feedback (answer_id);
	CREATE TABLE jobs (
		id TEXT PRIMARY KEY,
		owner TEXT NOT NULL,
		kind TEXT NOT NULL,
		config TEXT NOT NULL,
		state TEXT NOT NULL,
		progress TEXT NOT NULL DEFAULT '',
		error TEXT NOT NULL DEFAULT '',
		created TEXT NOT NULL,
		updated TEXT NOT NULL
	);`,
}

// schema is version 1 of the tables; migrations bring it up to date.
const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS collections (
	name TEXT PRIMARY KEY,
	analyzer TEXT NOT NULL,
	k1 REAL NOT NULL,
	b REAL NOT NULL,
	chunk_size INTEGER NOT NULL,
	chunk_overlap INTEGER NOT NULL,
	generation INTEGER NOT NULL DEFAULT 0,
	created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
	collection TEXT NOT NULL REFERENCES collections(name) ON DELETE CASCADE,
	id TEXT NOT NULL,
	path TEXT NOT NULL,
	title TEXT NOT NULL,
	hash TEXT NOT NULL,
	meta TEXT NOT NULL,
	PRIMARY KEY (collection, id)
);
CREATE INDEX IF NOT EXISTS documents_path ON documents (collection, path);
CREATE TABLE IF NOT EXISTS chunks (
	collection TEXT NOT NULL,
	id TEXT NOT NULL,
	doc_id TEXT NOT NULL,
	seq INTEGER NOT NULL,
	text TEXT NOT NULL,
	start_byte INTEGER NOT NULL,
	end_byte INTEGER NOT NULL,
	heading TEXT NOT NULL,
	PRIMARY KEY (collection, id),
	FOREIGN KEY (collection, doc_id) REFERENCES documents(collection, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (collection, doc_id);
`

// Store is an open data directory.
type Store struct {
	db  *sql.DB
	dir string
}

// Open opens (creating if needed) the data directory dir and its database
// flywheel.db.
func Open(ctx context.Context, dir string) (*Store, error) {
	if dir == "" {
		dir = DefaultDir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	path := filepath.Join(dir, "flywheel.db")
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(1)", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; queries never nest
	s := &Store{db: db, dir: dir}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, schema); err != nil {
		return err
	}
	v, err := readSchemaVersion(ctx, s.db)
	if err != nil || v == schemaVersion {
		return err // a current database: opening it takes no write lock
	}
	// Upgrade under the write lock taken up front (BEGIN IMMEDIATE waits
	// out the busy timeout), so that two processes opening an old or a new
	// database one after the other neither both upgrade nor fail.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return err
	}
	if err := upgrade(ctx, conn); err != nil {
		conn.ExecContext(context.Background(), `ROLLBACK`)
		return err
	}
	_, err = conn.ExecContext(ctx, `COMMIT`)
	return err
}

// upgrade brings the schema to schemaVersion inside conn's transaction.
func upgrade(ctx context.Context, conn *sql.Conn) error {
	v, err := readSchemaVersion(ctx, conn)
	if err != nil {
		return err
	}
	if v == 0 { // a new database: the tables of schema
		v = 1
		if _, err := conn.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('schema_version', 1)`); err != nil {
			return err
		}
	}
	if v == schemaVersion {
		return nil
	}
	for ; v < schemaVersion; v++ {
		if _, err := conn.ExecContext(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("upgrading the schema from version %d: %w", v, err)
		}
	}
	_, err = conn.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'schema_version'`, schemaVersion)
	return err
}

// readSchemaVersion reads the recorded version: 0 when there is none yet.
func readSchemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, err
	case v > schemaVersion:
		return 0, fmt.Errorf("schema version %d is newer than this build's %d: upgrade flywheel", v, schemaVersion)
	}
	return v, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// CollectionDir is the directory for a collection's index files.
func (s *Store) CollectionDir(name string) string {
	return filepath.Join(s.dir, "collections", name)
}

// Collection is a named set of documents indexed with one configuration.
type Collection struct {
	Name string
	// Analyzer, K1 and B configure BM25; ChunkSize and ChunkOverlap the
	// chunker (0: their defaults).
	Analyzer     string
	K1, B        float64
	ChunkSize    int
	ChunkOverlap int
	// Embed is the embedding model of the chunks' vectors (zero: none,
	// retrieval is BM25 only).
	Embed EmbedConfig
	// Generation advances with every committed change.
	Generation uint64
	Created    time.Time
	// Owner is the name of the API key that created the collection ("":
	// the command line, or a server without keys).
	Owner string
}

// EmbedConfig names the model that embeds a collection's chunks: a local
// encoder (Model, a path) or a remote endpoint (URL and Name).
type EmbedConfig struct {
	Model     string
	URL, Name string
}

// IsZero reports whether no model is configured.
func (e EmbedConfig) IsZero() bool { return e == EmbedConfig{} }

// String describes the model for messages.
func (e EmbedConfig) String() string {
	if e.URL != "" {
		return fmt.Sprintf("%s at %s", e.Name, e.URL)
	}
	return e.Model
}

var collectionName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// CreateCollection adds a collection; its name must be new and made of
// letters, digits, '_', '.' and '-'.
func (s *Store) CreateCollection(ctx context.Context, c Collection) (Collection, error) {
	if !collectionName.MatchString(c.Name) {
		return Collection{}, fmt.Errorf("store: collection name %q: use letters, digits, '_', '.' and '-' (up to 128)", c.Name)
	}
	c.Created = time.Now().UTC().Truncate(time.Second)
	c.Generation = 0
	_, err := s.db.ExecContext(ctx, `INSERT INTO collections (name, analyzer, k1, b, chunk_size, chunk_overlap, embed_model, embed_url, embed_name, generation, created, owner)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`, c.Name, c.Analyzer, c.K1, c.B, c.ChunkSize, c.ChunkOverlap,
		c.Embed.Model, c.Embed.URL, c.Embed.Name, c.Created.Format(time.RFC3339), c.Owner)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return Collection{}, fmt.Errorf("store: collection %q already exists", c.Name)
		}
		return Collection{}, fmt.Errorf("store: creating collection %q: %w", c.Name, err)
	}
	return c, nil
}

// Collection returns the named collection, or an error wrapping
// ErrNotFound.
func (s *Store) Collection(ctx context.Context, name string) (Collection, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+collectionColumns+`
		FROM collections WHERE name = ?`, name)
	c, err := scanCollection(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Collection{}, fmt.Errorf("store: collection %q: %w: ingest documents into it first", name, ErrNotFound)
	}
	return c, err
}

// Collections lists the collections by name.
func (s *Store) Collections(ctx context.Context) ([]Collection, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+collectionColumns+`
		FROM collections ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []Collection
	for rows.Next() {
		c, err := scanCollection(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetEmbed records the embedding model of a collection's vectors.
func (s *Store) SetEmbed(ctx context.Context, name string, e EmbedConfig) error {
	res, err := s.db.ExecContext(ctx, `UPDATE collections SET embed_model = ?, embed_url = ?, embed_name = ? WHERE name = ?`,
		e.Model, e.URL, e.Name, name)
	if err != nil {
		return fmt.Errorf("store: setting the embedding model of %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: collection %q: %w", name, ErrNotFound)
	}
	return nil
}

const collectionColumns = `name, analyzer, k1, b, chunk_size, chunk_overlap, embed_model, embed_url, embed_name, generation, created, owner`

type scanner interface{ Scan(...any) error }

func scanCollection(r scanner) (Collection, error) {
	var c Collection
	var created string
	if err := r.Scan(&c.Name, &c.Analyzer, &c.K1, &c.B, &c.ChunkSize, &c.ChunkOverlap,
		&c.Embed.Model, &c.Embed.URL, &c.Embed.Name, &c.Generation, &created, &c.Owner); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return c, err
		}
		return c, fmt.Errorf("store: %w", err)
	}
	c.Created, _ = time.Parse(time.RFC3339, created)
	return c, nil
}

// DeleteCollection removes a collection, its records and its index files.
func (s *Store) DeleteCollection(ctx context.Context, name string) error {
	if _, err := s.Collection(ctx, name); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM collections WHERE name = ?`, name); err != nil {
		return fmt.Errorf("store: deleting collection %q: %w", name, err)
	}
	return os.RemoveAll(s.CollectionDir(name))
}

func encodeMeta(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func decodeMeta(s string) map[string]string {
	var m map[string]string
	json.Unmarshal([]byte(s), &m)
	return m
}
