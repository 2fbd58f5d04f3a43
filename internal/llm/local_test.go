package llm

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"flywheel/internal/generate"
	"flywheel/internal/jsonschema"
	"flywheel/internal/llama"
	"flywheel/internal/lora"
	"flywheel/internal/refdata"
)

const storiesName = "stories260K"

// newStories serves stories260K (llama2.c checkpoint, 512 positions).
func newStories(t testing.TB, cfg LocalConfig) *Local {
	t.Helper()
	cfg.Model = refdata.Path(t, "models/stories260K/stories260K.bin")
	l, err := NewLocal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l
}

// saveRandomAdapter writes a random LoRA adapter for m as PEFT into a
// temporary directory and returns the directory.
func saveRandomAdapter(t testing.TB, m *llama.Model, seed uint64) string {
	t.Helper()
	a, err := lora.New(m.Config.LoRAShape(), lora.Config{Rank: 4, Alpha: 8, Targets: lora.AllTargets()})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 5))
	for i := range a.Params {
		a.Params[i] = float32(r.NormFloat64() * 0.2)
	}
	dir := filepath.Join(t.TempDir(), "adapter")
	if err := a.SavePEFT(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// direct runs generate.Run on a fresh state of l's model, with the adapter
// at path ("" for none): what Chat must reproduce.
func direct(t *testing.T, l *Local, adapterPath string, req Request) *generate.Result {
	t.Helper()
	ids, err := l.PromptTokens(req.Messages)
	if req.Prompt != "" { // a plain completion: the text as it is, after BOS
		ids, err = l.model.Tokenizer.Encode(req.Prompt, true, false), nil
	}
	if err != nil {
		t.Fatal(err)
	}
	s := l.model.NewState(l.context, nil)
	if adapterPath != "" {
		a, err := l.model.LoadAdapter(adapterPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetAdapter(a); err != nil {
			t.Fatal(err)
		}
	}
	top := req.TopLogprobs
	if req.Logprobs && top == 0 {
		top = 1
	}
	opt := generate.Options{
		SamplerOptions: generate.SamplerOptions{Temperature: req.Temperature, TopP: req.TopP, Seed: req.Seed},
		MaxTokens:      req.MaxTokens, Stop: req.Stop, TopLogprobs: top,
	}
	if req.JSONSchema != nil {
		if opt.Schema, err = jsonschema.Compile(req.JSONSchema); err != nil {
			t.Fatal(err)
		}
	}
	res, err := generate.Run(context.Background(), s, l.tok, ids, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

const personSchema = `{"type": "object", "properties": {"name": {"type": "string", "maxLength": 12}, "age": {"type": "integer", "minimum": 1, "maximum": 9}}, "required": ["name", "age"]}`

func ask(text string) []Message { return []Message{{Role: RoleUser, Content: text}} }

// The plain transcript of a model without a chat template.
func TestLocalTranscript(t *testing.T) {
	l := newStories(t, LocalConfig{})
	if l.tpl != nil {
		t.Fatal("stories260K has a chat template?")
	}
	msgs := []Message{{Role: RoleSystem, Content: "Be kind."}, {Role: RoleUser, Content: "Tell a story."}}
	got, err := l.PromptTokens(msgs)
	if err != nil {
		t.Fatal(err)
	}
	want := l.tok.Encode("system: Be kind.\nuser: Tell a story.\nassistant:", true, false)
	if !slices.Equal(got, want) || got[0] != l.tok.BOS() {
		t.Errorf("prompt ids %v, want %v (BOS first)", got, want)
	}
}

// A built-in template that writes BOS itself gets no second one.
func TestLocalTemplate(t *testing.T) {
	for _, tc := range []struct {
		family string
		text   string // the rendering of one user turn "Hi"
	}{
		{"llama2", "<s>[INST] Hi [/INST]"},
		{"chatml", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"},
	} {
		t.Run(tc.family, func(t *testing.T) {
			l := newStories(t, LocalConfig{Template: tc.family})
			got, err := l.PromptTokens(ask("Hi"))
			if err != nil {
				t.Fatal(err)
			}
			want := l.tok.Encode(strings.TrimPrefix(tc.text, "<s>"), false, true)
			want = append([]int{l.tok.BOS()}, want...)
			if !slices.Equal(got, want) {
				t.Errorf("prompt ids %v, want %v", got, want)
			}
		})
	}
}

// Chat reproduces the decoding loop run directly on the same prompt tokens,
// and streams exactly its text.
func TestLocalChatMatchesGenerate(t *testing.T) {
	l := newStories(t, LocalConfig{})
	for _, tc := range []struct {
		name string
		req  Request
	}{
		{"greedy", Request{Messages: ask("Once upon a time"), MaxTokens: 40}},
		{"stop", Request{Messages: ask("Once upon a time"), MaxTokens: 40, Stop: []string{"girl"}}},
		{"sampled", Request{Messages: ask("Tell me a story"), MaxTokens: 30, Temperature: 0.9, TopP: 0.9, Seed: 42}},
		{"logprobs", Request{Messages: ask("Once upon a time"), MaxTokens: 20, Logprobs: true}},
		{"top logprobs", Request{Messages: ask("Once upon a time"), MaxTokens: 20, TopLogprobs: 3}},
		{"to the end", Request{Messages: ask("The cat"), MaxTokens: 500}},
		{"json schema", Request{Messages: ask("Name a girl"), MaxTokens: 60, JSONSchema: []byte(personSchema)}},
		{"plain completion", Request{Prompt: "Once upon a time", MaxTokens: 30}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := direct(t, l, "", tc.req)
			var streamed strings.Builder
			got, err := l.Chat(context.Background(), tc.req, func(d string) error {
				streamed.WriteString(d)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.Text != want.Text || streamed.String() != want.Text {
				t.Errorf("text %q (streamed %q), want %q", got.Text, streamed.String(), want.Text)
			}
			if got.Text == "" {
				t.Error("empty completion")
			}
			t.Logf("%q (%s)", got.Text, got.FinishReason)
			u := Usage{len(want.PromptTokens), len(want.Tokens), len(want.PromptTokens) + len(want.Tokens)}
			if got.Usage != u || got.FinishReason != want.FinishReason || got.Model != storiesName {
				t.Errorf("usage %+v, finish %q, model %q; want %+v, %q, %q", got.Usage, got.FinishReason, got.Model, u, want.FinishReason, storiesName)
			}
			if got.Latency <= 0 {
				t.Error("no latency")
			}
			if tc.req.JSONSchema != nil {
				s, _ := jsonschema.Compile(tc.req.JSONSchema)
				if err := s.Validate([]byte(got.Text)); err != nil || got.FinishReason != FinishStop {
					t.Errorf("%q (%s) is not a finished document of the schema: %v", got.Text, got.FinishReason, err)
				}
			}
			wantLP := tc.req.Logprobs || tc.req.TopLogprobs > 0
			if !wantLP {
				if got.Logprobs != nil {
					t.Error("logprobs not asked for but returned")
				}
				return
			}
			if len(got.Logprobs) != len(want.Tokens) {
				t.Fatalf("%d logprobs for %d tokens", len(got.Logprobs), len(want.Tokens))
			}
			for i, lp := range got.Logprobs {
				w := want.Logprobs[i]
				if lp.Token != w.Token || lp.Logprob != w.Logprob || lp.Logprob > 0 {
					t.Fatalf("logprob %d: %+v, want %q %g", i, lp.TokenLogprob, w.Token, w.Logprob)
				}
				if len(lp.Top) != tc.req.TopLogprobs {
					t.Fatalf("logprob %d: %d alternatives, want %d", i, len(lp.Top), tc.req.TopLogprobs)
				}
				for j, alt := range lp.Top {
					if alt.Token != w.Top[j].Token || alt.Logprob != w.Top[j].Logprob {
						t.Fatalf("logprob %d alternative %d: %+v, want %+v", i, j, alt, w.Top[j])
					}
				}
			}
		})
	}
}

// Requests choose adapters by name, and each gets the output of its
// adapter applied directly.
func TestLocalAdapters(t *testing.T) {
	l := newStories(t, LocalConfig{})
	pathA, pathB := saveRandomAdapter(t, l.model, 1), saveRandomAdapter(t, l.model, 2)
	if err := l.LoadAdapter("a", pathA); err != nil {
		t.Fatal(err)
	}
	if err := l.LoadAdapter("b", pathB); err != nil {
		t.Fatal(err)
	}
	if got := l.Adapters(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Adapters() = %v", got)
	}
	if got, want := l.Models(), []string{storiesName, storiesName + ":a", storiesName + ":b"}; !slices.Equal(got, want) {
		t.Errorf("Models() = %v, want %v", got, want)
	}
	texts := map[string]string{}
	for _, tc := range []struct {
		model, adapterPath, answeredBy string
	}{
		{"", "", storiesName},
		{storiesName, "", storiesName},
		{storiesName + ":a", pathA, storiesName + ":a"},
		{"a", pathA, storiesName + ":a"},
		{storiesName + ":b", pathB, storiesName + ":b"},
		{"b", pathB, storiesName + ":b"},
	} {
		req := Request{Model: tc.model, Messages: ask("Once upon a time"), MaxTokens: 24}
		want := direct(t, l, tc.adapterPath, req)
		got, err := l.Chat(context.Background(), req, nil)
		if err != nil {
			t.Fatalf("model %q: %v", tc.model, err)
		}
		if got.Text != want.Text || got.Model != tc.answeredBy {
			t.Errorf("model %q: %q by %q, want %q by %q", tc.model, got.Text, got.Model, want.Text, tc.answeredBy)
		}
		texts[tc.answeredBy] = got.Text
	}
	if texts[storiesName] == texts[storiesName+":a"] || texts[storiesName] == texts[storiesName+":b"] || texts[storiesName+":a"] == texts[storiesName+":b"] {
		t.Errorf("the adapters do not change the output: %q", texts)
	}
	// loading a name again replaces its adapter
	if err := l.LoadAdapter("a", pathB); err != nil {
		t.Fatal(err)
	}
	got, err := l.Chat(context.Background(), Request{Model: "a", Messages: ask("Once upon a time"), MaxTokens: 24}, nil)
	if err != nil || got.Text != texts[storiesName+":b"] {
		t.Errorf("after reloading a with b's file: %q, %v; want %q", got.Text, err, texts[storiesName+":b"])
	}
}

func TestLocalUnknownModel(t *testing.T) {
	l := newStories(t, LocalConfig{})
	if err := l.LoadAdapter("a", saveRandomAdapter(t, l.model, 1)); err != nil {
		t.Fatal(err)
	}
	for _, model := range []string{"nope", storiesName + ":nope", "other:a", storiesName + ":"} {
		_, err := l.Chat(context.Background(), Request{Model: model, Messages: ask("Hi")}, nil)
		if !errors.Is(err, ErrUnknownModel) || !strings.Contains(err.Error(), "a") || !strings.Contains(err.Error(), model) {
			t.Errorf("model %q: error %v, want ErrUnknownModel naming it and the loaded adapter", model, err)
		}
	}
	for _, tc := range []struct{ name, path string }{
		{"", "x"}, {"x:y", "x"}, {storiesName, "x"}, {"missing", filepath.Join(t.TempDir(), "none")},
	} {
		if err := l.LoadAdapter(tc.name, tc.path); err == nil {
			t.Errorf("LoadAdapter(%q, %q) succeeded", tc.name, tc.path)
		}
	}
	if err := l.UnloadAdapter("nope"); err == nil || !strings.Contains(err.Error(), "loaded: a") {
		t.Errorf("UnloadAdapter(nope) = %v, want an error listing a", err)
	}
}

// Unloading an adapter while a request uses it: new requests fail at once,
// the running one finishes with the adapter, then UnloadAdapter returns.
func TestLocalUnloadWhileRunning(t *testing.T) {
	l := newStories(t, LocalConfig{Slots: 2})
	path := saveRandomAdapter(t, l.model, 1)
	if err := l.LoadAdapter("a", path); err != nil {
		t.Fatal(err)
	}
	req := Request{Model: "a", Messages: ask("Once upon a time"), MaxTokens: 24}
	want := direct(t, l, path, req)

	started, proceed := make(chan struct{}), make(chan struct{})
	type result struct {
		resp *Response
		err  error
	}
	running := make(chan result)
	go func() {
		first := true
		resp, err := l.Chat(context.Background(), req, func(string) error {
			if first {
				first = false
				close(started)
				<-proceed
			}
			return nil
		})
		running <- result{resp, err}
	}()
	<-started
	unloaded := make(chan error)
	go func() { unloaded <- l.UnloadAdapter("a") }()
	for slices.Contains(l.Adapters(), "a") {
		select {
		case err := <-unloaded:
			t.Fatalf("UnloadAdapter returned (%v) while a request used the adapter", err)
		default:
		}
	}
	if _, err := l.Chat(context.Background(), req, nil); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("a request for the unloaded adapter: %v, want ErrUnknownModel", err)
	}
	select {
	case err := <-unloaded:
		t.Fatalf("UnloadAdapter returned (%v) while a request used the adapter", err)
	default:
	}
	close(proceed)
	r := <-running
	if r.err != nil || r.resp.Text != want.Text {
		t.Errorf("the running request gave %q, %v; want %q", r.resp.Text, r.err, want.Text)
	}
	if err := <-unloaded; err != nil {
		t.Error(err)
	}
}

// Two slots serve four concurrent requests on the base model and two
// adapters; each gets what it gets alone. Run it with -race.
func TestLocalConcurrent(t *testing.T) {
	l := newStories(t, LocalConfig{Slots: 2, Threads: 2})
	pathA, pathB := saveRandomAdapter(t, l.model, 1), saveRandomAdapter(t, l.model, 2)
	for name, p := range map[string]string{"a": pathA, "b": pathB} {
		if err := l.LoadAdapter(name, p); err != nil {
			t.Fatal(err)
		}
	}
	reqs := []struct {
		req  Request
		path string
	}{
		{Request{Messages: ask("Once upon a time"), MaxTokens: 16}, ""},
		{Request{Model: "a", Messages: ask("The dog"), MaxTokens: 16}, pathA},
		{Request{Model: "b", Messages: ask("Once upon a time"), MaxTokens: 16, Temperature: 0.8, Seed: 7}, pathB},
		{Request{Model: "a", Messages: ask("Once upon a time"), MaxTokens: 16, TopLogprobs: 2}, pathA},
	}
	want := make([]string, len(reqs))
	for i, r := range reqs {
		want[i] = direct(t, l, r.path, r.req).Text
	}
	got := make([]string, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			resp, err := l.Chat(context.Background(), r.req, nil)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = resp.Text
		})
	}
	wg.Wait()
	for i := range reqs {
		if got[i] != want[i] {
			t.Errorf("request %d: %q, want %q", i, got[i], want[i])
		}
	}
}

func TestLocalErrors(t *testing.T) {
	l := newStories(t, LocalConfig{Context: 16})
	_, err := l.Chat(context.Background(), Request{Messages: ask(strings.Repeat("Once upon a time ", 10))}, nil)
	if err == nil || !strings.Contains(err.Error(), "holds 16") || !strings.Contains(err.Error(), "prompt is") {
		t.Errorf("long prompt: %v, want an error giving its tokens and the context of 16", err)
	}
	if _, err := l.Chat(context.Background(), Request{}, nil); err == nil {
		t.Error("a request without messages succeeded")
	}
	if _, err := l.Chat(context.Background(), Request{Messages: ask("Hi"), JSONSchema: []byte(`{"type": "thing"}`)}, nil); err == nil || !strings.Contains(err.Error(), "JSONSchema") {
		t.Errorf("a bad schema: %v, want an error naming Request.JSONSchema", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	resp, err := l.Chat(ctx, Request{Messages: ask("Hi")}, nil)
	if !errors.Is(err, context.Canceled) || resp == nil || resp.FinishReason != FinishCancelled {
		t.Errorf("cancelled: %+v, %v; want a cancelled response and context.Canceled", resp, err)
	}

	stop := errors.New("enough")
	if _, err := l.Chat(context.Background(), Request{Messages: ask("Hi"), MaxTokens: 8}, func(string) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("stream error: %v, want it returned", err)
	}

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Chat(context.Background(), Request{Messages: ask("Hi")}, nil); err == nil {
		t.Error("Chat after Close succeeded")
	}
}

// A request waiting for a busy slot gives up when its context ends.
func TestLocalWaitRespectsContext(t *testing.T) {
	l := newStories(t, LocalConfig{Slots: 1})
	started, proceed := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		first := true
		l.Chat(context.Background(), Request{Messages: ask("Hi"), MaxTokens: 8}, func(string) error {
			if first {
				first = false
				close(started)
				<-proceed
			}
			return nil
		})
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 20 { // the select may pick the slot or ctx; the slot is taken
		resp, err := l.Chat(ctx, Request{Messages: ask("Hi")}, nil)
		if !errors.Is(err, context.Canceled) || resp.FinishReason != FinishCancelled || resp.Usage.CompletionTokens != 0 {
			t.Fatalf("%+v, %v: want a cancelled response with no completion", resp, err)
		}
	}
	close(proceed)
	<-done
}

func BenchmarkLocalChat(b *testing.B) {
	l := newStories(b, LocalConfig{Threads: 1})
	req := Request{Messages: ask("Once upon a time"), MaxTokens: 32}
	b.ReportAllocs()
	tokens := 0
	for b.Loop() {
		resp, err := l.Chat(context.Background(), req, nil)
		if err != nil {
			b.Fatal(err)
		}
		tokens += resp.Usage.CompletionTokens
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
}
