package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flywheel/internal/jsonschema"
)

const minutesSchema = "../../internal/jsonschema/testdata/schemas/minutes.json"

// generate --json-schema writes, on stdout, exactly one document valid
// under the schema, streamed or inside --json's text.
func TestGenerateJSONSchema(t *testing.T) {
	raw, err := os.ReadFile(minutesSchema)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jsonschema.Compile(raw)
	if err != nil {
		t.Fatal(err)
	}
	model := sharedData(t, "models/stories260K/stories260K-f32.gguf")
	for _, seed := range []string{"1", "2"} {
		args := []string{"generate", "--model", model, "--json-schema", minutesSchema, "--prompt", "Once upon a time",
			"--temperature", "0.8", "--seed", seed, "--max-tokens", "256", "--threads", "2"}
		out, stderr, err := flywheel(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		doc := strings.TrimSuffix(out, "\n")
		if err := s.Validate([]byte(doc)); err != nil {
			t.Errorf("seed %s: %q: %v", seed, doc, err)
		}
		if !strings.Contains(stderr, "finish: stop") {
			t.Errorf("seed %s: stderr %q", seed, stderr)
		}

		out, _, err = flywheel(t, append(args, "--json")...)
		if err != nil {
			t.Fatal(err)
		}
		var res generateJSON
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		if res.Text != doc || res.FinishReason != "stop" {
			t.Errorf("seed %s: --json text %q (finish %s), streamed %q", seed, res.Text, res.FinishReason, doc)
		}
	}
}

func TestGenerateJSONSchemaErrors(t *testing.T) {
	dir := t.TempDir()
	unsupported := filepath.Join(dir, "pattern.json")
	if err := os.WriteFile(unsupported, []byte(`{"type":"object","properties":{"x":{"type":"string","pattern":"^a"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	validationOnly := filepath.Join(dir, "allof.json")
	if err := os.WriteFile(validationOnly, []byte(`{"allOf":[{"type":"object"},{"required":["a"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want []string
	}{
		{filepath.Join(dir, "missing.json"), []string{"--json-schema", "missing.json"}},
		{unsupported, []string{unsupported, "schema at /properties/x", `keyword "pattern" is not supported`}},
		{validationOnly, []string{validationOnly, "allOf of several schemas is supported for validation only"}},
	}
	for _, tc := range tests {
		_, _, err := flywheel(t, "generate", "--model", "unused.gguf", "--json-schema", tc.path)
		if err == nil {
			t.Errorf("%s: no error", tc.path)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.path, err, w)
			}
		}
	}
}
