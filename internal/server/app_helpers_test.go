package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"flywheel/internal/store"
)

// appDoc is the small document the application tests upload: facts an
// extractive answer can quote.
const appDoc = `# The Eiffel Tower

The Eiffel Tower is a wrought-iron lattice tower in Paris, France.
It was designed by the engineering company of Gustave Eiffel and built between 1887 and 1889.
The tower is 330 metres tall and was the tallest man-made structure in the world until 1930.

## Visiting

About seven million people visit the tower every year. Visitors can climb the stairs to the second floor or take a lift to the top.
`

// appEnv is a test server with its store and API keys.
type appEnv struct {
	t    testing.TB
	s    *Server
	ts   *httptest.Server
	st   *store.Store
	keys map[string]string // key name → secret
}

// newAppEnv starts a server over a new store without a model
// (extractive answers). keys are "name:scope" pairs to create first; with
// none the server takes requests without keys.
func newAppEnv(t testing.TB, cfg Config, keys ...string) *appEnv {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	env := &appEnv{t: t, st: st, keys: map[string]string{}}
	for _, k := range keys {
		name, scope, _ := cutLast(k, ":")
		secret, _, err := st.CreateKey(context.Background(), name, scope)
		if err != nil {
			t.Fatal(err)
		}
		env.keys[name] = secret
	}
	cfg.Store = st
	if cfg.Limits.Rate == 0 {
		cfg.Limits.Rate = -1
	}
	if env.s, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	env.ts = httptest.NewServer(env.s.Handler())
	t.Cleanup(func() {
		env.ts.Close()
		env.s.Close()
	})
	return env
}

func cutLast(s, sep string) (string, string, bool) {
	for i := len(s) - len(sep); i >= 0; i-- {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

// do sends a request as the key named as ("" for none) with a JSON body
// (raw []byte is sent as is) and returns the status and body.
func (e *appEnv) do(as, method, path string, body any) (int, []byte) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.send(as, req)
}

func (e *appEnv) send(as string, req *http.Request) (int, []byte) {
	e.t.Helper()
	if as != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[as])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// upload posts a file to a collection as a multipart form.
func (e *appEnv) upload(as, coll, field, name string, data []byte) (int, []byte) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile(field, name)
	if err != nil {
		e.t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	req, err := http.NewRequest("POST", e.ts.URL+"/api/collections/"+coll+"/documents", &body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return e.send(as, req)
}

// must checks a status and decodes the body into v (when not nil).
func (e *appEnv) must(status int, body []byte, want int, v any) {
	e.t.Helper()
	if status != want {
		e.t.Fatalf("status %d, want %d: %s", status, want, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			e.t.Fatalf("%v: %s", err, body)
		}
	}
}

// collectionWithDoc creates a collection as the key as and uploads appDoc.
func (e *appEnv) collectionWithDoc(as, name string) {
	e.t.Helper()
	st, b := e.do(as, "POST", "/api/collections", map[string]string{"name": name})
	e.must(st, b, http.StatusCreated, nil)
	st, b = e.upload(as, name, "file", "eiffel.md", []byte(appDoc))
	e.must(st, b, http.StatusCreated, nil)
}

// askResult is the part of an /api/ask answer the tests read.
type askResult struct {
	AnswerID   string `json:"answer_id"`
	Collection string `json:"collection"`
	Answer     string `json:"answer"`
	Confidence float64
	Abstained  bool
	Citations  []struct {
		Number     int
		DocID      string `json:"doc_id"`
		Text       string
		Start, End int
	}
}
