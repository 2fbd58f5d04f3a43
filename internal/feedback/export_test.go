package feedback

import (
	"reflect"
	"testing"
	"time"

	"flywheel/internal/answer"
)

// records builds feedback rows: each rates answer id (its question and
// text given) at minute i.
func records(rows ...[5]any) []Record {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []Record
	for i, r := range rows {
		id, q, text := r[0].(string), r[1].(string), r[2].(string)
		out = append(out, Record{
			Feedback:   Feedback{ID: int64(i + 1), AnswerID: id, Rating: r[3].(int), Correction: r[4].(string), Created: t0.Add(time.Duration(i) * time.Minute)},
			Collection: "docs", Question: q, Answer: text,
			Citations: []answer.Citation{{Number: 1, DocID: "d", ChunkID: "c-" + id, Text: "passage of " + id, Start: 10 * i, End: 10*i + 5}},
		})
	}
	return out
}

type pick struct{ question, response, rejected string }

func picks(exs []Example) []pick {
	var out []pick
	for _, e := range exs {
		out = append(out, pick{e.Question, e.Response, e.Rejected})
	}
	return out
}

func TestSFTAndPairs(t *testing.T) {
	tests := []struct {
		name     string
		rows     [][5]any
		sft, dpo []pick
	}{
		{"good answer", [][5]any{{"a1", "Q1", "A1", 5, ""}}, []pick{{"Q1", "A1", ""}}, nil},
		{"mediocre answer", [][5]any{{"a1", "Q1", "A1", 3, ""}}, nil, nil},
		{"mean of ratings", [][5]any{{"a1", "Q1", "A1", 5, ""}, {"a1", "Q1", "A1", 2, ""}}, nil, nil},
		{"bad answer alone", [][5]any{{"a1", "Q1", "A1", 1, ""}}, nil, nil},
		{"corrected", [][5]any{{"a1", "Q1", "A1", 2, "C1"}}, []pick{{"Q1", "C1", ""}}, []pick{{"Q1", "C1", "A1"}}},
		{"latest correction wins", [][5]any{{"a1", "Q1", "A1", 2, "old"}, {"a1", "Q1", "A1", 1, "new"}},
			[]pick{{"Q1", "new", ""}}, []pick{{"Q1", "new", "A1"}}},
		{"corrected but rated well", [][5]any{{"a1", "Q1", "A1", 4, "C1"}}, []pick{{"Q1", "C1", ""}}, []pick{{"Q1", "C1", "A1"}}},
		{"best rated beats bad, same question any case", [][5]any{{"a1", "Q1", "A1", 5, ""}, {"a2", " q1 ", "A2", 1, ""}},
			[]pick{{"Q1", "A1", ""}}, []pick{{" q1 ", "A1", "A2"}}},
		{"correction beats other bad answer", [][5]any{{"a1", "Q1", "A1", 1, "C1"}, {"a2", "Q1", "A2", 2, ""}, {"a3", "Q1", "A3", 5, ""}},
			[]pick{{"Q1", "C1", ""}, {"Q1", "A3", ""}}, []pick{{"Q1", "C1", "A1"}, {"Q1", "C1", "A2"}}},
		{"I don't know is not learnt", [][5]any{{"a1", "Q1", answer.IDontKnow, 5, ""}, {"a2", "Q1", "A2", 1, ""}}, nil, nil},
		{"same text twice", [][5]any{{"a1", "Q1", "A", 5, ""}, {"a2", "Q1", "A", 5, ""}}, []pick{{"Q1", "A", ""}}, nil},
		{"other question", [][5]any{{"a1", "Q1", "A1", 5, ""}, {"a2", "Q2", "A2", 1, ""}}, []pick{{"Q1", "A1", ""}}, nil},
	}
	for _, tt := range tests {
		recs := records(tt.rows...)
		if got := picks(SFT(recs, Thresholds{})); !reflect.DeepEqual(got, tt.sft) {
			t.Errorf("%s: SFT %v, want %v", tt.name, got, tt.sft)
		}
		if got := picks(Pairs(recs, Thresholds{})); !reflect.DeepEqual(got, tt.dpo) {
			t.Errorf("%s: pairs %v, want %v", tt.name, got, tt.dpo)
		}
	}
}

func TestPairPassages(t *testing.T) {
	pairs := Pairs(records([5]any{"a1", "Q", "A1", 5, ""}, [5]any{"a2", "Q", "A2", 1, ""}), Thresholds{})
	if len(pairs) != 1 {
		t.Fatalf("%d pairs", len(pairs))
	}
	p := pairs[0]
	if !reflect.DeepEqual(p.AnswerIDs, []string{"a2", "a1"}) || len(p.Passages) != 2 || p.Passages[0].ChunkID != "c-a2" || p.Passages[1].ChunkID != "c-a1" {
		t.Errorf("pair %+v", p)
	}
}

func TestRenumberedMarkers(t *testing.T) {
	pairs := Pairs(records([5]any{"a1", "Q", "good [1].", 5, ""}, [5]any{"a2", "Q", "bad [1] [7].", 1, ""}), Thresholds{})
	if len(pairs) != 1 {
		t.Fatalf("%d pairs", len(pairs))
	}
	// a2's passage is [1], a1's [2]; [7] names no passage and stays.
	if p := pairs[0]; p.Response != "good [2]." || p.Rejected != "bad [1] [7]." || p.Passages[1].Number != 2 {
		t.Errorf("pair %+v", p)
	}
}
