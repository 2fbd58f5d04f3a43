package llm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"flywheel/internal/upstream"
)

// The wire shapes of a chat completion, whole or as stream chunks. Only the
// first choice (index 0) is read: requests never ask for more.

type wireResponse struct {
	Model   string          `json:"model"`
	Choices []wireChoice    `json:"choices"`
	Usage   *Usage          `json:"usage"`
	Error   json.RawMessage `json:"error"`
}

type wireChoice struct {
	Index        int           `json:"index"`
	Message      *wireMessage  `json:"message"` // whole responses
	Delta        *wireMessage  `json:"delta"`   // stream chunks
	Logprobs     *wireLogprobs `json:"logprobs"`
	FinishReason *string       `json:"finish_reason"`
}

type wireMessage struct {
	Content string `json:"content"`
}

type wireLogprobs struct {
	Content []wireToken `json:"content"`
}

type wireToken struct {
	Token       string         `json:"token"`
	Logprob     float64        `json:"logprob"`
	TopLogprobs []TokenLogprob `json:"top_logprobs"`
}

// logprobs maps the wire tokens to the contract's.
func (l *wireLogprobs) logprobs() []Logprob {
	if l == nil {
		return nil
	}
	out := make([]Logprob, len(l.Content))
	for i, t := range l.Content {
		out[i] = Logprob{TokenLogprob: TokenLogprob{Token: t.Token, Logprob: t.Logprob}, Top: t.TopLogprobs}
	}
	return out
}

// parseChatResponse reads a whole (non-streamed) chat completion.
func parseChatResponse(raw []byte) (*Response, error) {
	var w wireResponse
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("the response is not a chat completion object: %w", err)
	}
	if msg := upstream.ErrorObject(raw); msg != "" {
		return nil, fmt.Errorf("the upstream answered with an error: %s", msg)
	}
	c := firstChoice(w.Choices)
	if c == nil || c.Message == nil {
		return nil, errors.New("the response has no choices[0].message")
	}
	resp := &Response{Model: w.Model, Text: c.Message.Content, Logprobs: c.Logprobs.logprobs()}
	if c.FinishReason != nil {
		resp.FinishReason = *c.FinishReason
	}
	if w.Usage != nil {
		resp.Usage = *w.Usage
	}
	return resp, nil
}

// firstChoice is the choice of index 0, nil when absent.
func firstChoice(cs []wireChoice) *wireChoice {
	for i := range cs {
		if cs[i].Index == 0 {
			return &cs[i]
		}
	}
	return nil
}

// chatStream accumulates the chunks of a streamed completion.
type chatStream struct {
	model    string
	text     strings.Builder
	logprobs []Logprob
	usage    Usage
	finish   string
	done     bool // [DONE] seen
	streamed bool // text reached the caller's callback
}

// add folds one event into the completion and returns its text delta.
// An error event (OpenAI's {"error": …} chunk, llama.cpp's "error:" field)
// becomes an error.
func (s *chatStream) add(ev sseEvent) (string, error) {
	data := bytes.TrimSpace(ev.data)
	if s.done || len(data) == 0 {
		return "", nil
	}
	if ev.event == "error" {
		return "", fmt.Errorf("the upstream sent an error event: %s", eventErrorMessage(data))
	}
	if string(data) == "[DONE]" {
		s.done = true
		return "", nil
	}
	var w wireResponse
	if err := json.Unmarshal(data, &w); err != nil {
		return "", fmt.Errorf("a stream chunk is not JSON (%w): %.80q", err, data)
	}
	if msg := upstream.ErrorObject(data); msg != "" {
		return "", fmt.Errorf("the upstream sent an error in the stream: %s", msg)
	}
	if s.model == "" {
		s.model = w.Model
	}
	if w.Usage != nil && *w.Usage != (Usage{}) {
		s.usage = *w.Usage
	}
	c := firstChoice(w.Choices)
	if c == nil {
		return "", nil
	}
	if c.FinishReason != nil && *c.FinishReason != "" {
		s.finish = *c.FinishReason
	}
	s.logprobs = append(s.logprobs, c.Logprobs.logprobs()...)
	if c.Delta == nil {
		return "", nil
	}
	s.text.WriteString(c.Delta.Content)
	return c.Delta.Content, nil
}

// eventErrorMessage is the message of an error event's data: an error
// object ({"message": …}, llama.cpp) or one wrapped in {"error": …}.
func eventErrorMessage(data []byte) string {
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &obj) == nil && obj.Message != "" {
		return obj.Message
	}
	return upstream.Message(data)
}

// response is the completion so far.
func (s *chatStream) response() *Response {
	return &Response{Model: s.model, Text: s.text.String(), Logprobs: s.logprobs, Usage: s.usage, FinishReason: s.finish}
}

// sseEvent is one server-sent event: its type ("" for the default
// "message") and its data lines joined by newlines.
type sseEvent struct {
	event string
	data  []byte
}

// maxSSELine bounds one line of an event stream.
const maxSSELine = 8 << 20

// readSSE reads a text/event-stream body and calls onEvent for each event
// with data, stopping at the first error. Besides the standard fields it
// takes llama.cpp's "error: {…}" line as an error event. An event cut
// short by the end of the body is still delivered.
func readSSE(r io.Reader, onEvent func(sseEvent) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxSSELine)
	var ev sseEvent
	dispatch := func() error {
		defer func() { ev = sseEvent{} }()
		if ev.data == nil {
			return nil
		}
		return onEvent(ev)
	}
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			if err := dispatch(); err != nil {
				return err
			}
			continue
		}
		if line[0] == ':' {
			continue // comment, keep-alive
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			ev.event = string(value)
		case "data":
			if ev.data != nil {
				ev.data = append(ev.data, '\n')
			}
			ev.data = append(ev.data, value...)
			if ev.data == nil {
				ev.data = []byte{}
			}
		case "error":
			ev.event, ev.data = "error", append([]byte(nil), value...)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("an event-stream line is longer than %d bytes", maxSSELine)
		}
		return err
	}
	return dispatch()
}
