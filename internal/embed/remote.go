package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"flywheel/internal/upstream"
)

// RemoteConfig addresses an OpenAI-compatible embeddings endpoint. The zero
// value of every field but URL and Model picks the default.
type RemoteConfig struct {
	URL        string        // base URL ("https://api.openai.com/v1", "http://localhost:8080") or the full …/embeddings URL
	Model      string        // model name sent with each request
	APIKey     string        // bearer token; when empty it is read from APIKeyEnv
	APIKeyEnv  string        // environment variable holding the key (default OPENAI_API_KEY)
	Dimensions int           // ask for this many dimensions (models that support it); 0: the model's own
	Normalize  bool          // scale returned vectors to unit length
	BatchSize  int           // texts per request (default 64)
	Timeout    time.Duration // per request (default 60 s)
	Retries    int           // further attempts after a 429, a 5xx or a network error (default 3; negative: none)
	Backoff    time.Duration // first wait between attempts, doubled each time (default 500 ms)
	Client     *http.Client  // default: a client with Timeout
}

// Remote embeds through an OpenAI-compatible /v1/embeddings endpoint.
type Remote struct {
	cfg      RemoteConfig
	endpoint string
	dim      atomic.Int64
}

// NewRemote checks cfg and returns the client. It makes no request.
func NewRemote(cfg RemoteConfig) (*Remote, error) {
	if cfg.URL == "" || cfg.Model == "" {
		return nil, fmt.Errorf("embed: remote embeddings need a URL and a model name (got URL %q, model %q)", cfg.URL, cfg.Model)
	}
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("embed: URL %q: want http:// or https://", cfg.URL)
	}
	if cfg.APIKeyEnv == "" {
		cfg.APIKeyEnv = "OPENAI_API_KEY"
	}
	if cfg.APIKey == "" {
		cfg.APIKey = os.Getenv(cfg.APIKeyEnv)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 64
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	r := &Remote{cfg: cfg, endpoint: endpointURL(cfg.URL)}
	r.dim.Store(int64(cfg.Dimensions))
	return r, nil
}

// endpointURL completes a base URL to its embeddings path.
func endpointURL(base string) string {
	base = strings.TrimRight(base, "/")
	switch {
	case strings.HasSuffix(base, "/embeddings"):
		return base
	case strings.HasSuffix(base, "/v1"):
		return base + "/embeddings"
	}
	return base + "/v1/embeddings"
}

// Dim is the vector length: Dimensions when set, else learned from the
// first response (0 before it).
func (r *Remote) Dim() int { return int(r.dim.Load()) }

// Name is "model @ endpoint".
func (r *Remote) Name() string { return r.cfg.Model + " @ " + r.endpoint }

// Embed sends the texts in batches and returns their vectors in order.
func (r *Remote) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for lo := 0; lo < len(texts); lo += r.cfg.BatchSize {
		batch := texts[lo:min(lo+r.cfg.BatchSize, len(texts))]
		vecs, err := r.embedBatch(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("embed: texts %d–%d: %w", lo, lo+len(batch)-1, err)
		}
		out = append(out, vecs...)
	}
	return out, nil
}

type embeddingsRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format"`
	Dimensions     int      `json:"dimensions,omitempty"`
}

// embedBatch posts one request, retrying what may succeed on a second try.
func (r *Remote) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	body, err := json.Marshal(embeddingsRequest{Model: r.cfg.Model, Input: texts, EncodingFormat: "float", Dimensions: r.cfg.Dimensions})
	if err != nil {
		return nil, err
	}
	wait := r.cfg.Backoff
	for attempt := 0; ; attempt++ {
		vecs, retryAfter, err := r.post(ctx, body, len(texts))
		if err == nil {
			return vecs, nil
		}
		var perm permanentError
		if errors.As(err, &perm) || attempt >= r.cfg.Retries || ctx.Err() != nil {
			return nil, err
		}
		if retryAfter > 0 {
			wait = retryAfter
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (after: %v)", ctx.Err(), err)
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// permanentError marks a failure that retrying will not fix.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// post makes one request; it returns the Retry-After delay of a 429/503.
func (r *Remote) post(ctx context.Context, body []byte, n int) ([][]float32, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, 0, permanentError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	if r.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.cfg.APIKey)
	}
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("POST %s: %w", r.endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("POST %s: reading the response: %w", r.endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("POST %s: %s: %s", r.endpoint, resp.Status, upstream.Message(raw))
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return nil, upstream.RetryAfter(resp.Header), err
		}
		if resp.StatusCode == http.StatusUnauthorized {
			err = fmt.Errorf("%w (set the key in $%s)", err, r.cfg.APIKeyEnv)
		}
		return nil, 0, permanentError{err}
	}
	vecs, err := parseResponse(raw, n)
	if err != nil {
		return nil, 0, permanentError{fmt.Errorf("POST %s: %w", r.endpoint, err)}
	}
	r.dim.CompareAndSwap(0, int64(len(vecs[0])))
	if d := r.Dim(); len(vecs[0]) != d {
		return nil, 0, permanentError{fmt.Errorf("POST %s: vectors of %d dimensions, want %d", r.endpoint, len(vecs[0]), d)}
	}
	if r.cfg.Normalize {
		for _, v := range vecs {
			normalize(v)
		}
	}
	return vecs, 0, nil
}

type embeddingsResponse struct {
	Data []struct {
		Index     *int      `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
}

// parseResponse reads the vectors of n inputs from an embeddings response,
// placing each by its index.
func parseResponse(raw []byte, n int) ([][]float32, error) {
	var resp embeddingsResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, fmt.Errorf("response is not an embeddings object: %w", err)
	}
	if len(resp.Data) != n {
		return nil, fmt.Errorf("response has %d embeddings for %d inputs", len(resp.Data), n)
	}
	out := make([][]float32, n)
	for i, d := range resp.Data {
		at := i
		if d.Index != nil {
			at = *d.Index
		}
		if at < 0 || at >= n || out[at] != nil {
			return nil, fmt.Errorf("data[%d]: index %d is out of range or repeated", i, at)
		}
		if len(d.Embedding) == 0 {
			return nil, fmt.Errorf("data[%d]: empty embedding", i)
		}
		if len(d.Embedding) != len(resp.Data[0].Embedding) {
			return nil, fmt.Errorf("data[%d]: %d dimensions, data[0] has %d", i, len(d.Embedding), len(resp.Data[0].Embedding))
		}
		out[at] = d.Embedding
	}
	return out, nil
}

func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}
