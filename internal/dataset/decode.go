package dataset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// decoder turns the members of one record into an Example.
type decoder interface {
	decode(obj []member) (Example, *decodeError)
}

// decodeError is a problem in a record: the field (as named in the file),
// the raw bytes it is about (for the line number) and why.
type decodeError struct {
	field  string
	at     []byte
	reason string
}

func badField(field string, at []byte, format string, a ...any) *decodeError {
	return &decodeError{field: field, at: at, reason: fmt.Sprintf(format, a...)}
}

// newDecoder returns the decoder of a format, reading keys named by s.
func newDecoder(f Format, s Schema) decoder {
	switch f {
	case FormatDPO, FormatKTO:
		return trlDecoder{kind: f, msgs: newMessageParser(openAITags, true)}
	case FormatShareGPT, FormatMessages:
		s = s.withDefaults()
		openai := f == FormatMessages || s.Tags.Role == "role"
		return conversationDecoder{s: s, msgs: newMessageParser(s.Tags, openai), openai: openai}
	}
	return alpacaDecoder{s: s.withDefaults()}
}

// optString reads an optional string member; null counts as absent.
func optString(obj []member, key string) (string, bool, *decodeError) {
	m := lookup(obj, key)
	if m == nil || isNull(m.val) {
		return "", false, nil
	}
	s, err := unquote(m.val)
	if err != nil {
		return "", false, badField(key, m.val, "%v", err)
	}
	return s, true, nil
}

// reqString reads a required string member.
func reqString(obj []member, key, what string) (string, *decodeError) {
	s, ok, err := optString(obj, key)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", badField(key, nil, "missing: %s", what)
	}
	return s, nil
}

// optLabel reads a KTO label.
func optLabel(obj []member, key string) (*bool, *decodeError) {
	m := lookup(obj, key)
	if m == nil || isNull(m.val) {
		return nil, nil
	}
	v, err := parseBool(m.val)
	if err != nil {
		return nil, badField(key, m.val, "KTO label: %v", err)
	}
	return &v, nil
}

// optTools reads tool schemas: LLaMA-Factory's JSON string, or the list
// itself (OpenAI's [{"type": "function", "function": {...}}] is unwrapped).
func optTools(obj []member, key string) (string, *decodeError) {
	m := lookup(obj, key)
	if m == nil || isNull(m.val) {
		return "", nil
	}
	if m.val[0] == '"' {
		s, err := unquote(m.val)
		if err != nil {
			return "", badField(key, m.val, "%v", err)
		}
		if s != "" {
			if err := checkTools(s); err != nil {
				return "", badField(key, m.val, "%v", err)
			}
		}
		return s, nil
	}
	if m.val[0] != '[' && m.val[0] != '{' {
		return "", badField(key, m.val, "want a list of function schemas, got %s", jsonKind(m.val))
	}
	return toolsText(m.val), nil
}

// toolsText writes a raw list of tool schemas as compact JSON, taking the
// "function" out of OpenAI's {"type": "function", "function": {...}} wrapper.
func toolsText(raw []byte) string {
	elems, err := parseArray(raw)
	if err != nil { // one object
		return string(compact(raw))
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(compact(unwrapFunction(e.val)))
	}
	b.WriteByte(']')
	return b.String()
}

func unwrapFunction(raw []byte) []byte {
	obj, err := parseObject(raw)
	if err != nil || len(obj) != 2 {
		return raw
	}
	t, fn := lookup(obj, "type"), lookup(obj, "function")
	if t == nil || fn == nil || string(t.val) != `"function"` {
		return raw
	}
	return fn.val
}

func compact(raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return append([]byte(nil), raw...)
	}
	return b.Bytes()
}

// extras copies the members not named in used, in file order.
func extras(obj []member, used ...string) []Field {
	var out []Field
	for _, m := range obj {
		if !contains(used, m.key) {
			out = append(out, Field{Key: m.key, Value: compact(m.val)})
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v != "" && v == s {
			return true
		}
	}
	return false
}

// alpacaDecoder reads instruction/input/output records.
type alpacaDecoder struct{ s Schema }

func (d alpacaDecoder) decode(obj []member) (Example, *decodeError) {
	c := d.s.Columns
	var ex Example
	prompt, hasPrompt, err := optString(obj, c.Prompt)
	if err != nil {
		return ex, err
	}
	query, hasQuery, err := optString(obj, c.Query)
	if err != nil {
		return ex, err
	}
	if !hasPrompt && !hasQuery {
		return ex, badField(c.Prompt, nil, "missing: the instruction is required")
	}
	if ex.Messages, err = d.history(obj); err != nil {
		return ex, err
	}
	ex.Messages = append(ex.Messages, Message{Role: RoleUser, Content: joinNonEmpty(prompt, query)})
	if ex.System, _, err = optString(obj, c.System); err != nil {
		return ex, err
	}
	if ex.Tools, err = optTools(obj, c.Tools); err != nil {
		return ex, err
	}
	if lookup(obj, c.Chosen) != nil || lookup(obj, c.Rejected) != nil || d.s.Ranking {
		for _, side := range []struct {
			key string
			dst **Message
		}{{c.Chosen, &ex.Chosen}, {c.Rejected, &ex.Rejected}} {
			s, err := reqString(obj, side.key, "a preference pair needs both chosen and rejected answers")
			if err != nil {
				return ex, err
			}
			*side.dst = &Message{Role: RoleAssistant, Content: s}
		}
	} else {
		out, err := reqString(obj, c.Response, "the answer (output) is required")
		if err != nil {
			return ex, err
		}
		ex.Messages = append(ex.Messages, Message{Role: RoleAssistant, Content: out})
	}
	if ex.Label, err = optLabel(obj, c.KTOTag); err != nil {
		return ex, err
	}
	ex.Extra = extras(obj, c.Prompt, c.Query, c.Response, c.History, c.System, c.Tools, c.Chosen, c.Rejected, c.KTOTag)
	n, pref := len(ex.Messages), ex.Kind() == KindPreference
	return validated(ex, fieldNames{system: c.System, tools: c.Tools, chosen: c.Chosen, rejected: c.Rejected, label: c.KTOTag,
		messages: c.Prompt,
		message: func(i int, _ string) string {
			last := n - 1
			if !pref {
				if i == last {
					return c.Response
				}
				last--
			}
			if i == last {
				return c.Prompt
			}
			return fmt.Sprintf("%s[%d][%d]", c.History, i/2, i%2)
		}})
}

// joinNonEmpty joins instruction and input as LLaMA-Factory does.
func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n" + b
}

// history reads [[user, assistant], ...] pairs.
func (d alpacaDecoder) history(obj []member) ([]Message, *decodeError) {
	key := d.s.Columns.History
	m := lookup(obj, key)
	if m == nil || isNull(m.val) {
		return nil, nil
	}
	pairs, err := parseArray(m.val)
	if err != nil {
		return nil, badField(key, m.val, "%v of [user, assistant] pairs", err)
	}
	var msgs []Message
	for i, p := range pairs {
		field := fmt.Sprintf("%s[%d]", key, i)
		turn, err := parseArray(p.val)
		if err != nil || len(turn) != 2 {
			return nil, badField(field, p.val, "want a [user, assistant] pair of strings")
		}
		for j, role := range []Role{RoleUser, RoleAssistant} {
			s, err := unquote(turn[j].val)
			if err != nil {
				return nil, badField(fmt.Sprintf("%s[%d]", field, j), turn[j].val, "%v", err)
			}
			msgs = append(msgs, Message{Role: role, Content: s})
		}
	}
	return msgs, nil
}

// messageParser reads one message object with the given tags.
type messageParser struct {
	tags   Tags
	roles  map[string]Role
	openai bool // also read OpenAI's tool_calls and roles tool, developer, function
}

func newMessageParser(t Tags, openai bool) messageParser {
	p := messageParser{tags: t, openai: openai, roles: map[string]Role{
		t.User: RoleUser, t.Assistant: RoleAssistant, t.System: RoleSystem,
		t.Function: RoleFunctionCall, t.Observation: RoleObservation,
	}}
	if openai {
		for name, r := range map[string]Role{"user": RoleUser, "assistant": RoleAssistant, "system": RoleSystem,
			"developer": RoleSystem, "tool": RoleObservation, "function": RoleObservation,
			"function_call": RoleFunctionCall, "observation": RoleObservation} {
			if _, ok := p.roles[name]; !ok {
				p.roles[name] = r
			}
		}
	}
	return p
}

// roleNames lists the accepted role values for error messages.
func (p messageParser) roleNames() string {
	t := p.tags
	return strings.Join([]string{t.User, t.Assistant, t.System, t.Function, t.Observation}, ", ")
}

func (p messageParser) message(raw []byte, field string) (Message, *decodeError) {
	if len(raw) > 0 && raw[0] == '"' { // a bare answer string
		s, err := unquote(raw)
		if err != nil {
			return Message{}, badField(field, raw, "%v", err)
		}
		return Message{Role: RoleAssistant, Content: s}, nil
	}
	obj, err := parseObject(raw)
	if err != nil {
		return Message{}, badField(field, raw, "a message: %v", err)
	}
	roleName, err2 := reqString(obj, p.tags.Role, "every message needs a role")
	if err2 != nil {
		return Message{}, prefix(field, err2)
	}
	role, ok := p.roles[roleName]
	if !ok {
		return Message{}, badField(field+"."+p.tags.Role, lookup(obj, p.tags.Role).val, "unknown role %q (want %s)", roleName, p.roleNames())
	}
	content, hasContent, err2 := optString(obj, p.tags.Content)
	if err2 != nil {
		return Message{}, prefix(field, err2)
	}
	if calls := lookup(obj, "tool_calls"); p.openai && calls != nil && !isNull(calls.val) {
		if hasContent && content != "" {
			return Message{}, badField(field+".content", lookup(obj, p.tags.Content).val,
				"a message with tool_calls has content too: flywheel keeps one of them per message; move the text to its own assistant turn")
		}
		text, err := functionCallText(calls.val)
		if err != nil {
			return Message{}, badField(field+".tool_calls", calls.val, "%v", err)
		}
		return Message{Role: RoleFunctionCall, Content: text}, nil
	}
	if !hasContent {
		return Message{}, badField(field+"."+p.tags.Content, nil, "missing: every message needs its text")
	}
	return Message{Role: role, Content: content}, nil
}

func prefix(field string, e *decodeError) *decodeError {
	e.field = field + "." + e.field
	return e
}

// functionCallText turns OpenAI tool_calls into LLaMA-Factory's function
// call text: {"name", "arguments"}, or a list of them for parallel calls.
func functionCallText(raw []byte) (string, error) {
	var calls []struct {
		Function struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &calls); err != nil {
		return "", fmt.Errorf("want a list of {\"function\": {\"name\", \"arguments\"}}: %v", err)
	}
	if len(calls) == 0 {
		return "", fmt.Errorf("empty list of tool calls")
	}
	out := make([]functionCall, len(calls))
	for i, c := range calls {
		args := c.Function.Arguments
		if len(args) > 0 && args[0] == '"' { // OpenAI sends arguments as a JSON string
			var s string
			json.Unmarshal(args, &s)
			if !json.Valid([]byte(s)) {
				return "", fmt.Errorf("tool call %d: arguments are not JSON", i)
			}
			args = json.RawMessage(s)
		}
		if len(args) == 0 {
			args = json.RawMessage("{}")
		}
		out[i] = functionCall{Name: c.Function.Name, Arguments: compact(args)}
	}
	var b []byte
	var err error
	if len(out) == 1 {
		b, err = json.Marshal(out[0])
	} else {
		b, err = json.Marshal(out)
	}
	return string(b), err
}

// conversationDecoder reads sharegpt and OpenAI-style records.
type conversationDecoder struct {
	s      Schema
	msgs   messageParser
	openai bool
}

func (d conversationDecoder) decode(obj []member) (Example, *decodeError) {
	c := d.s.Columns
	if d.openai && lookup(obj, c.Messages) == nil && lookup(obj, "input") != nil {
		return d.decodeOpenAIPreference(obj)
	}
	var ex Example
	m := lookup(obj, c.Messages)
	if m == nil {
		return ex, badField(c.Messages, nil, "missing: the conversation is required")
	}
	var err *decodeError
	var shift int
	if ex.System, ex.Messages, shift, err = readConversation(d.msgs, m.val, c.Messages); err != nil {
		return ex, err
	}
	if err := d.systemAndTools(obj, &ex); err != nil {
		return ex, err
	}
	if lookup(obj, c.Chosen) != nil || lookup(obj, c.Rejected) != nil || d.s.Ranking {
		if err := d.answers(obj, &ex, c.Chosen, c.Rejected); err != nil {
			return ex, err
		}
	}
	if ex.Label, err = optLabel(obj, c.KTOTag); err != nil {
		return ex, err
	}
	ex.Extra = extras(obj, c.Messages, c.System, c.Tools, c.Chosen, c.Rejected, c.KTOTag)
	return validated(ex, fieldNames{system: c.System, tools: c.Tools, chosen: c.Chosen, rejected: c.Rejected, label: c.KTOTag,
		messages: c.Messages, tags: &d.s.Tags, message: listField(c.Messages, shift, d.s.Tags)})
}

// listField names message i of a conversation list whose first shift
// entries were taken out (the system message).
func listField(key string, shift int, t Tags) func(int, string) string {
	return func(i int, suffix string) string {
		return fmt.Sprintf("%s[%d]%s", key, i+shift, tagSuffix(suffix, t))
	}
}

// readConversation reads a list of messages, taking a leading system
// message out; shift is 1 when it did.
func readConversation(p messageParser, raw []byte, key string) (system string, msgs []Message, shift int, derr *decodeError) {
	elems, err := parseArray(raw)
	if err != nil {
		return "", nil, 0, badField(key, raw, "%v of messages", err)
	}
	msgs = make([]Message, 0, len(elems))
	for i, e := range elems {
		field := fmt.Sprintf("%s[%d]", key, i)
		m, err := p.message(e.val, field)
		if err != nil {
			return "", nil, 0, err
		}
		if m.Role == RoleSystem {
			if i > 0 {
				return "", nil, 0, badField(field+"."+p.tags.Role, e.val, "system message at position %d: only the first message may be the system prompt", i)
			}
			system, shift = m.Content, 1
			continue
		}
		msgs = append(msgs, m)
	}
	return system, msgs, shift, nil
}

func (d conversationDecoder) systemAndTools(obj []member, ex *Example) *decodeError {
	c := d.s.Columns
	sys, ok, err := optString(obj, c.System)
	if err != nil {
		return err
	}
	if ok && sys != "" {
		if ex.System != "" && ex.System != sys {
			return badField(c.System, lookup(obj, c.System).val, "two system prompts: the record has both a %q key and a system message", c.System)
		}
		ex.System = sys
	}
	ex.Tools, err = optTools(obj, c.Tools)
	return err
}

// answers reads the chosen and rejected messages of a preference pair.
func (d conversationDecoder) answers(obj []member, ex *Example, chosen, rejected string) *decodeError {
	for _, side := range []struct {
		key string
		dst **Message
	}{{chosen, &ex.Chosen}, {rejected, &ex.Rejected}} {
		m := lookup(obj, side.key)
		if m == nil || isNull(m.val) {
			return badField(side.key, nil, "missing: a preference pair needs both chosen and rejected answers")
		}
		msg, err := oneMessage(d.msgs, m.val, side.key)
		if err != nil {
			return err
		}
		*side.dst = &msg
	}
	return nil
}

// oneMessage reads an answer: a message, a string, or a list of one message.
func oneMessage(p messageParser, raw []byte, key string) (Message, *decodeError) {
	if raw[0] == '[' {
		elems, _ := parseArray(raw)
		if len(elems) != 1 {
			return Message{}, badField(key, raw, "holds %d messages: an answer is one assistant message", len(elems))
		}
		return p.message(elems[0].val, key+"[0]")
	}
	return p.message(raw, key)
}

// decodeOpenAIPreference reads OpenAI's preference fine-tuning record.
func (d conversationDecoder) decodeOpenAIPreference(obj []member) (Example, *decodeError) {
	var ex Example
	in := lookup(obj, "input")
	inObj, err := parseObject(in.val)
	if err != nil {
		return ex, badField("input", in.val, "%v", err)
	}
	msgs := lookup(inObj, "messages")
	if msgs == nil {
		return ex, badField("input.messages", nil, "missing: the prompt's messages are required")
	}
	var derr *decodeError
	var shift int
	if ex.System, ex.Messages, shift, derr = readConversation(d.msgs, msgs.val, "input.messages"); derr != nil {
		return ex, derr
	}
	if ex.Tools, derr = optTools(inObj, "tools"); derr != nil {
		return ex, prefix("input", derr)
	}
	if derr := d.answers(obj, &ex, "preferred_output", "non_preferred_output"); derr != nil {
		return ex, derr
	}
	ex.Extra = extras(obj, "input", "preferred_output", "non_preferred_output")
	return validated(ex, fieldNames{tools: "input.tools", chosen: "preferred_output[0]", rejected: "non_preferred_output[0]",
		messages: "input.messages", tags: &d.s.Tags, message: listField("input.messages", shift, d.s.Tags)})
}

// trlDecoder reads TRL's prompt/chosen/rejected and prompt/completion/label records.
type trlDecoder struct {
	kind Format
	msgs messageParser
}

func (d trlDecoder) decode(obj []member) (Example, *decodeError) {
	var ex Example
	p := lookup(obj, "prompt")
	if p == nil || isNull(p.val) {
		return ex, badField("prompt", nil, "missing: the prompt is required")
	}
	names := fieldNames{tools: "tools", chosen: "chosen", rejected: "rejected", label: "label", messages: "prompt",
		tags: &d.msgs.tags, message: func(int, string) string { return "prompt" }}
	if p.val[0] == '[' {
		var err *decodeError
		var shift int
		if ex.System, ex.Messages, shift, err = readConversation(d.msgs, p.val, "prompt"); err != nil {
			return ex, err
		}
		names.message = listField("prompt", shift, d.msgs.tags)
	} else {
		s, err := unquote(p.val)
		if err != nil {
			return ex, badField("prompt", p.val, "%v", err)
		}
		ex.Messages = []Message{{Role: RoleUser, Content: s}}
	}
	var err *decodeError
	if ex.Tools, err = optTools(obj, "tools"); err != nil {
		return ex, err
	}
	if d.kind == FormatDPO {
		cd := conversationDecoder{msgs: d.msgs}
		if err := cd.answers(obj, &ex, "chosen", "rejected"); err != nil {
			return ex, err
		}
		ex.Extra = extras(obj, "prompt", "chosen", "rejected", "tools")
		return validated(ex, names)
	}
	c := lookup(obj, "completion")
	if c == nil || isNull(c.val) {
		return ex, badField("completion", nil, "missing: the answer is required")
	}
	m, err := oneMessage(d.msgs, c.val, "completion")
	if err != nil {
		return ex, err
	}
	ex.Messages = append(ex.Messages, m)
	if ex.Label, err = optLabel(obj, "label"); err != nil {
		return ex, err
	}
	if ex.Label == nil {
		return ex, badField("label", nil, "missing: a KTO record needs a true/false label")
	}
	ex.Extra = extras(obj, "prompt", "completion", "label", "tools")
	prompt, last := names.message, len(ex.Messages)-1
	names.message = func(i int, suffix string) string {
		if i == last {
			return "completion"
		}
		return prompt(i, suffix)
	}
	return validated(ex, names)
}

// fieldNames maps the field paths of an Example to the keys of the record
// it was read from, so errors name what the user sees in the file.
type fieldNames struct {
	message                                func(i int, suffix string) string
	messages                               string // the conversation as a whole
	system, tools, chosen, rejected, label string
	tags                                   *Tags // the message keys of chosen and rejected
}

func (n fieldNames) name(field string) string {
	var i int
	var rest string
	if _, err := fmt.Sscanf(field, "messages[%d]", &i); err == nil {
		if j := strings.IndexByte(field, ']'); j >= 0 {
			rest = field[j+1:]
		}
		return n.message(i, rest)
	}
	if field == "messages" && n.messages != "" {
		return n.messages
	}
	head, suffix, _ := strings.Cut(field, ".")
	if suffix != "" {
		suffix = "." + suffix
	}
	if n.tags != nil && (head == "chosen" || head == "rejected") {
		suffix = tagSuffix(suffix, *n.tags)
	}
	for _, m := range []struct{ from, to string }{
		{"system", n.system}, {"tools", n.tools}, {"chosen", n.chosen}, {"rejected", n.rejected}, {"label", n.label},
	} {
		if head == m.from && m.to != "" {
			return m.to + suffix
		}
	}
	return field
}

// validated checks the example's structure, naming fields as the file does.
func validated(ex Example, names fieldNames) (Example, *decodeError) {
	if err := ex.Validate(); err != nil {
		fe := err.(*FieldError)
		return ex, &decodeError{field: names.name(fe.Field), reason: fe.Reason}
	}
	return ex, nil
}

// tagSuffix renames ".role" and ".content" to the file's message keys.
func tagSuffix(suffix string, t Tags) string {
	switch suffix {
	case ".role":
		return "." + t.Role
	case ".content":
		return "." + t.Content
	}
	return suffix
}
