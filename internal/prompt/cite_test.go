package prompt

import (
	"reflect"
	"testing"
)

func TestCitations(t *testing.T) {
	tests := []struct {
		in   string
		want []int
	}{
		{"Paris [1].", []int{1}},
		{"A [2,3] and B [1][3].", []int{2, 3, 1}},
		{"spaces [2, 4] ok", []int{2, 4}},
		{"range [2-4] and [6–7]", []int{2, 3, 4, 6, 7}},
		{"北京是首都【1】，上海［2］[3，4]。", []int{1, 2, 3, 4}},
		{"not [a], not x[0], not [], not [1.5], not [ ]", nil},
		{"[10] [1] [10]", []int{10, 1}},
		{"[3-1] backwards, [1-1000] too wide, [99999] too big", nil},
		{"unclosed [1 and [2]", []int{2}},
		{"nested [[1]]", []int{1}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := Citations(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Citations(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCited(t *testing.T) {
	got := twoPassages.Cited("Lyon [2], Paris [1], Nice [3], Lyon again [2].")
	if len(got) != 2 || got[0].Title != "Lyon" || got[1].Title != "Paris" {
		t.Errorf("Cited = %+v", got)
	}
}

func TestSplitAnswer(t *testing.T) {
	tests := []struct {
		name                    string
		in                      string
		wantReasoning, wantAnsw string
		wantOK                  bool
	}{
		{"plain", "Passage [1] says Paris is the capital.\nSo it is Paris.\nAnswer: Paris [1]",
			"Passage [1] says Paris is the capital.\nSo it is Paris.", "Paris [1]", true},
		{"last answer line wins", "Answer: maybe\nWait, [2] disagrees.\nFinal answer: Lyon [2]\n",
			"Answer: maybe\nWait, [2] disagrees.", "Lyon [2]", true},
		{"bold", "Reasoning.\n**Answer:** I don't know.", "Reasoning.", "I don't know.", true},
		{"markdown heading, multi-line answer", "Steps.\n### Final Answer:\nFirst line [1].\nSecond line [2].",
			"Steps.", "First line [1].\nSecond line [2].", true},
		{"chinese", "根据[1]，首都是北京。\n答案：北京[1]", "根据[1]，首都是北京。", "北京[1]", true},
		{"answer inside a sentence is not a marker", "The answer: is not here.", "", "The answer: is not here.", false},
		{"no marker", "  Paris [1]  ", "", "Paris [1]", false},
		{"think block", "<think>\nFrance → Paris.\n</think>\n\nParis [1]", "France → Paris.", "Paris [1]", true},
		{"think block and answer line", "<think>a</think>\nb\nAnswer: c", "a\n\nb", "c", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, a, ok := SplitAnswer(tt.in)
			if r != tt.wantReasoning || a != tt.wantAnsw || ok != tt.wantOK {
				t.Errorf("got (%q, %q, %v), want (%q, %q, %v)", r, a, ok, tt.wantReasoning, tt.wantAnsw, tt.wantOK)
			}
			if FinalAnswer(tt.in) != a {
				t.Errorf("FinalAnswer differs from SplitAnswer")
			}
		})
	}
}

func TestParsePlan(t *testing.T) {
	got, err := ParsePlan("Here is my plan:\n1. find: 2023 budget total\n2) Summarize: all\n- **compare**: 2023 budget | 2024 budget\n* extract: decisions\n5. answer: the difference, with dates\nThanks.")
	want := []Step{
		{ActionFind, "2023 budget total"},
		{ActionSummarise, "all"},
		{ActionCompare, "2023 budget | 2024 budget"},
		{ActionExtract, "decisions"},
		{ActionAnswer, "the difference, with dates"},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v\nwant %+v", got, err, want)
	}
	if a, b := got[2].Sides(); a != "2023 budget" || b != "2024 budget" {
		t.Errorf("Sides = %q, %q", a, b)
	}
	got, err = ParsePlan("1. find: x")
	if want := []Step{{ActionFind, "x"}, {ActionAnswer, ""}}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("a plan without answer: got %+v, %v", got, err)
	}
	if _, err := ParsePlan("I cannot plan this."); err == nil {
		t.Errorf("a plan without actions: no error")
	}
}
