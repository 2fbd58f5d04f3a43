package generate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flywheel/internal/jsonschema"
)

// schemaFiles returns the test schemas of the jsonschema package by name.
func schemaFiles(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	files, err := filepath.Glob("../jsonschema/testdata/schemas/*.json")
	if err != nil || len(files) < 10 {
		t.Fatalf("want the test schemas in ../jsonschema/testdata/schemas, found %d (%v)", len(files), err)
	}
	out := map[string]*jsonschema.Schema{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := jsonschema.Compile(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = s
	}
	return out
}

// Every constrained generation of the stories260K model, whatever the
// schema, seed and temperature, is JSON valid under the schema, and ends by
// itself within 256 tokens.
func TestConstrainedOutputIsValid(t *testing.T) {
	m := stories(t)
	tok := m.Tokenizer
	prompts := [][]int{{tok.BOS()}, tok.Encode("Once upon a time", true, false)}
	for name, s := range schemaFiles(t) {
		t.Run(name, func(t *testing.T) {
			for _, temp := range []float64{0, 0.8, 1.2} {
				seeds := []uint64{1, 2, 3}
				if temp == 0 {
					seeds = seeds[:1]
				}
				for _, seed := range seeds {
					prompt := prompts[seed%2]
					opt := Options{SamplerOptions: SamplerOptions{Temperature: temp, Seed: seed, TopP: 0.95}, MaxTokens: 256, Schema: s}
					var streamed strings.Builder
					res, err := Run(context.Background(), m.NewState(0, nil), tok, prompt, opt,
						func(s string) error { streamed.WriteString(s); return nil })
					if err != nil {
						t.Fatalf("temperature %g, seed %d: %v", temp, seed, err)
					}
					if res.FinishReason != FinishStop || res.Text != streamed.String() {
						t.Errorf("temperature %g, seed %d: finish %q after %d tokens, streamed %q", temp, seed, res.FinishReason, len(res.Tokens), streamed.String())
					}
					if !json.Valid([]byte(res.Text)) {
						t.Fatalf("temperature %g, seed %d: not JSON: %q", temp, seed, res.Text)
					}
					if err := s.Validate([]byte(res.Text)); err != nil {
						t.Fatalf("temperature %g, seed %d: %q: %v", temp, seed, res.Text, err)
					}
					if temp == 1.2 && seed == 1 {
						t.Logf("%d tokens: %s", len(res.Tokens), res.Text)
					}
				}
			}
		})
	}
}

// With fewer tokens than the document would take, the grammar closes it in
// time; with fewer than its shortest form needs, the text is cut.
func TestConstrainedBudget(t *testing.T) {
	m := stories(t)
	tok := m.Tokenizer
	s := schemaFiles(t)["minutes"]
	shortest := len(`{"summary":"","decisions":[],"action_items":[],"open_questions":[]}`)
	for _, tc := range []struct {
		maxTokens int
		finish    string
	}{
		{shortest, FinishStop},
		{shortest + 20, FinishStop},
		{10, FinishLength},
	} {
		for _, seed := range []uint64{1, 2, 3} {
			opt := Options{SamplerOptions: SamplerOptions{Temperature: 1.2, Seed: seed}, MaxTokens: tc.maxTokens, Schema: s}
			res, err := Run(context.Background(), m.NewState(0, nil), tok, []int{tok.BOS()}, opt, nil)
			if err != nil {
				t.Fatal(err)
			}
			valid := s.Validate([]byte(res.Text)) == nil
			if res.FinishReason != tc.finish || valid != (tc.finish == FinishStop) || len(res.Tokens) > tc.maxTokens {
				t.Errorf("max %d tokens, seed %d: finish %q after %d tokens, valid %v: %q", tc.maxTokens, seed, res.FinishReason, len(res.Tokens), valid, res.Text)
			}
		}
	}
}

func TestConstrainedSchemaErrors(t *testing.T) {
	m := stories(t)
	s, err := jsonschema.Compile([]byte(`{"allOf":[{"type":"object"},{"required":["a"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), m.NewState(0, nil), m.Tokenizer, []int{m.Tokenizer.BOS()}, Options{Schema: s}, nil)
	if err == nil || !strings.Contains(err.Error(), "supported for validation only") {
		t.Errorf("error %v", err)
	}
}
