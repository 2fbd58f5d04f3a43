package llm

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestLoadPricing(t *testing.T) {
	p, err := LoadPricing("testdata/pricing.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		model, entry string
		want         Price
		ok           bool
	}{
		{"gpt-4o", "gpt-4o", Price{2.5, 10}, true},
		{"gpt-4o-mini-2024-07-18", "gpt-4o-mini", Price{0.15, 0.6}, true},
		{"gpt-4o-2024-08-06", "gpt-4o", Price{2.5, 10}, true},
		{"gpt-4omni", "", Price{}, false},
		{"llama3", "", Price{}, false},
		{"local", "local", Price{}, true},
	} {
		got, entry, ok := p.Lookup(tc.model)
		if got != tc.want || entry != tc.entry || ok != tc.ok {
			t.Errorf("Lookup(%q) = %v %q %v, want %v %q %v", tc.model, got, entry, ok, tc.want, tc.entry, tc.ok)
		}
	}
}

var pricingCases = []struct {
	raw, wantErr string
}{
	{`{"m": {"input": 1, "output": 2}}`, ""},
	{`{}`, ""},
	{`{"m": {"input": 1, "ouput": 2}}`, `unknown field "ouput"`},
	{`{"m": {"input": "1"}}`, `byte 19, field "input": want a number`},
	{`{"m": {"input": -1}}`, `model "m": negative price`},
	{`{"m": {"input": 1}`, "unexpected EOF"},
	{`{"m": {"input": 1}} {}`, "data after the pricing object"},
	{`[1]`, "want {"},
}

func TestParsePricing(t *testing.T) {
	for _, tc := range pricingCases {
		_, err := ParsePricing([]byte(tc.raw))
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("ParsePricing(%s): error %v, want %q", tc.raw, err, tc.wantErr)
		}
	}
}

func FuzzParsePricing(f *testing.F) {
	for _, tc := range pricingCases {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := ParsePricing(raw)
		if err != nil {
			return
		}
		for name, pr := range p {
			if pr.Input < 0 || pr.Output < 0 {
				t.Fatalf("accepted a negative price for %q", name)
			}
		}
	})
}

// TestLedgerTotals sends requests of three keys through a router over two
// fake upstreams and checks the totals to the cent.
func TestLedgerTotals(t *testing.T) {
	pricing, err := LoadPricing("testdata/pricing.json")
	if err != nil {
		t.Fatal(err)
	}
	serve := func(model string) *fakeUpstream {
		return newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
			// The prompt says how many tokens to bill: "p c".
			var p, c int
			fmt.Sscanf(req["messages"].([]any)[0].(map[string]any)["content"].(string), "%d %d", &p, &c)
			writeJSON(w, completion{model: model, text: "ok", usage: &Usage{p, c, p + c}})
		})
	}
	big, mini := serve("gpt-4o-2024-08-06"), serve("gpt-4o-mini-2024-07-18")
	ledger := NewLedger(pricing)
	router, err := NewRouter(RouterConfig{Ledger: ledger, Routes: []Route{
		{Name: "big", Model: big.client(t, OpenAIConfig{Model: "gpt-4o"}), PriceAs: "gpt-4o"},
		{Name: "mini", Model: mini.client(t, OpenAIConfig{Model: "gpt-4o-mini"}), PriceAs: "gpt-4o-mini"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	requests := []struct {
		key, route string
		prompt     int
		completion int
		wantCost   float64 // dollars
	}{
		{"alice", "big", 120_000, 30_000, 0.60},     // 0.30 + 0.30
		{"alice", "mini", 1_000_000, 500_000, 0.45}, // 0.15 + 0.30
		{"bob", "big", 2_000_000, 0, 5.00},
		{"bob", "big", 0, 1_000, 0.01},
		{"", "mini", 200_000, 100_000, 0.09}, // 0.03 + 0.06
	}
	var wg sync.WaitGroup
	costs := make([]float64, len(requests))
	for i, rq := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := router.Chat(context.Background(), Request{Model: rq.route, Key: rq.key, Messages: user(fmt.Sprintf("%d %d", rq.prompt, rq.completion))}, nil)
			if err != nil {
				t.Error(err)
				return
			}
			costs[i] = resp.Cost
		}()
	}
	wg.Wait()
	for i, rq := range requests {
		if !sameDollars(costs[i], rq.wantCost) {
			t.Errorf("request %d: cost $%v, want $%v", i, costs[i], rq.wantCost)
		}
	}
	for _, tc := range []struct {
		name string
		got  Totals
		want Totals
	}{
		{"key alice", ledger.Key("alice"), Totals{2, Usage{1_120_000, 530_000, 1_650_000}, 1.05}},
		{"key bob", ledger.Key("bob"), Totals{2, Usage{2_000_000, 1_000, 2_001_000}, 5.01}},
		{"anonymous", ledger.Key(""), Totals{1, Usage{200_000, 100_000, 300_000}, 0.09}},
		{"model gpt-4o", ledger.Model("gpt-4o"), Totals{3, Usage{2_120_000, 31_000, 2_151_000}, 5.61}},
		{"model gpt-4o-mini (dated)", ledger.Model("gpt-4o-mini-2024-07-18"), Totals{2, Usage{1_200_000, 600_000, 1_800_000}, 0.54}},
	} {
		if tc.got.Requests != tc.want.Requests || tc.got.Usage != tc.want.Usage || !sameDollars(tc.got.Cost, tc.want.Cost) ||
			fmt.Sprintf("%.2f", tc.got.Cost) != fmt.Sprintf("%.2f", tc.want.Cost) {
			t.Errorf("%s: %+v, want %+v", tc.name, tc.got, tc.want)
		}
	}
	if got := ledger.Keys(); !reflect.DeepEqual(got, []string{"", "alice", "bob"}) {
		t.Errorf("keys %q", got)
	}
	if got := ledger.Models(); !reflect.DeepEqual(got, []string{"gpt-4o", "gpt-4o-mini"}) {
		t.Errorf("models %q", got)
	}
}

func TestLedgerMeter(t *testing.T) {
	pricing, _ := ParsePricing([]byte(`{"gpt-4o-mini": {"input": 0.15, "output": 0.60}}`))
	ledger := NewLedger(pricing)
	m := ledger.Meter(Func(func(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
		return &Response{Model: "gpt-4o-mini-2024-07-18", Text: "x", Usage: Usage{1_000_000, 1_000_000, 2_000_000}}, nil
	}))
	resp, err := m.Chat(context.Background(), Request{Key: "k", Messages: user("q")}, nil)
	if err != nil || !sameDollars(resp.Cost, 0.75) || !sameDollars(ledger.Key("k").Cost, 0.75) {
		t.Errorf("cost %v, key total %+v, err %v; want $0.75", resp.Cost, ledger.Key("k"), err)
	}
}
