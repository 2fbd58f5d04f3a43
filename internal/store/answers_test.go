package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestAnswers(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	want := Answer{ID: "ans_1", Owner: "alice", Collection: "docs", Question: "Who?", Text: "Ada [1].",
		Citations: json.RawMessage(`[{"number":1,"doc_id":"d"}]`), Confidence: 0.75, Model: "extractive",
		Created: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
	if _, err := s.PutAnswer(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Answer(ctx, "ans_1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != want.ID || got.Owner != want.Owner || got.Collection != want.Collection || got.Question != want.Question ||
		got.Text != want.Text || string(got.Citations) != string(want.Citations) || got.Confidence != want.Confidence ||
		got.Model != want.Model || !got.Created.Equal(want.Created) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if _, err := s.PutAnswer(ctx, want); err == nil {
		t.Error("stored an answer ID twice")
	}
	if _, err := s.Answer(ctx, "ans_2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing answer: %v", err)
	}
	if _, err := s.PutAnswer(ctx, Answer{}); err == nil {
		t.Error("stored an answer without ID")
	}
	// No citations are stored as an empty array.
	a, err := s.PutAnswer(ctx, Answer{ID: "ans_3"})
	if err != nil || string(a.Citations) != "[]" {
		t.Fatalf("%s %v", a.Citations, err)
	}
}
