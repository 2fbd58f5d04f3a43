package longdoc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"flywheel/internal/chunk"
	"flywheel/internal/llm"
	"flywheel/internal/prompt"
)

// wordCount is the token counter of the synthetic tests: one token a word.
func wordCount(s string) int { return len(strings.Fields(s)) }

// syntheticText has n lines of 100 distinct words each.
func syntheticText(n int) string {
	lines := make([]string, n)
	for i := range lines {
		words := make([]string, 100)
		for k := range words {
			words[k] = fmt.Sprintf("w%d_%d", i, k)
		}
		lines[i] = strings.Join(words, " ")
	}
	return strings.Join(lines, "\n")
}

// contextFor is the context that leaves room tokens for the summaries of
// a summarize_combine call.
func contextFor(t *testing.T, o Options, room int) int {
	t.Helper()
	o.Context = 1 << 20
	big, err := o.withDefaults(defaultMaxTokens).roomFor(tmplCombine, combineVars(o.withDefaults(defaultMaxTokens), nil, ""), 0)
	if err != nil {
		t.Fatal(err)
	}
	return o.Context - big + room
}

// Every chunk is one line (100 words, ChunkTokens 100); every fake summary
// is 30 words, 42 tokens with its wrapping, so a combine call with room
// 200 takes 4 of them. The expected calls are worked out by hand.
func TestSummarizeCalls(t *testing.T) {
	cases := []struct {
		name                  string
		lines, room           int
		strategy              Strategy
		chunks, combine, refs int
	}{
		{"one chunk", 1, 200, MapReduce, 1, 0, 0},
		{"one combine", 3, 200, MapReduce, 3, 1, 0},
		// 10 → groups 4,4,2 → 3 calls → 3 summaries → 1 call
		{"two rounds", 10, 200, MapReduce, 10, 4, 0},
		// 5 → groups 4,1 → 1 call (the lone one passes) → 2 → 1 call
		{"lone summary passes", 5, 200, MapReduce, 5, 2, 0},
		{"everything fits", 10, 1000, MapReduce, 10, 1, 0},
		{"refine", 10, 200, Refine, 1, 0, 9},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Count: wordCount, ChunkTokens: 100, Concurrency: 3}
			o.Context = contextFor(t, o, tc.room)
			var events []Progress
			o.Progress = func(p Progress) { events = append(events, p) }
			f := &fakeModel{}
			s, err := Summarize(context.Background(), f, syntheticText(tc.lines), SummarizeOptions{Options: o, Strategy: tc.strategy})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Chunks) != tc.lines {
				t.Fatalf("%d chunks, want %d", len(s.Chunks), tc.lines)
			}
			got := f.kinds()
			want := map[string]int{"chunk": tc.chunks, "combine": tc.combine, "refine": tc.refs}
			for k, n := range want {
				if got[k] != n {
					t.Errorf("%s calls = %d, want %d (all: %v)", k, got[k], n, got)
				}
			}
			calls := tc.chunks + tc.combine + tc.refs
			if s.Calls != calls || len(s.Trace) != calls || len(events) != calls {
				t.Errorf("Calls %d, trace %d, progress events %d, want %d", s.Calls, len(s.Trace), len(events), calls)
			}
			checkUsage(t, f, s.Stats)
			if len(s.Partials) != len(s.Chunks) || s.Text == "" {
				t.Errorf("%d partials for %d chunks, text %q", len(s.Partials), len(s.Chunks), s.Text)
			}
			if last := events[len(events)-1]; last.Done != last.Total {
				t.Errorf("last progress %+v", last)
			}
		})
	}
}

// checkUsage asserts that stats sum what the fake reported.
func checkUsage(t *testing.T, f *fakeModel, stats Stats) {
	t.Helper()
	u, cost := f.usage()
	if stats.Usage != u || stats.Calls != len(f.calls) {
		t.Errorf("usage %+v over %d calls, the model reported %+v over %d", stats.Usage, stats.Calls, u, len(f.calls))
	}
	if d := stats.Cost - cost; d > 1e-9 || d < -1e-9 {
		t.Errorf("cost %g, want %g", stats.Cost, cost)
	}
}

// checkCoverage asserts that chunks tile text (in order, without overlap,
// with only white space between them) and that each chunk was quoted in
// exactly one of the map calls, which number as many as the chunks.
func checkCoverage(t *testing.T, text string, chunks []chunk.Chunk, mapped []string) {
	t.Helper()
	if len(mapped) != len(chunks) {
		t.Errorf("%d map calls for %d chunks", len(mapped), len(chunks))
	}
	end := 0
	for i, c := range chunks {
		if c.Start < end || text[c.Start:c.End] != c.Text {
			t.Fatalf("chunk %d [%d,%d) overlaps the one before (ends %d) or is not the text there", i, c.Start, c.End, end)
		}
		if gap := text[end:c.Start]; strings.TrimSpace(gap) != "" {
			t.Fatalf("bytes %d–%d before chunk %d were not sent: %q", end, c.Start, i, preview(gap))
		}
		end = c.End
		quoted := prompt.EscapeData(c.Text)
		n := 0
		for _, m := range mapped {
			if strings.Contains(m, quoted) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("chunk %d was quoted in %d map calls, want 1", i, n)
		}
	}
	if rest := text[end:]; strings.TrimSpace(rest) != "" {
		t.Errorf("the text after byte %d was not sent", end)
	}
}

func TestSummarizeTooSmallContext(t *testing.T) {
	_, err := Summarize(context.Background(), &fakeModel{}, "some text", SummarizeOptions{Options: Options{Context: 300, MaxTokens: 200}})
	if err == nil || !strings.Contains(err.Error(), "raise the context") {
		t.Fatalf("err = %v", err)
	}
}

func TestSummarizeCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Summarize(ctx, &fakeModel{}, syntheticText(10), SummarizeOptions{Options: Options{Count: wordCount, ChunkTokens: 100}})
	if err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("err = %v, want a cancellation", err)
	}
}

func TestPackGroups(t *testing.T) {
	o := Options{Count: wordCount}
	s := func(n int) string { return strings.TrimSpace(strings.Repeat("x ", n)) }
	cases := []struct {
		sizes []int
		room  int
		want  []int // group lengths
	}{
		{[]int{30, 30, 30, 30, 30}, 200, []int{4, 1}},
		{[]int{30, 30}, 200, []int{2}},
		{[]int{500, 500, 500}, 200, []int{2, 1}}, // each cut to half the room
	}
	for _, tc := range cases {
		var in []string
		for _, n := range tc.sizes {
			in = append(in, s(n))
		}
		groups := packGroups(o, in, tc.room)
		var got []int
		for _, g := range groups {
			got = append(got, len(g))
			total := 0
			for _, x := range g {
				total += wordCount(x) + summaryCost
			}
			if total > tc.room {
				t.Errorf("sizes %v: a group of %d tokens exceeds the room %d", tc.sizes, total, tc.room)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("sizes %v room %d: groups %v, want %v", tc.sizes, tc.room, got, tc.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	o := Options{Count: wordCount}
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"a b c d", 2, "a b "},
		{"a b", 5, "a b"},
		{"héllo wörld", 1, "héllo "},
		{"a", 0, ""},
	}
	for _, tc := range cases {
		if got := o.truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// The map step runs Concurrency calls at once, and no more.
func TestMapConcurrency(t *testing.T) {
	const bound = 3
	var mu sync.Mutex
	inFlight, peak := 0, 0
	full := make(chan struct{}) // closed when bound calls are in flight together
	var once sync.Once
	f := &fakeModel{}
	m := llm.Func(func(ctx context.Context, req llm.Request, stream func(string) error) (*llm.Response, error) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		if inFlight == bound {
			once.Do(func() { close(full) })
		}
		mu.Unlock()
		select {
		case <-full:
		case <-time.After(10 * time.Second):
			return nil, errors.New("the map step never ran 3 calls at once")
		}
		defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		return f.Chat(ctx, req, stream)
	})
	o := Options{Count: wordCount, ChunkTokens: 100, Concurrency: bound}
	if _, err := Summarize(context.Background(), m, syntheticText(10), SummarizeOptions{Options: o}); err != nil {
		t.Fatal(err)
	}
	if peak != bound {
		t.Errorf("%d calls at once, want %d", peak, bound)
	}
}

// A failing call stops the map step and names the part.
func TestMapFailure(t *testing.T) {
	f := &fakeModel{}
	var mu sync.Mutex
	calls := 0
	m := llm.Func(func(ctx context.Context, req llm.Request, stream func(string) error) (*llm.Response, error) {
		if strings.Contains(req.Messages[len(req.Messages)-1].Content, "w2_0 ") {
			return nil, errors.New("upstream is down")
		}
		mu.Lock()
		calls++
		mu.Unlock()
		return f.Chat(ctx, req, stream)
	})
	o := Options{Count: wordCount, ChunkTokens: 100, Concurrency: 1}
	s, err := Summarize(context.Background(), m, syntheticText(10), SummarizeOptions{Options: o})
	if err == nil || !strings.Contains(err.Error(), "map 3/10: upstream is down") {
		t.Fatalf("err = %v", err)
	}
	if calls != 2 || s == nil || s.Calls != 2 {
		t.Errorf("%d calls made, Summary %+v: want the two before the failure", calls, s)
	}
}
