package prompt

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode/utf8"
)

// formatLine opens every template file: the format and its version.
const formatLine = "flywheel-prompt: 1"

// roles are the section names, as chat messages name them.
var roles = []string{"system", "user", "assistant"}

// funcs are the functions templates may call besides text/template's own.
var funcs = template.FuncMap{
	// data escapes text quoted as data (see EscapeData).
	"data": EscapeData,
	// inc is i+1: numbering from a range index.
	"inc": func(i int) int { return i + 1 },
	// join joins a list of strings with sep.
	"join": func(list []string, sep string) string { return strings.Join(list, sep) },
}

// ParseTemplate reads one template file (the format is in the package
// documentation); file names it in errors, which give the line.
func ParseTemplate(file string, src []byte) (*Template, error) {
	if !utf8.Valid(src) {
		return nil, fmt.Errorf("prompt: %s: not UTF-8 text", file)
	}
	p := parser{file: file, t: &Template{Source: file}}
	lines := strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
	i, err := p.header(lines)
	if err != nil {
		return nil, err
	}
	if err := p.sections(lines, i); err != nil {
		return nil, err
	}
	return p.t, nil
}

type parser struct {
	file string
	t    *Template
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("prompt: %s:%d: %s", p.file, line, fmt.Sprintf(format, args...))
}

// header reads the lines before the first section and returns the index
// of that section's marker.
func (p *parser) header(lines []string) (int, error) {
	seen := map[string]int{} // header key → line
	for i, raw := range lines {
		n, line := i+1, strings.TrimSpace(raw)
		if _, ok := sectionRole(raw); ok {
			return i, p.checkHeader(seen, n)
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if len(seen) == 0 {
			if line != formatLine {
				return 0, p.errorf(n, "got %q, want the first line %q (is this a flywheel prompt template?)", clip(line), formatLine)
			}
			seen["flywheel-prompt"] = n
			continue
		}
		if strings.HasPrefix(line, "---") {
			return 0, p.errorf(n, "unknown section %q: use --- system, --- user or --- assistant", clip(line))
		}
		if rest, ok := strings.CutPrefix(line, "var "); ok {
			if err := p.variable(rest, n); err != nil {
				return 0, err
			}
			continue
		}
		if err := p.field(line, n, seen); err != nil {
			return 0, err
		}
	}
	return len(lines), p.checkHeader(seen, len(lines))
}

func (p *parser) checkHeader(seen map[string]int, n int) error {
	if len(seen) == 0 {
		return p.errorf(n, "missing the first line %q", formatLine)
	}
	for _, key := range []string{"name", "version"} {
		if seen[key] == 0 {
			return p.errorf(n, "the header has no %q: add a line \"%s: …\" before the first section", key, key)
		}
	}
	return nil
}

// field reads a "key: value" line of the header.
func (p *parser) field(line string, n int, seen map[string]int) error {
	key, value, ok := strings.Cut(line, ":")
	if !ok {
		return p.errorf(n, "%q is not \"key: value\" nor \"var name: type\"", clip(line))
	}
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	if prev := seen[key]; prev != 0 {
		return p.errorf(n, "%s is given twice (also on line %d)", key, prev)
	}
	seen[key] = n
	switch key {
	case "name":
		if !isName(value) {
			return p.errorf(n, "name %q: use lower-case letters, digits and _", clip(value))
		}
		p.t.Name = value
	case "version":
		v, err := strconv.Atoi(value)
		if err != nil || v < 1 {
			return p.errorf(n, "version %q: want a whole number ≥ 1", clip(value))
		}
		p.t.Version = v
	case "description":
		p.t.Description = value
	default:
		return p.errorf(n, "unknown header field %q: use name, version, description or var", clip(key))
	}
	return nil
}

// variable reads "NAME: TYPE[?] [= DEFAULT] [# description]".
func (p *parser) variable(spec string, n int) error {
	name, rest, ok := strings.Cut(spec, ":")
	name = strings.TrimSpace(name)
	if !ok || !isIdent(name) {
		return p.errorf(n, "var %q: want \"var name: type\" with a name of letters, digits and _", clip(spec))
	}
	if p.t.lookup(name) != nil {
		return p.errorf(n, "variable %q is declared twice", name)
	}
	rest = strings.TrimSpace(rest)
	end := strings.IndexAny(rest, " \t=#")
	if end < 0 {
		end = len(rest)
	}
	word, rest := rest[:end], strings.TrimSpace(rest[end:])
	optional := strings.HasSuffix(word, "?")
	typ, ok := parseType(strings.TrimSuffix(word, "?"))
	if !ok {
		return p.errorf(n, "variable %q: unknown type %q: use string, int, float, bool, []string, examples or passages", name, clip(word))
	}
	v := Var{Name: name, Type: typ, Required: !optional, Default: zeroValue(typ)}
	if lit, ok := strings.CutPrefix(rest, "="); ok {
		if optional {
			return p.errorf(n, "variable %q: a default already makes it optional: drop the ?", name)
		}
		var err error
		if v.Default, rest, err = parseDefault(typ, lit); err != nil {
			return p.errorf(n, "variable %q: default: %v", name, err)
		}
		v.Required = false
		rest = strings.TrimSpace(rest)
	}
	if rest != "" {
		if rest[0] != '#' {
			return p.errorf(n, "variable %q: unexpected %q after the type: write \"= default\" or \"# description\"", name, clip(rest))
		}
		v.Description = strings.TrimSpace(rest[1:])
	}
	p.t.Vars = append(p.t.Vars, v)
	return nil
}

// parseDefault reads a JSON literal of type t from the start of lit and
// returns the rest of lit.
func parseDefault(t Type, lit string) (Value, string, error) {
	if t == TypePassages {
		return Value{}, "", fmt.Errorf("passages take no default: mark the variable optional with passages?")
	}
	dec := json.NewDecoder(strings.NewReader(lit))
	dec.UseNumber()
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return Value{}, "", fmt.Errorf("want a JSON %s literal: %v", t, err)
	}
	rest := lit[dec.InputOffset():]
	if string(raw) == "null" {
		return Value{}, "", fmt.Errorf("null is not a %s: mark the variable optional with %s? instead", t, t)
	}
	var err error
	var v Value
	switch t {
	case TypeString:
		var s string
		err = json.Unmarshal(raw, &s)
		v = String(s)
	case TypeInt:
		var i int
		err = json.Unmarshal(raw, &i)
		v = Int(i)
	case TypeFloat:
		var f float64
		err = json.Unmarshal(raw, &f)
		v = Float(f)
	case TypeBool:
		var b bool
		err = json.Unmarshal(raw, &b)
		v = Bool(b)
	case TypeStrings:
		var list []string
		err = json.Unmarshal(raw, &list)
		v = Value{TypeStrings, list}
	case TypeExamples:
		var list []Example
		err = json.Unmarshal(raw, &list)
		v = Value{TypeExamples, list}
	}
	if err != nil {
		return Value{}, "", fmt.Errorf("%s is not a %s", clip(string(raw)), t)
	}
	return v, rest, nil
}

// sections reads the message sections from the marker at lines[i] on.
func (p *parser) sections(lines []string, i int) error {
	if i >= len(lines) {
		return p.errorf(len(lines), "no message sections: add \"--- system\", \"--- user\" or \"--- assistant\" followed by the text")
	}
	for i < len(lines) {
		role, _ := sectionRole(lines[i])
		start := i + 1 // index of the first body line
		for i = start; i < len(lines); i++ {
			if _, ok := sectionRole(lines[i]); ok {
				break
			}
		}
		s, err := p.section(role, strings.Join(lines[start:i], "\n"), start+1)
		if err != nil {
			return err
		}
		p.t.sections = append(p.t.sections, s)
	}
	return nil
}

// section parses one body whose first line is line (≥ 2) of the file. A
// comment spanning the lines above goes first, so that text/template's
// errors give the line and column in the file; its trim marker eats the
// line break after it, and the body's leading space, which Render trims
// anyway.
func (p *parser) section(role, body string, line int) (section, error) {
	src := "{{/*" + strings.Repeat("\n", line-2) + "*/ -}}\n" + body
	t, err := template.New(p.file).Funcs(funcs).Option("missingkey=error").Parse(src)
	if err != nil {
		return section{}, fmt.Errorf("prompt: %w", err)
	}
	if err := p.checkRefs(t.Tree); err != nil {
		return section{}, err
	}
	return section{role: role, tmpl: t}, nil
}

// checkRefs reports the first use of an undeclared variable.
func (p *parser) checkRefs(tree *parse.Tree) error {
	return refChecker{tree, p.t}.node(tree.Root, true)
}

// refChecker walks a parse tree for .name where dot is the template's
// data, and $.name anywhere, and checks that name is declared.
type refChecker struct {
	tree *parse.Tree
	t    *Template
}

func (c refChecker) node(n parse.Node, atRoot bool) error {
	switch n := n.(type) {
	case *parse.ListNode:
		return c.list(n, atRoot)
	case *parse.ActionNode:
		return c.node(n.Pipe, atRoot)
	case *parse.PipeNode:
		if n == nil {
			return nil
		}
		for _, cmd := range n.Cmds {
			if err := c.node(cmd, atRoot); err != nil {
				return err
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if err := c.node(a, atRoot); err != nil {
				return err
			}
		}
	case *parse.ChainNode:
		return c.node(n.Node, atRoot)
	case *parse.FieldNode:
		if atRoot {
			return c.declared(n, n.Ident[0])
		}
	case *parse.VariableNode:
		if n.Ident[0] == "$" && len(n.Ident) > 1 {
			return c.declared(n, n.Ident[1])
		}
	case *parse.IfNode:
		return c.branch(&n.BranchNode, atRoot, atRoot)
	case *parse.RangeNode:
		return c.branch(&n.BranchNode, atRoot, false)
	case *parse.WithNode:
		return c.branch(&n.BranchNode, atRoot, false)
	case *parse.TemplateNode:
		return c.node(n.Pipe, atRoot)
	}
	return nil
}

func (c refChecker) list(l *parse.ListNode, atRoot bool) error {
	if l == nil {
		return nil
	}
	for _, n := range l.Nodes {
		if err := c.node(n, atRoot); err != nil {
			return err
		}
	}
	return nil
}

// branch walks an if, range or with: the pipeline and the else branch see
// the outer dot; the body sees it only for an if.
func (c refChecker) branch(b *parse.BranchNode, atRoot, bodyAtRoot bool) error {
	if err := c.node(b.Pipe, atRoot); err != nil {
		return err
	}
	if err := c.list(b.List, bodyAtRoot); err != nil {
		return err
	}
	return c.list(b.ElseList, atRoot)
}

func (c refChecker) declared(n parse.Node, name string) error {
	if c.t.lookup(name) != nil {
		return nil
	}
	loc, _ := c.tree.ErrorContext(n)
	return fmt.Errorf("prompt: %s: variable %q is not declared: add \"var %s: TYPE\" to the header", loc, name, name)
}

// sectionRole recognises a section marker line: "--- system", "--- user"
// or "--- assistant".
func sectionRole(line string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimRight(line, " \t"), "--- ")
	if !ok {
		return "", false
	}
	for _, r := range roles {
		if strings.TrimSpace(rest) == r {
			return r, true
		}
	}
	return "", false
}

// isName reports whether s is a template name: lower-case letters, digits
// and _, starting with a letter.
func isName(s string) bool {
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || i > 0 && (r >= '0' && r <= '9' || r == '_')) {
			return false
		}
	}
	return s != ""
}

// isIdent reports whether s can follow a dot in a template: letters,
// digits and _, not starting with a digit.
func isIdent(s string) bool {
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// clip shortens s for an error message.
func clip(s string) string {
	const most = 60
	if utf8.RuneCountInString(s) <= most {
		return s
	}
	return string([]rune(s)[:most]) + "…"
}
