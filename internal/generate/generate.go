package generate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"flywheel/internal/jsonschema"
	"flywheel/internal/tokenizer"
)

// Sequence is the model state the loop decodes with (a *llama.State).
type Sequence interface {
	// Forward feeds tokens at the next positions and returns the logits
	// after the last one.
	Forward(tokens []int) ([]float32, error)
	Pos() int
	Context() int
}

// Options configures one generation. The zero value samples greedily until
// the end-of-generation token or a full context.
type Options struct {
	SamplerOptions
	MaxTokens   int      // ≤ 0: until the context is full
	Stop        []string // generation ends before the first of these strings
	TopLogprobs int      // > 0: record each token's log probability and this many alternatives
	// Schema, when set, constrains the text to a JSON document valid under
	// it (nil: unconstrained); generation stops with FinishStop as soon as
	// the document is complete. Tokens that would leave more to write than
	// MaxTokens (or the context) can hold are masked too, so the document
	// closes in time; only a budget too small for the schema's shortest
	// document ends with FinishLength and incomplete JSON. Stop strings
	// still apply and can cut the document.
	Schema *jsonschema.Schema
}

// TokenLogprob is one token and its log probability under the model.
type TokenLogprob struct {
	ID      int     `json:"id"`
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
}

// Logprob is a generated token's log probability and the most likely
// alternatives at its position.
type Logprob struct {
	TokenLogprob
	Top []TokenLogprob `json:"top"`
}

// Finish reasons.
const (
	FinishStop      = "stop"      // end-of-generation token or a stop string
	FinishLength    = "length"    // MaxTokens or the context is exhausted
	FinishCancelled = "cancelled" // the context was cancelled
)

// Result is a finished generation.
type Result struct {
	PromptTokens   []int
	Tokens         []int // generated ids (without the end-of-generation token)
	Text           string
	Logprobs       []Logprob
	FinishReason   string
	PromptDuration time.Duration
	GenDuration    time.Duration
}

// Run decodes a continuation of prompt. Text is passed to emit as soon as it
// is certain: complete UTF-8 characters that cannot be the start of a stop
// string. On cancellation it returns what was generated with ctx's error.
func Run(ctx context.Context, seq Sequence, tok *tokenizer.Tokenizer, prompt []int, opt Options, emit func(string) error) (*Result, error) {
	if len(prompt) == 0 {
		return nil, errors.New("generate: empty prompt (a model needs at least one token, usually BOS)")
	}
	if emit == nil {
		emit = func(string) error { return nil }
	}
	res := &Result{PromptTokens: prompt}
	sampler := NewSampler(opt.SamplerOptions)
	history := append([]int(nil), prompt...)
	dec := tok.NewStreamDecoder()
	for _, id := range prompt { // so the first generated word keeps its leading space
		dec.Add(id)
	}
	out := &stopWriter{stops: opt.Stop, emit: emit}
	var cons *constraint
	if opt.Schema != nil {
		var err error
		if cons, err = newConstraint(opt.Schema, tok, prompt); err != nil {
			return nil, fmt.Errorf("generate: %w", err)
		}
	}

	start := time.Now()
	logits, err := seq.Forward(prompt)
	if err != nil {
		return nil, fmt.Errorf("generate: prompt of %d tokens: %w", len(prompt), err)
	}
	res.PromptDuration = time.Since(start)
	start = time.Now()
	defer func() { res.GenDuration = time.Since(start) }()

	for {
		if err := ctx.Err(); err != nil {
			res.FinishReason = FinishCancelled
			res.Text = out.text.String()
			return res, err
		}
		if opt.MaxTokens > 0 && len(res.Tokens) >= opt.MaxTokens {
			res.FinishReason = FinishLength
			break
		}
		if cons != nil {
			if logits, err = cons.mask(logits, tokensLeft(seq, opt, len(res.Tokens))); err != nil {
				return nil, err
			}
		}
		id := sampler.Sample(logits, history)
		if cons != nil {
			id = cons.admit(id)
		}
		if opt.TopLogprobs > 0 {
			res.Logprobs = append(res.Logprobs, logprobOf(tok, logits, id, opt.TopLogprobs))
		}
		if tok.IsEOG(id) {
			res.FinishReason = FinishStop
			break
		}
		res.Tokens = append(res.Tokens, id)
		history = append(history, id)
		stopped, err := out.write(dec.Add(id))
		if err != nil {
			return nil, err
		}
		if stopped {
			res.FinishReason = FinishStop
			break
		}
		if cons != nil {
			done, err := cons.accept(id)
			if err != nil {
				return nil, err
			}
			if done {
				res.FinishReason = FinishStop
				break
			}
		}
		if seq.Pos() >= seq.Context() {
			res.FinishReason = FinishLength
			break
		}
		if logits, err = seq.Forward([]int{id}); err != nil {
			return nil, fmt.Errorf("generate: token %d: %w", len(res.Tokens), err)
		}
	}
	if !out.stopped {
		if _, err := out.write(dec.Flush()); err != nil {
			return nil, err
		}
		if err := out.flush(); err != nil {
			return nil, err
		}
	}
	res.Text = out.text.String()
	return res, nil
}

// stopWriter accumulates generated text, emits what can no longer become a
// stop string, and cuts the text at the first stop string.
type stopWriter struct {
	stops   []string
	emit    func(string) error
	text    strings.Builder // everything generated so far (cut at a stop)
	emitted int             // bytes of text already passed to emit
	stopped bool
}

func (w *stopWriter) write(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	w.text.WriteString(s)
	full := w.text.String()
	cut := -1
	for _, stop := range w.stops {
		if stop == "" {
			continue
		}
		from := max(0, w.emitted-len(stop)+1)
		if i := strings.Index(full[from:], stop); i >= 0 && (cut < 0 || from+i < cut) {
			cut = from + i
		}
	}
	if cut >= 0 {
		w.stopped = true
		w.text.Reset()
		w.text.WriteString(full[:cut])
		return true, w.send(full[w.emitted:cut])
	}
	// hold back the longest tail that is a prefix of a stop string
	hold := 0
	for _, stop := range w.stops {
		for k := min(len(stop)-1, len(full)-w.emitted); k > hold; k-- {
			if strings.HasSuffix(full, stop[:k]) {
				hold = k
				break
			}
		}
	}
	return false, w.send(full[w.emitted : len(full)-hold])
}

func (w *stopWriter) flush() error { return w.send(w.text.String()[w.emitted:]) }

func (w *stopWriter) send(s string) error {
	if s == "" {
		return nil
	}
	w.emitted += len(s)
	return w.emit(s)
}

// logprobOf returns the log-softmax of logits at id and the n most likely
// tokens.
func logprobOf(tok *tokenizer.Tokenizer, logits []float32, id, n int) Logprob {
	m := logits[0]
	for _, v := range logits {
		m = max(m, v)
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v - m))
	}
	logZ := float64(m) + math.Log(sum)
	entry := func(i int) TokenLogprob {
		return TokenLogprob{ID: i, Token: string(tok.TokenBytes(i)), Logprob: float64(logits[i]) - logZ}
	}
	top := make([]int, 0, n+1) // ids, most likely first (insertion into a short list)
	for i, v := range logits {
		if len(top) == n && v <= logits[top[n-1]] || math.IsInf(float64(v), -1) { // -Inf: masked by a constraint
			continue
		}
		j := len(top)
		for j > 0 && logits[top[j-1]] < v {
			j--
		}
		top = append(top, 0)
		copy(top[j+1:], top[j:])
		top[j] = i
		if len(top) > n {
			top = top[:n]
		}
	}
	lp := Logprob{TokenLogprob: entry(id)}
	for _, i := range top {
		lp.Top = append(lp.Top, entry(i))
	}
	return lp
}
