package longdoc

import (
	"fmt"
	"sort"
	"sync"

	"flywheel/internal/chunk"
	"flywheel/internal/document"
	"flywheel/internal/llm"
	"flywheel/internal/prompt"
)

// Options size and pace the model calls of every task here. The zero value
// assumes a 4,096-token context, estimates tokens, makes four calls at a
// time and uses the built-in prompt templates.
type Options struct {
	// Context is the model's context in tokens: prompt and completion of
	// one call together (default 4096).
	Context int
	// MaxTokens bounds what one call generates (default 512; 1024 for
	// minutes, whose JSON is longer).
	MaxTokens int
	// ChunkTokens is how much document one call reads, in tokens (0: what
	// the context leaves after the prompt and the completion).
	ChunkTokens int
	// Count measures text in the model's tokens (default:
	// prompt.ApproxTokens, an estimate; give the model's tokenizer when the
	// context is tight).
	Count func(string) int
	// Concurrency bounds the calls made at once in a map step (default 4).
	Concurrency int
	// Temperature of every call (0: greedy).
	Temperature float64
	// Prompts holds the templates (default: the built-in ones).
	Prompts *prompt.Library
	// Progress, when set, is called after each model call.
	Progress func(Progress)
}

// Progress reports how far a task is: calls done of those planned in the
// current stage ("map", "combine round N", "refine", "plan", "execute").
type Progress struct {
	Stage       string
	Done, Total int
}

// Stats totals the model calls of a task.
type Stats struct {
	Calls int
	Usage llm.Usage
	// Cost is in US dollars, summed from the responses.
	Cost float64
	// Trace says, in order, what each call did and what it used.
	Trace []string
}

// add counts one response; label says what the call was for.
func (s *Stats) add(label string, resp *llm.Response) {
	s.Calls++
	s.Usage = s.Usage.Add(resp.Usage)
	s.Cost += resp.Cost
	s.Trace = append(s.Trace, fmt.Sprintf("%s: %d prompt + %d completion tokens, finish %s",
		label, resp.Usage.PromptTokens, resp.Usage.CompletionTokens, resp.FinishReason))
}

// merge adds the calls of t to s.
func (s *Stats) merge(t Stats) {
	s.Calls += t.Calls
	s.Usage = s.Usage.Add(t.Usage)
	s.Cost += t.Cost
	s.Trace = append(s.Trace, t.Trace...)
}

const (
	defaultContext     = 4096
	defaultMaxTokens   = 512
	defaultConcurrency = 4
	// messageSlack is the tokens a chat template adds around one message
	// (role markers, separators), over the message's content.
	messageSlack = 8
)

func (o Options) withDefaults(maxTokens int) Options {
	if o.Context <= 0 {
		o.Context = defaultContext
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = maxTokens
	}
	if o.Count == nil {
		o.Count = prompt.ApproxTokens
	}
	if o.Concurrency <= 0 {
		o.Concurrency = defaultConcurrency
	}
	return o
}

// defaultPrompts is the library of built-in templates, loaded once.
var defaultPrompts = sync.OnceValues(func() (*prompt.Library, error) { return prompt.Open("") })

// promptTokens measures rendered messages as a chat model reads them.
func (o Options) promptTokens(msgs []llm.Message) int {
	n := 0
	for _, m := range msgs {
		n += o.Count(m.Content) + messageSlack
	}
	return n
}

// split cuts text into chunks of at most size tokens with no overlap, so
// the map step reads every part of the text exactly once.
func (o Options) split(text string, size int) []chunk.Chunk {
	return chunk.Split(document.Document{ID: "text", Text: text}, chunk.Config{Size: size, Overlap: -1, Length: o.Count})
}

// truncate cuts s to its longest prefix of at most n tokens, at a
// character boundary.
func (o Options) truncate(s string, n int) string {
	if o.Count(s) <= n {
		return s
	}
	var starts []int // the byte offset of every character
	for i := range s {
		starts = append(starts, i)
	}
	k := sort.Search(len(starts), func(k int) bool { return o.Count(s[:starts[k]]) > n })
	if k == 0 {
		return ""
	}
	return s[:starts[k-1]]
}
