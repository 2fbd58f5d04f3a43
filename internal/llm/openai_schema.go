package llm

import (
	"context"
	"fmt"
	"strings"

	"flywheel/internal/jsonschema"
)

// chatSchema asks for JSON under req.JSONSchema (sent as response_format),
// validates the answer and, when it does not validate, sends one repair
// turn: the invalid answer and the validation error, asking for corrected
// JSON only. The final text reaches stream as one delta.
func (o *OpenAI) chatSchema(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
	validate, err := compileSchema(req.JSONSchema)
	if err != nil {
		return nil, fmt.Errorf("llm: Request.JSONSchema: %w", err)
	}
	resp, err := o.chatRetrying(ctx, req, nil)
	if err != nil {
		return resp, err
	}
	resp.Text = unfence(resp.Text)
	verr := validate([]byte(resp.Text))
	if verr == nil {
		resp.Trace = append(resp.Trace, o.cfg.Name+": the answer satisfies the JSON schema")
		return resp, emitWhole(stream, resp)
	}
	repair := req
	conv := req.Conversation()
	repair.Prompt = ""
	repair.Messages = append(append(make([]Message, 0, len(conv)+2), conv...),
		Message{Role: RoleAssistant, Content: resp.Text},
		Message{Role: RoleUser, Content: repairPrompt(verr)})
	fixed, err := o.chatRetrying(ctx, repair, nil)
	trace := append(resp.Trace, fmt.Sprintf("%s: the answer does not satisfy the JSON schema (%s); sent a repair turn", o.cfg.Name, strings.ReplaceAll(verr.Error(), "\n", "; ")))
	if fixed == nil {
		fixed = &Response{Model: resp.Model}
	}
	fixed.Usage = resp.Usage.Add(fixed.Usage)
	fixed.Trace = append(trace, fixed.Trace...)
	if err != nil {
		return fixed, err
	}
	fixed.Text = unfence(fixed.Text)
	if verr := validate([]byte(fixed.Text)); verr != nil {
		fixed.Trace = append(fixed.Trace, o.cfg.Name+": the repaired answer still does not satisfy the JSON schema")
		return fixed, fmt.Errorf("llm: %s: the answer does not satisfy the JSON schema after one repair turn: %w", o.cfg.Name, verr)
	}
	fixed.Trace = append(fixed.Trace, o.cfg.Name+": the repaired answer satisfies the JSON schema")
	return fixed, emitWhole(stream, fixed)
}

// repairPrompt is the user turn that asks a model to fix its JSON.
func repairPrompt(verr error) string {
	return "Your reply is not valid under the required JSON schema: " + verr.Error() +
		"\nReply again with the corrected JSON document only: no prose, no code fence."
}

// unfence strips a markdown code fence (```json … ```) around a JSON answer.
func unfence(s string) string {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "```") || !strings.HasSuffix(t, "```") || len(t) < 6 {
		return s
	}
	t = strings.TrimSuffix(t[3:], "```")
	if nl := strings.IndexByte(t, '\n'); nl >= 0 && !strings.ContainsAny(t[:nl], "{[\"") {
		t = t[nl+1:] // the info string ("json")
	}
	return strings.TrimSpace(t)
}

// emitWhole sends resp's whole text to stream (when there is one).
func emitWhole(stream func(string) error, resp *Response) error {
	if stream == nil || resp.Text == "" {
		return nil
	}
	return stream(resp.Text)
}

// compileSchema returns a validator for documents under schema.
func compileSchema(schema []byte) (func(doc []byte) error, error) {
	s, err := jsonschema.Compile(schema)
	if err != nil {
		return nil, err
	}
	return s.Validate, nil
}
