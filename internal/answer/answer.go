package answer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"flywheel/internal/llm"
	"flywheel/internal/prompt"
	"flywheel/internal/retrieve"
)

// Retriever finds the passages for a question; *retrieve.Retriever is one.
type Retriever interface {
	Search(ctx context.Context, q retrieve.Query) ([]retrieve.Hit, error)
}

// Pipeline answers questions from a collection. Every field but Retriever
// has a working zero value: no model (extractive answers), the embedded
// prompt templates, 5 passages, the default support threshold, no
// self-correction.
type Pipeline struct {
	Retriever Retriever
	// Mode is the retrieval mode ("": the retriever's default).
	Mode retrieve.Mode
	// K is how many passages are retrieved (default 5).
	K int

	// Model writes the answers; nil answers extractively, with the best
	// supporting sentences of the passages.
	Model llm.Model
	// Request is the template of each model request (model name, max
	// tokens, temperature, stop sequences); Messages and Key are set per
	// question. Log-probabilities are asked for unless NoLogprobs.
	Request    llm.Request
	NoLogprobs bool
	// Prompts holds the templates (nil: the embedded defaults); Template
	// and CoTTemplate name the answer and chain-of-thought templates
	// (default "rag_answer" and "rag_answer_cot").
	Prompts               *prompt.Library
	Template, CoTTemplate string
	// Budget is the most tokens the packed passages may take (default
	// 2000), as Count measures them (default prompt.ApproxTokens).
	Budget int
	Count  func(string) int
	// Context, when set, is the model's context length in tokens: the
	// budget then shrinks to what the rendered prompt and the answer
	// (Request.MaxTokens, or 256) leave of it.
	Context int

	// MinSupport is the retrieval support below which the answer is "I
	// don't know" (0: DefaultMinSupport; negative: always answer).
	MinSupport float64
	// Calibration turns a model answer's signals into its confidence
	// (nil: llm.DefaultCalibration()).
	Calibration *llm.Calibration
	// Threshold is the confidence below which self-correction runs (0:
	// the calibration's Low; negative: never).
	Threshold   float64
	SelfCorrect SelfCorrect

	// Examples, when set, picks worked examples (few-shot) for each
	// question: Shots of them (default 2) go into the prompt before the
	// question, inside the passage budget's share of the context.
	Examples prompt.Selector
	Shots    int

	// Sentences is the most sentences an extractive answer quotes
	// (default 3).
	Sentences int
}

// SelfCorrect says what to do with a model answer whose confidence is
// below the threshold. The two steps run in order, each only while the
// confidence is still low.
type SelfCorrect struct {
	// ChainOfThought retries once with the chain-of-thought template and
	// keeps the retry when its confidence is higher.
	ChainOfThought bool
	// Escalate, when set, answers with this (larger, dearer) model, whose
	// answer replaces the first; EscalateModel is the Request.Model sent
	// to it ("": its default). The rest of Pipeline.Request applies.
	Escalate      llm.Model
	EscalateModel string
}

// Question is one question to answer.
type Question struct {
	Text string
	// Filter restricts the passages retrieved.
	Filter retrieve.Filter
	// Stream, when set, receives the answer's text as it is written: the
	// model's deltas, or an extractive answer whole. When self-correction
	// replaces an answer already streamed, Replace is called with the
	// reason and Stream then receives the new answer from its start
	// (a chain-of-thought retry sends only its final answer, in one
	// piece; an escalation streams as it is written). With Replace nil
	// the replacement is not streamed: Answer.Text holds it.
	Stream  func(delta string) error
	Replace func(reason string) error
	// Key names who pays (an API key's name) for budgets and costs.
	Key string
}

// Answer is the answer to a question.
type Answer struct {
	ID       string `json:"id"`
	Question string `json:"question"`
	// Text is the answer, with [n] markers naming Citations[n-1].Number.
	Text      string     `json:"answer"`
	Citations []Citation `json:"citations"`
	// Confidence estimates, in [0, 1], that the answer is right: the
	// calibrated score of the model's signals, or the support of an
	// extractive answer.
	Confidence float64 `json:"confidence"`
	// Support is how well the retrieved passages support an answer, in
	// [0, 1] (see DefaultMinSupport).
	Support float64   `json:"support"`
	Usage   llm.Usage `json:"usage"`
	// Cost is in US dollars, over every model call made.
	Cost float64 `json:"cost"`
	// Trace says, in order, what the pipeline did and why.
	Trace []string `json:"trace"`
	// Abstained is true for "I don't know".
	Abstained bool `json:"abstained"`
	// Model is the model that wrote the answer, "extractive" without one.
	Model string `json:"model"`
}

// Citation is a cited passage or sentence. Text is the source document's
// text [Start:End] (byte offsets).
type Citation struct {
	// Number is the n of the answer's [n] marker.
	Number  int    `json:"number"`
	DocID   string `json:"doc_id"`
	ChunkID string `json:"chunk_id"`
	Title   string `json:"title,omitempty"`
	Path    string `json:"path,omitempty"`
	Text    string `json:"text"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
}

// ExtractiveModel is Answer.Model for an extractive answer.
const ExtractiveModel = "extractive"

// IDontKnow is the text of an abstention.
const IDontKnow = "I don't know."

// Ask answers q: it retrieves passages, abstains when they support no
// answer, and otherwise answers extractively (no model) or with the model,
// self-correcting a low-confidence answer.
func (p *Pipeline) Ask(ctx context.Context, q Question) (*Answer, error) {
	if p.Retriever == nil {
		return nil, errors.New("answer: the pipeline has no retriever")
	}
	a := &Answer{ID: newID(), Question: q.Text, Citations: []Citation{}}
	if p.Model == nil {
		a.Model = ExtractiveModel
	}
	hits, err := p.Retriever.Search(ctx, retrieve.Query{Text: q.Text, K: p.k(), Mode: p.Mode, Filter: q.Filter})
	if err != nil {
		return nil, fmt.Errorf("answer: retrieving passages: %w", err)
	}
	ev := newEvidence(q.Text, hits)
	a.Support = ev.support()
	a.tracef("retrieved %d passages; support %.2f", len(hits), a.Support)
	if min := p.minSupport(); a.Support < min {
		a.tracef("support %.2f < %.2f: nothing retrieved supports an answer, so I don't know", a.Support, min)
		a.abstain()
		return a, streamWhole(q.Stream, a.Text)
	}
	if p.Model == nil {
		p.extractive(a, ev)
		return a, streamWhole(q.Stream, a.Text)
	}
	if err := p.generate(ctx, a, q, hits); err != nil {
		return nil, err
	}
	return a, nil
}

// abstain makes a an "I don't know" with nothing cited.
func (a *Answer) abstain() {
	a.Text, a.Citations, a.Abstained, a.Confidence = IDontKnow, []Citation{}, true, 0
}

func (a *Answer) tracef(format string, args ...any) {
	a.Trace = append(a.Trace, fmt.Sprintf(format, args...))
}

func (p *Pipeline) k() int {
	if p.K <= 0 {
		return 5
	}
	return p.K
}

func (p *Pipeline) minSupport() float64 {
	switch {
	case p.MinSupport < 0:
		return 0
	case p.MinSupport == 0:
		return DefaultMinSupport
	}
	return p.MinSupport
}

func (p *Pipeline) sentences() int {
	if p.Sentences <= 0 {
		return 3
	}
	return p.Sentences
}

// streamWhole sends text as one delta when stream is set.
func streamWhole(stream func(string) error, text string) error {
	if stream == nil || text == "" {
		return nil
	}
	return stream(text)
}

// newID returns a random answer ID, "ans_" and 16 hex digits.
func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return "ans_" + hex.EncodeToString(b[:])
}

// defaultPrompts is the embedded template library, opened once.
var defaultPrompts = sync.OnceValues(func() (*prompt.Library, error) { return prompt.Open("") })

func (p *Pipeline) library() (*prompt.Library, error) {
	if p.Prompts != nil {
		return p.Prompts, nil
	}
	lib, err := defaultPrompts()
	if err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	return lib, nil
}

func (p *Pipeline) template() string {
	if p.Template == "" {
		return "rag_answer"
	}
	return p.Template
}

func (p *Pipeline) cotTemplate() string {
	if p.CoTTemplate == "" {
		return "rag_answer_cot"
	}
	return p.CoTTemplate
}

func (p *Pipeline) budget() int {
	if p.Budget <= 0 {
		return 2000
	}
	return p.Budget
}

func (p *Pipeline) count() func(string) int {
	if p.Count == nil {
		return prompt.ApproxTokens
	}
	return p.Count
}

func (p *Pipeline) calibration() llm.Calibration {
	if p.Calibration == nil {
		return llm.DefaultCalibration()
	}
	return *p.Calibration
}

func (p *Pipeline) threshold() float64 {
	switch {
	case p.Threshold < 0:
		return 0
	case p.Threshold == 0:
		return p.calibration().Low
	}
	return p.Threshold
}
