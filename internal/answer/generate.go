package answer

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode"

	"flywheel/internal/llm"
	"flywheel/internal/prompt"
	"flywheel/internal/retrieve"
)

// uncitedFactor scales the confidence of a model answer that cites no
// passage it was shown: an answer that names no source is not grounded,
// whatever its token probabilities say.
const uncitedFactor = 0.5

// attempt is one model answer to a question.
type attempt struct {
	text       string // the answer (a chain of thought's final answer)
	citations  []Citation
	confidence float64
	model      string
	idk        bool // the model said it does not know
}

// generate answers with the model over the packed passages, then
// self-corrects an answer of low confidence.
func (p *Pipeline) generate(ctx context.Context, a *Answer, q Question, hits []retrieve.Hit) error {
	lib, err := p.library()
	if err != nil {
		return err
	}
	shots, err := p.examples(ctx, q.Text)
	if err != nil {
		return err
	}
	if len(shots) > 0 {
		a.tracef("%d worked examples in the prompt", len(shots))
	}
	budget, err := p.fitBudget(lib, q.Text, shots)
	if err != nil {
		return err
	}
	packed := prompt.Pack(prompt.FromHits(hits), budget, p.Count)
	if packed.Dropped > 0 || packed.Trimmed > 0 {
		a.tracef("packed %d passages in %d tokens (%d dropped, %d cut short to fit %d)", len(packed.Passages), packed.Tokens, packed.Dropped, packed.Trimmed, budget)
	}
	if len(packed.Passages) == 0 {
		a.tracef("no passage fits the context budget of %d tokens, so I don't know", budget)
		a.abstain()
		return streamWhole(q.Stream, a.Text)
	}
	c := &corrector{p: p, a: a, q: q, lib: lib, packed: packed, shots: shots, hits: hits,
		out: output{stream: q.Stream, replace: q.Replace}}
	return c.run(ctx)
}

// defaultAnswerTokens is the answer's share of the context when
// Request.MaxTokens does not bound it.
const defaultAnswerTokens = 256

// fitBudget is the passages' token budget: Budget, and with Context set at
// most what the answer and the longest prompt (its templates rendered with
// the question and no passages) leave.
func (p *Pipeline) fitBudget(lib *prompt.Library, question string, shots []prompt.Example) (int, error) {
	budget := p.budget()
	if p.Context <= 0 {
		return budget, nil
	}
	names := []string{p.template()}
	if p.SelfCorrect.ChainOfThought {
		names = append(names, p.cotTemplate())
	}
	overhead := 0
	for _, name := range names {
		n, err := p.promptTokens(lib, name, question, shots)
		if err != nil {
			return 0, err
		}
		overhead = max(overhead, n)
	}
	answer := p.Request.MaxTokens
	if answer <= 0 {
		answer = defaultAnswerTokens
	}
	left := p.Context - answer - overhead
	if left <= 0 {
		return 0, fmt.Errorf("answer: the prompt without passages takes %d tokens and the answer %d: the model's context of %d holds no passage; ask a shorter question or lower the answer's max tokens", overhead, answer, p.Context)
	}
	return min(budget, left), nil
}

// promptTokens counts the tokens of template name rendered with the
// question and no passages: each message's content, and a few tokens for
// its role and delimiters.
func (p *Pipeline) promptTokens(lib *prompt.Library, name, question string, shots []prompt.Example) (int, error) {
	tmpl, err := lib.Get(name)
	if err != nil {
		return 0, fmt.Errorf("answer: %w", err)
	}
	msgs, err := tmpl.Render(answerVars(question, prompt.Packed{}, shots))
	if err != nil {
		return 0, fmt.Errorf("answer: %w", err)
	}
	count := p.count()
	n := 0
	for _, m := range msgs {
		n += count(m.Content) + messageTokens
	}
	return n, nil
}

// messageTokens is a chat template's cost per message: role and
// delimiters.
const messageTokens = 8

// corrector runs the model on one question: a first answer, then the
// self-correction steps while confidence stays low.
type corrector struct {
	p      *Pipeline
	a      *Answer
	q      Question
	lib    *prompt.Library
	packed prompt.Packed
	shots  []prompt.Example
	hits   []retrieve.Hit
	out    output
}

// answerVars fills an answer template: the question, the passages and,
// when there are any, the worked examples.
func answerVars(question string, packed prompt.Packed, shots []prompt.Example) prompt.Vars {
	v := prompt.Vars{"question": prompt.String(question), "passages": prompt.Passages(packed)}
	if len(shots) > 0 {
		v["examples"] = prompt.Examples(shots)
	}
	return v
}

// defaultShots is how many worked examples Examples contributes.
const defaultShots = 2

// examples picks the worked examples for a question (none without a
// selector).
func (p *Pipeline) examples(ctx context.Context, question string) ([]prompt.Example, error) {
	if p.Examples == nil {
		return nil, nil
	}
	k := p.Shots
	if k <= 0 {
		k = defaultShots
	}
	shots, err := p.Examples.Select(ctx, question, k)
	if err != nil {
		return nil, fmt.Errorf("answer: choosing worked examples: %w", err)
	}
	return shots, nil
}

func (c *corrector) run(ctx context.Context) error {
	best, err := c.ask(ctx, c.p.Model, c.p.Request.Model, c.p.template(), false, c.out.live())
	if err != nil {
		return err
	}
	threshold := c.p.threshold()
	if best.confidence < threshold && c.p.SelfCorrect.ChainOfThought {
		if best, err = c.retryCoT(ctx, best, threshold); err != nil {
			return err
		}
	}
	if best.confidence < threshold && c.p.SelfCorrect.Escalate != nil {
		if best, err = c.escalate(ctx, best, threshold); err != nil {
			return err
		}
	}
	c.a.Text, c.a.Citations, c.a.Confidence, c.a.Model, c.a.Abstained = best.text, best.citations, best.confidence, best.model, best.idk
	return nil
}

// retryCoT asks again with the chain-of-thought template and keeps the
// retry when its confidence is higher.
func (c *corrector) retryCoT(ctx context.Context, first attempt, threshold float64) (attempt, error) {
	retry, err := c.ask(ctx, c.p.Model, c.p.Request.Model, c.p.cotTemplate(), true, nil)
	if err != nil {
		return first, err
	}
	step := fmt.Sprintf("confidence %.2f < %.2f: retried with chain-of-thought → %.2f", first.confidence, threshold, retry.confidence)
	if retry.confidence <= first.confidence {
		c.a.tracef("%s: kept the first answer", step)
		return first, nil
	}
	c.a.tracef("%s: kept the retry", step)
	if ok, err := c.out.restart(step); err != nil || !ok {
		return retry, err
	}
	return retry, c.out.send(retry.text)
}

// escalate asks the escalation model, whose answer replaces the current
// one; when it fails, the current answer stands.
func (c *corrector) escalate(ctx context.Context, cur attempt, threshold float64) (attempt, error) {
	reason := fmt.Sprintf("confidence %.2f < %.2f: escalated", cur.confidence, threshold)
	streaming, err := c.out.restart(reason)
	if err != nil {
		return cur, err
	}
	var stream func(string) error
	if streaming {
		stream = c.out.live()
	}
	up, err := c.ask(ctx, c.p.SelfCorrect.Escalate, c.p.SelfCorrect.EscalateModel, c.p.template(), false, stream)
	if err != nil {
		if ctx.Err() != nil {
			return cur, err
		}
		c.a.tracef("%s, but the escalation failed (%v): kept the answer", reason, err)
		if !streaming {
			return cur, nil
		}
		if ok, err := c.out.restart("the escalation failed"); err != nil || !ok {
			return cur, err
		}
		return cur, c.out.send(cur.text)
	}
	c.a.tracef("%s to %s → %.2f", reason, up.model, up.confidence)
	return up, nil
}

// ask runs one request to m (modelName: Request.Model) with template name
// over the packed passages and measures the answer.
func (c *corrector) ask(ctx context.Context, m llm.Model, modelName, name string, cot bool, stream func(string) error) (attempt, error) {
	tmpl, err := c.lib.Get(name)
	if err != nil {
		return attempt{}, fmt.Errorf("answer: %w", err)
	}
	shots := c.shots
	if cot { // the examples show answers, not the reasoning the chain-of-thought template asks for
		shots = nil
	}
	msgs, err := tmpl.Render(answerVars(c.q.Text, c.packed, shots))
	if err != nil {
		return attempt{}, fmt.Errorf("answer: %w", err)
	}
	req := c.p.Request
	req.Model, req.Messages, req.Key = modelName, msgs, c.q.Key
	req.Logprobs = req.Logprobs || !c.p.NoLogprobs
	resp, err := m.Chat(ctx, req, stream)
	if resp != nil {
		c.a.Usage = c.a.Usage.Add(resp.Usage)
		c.a.Cost += resp.Cost
	}
	if err != nil {
		return attempt{}, fmt.Errorf("answer: asking the model: %w", err)
	}
	for _, t := range resp.Trace {
		c.a.tracef("model: %s", t)
	}
	at := attempt{text: strings.TrimSpace(resp.Text), model: resp.Model}
	if at.model == "" {
		at.model = req.Model
	}
	if cot {
		at.text = prompt.FinalAnswer(resp.Text)
	}
	at.idk = saysIDontKnow(at.text)
	at.citations = c.cite(at.text)
	sig := llm.Signals{Logprobs: resp.Logprobs, Retrieval: []float64{c.a.Support}}
	at.confidence = c.p.calibration().Score(sig)
	label := modelLabel(at.model)
	if cot {
		label += " (chain of thought)"
	}
	c.a.tracef("%s: confidence %.2f from %s", label, at.confidence, describe(sig))
	if len(at.citations) == 0 {
		at.confidence *= uncitedFactor
		c.a.tracef("the answer cites no passage, so none is cited; confidence × %.1f → %.2f", uncitedFactor, at.confidence)
	}
	return at, nil
}

// cite maps the [n] markers of text to the packed passages; numbers that
// name no passage are traced and dropped.
func (c *corrector) cite(text string) []Citation {
	byChunk := make(map[string]retrieve.Hit, len(c.hits))
	for _, h := range c.hits {
		byChunk[h.Chunk.ID] = h
	}
	out := []Citation{}
	for _, n := range prompt.Citations(text) {
		if n > len(c.packed.Passages) {
			c.a.tracef("the answer cites [%d], but only %d passages were shown: ignored", n, len(c.packed.Passages))
			continue
		}
		ps := c.packed.Passages[n-1]
		h := byChunk[ps.ID]
		out = append(out, Citation{Number: n, DocID: ps.DocID, ChunkID: ps.ID, Title: h.Doc.Title, Path: h.Doc.Path,
			Text: ps.Text, Start: ps.Start, End: ps.End})
	}
	return out
}

func modelLabel(name string) string {
	if name == "" {
		return "model"
	}
	return "model " + name
}

// describe lists the signals a confidence came from.
func describe(s llm.Signals) string {
	f := s.Features()
	var parts []string
	for i, x := range f {
		if !math.IsNaN(x) {
			parts = append(parts, fmt.Sprintf("%s %.2f", llm.Feature(i), x))
		}
	}
	return strings.Join(parts, ", ")
}

// saysIDontKnow reports whether an answer is a refusal to answer.
func saysIDontKnow(text string) bool {
	t := strings.ToLower(strings.TrimLeftFunc(text, func(r rune) bool { return !unicode.IsLetter(r) }))
	t = strings.ReplaceAll(t, "’", "'")
	for _, p := range []string{"i don't know", "i do not know", "我不知道", "不知道"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// output is what the caller has been streamed.
type output struct {
	stream  func(string) error
	replace func(string) error
	shown   bool // text was streamed since the start or the last restart
}

// live returns the stream to pass a model, noting what it shows (nil
// without a stream).
func (o *output) live() func(string) error {
	if o.stream == nil {
		return nil
	}
	return func(d string) error {
		if d != "" {
			o.shown = true
		}
		return o.stream(d)
	}
}

// restart clears what was shown, through Replace; ok says whether a new
// answer may be streamed (nothing shown, or Replace called).
func (o *output) restart(reason string) (ok bool, err error) {
	if o.stream == nil {
		return false, nil
	}
	if !o.shown {
		return true, nil
	}
	if o.replace == nil {
		return false, nil
	}
	o.shown = false
	return true, o.replace(reason)
}

// send streams text whole.
func (o *output) send(text string) error {
	if o.stream == nil || text == "" {
		return nil
	}
	o.shown = true
	return o.stream(text)
}
