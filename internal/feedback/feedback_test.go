package feedback

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		in    Input
		want  Feedback
		field string // of the error; "" for none
	}{
		{"rating", Input{AnswerID: " ans_1 ", Rating: 4}, Feedback{AnswerID: "ans_1", Rating: 4, Tags: []string{}}, ""},
		{"thumbs up", Input{AnswerID: "a", Thumbs: "up"}, Feedback{AnswerID: "a", Rating: 5, Tags: []string{}}, ""},
		{"thumbs down", Input{AnswerID: "a", Thumbs: "Down"}, Feedback{AnswerID: "a", Rating: 1, Tags: []string{}}, ""},
		{"agreeing", Input{AnswerID: "a", Rating: 5, Thumbs: "up"}, Feedback{AnswerID: "a", Rating: 5, Tags: []string{}}, ""},
		{"correction and tags", Input{AnswerID: "a", Rating: 2, Correction: " Paris. ", Tags: []string{"wrong", " wrong", "", "géo:fr"}},
			Feedback{AnswerID: "a", Rating: 2, Correction: "Paris.", Tags: []string{"wrong", "géo:fr"}}, ""},
		{"no answer", Input{Rating: 3}, Feedback{}, "answer_id"},
		{"no rating", Input{AnswerID: "a", Correction: "x"}, Feedback{}, "rating"},
		{"rating 0 thumbs bad", Input{AnswerID: "a", Thumbs: "sideways"}, Feedback{}, "thumbs"},
		{"rating 6", Input{AnswerID: "a", Rating: 6}, Feedback{}, "rating"},
		{"rating -1", Input{AnswerID: "a", Rating: -1}, Feedback{}, "rating"},
		{"disagreeing", Input{AnswerID: "a", Rating: 5, Thumbs: "down"}, Feedback{}, "thumbs"},
		{"long correction", Input{AnswerID: "a", Rating: 1, Correction: strings.Repeat("x", MaxCorrection+1)}, Feedback{}, "correction"},
		{"bad utf-8", Input{AnswerID: "a", Rating: 1, Correction: "\xff"}, Feedback{}, "correction"},
		{"comma tag", Input{AnswerID: "a", Rating: 1, Tags: []string{"a,b"}}, Feedback{}, "tags"},
		{"space tag", Input{AnswerID: "a", Rating: 1, Tags: []string{"a b"}}, Feedback{}, "tags"},
		{"long tag", Input{AnswerID: "a", Rating: 1, Tags: []string{strings.Repeat("é", MaxTag+1)}}, Feedback{}, "tags"},
		{"many tags", Input{AnswerID: "a", Rating: 1, Tags: strings.Split("a b c d e f g h i j k l m n o p q", " ")}, Feedback{}, "tags"},
	}
	for _, tt := range tests {
		got, err := tt.in.Check()
		var fe *FieldError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
			t.Errorf("%s: error %v, want one about %q", tt.name, err, tt.field)
		case tt.field == "" && !reflect.DeepEqual(got, tt.want):
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// FuzzCheck feeds Check decoded JSON: it never panics, and what it
// accepts is within the limits.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		`{"answer_id":"a","rating":4}`, `{"answer_id":"a","thumbs":"up","tags":["x"]}`,
		`{"answer_id":"a","rating":2,"correction":"c","tags":["a","a"," b "]}`, `{"rating":9}`, `{"thumbs":"down","tags":["é:1"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in Input
		if json.Unmarshal(data, &in) != nil {
			return
		}
		fb, err := in.Check()
		if err != nil {
			return
		}
		if fb.Rating < MinRating || fb.Rating > MaxRating || fb.AnswerID == "" || len(fb.Tags) > MaxTags || len(fb.Correction) > MaxCorrection {
			t.Fatalf("accepted %+v", fb)
		}
		for _, tag := range fb.Tags {
			if tag == "" || strings.ContainsAny(tag, ", \n") {
				t.Fatalf("accepted tag %q", tag)
			}
		}
	})
}
