package jsonschema

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	minutes, err := os.ReadFile("testdata/schemas/minutes.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		schema, doc string
		want        []string // the error lines; none: valid
	}{
		{string(minutes), `{"summary":"s","decisions":[],"action_items":[{"owner":"Ana","task":"t","due":null}],"open_questions":["q"]}`, nil},
		{string(minutes), `{"summary":"s","decisions":[],"action_items":[{"owner":3,"task":"t","due":"2024-01-01"}],"open_questions":[]}`,
			[]string{"/action_items/0/owner: want string, got number 3"}},
		{string(minutes), `{"summary":"s","decisions":"none","action_items":[{"owner":"a","task":"t","due":1,"extra":true}]}`,
			[]string{
				"/decisions: want array, got string \"none\"",
				"/action_items/0/due: want null or string, got number 1",
				"/action_items/0/extra: property \"extra\" is not allowed (additionalProperties is false)",
				"(root): missing required property \"open_questions\"",
			}},
		{string(minutes), `[]`, []string{"(root): want object, got array"}},
		{`{"type":"integer"}`, `1.0`, nil},
		{`{"type":"integer"}`, `1.5`, []string{"(root): want integer, got number 1.5"}},
		{`{"type":"number","minimum":0,"exclusiveMaximum":10}`, `10`, []string{"(root): want < 10, got 10"}},
		{`{"type":"number","minimum":0,"exclusiveMinimum":true}`, `0`, []string{"(root): want > 0, got 0"}},
		{`{"type":"number","minimum":2,"exclusiveMinimum":1}`, `1.5`, []string{"(root): want ≥ 2, got 1.5"}},
		{`{"maximum":3}`, `"not a number"`, nil},
		{`{"type":"string","minLength":2,"maxLength":3}`, `"é"`, []string{"(root): want at least 2 characters, got 1"}},
		{`{"type":"string","maxLength":3}`, `"日本語"`, nil},
		{`{"type":"string","maxLength":3}`, `"日本語!"`, []string{"(root): want at most 3 characters, got 4"}},
		{`{"items":{"type":"boolean"},"minItems":1,"maxItems":2}`, `[true,false,1]`,
			[]string{"(root): want at most 2 items, got 3", "/2: want boolean, got number 1"}},
		{`{"enum":["a",1,null,{"x":[1]}]}`, `{"x":[1.0]}`, nil},
		{`{"enum":["a",1,null]}`, `"b"`, []string{`(root): want one of ["a", 1, null], got string "b"`}},
		{`{"const":"on"}`, `"off"`, []string{`(root): want "on", got string "off"`}},
		{`{"properties":{"a~b/c":{"type":"null"}}}`, `{"a~b/c":0}`, []string{"/a~0b~1c: want null, got number 0"}},
		{`{"additionalProperties":{"type":"integer"}}`, `{"a":1,"b":"2"}`, []string{`/b: want integer, got string "2"`}},
		{`{"anyOf":[{"type":"string"},{"type":"null"}]}`, `3`,
			[]string{"(root): want a value matching one of anyOf, got number 3 (anyOf/0: (root): want string, got number 3; anyOf/1: (root): want null, got number 3)"}},
		{`{"oneOf":[{"type":"integer"},{"type":"number"}]}`, `3`, []string{"(root): want a value matching exactly one of oneOf, got one matching 0 and 1"}},
		{`{"oneOf":[{"type":"integer"},{"type":"number"}]}`, `3.5`, nil},
		{`{"allOf":[{"type":"number"},{"minimum":5}]}`, `4`, []string{"(root): want ≥ 5, got 4"}},
		{`{"$defs":{"pos":{"type":"integer","minimum":1}},"properties":{"n":{"$ref":"#/$defs/pos"}}}`, `{"n":0}`, []string{"/n: want ≥ 1, got 0"}},
		{`false`, `null`, []string{"(root): no value is allowed here (the schema is false)"}},
		{`{"type":"object","required":["a"],"properties":{"a":{}}}`, `{"a":1,"a":2}`, nil},
	}
	for _, tc := range tests {
		s, err := Compile([]byte(tc.schema))
		if err != nil {
			t.Fatalf("%.60s: %v", tc.schema, err)
		}
		err = s.Validate([]byte(tc.doc))
		var got []string
		if err != nil {
			got = strings.Split(err.Error(), "\n")
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%.60s\n%s:\ngot  %q\nwant %q", tc.schema, tc.doc, got, tc.want)
		}
		var ve *ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Errorf("%s: %T is not a *ValidationError", tc.doc, err)
		}
	}
}

func TestValidateRejectsMalformedJSON(t *testing.T) {
	s, err := Compile([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{``, `{`, `{"a":}`, `[1,]`, `{} x`, `nul`} {
		if err := s.Validate([]byte(doc)); err == nil || !strings.Contains(err.Error(), "invalid JSON at byte") {
			t.Errorf("%q: %v", doc, err)
		}
	}
}

// A schema that reaches one node along 2⁴⁰ paths (anyOf of shared $refs)
// validates and generates in time linear in its size.
func TestSharedReferencesStayLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"$ref":"#/$defs/d0","$defs":{`)
	const depth = 40
	for i := range depth {
		fmt.Fprintf(&b, `"d%d":{"anyOf":[{"$ref":"#/$defs/d%d"},{"allOf":[{"$ref":"#/$defs/d%d"}]}]},`, i, i+1, i+1)
	}
	fmt.Fprintf(&b, `"d%d":{"type":"array","items":{"$ref":"#/$defs/d0"},"maxItems":2}}}`, depth)
	s, err := Compile([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate([]byte(`[[[],[]],[]]`)); err != nil {
		t.Error(err)
	}
	if err := s.Validate([]byte(`[[1]]`)); err == nil {
		t.Error("[[1]] is valid")
	}
	m, err := s.NewMatcher()
	if err != nil {
		t.Fatal(err)
	}
	if !m.Feed(`[[[],[]],[]]`) || !m.Done() || m.Feed("[") {
		t.Error("the matcher")
	}
}

// Keywords of one type leave values of the other types alone.
func TestValidateKeywordsApplyToTheirType(t *testing.T) {
	s, err := Compile([]byte(`{"minLength":3,"maxLength":2,"minItems":5,"minimum":10,"required":["a"],"items":false}`))
	if err != nil {
		t.Fatal(err)
	}
	for doc, valid := range map[string]bool{`null`: true, `true`: true, `{"a":1}`: true, `12`: true, `[]`: false, `"abc"`: false, `5`: false} {
		if err := s.Validate([]byte(doc)); (err == nil) != valid {
			t.Errorf("%s: %v", doc, err)
		}
	}
	m, err := s.NewMatcher()
	if err != nil {
		t.Fatal(err)
	}
	if m.Feed(`"`) || m.Feed(`[`) || !m.Feed(`12`) || !m.CanEnd() {
		t.Error("the grammar writes strings or arrays no value of which is valid")
	}
}
