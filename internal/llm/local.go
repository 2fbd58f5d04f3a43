package llm

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"flywheel/internal/generate"
	"flywheel/internal/jsonschema"
	"flywheel/internal/llama"
	"flywheel/internal/lora"
	"flywheel/internal/tensor"
	"flywheel/internal/tokenizer"
)

// LocalConfig configures the local engine. Every field but Model has a
// working zero value.
type LocalConfig struct {
	// Model is the base model: a GGUF file, a Hugging Face directory or a
	// llama2.c .bin checkpoint (its tokenizer.bin found beside it).
	Model string
	// Tokenizer names a tokenizer file for a model file that holds none.
	Tokenizer string
	// Name is what requests call the base model; "" is the model file's
	// name without its extension.
	Name string
	// Threads is the number of compute threads shared by all slots
	// (≤ 0: one per core).
	Threads int
	// Context is the positions each sequence holds, prompt and completion
	// together (≤ 0: the model's context length, at most 4096).
	Context int
	// Slots is the number of requests decoded at once, each with its own KV
	// cache (≤ 0: 1). Further requests wait for a free slot.
	Slots int
	// MaxTokens bounds a completion whose request sets no bound (≤ 0: until
	// the context is full).
	MaxTokens int
	// Template is a built-in chat template family (tokenizer.BuiltinFamilies)
	// to use instead of the model's own; "" uses the model's.
	Template string
}

// Local is the local engine: one base model in memory (memory-mapped where
// the file allows) serving chat requests on a fixed number of slots, with
// LoRA adapters loaded over the base and chosen per request by name.
//
// Every slot owns a KV cache; the weights are shared. All slots compute on
// one tensor.Pool, which runs one data-parallel loop at a time and lets
// concurrent callers take turns, so two requests interleave their loops
// instead of oversubscribing the cores.
//
// Conversations are rendered with the model's chat template (or
// LocalConfig.Template). A model without one, such as a base model like
// stories260K, gets a plain transcript: one "role: content" line per
// message, ending in "assistant:", after BOS.
//
// A Local is safe for concurrent use.
type Local struct {
	model     *llama.Model
	ownsModel bool // Close closes model
	tok       *tokenizer.Tokenizer
	tpl       *tokenizer.Template // nil: the plain transcript
	name      string
	addBOS    bool // the vocabulary starts a sequence with BOS
	context   int
	maxTokens int

	pool  *tensor.Pool
	slots chan *llama.State // the free sequences
	done  chan struct{}     // closed by Close
	close sync.Once

	mu       sync.Mutex
	adapters map[string]*loadedAdapter
}

// loadedAdapter is an adapter being served and the requests using it.
type loadedAdapter struct {
	adapter *lora.Adapter
	users   sync.WaitGroup
}

// NewLocal loads cfg.Model and makes an engine serving it.
func NewLocal(cfg LocalConfig) (*Local, error) {
	if cfg.Model == "" {
		return nil, errors.New("local engine: no model: set LocalConfig.Model to a GGUF file, a Hugging Face directory or a llama2.c .bin")
	}
	m, err := llama.Load(cfg.Model, llama.Options{Tokenizer: cfg.Tokenizer, HugePages: true})
	if err != nil {
		return nil, fmt.Errorf("local engine: %w", err)
	}
	if cfg.Name == "" {
		cfg.Name = strings.TrimSuffix(filepath.Base(cfg.Model), filepath.Ext(cfg.Model))
	}
	l, err := NewLocalFromModel(m, cfg)
	if err != nil {
		m.Close()
		return nil, err
	}
	l.ownsModel = true
	return l, nil
}

// NewLocalFromModel makes an engine serving a model already loaded (with
// its tokenizer); cfg.Model and cfg.Tokenizer are not used. Close leaves m
// open. Name defaults to m's file name, else "local".
func NewLocalFromModel(m *llama.Model, cfg LocalConfig) (*Local, error) {
	if m.Tokenizer == nil {
		return nil, fmt.Errorf("local engine: model %s holds no tokenizer: set LocalConfig.Tokenizer", m.File.Path)
	}
	name := cfg.Name
	if name == "" {
		name = "local"
		if m.File.Path != "" {
			name = strings.TrimSuffix(filepath.Base(m.File.Path), filepath.Ext(m.File.Path))
		}
	}
	if strings.Contains(name, ":") {
		return nil, fmt.Errorf("local engine: model name %q holds a colon, which separates base and adapter names: choose another LocalConfig.Name", name)
	}
	tpl, err := chatTemplate(m.Tokenizer, cfg.Template)
	if err != nil {
		return nil, fmt.Errorf("local engine: model %s: %w", name, err)
	}
	ctxLen := cfg.Context
	if ctxLen <= 0 {
		ctxLen = min(m.Config.ContextLen, 4096)
	}
	slots := max(cfg.Slots, 1)
	l := &Local{
		model: m, tok: m.Tokenizer, tpl: tpl, name: name,
		addBOS:  addsBOS(m.Tokenizer),
		context: ctxLen, maxTokens: cfg.MaxTokens,
		pool:     tensor.NewPool(cfg.Threads),
		slots:    make(chan *llama.State, slots),
		done:     make(chan struct{}),
		adapters: map[string]*loadedAdapter{},
	}
	for range slots {
		l.slots <- m.NewState(ctxLen, l.pool)
	}
	return l, nil
}

// chatTemplate is the template named by family, else the vocabulary's own;
// nil (the plain transcript) when the vocabulary has none.
func chatTemplate(tok *tokenizer.Tokenizer, family string) (*tokenizer.Template, error) {
	if family != "" {
		return tokenizer.BuiltinTemplate(family, tok.Piece(tok.BOS()), tok.Piece(tok.EOS()))
	}
	tpl, err := tok.ChatTemplate()
	if errors.Is(err, tokenizer.ErrNoChatTemplate) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w (choose a built-in one with LocalConfig.Template: %s)", err, strings.Join(tokenizer.BuiltinFamilies(), ", "))
	}
	return tpl, nil
}

// addsBOS reports whether the vocabulary starts a sequence with BOS.
func addsBOS(tok *tokenizer.Tokenizer) bool {
	ids := tok.Encode("", true, false)
	return len(ids) > 0 && ids[0] == tok.BOS()
}

// Name is the base model's name.
func (l *Local) Name() string { return l.name }

// Context is the positions each request may use, prompt and completion.
func (l *Local) Context() int { return l.context }

// LoadAdapter reads a LoRA adapter (a PEFT directory or a GGUF LoRA file)
// and serves it as name: requests for "base:name" or "name" use it from
// now on. Loading a name again replaces the adapter; requests already
// running finish with the one they started with.
func (l *Local) LoadAdapter(name, path string) error {
	if err := l.checkAdapterName(name); err != nil {
		return err
	}
	a, err := l.model.LoadAdapter(path)
	if err != nil {
		return fmt.Errorf("local engine: adapter %q: %w", name, err)
	}
	return l.AddAdapter(name, a)
}

// AddAdapter serves an adapter already in memory as name, like LoadAdapter.
func (l *Local) AddAdapter(name string, a *lora.Adapter) error {
	if err := l.checkAdapterName(name); err != nil {
		return err
	}
	if err := a.Compatible(l.model.Config.LoRAShape()); err != nil {
		return fmt.Errorf("local engine: adapter %q does not fit model %s: %w", name, l.name, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.adapters[name] = &loadedAdapter{adapter: a}
	return nil
}

func (l *Local) checkAdapterName(name string) error {
	if name == "" || strings.Contains(name, ":") || name == l.name {
		return fmt.Errorf("local engine: adapter name %q: must be non-empty, hold no colon and differ from the base model's name %q", name, l.name)
	}
	return nil
}

// UnloadAdapter stops serving adapter name: new requests for it fail at
// once, and UnloadAdapter returns when the requests already using it have
// finished (so do not call it from the stream callback of such a request).
func (l *Local) UnloadAdapter(name string) error {
	l.mu.Lock()
	la, ok := l.adapters[name]
	delete(l.adapters, name)
	l.mu.Unlock()
	if !ok {
		return fmt.Errorf("local engine: no adapter %q is loaded (loaded: %s)", name, l.adapterList())
	}
	la.users.Wait()
	return nil
}

// Adapters lists the names of the loaded adapters, sorted.
func (l *Local) Adapters() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := make([]string, 0, len(l.adapters))
	for name := range l.adapters {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Models lists what requests may name: the base model, then
// "base:adapter" for each adapter.
func (l *Local) Models() []string {
	out := []string{l.name}
	for _, a := range l.Adapters() {
		out = append(out, l.name+":"+a)
	}
	return out
}

func (l *Local) adapterList() string {
	names := l.Adapters()
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// useAdapter resolves a request's model name: "" or the base name is the
// base model, "base:adapter" or "adapter" a loaded adapter, which is then
// counted as in use until done is called.
func (l *Local) useAdapter(model string) (a *lora.Adapter, resolved string, done func(), err error) {
	base, adapter, hasColon := strings.Cut(model, ":")
	if !hasColon {
		if model == "" || model == l.name {
			return nil, l.name, func() {}, nil
		}
		adapter = model
	} else if base != l.name {
		return nil, "", nil, fmt.Errorf("local engine: %w %q: this engine serves %s", ErrUnknownModel, model, strings.Join(l.Models(), ", "))
	}
	l.mu.Lock()
	la, ok := l.adapters[adapter]
	if ok {
		la.users.Add(1)
	}
	l.mu.Unlock()
	if !ok {
		return nil, "", nil, fmt.Errorf("local engine: %w %q: no such adapter on %s (loaded adapters: %s)", ErrUnknownModel, model, l.name, l.adapterList())
	}
	return la.adapter, l.name + ":" + adapter, la.users.Done, nil
}

// Chat completes req on a free slot, waiting for one while all are busy.
// Request.Model picks the adapter; Seed 0 with a temperature draws a random
// seed; Request.JSONSchema constrains decoding to documents of the schema
// (generate.Options.Schema). Usage counts the prompt's tokens and the completion's (without
// the end-of-generation token); Logprobs has one entry per completion
// token.
func (l *Local) Chat(ctx context.Context, req Request, stream func(delta string) error) (*Response, error) {
	start := time.Now()
	adapter, model, done, err := l.useAdapter(req.Model)
	if err != nil {
		return nil, err
	}
	defer done()
	ids, err := l.requestTokens(req)
	if err != nil {
		return nil, err
	}
	opt, err := l.options(req)
	if err != nil {
		return nil, err
	}
	state, err := l.acquire(ctx)
	if errors.Is(err, errClosed) {
		return nil, err
	}
	if err != nil { // cancelled while waiting for a slot: nothing generated
		return &Response{Model: model, FinishReason: FinishCancelled, Latency: time.Since(start)}, err
	}
	defer l.release(state)
	if err := state.SetAdapter(adapter); err != nil {
		return nil, fmt.Errorf("local engine: %s: %w", model, err)
	}
	res, err := generate.Run(ctx, state, l.tok, ids, opt, stream)
	if res == nil {
		return nil, fmt.Errorf("local engine: %s: %w", model, err)
	}
	resp := &Response{
		Model: model, Text: res.Text, FinishReason: res.FinishReason,
		Usage: Usage{PromptTokens: len(ids), CompletionTokens: len(res.Tokens), TotalTokens: len(ids) + len(res.Tokens)},
	}
	if req.Logprobs || req.TopLogprobs > 0 {
		resp.Logprobs = logprobsOf(res, req.TopLogprobs)
	}
	resp.Latency = time.Since(start)
	return resp, err
}

// PromptTokens renders a conversation as the engine prompts the model with
// it and returns the token ids. It fails when they do not fit the context.
func (l *Local) PromptTokens(msgs []Message) ([]int, error) {
	if len(msgs) == 0 {
		return nil, errors.New("local engine: the request has no messages")
	}
	var ids []int
	if l.tpl == nil {
		ids = l.tok.Encode(transcript(msgs), true, false)
	} else {
		text, err := l.tpl.Render(templateMessages(msgs), true)
		if err != nil {
			return nil, fmt.Errorf("local engine: %s: %w", l.name, err)
		}
		// the template writes BOS where the model wants it; add it only
		// when the vocabulary adds BOS and the template did not
		ids = l.tok.Encode(text, false, true)
		if bos := l.tok.BOS(); l.addBOS && (len(ids) == 0 || ids[0] != bos) {
			ids = append([]int{bos}, ids...)
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("local engine: the conversation renders to no tokens")
	}
	if len(ids) > l.context {
		return nil, fmt.Errorf("local engine: %w: the prompt is %d tokens but %s's context holds %d: shorten the conversation or raise LocalConfig.Context", ErrInvalidRequest, len(ids), l.name, l.context)
	}
	return ids, nil
}

// requestTokens are the prompt ids of req: its Prompt as it is, or its
// messages through the chat template.
func (l *Local) requestTokens(req Request) ([]int, error) {
	if req.Prompt == "" || len(req.Messages) > 0 {
		return l.PromptTokens(req.Messages)
	}
	ids := l.tok.Encode(req.Prompt, l.addBOS, false)
	if len(ids) == 0 {
		return nil, fmt.Errorf("local engine: %w: the prompt encodes to no tokens", ErrInvalidRequest)
	}
	if len(ids) > l.context {
		return nil, fmt.Errorf("local engine: %w: the prompt is %d tokens but %s's context holds %d: shorten it or raise LocalConfig.Context", ErrInvalidRequest, len(ids), l.name, l.context)
	}
	return ids, nil
}

// transcript is the prompt of a model without a chat template.
func transcript(msgs []Message) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "%s: %s\n", m.Role, m.Content)
	}
	b.WriteString(RoleAssistant + ":")
	return b.String()
}

func templateMessages(msgs []Message) []tokenizer.Message {
	out := make([]tokenizer.Message, len(msgs))
	for i, m := range msgs {
		out[i] = tokenizer.Message{Role: m.Role, Content: m.Content}
	}
	return out
}

// options maps a request onto the decoding loop's options.
func (l *Local) options(req Request) (generate.Options, error) {
	opt := generate.Options{
		SamplerOptions: generate.SamplerOptions{Temperature: req.Temperature, TopP: req.TopP, Seed: req.Seed},
		MaxTokens:      req.MaxTokens,
		Stop:           req.Stop,
		TopLogprobs:    req.TopLogprobs,
	}
	if opt.MaxTokens <= 0 {
		opt.MaxTokens = l.maxTokens
	}
	if opt.Seed == 0 && opt.Temperature > 0 {
		opt.Seed = rand.Uint64() | 1
	}
	if req.Logprobs && opt.TopLogprobs <= 0 {
		opt.TopLogprobs = 1 // the loop records logprobs along with alternatives
	}
	if len(req.JSONSchema) > 0 {
		s, err := jsonschema.Compile(req.JSONSchema)
		if err != nil {
			return opt, fmt.Errorf("local engine: Request.JSONSchema: %w", err)
		}
		opt.Schema = s
	}
	return opt, nil
}

// logprobsOf converts the loop's log probabilities, one per completion
// token (the end-of-generation token's entry is left out), with top
// alternatives each.
func logprobsOf(res *generate.Result, top int) []Logprob {
	n := min(len(res.Logprobs), len(res.Tokens))
	out := make([]Logprob, n)
	for i, lp := range res.Logprobs[:n] {
		out[i].TokenLogprob = TokenLogprob{Token: lp.Token, Logprob: lp.Logprob}
		if top > 0 {
			out[i].Top = make([]TokenLogprob, len(lp.Top))
			for j, alt := range lp.Top {
				out[i].Top[j] = TokenLogprob{Token: alt.Token, Logprob: alt.Logprob}
			}
		}
	}
	return out
}

// errClosed is returned by Chat after Close.
var errClosed = errors.New("local engine: closed")

// acquire takes a free slot, waiting until one is free, ctx is done or the
// engine is closed.
func (l *Local) acquire(ctx context.Context) (*llama.State, error) {
	select {
	case <-l.done:
		return nil, errClosed
	default:
	}
	select {
	case s := <-l.slots:
		select {
		case <-l.done: // Close started while this request waited
			l.slots <- s
			return nil, errClosed
		default:
		}
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.done:
		return nil, errClosed
	}
}

// release empties a slot and returns it to the free ones.
func (l *Local) release(s *llama.State) {
	s.SetAdapter(nil) // drop the reference, so an unloaded adapter can be freed
	s.Reset()
	l.slots <- s
}

// Close waits for the running requests, refuses new ones, stops the
// compute threads and, when NewLocal loaded the model, closes it.
func (l *Local) Close() error {
	var err error
	l.close.Do(func() {
		close(l.done)
		for range cap(l.slots) {
			<-l.slots
		}
		l.pool.Close()
		if l.ownsModel {
			err = l.model.Close()
		}
	})
	return err
}
