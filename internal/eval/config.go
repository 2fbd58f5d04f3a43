package eval

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is an evaluation run, as `flywheel eval run CONFIG.yaml` reads it:
// a dataset, the variants that answer it, the metrics that score them and
// where the report goes. Unknown keys are errors. Relative paths in the
// file (dataset.path, out, data_dir, each model and adapter) are relative
// to the file's directory.
type Config struct {
	Dataset DatasetConfig `yaml:"dataset" json:"dataset"`
	// Out is the run's directory: outputs.jsonl, judgments.jsonl (the
	// journals a resumed run continues from), report.json, report.html.
	Out     string   `yaml:"out" json:"out"`
	Metrics []string `yaml:"metrics" json:"metrics"`
	// Variants are the systems compared; the Baseline (default: the first)
	// is the one each other variant is compared with.
	Variants []Variant `yaml:"variants" json:"variants"`
	Baseline string    `yaml:"baseline" json:"baseline,omitempty"`
	// Limit keeps the first Limit examples (0: all).
	Limit int `yaml:"limit" json:"limit,omitempty"`
	// Concurrency is how many examples are answered (and judged) at once
	// (0: 1).
	Concurrency int `yaml:"concurrency" json:"concurrency,omitempty"`
	// Bootstrap is the number of bootstrap resamples for confidence
	// intervals and p-values (0: 1000); Seed seeds them (0: 12345).
	Bootstrap int    `yaml:"bootstrap" json:"bootstrap,omitempty"`
	Seed      uint64 `yaml:"seed" json:"seed,omitempty"`
	// Judge is the model behind the judge_* and RAG metrics.
	Judge JudgeConfig `yaml:"judge" json:"judge"`
	// Embedding is the embedding model of answer_relevancy.
	Embedding EmbeddingConfig `yaml:"embedding" json:"embedding"`
	// DataDir holds the collections variants retrieve from (default: the
	// command's data directory).
	DataDir string `yaml:"data_dir" json:"data_dir,omitempty"`
}

// DatasetConfig names the test set.
type DatasetConfig struct {
	Path string `yaml:"path" json:"path"`
	// Format is "" (detect), "qa" ({"id", "question", "answers",
	// "doc_ids"} lines, as testdata/qa), "pairs" ({"id", "input",
	// "reference" or "references"}) or an instruction-dataset format
	// (alpaca, sharegpt, messages): the prompt is the input, the last
	// answer the reference.
	Format string `yaml:"format" json:"format,omitempty"`
}

// ModelConfig names a chat model: a local model file (with an optional
// LoRA adapter) or an OpenAI-compatible endpoint.
type ModelConfig struct {
	Model     string `yaml:"model" json:"model,omitempty"`
	Adapter   string `yaml:"adapter" json:"adapter,omitempty"`
	LLMURL    string `yaml:"llm_url" json:"llm_url,omitempty"`
	LLMModel  string `yaml:"llm_model" json:"llm_model,omitempty"`
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env,omitempty"` // variable holding the endpoint's key
	MaxTokens int    `yaml:"max_tokens" json:"max_tokens,omitempty"`
}

// Variant is one system under test: a model, its prompt, and optionally
// the collection it retrieves from.
type Variant struct {
	Name        string `yaml:"name" json:"name"`
	ModelConfig `yaml:",inline"`
	// Prompt names the prompt template that turns an example into
	// messages ("" for the default); System replaces its system prompt.
	Prompt      string  `yaml:"prompt" json:"prompt,omitempty"`
	System      string  `yaml:"system" json:"system,omitempty"`
	Temperature float64 `yaml:"temperature" json:"temperature,omitempty"`
	// Collection, when set, answers through retrieval from it.
	Collection string          `yaml:"collection" json:"collection,omitempty"`
	Retrieval  RetrievalConfig `yaml:"retrieval" json:"retrieval,omitempty"`
}

// RetrievalConfig says how a variant searches its collection.
type RetrievalConfig struct {
	Mode string `yaml:"mode" json:"mode,omitempty"` // bm25, vector or hybrid ("" : the collection's default)
	K    int    `yaml:"k" json:"k,omitempty"`       // passages given to the model (0: the answer pipeline's default)
}

// JudgeConfig is the judge model and its settings.
type JudgeConfig struct {
	ModelConfig `yaml:",inline"`
	// Criteria of judge_rubric (default DefaultCriteria).
	Criteria []Criterion `yaml:"criteria" json:"criteria,omitempty"`
	// Questions generated per answer by answer_relevancy (0: 3).
	Questions int `yaml:"questions" json:"questions,omitempty"`
}

// EmbeddingConfig is a local encoder (Model) or an OpenAI-compatible
// embeddings endpoint (URL and Name).
type EmbeddingConfig struct {
	Model     string `yaml:"model" json:"model,omitempty"`
	URL       string `yaml:"url" json:"url,omitempty"`
	Name      string `yaml:"name" json:"name,omitempty"`
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env,omitempty"`
}

// configured reports whether a model is named.
func (m ModelConfig) configured() bool { return m.Model != "" || m.LLMURL != "" }

// LoadConfig reads and checks a configuration file, resolving its
// relative paths against the file's directory.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	cfg, err := ParseConfig(data, path)
	if err != nil {
		return Config{}, err
	}
	cfg.resolvePaths(filepath.Dir(path))
	return cfg, nil
}

// ParseConfig decodes a YAML configuration (name is used in messages) and
// checks it. Errors say file:line, the field, and what to do.
func ParseConfig(data []byte, name string) (Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("%s: the file is empty: give at least dataset, out, metrics and variants", name)
		}
		return Config{}, yamlError(name, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Config{}, yamlError(name, err)
	}
	if err := cfg.check(); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			if line := lineOf(&root, fe.path); line > 0 {
				return Config{}, fmt.Errorf("%s:%d: %s: %s", name, line, fe.field(), fe.msg)
			}
			return Config{}, fmt.Errorf("%s: %s: %s", name, fe.field(), fe.msg)
		}
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return cfg, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns the decoder's "yaml: line 3: …" messages into "file:3: …".
func yamlError(name string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	for i, m := range msgs {
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			msgs[i] = fmt.Sprintf("%s:%s: %s", name, g[1], g[2])
		} else {
			msgs[i] = fmt.Sprintf("%s: %s", name, strings.TrimPrefix(m, "yaml: "))
		}
	}
	return fmt.Errorf("%s (check the key names and value types against `flywheel eval run -h`)", strings.Join(msgs, "; "))
}

// fieldError is a check that failed on one field, named by its path of
// keys and list indexes.
type fieldError struct {
	path []any
	msg  string
}

func (e *fieldError) field() string {
	var b strings.Builder
	for _, p := range e.path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, p)
		}
	}
	return b.String()
}

func (e *fieldError) Error() string { return e.field() + ": " + e.msg }

func fieldErr(msg string, path ...any) error { return &fieldError{path: path, msg: msg} }

// lineOf finds the line of the value at path in a YAML document, or of
// the deepest part of the path that is there (0 for none).
func lineOf(root *yaml.Node, path []any) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0 // the root's line says nothing
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		case int:
			if n.Kind != yaml.SequenceNode || p >= len(n.Content) {
				return line
			}
			n = n.Content[p]
			line = n.Line
		}
	}
	return line
}

var variantName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// check validates the configuration and fills the defaults: the baseline
// (the first variant) and the metric list expanded ("rouge" is rouge1,
// rouge2, rougeL and rougeLsum; "squad" is squad_em and squad_f1).
func (c *Config) check() error {
	if c.Dataset.Path == "" {
		return fieldErr("missing: give the test set's file (JSON Lines)", "dataset", "path")
	}
	switch c.Dataset.Format {
	case "", "qa", "pairs", "alpaca", "sharegpt", "messages":
	default:
		return fieldErr(fmt.Sprintf("unknown format %q: use qa, pairs, alpaca, sharegpt or messages, or leave it out to detect it", c.Dataset.Format), "dataset", "format")
	}
	if c.Out == "" {
		return fieldErr("missing: give the directory for outputs and the report", "out")
	}
	if len(c.Variants) == 0 {
		return fieldErr("no variants: list at least one {name, model or llm_url}", "variants")
	}
	seen := map[string]bool{}
	for i, v := range c.Variants {
		if !variantName.MatchString(v.Name) {
			return fieldErr(fmt.Sprintf("name %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", v.Name), "variants", i, "name")
		}
		if seen[v.Name] {
			return fieldErr(fmt.Sprintf("%q names two variants: give each its own name", v.Name), "variants", i, "name")
		}
		seen[v.Name] = true
		switch v.Retrieval.Mode {
		case "", "bm25", "vector", "hybrid":
		default:
			return fieldErr(fmt.Sprintf("unknown mode %q: use bm25, vector or hybrid", v.Retrieval.Mode), "variants", i, "retrieval", "mode")
		}
		if v.Retrieval.K < 0 || v.MaxTokens < 0 || v.Temperature < 0 {
			return fieldErr("retrieval.k, max_tokens and temperature must not be negative", "variants", i)
		}
	}
	if c.Baseline == "" {
		c.Baseline = c.Variants[0].Name
	} else if !seen[c.Baseline] {
		return fieldErr(fmt.Sprintf("%q is not a variant: name one of the variants' names", c.Baseline), "baseline")
	}
	if c.Limit < 0 || c.Concurrency < 0 || c.Bootstrap < 0 || c.Judge.Questions < 0 {
		return fieldErr("limit, concurrency, bootstrap and judge.questions must not be negative", "limit")
	}
	metrics, err := expandMetrics(c.Metrics)
	if err != nil {
		return err
	}
	c.Metrics = metrics
	for i, cr := range c.Judge.Criteria {
		if cr.Name == "" {
			return fieldErr("criterion without a name", "judge", "criteria", i, "name")
		}
	}
	return nil
}

// Metric names the harness computes.
var harnessMetrics = []string{"bleu", "chrf", "chrf++", "ter", "rouge1", "rouge2", "rougeL", "rougeLsum",
	"squad_em", "squad_f1", "cmrc_em", "cmrc_f1", "meteor", "recall@K", "mrr@K", "ndcg@K",
	"judge_rubric", "judge_pairwise", "faithfulness", "answer_relevancy", "context_precision", "context_recall"}

func expandMetrics(names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, fieldErr("none: list at least one of "+strings.Join(harnessMetrics, ", "), "metrics")
	}
	var out []string
	seen := map[string]bool{}
	add := func(ms ...string) {
		for _, m := range ms {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	for i, n := range names {
		switch n {
		case "rouge":
			add("rouge1", "rouge2", "rougeL", "rougeLsum")
		case "squad":
			add("squad_em", "squad_f1")
		case "cmrc":
			add("cmrc_em", "cmrc_f1")
		case "ragas":
			add("faithfulness", "answer_relevancy", "context_precision", "context_recall")
		default:
			if !knownMetric(n) {
				return nil, fieldErr(fmt.Sprintf("unknown metric %q: use %s (or rouge, squad, cmrc, ragas for groups)", n, strings.Join(harnessMetrics, ", ")), "metrics", i)
			}
			add(n)
		}
	}
	return out, nil
}

func knownMetric(n string) bool {
	if base, k, ok := strings.Cut(n, "@"); ok {
		kn, err := strconv.Atoi(k)
		return (base == "recall" || base == "mrr" || base == "ndcg") && err == nil && kn > 0
	}
	for _, m := range harnessMetrics {
		if m == n && !strings.Contains(m, "@") {
			return true
		}
	}
	return false
}

// resolvePaths makes the relative paths of the file relative to dir.
func (c *Config) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&c.Dataset.Path)
	abs(&c.Out)
	abs(&c.DataDir)
	for i := range c.Variants {
		abs(&c.Variants[i].Model)
		abs(&c.Variants[i].Adapter)
	}
	abs(&c.Judge.Model)
	abs(&c.Judge.Adapter)
	abs(&c.Embedding.Model)
}

// judgeMetric reports whether a metric needs the judge model.
func judgeMetric(m string) bool {
	switch m {
	case "judge_rubric", "judge_pairwise", "faithfulness", "answer_relevancy", "context_precision", "context_recall":
		return true
	}
	return false
}

// NeedsJudge reports whether the configuration's metrics need a judge
// model, and NeedsEmbedding whether they need an embedding model.
func (c Config) NeedsJudge() bool {
	for _, m := range c.Metrics {
		if judgeMetric(m) {
			return true
		}
	}
	return false
}

// NeedsEmbedding reports whether answer_relevancy is asked for.
func (c Config) NeedsEmbedding() bool {
	for _, m := range c.Metrics {
		if m == "answer_relevancy" {
			return true
		}
	}
	return false
}
