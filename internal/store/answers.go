package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Answer is an answer the server gave, kept so that feedback can refer
// to it and be exported with its question.
type Answer struct {
	ID string
	// Owner is the name of the API key that asked ("": no keys).
	Owner      string
	Collection string
	Question   string
	Text       string
	// Citations is the answer's citations as a JSON array.
	Citations  json.RawMessage
	Confidence float64
	Model      string
	Created    time.Time
}

// PutAnswer stores a; its ID must be new. A zero Created is set to now.
func (s *Store) PutAnswer(ctx context.Context, a Answer) (Answer, error) {
	if a.ID == "" {
		return Answer{}, errors.New("store: an answer needs an ID")
	}
	if a.Created.IsZero() {
		a.Created = time.Now().UTC()
	}
	if len(a.Citations) == 0 {
		a.Citations = json.RawMessage("[]")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO answers (id, owner, collection, question, answer, citations, confidence, model, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.Owner, a.Collection, a.Question, a.Text, string(a.Citations),
		a.Confidence, a.Model, formatTime(a.Created))
	if err != nil {
		return Answer{}, fmt.Errorf("store: storing answer %s: %w", a.ID, err)
	}
	return a, nil
}

// Answer returns the answer with id, or an error wrapping ErrNotFound.
func (s *Store) Answer(ctx context.Context, id string) (Answer, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+answerColumns+` FROM answers a WHERE a.id = ?`, id)
	a, err := scanAnswer(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Answer{}, fmt.Errorf("store: answer %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Answer{}, fmt.Errorf("store: reading answer %q: %w", id, err)
	}
	return a, nil
}

const answerColumns = `a.id, a.owner, a.collection, a.question, a.answer, a.citations, a.confidence, a.model, a.created`

func scanAnswer(r scanner) (Answer, error) {
	var a Answer
	var citations, created string
	if err := r.Scan(&a.ID, &a.Owner, &a.Collection, &a.Question, &a.Text, &citations, &a.Confidence, &a.Model, &created); err != nil {
		return Answer{}, err
	}
	a.Citations = json.RawMessage(citations)
	a.Created = parseTime(created)
	return a, nil
}

// timeLayout stores times in UTC with fixed-width nanoseconds, so that
// they sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) time.Time {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		t, _ = time.Parse(time.RFC3339Nano, s)
	}
	return t
}
