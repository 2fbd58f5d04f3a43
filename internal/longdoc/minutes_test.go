package longdoc

import (
	"context"
	"strings"
	"testing"

	"flywheel/internal/llm"
)

// cannedModel answers every request with text.
func cannedModel(text string) llm.Model {
	return llm.Func(func(ctx context.Context, req llm.Request, stream func(string) error) (*llm.Response, error) {
		return &llm.Response{Text: text, FinishReason: llm.FinishStop}, nil
	})
}

func TestMinutesShort(t *testing.T) {
	transcript := "Alice: We agree to ship on Friday.\nBob: I will write the release notes by next week.\nCarol: Who tells the customers about the new price?"
	f := &fakeModel{}
	doc, err := Minutes(context.Background(), f, transcript, MinutesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := MinutesDoc{
		Attendees:     []string{"Alice", "Bob", "Carol"},
		Decisions:     []string{"We agree to ship on Friday."},
		ActionItems:   []ActionItem{{Owner: "Bob", Task: "I will write the release notes by next week.", Due: "next week"}},
		OpenQuestions: []string{"Who tells the customers about the new price?"},
	}
	if strings.Join(doc.Attendees, "|") != strings.Join(want.Attendees, "|") ||
		strings.Join(doc.Decisions, "|") != strings.Join(want.Decisions, "|") ||
		len(doc.ActionItems) != 1 || doc.ActionItems[0] != want.ActionItems[0] ||
		strings.Join(doc.OpenQuestions, "|") != strings.Join(want.OpenQuestions, "|") {
		t.Errorf("minutes = %+v\nwant %+v", doc, want)
	}
	if len(doc.Chunks) != 1 || doc.Calls != 1 || f.kinds()["combine"] != 0 {
		t.Errorf("%d chunks, %d calls: a short transcript takes one call", len(doc.Chunks), doc.Calls)
	}
}

func TestMinutesInvalidAnswers(t *testing.T) {
	cases := []struct {
		name, answer, err string
	}{
		{"not json", "The meeting was nice.", "does not satisfy MinutesSchema"},
		{"in a code fence", "```json\n" + `{"summary": "s", "decisions": [], "action_items": [], "open_questions": []}` + "\n```", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Minutes(context.Background(), cannedModel(tc.answer), "Alice: hello.", MinutesOptions{})
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			if err != nil && !strings.Contains(err.Error(), "part 1 of 1") {
				t.Errorf("the error does not say which part: %v", err)
			}
		})
	}
}

func TestDedupe(t *testing.T) {
	cases := []struct {
		in, want []string
	}{
		{[]string{"Ship on Friday.", "ship on friday", " ", "Ship on Monday."}, []string{"Ship on Friday.", "Ship on Monday."}},
		{[]string{"The team agreed on a silver plastic case", "The team agreed on a silver plastic case."}, []string{"The team agreed on a silver plastic case"}},
		// sharing most words: one in five differs (Jaccard 4/6 < 0.8 keeps both)
		{[]string{"use a yellow case", "use a silver case"}, []string{"use a yellow case", "use a silver case"}},
		{[]string{"price the remote at 25 euro for everyone", "price the remote at 25 euro for all everyone"}, []string{"price the remote at 25 euro for everyone"}},
	}
	for _, tc := range cases {
		if got := dedupe(tc.in); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("dedupe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	items := dedupeActions([]ActionItem{
		{Task: "Write the release notes"}, {Owner: "Bob", Task: "write the release notes.", Due: "Friday"}, {Owner: "Ann", Task: "Book a room"},
	})
	want := []ActionItem{{Owner: "Bob", Task: "Write the release notes", Due: "Friday"}, {Owner: "Ann", Task: "Book a room"}}
	if len(items) != 2 || items[0] != want[0] || items[1] != want[1] {
		t.Errorf("dedupeActions = %+v, want %+v", items, want)
	}
}
