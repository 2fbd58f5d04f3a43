package embed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer answers /v1/embeddings with vector [len(text), index, 1] for
// each input, in reverse order of index; fail(n) may replace the n-th reply.
func fakeServer(t *testing.T, fail func(n int, w http.ResponseWriter) bool) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		if r.URL.Path != "/v1/embeddings" || r.Method != http.MethodPost {
			http.Error(w, `{"error":{"message":"no such route"}}`, http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") != "Bearer sk-test" {
			http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
			return
		}
		if fail != nil && fail(n, w) {
			return
		}
		var req embeddingsRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "m" || req.EncodingFormat != "float" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var data []item
		for i := len(req.Input) - 1; i >= 0; i-- {
			data = append(data, item{i, []float32{float32(len(req.Input[i])), float32(i), 1}})
		}
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": "m"})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestRemote(t *testing.T) {
	t.Setenv("TEST_EMBED_KEY", "sk-test")
	texts := []string{"a", "bb", "ccc", "dddd", "eeeee"}
	for _, tc := range []struct {
		name      string
		fail      func(int, http.ResponseWriter) bool
		batch     int
		wantCalls int32
		wantErr   bool
	}{
		{"batched", nil, 2, 3, false},
		{"one batch", nil, 0, 1, false},
		{"429 then ok", func(n int, w http.ResponseWriter) bool {
			if n == 1 {
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return true
			}
			return false
		}, 0, 2, false},
		{"always 503", func(n int, w http.ResponseWriter) bool {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return true
		}, 0, 3, true}, // 1 + 2 retries
		{"400 not retried", func(n int, w http.ResponseWriter) bool {
			http.Error(w, `{"error":{"message":"input too long"}}`, http.StatusBadRequest)
			return true
		}, 0, 1, true},
		{"garbage body", func(n int, w http.ResponseWriter) bool {
			w.Write([]byte("{not json"))
			return true
		}, 0, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, calls := fakeServer(t, tc.fail)
			r, err := NewRemote(RemoteConfig{URL: srv.URL, Model: "m", APIKeyEnv: "TEST_EMBED_KEY", BatchSize: tc.batch, Retries: 2, Backoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Embed(context.Background(), texts)
			if calls.Load() != tc.wantCalls {
				t.Errorf("%d requests, want %d", calls.Load(), tc.wantCalls)
			}
			if tc.wantErr {
				if err == nil {
					t.Error("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range got {
				if v[0] != float32(len(texts[i])) {
					t.Errorf("vector %d = %v: out of order", i, v)
				}
			}
			if r.Dim() != 3 {
				t.Errorf("Dim = %d, want 3", r.Dim())
			}
		})
	}
}

func TestRemoteNormalizeAndAuth(t *testing.T) {
	srv, _ := fakeServer(t, nil)
	r, _ := NewRemote(RemoteConfig{URL: srv.URL + "/v1/", Model: "m", APIKey: "sk-test", Normalize: true})
	got, err := r.Embed(context.Background(), []string{"abc"})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{3 / float32(math.Sqrt(10)), 0, 1 / float32(math.Sqrt(10))}
	for i := range want {
		if math.Abs(float64(got[0][i]-want[i])) > 1e-6 {
			t.Fatalf("normalised vector = %v, want %v", got[0], want)
		}
	}
	bad, _ := NewRemote(RemoteConfig{URL: srv.URL, Model: "m", APIKey: "wrong", APIKeyEnv: "MY_KEY"})
	if _, err := bad.Embed(context.Background(), []string{"x"}); err == nil {
		t.Error("wrong key: no error")
	} else if want := "$MY_KEY"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
}

func TestRemoteContextCancel(t *testing.T) {
	srv, _ := fakeServer(t, func(n int, w http.ResponseWriter) bool {
		http.Error(w, "down", http.StatusInternalServerError)
		return true
	})
	r, _ := NewRemote(RemoteConfig{URL: srv.URL, Model: "m", APIKey: "sk-test", Retries: 10, Backoff: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := r.Embed(ctx, []string{"x"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's deadline", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("cancel did not stop the backoff")
	}
}

func TestEndpointURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://h:8080":                 "http://h:8080/v1/embeddings",
		"http://h:8080/":                "http://h:8080/v1/embeddings",
		"https://api.openai.com/v1":     "https://api.openai.com/v1/embeddings",
		"http://h/v1/embeddings":        "http://h/v1/embeddings",
		"http://h/proxy/v1/embeddings/": "http://h/proxy/v1/embeddings",
	} {
		if got := endpointURL(in); got != want {
			t.Errorf("endpointURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNew(t *testing.T) {
	if _, err := New(Config{}); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("empty config: %v, want ErrNotConfigured", err)
	}
	if _, err := New(Config{Model: "x", Remote: RemoteConfig{URL: "http://h", Model: "m"}}); err == nil {
		t.Error("both local and remote: no error")
	}
	if _, err := New(Config{Remote: RemoteConfig{URL: "ftp://h", Model: "m"}}); err == nil {
		t.Error("ftp URL: no error")
	}
	e, err := New(Config{Model: "../bert/testdata/tiny", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.(*Local).Close()
	vecs, err := e.Embed(context.Background(), []string{"w7 w11", "w4"})
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != 2 || len(vecs[0]) != 24 || e.Dim() != 24 {
		t.Fatalf("local vectors: %d of %d, Dim %d", len(vecs), len(vecs[0]), e.Dim())
	}
	var n float64
	for _, x := range vecs[0] {
		n += float64(x) * float64(x)
	}
	if math.Abs(n-1) > 1e-5 {
		t.Errorf("|v|² = %v, want 1", n)
	}
}

var parseCases = []struct {
	body string
	n    int
	ok   bool
}{
	{`{"data":[{"index":1,"embedding":[1,2]},{"index":0,"embedding":[3,4]}]}`, 2, true},
	{`{"data":[{"embedding":[1,2]}]}`, 1, true},
	{`{"data":[{"index":0,"embedding":[1,2]},{"index":0,"embedding":[3,4]}]}`, 2, false},
	{`{"data":[{"index":0,"embedding":[1,2]},{"index":1,"embedding":[3]}]}`, 2, false},
	{`{"data":[{"index":5,"embedding":[1]}]}`, 1, false},
	{`{"data":[]}`, 1, false},
	{`{"data":[{"index":0,"embedding":[]}]}`, 1, false},
	{`[]`, 1, false},
}

func TestParseResponse(t *testing.T) {
	for _, tc := range parseCases {
		_, err := parseResponse([]byte(tc.body), tc.n)
		if (err == nil) != tc.ok {
			t.Errorf("parseResponse(%s, %d): error %v, want ok=%v", tc.body, tc.n, err, tc.ok)
		}
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.body), tc.n)
	}
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		n = n%8 + 1
		if n < 1 {
			n = 1
		}
		vecs, err := parseResponse(body, n)
		if err != nil {
			return
		}
		if len(vecs) != n {
			panic(fmt.Sprintf("%d vectors for %d inputs", len(vecs), n))
		}
		for _, v := range vecs {
			if len(v) == 0 || len(v) != len(vecs[0]) {
				panic("ragged vectors accepted")
			}
		}
	})
}
