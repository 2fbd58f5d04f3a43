package prompt

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

// Template is one version of a prompt: typed variables and message
// sections, parsed from a template file. It is safe for concurrent use.
type Template struct {
	Name        string
	Version     int
	Description string
	// Vars are the declared variables, in the order of the header.
	Vars []Var
	// Source is where the template came from: a file path, or
	// "embedded:templates/NAME.tmpl" for a default.
	Source   string
	sections []section
}

// section is one message of a template: a role and its text/template.
type section struct {
	role string
	tmpl *template.Template
}

// Var is a declared variable. A variable without a default is required;
// one declared with "?" or "= DEFAULT" is optional.
type Var struct {
	Name        string
	Type        Type
	Required    bool
	Default     Value // the default, or the zero value of Type
	Description string
}

// Type is the type of a template variable.
type Type uint8

// Types of template variables; the names are those of the header.
const (
	TypeString   Type = iota + 1 // string
	TypeInt                      // int
	TypeFloat                    // float
	TypeBool                     // bool
	TypeStrings                  // []string
	TypeExamples                 // examples: []Example, for few-shot
	TypePassages                 // passages: a Packed block from Pack
)

var typeNames = [...]string{
	TypeString:   "string",
	TypeInt:      "int",
	TypeFloat:    "float",
	TypeBool:     "bool",
	TypeStrings:  "[]string",
	TypeExamples: "examples",
	TypePassages: "passages",
}

func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// parseType reads a type name of the header.
func parseType(s string) (Type, bool) {
	for t, name := range typeNames {
		if name != "" && name == s {
			return Type(t), true
		}
	}
	return 0, false
}

// Value is a typed value of a template variable; make one with String,
// Int, Float, Bool, Strings, Examples or Passages. The zero Value has no
// type and is rejected by Render.
type Value struct {
	typ Type
	v   any // string, int, float64, bool, []string, []Example or Packed
}

// Vars are the values of a rendering, by variable name.
//
// A map of typed Values (rather than map[string]any) lets the caller say
// what each value is and lets Render check it against the declaration:
// a wrong type, a missing required variable or an unknown name is an
// error that names the template, its version and the variable.
type Vars map[string]Value

// String is a string value.
func String(s string) Value { return Value{TypeString, s} }

// Int is an int value.
func Int(n int) Value { return Value{TypeInt, n} }

// Float is a float value.
func Float(f float64) Value { return Value{TypeFloat, f} }

// Bool is a bool value.
func Bool(b bool) Value { return Value{TypeBool, b} }

// Strings is a list-of-strings value.
func Strings(list ...string) Value { return Value{TypeStrings, slices.Clone(list)} }

// Examples is a few-shot examples value; templates range over it and use
// .Input and .Output.
func Examples(examples []Example) Value { return Value{TypeExamples, slices.Clone(examples)} }

// Passages is a packed-passages value; {{.name}} prints the block, and
// .name.Passages lists the passages kept.
func Passages(p Packed) Value { return Value{TypePassages, p} }

// Type is the value's type (0 for the zero Value).
func (v Value) Type() Type { return v.typ }

// zeroValue is the value of an optional variable declared without a default.
func zeroValue(t Type) Value {
	switch t {
	case TypeString:
		return String("")
	case TypeInt:
		return Int(0)
	case TypeFloat:
		return Float(0)
	case TypeBool:
		return Bool(false)
	case TypeStrings:
		return Value{TypeStrings, []string(nil)}
	case TypeExamples:
		return Value{TypeExamples, []Example(nil)}
	case TypePassages:
		return Passages(Packed{})
	}
	return Value{}
}

// Render checks vars against the declared variables and executes the
// sections in order. Each message's content is trimmed of surrounding
// white space; a section that renders empty (an optional system text, say)
// is left out.
func (t *Template) Render(vars Vars) ([]Message, error) {
	data, err := t.data(vars)
	if err != nil {
		return nil, err
	}
	var msgs []Message
	var b strings.Builder
	for _, s := range t.sections {
		b.Reset()
		if err := s.tmpl.Execute(&b, data); err != nil {
			return nil, fmt.Errorf("prompt: %s: %w", t.id(), err)
		}
		if content := strings.TrimSpace(b.String()); content != "" {
			msgs = append(msgs, Message{Role: s.role, Content: content})
		}
	}
	return msgs, nil
}

// RenderTraining renders vars and adds output as the assistant's reply,
// so that a training example carries exactly the prompt the server sends.
// When the template ends with an assistant section (a prefill), output
// continues it.
func (t *Template) RenderTraining(vars Vars, output string) ([]Message, error) {
	msgs, err := t.Render(vars)
	if err != nil {
		return nil, err
	}
	if n := len(msgs); n > 0 && msgs[n-1].Role == "assistant" {
		msgs[n-1].Content += output
		return msgs, nil
	}
	return append(msgs, Message{Role: "assistant", Content: output}), nil
}

// data checks vars and returns the template data: every declared variable,
// given or defaulted.
func (t *Template) data(vars Vars) (map[string]any, error) {
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		if t.lookup(name) == nil {
			return nil, fmt.Errorf("prompt: %s: unknown variable %q: the template declares %s", t.id(), name, t.varList())
		}
	}
	data := make(map[string]any, len(t.Vars))
	for _, d := range t.Vars {
		v, ok := vars[d.Name]
		switch {
		case !ok && d.Required:
			return nil, fmt.Errorf("prompt: %s: variable %q (%s) is required", t.id(), d.Name, d.Type)
		case !ok:
			v = d.Default
		case v.typ == 0:
			return nil, fmt.Errorf("prompt: %s: variable %q (%s) has no value: make it with prompt.%s", t.id(), d.Name, d.Type, constructor(d.Type))
		case v.typ != d.Type:
			return nil, fmt.Errorf("prompt: %s: variable %q is %s, got %s: make it with prompt.%s", t.id(), d.Name, d.Type, v.typ, constructor(d.Type))
		}
		data[d.Name] = v.v
	}
	return data, nil
}

// constructor names the function that makes a Value of type t.
func constructor(t Type) string {
	switch t {
	case TypeString:
		return "String"
	case TypeInt:
		return "Int"
	case TypeFloat:
		return "Float"
	case TypeBool:
		return "Bool"
	case TypeStrings:
		return "Strings"
	case TypeExamples:
		return "Examples"
	}
	return "Passages"
}

func (t *Template) lookup(name string) *Var {
	for i := range t.Vars {
		if t.Vars[i].Name == name {
			return &t.Vars[i]
		}
	}
	return nil
}

// id names the template in errors: "rag_answer v1 (file)".
func (t *Template) id() string {
	return fmt.Sprintf("template %s v%d (%s)", t.Name, t.Version, t.Source)
}

func (t *Template) varList() string {
	if len(t.Vars) == 0 {
		return "no variables"
	}
	names := make([]string, len(t.Vars))
	for i, v := range t.Vars {
		names[i] = v.Name
	}
	return strings.Join(names, ", ")
}

// ParseVars reads values written as text — command-line flags, dataset
// fields — as the declared types: strings as they are, numbers and bools
// as Go writes them, a []string as a JSON array (or one item). Examples
// and passages cannot be written so.
func (t *Template) ParseVars(text map[string]string) (Vars, error) {
	vars := make(Vars, len(text))
	for _, name := range slices.Sorted(maps.Keys(text)) {
		d := t.lookup(name)
		if d == nil {
			return nil, fmt.Errorf("prompt: %s: unknown variable %q: the template declares %s", t.id(), name, t.varList())
		}
		v, err := parseText(d.Type, text[name])
		if err != nil {
			return nil, fmt.Errorf("prompt: %s: variable %q (%s): %w", t.id(), name, d.Type, err)
		}
		vars[name] = v
	}
	return vars, nil
}

func parseText(t Type, s string) (Value, error) {
	switch t {
	case TypeString:
		return String(s), nil
	case TypeInt:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		return Int(n), err
	case TypeFloat:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		return Float(f), err
	case TypeBool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		return Bool(b), err
	case TypeStrings:
		if !strings.HasPrefix(strings.TrimSpace(s), "[") {
			return Strings(s), nil
		}
		var list []string
		if err := json.Unmarshal([]byte(s), &list); err != nil {
			return Value{}, fmt.Errorf("want a JSON array of strings: %v", err)
		}
		return Strings(list...), nil
	}
	return Value{}, fmt.Errorf("cannot be given as text")
}
