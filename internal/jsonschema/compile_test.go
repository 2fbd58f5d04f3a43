package jsonschema

import (
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		schema, want string
	}{
		{`{"type":"object",`, "invalid JSON at byte"},
		{`{} {}`, "data after the value"},
		{`[1]`, "schema at (root): want an object or a boolean, got array"},
		{`{"type":"object","properties":{"x":{"patternProperties":{}}}}`, `schema at /properties/x: keyword "patternProperties" is not supported`},
		{`{"type":"object","properties":{"x":{"type":"string","pattern":"a+"}}}`, `schema at /properties/x: keyword "pattern" is not supported`},
		{`{"properties":{"a/b":{"not":{}}}}`, `schema at /properties/a~1b: keyword "not" is not supported`},
		{`{"type":"text"}`, `schema at /type: unknown type string "text"`},
		{`{"type":[]}`, "an empty list of types allows nothing"},
		{`{"type":["string",3]}`, "schema at /type/1: unknown type number 3"},
		{`{"minLength":-1}`, "schema at /minLength: want a non-negative integer, got number -1"},
		{`{"maxItems":1.5}`, "want a non-negative integer"},
		{`{"minimum":"3"}`, `schema at /minimum: want a number, got string "3"`},
		{`{"required":"a"}`, "schema at /required: want an array of property names"},
		{`{"required":["a",1]}`, "schema at /required/1: want a property name"},
		{`{"properties":[]}`, "want an object of schemas"},
		{`{"items":[{},{}]}`, "tuple validation) is not supported"},
		{`{"enum":3}`, "schema at /enum: want an array of values"},
		{`{"anyOf":[]}`, "schema at /anyOf: want a non-empty array of schemas"},
		{`{"anyOf":[3]}`, "schema at /anyOf/0: want an object or a boolean, got number"},
		{`{"$ref":3}`, "schema at /$ref: want a string"},
		{`{"$ref":"other.json#/a"}`, "only references inside the schema"},
		{`{"$defs":{},"$ref":"#/$defs/missing"}`, `schema at /$ref: "#/$defs/missing": no member "missing"`},
		{`{"$ref":"#/$defs/a/3"}`, `no member "$defs"`},
		{`{"$ref":"#"}`, "refers back to itself"},
		{`{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"anyOf":[{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}`, "refers back to itself"},
		{strings.Repeat(`{"items":`, 600) + "{}" + strings.Repeat("}", 600), "nested deeper than"},
	}
	for _, tc := range tests {
		_, err := Compile([]byte(tc.schema))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.60s: error %v, want it to contain %q", tc.schema, err, tc.want)
		}
	}
}

// Schemas that compile but that the grammar supports for validation only,
// or that no value satisfies.
func TestNewMatcherErrors(t *testing.T) {
	tests := []struct {
		schema, want string
	}{
		{`{"allOf":[{"type":"object"},{"required":["a"]}]}`, "schema at (root): allOf of several schemas is supported for validation only"},
		{`{"type":"object","properties":{"x":{"$ref":"#/$defs/a","minLength":2}},"$defs":{"a":{}}}`, "schema at /properties/x: $ref, anyOf, oneOf or allOf beside other keywords"},
		{`{"type":"object","anyOf":[{"required":["a"]},{"required":["b"]}]}`, "beside other keywords"},
		{`{"oneOf":[{"type":"integer"},{"type":"number"}]}`, "oneOf branches /oneOf/0 and /oneOf/1 may both match"},
		{`{"oneOf":[{"enum":[1,2]},{"type":"integer"}]}`, "may both match"},
		{`{"type":"string","minLength":3,"maxLength":2}`, "no value satisfies it"},
		{`{"type":"integer","minimum":0.2,"maximum":0.8}`, "no value satisfies it"},
		{`{"type":"object","properties":{"a":false},"required":["a"]}`, "no value satisfies it"},
		{`{"type":"object","required":["a"],"additionalProperties":false}`, "no value satisfies it"},
		{`{"$defs":{"n":{"type":"object","properties":{"next":{"$ref":"#/$defs/n"}},"required":["next"]}},"$ref":"#/$defs/n"}`, "no value satisfies it"},
		{`{"type":"number","minimum":1e15}`, "no value satisfies it"},
		{`{"enum":["a","b"],"type":"integer"}`, "no value satisfies it"},
		{`false`, "no value satisfies it"},
	}
	for _, tc := range tests {
		s, err := Compile([]byte(tc.schema))
		if err != nil {
			t.Errorf("%s: Compile: %v", tc.schema, err)
			continue
		}
		if _, err := s.NewMatcher(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: NewMatcher error %v, want it to contain %q", tc.schema, err, tc.want)
		}
	}
}

// Annotations and the keywords the grammar writes compile and give a
// matcher.
func TestCompileAccepts(t *testing.T) {
	for _, schema := range []string{
		`true`, `{}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#","$id":"x","title":"t","description":"d","default":1,"examples":[1],"format":"date","$comment":"c","readOnly":true,"type":"string"}`,
		`{"type":"number","minimum":0,"exclusiveMinimum":true}`,
		`{"oneOf":[{"type":"string"},{"type":"integer"},{"const":null}]}`,
		`{"oneOf":[{"const":"a"},{"const":"b"}]}`,
		`{"allOf":[{"$ref":"#/definitions/x"}],"description":"pydantic style","definitions":{"x":{"type":"boolean"}}}`,
		`{"properties":{"a b":{"$ref":"#/properties/c%20d"},"c d":{"type":"null"}}}`,
	} {
		s, err := Compile([]byte(schema))
		if err != nil {
			t.Errorf("%s: %v", schema, err)
			continue
		}
		if _, err := s.NewMatcher(); err != nil {
			t.Errorf("%s: NewMatcher: %v", schema, err)
		}
	}
}
