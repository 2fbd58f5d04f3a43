package dataset

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// FieldError says which field of an example is wrong and why. Field is a path
// in the example ("messages[3].role", "chosen") or, from a [Reader], in the
// record as written in the file ("conversations[3].from").
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

func fieldErr(field, format string, a ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, a...)}
}

// Validate checks that the example is well formed (see [Example]): turns
// alternate, the conversation ends as its kind needs, preference pairs have
// both answers, tools and function calls are JSON, and all text is UTF-8.
// It returns a *FieldError naming the first problem.
func (e *Example) Validate() error {
	if err := e.validateMessages(); err != nil {
		return err
	}
	if err := e.validateKind(); err != nil {
		return err
	}
	if e.Tools != "" {
		if err := checkTools(e.Tools); err != nil {
			return fieldErr("tools", "%v", err)
		}
	}
	var bad *FieldError
	e.eachText(func(field string, s *string) {
		if bad == nil && !utf8.ValidString(*s) {
			bad = fieldErr(field, "invalid UTF-8: re-encode the file as UTF-8")
		}
	})
	if bad != nil {
		return bad
	}
	return nil
}

func (e *Example) validateMessages() error {
	if len(e.Messages) == 0 {
		return fieldErr("messages", "empty conversation: give at least one user turn")
	}
	for i, m := range e.Messages {
		field := fmt.Sprintf("messages[%d]", i)
		if err := checkTurn(field, i, m, e.Messages); err != nil {
			return err
		}
	}
	return nil
}

// checkTurn checks message i of msgs: a known role in its alternating place,
// and a function call that is JSON.
func checkTurn(field string, i int, m Message, msgs []Message) error {
	switch m.Role {
	case RoleUser, RoleAssistant, RoleFunctionCall, RoleObservation:
	case RoleSystem:
		return fieldErr(field+".role", "system message inside the conversation: only the first message may be the system prompt")
	default:
		return fieldErr(field+".role", "unknown role %q (want user, assistant, system, function_call or observation)", m.Role)
	}
	wantUser := i%2 == 0
	if wantUser != m.Role.userSide() {
		after := "the start"
		if i > 0 {
			after = string(msgs[i-1].Role)
		}
		return fieldErr(field+".role", "%s after %s: turns must alternate user/observation with assistant/function_call", m.Role, after)
	}
	if m.Role == RoleFunctionCall {
		if err := checkFunctionCall(m.Content); err != nil {
			return fieldErr(field+".content", "%v", err)
		}
	}
	return nil
}

func (e *Example) validateKind() error {
	last := e.Messages[len(e.Messages)-1]
	if e.Kind() != KindPreference {
		if !last.Role.assistantSide() {
			return fieldErr(fmt.Sprintf("messages[%d]", len(e.Messages)-1), "the conversation ends with a %s turn: the last message must be the answer to learn", last.Role)
		}
		return nil
	}
	if e.Label != nil {
		return fieldErr("label", "a preference pair (chosen/rejected) cannot also carry a KTO label")
	}
	if !last.Role.userSide() {
		return fieldErr(fmt.Sprintf("messages[%d]", len(e.Messages)-1), "a preference prompt must end with a user turn, not %s: move the answer to chosen/rejected", last.Role)
	}
	for _, a := range []struct {
		field string
		m     *Message
	}{{"chosen", e.Chosen}, {"rejected", e.Rejected}} {
		if a.m == nil {
			return fieldErr(a.field, "missing: a preference pair needs both chosen and rejected")
		}
		if !a.m.Role.assistantSide() {
			return fieldErr(a.field+".role", "%q: the answers of a preference pair are assistant or function_call messages", a.m.Role)
		}
		if a.m.Role == RoleFunctionCall {
			if err := checkFunctionCall(a.m.Content); err != nil {
				return fieldErr(a.field+".content", "%v", err)
			}
		}
	}
	if *e.Chosen == *e.Rejected {
		return fieldErr("rejected", "identical to chosen: a preference pair needs two different answers")
	}
	return nil
}

// functionCall is one tool call as LLaMA-Factory writes it.
type functionCall struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// parseFunctionCalls reads a function_call message: one {"name", "arguments"}
// object or a list of them (parallel calls).
func parseFunctionCalls(s string) (calls []functionCall, list bool, err error) {
	b := []byte(s)
	if first := firstNonSpace(b); first == '[' {
		err = json.Unmarshal(b, &calls)
		list = true
	} else {
		var c functionCall
		err = json.Unmarshal(b, &c)
		calls = []functionCall{c}
	}
	if err != nil {
		return nil, false, fmt.Errorf("function call is not JSON {\"name\": ..., \"arguments\": {...}}: %v", err)
	}
	for _, c := range calls {
		if c.Name == "" {
			return nil, false, fmt.Errorf("function call has no \"name\"")
		}
	}
	return calls, list, nil
}

func checkFunctionCall(s string) error {
	_, _, err := parseFunctionCalls(s)
	return err
}

// checkTools checks that tools is a JSON list (or one object) of function schemas.
func checkTools(s string) error {
	b := []byte(s)
	if !json.Valid(b) {
		return fmt.Errorf("not valid JSON: write the function schemas as a JSON list")
	}
	switch firstNonSpace(b) {
	case '[', '{':
		return nil
	}
	return fmt.Errorf("not a JSON list of function schemas")
}

func firstNonSpace(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}
