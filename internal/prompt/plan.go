package prompt

import (
	"fmt"
	"regexp"
	"strings"
)

// Step is one action of a plan written by the model for the "plan"
// template: find, summarise, compare, extract or answer, with its
// argument as written ("a | b" for compare).
type Step struct {
	Action string
	Arg    string
}

// Actions a plan may use.
const (
	ActionFind      = "find"
	ActionSummarise = "summarise"
	ActionCompare   = "compare"
	ActionExtract   = "extract"
	ActionAnswer    = "answer"
)

// stepLine matches "1. find: …", "2) summarise: …", "- compare: …".
var stepLine = regexp.MustCompile(`(?i)^\s*(?:\d+\s*[.)]|[-*])?\s*\**(find|summari[sz]e|compare|extract|answer)\**\s*:\s*(.*?)\s*$`)

// ParsePlan reads the actions of a "plan" completion, one per line, and
// ignores other lines. A plan with no action is an error; one that does not
// end with answer gets an answer step added.
func ParsePlan(completion string) ([]Step, error) {
	var steps []Step
	for line := range strings.Lines(completion) {
		m := stepLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		action := strings.ToLower(m[1])
		if action == "summarize" {
			action = ActionSummarise
		}
		steps = append(steps, Step{Action: action, Arg: m[2]})
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("prompt: plan: no action in %q: want lines such as \"1. find: …\"", clip(completion))
	}
	if steps[len(steps)-1].Action != ActionAnswer {
		steps = append(steps, Step{Action: ActionAnswer})
	}
	return steps, nil
}

// Sides splits a compare argument "a | b" into its two sides.
func (s Step) Sides() (a, b string) {
	a, b, _ = strings.Cut(s.Arg, "|")
	return strings.TrimSpace(a), strings.TrimSpace(b)
}
