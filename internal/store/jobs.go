package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Job is a long-running task the server runs (a fine-tuning run): what
// it was asked to do (Config), where it stands (State, Progress) and why
// it failed (Error). The store keeps them so that a restarted server
// shows them; the meaning of Kind, Config, State and Progress is the
// server's.
type Job struct {
	ID    string
	Owner string
	Kind  string
	// Config and Progress are JSON values.
	Config   json.RawMessage
	State    string
	Progress json.RawMessage
	Error    string
	Created  time.Time
	Updated  time.Time
}

// CreateJob stores a new job; its ID must be new.
func (s *Store) CreateJob(ctx context.Context, j Job) (Job, error) {
	if j.ID == "" {
		return Job{}, errors.New("store: a job needs an ID")
	}
	now := time.Now().UTC()
	j.Created, j.Updated = now, now
	if len(j.Config) == 0 {
		j.Config = json.RawMessage("{}")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO jobs (id, owner, kind, config, state, progress, error, created, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, j.ID, j.Owner, j.Kind, string(j.Config), j.State, string(j.Progress), j.Error,
		formatTime(now), formatTime(now))
	if err != nil {
		return Job{}, fmt.Errorf("store: creating job %s: %w", j.ID, err)
	}
	return j, nil
}

// Job returns the job with id, or an error wrapping ErrNotFound.
func (s *Store) Job(ctx context.Context, id string) (Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("store: job %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Job{}, fmt.Errorf("store: reading job %q: %w", id, err)
	}
	return j, nil
}

// Jobs lists the jobs of owner (every owner's with anyOwner), newest
// first.
func (s *Store) Jobs(ctx context.Context, owner string, anyOwner bool) ([]Job, error) {
	query, args := `SELECT `+jobColumns+` FROM jobs`, []any{}
	if !anyOwner {
		query += ` WHERE owner = ?`
		args = append(args, owner)
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY created DESC, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: listing jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("store: listing jobs: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// UpdateJob records a job's state, progress (nil: unchanged) and error.
func (s *Store) UpdateJob(ctx context.Context, id, state string, progress json.RawMessage, errMsg string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET state = ?, progress = coalesce(?, progress), error = ?, updated = ? WHERE id = ?`,
		state, nullable(progress), errMsg, formatTime(time.Now()), id)
	if err != nil {
		return fmt.Errorf("store: updating job %q: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: job %q: %w", id, ErrNotFound)
	}
	return nil
}

// ReplaceJobStates moves every job in one of the states from to state
// to, with errMsg, and returns how many moved: a server that starts marks
// the jobs it no longer runs as interrupted.
func (s *Store) ReplaceJobStates(ctx context.Context, from []string, to, errMsg string) (int, error) {
	n := 0
	for _, f := range from {
		res, err := s.db.ExecContext(ctx, `UPDATE jobs SET state = ?, error = ?, updated = ? WHERE state = ?`,
			to, errMsg, formatTime(time.Now()), f)
		if err != nil {
			return n, fmt.Errorf("store: marking %s jobs %s: %w", f, to, err)
		}
		m, _ := res.RowsAffected()
		n += int(m)
	}
	return n, nil
}

func nullable(b json.RawMessage) any {
	if b == nil {
		return nil
	}
	return string(b)
}

const jobColumns = `id, owner, kind, config, state, progress, error, created, updated`

func scanJob(r scanner) (Job, error) {
	var j Job
	var config, progress, created, updated string
	if err := r.Scan(&j.ID, &j.Owner, &j.Kind, &config, &j.State, &progress, &j.Error, &created, &updated); err != nil {
		return Job{}, err
	}
	j.Config = json.RawMessage(config)
	if progress != "" {
		j.Progress = json.RawMessage(progress)
	}
	j.Created, j.Updated = parseTime(created), parseTime(updated)
	return j, nil
}
