package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// metricLines returns the samples of a /metrics body by name and labels,
// failing on a line that is not in the text exposition format.
func metricLines(t *testing.T, body string) map[string]float64 {
	t.Helper()
	sample := regexp.MustCompile(`^([a-z_]+(?:\{[^{}]*\})?) (\S+)$`)
	out := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE ") {
			continue
		}
		m := sample.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not a sample: %q", line)
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		out[m[1]] = v
	}
	return out
}

func TestMetrics(t *testing.T) {
	_, ts := gwServer(t, gwEchoConfig(&gwEcho{}))
	gwDo(t, "POST", ts.URL+"/v1/chat/completions", "", []byte(`{"model":"tiny","messages":[{"role":"user","content":"a b c"}]}`))
	gwDo(t, "POST", ts.URL+"/v1/chat/completions", "", []byte(`{"model":"tiny:sql","messages":[{"role":"user","content":"a"}]}`))
	gwDo(t, "POST", ts.URL+"/v1/chat/completions", "", []byte(`{"model":"nope","messages":[{"role":"user","content":"a"}]}`))
	gwDo(t, "GET", ts.URL+"/healthz", "", nil)
	gwDo(t, "GET", ts.URL+"/nowhere", "", nil)
	status, h, body := gwDo(t, "GET", ts.URL+"/metrics", "", nil)
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("%d %v", status, h)
	}
	m := metricLines(t, string(body))
	const hist = "flywheel_http_request_duration_seconds"
	chat200 := `{route="POST /v1/chat/completions",code="200"}`
	for name, want := range map[string]float64{
		hist + "_count" + chat200:                                                2,
		hist + `_count{route="POST /v1/chat/completions",code="404"}`:            1,
		hist + `_count{route="GET /healthz",code="200"}`:                         1,
		hist + `_count{route="unmatched",code="404"}`:                            1,
		hist + `_bucket{route="POST /v1/chat/completions",code="200",le="+Inf"}`: 2,
		`flywheel_generations_total{model="tiny"}`:                               1,
		`flywheel_generations_total{model="tiny:sql"}`:                           1,
		`flywheel_prompt_tokens_total{model="tiny"}`:                             3,
		`flywheel_completion_tokens_total{model="tiny"}`:                         3,
		`flywheel_cost_dollars_total{model="tiny"}`:                              0.003,
		`flywheel_generation_failures_total{model="tiny"}`:                       0,
		"flywheel_queue_depth":                                                   0,
		"flywheel_queue_running":                                                 0,
		"flywheel_queue_workers":                                                 4,
		"flywheel_queue_capacity":                                                64,
		"flywheel_queue_rejected_total":                                          0,
		"flywheel_rate_limited_total":                                            0,
	} {
		if got, ok := m[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if m[`flywheel_tokens_per_second{model="tiny"}`] <= 0 || m[`flywheel_generation_seconds_total{model="tiny"}`] <= 0 {
		t.Errorf("no tokens/s or generation time")
	}
	prev := 0.0
	for _, le := range latencyBuckets {
		v := m[fmt.Sprintf(`%s_bucket{route="POST /v1/chat/completions",code="200",le="%s"}`, hist, formatFloat(le))]
		if v < prev {
			t.Errorf("bucket le=%v: %v < %v: not cumulative", le, v, prev)
		}
		prev = v
	}
}

func TestRequestLog(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	cfg := gwEchoConfig(&gwEcho{})
	cfg.Logger = slog.New(slog.NewJSONHandler(lockedWriter{&mu, &buf}, nil))
	s, ts := gwServer(t, cfg)
	secret, _, _ := s.cfg.Store.CreateKey(context.Background(), "alice", "user")
	gwDo(t, "POST", ts.URL+"/v1/chat/completions", secret, []byte(`{"messages":[{"role":"user","content":"a b"}]}`))
	gwDo(t, "GET", ts.URL+"/v1/models", "", nil)
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(buf.String(), secret) || strings.Contains(buf.String(), secret[:20]) {
		t.Fatalf("the log holds the key:\n%s", buf.String())
	}
	var lines []map[string]any
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 2 {
		t.Fatalf("%d log lines", len(lines))
	}
	l := lines[0]
	if l["msg"] != "request" || l["method"] != "POST" || l["route"] != "POST /v1/chat/completions" || l["status"] != 200.0 || l["key"] != "alice" || l["duration_ms"] == nil || l["bytes"].(float64) < 100 {
		t.Errorf("log line %v", l)
	}
	if l := lines[1]; l["status"] != 401.0 || l["key"] != "" || l["route"] != "GET /v1/models" {
		t.Errorf("log line %v", l)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func TestBodyLimits(t *testing.T) {
	cfg := gwEchoConfig(&gwEcho{})
	cfg.Limits = Limits{MaxBody: 100, MaxUpload: 1000}
	s, ts := gwServer(t, cfg)
	s.mux.HandleFunc("POST /api/size", func(w http.ResponseWriter, r *http.Request) {
		if b, ok := readBody(w, r); ok {
			fmt.Fprint(w, len(b))
		}
	})
	s.mux.HandleFunc("GET /api/panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	post := func(contentType string, body io.Reader) (int, string) {
		req, _ := http.NewRequest("POST", ts.URL+"/api/size", body)
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	unsized := func(n int) io.Reader { return io.MultiReader(strings.NewReader(strings.Repeat("x", n))) } // no Content-Length: chunked
	for _, tc := range []struct {
		name, contentType string
		body              io.Reader
		status            int
		want              string
	}{
		{"at the limit", "application/json", strings.NewReader(strings.Repeat("x", 100)), 200, "100"},
		{"declared too large", "application/json", strings.NewReader(strings.Repeat("x", 101)), 413, "larger than the limit of 100 bytes"},
		{"streamed too large", "application/json", unsized(5000), 413, "larger than the limit of 100 bytes"},
		{"upload", "multipart/form-data; boundary=x", unsized(900), 200, "900"},
		{"upload too large", "multipart/form-data; boundary=x", strings.NewReader(strings.Repeat("x", 1001)), 413, "limit of 1000 bytes"},
	} {
		status, body := post(tc.contentType, tc.body)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want %d %q", tc.name, status, body, tc.status, tc.want)
		}
	}
	if status, _, body := gwDo(t, "GET", ts.URL+"/api/panic", "", nil); status != 500 || !strings.Contains(string(body), "internal error") {
		t.Errorf("panic: %d %s", status, body)
	}
}

// TestQueueFull fills the one worker and the one place in the queue: the
// next generation gets 429 with Retry-After, and the two accepted ones
// finish once the model is free.
func TestQueueFull(t *testing.T) {
	m := &gwEcho{block: make(chan struct{}), entered: make(chan struct{}, 8)}
	cfg := gwEchoConfig(m)
	cfg.Limits = Limits{Workers: 1, Queue: 1}
	s, ts := gwServer(t, cfg)
	body := []byte(`{"messages":[{"role":"user","content":"a"}]}`)
	results := make(chan int, 2)
	for range 2 {
		go func() {
			status, _, _ := gwDo(t, "POST", ts.URL+"/v1/chat/completions", "", body)
			results <- status
		}()
	}
	<-m.entered
	for s.queue.waiting.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	for _, path := range []string{"/v1/chat/completions", "/v1/embeddings"} {
		status, h, b := gwDo(t, "POST", ts.URL+path, "", []byte(`{"messages":[{"role":"user","content":"a"}],"input":"a"}`))
		if status != 429 || h.Get("Retry-After") == "" || !strings.Contains(string(b), "queue is full") {
			t.Fatalf("%s: %d %v %s", path, status, h, b)
		}
	}
	_, _, mb := gwDo(t, "GET", ts.URL+"/metrics", "", nil)
	mm := metricLines(t, string(mb))
	if mm["flywheel_queue_depth"] != 1 || mm["flywheel_queue_running"] != 1 || mm["flywheel_queue_rejected_total"] != 2 {
		t.Errorf("queue metrics: depth %v running %v rejected %v", mm["flywheel_queue_depth"], mm["flywheel_queue_running"], mm["flywheel_queue_rejected_total"])
	}
	close(m.block)
	for range 2 {
		if status := <-results; status != 200 {
			t.Errorf("an accepted request got %d", status)
		}
	}
}

// TestGracefulShutdown ends Serve's context while a streamed completion is
// in flight: the server stops taking connections and reports not ready,
// but the stream finishes whole before Serve returns.
func TestGracefulShutdown(t *testing.T) {
	m := &gwEcho{block: make(chan struct{}), entered: make(chan struct{}, 1)}
	s, _ := gwServer(t, gwEchoConfig(m))
	ln, err := s.Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(`{"messages":[{"role":"user","content":"one two three"}],"stream":true}`))
		if err != nil {
			done <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{resp.StatusCode, string(b), err}
	}()
	<-m.entered
	cancel()
	for !s.draining.Load() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // Shutdown has closed the listener
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("a new connection was accepted during shutdown")
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	default:
	}
	close(m.block)
	r := <-done
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, `"content":" three"`) || !strings.HasSuffix(r.body, "data: [DONE]\n\n") {
		t.Fatalf("in-flight stream: %d %v %q", r.status, r.err, r.body)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestShutdownTimeout(t *testing.T) {
	m := &gwEcho{block: make(chan struct{}), entered: make(chan struct{}, 1)}
	defer close(m.block)
	cfg := gwEchoConfig(m)
	cfg.Limits.ShutdownTimeout = 100 * time.Millisecond
	s, _ := gwServer(t, cfg)
	ln, _ := s.Listen(context.Background(), "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	go http.Post("http://"+ln.Addr().String()+"/v1/chat/completions", "application/json", strings.NewReader(`{"messages":[{"role":"user","content":"x"}]}`))
	<-m.entered
	cancel()
	if err := <-served; err == nil || !strings.Contains(err.Error(), "cut off") {
		t.Fatalf("Serve: %v", err)
	}
}

func TestReadyz(t *testing.T) {
	s, ts := gwServer(t, Config{})
	if status, _, _ := gwDo(t, "GET", ts.URL+"/readyz", "", nil); status != 200 {
		t.Fatalf("readyz %d", status)
	}
	s.draining.Store(true)
	if status, _, b := gwDo(t, "GET", ts.URL+"/readyz", "", nil); status != 503 || !strings.Contains(string(b), "shutting down") {
		t.Fatalf("readyz while draining: %d %s", status, b)
	}
	s.draining.Store(false)
	s.cfg.Store.Close()
	if status, _, b := gwDo(t, "GET", ts.URL+"/readyz", "", nil); status != 503 || !strings.Contains(string(b), "store does not answer") {
		t.Fatalf("readyz with a closed store: %d %s", status, b)
	}
	if status, _, _ := gwDo(t, "GET", ts.URL+"/healthz", "", nil); status != 200 {
		t.Fatalf("healthz %d", status)
	}
}
