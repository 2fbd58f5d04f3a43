package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
)

// Price is what a model charges, in US dollars per million tokens.
type Price struct {
	Input  float64 `json:"input"`  // per 1M prompt tokens
	Output float64 `json:"output"` // per 1M completion tokens
}

// Cost is the price of usage u.
func (p Price) Cost(u Usage) float64 {
	return (float64(u.PromptTokens)*p.Input + float64(u.CompletionTokens)*p.Output) / 1e6
}

// Pricing maps model names to prices. A name also prices its dated
// variants: "gpt-4o-mini" prices "gpt-4o-mini-2024-07-18" (the longest
// such name wins).
type Pricing map[string]Price

// Lookup returns the price of model and the table entry that priced it.
func (p Pricing) Lookup(model string) (price Price, entry string, ok bool) {
	if pr, ok := p[model]; ok {
		return pr, model, true
	}
	for name, pr := range p {
		if len(name) > len(entry) && strings.HasPrefix(model, name) && len(model) > len(name) && (model[len(name)] == '-' || model[len(name)] == '@' || model[len(name)] == ':') {
			price, entry, ok = pr, name, true
		}
	}
	return price, entry, ok
}

// ParsePricing reads a pricing table: a JSON object of model name →
// {"input": $ per 1M tokens, "output": $ per 1M tokens}.
func ParsePricing(raw []byte) (Pricing, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var p Pricing
	if err := dec.Decode(&p); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return nil, fmt.Errorf("byte %d: %w", syn.Offset, err)
		case errors.As(err, &typ) && typ.Field != "":
			return nil, fmt.Errorf("byte %d, field %q: want a number of dollars per 1M tokens: %w", typ.Offset, typ.Field, err)
		}
		return nil, fmt.Errorf("want {\"model\": {\"input\": $/1M tokens, \"output\": $/1M tokens}}: %w", err)
	}
	if dec.Decode(new(json.RawMessage)) != io.EOF {
		return nil, errors.New("data after the pricing object")
	}
	for name, pr := range p {
		if pr.Input < 0 || pr.Output < 0 {
			return nil, fmt.Errorf("model %q: negative price", name)
		}
	}
	return p, nil
}

// LoadPricing reads a pricing table from a JSON file (see ParsePricing).
func LoadPricing(path string) (Pricing, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("llm: pricing: %w", err)
	}
	p, err := ParsePricing(raw)
	if err != nil {
		return nil, fmt.Errorf("llm: pricing %s: %w", path, err)
	}
	return p, nil
}

// Totals sum the requests of one key or one model.
type Totals struct {
	Requests int
	Usage    Usage
	Cost     float64 // US dollars
}

// Ledger records the cost of each request, with totals per key and per
// model, and holds per-key budgets. It is safe for concurrent use.
type Ledger struct {
	pricing Pricing

	mu      sync.Mutex
	byKey   map[string]Totals
	byModel map[string]Totals
	budgets map[string]float64
}

// NewLedger returns an empty ledger that prices with p (nil: everything
// costs 0).
func NewLedger(p Pricing) *Ledger {
	return &Ledger{pricing: p, byKey: map[string]Totals{}, byModel: map[string]Totals{}, budgets: map[string]float64{}}
}

// Pricing is the ledger's price table.
func (l *Ledger) Pricing() Pricing { return l.pricing }

// Record adds one request of key ("" anonymous) to model and returns its
// cost. The model total is kept under the pricing entry that priced it
// (so dated variants add up under their family), else under model.
func (l *Ledger) Record(key, model string, u Usage) float64 {
	price, entry, ok := l.pricing.Lookup(model)
	if ok {
		model = entry
	}
	cost := price.Cost(u)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byKey[key] = l.byKey[key].add(u, cost)
	l.byModel[model] = l.byModel[model].add(u, cost)
	return cost
}

func (t Totals) add(u Usage, cost float64) Totals {
	return Totals{Requests: t.Requests + 1, Usage: t.Usage.Add(u), Cost: t.Cost + cost}
}

// Key returns the totals of key.
func (l *Ledger) Key(key string) Totals {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byKey[key]
}

// Model returns the totals of model (its pricing entry's name when priced).
func (l *Ledger) Model(model string) Totals {
	if _, entry, ok := l.pricing.Lookup(model); ok {
		model = entry
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byModel[model]
}

// Keys returns the keys that have made requests, sorted.
func (l *Ledger) Keys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return sortedKeys(l.byKey)
}

// Models returns the models that have answered, sorted.
func (l *Ledger) Models() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return sortedKeys(l.byModel)
}

func sortedKeys(m map[string]Totals) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SetBudget caps what key may spend, in US dollars; a negative budget
// removes the cap.
func (l *Ledger) SetBudget(key string, dollars float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if dollars < 0 {
		delete(l.budgets, key)
		return
	}
	l.budgets[key] = dollars
}

// Budget returns key's budget and what it has spent; ok is false when key
// has no budget.
func (l *Ledger) Budget(key string) (budget, spent float64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	budget, ok = l.budgets[key]
	return budget, l.byKey[key].Cost, ok
}

// OverBudget says whether key has spent all of its budget. The check is
// made before a request: the request that crosses the budget completes
// and is recorded.
func (l *Ledger) OverBudget(key string) bool {
	budget, spent, ok := l.Budget(key)
	return ok && spent >= budget
}

// Meter wraps m so that each answer is priced, recorded under
// Request.Key and Response.Model, and its Response.Cost filled. (A Router
// with this ledger does the same for its routes: do not meter its routes
// again.)
func (l *Ledger) Meter(m Model) Model {
	return Func(func(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
		resp, err := m.Chat(ctx, req, stream)
		if resp != nil && resp.Usage != (Usage{}) {
			resp.Cost = l.Record(req.Key, resp.Model, resp.Usage)
		}
		return resp, err
	})
}
