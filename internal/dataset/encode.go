package dataset

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// CanExpress reports whether a format can hold the example; the error (a
// *FieldError) says what it cannot hold and which format can.
func CanExpress(f Format, ex *Example) error {
	var o jsonObject
	if err := encode(&o, f, ex); err != nil {
		return err
	}
	return nil
}

// encode appends the record of ex in format f to o.
func encode(o *jsonObject, f Format, ex *Example) *FieldError {
	o.begin()
	var err *FieldError
	switch f {
	case FormatAlpaca:
		err = encodeAlpaca(o, ex)
	case FormatShareGPT:
		err = encodeShareGPT(o, ex)
	case FormatMessages:
		err = encodeMessages(o, ex)
	case FormatDPO:
		err = encodeDPO(o, ex)
	case FormatKTO:
		err = encodeKTO(o, ex)
	default:
		err = fieldErr("", "unknown format %q", f)
	}
	if err != nil {
		return err
	}
	o.end()
	return nil
}

// reservedKeys are the keys each format writes; an extra key may not take one.
var reservedKeys = map[Format][]string{
	FormatAlpaca:   {"instruction", "input", "output", "chosen", "rejected", "system", "history", "tools", "label"},
	FormatShareGPT: {"conversations", "system", "tools", "chosen", "rejected", "label"},
	FormatMessages: {"messages", "tools", "label", "input", "preferred_output", "non_preferred_output"},
	FormatDPO:      {"prompt", "chosen", "rejected", "tools"},
	FormatKTO:      {"prompt", "completion", "label", "tools"},
}

func writeExtras(o *jsonObject, f Format, ex *Example) *FieldError {
	for _, x := range ex.Extra {
		if contains(reservedKeys[f], x.Key) {
			return fieldErr(x.Key, "the record's own key %q is a key of the %s format: rename it first", x.Key, f)
		}
		o.raw(x.Key, x.Value)
	}
	return nil
}

func encodeAlpaca(o *jsonObject, ex *Example) *FieldError {
	for i, m := range ex.Messages {
		if m.Role != RoleUser && m.Role != RoleAssistant {
			return fieldErr(fmt.Sprintf("messages[%d]", i), "alpaca holds user and assistant turns only, not %s: use the sharegpt or messages format", m.Role)
		}
	}
	for _, a := range []*Message{ex.Chosen, ex.Rejected} {
		if a != nil && a.Role != RoleAssistant {
			return fieldErr("chosen", "alpaca holds plain answers only, not %s: use the sharegpt format", a.Role)
		}
	}
	n, pref := len(ex.Messages), ex.Kind() == KindPreference
	prompt := n - 1
	if !pref {
		prompt = n - 2
	}
	if prompt < 0 {
		return fieldErr("messages", "no user turn: alpaca needs an instruction")
	}
	o.str("instruction", ex.Messages[prompt].Content)
	o.str("input", "")
	if pref {
		o.str("chosen", ex.Chosen.Content)
		o.str("rejected", ex.Rejected.Content)
	} else {
		o.str("output", ex.Messages[n-1].Content)
	}
	if ex.System != "" {
		o.str("system", ex.System)
	}
	if prompt > 0 {
		o.key("history")
		o.b = append(o.b, '[')
		for i := 0; i < prompt; i += 2 {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = append(o.b, '[')
			o.b = appendString(o.b, ex.Messages[i].Content)
			o.b = append(o.b, ',')
			o.b = appendString(o.b, ex.Messages[i+1].Content)
			o.b = append(o.b, ']')
		}
		o.b = append(o.b, ']')
	}
	if ex.Tools != "" {
		o.str("tools", ex.Tools)
	}
	if ex.Label != nil {
		o.boolean("label", *ex.Label)
	}
	return writeExtras(o, FormatAlpaca, ex)
}

// shareGPTRoles are the "from" values of sharegpt.
var shareGPTRoles = map[Role]string{
	RoleUser: "human", RoleAssistant: "gpt", RoleSystem: "system",
	RoleFunctionCall: "function_call", RoleObservation: "observation",
}

func appendShareGPTMessage(b []byte, m Message) []byte {
	var o jsonObject
	o.b = b
	o.begin()
	o.str("from", shareGPTRoles[m.Role])
	o.str("value", m.Content)
	o.end()
	return o.b
}

func encodeShareGPT(o *jsonObject, ex *Example) *FieldError {
	o.key("conversations")
	o.b = append(o.b, '[')
	for i, m := range ex.Messages {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendShareGPTMessage(o.b, m)
	}
	o.b = append(o.b, ']')
	if ex.System != "" {
		o.str("system", ex.System)
	}
	if ex.Tools != "" {
		o.str("tools", ex.Tools)
	}
	if ex.Chosen != nil {
		o.key("chosen")
		o.b = appendShareGPTMessage(o.b, *ex.Chosen)
		o.key("rejected")
		o.b = appendShareGPTMessage(o.b, *ex.Rejected)
	}
	if ex.Label != nil {
		o.boolean("label", *ex.Label)
	}
	return writeExtras(o, FormatShareGPT, ex)
}

// openAIWriter writes OpenAI-style messages, numbering tool calls so each
// tool result points at its call.
type openAIWriter struct {
	calls   []string // ids of the last assistant tool calls
	results int      // tool results since them
	next    int
}

func (w *openAIWriter) message(b []byte, m Message) ([]byte, *FieldError) {
	var o jsonObject
	o.b = b
	o.begin()
	switch m.Role {
	case RoleFunctionCall:
		calls, _, err := parseFunctionCalls(m.Content)
		if err != nil {
			return b, fieldErr("content", "%v", err)
		}
		o.str("role", "assistant")
		o.key("tool_calls")
		o.b = append(o.b, '[')
		w.calls, w.results = w.calls[:0], 0
		for i, c := range calls {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			id := "call_" + strconv.Itoa(w.next)
			w.next++
			w.calls = append(w.calls, id)
			var call jsonObject
			call.b = o.b
			call.begin()
			call.str("id", id)
			call.str("type", "function")
			call.key("function")
			var fn jsonObject
			fn.b = call.b
			fn.begin()
			fn.str("name", c.Name)
			args := c.Arguments
			if len(args) == 0 {
				args = []byte("{}")
			}
			fn.str("arguments", string(compact(args)))
			fn.end()
			call.b = fn.b
			call.end()
			o.b = call.b
		}
		o.b = append(o.b, ']')
	case RoleObservation:
		o.str("role", "tool")
		if len(w.calls) > 0 {
			o.str("tool_call_id", w.calls[min(w.results, len(w.calls)-1)])
			w.results++
		}
		o.str("content", m.Content)
	default:
		o.str("role", string(m.Role))
		o.str("content", m.Content)
	}
	o.end()
	return o.b, nil
}

// conversation writes the system prompt and messages as an OpenAI list.
func (w *openAIWriter) conversation(b []byte, system string, msgs []Message) ([]byte, *FieldError) {
	b = append(b, '[')
	if system != "" {
		var err *FieldError
		if b, err = w.message(b, Message{Role: RoleSystem, Content: system}); err != nil {
			return b, err
		}
	}
	for i, m := range msgs {
		if i > 0 || system != "" {
			b = append(b, ',')
		}
		var err *FieldError
		if b, err = w.message(b, m); err != nil {
			err.Field = fmt.Sprintf("messages[%d].%s", i, err.Field)
			return b, err
		}
	}
	return append(b, ']'), nil
}

// answer writes a preference answer as a list of one message.
func (w *openAIWriter) answer(b []byte, field string, m *Message) ([]byte, *FieldError) {
	b = append(b, '[')
	b, err := w.message(b, *m)
	if err != nil {
		err.Field = field + "." + err.Field
	}
	return append(b, ']'), err
}

// appendOpenAITools writes LLaMA-Factory's tool list in OpenAI's
// [{"type": "function", "function": {...}}] form.
func appendOpenAITools(b []byte, tools string) []byte {
	raw := []byte(tools)
	elems, err := parseArray(raw)
	if err != nil {
		elems = []element{{val: raw}}
	}
	b = append(b, '[')
	for i, e := range elems {
		if i > 0 {
			b = append(b, ',')
		}
		if obj, err := parseObject(e.val); err == nil && lookup(obj, "type") != nil {
			b = append(b, compact(e.val)...)
			continue
		}
		b = append(b, `{"type":"function","function":`...)
		b = append(b, compact(e.val)...)
		b = append(b, '}')
	}
	return append(b, ']')
}

func encodeMessages(o *jsonObject, ex *Example) *FieldError {
	var w openAIWriter
	var err *FieldError
	if ex.Kind() == KindPreference {
		o.key("input")
		var in jsonObject
		in.b = o.b
		in.begin()
		in.key("messages")
		if in.b, err = w.conversation(in.b, ex.System, ex.Messages); err != nil {
			return err
		}
		if ex.Tools != "" {
			in.key("tools")
			in.b = appendOpenAITools(in.b, ex.Tools)
		}
		in.end()
		o.b = in.b
		o.key("preferred_output")
		if o.b, err = w.answer(o.b, "chosen", ex.Chosen); err != nil {
			return err
		}
		o.key("non_preferred_output")
		if o.b, err = w.answer(o.b, "rejected", ex.Rejected); err != nil {
			return err
		}
		return writeExtras(o, FormatMessages, ex)
	}
	o.key("messages")
	if o.b, err = w.conversation(o.b, ex.System, ex.Messages); err != nil {
		return err
	}
	if ex.Tools != "" {
		o.key("tools")
		o.b = appendOpenAITools(o.b, ex.Tools)
	}
	if ex.Label != nil {
		o.boolean("label", *ex.Label)
	}
	return writeExtras(o, FormatMessages, ex)
}

// plainPrompt reports whether TRL's string form holds the prompt: one user
// turn and no system prompt.
func plainPrompt(ex *Example, prompt []Message) bool {
	return ex.System == "" && len(prompt) == 1 && prompt[0].Role == RoleUser
}

// trlPrompt writes the prompt as a string or an OpenAI message list.
func trlPrompt(o *jsonObject, w *openAIWriter, ex *Example, prompt []Message, plain bool) *FieldError {
	o.key("prompt")
	if plain {
		o.b = appendString(o.b, prompt[0].Content)
		return nil
	}
	var err *FieldError
	o.b, err = w.conversation(o.b, ex.System, prompt)
	return err
}

func trlAnswer(o *jsonObject, w *openAIWriter, key string, m *Message, plain bool) *FieldError {
	o.key(key)
	if plain && m.Role == RoleAssistant {
		o.b = appendString(o.b, m.Content)
		return nil
	}
	var err *FieldError
	o.b, err = w.answer(o.b, key, m)
	return err
}

func encodeDPO(o *jsonObject, ex *Example) *FieldError {
	if k := ex.Kind(); k != KindPreference {
		return fieldErr("", "dpo holds preference pairs (chosen and rejected) only, and this is a %s record: use alpaca, sharegpt or messages", k)
	}
	var w openAIWriter
	plain := plainPrompt(ex, ex.Messages) && ex.Chosen.Role == RoleAssistant && ex.Rejected.Role == RoleAssistant
	if err := trlPrompt(o, &w, ex, ex.Messages, plain); err != nil {
		return err
	}
	if err := trlAnswer(o, &w, "chosen", ex.Chosen, plain); err != nil {
		return err
	}
	if err := trlAnswer(o, &w, "rejected", ex.Rejected, plain); err != nil {
		return err
	}
	if ex.Tools != "" {
		o.key("tools")
		o.b = appendOpenAITools(o.b, ex.Tools)
	}
	return writeExtras(o, FormatDPO, ex)
}

func encodeKTO(o *jsonObject, ex *Example) *FieldError {
	if k := ex.Kind(); k != KindKTO {
		return fieldErr("", "kto holds records with a true/false label only, and this is a %s record: use alpaca, sharegpt or messages", k)
	}
	var w openAIWriter
	prompt := ex.Messages[:len(ex.Messages)-1]
	answer := ex.Messages[len(ex.Messages)-1]
	plain := plainPrompt(ex, prompt) && answer.Role == RoleAssistant
	if err := trlPrompt(o, &w, ex, prompt, plain); err != nil {
		return err
	}
	if err := trlAnswer(o, &w, "completion", &answer, plain); err != nil {
		return err
	}
	o.boolean("label", *ex.Label)
	if ex.Tools != "" {
		o.key("tools")
		o.b = appendOpenAITools(o.b, ex.Tools)
	}
	return writeExtras(o, FormatKTO, ex)
}

// jsonObject appends a JSON object member by member, in order.
type jsonObject struct {
	b []byte
	n int
}

func (o *jsonObject) begin() { o.b = append(o.b, '{'); o.n = 0 }
func (o *jsonObject) end()   { o.b = append(o.b, '}') }

func (o *jsonObject) key(k string) {
	if o.n > 0 {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = appendString(o.b, k)
	o.b = append(o.b, ':')
}

func (o *jsonObject) str(k, v string) { o.key(k); o.b = appendString(o.b, v) }

func (o *jsonObject) raw(k string, v []byte) { o.key(k); o.b = append(o.b, v...) }

func (o *jsonObject) boolean(k string, v bool) { o.key(k); o.b = strconv.AppendBool(o.b, v) }

// appendString appends s as a JSON string, leaving <, > and & as they are
// (unlike encoding/json) so text reads the same in the file.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// marshalExample writes ex as compact JSON in format f (for tests and tools).
func marshalExample(f Format, ex *Example) ([]byte, error) {
	var o jsonObject
	if err := encode(&o, f, ex); err != nil {
		return nil, err
	}
	if !json.Valid(o.b) {
		return nil, fmt.Errorf("internal error: invalid JSON written for %s", ex.Pos)
	}
	return o.b, nil
}
