package longdoc

import (
	"context"
	"strings"
	"testing"

	"flywheel/internal/prompt"
)

func TestPlanCheck(t *testing.T) {
	step := func(action, output string, args ...string) Step { return Step{action, args, output} }
	cases := []struct {
		name  string
		steps []Step
		err   string
	}{
		{"valid", []Step{step("find", "a", "x"), step("summarize", "b", "$a"), step("answer", "c", "$b", "$document")}, ""},
		{"empty", nil, "no steps"},
		{"unknown action", []Step{step("search", "a", "x")}, `unknown action "search"`},
		{"arity", []Step{step("compare", "a", "$document"), step("answer", "b", "$a")}, "1 arguments, want 2 to 3"},
		{"undefined", []Step{step("summarize", "a", "$b"), step("answer", "b", "$a")}, "$b names no earlier result"},
		{"later result", []Step{step("summarize", "a", "$b"), step("find", "b", "x"), step("answer", "c", "$a")}, "$b names no earlier result"},
		{"twice", []Step{step("find", "a", "x"), step("find", "a", "y"), step("answer", "c", "$a")}, `"a" is already defined`},
		{"document is taken", []Step{step("find", "document", "x"), step("answer", "c", "$document")}, "already defined"},
		{"bad name", []Step{step("find", "1a", "x"), step("answer", "c", "x")}, "output name"},
		{"answer not last", []Step{step("answer", "a", "x"), step("find", "b", "x")}, "must be the last"},
		{"no answer", []Step{step("find", "a", "x")}, "end the plan with an answer"},
		{"too long", []Step{step("find", "a", "x"), step("find", "b", "x"), step("find", "c", "x"), step("answer", "d", "x")}, "more than the 3"},
	}
	for _, tc := range cases {
		err := (&ActionPlan{Steps: tc.steps}).Check(3)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.err)
		}
	}
}

func TestPlanFromSteps(t *testing.T) {
	steps, err := prompt.ParsePlan("1. find: the budget\n2. summarise: all\n3. compare: price | design\n4. extract: decisions\n5. summarise: the design\n6. answer: the cost")
	if err != nil {
		t.Fatal(err)
	}
	p := PlanFromSteps(steps)
	var got []string
	for _, s := range p.Steps {
		got = append(got, s.String())
	}
	want := []string{
		`found1 = find("the budget")`,
		`summary2 = summarize($document)`,
		`found3 = find("price")`,
		`found4 = find("design")`,
		`comparison5 = compare($found3, $found4)`,
		`extract6 = summarize($document, "list decisions")`,
		`found7 = find("the design")`,
		`summary8 = summarize($found7, "the design")`,
		`answer9 = answer($found1, $summary2, $comparison5, $extract6, $summary8, "The answer must contain: the cost")`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := p.Check(0); err != nil {
		t.Error(err)
	}
}

// The planner's answers, in turn, and what Plan makes of them.
func TestPlanRepair(t *testing.T) {
	undefined := `{"steps": [{"action": "summarize", "args": ["$nothing"], "output": "s"}, {"action": "answer", "args": ["$s"], "output": "a"}]}`
	cases := []struct {
		name    string
		answers []string
		calls   map[string]int
		steps   int
		err     string
	}{
		{"valid", []string{cannedPlan}, map[string]int{"plan": 1}, 5, ""},
		{"repaired", []string{undefined, cannedPlan}, map[string]int{"plan": 1, "repair": 1}, 5, ""},
		{"not json, repaired", []string{"{steps: oops", cannedPlan}, map[string]int{"plan": 1, "repair": 1}, 5, ""},
		{"numbered lines", []string{"1. find: price\n2. answer: the price"}, map[string]int{"plan": 1}, 2, ""},
		{"invalid twice", []string{undefined, undefined}, map[string]int{"plan": 1, "repair": 1}, 0, "invalid after one repair"},
		{"no plan at all", []string{"I cannot help.", "Still no."}, map[string]int{"plan": 1, "repair": 1}, 0, "neither JSON nor numbered actions"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeModel{plans: tc.answers}
			p, err := Plan(context.Background(), f, "Project Manager: the price is 25 euro.", "What is the price?", PlanOptions{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if len(p.Steps) != tc.steps || p.Calls != len(f.calls) {
				t.Errorf("%d steps over %d calls, want %d steps", len(p.Steps), p.Calls, tc.steps)
			}
			got := f.kinds()
			for k, n := range tc.calls {
				if got[k] != n {
					t.Errorf("calls %v, want %v", got, tc.calls)
				}
			}
		})
	}
}

func TestExecuteFindsNothing(t *testing.T) {
	plan := &ActionPlan{Steps: []Step{
		{ActionFind, []string{"zebra"}, "z"},
		{ActionAnswer, []string{"$z"}, "a"},
	}}
	f := &fakeModel{}
	x, err := Execute(context.Background(), f, "Alice: the price is 25 euro.", "Any zebras?", plan, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if x.Steps[0].Output != `(no passage of the document matches "zebra")` || !strings.Contains(f.materials("answer")[0], "no passage") {
		t.Errorf("find said %q; the answer read %q", x.Steps[0].Output, f.materials("answer"))
	}
}

func TestLexiconSearch(t *testing.T) {
	text := "Marketing: the remote should be cheap.\n\nDesigner: buttons and a screen.\n\nManager: the price is 25 euro, cost 12.5 euro.\n\nDesigner: the case is plastic."
	o := Options{Count: wordCount}
	lex := newLexicon(o.split(text, 10))
	cases := []struct {
		query string
		k     int
		want  []string // starts of the passages found, in document order
	}{
		{"What is the price in euro?", 1, []string{"Manager"}},
		{"buttons or plastic", 2, []string{"Designer: buttons", "Designer: the case"}},
		{"the and of", 3, nil}, // stop words only
		{"zebra", 3, nil},
	}
	for _, tc := range cases {
		var got []string
		for _, i := range lex.search(tc.query, tc.k) {
			got = append(got, lex.passages[i].Text)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: found %q, want passages starting %q", tc.query, got, tc.want)
			continue
		}
		for i := range got {
			if !strings.HasPrefix(got[i], tc.want[i]) {
				t.Errorf("%q: found %q, want passages starting %q", tc.query, got, tc.want)
			}
		}
	}
}
