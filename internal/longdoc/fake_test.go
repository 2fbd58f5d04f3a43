package longdoc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"flywheel/internal/llm"
)

// fakeModel is a deterministic chat model for tests. It recognises each
// template by the tags it quotes its material in and answers from that
// material: the first words of a text for a summary, minutes from the
// "Speaker: utterance" lines of a transcript, a canned plan.
type fakeModel struct {
	// plans are the answers to successive plan and repair requests; when
	// they run out, cannedPlan.
	plans []string

	mu    sync.Mutex
	calls []fakeCall
}

// fakeCall is one request the fake answered.
type fakeCall struct {
	kind string // chunk, refine, combine, minutes, plan, repair, answer
	// material is the text quoted in the prompt (the chunk, the
	// transcript, the summaries joined).
	material string
	req      llm.Request
	resp     llm.Response
}

// fakeWords is how many words a fake summary has.
const fakeWords = 30

// fakeCost is the price of every fake call.
const fakeCost = 0.001

func (f *fakeModel) Chat(ctx context.Context, req llm.Request, stream func(string) error) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	user := req.Messages[len(req.Messages)-1].Content
	var c fakeCall
	switch {
	case bytes.Equal(req.JSONSchema, MinutesSchema):
		c.kind, c.material = "minutes", between(user, "<transcript>\n", "\n</transcript>")
	case strings.Contains(user, "<json>"):
		c.kind, c.material = "repair", between(user, "<json>\n", "\n</json>")
	case bytes.Equal(req.JSONSchema, PlanSchema):
		c.kind, c.material = "plan", user
	case strings.Contains(user, "<first>"):
		c.kind, c.material = "compare", between(user, "<first>\n", "\n</first>")+"\n"+between(user, "<second>\n", "\n</second>")
	case strings.Contains(user, "<summaries>"):
		c.kind, c.material = "combine", strings.Join(allBetween(user, "\">\n", "\n</summary>"), "\n")
	case strings.Contains(user, "<summary>"):
		c.kind, c.material = "refine", between(user, "<summary>\n", "\n</summary>")+"\n"+between(user, "<text>\n", "\n</text>")
	case strings.Contains(user, "<text>"):
		c.kind, c.material = "chunk", between(user, "<text>\n", "\n</text>")
	case strings.Contains(user, "<passages>"):
		c.kind, c.material = "answer", between(user, "<passages>\n", "</passages>")
	default:
		return nil, fmt.Errorf("fake model: unrecognised prompt %q", preview(user))
	}
	text := f.answer(&c)
	prompt := 0
	for _, m := range req.Messages {
		prompt += len(strings.Fields(m.Content))
	}
	completion := len(strings.Fields(text))
	c.req = req
	c.resp = llm.Response{Model: "fake", Text: text, FinishReason: llm.FinishStop, Cost: fakeCost,
		Usage: llm.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	resp := c.resp
	return &resp, nil
}

func (f *fakeModel) answer(c *fakeCall) string {
	switch c.kind {
	case "minutes":
		return fakeMinutes(c.material)
	case "plan", "repair":
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.plans) > 0 {
			p := f.plans[0]
			f.plans = f.plans[1:]
			return p
		}
		return cannedPlan
	case "answer":
		return "Answer: " + firstWords(c.material, fakeWords)
	}
	return firstWords(c.material, fakeWords)
}

// cannedPlan uses every action and refers to earlier results.
const cannedPlan = `{"steps": [
 {"action": "find", "args": ["price cost euro budget"], "output": "price"},
 {"action": "summarize", "args": ["$price", "the price"], "output": "price_summary"},
 {"action": "find", "args": ["design buttons remote"], "output": "design"},
 {"action": "compare", "args": ["$price_summary", "$design", "cost"], "output": "cmp"},
 {"action": "answer", "args": ["$price_summary", "$cmp"], "output": "final"}]}`

// kinds counts the calls of each kind.
func (f *fakeModel) kinds() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := map[string]int{}
	for _, c := range f.calls {
		n[c.kind]++
	}
	return n
}

// usage sums the usage and cost the fake reported.
func (f *fakeModel) usage() (llm.Usage, float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var u llm.Usage
	cost := 0.0
	for _, c := range f.calls {
		u = u.Add(c.resp.Usage)
		cost += c.resp.Cost
	}
	return u, cost
}

func (f *fakeModel) materials(kind string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if c.kind == kind {
			out = append(out, c.material)
		}
	}
	return out
}

func between(s, open, close string) string {
	_, rest, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	in, _, _ := strings.Cut(rest, close)
	return in
}

func allBetween(s, open, close string) []string {
	var out []string
	for {
		_, rest, ok := strings.Cut(s, open)
		if !ok {
			return out
		}
		in, after, _ := strings.Cut(rest, close)
		out = append(out, in)
		s = after
	}
}

func firstWords(s string, n int) string {
	w := strings.Fields(s)
	return strings.Join(w[:min(n, len(w))], " ")
}

var speakerLine = regexp.MustCompile(`^([A-Z][^:]{0,40}): (.+)$`)

// fakeMinutes writes minutes from transcript lines: the first words as the
// summary, utterances about deciding or agreeing as decisions, "I will …"
// as action items of the speaker, questions as open questions.
func fakeMinutes(transcript string) string {
	doc := MinutesDoc{Summary: firstWords(transcript, fakeWords)}
	seen := map[string]bool{}
	for _, line := range strings.Split(transcript, "\n") {
		m := speakerLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		speaker, said := m[1], m[2]
		if !seen[speaker] {
			seen[speaker] = true
			doc.Attendees = append(doc.Attendees, speaker)
		}
		lower := strings.ToLower(said)
		switch {
		case (strings.Contains(lower, "decide") || strings.Contains(lower, "agree")) && len(doc.Decisions) < 3:
			doc.Decisions = append(doc.Decisions, firstWords(said, 12))
		case strings.Contains(lower, "i will ") && len(doc.ActionItems) < 3:
			item := ActionItem{Owner: speaker, Task: firstWords(said, 12)}
			if strings.Contains(lower, "next week") {
				item.Due = "next week"
			}
			doc.ActionItems = append(doc.ActionItems, item)
		case strings.HasSuffix(said, "?") && len(strings.Fields(said)) >= 6 && len(doc.OpenQuestions) < 3:
			doc.OpenQuestions = append(doc.OpenQuestions, said)
		}
	}
	doc.normalize()
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return string(b)
}
