package jsonschema

import (
	"strings"
	"testing"
)

// outcomes of feeding a text to a fresh matcher
const (
	rejected = "rejected" // Feed returns false
	partial  = "partial"  // accepted, not a complete document
	canEnd   = "can end"  // a complete document that may go on
	done     = "done"     // a complete document, nothing may follow
)

func TestMatcher(t *testing.T) {
	const flat = `{"type":"object","properties":{"name":{"type":"string","maxLength":40},"age":{"type":"integer"}},"required":["name","age"]}`
	tests := []struct {
		schema, text, want string
	}{
		{flat, `{"name":"Bo","age":3}`, done},
		{flat, "{ \"name\" : \"Bo\" ,\n\t\"age\": -12 }", done},
		{flat, `{"name":"Bo","age":3`, partial},
		{flat, `{"age":3,"name":"Bo"}`, rejected}, // declared order only
		{flat, `{"name":"Bo"}`, rejected},
		{flat, `{"name":"Bo","age":3.5}`, rejected},
		{flat, `{"name":"Bo","age":03}`, rejected},
		{flat, `{"name":"Bo","age":1e3}`, rejected},
		{flat, `{"name":"Bo","age":3,"x":1}`, rejected},
		{flat, `{"name":"Bo","age":3} `, rejected},
		{flat, `{"name":"a\"b\\c\u00e9\/\n","age":0}`, done},
		{flat, `{"name":"\ud83d\ude00","age":0}`, rejected}, // no surrogate escapes
		{flat, `{"name":"\x","age":0}`, rejected},
		{flat, `{"name":"` + "\x01", rejected},
		{flat, `{"name":"` + "\xff", rejected},
		{flat, `{"name":"` + "\xc0\x80", rejected},     // overlong
		{flat, `{"name":"` + "\xed\xa0\x80", rejected}, // a surrogate in UTF-8
		{flat, `{"name":"` + "\xf4\x90\x80\x80", rejected},
		{flat, `{"name":"日本😀","age":0}`, done},
		{flat, `{"name":"` + strings.Repeat("é", 40) + `","age":1}`, done},
		{flat, `{"name":"` + strings.Repeat("é", 41), rejected},
		{flat, "{\n" + strings.Repeat(" ", 12) + `"name"`, partial},
		{flat, "{" + strings.Repeat(" ", 13), rejected},
		{flat, "{\n\n", rejected},
		{flat, "{\r\n", rejected},
		{`{"type":"number","minimum":-5,"maximum":5}`, `4.25`, canEnd},
		{`{"type":"number","minimum":-5,"maximum":5}`, `5.0`, canEnd},
		{`{"type":"number","minimum":-5,"maximum":5}`, `5.5`, rejected},
		{`{"type":"number","minimum":-5,"maximum":5}`, `-5`, canEnd},
		{`{"type":"number","minimum":-5,"maximum":5}`, `-6`, rejected},
		{`{"type":"number","minimum":-5,"maximum":5}`, `12`, rejected},
		{`{"type":"number","minimum":-5,"maximum":5}`, `-`, partial},
		{`{"type":"number","minimum":-5,"maximum":5}`, `1.`, partial},
		{`{"type":"number","minimum":0}`, `-0`, canEnd}, // -0 = 0
		{`{"type":"number","minimum":0}`, `-1`, rejected},
		{`{"type":"number","exclusiveMinimum":0}`, `-`, rejected},
		{`{"type":"number","exclusiveMinimum":0}`, `0`, partial}, // 0.5 may follow
		{`{"type":"number","exclusiveMinimum":0}`, `0.000000`, rejected},
		{`{"type":"integer","minimum":100,"maximum":200}`, `1`, partial},
		{`{"type":"integer","minimum":100,"maximum":200}`, `15`, partial},
		{`{"type":"integer","minimum":100,"maximum":200}`, `150`, done}, // no digit may follow
		{`{"type":"integer","minimum":10,"maximum":200}`, `15`, canEnd},
		{`{"type":"integer","minimum":100,"maximum":200}`, `3`, rejected},
		{`{"type":"integer"}`, `12345678901`, canEnd},
		{`{"type":"integer"}`, `123456789012`, done},
		{`{"type":"integer"}`, `1234567890123`, rejected}, // at most 12 digits
		{`{"type":"number"}`, `0.1234567`, rejected},      // at most 6 decimals
		{`{"enum":[1,12,"a"]}`, `1`, canEnd},
		{`{"enum":[1,12,"a"]}`, `12`, done},
		{`{"enum":[1,12,"a"]}`, `13`, rejected},
		{`{"enum":[1,12,"a"]}`, `"a"`, done},
		{`{"enum":[1,12,"a"]}`, `"b"`, rejected},
		{`{"type":["boolean","null"]}`, `tru`, partial},
		{`{"type":["boolean","null"]}`, `true`, done},
		{`{"type":["boolean","null"]}`, ` null`, done},
		{`{"type":["boolean","null"]}`, `"x"`, rejected},
		{`{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2}`, `[]`, rejected},
		{`{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2}`, `[1 , 2]`, done},
		{`{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2}`, `[1,2,`, rejected},
		{`{"anyOf":[{"type":"string","maxLength":2},{"type":"null"},{"type":"object","properties":{"a":{"type":"integer"}}}]}`, `"ab"`, done},
		{`{"anyOf":[{"type":"string","maxLength":2},{"type":"null"},{"type":"object","properties":{"a":{"type":"integer"}}}]}`, `"abc"`, rejected},
		{`{"anyOf":[{"type":"string","maxLength":2},{"type":"null"},{"type":"object","properties":{"a":{"type":"integer"}}}]}`, `{}`, done},
		{`{"anyOf":[{"type":"string","maxLength":2},{"type":"null"},{"type":"object","properties":{"a":{"type":"integer"}}}]}`, `{"a":-1}`, done},
		{`{"anyOf":[{"type":"string","maxLength":2},{"type":"string","minLength":4}]}`, `"abc"`, rejected},
		{`{"anyOf":[{"type":"string","maxLength":2},{"type":"string","minLength":4}]}`, `"abcd"`, done},
		{`{"type":"object","additionalProperties":{"type":"boolean"}}`, `{"x":true,"y y":false}`, done},
		{`{"type":"object","additionalProperties":{"type":"boolean"}}`, `{"x":1}`, rejected},
		{`{"type":"object","additionalProperties":false}`, `{}`, done},
		{`{"type":"object","additionalProperties":false}`, `{"`, rejected},
		{`{"type":"string","minLength":2}`, `"a"`, rejected},
		{`{"type":"string","minLength":2}`, `"\u00e9\n"`, done},
		{`{"const":{"k":[1,"x"]}}`, `{"k":[1,"x"]}`, done},
		{`{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"},"c":{"type":"integer"}},"required":["b"]}`, `{"a":1,"c":2}`, rejected},
		{`{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"},"c":{"type":"integer"}},"required":["b"]}`, `{"b":1,"c":2}`, done},
		{`{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"},"c":{"type":"integer"}},"required":["b"]}`, `{"a":1,"b":2}`, done},
		{`true`, `[{"x":[null,-0.5,"s"]},{}]`, done},
	}
	for _, tc := range tests {
		s, err := Compile([]byte(tc.schema))
		if err != nil {
			t.Fatalf("%s: %v", tc.schema, err)
		}
		m, err := s.NewMatcher()
		if err != nil {
			t.Fatalf("%s: %v", tc.schema, err)
		}
		got := rejected
		switch {
		case !m.Feed(tc.text):
		case m.Done():
			got = done
		case m.CanEnd():
			got = canEnd
		default:
			got = partial
		}
		if got != tc.want {
			t.Errorf("%.70s\n%q: %s, want %s", tc.schema, tc.text, got, tc.want)
		}
		if got != rejected && got != partial {
			if err := s.Validate([]byte(tc.text)); err != nil {
				t.Errorf("%q: accepted but %v", tc.text, err)
			}
		}
	}
}

// A rejected Feed leaves the matcher as it was; Clone and CopyFrom give
// independent copies.
func TestMatcherState(t *testing.T) {
	s, err := Compile([]byte(`{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"]}`))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := s.NewMatcher()
	if got := m.Remaining(); got != len(`{"name":"","age":0}`) {
		t.Errorf("Remaining at the start %d", got)
	}
	if !m.Feed(`{"name":"B`) || m.Feed(`o",x`) {
		t.Fatal("feed")
	}
	c := m.Clone()
	if room, ok := c.StringRoom(); !ok || room < 1<<30 {
		t.Errorf("StringRoom %d %v", room, ok)
	}
	if !m.Feed(`o","age":7}`) || !m.Done() {
		t.Fatal("the document after a rejected feed")
	}
	if c.Done() || !c.Feed(`","age":1}`) || !c.Done() {
		t.Error("the clone followed the original")
	}
	c.CopyFrom(m)
	if !c.Done() || c.Remaining() != 0 || c.FeedByte(' ') {
		t.Error("CopyFrom")
	}
	if _, ok := c.StringRoom(); ok {
		t.Error("StringRoom outside a string")
	}
}

// The matcher nests objects and arrays no deeper than Validate reads.
func TestMatcherNesting(t *testing.T) {
	s, err := Compile([]byte(`true`))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := s.NewMatcher()
	deep := strings.Repeat("[", maxNesting-8)
	if !m.Feed(deep) || m.Feed("[") || m.Feed("{") || !m.Feed("1"+strings.Repeat("]", maxNesting-8)) || !m.Done() {
		t.Fatal("nesting limit")
	}
	if err := s.Validate([]byte(deep + "1" + strings.Repeat("]", maxNesting-8))); err != nil {
		t.Error(err)
	}
}
