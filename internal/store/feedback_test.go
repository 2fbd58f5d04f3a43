package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestFeedback(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	for _, a := range []Answer{
		{ID: "a1", Owner: "alice", Collection: "docs", Question: "q1", Text: "t1"},
		{ID: "a2", Owner: "bob", Collection: "docs", Question: "q2", Text: "t2"},
		{ID: "a3", Owner: "alice", Collection: "other", Question: "q3", Text: "t3"},
	} {
		if _, err := s.PutAnswer(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	rows := []Feedback{
		{AnswerID: "a1", Owner: "alice", Rating: 5, Tags: []string{"good", "short"}, Created: t0},
		{AnswerID: "a1", Owner: "alice", Rating: 2, Correction: "better", Tags: []string{"wrong"}, Created: t0.Add(time.Hour)},
		{AnswerID: "a2", Owner: "bob", Rating: 1, Created: t0.Add(2 * time.Hour)},
		{AnswerID: "a3", Owner: "alice", Rating: 4, Tags: []string{"good_ish"}, Created: t0.Add(3 * time.Hour)},
	}
	for i, f := range rows {
		got, err := s.AddFeedback(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != int64(i+1) {
			t.Fatalf("row %d got ID %d", i, got.ID)
		}
	}
	if _, err := s.AddFeedback(ctx, Feedback{AnswerID: "nope", Rating: 3}); !errors.Is(err, ErrNotFound) {
		t.Errorf("feedback on a missing answer: %v", err)
	}
	if _, err := s.AddFeedback(ctx, Feedback{AnswerID: "a1", Rating: 3, Tags: []string{"a,b"}}); err == nil {
		t.Error("stored a tag with a comma")
	}
	tests := []struct {
		name string
		q    FeedbackQuery
		want []int64
	}{
		{"alice's", FeedbackQuery{Owner: "alice"}, []int64{4, 2, 1}},
		{"everyone's", FeedbackQuery{AnyOwner: true}, []int64{4, 3, 2, 1}},
		{"nobody's", FeedbackQuery{}, nil},
		{"collection", FeedbackQuery{AnyOwner: true, Collection: "docs"}, []int64{3, 2, 1}},
		{"rating range", FeedbackQuery{AnyOwner: true, MinRating: 2, MaxRating: 4}, []int64{4, 2}},
		{"tag", FeedbackQuery{AnyOwner: true, Tag: "good"}, []int64{1}},
		{"tag with underscore", FeedbackQuery{AnyOwner: true, Tag: "good_ish"}, []int64{4}},
		{"since", FeedbackQuery{AnyOwner: true, Since: t0.Add(90 * time.Minute)}, []int64{4, 3}},
		{"answer", FeedbackQuery{AnyOwner: true, AnswerID: "a1"}, []int64{2, 1}},
		{"page", FeedbackQuery{AnyOwner: true, Before: 4, Limit: 2}, []int64{3, 2}},
	}
	for _, tt := range tests {
		recs, err := s.FeedbackRecords(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range recs {
			ids = append(ids, r.ID)
		}
		if !reflect.DeepEqual(ids, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, ids, tt.want)
		}
		tt.q.Limit = 0
		n, err := s.CountFeedback(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if tt.name != "page" && n != len(tt.want) {
			t.Errorf("%s: count %d, want %d", tt.name, n, len(tt.want))
		}
	}
	recs, err := s.FeedbackRecords(ctx, FeedbackQuery{AnyOwner: true, AnswerID: "a1"})
	if err != nil {
		t.Fatal(err)
	}
	r := recs[0]
	if r.Correction != "better" || !reflect.DeepEqual(r.Tags, []string{"wrong"}) || !r.Created.Equal(t0.Add(time.Hour)) ||
		r.Answer.Question != "q1" || r.Answer.Text != "t1" || r.Answer.Collection != "docs" {
		t.Errorf("record %+v", r)
	}
}
