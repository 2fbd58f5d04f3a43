package longdoc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"flywheel/internal/llm"
	"flywheel/internal/prompt"
)

// Execution is an executed plan: the answer and what each step did.
type Execution struct {
	Answer string
	Plan   *ActionPlan
	Steps  []StepResult
	// Stats total the planning and every step's calls.
	Stats
}

// StepResult is what one step of a plan produced.
type StepResult struct {
	Step   Step
	Output string
	Stats
}

// tmplAnswer is the template of the answer step: the question over
// numbered passages.
const tmplAnswer = "rag_answer"

// Ask plans how to answer question about document with m and executes the
// plan: Plan, then Execute.
func Ask(ctx context.Context, m llm.Model, document, question string, opt PlanOptions) (*Execution, error) {
	plan, err := Plan(ctx, m, document, question, opt)
	if err != nil {
		return nil, err
	}
	return Execute(ctx, m, document, question, plan, opt)
}

// Execute runs plan over document: find searches the document, summarize
// and compare call m on their arguments, answer composes the answer to
// question from its arguments. Arguments "$name" are replaced by the
// result of the step that output name ("$document": the whole document).
// Texts too long for one call are summarised by map-reduce (summarize) or
// cut to fit (compare, answer).
func Execute(ctx context.Context, m llm.Model, document, question string, plan *ActionPlan, opt PlanOptions) (*Execution, error) {
	o := opt.withDefaults()
	if err := plan.Check(o.MaxSteps); err != nil {
		return nil, fmt.Errorf("longdoc: execute: %w", err)
	}
	x := &executor{m: m, o: o, document: document, question: question}
	out := &Execution{Plan: plan}
	out.Stats.merge(plan.Stats)
	env := map[string]string{DocumentVar: document}
	for i, s := range plan.Steps {
		args := make([]string, len(s.Args))
		for k, a := range s.Args {
			args[k] = a
			if name, ok := reference(a); ok {
				args[k] = env[name]
			}
		}
		res := StepResult{Step: s}
		var err error
		res.Output, res.Stats, err = x.run(ctx, s.Action, args)
		for k := range res.Stats.Trace {
			res.Stats.Trace[k] = fmt.Sprintf("step %d %s: %s", i+1, s.Output, res.Stats.Trace[k])
		}
		out.Stats.merge(res.Stats)
		out.Steps = append(out.Steps, res)
		if err != nil {
			return out, fmt.Errorf("longdoc: execute: step %d (%s): %w", i+1, s, err)
		}
		env[s.Output] = res.Output
		o.report("execute", i+1, len(plan.Steps))
	}
	out.Answer = out.Steps[len(out.Steps)-1].Output
	return out, nil
}

// executor runs the actions of one plan.
type executor struct {
	m                  llm.Model
	o                  PlanOptions
	document, question string
	lex                *lexicon // built on the first find
}

func (x *executor) run(ctx context.Context, action string, args []string) (string, Stats, error) {
	switch action {
	case ActionFind:
		text, err := x.find(ctx, args[0])
		return text, Stats{}, err
	case ActionSummarize:
		return x.summarize(ctx, args[0], optional(args, 1))
	case ActionCompare:
		return x.compare(ctx, args[0], args[1], optional(args, 2))
	case ActionAnswer:
		return x.answer(ctx, args)
	}
	return "", Stats{}, fmt.Errorf("unknown action %q", action)
}

func optional(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

// passageSeparator stands between the passages a find returns.
const passageSeparator = "\n…\n"

// find returns the passages that best match query, in document order.
func (x *executor) find(ctx context.Context, query string) (string, error) {
	var passages []string
	if x.o.Search != nil {
		found, err := x.o.Search(ctx, query)
		if err != nil {
			return "", err
		}
		passages = found[:min(len(found), x.o.FindK)]
	} else {
		lex, err := x.lexicon()
		if err != nil {
			return "", err
		}
		for _, i := range lex.search(query, x.o.FindK) {
			passages = append(passages, lex.passages[i].Text)
		}
	}
	if len(passages) == 0 {
		return fmt.Sprintf("(no passage of the document matches %q)", query), nil
	}
	return strings.Join(passages, passageSeparator), nil
}

// lexicon indexes the document in passages small enough that FindK of
// them fit one call.
func (x *executor) lexicon() (*lexicon, error) {
	if x.lex != nil {
		return x.lex, nil
	}
	s := summarizer{o: x.o.Options}
	room, err := x.o.roomFor(tmplChunk, s.chunkVars("", 0, 0), 0)
	if err != nil {
		return nil, err
	}
	size := max(room/x.o.FindK-x.o.Count(passageSeparator), minRoom)
	x.lex = newLexicon(x.o.split(x.document, size))
	return x.lex, nil
}

// summarize summarises text, by map-reduce when it is longer than a call.
func (x *executor) summarize(ctx context.Context, text, focus string) (string, Stats, error) {
	if strings.TrimSpace(text) == "" {
		return "", Stats{}, errors.New("nothing to summarize: the argument is empty")
	}
	s, err := Summarize(ctx, x.m, text, SummarizeOptions{Options: x.quiet(), Focus: focus})
	if s == nil {
		return "", Stats{}, err
	}
	return s.Text, s.Stats, err
}

const tmplCompare = "compare"

// compareVars fills the compare template.
func compareVars(o Options, a, b, aspect string) prompt.Vars {
	v := prompt.Vars{"first": prompt.String(a), "second": prompt.String(b), "max_words": o.maxWords(combineWords)}
	if aspect != "" {
		v["aspect"] = prompt.String(aspect)
	}
	return v
}

// compare asks how a and b compare, each cut to half the room.
func (x *executor) compare(ctx context.Context, a, b, aspect string) (string, Stats, error) {
	room, err := x.o.roomFor(tmplCompare, compareVars(x.o.Options, "", "", aspect), 0)
	if err != nil {
		return "", Stats{}, err
	}
	half := room/2 - summaryCost
	return x.call(ctx, "compare", tmplCompare, compareVars(x.o.Options, x.o.truncate(a, half), x.o.truncate(b, half), aspect))
}

// answer composes the answer to the question from the material, quoted as
// numbered passages that fit one call.
func (x *executor) answer(ctx context.Context, material []string) (string, Stats, error) {
	room, err := x.o.roomFor(tmplAnswer, x.answerVars(prompt.Packed{}), 0)
	if err != nil {
		return "", Stats{}, err
	}
	var passages []prompt.Passage
	for i, m := range material {
		if strings.TrimSpace(m) != "" {
			passages = append(passages, prompt.Passage{ID: fmt.Sprint(i + 1), Text: m})
		}
	}
	packed := prompt.Pack(passages, room, x.o.Count)
	return x.call(ctx, "answer", tmplAnswer, x.answerVars(packed))
}

func (x *executor) answerVars(p prompt.Packed) prompt.Vars {
	return prompt.Vars{"question": prompt.String(x.question), "passages": prompt.Passages(p)}
}

func (x *executor) call(ctx context.Context, label, name string, v prompt.Vars) (string, Stats, error) {
	var stats Stats
	resp, err := x.o.chat(ctx, x.m, name, v, nil)
	if resp != nil {
		stats.add(label, resp)
	}
	if err != nil {
		return "", stats, err
	}
	return responseText(resp), stats, nil
}

// quiet is the options without the progress callback, for the calls
// inside a step: Execute reports steps.
func (x *executor) quiet() Options {
	o := x.o.Options
	o.Progress = nil
	return o
}
