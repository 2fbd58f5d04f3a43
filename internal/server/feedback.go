package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"flywheel/internal/answer"
	"flywheel/internal/feedback"
	"flywheel/internal/store"
)

// addFeedback is POST /api/feedback {"answer_id", "rating" 1–5 or
// "thumbs" "up"|"down", "correction", "tags"}. The row is committed
// before the 201 answers.
func (s *Server) addFeedback(w http.ResponseWriter, r *http.Request) {
	var in feedback.Input
	if !readJSON(w, r, &in) {
		return
	}
	f, err := in.Check()
	var fe *feedback.FieldError
	if errors.As(err, &fe) {
		writeErrorParam(w, http.StatusBadRequest, fe.Error(), fe.Field, "")
		return
	}
	a, ok := s.visibleAnswer(w, r, f.AnswerID)
	if !ok {
		return
	}
	owner, _ := Identity(r.Context())
	row, err := s.cfg.Store.AddFeedback(r.Context(), store.Feedback{AnswerID: a.ID, Owner: owner, Rating: f.Rating,
		Correction: f.Correction, Tags: f.Tags})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, feedbackJSON(row))
}

func feedbackJSON(f store.Feedback) feedback.Feedback {
	return feedback.Feedback{ID: f.ID, AnswerID: f.AnswerID, Owner: f.Owner, Rating: f.Rating,
		Correction: f.Correction, Tags: f.Tags, Created: f.Created}
}

// feedbackRecord is a stored row with its answer, as the API and the
// exports take it.
func feedbackRecord(r store.FeedbackRecord) feedback.Record {
	rec := feedback.Record{Feedback: feedbackJSON(r.Feedback), Collection: r.Answer.Collection, Question: r.Answer.Question,
		Answer: r.Answer.Text, Confidence: r.Answer.Confidence, Model: r.Answer.Model, Citations: []answer.Citation{}}
	json.Unmarshal(r.Answer.Citations, &rec.Citations)
	return rec
}

// Paging of GET /api/feedback.
const (
	defaultFeedbackPage = 100
	maxFeedbackPage     = 1000
)

// listFeedback is GET /api/feedback: the caller's feedback (an admin's:
// everyone's), newest first, with its answers. Filters: collection,
// min_rating, max_rating, rating, tag, since (RFC 3339 or YYYY-MM-DD),
// answer_id; paging: limit (default 100, at most 1000) and before (the
// next_before of the previous page).
func (s *Server) listFeedback(w http.ResponseWriter, r *http.Request) {
	q, ok := s.feedbackQuery(w, r)
	if !ok {
		return
	}
	if q.Limit, ok = intParam(w, r.URL.Query(), "limit", defaultFeedbackPage, 1, maxFeedbackPage); !ok {
		return
	}
	before, ok := intParam(w, r.URL.Query(), "before", 0, 1, 1<<62)
	if !ok {
		return
	}
	q.Before = int64(before)
	rows, err := s.cfg.Store.FeedbackRecords(r.Context(), q)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := struct {
		Feedback   []feedback.Record `json:"feedback"`
		NextBefore int64             `json:"next_before,omitempty"`
	}{Feedback: []feedback.Record{}}
	for _, row := range rows {
		out.Feedback = append(out.Feedback, feedbackRecord(row))
	}
	if len(rows) == q.Limit {
		out.NextBefore = rows[len(rows)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

// feedbackQuery reads the filters of a feedback listing or export. A
// collection the caller may not see is 404.
func (s *Server) feedbackQuery(w http.ResponseWriter, r *http.Request) (store.FeedbackQuery, bool) {
	v := r.URL.Query()
	name, admin := Identity(r.Context())
	q := store.FeedbackQuery{Owner: name, AnyOwner: admin, Collection: v.Get("collection"), AnswerID: v.Get("answer_id")}
	if q.Collection != "" && !admin {
		if _, ok := s.visibleCollection(w, r, q.Collection); !ok {
			return q, false
		}
	}
	var ok bool
	if q.MinRating, ok = intParam(w, v, "min_rating", 0, feedback.MinRating, feedback.MaxRating); !ok {
		return q, false
	}
	if q.MaxRating, ok = intParam(w, v, "max_rating", 0, feedback.MinRating, feedback.MaxRating); !ok {
		return q, false
	}
	if v.Has("rating") {
		var rating int
		if rating, ok = intParam(w, v, "rating", 0, feedback.MinRating, feedback.MaxRating); !ok {
			return q, false
		}
		q.MinRating, q.MaxRating = rating, rating
	}
	if q.MinRating > 0 && q.MaxRating > 0 && q.MinRating > q.MaxRating {
		writeErrorParam(w, http.StatusBadRequest, fmt.Sprintf("min_rating %d is above max_rating %d", q.MinRating, q.MaxRating), "min_rating", "")
		return q, false
	}
	if tag := strings.TrimSpace(v.Get("tag")); tag != "" {
		tags, err := feedback.CheckTags([]string{tag})
		if err != nil {
			writeErrorParam(w, http.StatusBadRequest, err.Error(), "tag", "")
			return q, false
		}
		q.Tag = tags[0]
	}
	if since := v.Get("since"); since != "" {
		t, err := parseSince(since)
		if err != nil {
			writeErrorParam(w, http.StatusBadRequest, err.Error(), "since", "")
			return q, false
		}
		q.Since = t
	}
	return q, true
}

// parseSince reads a time as RFC 3339 or a date (midnight UTC).
func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("since %q: give a time like 2026-03-01T12:00:00Z or a date like 2026-03-01", s)
}

// intParam reads the query parameter name as an integer in [lo, hi]
// (def when absent); on a bad value it writes 400 and returns false.
func intParam(w http.ResponseWriter, v url.Values, name string, def, lo, hi int) (int, bool) {
	if !v.Has(name) {
		return def, true
	}
	n, err := strconv.Atoi(v.Get(name))
	if err != nil || n < lo || n > hi {
		writeErrorParam(w, http.StatusBadRequest, fmt.Sprintf("query parameter %s=%q: give a whole number from %d to %d", name, v.Get(name), lo, hi), name, "")
		return 0, false
	}
	return n, true
}
