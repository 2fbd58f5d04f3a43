package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Feedback is a rating of an answer, with an optional correction and
// tags.
type Feedback struct {
	ID       int64
	AnswerID string
	// Owner is the name of the API key that gave it ("": no keys).
	Owner      string
	Rating     int
	Correction string
	// Tags may not contain commas.
	Tags    []string
	Created time.Time
}

// FeedbackRecord is a feedback row with the answer it rates.
type FeedbackRecord struct {
	Feedback
	Answer Answer
}

// AddFeedback stores f and returns it with its ID and time. The answer
// must exist (an error wrapping ErrNotFound otherwise). The row is
// committed when AddFeedback returns.
func (s *Store) AddFeedback(ctx context.Context, f Feedback) (Feedback, error) {
	for _, t := range f.Tags {
		if t == "" || strings.Contains(t, ",") {
			return Feedback{}, fmt.Errorf("store: feedback tag %q: a tag is not empty and has no comma", t)
		}
	}
	if f.Created.IsZero() {
		f.Created = time.Now().UTC()
	}
	err := s.db.QueryRowContext(ctx, `INSERT INTO feedback (answer_id, owner, rating, correction, tags, created)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, f.AnswerID, f.Owner, f.Rating, f.Correction, joinTags(f.Tags),
		formatTime(f.Created)).Scan(&f.ID)
	if err != nil {
		if strings.Contains(err.Error(), "FOREIGN KEY") {
			return Feedback{}, fmt.Errorf("store: feedback on answer %q: %w", f.AnswerID, ErrNotFound)
		}
		return Feedback{}, fmt.Errorf("store: storing feedback on answer %q: %w", f.AnswerID, err)
	}
	return f, nil
}

// FeedbackQuery selects feedback rows. The zero value selects the rows
// of the owner "" (a server without keys).
type FeedbackQuery struct {
	// Owner is whose rows; AnyOwner selects everyone's (an admin).
	Owner    string
	AnyOwner bool
	// Collection restricts to answers from one collection ("": all).
	Collection string
	// MinRating and MaxRating bound the rating (0: no bound).
	MinRating, MaxRating int
	// Tag keeps rows carrying this tag ("": any).
	Tag string
	// Since keeps rows given at or after it (zero: any time).
	Since time.Time
	// AnswerID keeps the feedback on one answer ("": any).
	AnswerID string
	// Before keeps rows with an ID below it, for paging (0: from the
	// newest); Limit bounds the rows returned (0: all).
	Before int64
	Limit  int
}

func (q FeedbackQuery) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if !q.AnyOwner {
		add("f.owner = ?", q.Owner)
	}
	if q.Collection != "" {
		add("a.collection = ?", q.Collection)
	}
	if q.MinRating > 0 {
		add("f.rating >= ?", q.MinRating)
	}
	if q.MaxRating > 0 {
		add("f.rating <= ?", q.MaxRating)
	}
	if q.Tag != "" {
		add("instr(',' || f.tags || ',', ?) > 0", ","+q.Tag+",")
	}
	if !q.Since.IsZero() {
		add("f.created >= ?", formatTime(q.Since))
	}
	if q.AnswerID != "" {
		add("f.answer_id = ?", q.AnswerID)
	}
	if q.Before > 0 {
		add("f.id < ?", q.Before)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// FeedbackRecords returns the rows q selects with their answers, newest
// first.
func (s *Store) FeedbackRecords(ctx context.Context, q FeedbackQuery) ([]FeedbackRecord, error) {
	where, args := q.where()
	query := `SELECT f.id, f.answer_id, f.owner, f.rating, f.correction, f.tags, f.created, ` + answerColumns + `
		FROM feedback f JOIN answers a ON a.id = f.answer_id` + where + ` ORDER BY f.id DESC`
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: listing feedback: %w", err)
	}
	defer rows.Close()
	var out []FeedbackRecord
	for rows.Next() {
		var r FeedbackRecord
		var tags, created string
		var a Answer
		var citations, answered string
		if err := rows.Scan(&r.ID, &r.AnswerID, &r.Owner, &r.Rating, &r.Correction, &tags, &created,
			&a.ID, &a.Owner, &a.Collection, &a.Question, &a.Text, &citations, &a.Confidence, &a.Model, &answered); err != nil {
			return nil, fmt.Errorf("store: listing feedback: %w", err)
		}
		r.Tags = splitTags(tags)
		r.Created = parseTime(created)
		a.Citations = []byte(citations)
		a.Created = parseTime(answered)
		r.Answer = a
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: listing feedback: %w", err)
	}
	return out, nil
}

// CountFeedback counts the rows q selects (ignoring Limit).
func (s *Store) CountFeedback(ctx context.Context, q FeedbackQuery) (int, error) {
	where, args := q.where()
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM feedback f JOIN answers a ON a.id = f.answer_id`+where, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: counting feedback: %w", err)
	}
	return n, nil
}

func joinTags(tags []string) string { return strings.Join(tags, ",") }

func splitTags(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
