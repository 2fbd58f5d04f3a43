package llm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Route is one backend of a Router.
type Route struct {
	// Name identifies the route; a Request.Model equal to it picks it.
	Name  string
	Model Model
	// PriceAs is the model name the pricing table prices this route by,
	// and the model its costs are recorded under (default Name).
	PriceAs string
	// ContextWindow is the most tokens (prompt + MaxTokens) the backend
	// takes; 0: unbounded.
	ContextWindow int
	// Free marks a backend that costs nothing (a local engine): keys over
	// their budget may still use it. A route priced at 0 is free too.
	Free bool
}

// Strategy orders the eligible routes; the first is tried first and the
// others are the fallbacks.
type Strategy int

const (
	ByOrder   Strategy = iota // the order of RouterConfig.Routes
	ByCost                    // cheapest estimated cost first (unpriced routes cost 0)
	ByLatency                 // lowest observed latency (EWMA) first; routes never timed first
)

func (s Strategy) String() string {
	switch s {
	case ByCost:
		return "cost"
	case ByLatency:
		return "latency"
	}
	return "order"
}

// RouterConfig configures a Router. Only Routes is required.
type RouterConfig struct {
	Routes   []Route
	Strategy Strategy
	// Ledger prices the routes, records each answer's cost under the
	// request's key and the route's PriceAs, and holds the budgets; nil:
	// no costs, no budgets. Do not also meter the routes with it.
	Ledger *Ledger
	// EstimateTokens counts a prompt's tokens for the context-window rule
	// and cost estimates (default EstimateTokens, about 4 bytes a token).
	EstimateTokens func([]Message) int
	// ExpectedCompletion is the completion length assumed when ranking by
	// cost a request without MaxTokens (default 256 tokens).
	ExpectedCompletion int
}

// Errors of routing; the messages wrapping them say which rule refused
// which route.
var (
	ErrNoRoute    = errors.New("no route can take the request")
	ErrOverBudget = errors.New("the key has spent its budget")
)

// Router is a Model over named routes. It picks the routes that can take a
// request — the one Request.Model names, else all; whose context window
// holds the prompt; free ones only for a key over its budget — orders them
// by its Strategy, and falls back to the next one when a route fails
// (never after a cancellation, nor once text has been streamed). Each step
// goes into Response.Trace.
type Router struct {
	cfg     RouterConfig
	mu      sync.Mutex
	latency map[string]time.Duration // EWMA of successful calls
}

// latencyWeight is the weight of the newest observation in the EWMA.
const latencyWeight = 0.3

// NewRouter checks cfg and returns the router.
func NewRouter(cfg RouterConfig) (*Router, error) {
	if len(cfg.Routes) == 0 {
		return nil, errors.New("llm: a router needs at least one route")
	}
	seen := map[string]bool{}
	for i, rt := range cfg.Routes {
		if rt.Name == "" || rt.Model == nil {
			return nil, fmt.Errorf("llm: route %d: needs a name and a model", i)
		}
		if seen[rt.Name] {
			return nil, fmt.Errorf("llm: route %q is listed twice", rt.Name)
		}
		seen[rt.Name] = true
		if rt.PriceAs == "" {
			cfg.Routes[i].PriceAs = rt.Name
		}
	}
	cfg.Routes = slices.Clone(cfg.Routes)
	if cfg.EstimateTokens == nil {
		cfg.EstimateTokens = EstimateTokens
	}
	if cfg.ExpectedCompletion <= 0 {
		cfg.ExpectedCompletion = 256
	}
	return &Router{cfg: cfg, latency: map[string]time.Duration{}}, nil
}

// Latency is the observed latency (EWMA) of the named route; 0 before its
// first success.
func (r *Router) Latency(name string) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.latency[name]
}

// Chat routes req; see Router.
func (r *Router) Chat(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
	start := time.Now()
	routes, trace, err := r.plan(req)
	if err != nil {
		return nil, err
	}
	var failures []string
	for i, rt := range routes {
		resp, streamed, err := r.try(ctx, rt, req, stream)
		trace = append(trace, prefixed(rt.Name, resp)...)
		if err == nil {
			resp.Trace = append(trace, "router: answered by "+rt.Name)
			resp.Latency = time.Since(start)
			return resp, nil
		}
		failures = append(failures, fmt.Sprintf("%s: %v", rt.Name, err))
		if ctx.Err() != nil || streamed || i == len(routes)-1 {
			if resp == nil {
				resp = &Response{Model: rt.Name}
			}
			why := "no route left"
			switch {
			case ctx.Err() != nil:
				why = "cancelled"
			case streamed:
				why = "text was already streamed, no fallback"
			}
			resp.Trace = append(trace, fmt.Sprintf("router: route %s failed (%s): %v", rt.Name, why, err))
			resp.Latency = time.Since(start)
			if len(failures) > 1 {
				return resp, fmt.Errorf("llm: router: every route failed (%s): %w", strings.Join(failures, "; "), err)
			}
			return resp, err
		}
		trace = append(trace, fmt.Sprintf("router: route %s failed: %v; falling back to %s", rt.Name, err, routes[i+1].Name))
	}
	panic("unreachable")
}

// try calls one route and, on success, records its latency and cost.
// streamed says whether text reached the caller.
func (r *Router) try(ctx context.Context, rt Route, req Request, stream func(string) error) (*Response, bool, error) {
	streamed := false
	var watched func(string) error
	if stream != nil {
		watched = func(d string) error { streamed = true; return stream(d) }
	}
	routed := req
	routed.Model = "" // Request.Model named the route; the backend uses its own
	t0 := time.Now()
	resp, err := rt.Model.Chat(ctx, routed, watched)
	if resp != nil {
		if resp.Model == "" {
			resp.Model = rt.Name
		}
		if l := r.cfg.Ledger; l != nil && resp.Usage != (Usage{}) {
			resp.Cost = l.Record(req.Key, rt.PriceAs, resp.Usage)
		}
	}
	if err == nil {
		r.observe(rt.Name, time.Since(t0))
	}
	return resp, streamed, err
}

func (r *Router) observe(name string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.latency[name]; ok {
		d = time.Duration(latencyWeight*float64(d) + (1-latencyWeight)*float64(old))
	}
	r.latency[name] = d
}

// prefixed is resp's trace, each line naming the route unless it already
// starts with it.
func prefixed(route string, resp *Response) []string {
	if resp == nil {
		return nil
	}
	out := make([]string, len(resp.Trace))
	for i, s := range resp.Trace {
		if strings.HasPrefix(s, route+":") {
			out[i] = s
		} else {
			out[i] = route + ": " + s
		}
	}
	return out
}

// plan returns the routes that may take req, in the order to try them,
// and the trace of what the rules decided.
func (r *Router) plan(req Request) ([]Route, []string, error) {
	candidates := r.cfg.Routes
	if req.Model != "" {
		i := slices.IndexFunc(candidates, func(rt Route) bool { return rt.Name == req.Model })
		if i < 0 {
			return nil, nil, fmt.Errorf("llm: router: %w %q: the routes are %s", ErrUnknownModel, req.Model, r.names())
		}
		candidates = candidates[i : i+1]
	}
	prompt := r.cfg.EstimateTokens(req.Conversation())
	need := prompt + max(req.MaxTokens, 0)
	over := r.cfg.Ledger != nil && r.cfg.Ledger.OverBudget(req.Key)
	trace := []string{fmt.Sprintf("router: ~%d prompt tokens, strategy %v", prompt, r.cfg.Strategy)}
	var eligible []Route
	var refused []string
	budgetRefused := false
	for _, rt := range candidates {
		switch {
		case rt.ContextWindow > 0 && need > rt.ContextWindow:
			refused = append(refused, fmt.Sprintf("%s: ~%d tokens > context window %d", rt.Name, need, rt.ContextWindow))
		case over && !r.free(rt):
			refused = append(refused, fmt.Sprintf("%s: key %q is over its budget and the route is not free", rt.Name, req.Key))
			budgetRefused = true
		default:
			eligible = append(eligible, rt)
			continue
		}
		trace = append(trace, "router: skipped "+refused[len(refused)-1])
	}
	if len(eligible) == 0 {
		if budgetRefused {
			budget, spent, _ := r.cfg.Ledger.Budget(req.Key)
			return nil, trace, fmt.Errorf("llm: router: key %q: %w ($%.4f of $%.4f) and no free route can take the request (%s); raise the budget or add a free local route",
				req.Key, ErrOverBudget, spent, budget, strings.Join(refused, "; "))
		}
		return nil, trace, fmt.Errorf("llm: router: %w (%s)", ErrNoRoute, strings.Join(refused, "; "))
	}
	r.order(eligible, prompt, req.MaxTokens)
	names := make([]string, len(eligible))
	for i, rt := range eligible {
		names[i] = rt.Name
	}
	trace = append(trace, "router: try "+strings.Join(names, ", "))
	return eligible, trace, nil
}

// order sorts the routes by the strategy; ties keep the configured order.
func (r *Router) order(routes []Route, prompt, maxTokens int) {
	switch r.cfg.Strategy {
	case ByCost:
		completion := r.cfg.ExpectedCompletion
		if maxTokens > 0 {
			completion = maxTokens
		}
		u := Usage{PromptTokens: prompt, CompletionTokens: completion}
		slices.SortStableFunc(routes, func(a, b Route) int {
			return cmp.Compare(r.price(a).Cost(u), r.price(b).Cost(u))
		})
	case ByLatency:
		r.mu.Lock()
		lat := maps.Clone(r.latency)
		r.mu.Unlock()
		slices.SortStableFunc(routes, func(a, b Route) int {
			return cmp.Compare(lat[a.Name], lat[b.Name])
		})
	}
}

// price is the route's price; unpriced routes cost 0.
func (r *Router) price(rt Route) Price {
	if rt.Free || r.cfg.Ledger == nil {
		return Price{}
	}
	p, _, _ := r.cfg.Ledger.Pricing().Lookup(rt.PriceAs)
	return p
}

// free says whether a key over its budget may use the route: marked Free,
// or priced at 0 in the table.
func (r *Router) free(rt Route) bool {
	if rt.Free {
		return true
	}
	p, _, ok := r.cfg.Ledger.Pricing().Lookup(rt.PriceAs)
	return ok && p == Price{}
}

func (r *Router) names() string {
	names := make([]string, len(r.cfg.Routes))
	for i, rt := range r.cfg.Routes {
		names[i] = rt.Name
	}
	return strings.Join(names, ", ")
}

// EstimateTokens is a tokenizer-free estimate of a prompt's tokens: about
// one token per 4 bytes of text, plus 4 per message for the chat
// template's markup.
func EstimateTokens(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += 4 + estimateTextTokens(m.Content)
	}
	return n
}

// estimateTextTokens is about one token per 4 ASCII bytes, one per CJK
// character and one per 2 other characters: tokenizers split those
// scripts finer, and overestimating keeps a prompt inside a context window.
func estimateTextTokens(s string) int {
	ascii, cjk, other := 0, 0, 0
	for _, c := range s {
		switch {
		case c < utf8.RuneSelf:
			ascii++
		case c >= 0x2E80:
			cjk++
		default:
			other++
		}
	}
	return (ascii+3)/4 + cjk + (other+1)/2
}
