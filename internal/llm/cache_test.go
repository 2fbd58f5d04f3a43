package llm

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
)

// echoModel answers "echo: <last message>" and counts its calls.
type echoModel struct{ calls int }

func (m *echoModel) Chat(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
	m.calls++
	text := "echo: " + req.Messages[len(req.Messages)-1].Content
	if stream != nil {
		if err := stream(text); err != nil {
			return nil, err
		}
	}
	return &Response{Model: "m", Text: text, Usage: Usage{10, 5, 15}, Cost: 0.002, FinishReason: FinishStop}, nil
}

func TestCache(t *testing.T) {
	clock := time.Unix(0, 0)
	next := &echoModel{}
	c := NewCache(next, CacheConfig{Size: 2, TTL: time.Minute, Now: func() time.Time { return clock }})
	q := func(text string) Request { return Request{Messages: user(text)} }
	steps := []struct {
		name    string
		req     Request
		advance time.Duration
		wantHit bool
	}{
		{"first a", q("a"), 0, false},
		{"a again", q("a"), 0, true},
		{"a for another key", Request{Key: "other", Messages: user("a")}, 0, true},
		{"b", q("b"), 0, false},
		{"c evicts a, the least recently used", q("c"), 0, false},
		{"b still there", q("b"), 0, true},
		{"a was evicted", q("a"), 0, false},
		{"different sampling is a different request", Request{Messages: user("a"), MaxTokens: 5}, 0, false},
		{"sampled without a seed: not cached", Request{Messages: user("a"), Temperature: 0.8}, 0, false},
		{"sampled without a seed again: not cached", Request{Messages: user("a"), Temperature: 0.8}, 0, false},
		{"seeded: cached", Request{Messages: user("a"), Temperature: 0.8, Seed: 7}, 0, false},
		{"seeded again: hit", Request{Messages: user("a"), Temperature: 0.8, Seed: 7}, 0, true},
		{"stale after the TTL", Request{Messages: user("a"), Temperature: 0.8, Seed: 7}, 2 * time.Minute, false},
	}
	for _, s := range steps {
		clock = clock.Add(s.advance)
		before := next.calls
		var deltas []string
		resp, err := c.Chat(context.Background(), s.req, func(d string) error {
			deltas = append(deltas, d)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		hit := next.calls == before
		if hit != s.wantHit {
			t.Errorf("%s: hit %v, want %v", s.name, hit, s.wantHit)
		}
		want := "echo: " + s.req.Messages[0].Content
		if resp.Text != want || !reflect.DeepEqual(deltas, []string{want}) {
			t.Errorf("%s: text %q deltas %q", s.name, resp.Text, deltas)
		}
		if hit && (resp.Cost != 0 || resp.Usage != (Usage{}) || !traceHas(resp, "cache: exact hit (saved 15 tokens, $0.002000)")) {
			t.Errorf("%s: hit costs %v, usage %+v, trace %q", s.name, resp.Cost, resp.Usage, resp.Trace)
		}
	}
	if st := c.Stats(); st != (CacheStats{Hits: 4, Misses: 7, Skipped: 2, Evictions: 4}) {
		t.Errorf("stats %+v", st)
	}
	if c.Len() != 2 {
		t.Errorf("len %d, want 2", c.Len())
	}
}

func TestCacheKeepsNoFailure(t *testing.T) {
	calls := 0
	c := NewCache(Func(func(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
		calls++
		return &Response{Text: "half", FinishReason: FinishCancelled}, context.Canceled
	}), CacheConfig{})
	for range 2 {
		if _, err := c.Chat(context.Background(), Request{Messages: user("q")}, nil); !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	}
	if calls != 2 || c.Len() != 0 {
		t.Errorf("calls %d, len %d: a failed answer was cached", calls, c.Len())
	}
}

// letterEmbed embeds a text as its letter counts: texts that differ in
// punctuation or case have the same vector.
func letterEmbed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, s := range texts {
		v := make([]float32, 26)
		for _, r := range strings.ToLower(s) {
			if r >= 'a' && r <= 'z' {
				v[r-'a']++
			} else if !unicode.IsSpace(r) && !unicode.IsPunct(r) {
				return nil, errors.New("letters only")
			}
		}
		out[i] = v
	}
	return out, nil
}

func TestSemanticCache(t *testing.T) {
	next := &echoModel{}
	c, err := NewSemanticCache(next, SemanticCacheConfig{Embed: letterEmbed, CacheConfig: CacheConfig{Size: 8}})
	if err != nil {
		t.Fatal(err)
	}
	sys := func(system, q string) Request {
		return Request{Messages: []Message{{Role: RoleSystem, Content: system}, {Role: RoleUser, Content: q}}}
	}
	for _, s := range []struct {
		name      string
		req       Request
		wantHit   bool
		wantText  string
		wantTrace string
	}{
		{"first", sys("be brief", "What is the capital of France?"), false, "echo: What is the capital of France?", ""},
		{"same words, other case and punctuation", sys("be brief", "what is the capital of france"), true, "echo: What is the capital of France?", "semantic cache: hit, cosine 1.000 ≥ 0.950"},
		{"other system prompt", sys("be verbose", "what is the capital of france"), false, "echo: what is the capital of france", ""},
		{"other question", sys("be brief", "Who wrote Hamlet?"), false, "echo: Who wrote Hamlet?", ""},
		{"other model", Request{Model: "x", Messages: sys("be brief", "What is the capital of France?").Messages}, false, "echo: What is the capital of France?", ""},
		{"not embeddable: passes through", sys("be brief", "1 + 1 ="), false, "echo: 1 + 1 =", "semantic cache: skipped, the question could not be embedded (letters only)"},
		{"sampled: passes through", Request{Temperature: 1, Messages: user("What is the capital of France?")}, false, "echo: What is the capital of France?", ""},
	} {
		before := next.calls
		resp, err := c.Chat(context.Background(), s.req, nil)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if hit := next.calls == before; hit != s.wantHit || resp.Text != s.wantText {
			t.Errorf("%s: hit %v text %q, want %v %q", s.name, hit, resp.Text, s.wantHit, s.wantText)
		}
		if s.wantTrace != "" && !traceHas(resp, s.wantTrace) {
			t.Errorf("%s: trace %q lacks %q", s.name, resp.Trace, s.wantTrace)
		}
		if s.wantHit && (resp.Cost != 0 || resp.Usage != (Usage{})) {
			t.Errorf("%s: a hit costs %v", s.name, resp.Cost)
		}
	}
	if _, err := NewSemanticCache(next, SemanticCacheConfig{}); err == nil {
		t.Error("a semantic cache without an embedder was accepted")
	}
}
