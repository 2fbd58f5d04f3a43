package server

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"flywheel/internal/llm"
)

// latencyBuckets are the upper bounds, in seconds, of the request latency
// histogram: from a health probe to a long generation.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// metrics counts what /metrics exposes in Prometheus's text format.
type metrics struct {
	rateLimited atomic.Int64

	mu       sync.Mutex
	requests map[routeStatus]*histogram
	models   map[string]*modelStats
}

type routeStatus struct {
	route  string
	status int
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

// modelStats sums the generations of one model.
type modelStats struct {
	generations, failures          uint64
	promptTokens, completionTokens uint64
	seconds, cost                  float64
	lastTokensPerSecond            float64
}

func newMetrics() *metrics {
	return &metrics{requests: map[routeStatus]*histogram{}, models: map[string]*modelStats{}}
}

// observeRequest counts one response of route with status after d.
func (m *metrics) observeRequest(route string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := routeStatus{route, status}
	h := m.requests[k]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets))}
		m.requests[k] = h
	}
	secs := d.Seconds()
	if i, _ := slices.BinarySearch(latencyBuckets, secs); i < len(latencyBuckets) {
		h.counts[i]++
	}
	h.sum += secs
	h.count++
}

// observe wraps a model so that every completion's tokens, duration and
// cost are counted by model.
func (m *metrics) observe(model llm.Model) llm.Model {
	return llm.Func(func(ctx context.Context, req llm.Request, stream func(string) error) (*llm.Response, error) {
		start := time.Now()
		resp, err := model.Chat(ctx, req, stream)
		m.observeGeneration(req.Model, resp, err, time.Since(start))
		return resp, err
	})
}

// observeGeneration counts one completion of the model named in the
// response (after routing), else the requested one.
func (m *metrics) observeGeneration(requested string, resp *llm.Response, err error, d time.Duration) {
	name := requested
	if resp != nil && resp.Model != "" {
		name = resp.Model
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.models[name]
	if st == nil {
		st = &modelStats{}
		m.models[name] = st
	}
	st.generations++
	if err != nil {
		st.failures++
	}
	if resp == nil {
		return
	}
	if resp.Latency > 0 {
		d = resp.Latency
	}
	st.promptTokens += uint64(resp.Usage.PromptTokens)
	st.completionTokens += uint64(resp.Usage.CompletionTokens)
	st.seconds += d.Seconds()
	st.cost += resp.Cost
	if d > 0 && resp.Usage.CompletionTokens > 0 {
		st.lastTokensPerSecond = float64(resp.Usage.CompletionTokens) / d.Seconds()
	}
}

// serveMetrics writes every metric in the Prometheus text exposition
// format (version 0.0.4).
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	s.metrics.write(&b)
	q := s.queue
	writeGauge(&b, "flywheel_queue_depth", "Generations waiting for a worker.", float64(q.waiting.Load()))
	writeGauge(&b, "flywheel_queue_running", "Generations in progress.", float64(q.running()))
	writeGauge(&b, "flywheel_queue_capacity", "Generations that may wait for a worker.", float64(q.length))
	writeGauge(&b, "flywheel_queue_workers", "Generations that may run at once.", float64(cap(q.slots)))
	writeCounter(&b, "flywheel_queue_rejected_total", "Generations turned away with 429 because the queue was full.", float64(q.rejected.Load()))
	writeCounter(&b, "flywheel_rate_limited_total", "Requests turned away with 429 by a key's rate limit.", float64(s.metrics.rateLimited.Load()))
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write(b.Bytes())
}

func (m *metrics) write(b *bytes.Buffer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writeRequests(b)
	m.writeModels(b)
}

func (m *metrics) writeRequests(b *bytes.Buffer) {
	const name = "flywheel_http_request_duration_seconds"
	header(b, name, "histogram", "Latency of HTTP requests by route and status code.")
	keys := make([]routeStatus, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b routeStatus) int {
		return cmp.Or(strings.Compare(a.route, b.route), a.status-b.status)
	})
	for _, k := range keys {
		h := m.requests[k]
		labels := fmt.Sprintf(`route="%s",code="%d"`, escapeLabel(k.route), k.status)
		var cum uint64
		for i, le := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(b, "%s_bucket{%s,le=\"%s\"} %d\n", name, labels, formatFloat(le), cum)
		}
		fmt.Fprintf(b, "%s_bucket{%s,le=\"+Inf\"} %d\n", name, labels, h.count)
		fmt.Fprintf(b, "%s_sum{%s} %s\n", name, labels, formatFloat(h.sum))
		fmt.Fprintf(b, "%s_count{%s} %d\n", name, labels, h.count)
	}
}

func (m *metrics) writeModels(b *bytes.Buffer) {
	names := make([]string, 0, len(m.models))
	for n := range m.models {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, f := range []struct {
		name, typ, help string
		value           func(*modelStats) float64
	}{
		{"flywheel_generations_total", "counter", "Completions by model.", func(s *modelStats) float64 { return float64(s.generations) }},
		{"flywheel_generation_failures_total", "counter", "Completions that ended in an error, by model.", func(s *modelStats) float64 { return float64(s.failures) }},
		{"flywheel_prompt_tokens_total", "counter", "Prompt tokens read, by model.", func(s *modelStats) float64 { return float64(s.promptTokens) }},
		{"flywheel_completion_tokens_total", "counter", "Tokens generated, by model.", func(s *modelStats) float64 { return float64(s.completionTokens) }},
		{"flywheel_generation_seconds_total", "counter", "Time spent generating, by model (rate of tokens over rate of this: tokens/s).", func(s *modelStats) float64 { return s.seconds }},
		{"flywheel_tokens_per_second", "gauge", "Generated tokens per second of the latest completion, by model.", func(s *modelStats) float64 { return s.lastTokensPerSecond }},
		{"flywheel_cost_dollars_total", "counter", "Cost of completions in US dollars from the pricing table, by model.", func(s *modelStats) float64 { return s.cost }},
	} {
		header(b, f.name, f.typ, f.help)
		for _, n := range names {
			fmt.Fprintf(b, "%s{model=\"%s\"} %s\n", f.name, escapeLabel(n), formatFloat(f.value(m.models[n])))
		}
	}
}

func header(b *bytes.Buffer, name, typ, help string) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func writeGauge(b *bytes.Buffer, name, help string, v float64) {
	header(b, name, "gauge", help)
	fmt.Fprintf(b, "%s %s\n", name, formatFloat(v))
}

func writeCounter(b *bytes.Buffer, name, help string, v float64) {
	header(b, name, "counter", help)
	fmt.Fprintf(b, "%s %s\n", name, formatFloat(v))
}

// escapeLabel escapes a label value: backslash, double quote, newline.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
