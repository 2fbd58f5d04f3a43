package longdoc

import (
	"context"
	"encoding/json"
	"testing"

	"flywheel/internal/jsonschema"
	"flywheel/internal/llama"
	"flywheel/internal/llm"
	"flywheel/internal/refdata"
)

// A real model through the local engine writes minutes that satisfy the
// schema (the llama2.c checkpoint: its context is 512 tokens, the GGUF's 128):
// stories260K knows nothing of meetings, but JSON-schema
// constrained decoding keeps its output valid, and within MaxTokens.
func TestMinutesStories260K(t *testing.T) {
	m, err := llama.Load(refdata.Path(t, "models/stories260K/stories260K.bin"), llama.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	local, err := llm.NewLocalFromModel(m, llm.LocalConfig{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	count := func(s string) int { return len(m.Tokenizer.Encode(s, false, false)) }
	transcript := "Lily: We will go to the park.\nBen: I will bring the ball.\nLily: Can the dog come too?"
	opt := MinutesOptions{Options: Options{Context: local.Context(), MaxTokens: 96, Count: count, Concurrency: 1}}
	doc, err := Minutes(context.Background(), local, transcript, opt)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := jsonschema.Compile(MinutesSchema)
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(raw); err != nil {
		t.Fatalf("minutes do not satisfy the schema: %v\n%s", err, raw)
	}
	if doc.Calls != 1 || doc.Usage.CompletionTokens > opt.MaxTokens || doc.Usage.PromptTokens == 0 {
		t.Errorf("%d calls, usage %+v: want one call of at most %d tokens", doc.Calls, doc.Usage, opt.MaxTokens)
	}
	t.Logf("context %d, usage %+v, minutes %s", local.Context(), doc.Usage, raw)
}
