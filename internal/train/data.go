package train

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"

	"flywheel/internal/dataset"
	"flywheel/internal/llama"
)

// IgnoreIndex is the label of a position that is not trained.
const IgnoreIndex = llama.IgnoreIndex

// Example is one tokenized training example in Hugging Face's layout:
// Labels[i] is Tokens[i] where the model learns to produce that token and
// IgnoreIndex where it does not (prompt tokens); position i is trained to
// predict Labels[i+1]. A nil Labels trains every token.
type Example struct {
	Tokens []int `json:"input_ids"`
	Labels []int `json:"labels,omitempty"`
}

// label returns the label of position i.
func (e Example) label(i int) int {
	if e.Labels == nil {
		return e.Tokens[i]
	}
	return e.Labels[i]
}

// scored counts the positions whose next token is trained.
func (e Example) scored() int {
	n := 0
	for i := 1; i < len(e.Tokens); i++ {
		if e.label(i) != IgnoreIndex {
			n++
		}
	}
	return n
}

// appendExample adds e to b as a sequence of its own.
func appendExample(b *llama.Batch, e Example) {
	n := len(e.Tokens)
	for i := 0; i < n; i++ {
		target := IgnoreIndex
		if i+1 < n {
			target = e.label(i + 1)
		}
		b.Tokens = append(b.Tokens, e.Tokens[i])
		b.Targets = append(b.Targets, target)
	}
	b.Lens = append(b.Lens, n)
}

// TextEncoder is what the plain layout needs of a tokenizer (a
// *tokenizer.Tokenizer).
type TextEncoder interface {
	Encode(text string, addSpecial, parseSpecial bool) []int
	BOS() int
	EOS() int
}

// ChatEncoder tokenizes a conversation with a chat template, marking the
// tokens of assistant turns (what the model learns to produce).
type ChatEncoder func(msgs []ChatMessage) (ids []int, train []bool, err error)

// ChatMessage is one turn handed to a ChatEncoder: role "system", "user"
// or "assistant".
type ChatMessage struct {
	Role, Content string
}

// DataOptions says how to turn a data file into examples.
type DataOptions struct {
	Tokenizer TextEncoder // for text formats; nil accepts only pre-tokenized files
	Chat      ChatEncoder // the model's chat template; nil: the plain layout (see Encode)
	Vocab     int         // the model's vocabulary size, to check pre-tokenized ids
	MaxLen    int         // longer examples are cut to this many tokens; ≤ 0: no limit
}

// DataReport says what reading a data file did.
type DataReport struct {
	Format    string // "pre-tokenized" or the dataset format read
	Examples  int    // kept
	Truncated int    // cut to MaxLen
	Dropped   int    // left with no trained token (after truncation), or of an untrainable kind
	Tokens    int    // in the kept examples
	Scored    int    // trained positions in the kept examples
	FirstDrop string // why the first dropped example was dropped
}

// LoadExamples reads a data file: pre-tokenized JSONL (one
// {"input_ids": [...], "labels": [...]} per line, labels optional), or any
// format the dataset package reads (alpaca, sharegpt, messages), tokenized
// with the options' tokenizer and template.
func LoadExamples(path string, opt DataOptions) ([]Example, DataReport, error) {
	pre, err := isPreTokenized(path)
	if err != nil {
		return nil, DataReport{}, err
	}
	var out []Example
	var rep DataReport
	keep := func(e Example, why string) {
		if opt.MaxLen > 0 && len(e.Tokens) > opt.MaxLen {
			e.Tokens = e.Tokens[:opt.MaxLen]
			if e.Labels != nil {
				e.Labels = e.Labels[:opt.MaxLen]
			}
			rep.Truncated++
		}
		if why == "" && e.scored() == 0 {
			why = "no trained token within the first max-len tokens"
		}
		if why != "" {
			if rep.Dropped == 0 {
				rep.FirstDrop = why
			}
			rep.Dropped++
			return
		}
		rep.Examples++
		rep.Tokens += len(e.Tokens)
		rep.Scored += e.scored()
		out = append(out, e)
	}
	if pre {
		rep.Format = "pre-tokenized"
		err = readPreTokenized(path, opt.Vocab, func(e Example) { keep(e, "") })
		return out, rep, err
	}
	if opt.Tokenizer == nil {
		return nil, rep, fmt.Errorf("%s: text examples need the model's tokenizer", path)
	}
	r, err := dataset.Open(path, dataset.ReaderOptions{})
	if err != nil {
		return nil, rep, err
	}
	defer r.Close()
	for {
		ex, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, rep, fmt.Errorf("read training data: %w", err)
		}
		rep.Format = string(r.Format())
		e, why := Encode(&ex, opt.Tokenizer, opt.Chat)
		if why != "" {
			why = fmt.Sprintf("%s: %s", ex.Pos, why)
		}
		keep(e, why)
	}
	return out, rep, nil
}

// Encode tokenizes a supervised example. With a chat encoder the
// conversation is rendered by the model's template and every assistant turn
// is trained; without one (base models) the layout is plain: BOS, then each
// turn's text (the system prompt first), assistant turns trained and
// followed by EOS. It returns a reason instead when the example cannot be
// trained (a preference pair, an example with no answer, tool turns).
func Encode(ex *dataset.Example, tok TextEncoder, chat ChatEncoder) (Example, string) {
	if ex.Kind() == dataset.KindPreference {
		return Example{}, "a preference pair (chosen/rejected) is not a supervised example"
	}
	if ex.Response() == "" {
		return Example{}, "the example has no assistant answer to learn"
	}
	var msgs []ChatMessage
	if ex.System != "" {
		msgs = append(msgs, ChatMessage{Role: "system", Content: ex.System})
	}
	for _, m := range ex.Messages {
		role := string(m.Role)
		switch m.Role {
		case dataset.RoleFunctionCall, dataset.RoleObservation:
			return Example{}, "tool calls and observations are not supported in training"
		}
		msgs = append(msgs, ChatMessage{Role: role, Content: m.Content})
	}
	if chat != nil {
		ids, train, err := chat(msgs)
		if err != nil {
			return Example{}, err.Error()
		}
		e := Example{Tokens: ids, Labels: make([]int, len(ids))}
		for i, id := range ids {
			e.Labels[i] = IgnoreIndex
			if train[i] {
				e.Labels[i] = id
			}
		}
		return e, ""
	}
	var e Example
	add := func(ids []int, trained bool) {
		for _, id := range ids {
			e.Tokens = append(e.Tokens, id)
			if trained {
				e.Labels = append(e.Labels, id)
			} else {
				e.Labels = append(e.Labels, IgnoreIndex)
			}
		}
	}
	if tok.BOS() >= 0 {
		add([]int{tok.BOS()}, false)
	}
	for _, m := range msgs {
		assistant := m.Role == string(dataset.RoleAssistant)
		add(tok.Encode(m.Content, false, false), assistant)
		if assistant && tok.EOS() >= 0 {
			add([]int{tok.EOS()}, true)
		}
	}
	return e, ""
}

// isPreTokenized reports whether the first record of a file has an
// input_ids key.
func isPreTokenized(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("training data: %w", err)
	}
	defer f.Close()
	r, err := maybeGzip(f)
	if err != nil {
		return false, fmt.Errorf("training data %s: %w", path, err)
	}
	head := make([]byte, 4096)
	n, _ := io.ReadFull(r, head)
	head = bytes.TrimLeft(head[:n], " \t\r\n[")
	if !bytes.HasPrefix(head, []byte("{")) {
		return false, nil
	}
	var first map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(head))
	if err := dec.Decode(&first); err != nil {
		// a first record longer than the peek: look for the key in what we have
		return bytes.Contains(head, []byte(`"input_ids"`)), nil
	}
	_, ok := first["input_ids"]
	return ok, nil
}

func maybeGzip(f io.Reader) (io.Reader, error) {
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return gzip.NewReader(br)
	}
	return br, nil
}

// readPreTokenized reads JSONL lines of {"input_ids": [...], "labels":
// [...]}; labels may be absent (every token trained) and hold IgnoreIndex
// for masked positions.
func readPreTokenized(path string, vocab int, fn func(Example)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("training data: %w", err)
	}
	defer f.Close()
	r, err := maybeGzip(f)
	if err != nil {
		return fmt.Errorf("training data %s: %w", path, err)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		e, err := parsePreTokenized(raw, vocab)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		fn(e)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	return nil
}

// parsePreTokenized reads one pre-tokenized record.
func parsePreTokenized(raw []byte, vocab int) (Example, error) {
	var rec struct {
		InputIDs []int `json:"input_ids"`
		Labels   []int `json:"labels"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&rec); err != nil {
		return Example{}, fmt.Errorf("not a pre-tokenized record (want {\"input_ids\": [...], \"labels\": [...]}): %w", err)
	}
	if len(rec.InputIDs) == 0 {
		return Example{}, errors.New("field input_ids: empty or missing")
	}
	if rec.Labels != nil && len(rec.Labels) != len(rec.InputIDs) {
		return Example{}, fmt.Errorf("field labels: %d labels for %d input_ids", len(rec.Labels), len(rec.InputIDs))
	}
	for i, id := range rec.InputIDs {
		if id < 0 || (vocab > 0 && id >= vocab) {
			return Example{}, fmt.Errorf("field input_ids[%d]: id %d is outside the vocabulary [0, %d)", i, id, vocab)
		}
	}
	for i, id := range rec.Labels {
		if id != IgnoreIndex && (id < 0 || (vocab > 0 && id >= vocab)) {
			return Example{}, fmt.Errorf("field labels[%d]: %d is neither -100 nor a token id below %d", i, id, vocab)
		}
	}
	return Example{Tokens: rec.InputIDs, Labels: rec.Labels}, nil
}

// SplitValidation moves a fraction of examples (at least one when frac > 0
// and there are two or more) into a validation set, chosen by seed.
func SplitValidation(examples []Example, frac float64, seed uint64) (train, val []Example) {
	if frac <= 0 || len(examples) < 2 {
		return examples, nil
	}
	n := min(len(examples)-1, max(1, int(frac*float64(len(examples))+0.5)))
	perm := rand.New(rand.NewPCG(seed, 0x76616c)).Perm(len(examples))
	isVal := make([]bool, len(examples))
	for _, i := range perm[:n] {
		isVal[i] = true
	}
	for i, e := range examples {
		if isVal[i] {
			val = append(val, e)
		} else {
			train = append(train, e)
		}
	}
	return train, val
}

// describe is a one-line summary of a data report.
func (r DataReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d examples (%s), %d tokens, %d trained", r.Examples, r.Format, r.Tokens, r.Scored)
	if r.Truncated > 0 {
		fmt.Fprintf(&b, "; %d truncated to max-len", r.Truncated)
	}
	if r.Dropped > 0 {
		fmt.Fprintf(&b, "; %d dropped (first: %s)", r.Dropped, r.FirstDrop)
	}
	return b.String()
}
