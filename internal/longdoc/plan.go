package longdoc

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"flywheel/internal/jsonschema"
	"flywheel/internal/llm"
	"flywheel/internal/prompt"
)

// PlanSchema is the JSON schema of an ActionPlan: what Plan asks the model
// for.
//
//go:embed plan_schema.json
var PlanSchema []byte

// Actions a plan may take.
const (
	// ActionFind finds the passages of the document that match a query:
	// args [query].
	ActionFind = "find"
	// ActionSummarize summarises a text: args [text, focus?].
	ActionSummarize = "summarize"
	// ActionCompare compares two texts: args [a, b, aspect?].
	ActionCompare = "compare"
	// ActionAnswer answers the question from what the steps found: args
	// [material...]. It is the last step of every plan.
	ActionAnswer = "answer"
)

// DocumentVar names the whole document in a plan: "$document".
const DocumentVar = "document"

// ActionPlan is what the model plans to do to answer a question about a
// long document (the PEARL idea: plan, execute, combine). Each step's
// result is stored under its Output name; an argument "$name" refers to
// it, "$document" to the whole document, and any other argument is
// literal text.
type ActionPlan struct {
	Steps []Step `json:"steps"`
	// Stats are the calls that made the plan (with the repair, if any).
	Stats `json:"-"`
}

// Step is one action of a plan.
type Step struct {
	Action string   `json:"action"`
	Args   []string `json:"args"`
	Output string   `json:"output"`
}

func (s Step) String() string {
	return fmt.Sprintf("%s = %s(%s)", s.Output, s.Action, strings.Join(quoteLiterals(s.Args), ", "))
}

func quoteLiterals(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if _, ok := reference(a); ok {
			out[i] = a
		} else {
			out[i] = fmt.Sprintf("%q", a)
		}
	}
	return out
}

// reference is the variable an argument names ("$name"), if it names one.
func reference(arg string) (string, bool) {
	name, ok := strings.CutPrefix(arg, "$")
	return name, ok && validName(name)
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		letter := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '_'
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// arity is the least and most arguments of each action (-1: any number).
var arity = map[string][2]int{
	ActionFind:      {1, 1},
	ActionSummarize: {1, 2},
	ActionCompare:   {2, 3},
	ActionAnswer:    {1, -1},
}

// Check reports the first thing wrong with the plan: an unknown action, a
// wrong number of arguments, a reference to a name no earlier step
// defines, an output defined twice, more than maxSteps steps (≤ 0: no
// bound), or a last step that is not answer.
func (p *ActionPlan) Check(maxSteps int) error {
	if len(p.Steps) == 0 {
		return errors.New("the plan has no steps: end it with an answer step")
	}
	if maxSteps > 0 && len(p.Steps) > maxSteps {
		return fmt.Errorf("the plan has %d steps, more than the %d allowed: plan fewer", len(p.Steps), maxSteps)
	}
	defined := []string{DocumentVar}
	for i, s := range p.Steps {
		where := fmt.Sprintf("step %d (%s)", i+1, s.Action)
		bounds, ok := arity[s.Action]
		if !ok {
			return fmt.Errorf("step %d: unknown action %q: use find, summarize, compare or answer", i+1, s.Action)
		}
		if len(s.Args) < bounds[0] || (bounds[1] >= 0 && len(s.Args) > bounds[1]) {
			return fmt.Errorf("%s: %d arguments, want %s", where, len(s.Args), arityText(bounds))
		}
		for _, a := range s.Args {
			if name, ok := reference(a); ok && !slices.Contains(defined, name) {
				return fmt.Errorf("%s: argument %s names no earlier result (defined: $%s)", where, a, strings.Join(defined, ", $"))
			}
		}
		if s.Action == ActionAnswer && i != len(p.Steps)-1 {
			return fmt.Errorf("%s: answer must be the last step", where)
		}
		if !validName(s.Output) {
			return fmt.Errorf("%s: output name %q: use letters, digits and _, starting with a letter", where, s.Output)
		}
		if slices.Contains(defined, s.Output) {
			return fmt.Errorf("%s: output %q is already defined: give each step its own name", where, s.Output)
		}
		defined = append(defined, s.Output)
	}
	if last := p.Steps[len(p.Steps)-1]; last.Action != ActionAnswer {
		return fmt.Errorf("the last step is %s: end the plan with an answer step", last.Action)
	}
	return nil
}

func arityText(b [2]int) string {
	switch {
	case b[1] < 0:
		return fmt.Sprintf("at least %d", b[0])
	case b[0] == b[1]:
		return fmt.Sprint(b[0])
	}
	return fmt.Sprintf("%d to %d", b[0], b[1])
}

// PlanOptions configure Plan, Execute and Ask.
type PlanOptions struct {
	Options
	// Title names the document to the planner, when known.
	Title string
	// MaxSteps bounds a plan (default 8).
	MaxSteps int
	// Search, when set, finds the passages that match a query for the find
	// action; the default ranks chunks of the document by BM25.
	Search func(ctx context.Context, query string) ([]string, error)
	// FindK is how many passages a find returns (default 4).
	FindK int
}

const (
	defaultMaxSteps = 8
	defaultFindK    = 4
	tmplPlan        = "plan_actions"
	tmplRepair      = "repair_json"
)

func (o PlanOptions) withDefaults() PlanOptions {
	o.Options = o.Options.withDefaults(defaultMaxTokens)
	if o.MaxSteps <= 0 {
		o.MaxSteps = defaultMaxSteps
	}
	if o.FindK <= 0 {
		o.FindK = defaultFindK
	}
	return o
}

// Plan asks m for a plan of actions that answers question about document.
// The model sees the question, the document's title and an outline (the
// opening words of its parts); its answer is constrained by PlanSchema. A
// model that writes the numbered lines of the plan template instead ("1. find:
// …") gets them translated (see PlanFromSteps). The plan is checked
// (ActionPlan.Check); an invalid one is sent back once, with what is
// wrong, for repair; a second invalid plan is an error.
func Plan(ctx context.Context, m llm.Model, document, question string, opt PlanOptions) (*ActionPlan, error) {
	o := opt.withDefaults()
	if strings.TrimSpace(question) == "" {
		return nil, errors.New("longdoc: plan: the question is empty")
	}
	v := prompt.Vars{"task": prompt.String(question), "title": prompt.String(opt.Title),
		"outline": prompt.Strings(outline(o.Options, document)...), "max_steps": prompt.Int(o.MaxSteps)}
	plan := &ActionPlan{}
	resp, err := o.chat(ctx, m, tmplPlan, v, PlanSchema)
	if resp != nil {
		plan.Stats.add("plan", resp)
	}
	if err != nil {
		return nil, fmt.Errorf("longdoc: plan: %w", err)
	}
	o.report("plan", 1, 1)
	first := responseText(resp)
	perr := plan.decode(first, o.MaxSteps)
	if perr == nil {
		return plan, nil
	}
	v = prompt.Vars{"text": prompt.String(first), "error": prompt.String(perr.Error()), "schema": prompt.String(string(PlanSchema))}
	resp, err = o.chat(ctx, m, tmplRepair, v, PlanSchema)
	if resp != nil {
		plan.Stats.add("plan repair", resp)
	}
	if err != nil {
		return nil, fmt.Errorf("longdoc: plan: repairing the plan (%v): %w", perr, err)
	}
	if err := plan.decode(responseText(resp), o.MaxSteps); err != nil {
		return nil, fmt.Errorf("longdoc: plan: the model's plan is invalid after one repair: %w (first attempt: %v); the repaired plan begins %q", err, perr, preview(responseText(resp)))
	}
	return plan, nil
}

// outlineParts is how many parts the outline shows, and outlineWords how
// many of each part's opening words.
const (
	outlineParts = 12
	outlineWords = 16
)

// outline lists the opening words of the document's parts, so the planner
// knows roughly what is where.
func outline(o Options, document string) []string {
	size := max(o.Count(document)/outlineParts+1, minRoom)
	var out []string
	for _, c := range o.split(document, size) {
		words := strings.Fields(c.Text)
		line := strings.Join(words[:min(len(words), outlineWords)], " ")
		if len(words) > outlineWords {
			line += " …"
		}
		out = append(out, line)
	}
	return out
}

// decode reads a model's plan into p and checks it: JSON as PlanSchema
// says, or else the numbered lines of the plan template.
func (p *ActionPlan) decode(text string, maxSteps int) error {
	p.Steps = nil
	if !strings.Contains(text, "{") {
		steps, err := prompt.ParsePlan(text)
		if err != nil {
			return fmt.Errorf("the plan is neither JSON nor numbered actions: %w", err)
		}
		p.Steps = PlanFromSteps(steps).Steps
		return p.Check(maxSteps)
	}
	schema, err := planSchema()
	if err != nil {
		return err
	}
	raw := jsonObject(text)
	if err := schema.Validate(raw); err != nil {
		return fmt.Errorf("the plan does not satisfy PlanSchema: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return fmt.Errorf("the plan is not a plan: %w", err)
	}
	return p.Check(maxSteps)
}

// PlanFromSteps translates the plan template's line actions into steps
// with named results: find X → find [X]; summarise all → summarize
// [$document]; summarise X → find [X], summarize [$found, X]; compare A |
// B → find [A], find [B], compare; extract X → summarize [$document,
// "list X"]; answer X → answer [every result but the finds that fed
// another step, "The answer must contain: X"].
func PlanFromSteps(steps []prompt.Step) *ActionPlan {
	p := &ActionPlan{}
	var results []string // the outputs the answer reads
	n := 0
	add := func(action, prefix string, args ...string) string {
		n++
		name := fmt.Sprintf("%s%d", prefix, n)
		p.Steps = append(p.Steps, Step{Action: action, Args: args, Output: name})
		return "$" + name
	}
	for _, s := range steps {
		arg := strings.TrimSpace(s.Arg)
		switch s.Action {
		case prompt.ActionFind:
			results = append(results, add(ActionFind, "found", arg))
		case prompt.ActionSummarise:
			if arg == "" || strings.EqualFold(arg, "all") {
				results = append(results, add(ActionSummarize, "summary", "$"+DocumentVar))
			} else {
				results = append(results, add(ActionSummarize, "summary", add(ActionFind, "found", arg), arg))
			}
		case prompt.ActionCompare:
			a, b := s.Sides()
			results = append(results, add(ActionCompare, "comparison", add(ActionFind, "found", a), add(ActionFind, "found", b)))
		case prompt.ActionExtract:
			results = append(results, add(ActionSummarize, "extract", "$"+DocumentVar, "list "+arg))
		case prompt.ActionAnswer:
			material := slices.Clone(results)
			if len(material) == 0 {
				material = []string{"$" + DocumentVar}
			}
			if arg != "" {
				material = append(material, "The answer must contain: "+arg)
			}
			add(ActionAnswer, "answer", material...)
			return p
		}
	}
	return p
}

// planSchema is PlanSchema compiled, once.
var planSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	s, err := jsonschema.Compile(PlanSchema)
	if err != nil {
		return nil, fmt.Errorf("longdoc: PlanSchema: %w", err)
	}
	return s, nil
})
