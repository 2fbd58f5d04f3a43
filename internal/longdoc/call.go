package longdoc

import (
	"context"
	"fmt"
	"strings"

	"flywheel/internal/llm"
	"flywheel/internal/prompt"
)

// render fills the template name.
func (o Options) render(name string, v prompt.Vars) ([]llm.Message, error) {
	lib := o.Prompts
	if lib == nil {
		var err error
		if lib, err = defaultPrompts(); err != nil {
			return nil, err
		}
	}
	t, err := lib.Get(name)
	if err != nil {
		return nil, err
	}
	return t.Render(v)
}

// chat renders template name with v and makes one call; schema, when set,
// constrains the answer.
func (o Options) chat(ctx context.Context, m llm.Model, name string, v prompt.Vars, schema []byte) (*llm.Response, error) {
	msgs, err := o.render(name, v)
	if err != nil {
		return nil, err
	}
	return m.Chat(ctx, llm.Request{Messages: msgs, MaxTokens: o.MaxTokens, Temperature: o.Temperature, JSONSchema: schema}, nil)
}

// responseText is the answer of a response, trimmed.
func responseText(resp *llm.Response) string { return strings.TrimSpace(resp.Text) }

// minRoom is the least material, in tokens, worth a call.
const minRoom = 32

// roomFor is how many tokens of material fit in one call of template name
// rendered with v (its material given empty), holding back reserved tokens
// for further material of the same call.
func (o Options) roomFor(name string, v prompt.Vars, reserved int) (int, error) {
	msgs, err := o.render(name, v)
	if err != nil {
		return 0, err
	}
	overhead := o.promptTokens(msgs)
	room := o.Context - o.MaxTokens - overhead - reserved
	if room < minRoom {
		return 0, fmt.Errorf("a %d-token context leaves %d tokens for the text after %d for the prompt %q, %d for the answer and %d held back: raise the context or lower the answer's MaxTokens",
			o.Context, room, overhead, name, o.MaxTokens, reserved)
	}
	return room, nil
}

// chunkSize is the tokens of document per call of template name:
// ChunkTokens when set, else what the context leaves.
func (o Options) chunkSize(name string, v prompt.Vars, reserved int) (int, error) {
	if o.ChunkTokens > 0 {
		return o.ChunkTokens, nil
	}
	return o.roomFor(name, v, reserved)
}

// maxWords is the length in words to ask for: about two thirds of the
// answer's token budget, at most limit (the template's own default).
func (o Options) maxWords(limit int) prompt.Value {
	return prompt.Int(max(min(o.MaxTokens*2/3, limit), 8))
}

// report tells Progress that done of total calls of stage are finished.
func (o Options) report(stage string, done, total int) {
	if o.Progress != nil {
		o.Progress(Progress{Stage: stage, Done: done, Total: total})
	}
}
