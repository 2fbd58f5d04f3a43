package eval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// journal is an append-only JSON Lines file of finished work, one record
// per line, each line written whole and synced before the next: a crash
// loses at most the line being written, and a half-written last line is
// cut off when the journal is opened again.
type journal struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

// openJournal replays the complete lines of path (created if missing)
// through each, drops a half-written last line, and opens the file for
// appending.
func openJournal(path string, each func(line []byte) error) (*journal, error) {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	complete := bytes.LastIndexByte(data, '\n') + 1
	for n, line := range bytes.Split(data[:complete], []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := each(line); err != nil {
			return nil, fmt.Errorf("%s:%d: %w (the journal is damaged: delete the line, or the file to start the run again)", path, n+1, err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if complete < len(data) {
		if err := f.Truncate(int64(complete)); err != nil {
			f.Close()
			return nil, err
		}
	}
	if _, err := f.Seek(int64(complete), 0); err != nil {
		f.Close()
		return nil, err
	}
	return &journal{f: f, path: path}, nil
}

// append writes v as one line and syncs it to disk.
func (j *journal) append(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(line); err != nil {
		return fmt.Errorf("%s: %w", j.path, err)
	}
	return j.f.Sync()
}

func (j *journal) close() error { return j.f.Close() }

// fingerprint is a short hash of values' JSON: the identity of a piece of
// work, so that a resumed run redoes what a changed setting invalidates.
func fingerprint(values ...any) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, v := range values {
		enc.Encode(v)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// writeFileAtomic writes data to path through a synced temporary file in
// the same directory and a rename, so readers see the old file or the new
// one, never a part.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// openRecords opens the journal at path and returns its records decoded
// as R, by key.
func openRecords[R any](path string, key func(*R) string) (*journal, map[string]*R, error) {
	done := map[string]*R{}
	j, err := openJournal(path, func(line []byte) error {
		r := new(R)
		if err := json.Unmarshal(line, r); err != nil {
			return err
		}
		done[key(r)] = r
		return nil
	})
	return j, done, err
}
