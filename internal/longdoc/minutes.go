package longdoc

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"flywheel/internal/chunk"
	"flywheel/internal/jsonschema"
	"flywheel/internal/llm"
	"flywheel/internal/prompt"
)

// MinutesSchema is the JSON schema of MinutesDoc: what Minutes asks the
// model for and checks its answers against.
//
//go:embed minutes_schema.json
var MinutesSchema []byte

// MinutesDoc is the minutes of a meeting. Its JSON form satisfies
// MinutesSchema.
type MinutesDoc struct {
	Title         string       `json:"title,omitempty"`
	Date          string       `json:"date,omitempty"`
	Attendees     []string     `json:"attendees,omitempty"`
	Summary       string       `json:"summary"`
	Decisions     []string     `json:"decisions"`
	ActionItems   []ActionItem `json:"action_items"`
	OpenQuestions []string     `json:"open_questions"`

	// Chunks are the parts of the transcript the model read, in order.
	Chunks []chunk.Chunk `json:"-"`
	Stats  `json:"-"`
}

// ActionItem is a task someone took on in the meeting.
type ActionItem struct {
	// Owner is who does it, as named in the meeting, or "".
	Owner string `json:"owner"`
	Task  string `json:"task"`
	// Due is the deadline when the meeting stated one.
	Due string `json:"due,omitempty"`
}

// MinutesOptions configure Minutes.
type MinutesOptions struct {
	Options
	// Title and Date name the meeting to the model, when known.
	Title, Date string
}

// vars are the minutes template's variables for one part of a transcript.
func (opt MinutesOptions) vars(transcript string) prompt.Vars {
	return prompt.Vars{"transcript": prompt.String(transcript), "title": prompt.String(opt.Title), "date": prompt.String(opt.Date)}
}

// minutesMaxTokens is the default answer budget: minutes in JSON are
// longer than a prose summary.
const minutesMaxTokens = 1024

const tmplMinutes = "minutes"

// Minutes writes the minutes of a meeting transcript with m. A transcript
// longer than one call is cut into chunks; the model writes minutes for
// each (map), then their lists are merged without duplicates and their
// summaries combined into one (reduce). Every answer and the result are
// checked against MinutesSchema. On failure it returns what was done so
// far, if anything (its Stats count the calls made), with the error.
func Minutes(ctx context.Context, m llm.Model, transcript string, opt MinutesOptions) (*MinutesDoc, error) {
	o := opt.Options.withDefaults(minutesMaxTokens)
	if strings.TrimSpace(transcript) == "" {
		return nil, errors.New("longdoc: minutes: the transcript is empty")
	}
	schema, err := minutesSchema()
	if err != nil {
		return nil, err
	}
	size, err := o.chunkSize(tmplMinutes, opt.vars(""), 0)
	if err != nil {
		return nil, fmt.Errorf("longdoc: minutes: %w", err)
	}
	doc := &MinutesDoc{Chunks: o.split(transcript, size)}
	texts, stats, err := mapCalls(ctx, o, "map", len(doc.Chunks), func(ctx context.Context, i int) (*llm.Response, error) {
		return o.chat(ctx, m, tmplMinutes, opt.vars(doc.Chunks[i].Text), MinutesSchema)
	})
	doc.Stats.merge(stats)
	if err != nil {
		return doc, fmt.Errorf("longdoc: minutes: %w", err)
	}
	parts := make([]MinutesDoc, len(texts))
	for i, text := range texts {
		if err := decodeMinutes(schema, text, &parts[i]); err != nil {
			c := doc.Chunks[i]
			return doc, fmt.Errorf("longdoc: minutes: part %d of %d (transcript bytes %d–%d): %w", i+1, len(texts), c.Start, c.End, err)
		}
	}
	if err := doc.reduce(ctx, m, o, parts); err != nil {
		return doc, fmt.Errorf("longdoc: minutes: %w", err)
	}
	doc.Title, doc.Date = cmp.Or(opt.Title, doc.Title), cmp.Or(opt.Date, doc.Date)
	raw, err := json.Marshal(doc)
	if err != nil {
		return doc, fmt.Errorf("longdoc: minutes: %w", err)
	}
	if err := schema.Validate(raw); err != nil {
		return doc, fmt.Errorf("longdoc: minutes: the merged minutes do not satisfy MinutesSchema: %w", err)
	}
	return doc, nil
}

// reduce merges the minutes of the chunks into doc: lists concatenated
// without duplicates, summaries combined by the model.
func (doc *MinutesDoc) reduce(ctx context.Context, m llm.Model, o Options, parts []MinutesDoc) error {
	summaries := make([]string, 0, len(parts))
	for _, p := range parts {
		doc.Title = cmp.Or(doc.Title, strings.TrimSpace(p.Title))
		doc.Date = cmp.Or(doc.Date, strings.TrimSpace(p.Date))
		doc.Attendees = append(doc.Attendees, p.Attendees...)
		doc.Decisions = append(doc.Decisions, p.Decisions...)
		doc.ActionItems = append(doc.ActionItems, p.ActionItems...)
		doc.OpenQuestions = append(doc.OpenQuestions, p.OpenQuestions...)
		if s := strings.TrimSpace(p.Summary); s != "" {
			summaries = append(summaries, s)
		}
	}
	doc.Attendees = dedupe(doc.Attendees)
	doc.Decisions = dedupe(doc.Decisions)
	doc.OpenQuestions = dedupe(doc.OpenQuestions)
	doc.ActionItems = dedupeActions(doc.ActionItems)
	doc.normalize()
	switch len(summaries) {
	case 0:
		return nil
	case 1:
		doc.Summary = summaries[0]
		return nil
	}
	summary, stats, err := combine(ctx, m, o, "", summaries)
	doc.Stats.merge(stats)
	doc.Summary = summary
	return err
}

// normalize makes every list non-nil, as the schema requires arrays.
func (doc *MinutesDoc) normalize() {
	if doc.Decisions == nil {
		doc.Decisions = []string{}
	}
	if doc.ActionItems == nil {
		doc.ActionItems = []ActionItem{}
	}
	if doc.OpenQuestions == nil {
		doc.OpenQuestions = []string{}
	}
}

// decodeMinutes checks a model's answer against the schema and decodes it.
func decodeMinutes(schema *jsonschema.Schema, text string, into *MinutesDoc) error {
	raw := jsonObject(text)
	if err := schema.Validate(raw); err != nil {
		return fmt.Errorf("the model's answer does not satisfy MinutesSchema: %w; the answer begins %q", err, preview(text))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("the model's answer is not minutes: %w; the answer begins %q", err, preview(text))
	}
	return nil
}

// jsonObject is the JSON object in a model's answer: the answer itself, or
// what lies between the first "{" and the last "}" when the model wrapped
// it in prose or a code fence.
func jsonObject(text string) []byte {
	text = strings.TrimSpace(text)
	if json.Valid([]byte(text)) {
		return []byte(text)
	}
	i, j := strings.IndexByte(text, '{'), strings.LastIndexByte(text, '}')
	if i >= 0 && j > i && json.Valid([]byte(text[i:j+1])) {
		return []byte(text[i : j+1])
	}
	return []byte(text)
}

// preview is the start of a long text, for error messages.
func preview(s string) string {
	const n = 120
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// minutesSchema is MinutesSchema compiled, once.
var minutesSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	s, err := jsonschema.Compile(MinutesSchema)
	if err != nil {
		return nil, fmt.Errorf("longdoc: MinutesSchema: %w", err)
	}
	return s, nil
})
