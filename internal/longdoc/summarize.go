package longdoc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"flywheel/internal/chunk"
	"flywheel/internal/llm"
	"flywheel/internal/prompt"
)

// Strategy is how a text longer than the context is summarised.
type Strategy int

const (
	// MapReduce summarises every chunk on its own (in parallel), then
	// combines the partial summaries, in rounds, until they fit one call.
	MapReduce Strategy = iota
	// Refine summarises the first chunk, then rewrites the summary with
	// each further chunk in turn.
	Refine
)

func (s Strategy) String() string {
	if s == Refine {
		return "refine"
	}
	return "map-reduce"
}

// SummarizeOptions configure Summarize.
type SummarizeOptions struct {
	Options
	Strategy Strategy
	// Focus, when set, says what the summary should be about (a question,
	// a topic); "" summarises everything.
	Focus string
}

// Summary is a summary of a long text and how it was made.
type Summary struct {
	Text     string
	Strategy Strategy
	// Chunks are the parts of the text the model read, in order; they
	// cover the text without overlap.
	Chunks []chunk.Chunk
	// Partials holds, per chunk, the map step's summary (MapReduce) or the
	// summary after reading the chunk (Refine).
	Partials []string
	Stats
}

// Template names Summarize renders.
const (
	tmplChunk   = "summarize_chunk"
	tmplCombine = "summarize_combine"
	tmplRefine  = "summarize_refine"
)

// Summarize summarises text with m, however long it is: the text is cut
// into chunks that fit the model's context and summarised by the strategy.
// On failure it returns what was done so far, if anything (its Stats count
// the calls made), with the error.
func Summarize(ctx context.Context, m llm.Model, text string, opt SummarizeOptions) (*Summary, error) {
	o := opt.Options.withDefaults(defaultMaxTokens)
	s := &summarizer{m: m, o: o, focus: opt.Focus}
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("longdoc: summarize: the text is empty")
	}
	var out *Summary
	var err error
	switch opt.Strategy {
	case Refine:
		out, err = s.refine(ctx, text)
	default:
		out, err = s.mapReduce(ctx, text)
	}
	if out != nil {
		out.Strategy = opt.Strategy
	}
	if err != nil {
		return out, fmt.Errorf("longdoc: summarize (%s): %w", opt.Strategy, err)
	}
	return out, nil
}

// summarizer makes the calls of one summary.
type summarizer struct {
	m     llm.Model
	o     Options
	focus string
}

// Template word limits (the templates' defaults).
const (
	chunkWords   = 150
	combineWords = 250
)

func (s *summarizer) mapReduce(ctx context.Context, text string) (*Summary, error) {
	size, err := s.o.chunkSize(tmplChunk, s.chunkVars("", 99, 99), 0)
	if err != nil {
		return nil, err
	}
	out := &Summary{Chunks: s.o.split(text, size)}
	n := len(out.Chunks)
	partials, stats, err := mapCalls(ctx, s.o, "map", n, func(ctx context.Context, i int) (*llm.Response, error) {
		return s.o.chat(ctx, s.m, tmplChunk, s.chunkVars(out.Chunks[i].Text, i+1, n), nil)
	})
	out.Stats.merge(stats)
	if err != nil {
		return out, err
	}
	out.Partials = partials
	if n == 1 {
		out.Text = partials[0]
		return out, nil
	}
	out.Text, stats, err = combine(ctx, s.m, s.o, s.focus, partials)
	out.Stats.merge(stats)
	return out, err
}

// chunkVars are the variables of summarize_chunk on part i of n (measure
// the prompt with i = n = 99: "part 99 of 99" is as long as it gets).
func (s *summarizer) chunkVars(text string, i, n int) prompt.Vars {
	v := prompt.Vars{"text": prompt.String(text), "part": prompt.Int(i), "parts": prompt.Int(n), "max_words": s.o.maxWords(chunkWords)}
	if s.focus != "" {
		v["focus"] = prompt.String(s.focus)
	}
	return v
}

func (s *summarizer) refine(ctx context.Context, text string) (*Summary, error) {
	size, err := s.o.chunkSize(tmplRefine, s.refineVars("", "", 99, 99), s.o.MaxTokens)
	if err != nil {
		return nil, err
	}
	out := &Summary{Chunks: s.o.split(text, size)}
	n := len(out.Chunks)
	summary := ""
	for i, c := range out.Chunks {
		name, v := tmplChunk, s.chunkVars(c.Text, i+1, n)
		if i > 0 {
			name, v = tmplRefine, s.refineVars(summary, c.Text, i+1, n)
		}
		resp, err := s.o.chat(ctx, s.m, name, v, nil)
		if resp != nil {
			out.Stats.add(fmt.Sprintf("refine %d/%d", i+1, n), resp)
		}
		if err != nil {
			return out, fmt.Errorf("refine %d/%d: %w", i+1, n, err)
		}
		summary = responseText(resp)
		out.Partials = append(out.Partials, summary)
		s.o.report("refine", i+1, n)
	}
	out.Text = summary
	return out, nil
}

// refineVars are the variables of summarize_refine on part i of n.
func (s *summarizer) refineVars(summary, text string, i, n int) prompt.Vars {
	v := prompt.Vars{"summary": prompt.String(summary), "text": prompt.String(text),
		"part": prompt.Int(i), "parts": prompt.Int(n), "max_words": s.o.maxWords(combineWords)}
	if s.focus != "" {
		v["focus"] = prompt.String(s.focus)
	}
	return v
}

// combineVars are the variables of summarize_combine.
func combineVars(o Options, summaries []string, focus string) prompt.Vars {
	v := prompt.Vars{"summaries": prompt.Strings(summaries...), "max_words": o.maxWords(combineWords)}
	if focus != "" {
		v["focus"] = prompt.String(focus)
	}
	return v
}

// combine merges partial summaries into one: in one call when they all
// fit, otherwise in groups that fit, whose summaries are combined again.
func combine(ctx context.Context, m llm.Model, o Options, focus string, partials []string) (string, Stats, error) {
	var total Stats
	room, err := o.roomFor(tmplCombine, combineVars(o, nil, focus), 0)
	if err != nil {
		return "", total, err
	}
	for round := 1; ; round++ {
		groups := packGroups(o, partials, room)
		var calls []int // the groups with something to combine
		for i, g := range groups {
			if len(g) > 1 {
				calls = append(calls, i)
			}
		}
		texts, stats, err := mapCalls(ctx, o, fmt.Sprintf("combine round %d", round), len(calls), func(ctx context.Context, k int) (*llm.Response, error) {
			return o.chat(ctx, m, tmplCombine, combineVars(o, groups[calls[k]], focus), nil)
		})
		total.merge(stats)
		if err != nil {
			return "", total, err
		}
		next := make([]string, len(groups))
		for i, g := range groups {
			next[i] = g[0] // a group of one passes through
		}
		for k, i := range calls {
			next[i] = texts[k]
		}
		if len(next) == 1 {
			return next[0], total, nil
		}
		partials = next
	}
}

// summaryCost is what one summary adds to a summarize_combine prompt
// besides its text: its <summary part="N"> wrapping.
const summaryCost = 12

// packGroups puts consecutive summaries into groups of at most room tokens.
// Each summary is first cut to half the room, so any two fit together and
// every group but the last holds at least two: each round shrinks the list.
func packGroups(o Options, summaries []string, room int) [][]string {
	share := max(room/2-summaryCost, 1)
	var groups [][]string
	var cur []string
	used := 0
	for _, s := range summaries {
		s = o.truncate(s, share)
		n := o.Count(s) + summaryCost
		if len(cur) > 0 && used+n > room {
			groups = append(groups, cur)
			cur, used = nil, 0
		}
		cur = append(cur, s)
		used += n
	}
	return append(groups, cur)
}

// mapCalls makes n calls, at most o.Concurrency at a time, and returns
// their texts in order, with their stats in order. The first failure
// cancels the calls still running.
func mapCalls(ctx context.Context, o Options, stage string, n int, call func(ctx context.Context, i int) (*llm.Response, error)) ([]string, Stats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resps := make([]*llm.Response, n)
	errs := make([]error, n)
	sem := make(chan struct{}, o.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i := range n {
		sem <- struct{}{}
		if ctx.Err() != nil {
			<-sem
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			resps[i], errs[i] = call(ctx, i)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s %d/%d: %w", stage, i+1, n, errs[i])
				cancel()
				return
			}
			mu.Lock()
			done++
			o.report(stage, done, n)
			mu.Unlock()
		})
	}
	wg.Wait()
	var stats Stats
	texts := make([]string, n)
	for i, resp := range resps {
		if resp != nil {
			stats.add(fmt.Sprintf("%s %d/%d", stage, i+1, n), resp)
			texts[i] = responseText(resp)
		}
	}
	if err := firstError(errs); err != nil {
		return nil, stats, err
	}
	if err := ctx.Err(); err != nil {
		return nil, stats, err
	}
	return texts, stats, nil
}

// firstError is the first failure that is not a cancellation caused by
// another one, else the first failure.
func firstError(errs []error) error {
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}
