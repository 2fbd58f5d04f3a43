package longdoc

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"flywheel/internal/jsonschema"
)

// qmsumOptions size calls like a 2k-context model, so every meeting takes
// several calls.
var qmsumOptions = Options{Context: 2048, MaxTokens: 256, Concurrency: 3}

// Minutes, both summary strategies and plan-and-execute run end to end on
// the six QMSum meetings with the fake model.
func TestQMSumEndToEnd(t *testing.T) {
	schema, err := jsonschema.Compile(MinutesSchema)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range readQMSumDocs(t) {
		text := parseOne(t, []byte(d.Text)).Text()
		t.Run(d.ID+"/minutes", func(t *testing.T) {
			f := &fakeModel{}
			doc, err := Minutes(context.Background(), f, text, MinutesOptions{Options: qmsumOptions, Title: d.ID})
			if err != nil {
				t.Fatal(err)
			}
			checkCoverage(t, text, doc.Chunks, f.materials("minutes"))
			raw, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(raw); err != nil {
				t.Fatalf("minutes do not satisfy the schema: %v\n%s", err, raw)
			}
			// one summary per chunk, then combine calls until one is left
			if f.kinds()["minutes"] != len(doc.Chunks) || len(doc.Chunks) > 1 && f.kinds()["combine"] == 0 {
				t.Errorf("calls %v for %d chunks", f.kinds(), len(doc.Chunks))
			}
			checkUsage(t, f, doc.Stats)
			checkNoDuplicates(t, doc)
			if doc.Title != d.ID || doc.Summary == "" || len(doc.Attendees) == 0 {
				t.Errorf("title %q, summary %q, attendees %q", doc.Title, doc.Summary, doc.Attendees)
			}
			t.Logf("%d chunks, %d calls, %d decisions, %d action items, %d open questions, %d attendees",
				len(doc.Chunks), doc.Calls, len(doc.Decisions), len(doc.ActionItems), len(doc.OpenQuestions), len(doc.Attendees))
		})
		for _, strategy := range []Strategy{MapReduce, Refine} {
			t.Run(d.ID+"/"+strategy.String(), func(t *testing.T) {
				f := &fakeModel{}
				s, err := Summarize(context.Background(), f, text, SummarizeOptions{Options: qmsumOptions, Strategy: strategy})
				if err != nil {
					t.Fatal(err)
				}
				if len(s.Chunks) < 2 {
					t.Fatalf("%d chunks: the meeting should not fit one call", len(s.Chunks))
				}
				kinds := f.kinds()
				if strategy == Refine {
					// the first chunk is summarised, each further one refines
					checkCoverage(t, text, s.Chunks, append(f.materials("chunk"), f.materials("refine")...))
					if kinds["chunk"] != 1 || kinds["refine"] != len(s.Chunks)-1 || s.Calls != len(s.Chunks) {
						t.Errorf("calls %v for %d chunks", kinds, len(s.Chunks))
					}
				} else {
					checkCoverage(t, text, s.Chunks, f.materials("chunk"))
					if kinds["combine"] == 0 || s.Calls != len(s.Chunks)+kinds["combine"] {
						t.Errorf("calls %v for %d chunks", kinds, len(s.Chunks))
					}
				}
				checkUsage(t, f, s.Stats)
			})
		}
		t.Run(d.ID+"/plan", func(t *testing.T) {
			f := &fakeModel{}
			x, err := Ask(context.Background(), f, text, "What did they say about the price and the cost?", PlanOptions{Options: qmsumOptions, Title: d.ID})
			if err != nil {
				t.Fatal(err)
			}
			checkExecution(t, f, x, text)
		})
	}
}

// checkExecution checks an execution of cannedPlan over text.
func checkExecution(t *testing.T, f *fakeModel, x *Execution, text string) {
	t.Helper()
	if len(x.Steps) != 5 || !strings.HasPrefix(x.Answer, "Answer: ") {
		t.Fatalf("%d steps, answer %q", len(x.Steps), x.Answer)
	}
	for _, i := range []int{0, 2} { // the finds return passages of the text
		for _, p := range strings.Split(x.Steps[i].Output, passageSeparator) {
			if !strings.Contains(text, p) && !strings.HasPrefix(p, "(no passage") {
				t.Errorf("step %d found a passage that is not in the document: %q", i+1, preview(p))
			}
		}
	}
	// the summarize step read what the find found: its chunk call quotes it
	if got := f.materials("chunk"); len(got) != 1 || got[0] != x.Steps[0].Output {
		t.Errorf("summarize read %d texts, want the find's output", len(got))
	}
	kinds := f.kinds()
	if kinds["plan"] != 1 || kinds["chunk"] != 1 || kinds["compare"] != 1 || kinds["answer"] != 1 || x.Calls != 4 {
		t.Errorf("calls %v (Calls %d), want plan, chunk (summarize), compare and answer once each", kinds, x.Calls)
	}
	checkUsage(t, f, x.Stats)
}

// checkNoDuplicates asserts that no two items of a list say the same thing.
func checkNoDuplicates(t *testing.T, doc *MinutesDoc) {
	t.Helper()
	for name, list := range map[string][]string{"decisions": doc.Decisions, "open questions": doc.OpenQuestions, "attendees": doc.Attendees} {
		if got := dedupe(list); len(got) != len(list) {
			t.Errorf("%s hold duplicates: %q", name, list)
		}
	}
	seen := map[string]bool{}
	for _, a := range doc.ActionItems {
		key := strings.Join(normalWords(a.Task), " ")
		if seen[key] {
			t.Errorf("action item %q twice", a.Task)
		}
		seen[key] = true
	}
}
