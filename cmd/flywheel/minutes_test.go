package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"flywheel/internal/jsonschema"
	"flywheel/internal/longdoc"
)

// minutesEndpoint is an OpenAI-compatible chat endpoint: a request with a
// response_format gets minutes made of the first words of its last
// message, any other request those first words as a summary.
type minutesEndpoint struct {
	mu                 sync.Mutex
	minutes, summaries int
}

func (f *minutesEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
		ResponseFormat json.RawMessage `json:"response_format"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	words := strings.Fields(req.Messages[len(req.Messages)-1].Content)
	summary := strings.Join(words[:min(40, len(words))], " ")
	text := summary
	f.mu.Lock()
	if len(req.ResponseFormat) > 0 {
		f.minutes++
		b, _ := json.Marshal(longdoc.MinutesDoc{Summary: summary, Decisions: []string{"Build the remote."}, ActionItems: []longdoc.ActionItem{{Owner: "Marketing", Task: "Research users"}}, OpenQuestions: []string{}})
		text = string(b)
	} else {
		f.summaries++
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"model":   "fake",
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}},
		"usage":   map[string]int{"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
	})
}

// A QMSum meeting through the command against a fake endpoint: minutes
// valid against the schema, one call per chunk plus the combining ones,
// and ROUGE against the human summary.
func TestMinutesQMSumEndpoint(t *testing.T) {
	meeting := sharedData(t, "long/qmsum/raw/ES2004a.json")
	data, err := os.ReadFile(meeting)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := longdoc.ParseTranscripts(data)
	if err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(t.TempDir(), "reference.txt")
	if err := os.WriteFile(ref, []byte(ts[0].Reference), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &minutesEndpoint{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "minutes.json")
	stdout, stderr, err := flywheel(t, "minutes", "--llm-url", srv.URL, "--llm-model", "fake", "--chunk-tokens", "1500",
		"--reference", ref, "--out", out, meeting)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q with --out", stdout)
	}
	doc := readMinutes(t, out)
	// ES2004a is ~5,300 estimated tokens: 4 chunks of ≤ 1,500
	if f.minutes != 4 || f.summaries != 1 || doc.Title != "ES2004a" || len(doc.ActionItems) != 1 {
		t.Errorf("%d minutes calls, %d summary calls, title %q, action items %+v", f.minutes, f.summaries, doc.Title, doc.ActionItems)
	}
	for _, want := range []string{"minutes: map 4/4", "minutes: 4 chunks, 5 calls, 500 prompt + 50 completion tokens", "ROUGE-1 0.", "ROUGE-L 0."} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// readMinutes reads a minutes file and checks it against the schema.
func readMinutes(t *testing.T, path string) longdoc.MinutesDoc {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkMinutesJSON(t, raw)
	var doc longdoc.MinutesDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func checkMinutesJSON(t *testing.T, raw []byte) {
	t.Helper()
	schema, err := jsonschema.Compile(longdoc.MinutesSchema)
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(raw); err != nil {
		t.Fatalf("the minutes do not satisfy the schema: %v\n%s", err, raw)
	}
}

// The local engine with constrained decoding: stories260K writes valid
// minutes (of no use: it knows only children's stories).
func TestMinutesLocal(t *testing.T) {
	model := sharedData(t, "models/stories260K/stories260K.bin")
	transcript := filepath.Join(t.TempDir(), "meeting.txt")
	if err := os.WriteFile(transcript, []byte("Lily: We will go to the park.\nBen: I will bring the ball.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := flywheel(t, "minutes", "--model", model, "--max-tokens", "96", "--threads", "1", transcript)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	checkMinutesJSON(t, []byte(stdout))
}

func TestMinutesErrors(t *testing.T) {
	docs := sharedData(t, "long/qmsum/docs.jsonl")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no model", []string{docs}, "a model is needed"},
		{"no transcript", []string{"--llm-url", "http://localhost:1", "--llm-model", "x"}, "want one TRANSCRIPT"},
		{"several transcripts", []string{"--llm-url", "http://localhost:1", "--llm-model", "x", docs}, "holds 6 transcripts (ids ES2004a, TS3004a"},
		{"unknown id", []string{"--llm-url", "http://localhost:1", "--llm-model", "x", "--id", "nope", docs}, `no transcript with id "nope"`},
		{"both models", []string{"--model", "m.gguf", "--llm-url", "http://localhost:1", "--id", "ES2004a", docs}, "not both"},
		{"endpoint without model", []string{"--llm-url", "http://localhost:1", "--id", "ES2004a", docs}, "needs --llm-model"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := flywheel(t, append([]string{"minutes"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
