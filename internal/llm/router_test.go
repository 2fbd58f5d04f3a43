package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeModel answers with its name and counts its calls; fail makes it
// fail, delay makes it slow.
type fakeModel struct {
	name  string
	usage Usage
	fail  error
	delay time.Duration
	calls atomic.Int32
	last  atomic.Pointer[Request]
}

func (f *fakeModel) Chat(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
	f.calls.Add(1)
	f.last.Store(&req)
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if f.fail != nil {
		return nil, f.fail
	}
	if stream != nil {
		if err := stream(f.name); err != nil {
			return nil, err
		}
	}
	return &Response{Model: f.name, Text: "answer from " + f.name, Usage: f.usage, FinishReason: FinishStop}, nil
}

func newRouter(t *testing.T, cfg RouterConfig) *Router {
	t.Helper()
	r, err := NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRouterFallback(t *testing.T) {
	down := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, `{"error":{"message":"bad gateway"}}`)
	})
	up := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
		writeSSE(w, completion{model: "deepseek-chat", usage: &Usage{4, 2, 6}}, []string{"he", "llo"})
	})
	router := newRouter(t, RouterConfig{Routes: []Route{
		{Name: "down", Model: down.client(t, OpenAIConfig{Retries: 1})},
		{Name: "up", Model: up.client(t, OpenAIConfig{Model: "deepseek-chat"})},
	}})
	var deltas []string
	resp, err := router.Chat(context.Background(), Request{Messages: user("hi")}, func(d string) error {
		deltas = append(deltas, d)
		return nil
	})
	assertNoKey(t, resp, err)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "hello" || resp.Model != "deepseek-chat" || !reflect.DeepEqual(deltas, []string{"he", "llo"}) {
		t.Errorf("response %+v, deltas %q", resp, deltas)
	}
	if down.calls() != 2 || up.calls() != 1 {
		t.Errorf("calls: down %d (want 2: one retry), up %d", down.calls(), up.calls())
	}
	for _, want := range []string{
		"router: try down, up",
		"down: gpt-4o-mini: attempt 1 failed: POST " + down.srv.URL + "/v1/chat/completions: 502 Bad Gateway: bad gateway; retrying in 1ms",
		"router: route down failed: llm: gpt-4o-mini: POST " + down.srv.URL + "/v1/chat/completions: 502 Bad Gateway: bad gateway; falling back to up",
		"router: answered by up",
	} {
		if !traceHas(resp, want) {
			t.Errorf("trace lacks %q:\n%s", want, strings.Join(resp.Trace, "\n"))
		}
	}
}

func TestRouterNoFallback(t *testing.T) {
	t.Run("all fail", func(t *testing.T) {
		a, b := &fakeModel{name: "a", fail: errors.New("boom a")}, &fakeModel{name: "b", fail: errors.New("boom b")}
		_, err := newRouter(t, RouterConfig{Routes: []Route{{Name: "a", Model: a}, {Name: "b", Model: b}}}).Chat(context.Background(), Request{Messages: user("q")}, nil)
		if err == nil || !strings.Contains(err.Error(), "every route failed (a: boom a; b: boom b)") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		a := Func(func(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
			cancel()
			return &Response{Text: "par", FinishReason: FinishCancelled}, ctx.Err()
		})
		b := &fakeModel{name: "b"}
		resp, err := newRouter(t, RouterConfig{Routes: []Route{{Name: "a", Model: a}, {Name: "b", Model: b}}}).Chat(ctx, Request{Messages: user("q")}, nil)
		if !errors.Is(err, context.Canceled) || b.calls.Load() != 0 || resp.Text != "par" || !traceHas(resp, "router: route a failed (cancelled)") {
			t.Errorf("err %v, b called %d times, resp %+v", err, b.calls.Load(), resp)
		}
	})
	t.Run("after streamed text", func(t *testing.T) {
		a := Func(func(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
			stream("partial")
			return &Response{Text: "partial"}, errors.New("connection reset")
		})
		b := &fakeModel{name: "b"}
		resp, err := newRouter(t, RouterConfig{Routes: []Route{{Name: "a", Model: a}, {Name: "b", Model: b}}}).Chat(context.Background(), Request{Messages: user("q")}, func(string) error { return nil })
		if err == nil || b.calls.Load() != 0 || !traceHas(resp, "text was already streamed, no fallback") {
			t.Errorf("err %v, b called %d times, trace %q", err, b.calls.Load(), resp.Trace)
		}
	})
}

func TestRouterRules(t *testing.T) {
	pricing, err := LoadPricing("testdata/pricing.json")
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("word ", 400) // 2000 bytes: ~504 tokens with the message overhead
	for _, tc := range []struct {
		name     string
		strategy Strategy
		req      Request
		budget   float64 // for key "k"; 0: none
		spent    Usage   // already spent by key "k" on gpt-4o
		noFree   bool    // drop the local route
		want     string  // the route that answers
		wantSkip []string
		wantErr  error
	}{
		{name: "order", strategy: ByOrder, req: Request{Messages: user("q")}, want: "big"},
		{name: "cost", strategy: ByCost, req: Request{Messages: user("q")}, want: "local"},
		{name: "cost without free", strategy: ByCost, req: Request{Messages: user("q")}, noFree: true, want: "mini"},
		{name: "named", strategy: ByCost, req: Request{Model: "big", Messages: user("q")}, want: "big"},
		{name: "unknown name", req: Request{Model: "gpt-5", Messages: user("q")}, wantErr: ErrUnknownModel},
		{name: "context window", strategy: ByCost, req: Request{Messages: user(long)}, want: "mini",
			wantSkip: []string{"router: skipped local: ~504 tokens > context window 256"}},
		{name: "context window with max tokens", strategy: ByCost, req: Request{Messages: user(long), MaxTokens: 1000}, want: "big",
			wantSkip: []string{"router: skipped local: ~1504 tokens > context window 256", "router: skipped mini: ~1504 tokens > context window 1024"}},
		{name: "nothing fits", req: Request{Messages: user(long), MaxTokens: 1 << 20}, wantErr: ErrNoRoute},
		{name: "under budget", strategy: ByOrder, req: Request{Key: "k", Messages: user("q")}, budget: 1, spent: Usage{PromptTokens: 100_000}, want: "big"},
		{name: "over budget: free routes only", strategy: ByOrder, req: Request{Key: "k", Messages: user("q")}, budget: 1, spent: Usage{PromptTokens: 400_000}, want: "local",
			wantSkip: []string{`router: skipped big: key "k" is over its budget and the route is not free`}},
		{name: "over budget, other key unaffected", strategy: ByOrder, req: Request{Key: "other", Messages: user("q")}, budget: 1, spent: Usage{PromptTokens: 400_000}, want: "big"},
		{name: "over budget, no free route", strategy: ByOrder, req: Request{Key: "k", Messages: user("q")}, budget: 1, spent: Usage{PromptTokens: 400_000}, noFree: true, wantErr: ErrOverBudget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ledger := NewLedger(pricing)
			if tc.budget > 0 {
				ledger.SetBudget("k", tc.budget)
				ledger.Record("k", "gpt-4o", tc.spent)
			}
			models := map[string]*fakeModel{"big": {name: "big"}, "mini": {name: "mini"}, "local": {name: "local"}}
			routes := []Route{
				{Name: "big", Model: models["big"], PriceAs: "gpt-4o", ContextWindow: 128_000},
				{Name: "mini", Model: models["mini"], PriceAs: "gpt-4o-mini", ContextWindow: 1024},
				{Name: "local", Model: models["local"], ContextWindow: 256, Free: true},
			}
			if tc.noFree {
				routes = routes[:2]
			}
			resp, err := newRouter(t, RouterConfig{Routes: routes, Strategy: tc.strategy, Ledger: ledger}).Chat(context.Background(), tc.req, nil)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Model != tc.want {
				t.Errorf("answered by %s, want %s; trace:\n%s", resp.Model, tc.want, strings.Join(resp.Trace, "\n"))
			}
			if got := models[tc.want].last.Load().Model; got != "" {
				t.Errorf("the backend got Request.Model %q, want \"\"", got)
			}
			for _, s := range tc.wantSkip {
				if !traceHas(resp, s) {
					t.Errorf("trace lacks %q:\n%s", s, strings.Join(resp.Trace, "\n"))
				}
			}
		})
	}
}

func TestRouterLatency(t *testing.T) {
	slow, fast := &fakeModel{name: "slow", delay: 30 * time.Millisecond}, &fakeModel{name: "fast"}
	router := newRouter(t, RouterConfig{Strategy: ByLatency, Routes: []Route{{Name: "slow", Model: slow}, {Name: "fast", Model: fast}}})
	var got []string
	for range 4 {
		resp, err := router.Chat(context.Background(), Request{Messages: user("q")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, resp.Model)
	}
	// slow: both untimed, configured order; fast: still untimed; then the faster.
	if want := []string{"slow", "fast", "fast", "fast"}; !reflect.DeepEqual(got, want) {
		t.Errorf("answered by %q, want %q", got, want)
	}
	if router.Latency("slow") < 30*time.Millisecond || router.Latency("fast") >= router.Latency("slow") {
		t.Errorf("latencies slow %v fast %v", router.Latency("slow"), router.Latency("fast"))
	}
}

func TestNewRouterErrors(t *testing.T) {
	m := &fakeModel{name: "m"}
	for _, cfg := range []RouterConfig{
		{},
		{Routes: []Route{{Name: "", Model: m}}},
		{Routes: []Route{{Name: "a"}}},
		{Routes: []Route{{Name: "a", Model: m}, {Name: "a", Model: m}}},
	} {
		if _, err := NewRouter(cfg); err == nil {
			t.Errorf("NewRouter(%+v) succeeded", cfg)
		}
	}
}

func TestEstimateTokens(t *testing.T) {
	for _, tc := range []struct {
		text string
		want int
	}{
		{"", 4},
		{"abcd", 5},
		{"abcde", 6},
		{"日本語", 7},           // 3 CJK characters
		{"héllo", 4 + 1 + 1}, // 4 ASCII bytes, 1 other character
	} {
		if got := EstimateTokens(user(tc.text)); got != tc.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", tc.text, got, tc.want)
		}
	}
}
