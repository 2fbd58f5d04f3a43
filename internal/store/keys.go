package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Scopes of API keys: an admin key sees everything; a user key only what
// it owns.
const (
	ScopeAdmin = "admin"
	ScopeUser  = "user"
)

// keyPrefix starts every API key, so that a leaked one is recognisable.
const keyPrefix = "fw_"

// APIKey describes an API key. The key itself is never stored: only its
// SHA-256 hash and its first characters (Prefix), to recognise it.
type APIKey struct {
	Name    string
	Scope   string // ScopeAdmin or ScopeUser
	Prefix  string // the key's first characters, e.g. "fw_3kT9aQ"
	Created time.Time
	Revoked time.Time // zero while the key is valid
}

// Admin reports whether the key has the admin scope.
func (k APIKey) Admin() bool { return k.Scope == ScopeAdmin }

var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$`)

// HashKey is the hex SHA-256 of an API key, as stored.
func HashKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// CreateKey makes a new API key named name with scope and returns it: the
// only time it is visible. The name must be new.
func (s *Store) CreateKey(ctx context.Context, name, scope string) (secret string, k APIKey, err error) {
	if !keyName.MatchString(name) {
		return "", APIKey{}, fmt.Errorf("store: key name %q: use letters, digits, '_', '.', '@' and '-' (up to 64)", name)
	}
	if scope != ScopeAdmin && scope != ScopeUser {
		return "", APIKey{}, fmt.Errorf("store: key scope %q: want %s or %s", scope, ScopeAdmin, ScopeUser)
	}
	var raw [32]byte
	rand.Read(raw[:])
	secret = keyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	k = APIKey{Name: name, Scope: scope, Prefix: secret[:len(keyPrefix)+6], Created: time.Now().UTC().Truncate(time.Second)}
	_, err = s.db.ExecContext(ctx, `INSERT INTO api_keys (name, scope, hash, prefix, created) VALUES (?, ?, ?, ?, ?)`,
		k.Name, k.Scope, HashKey(secret), k.Prefix, k.Created.Format(time.RFC3339))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return "", APIKey{}, fmt.Errorf("store: an API key named %q already exists: choose another name (or revoke it and pick a new name)", name)
		}
		return "", APIKey{}, fmt.Errorf("store: creating API key %q: %w", name, err)
	}
	return secret, k, nil
}

const keyColumns = `name, scope, prefix, created, revoked`

func scanKey(r scanner) (APIKey, error) {
	var k APIKey
	var created, revoked string
	if err := r.Scan(&k.Name, &k.Scope, &k.Prefix, &created, &revoked); err != nil {
		return APIKey{}, err
	}
	var err error
	if k.Created, err = time.Parse(time.RFC3339, created); err != nil {
		return APIKey{}, fmt.Errorf("store: API key %q: created %q: %w", k.Name, created, err)
	}
	if revoked != "" {
		if k.Revoked, err = time.Parse(time.RFC3339, revoked); err != nil {
			return APIKey{}, fmt.Errorf("store: API key %q: revoked %q: %w", k.Name, revoked, err)
		}
	}
	return k, nil
}

// Keys lists the API keys by name, revoked ones included.
func (s *Store) Keys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: listing API keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// KeyCount counts the API keys ever created, revoked ones included: once
// there is one, the server asks every request for a key.
func (s *Store) KeyCount(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM api_keys`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: counting API keys: %w", err)
	}
	return n, nil
}

// KeyBySecret finds the key a client sent (revoked or not: check
// Revoked), or returns an error wrapping ErrNotFound.
func (s *Store) KeyBySecret(ctx context.Context, secret string) (APIKey, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, HashKey(secret))
	k, err := scanKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return APIKey{}, fmt.Errorf("store: API key: %w", ErrNotFound)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("store: looking up an API key: %w", err)
	}
	return k, nil
}

// RevokeKey revokes the named key for good and returns it. Revoking a
// revoked key changes nothing.
func (s *Store) RevokeKey(ctx context.Context, name string) (APIKey, error) {
	now := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	row := s.db.QueryRowContext(ctx, `UPDATE api_keys SET revoked = CASE revoked WHEN '' THEN ? ELSE revoked END
		WHERE name = ? RETURNING `+keyColumns, now, name)
	k, err := scanKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return APIKey{}, fmt.Errorf("store: API key %q: %w: `flywheel keys list` shows the keys", name, ErrNotFound)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("store: revoking API key %q: %w", name, err)
	}
	return k, nil
}
