package llm

import (
	"context"
	"errors"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestTokenConfidence(t *testing.T) {
	for _, tc := range []struct {
		lps  []float64
		want float64
	}{
		{nil, 0},
		{[]float64{0, 0}, 1},
		{[]float64{-1, -3}, math.Exp(-2)},
		{[]float64{math.Log(0.5)}, 0.5},
	} {
		resp := &Response{}
		for _, lp := range tc.lps {
			resp.Logprobs = append(resp.Logprobs, Logprob{TokenLogprob: TokenLogprob{Logprob: lp}})
		}
		if got := TokenConfidence(resp); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("TokenConfidence(%v) = %v, want %v", tc.lps, got, tc.want)
		}
	}
}

// TestCascade runs an edge and a cloud fake upstream, both metered.
func TestCascade(t *testing.T) {
	pricing, err := LoadPricing("testdata/pricing.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		edgeLogprobs []float64 // per streamed piece
		edgeFails    bool
		want         string
		wantTrace    string
		wantUsage    Usage
		wantCost     float64
		wantDeltas   []string
	}{
		{name: "confident edge stays", edgeLogprobs: []float64{-0.05, -0.15}, want: "edge answer",
			wantTrace: "cascade: edge confidence 0.90 ≥ 0.50: kept", wantUsage: Usage{10, 2, 12}, wantCost: 0, wantDeltas: []string{"edge answer"}},
		{name: "unsure edge escalates", edgeLogprobs: []float64{-1.2, -1.14}, want: "cloud answer",
			wantTrace: "cascade: edge confidence 0.31 < 0.50: escalated to gpt-4o-mini", wantUsage: Usage{10 + 1000, 2 + 2000, 12 + 3000}, wantCost: 0.00135, wantDeltas: []string{"cloud", " answer"}},
		{name: "edge without logprobs escalates", edgeLogprobs: nil, want: "cloud answer",
			wantTrace: "cascade: edge confidence 0.00 < 0.50", wantUsage: Usage{1010, 2002, 3012}, wantCost: 0.00135, wantDeltas: []string{"cloud", " answer"}},
		{name: "failing edge escalates", edgeFails: true, want: "cloud answer",
			wantTrace: "cascade: edge failed (llm: llama-3.2-1b: POST", wantUsage: Usage{1000, 2000, 3000}, wantCost: 0.00135, wantDeltas: []string{"cloud", " answer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edge := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
				if tc.edgeFails {
					w.WriteHeader(http.StatusInternalServerError)
					return
				}
				writeReply(w, req, completion{model: "llama-3.2-1b", usage: &Usage{10, 2, 12}, logprobs: tc.edgeLogprobs}, []string{"edge ", "answer"})
			})
			cloud := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
				writeReply(w, req, completion{model: "gpt-4o-mini-2024-07-18", usage: &Usage{1000, 2000, 3000}}, []string{"cloud", " answer"})
			})
			ledger := NewLedger(pricing)
			c := &Cascade{
				Edge:      ledger.Meter(edge.client(t, OpenAIConfig{Model: "llama-3.2-1b", Retries: -1})),
				Cloud:     ledger.Meter(cloud.client(t, OpenAIConfig{})),
				CloudName: "gpt-4o-mini",
			}
			var deltas []string
			resp, err := c.Chat(context.Background(), Request{Key: "k", Messages: user("q")}, func(d string) error {
				deltas = append(deltas, d)
				return nil
			})
			assertNoKey(t, resp, err)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Text != tc.want || resp.Usage != tc.wantUsage || !sameDollars(resp.Cost, tc.wantCost) || !reflect.DeepEqual(deltas, tc.wantDeltas) {
				t.Errorf("text %q usage %+v cost %v deltas %q", resp.Text, resp.Usage, resp.Cost, deltas)
			}
			if !traceHas(resp, tc.wantTrace) {
				t.Errorf("trace lacks %q:\n%s", tc.wantTrace, strings.Join(resp.Trace, "\n"))
			}
			if edge.calls() > 0 && edge.request(0)["logprobs"] != true {
				t.Errorf("the edge was not asked for logprobs: %v", edge.request(0))
			}
			if resp.Logprobs != nil {
				t.Errorf("logprobs returned though the caller did not ask: %v", resp.Logprobs)
			}
			if !sameDollars(ledger.Key("k").Cost, tc.wantCost) {
				t.Errorf("ledger %+v, want $%v", ledger.Key("k"), tc.wantCost)
			}
		})
	}
}

func TestCascadeCustomConfidence(t *testing.T) {
	edge, cloud := &fakeModel{name: "edge"}, &fakeModel{name: "cloud"}
	c := &Cascade{Edge: edge, Cloud: cloud, Threshold: 0.8, Confidence: func(r *Response) float64 {
		if strings.Contains(r.Text, "edge") {
			return 0.79
		}
		return 1
	}}
	resp, err := c.Chat(context.Background(), Request{Messages: user("q")}, nil)
	if err != nil || resp.Model != "cloud" || !traceHas(resp, "confidence 0.79 < 0.80") {
		t.Errorf("resp %+v, err %v", resp, err)
	}
}

func TestCascadeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	edge := Func(func(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
		cancel()
		return &Response{FinishReason: FinishCancelled}, ctx.Err()
	})
	cloud := &fakeModel{name: "cloud"}
	_, err := (&Cascade{Edge: edge, Cloud: cloud}).Chat(ctx, Request{Messages: user("q")}, nil)
	if !errors.Is(err, context.Canceled) || cloud.calls.Load() != 0 {
		t.Errorf("err %v, cloud calls %d", err, cloud.calls.Load())
	}
}
