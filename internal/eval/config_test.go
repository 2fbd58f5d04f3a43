package eval

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const exampleConfig = `# compare a LoRA adapter with its base model on XQuAD
dataset:
  path: ../shared/testdata/qa/xquad_en/questions.jsonl
out: runs/xquad
metrics: [squad, rouge, judge_pairwise]
variants:
  - name: base
    model: models/stories260K.gguf
  - name: tuned
    model: models/stories260K.gguf
    adapter: adapters/qa
    prompt: qa
    collection: xquad
    retrieval: {mode: hybrid, k: 4}
  - name: cloud
    llm_url: http://localhost:8080/v1
    llm_model: gpt-4o-mini
    api_key_env: MY_KEY
baseline: base
limit: 100
concurrency: 2
bootstrap: 500
seed: 7
judge:
  llm_url: http://localhost:8080/v1
  llm_model: judge
  criteria:
    - {name: correctness, description: "Is it right?"}
`

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(exampleConfig), "run.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Dataset:  DatasetConfig{Path: "../shared/testdata/qa/xquad_en/questions.jsonl"},
		Out:      "runs/xquad",
		Metrics:  []string{"squad_em", "squad_f1", "rouge1", "rouge2", "rougeL", "rougeLsum", "judge_pairwise"},
		Baseline: "base", Limit: 100, Concurrency: 2, Bootstrap: 500, Seed: 7,
		Variants: []Variant{
			{Name: "base", ModelConfig: ModelConfig{Model: "models/stories260K.gguf"}},
			{Name: "tuned", ModelConfig: ModelConfig{Model: "models/stories260K.gguf", Adapter: "adapters/qa"},
				Prompt: "qa", Collection: "xquad", Retrieval: RetrievalConfig{Mode: "hybrid", K: 4}},
			{Name: "cloud", ModelConfig: ModelConfig{LLMURL: "http://localhost:8080/v1", LLMModel: "gpt-4o-mini", APIKeyEnv: "MY_KEY"}},
		},
		Judge: JudgeConfig{ModelConfig: ModelConfig{LLMURL: "http://localhost:8080/v1", LLMModel: "judge"},
			Criteria: []Criterion{{Name: "correctness", Description: "Is it right?"}}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
	if !cfg.NeedsJudge() || cfg.NeedsEmbedding() {
		t.Errorf("NeedsJudge %v NeedsEmbedding %v", cfg.NeedsJudge(), cfg.NeedsEmbedding())
	}
}

func TestParseConfigErrors(t *testing.T) {
	minimal := "dataset: {path: q.jsonl}\nout: o\nmetrics: [squad]\nvariants:\n  - name: a\n"
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown key", minimal + "    modle: x\n", "run.yaml:6: field modle not found"},
		{"unknown top key", "datset: x\n" + minimal, "run.yaml:1: field datset not found"},
		{"wrong type", strings.Replace(minimal, "out: o", "out: [o]", 1), "run.yaml:2: cannot unmarshal"},
		{"bad yaml", "dataset: {path: q.jsonl\n", "run.yaml:"},
		{"empty", "", "the file is empty"},
		{"no dataset", strings.Replace(minimal, "dataset: {path: q.jsonl}", "dataset: {}", 1), "run.yaml:1: dataset.path: missing"},
		{"no out", strings.Replace(minimal, "out: o\n", "", 1), "run.yaml: out: missing"},
		{"unknown metric", strings.Replace(minimal, "[squad]", "[squad, blue]", 1), "run.yaml:3: metrics[1]: unknown metric \"blue\""},
		{"bad k", strings.Replace(minimal, "[squad]", "[recall@x]", 1), "unknown metric \"recall@x\""},
		{"duplicate variant", minimal + "  - name: a\n", "run.yaml:6: variants[1].name: \"a\" names two variants"},
		{"bad name", strings.Replace(minimal, "name: a", "name: a b", 1), "run.yaml:5: variants[0].name"},
		{"bad baseline", minimal + "baseline: z\n", "run.yaml:6: baseline: \"z\" is not a variant"},
		{"bad mode", minimal + "    retrieval: {mode: fuzzy}\n", "run.yaml:6: variants[0].retrieval.mode: unknown mode"},
		{"no variants", "dataset: {path: q.jsonl}\nout: o\nmetrics: [squad]\n", "variants: no variants"},
		{"bad format", strings.Replace(minimal, "{path: q.jsonl}", "{path: q.jsonl, format: csv}", 1), "dataset.format: unknown format"},
	}
	for _, c := range cases {
		_, err := ParseConfig([]byte(c.yaml), "run.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func TestLoadConfigResolvesPaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.yaml")
	if err := os.WriteFile(path, []byte(exampleConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Out != filepath.Join(dir, "runs/xquad") || cfg.Variants[1].Adapter != filepath.Join(dir, "adapters/qa") ||
		cfg.Dataset.Path != filepath.Join(dir, "../shared/testdata/qa/xquad_en/questions.jsonl") || cfg.Variants[2].Model != "" {
		t.Errorf("paths not resolved against %s: %+v", dir, cfg)
	}
}

// FuzzParseConfig checks that no input makes the loader panic and that
// whatever it accepts is valid.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(exampleConfig))
	f.Add([]byte("dataset: {path: q.jsonl}\nout: o\nmetrics: [squad]\nvariants:\n  - name: a\n"))
	f.Add([]byte("variants: [{name: a, retrieval: {k: -1}}]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("metrics: [recall@5, mrr@10, ragas]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data, "fuzz.yaml")
		if err != nil {
			return
		}
		if cfg.Dataset.Path == "" || cfg.Out == "" || len(cfg.Variants) == 0 || len(cfg.Metrics) == 0 || cfg.Baseline == "" {
			t.Fatalf("accepted an incomplete config: %+v", cfg)
		}
		for _, m := range cfg.Metrics {
			if !knownMetric(m) {
				t.Fatalf("accepted metric %q", m)
			}
		}
	})
}
