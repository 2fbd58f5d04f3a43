package jsonschema

import (
	"encoding/json"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds are the schemas of the tables and of testdata.
func fuzzSeeds(f *testing.F) []string {
	seeds := []string{
		`true`, `false`, `{}`, `{"type":["integer","string"],"minimum":1,"maxLength":3}`,
		`{"anyOf":[{"type":"string","maxLength":2},{"type":"null"},{"type":"object","properties":{"a":{"type":"integer"}}}]}`,
		`{"enum":[1,12,"a",{"k":[null]}]}`, `{"type":"number","exclusiveMinimum":-0.5,"maximum":0.25}`,
		`{"oneOf":[{"const":"a"},{"const":"b"}]}`, `{"type":"object","additionalProperties":{"type":"boolean"}}`,
		`{"$defs":{"n":{"type":"object","properties":{"k":{"type":"array","items":{"$ref":"#/$defs/n"}}}}},"$ref":"#/$defs/n"}`,
	}
	files, _ := filepath.Glob("testdata/schemas/*.json")
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, string(raw))
	}
	return seeds
}

// Compile never panics on untrusted bytes, and every document the grammar
// of a compiled schema writes is JSON the schema validates.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := Compile(raw)
		if err != nil {
			return
		}
		_ = s.Validate(raw)
		m, err := s.NewMatcher()
		if err != nil || m.Remaining() > 2000 {
			return
		}
		h := fnv.New64a()
		h.Write(raw)
		doc := walkDocument(t, m, rand.New(rand.NewPCG(h.Sum64(), 1)), 48)
		if !json.Valid([]byte(doc)) {
			t.Fatalf("not JSON: %q", doc)
		}
		if err := s.Validate([]byte(doc)); err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
	})
}

// Validate never panics on untrusted documents, and whatever the matcher
// accepts as a complete document is valid.
func FuzzValidate(f *testing.F) {
	seeds := fuzzSeeds(f)
	schemas := make([]*Schema, 0, len(seeds))
	for _, raw := range seeds {
		s, err := Compile([]byte(raw))
		if err != nil {
			f.Fatal(err)
		}
		schemas = append(schemas, s)
	}
	for _, doc := range []string{`{"name":"Bo","age":3}`, `[1,2]`, `"ab"`, `null`, `{"a":-1}`, `12`, `{"k":[null]}`,
		`{"summary":"s","decisions":[],"action_items":[{"owner":"Ana","task":"t","due":null}],"open_questions":["q"]}`} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		for _, s := range schemas {
			err := s.Validate(doc)
			m, merr := s.NewMatcher()
			if merr != nil {
				continue
			}
			if m.Feed(string(doc)) && m.CanEnd() && err != nil {
				t.Fatalf("the matcher accepts %q, yet %v", doc, err)
			}
		}
	})
}
