package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"flywheel/internal/embed"
	"flywheel/internal/llm"
	"flywheel/internal/server"
	"flywheel/internal/store"
)

// serveConfig is what `flywheel serve` runs with: the defaults, then a
// config file (--config, YAML or JSON, same names with underscores), then
// the flags given on the command line.
type serveConfig struct {
	DataDir string `yaml:"data_dir"`
	Addr    string `yaml:"addr"`

	// the local model and its adapters ("NAME=PATH")
	Model     string   `yaml:"model"`
	Tokenizer string   `yaml:"tokenizer"`
	Template  string   `yaml:"template"`
	LoRA      []string `yaml:"lora"`
	Threads   int      `yaml:"threads"`
	Slots     int      `yaml:"slots"`
	Context   int      `yaml:"context"`

	// an OpenAI-compatible upstream; its key comes from LLMKeyEnv
	LLMURL    string `yaml:"llm_url"`
	LLMModel  string `yaml:"llm_model"`
	LLMKeyEnv string `yaml:"llm_key_env"`
	Pricing   string `yaml:"pricing"`
	// FewShot puts corrections and well-rated answers from a collection's
	// feedback into its prompts as worked examples
	FewShot bool `yaml:"fewshot"`

	// the embedding model of /v1/embeddings
	EmbedModel     string `yaml:"embed_model"`
	EmbedURL       string `yaml:"embed_url"`
	EmbedModelName string `yaml:"embed_model_name"`
	EmbedKeyEnv    string `yaml:"embed_key_env"`

	MaxBody         int64         `yaml:"max_body"`
	MaxUpload       int64         `yaml:"max_upload"`
	Rate            float64       `yaml:"rate"`
	Burst           int           `yaml:"burst"`
	Workers         int           `yaml:"workers"`
	Queue           int           `yaml:"queue"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	LogLevel        string        `yaml:"log_level"`
}

func defaultServeConfig() serveConfig {
	return serveConfig{
		DataDir:         store.DefaultDir,
		Addr:            "127.0.0.1:8080",
		LLMKeyEnv:       "OPENAI_API_KEY",
		EmbedKeyEnv:     "OPENAI_API_KEY",
		MaxBody:         1 << 20,
		MaxUpload:       64 << 20,
		Rate:            10,
		Burst:           20,
		Workers:         4,
		Queue:           64,
		ShutdownTimeout: 30 * time.Second,
		LogLevel:        "info",
	}
}

// bindServeFlags registers serve's flags on fs over cfg (their defaults
// are cfg's values) and returns --config.
func bindServeFlags(fs *flag.FlagSet, cfg *serveConfig) *string {
	config := fs.String("config", "", "settings `file` (YAML or JSON: data_dir, addr, model, lora, llm_url, …); flags override it")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data `directory`: the SQLite store, collections, API keys")
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "`host:port` to listen on; an address other machines reach needs an API key first")
	fs.StringVar(&cfg.Model, "model", cfg.Model, "local chat `model`: GGUF file, Hugging Face directory or llama2.c .bin")
	fs.StringVar(&cfg.Tokenizer, "tokenizer", cfg.Tokenizer, "tokenizer `file` for a --model that holds none")
	fs.StringVar(&cfg.Template, "template", cfg.Template, "built-in chat template `family` instead of the model's own")
	fs.Var(&replaceList{list: &cfg.LoRA}, "lora", "LoRA adapter `NAME=PATH` served as MODEL:NAME (repeatable)")
	fs.IntVar(&cfg.Threads, "threads", cfg.Threads, "compute threads (0: one per core)")
	fs.IntVar(&cfg.Slots, "slots", cfg.Slots, "requests the local model decodes at once (0: 1)")
	fs.IntVar(&cfg.Context, "context", cfg.Context, "context length in tokens of the local model (0: the model's, at most 4096)")
	fs.StringVar(&cfg.LLMURL, "llm-url", cfg.LLMURL, "OpenAI-compatible chat endpoint `URL` (\"https://api.openai.com/v1\")")
	fs.StringVar(&cfg.LLMModel, "llm-model", cfg.LLMModel, "model `name` to ask --llm-url for")
	fs.StringVar(&cfg.LLMKeyEnv, "llm-key-env", cfg.LLMKeyEnv, "environment `variable` holding the API key of --llm-url")
	fs.BoolVar(&cfg.FewShot, "fewshot", cfg.FewShot, "with a model: put the collection's corrections and well-rated answers to the most similar questions into each prompt as worked examples")
	fs.StringVar(&cfg.Pricing, "pricing", cfg.Pricing, "pricing table `file` (JSON) for the cost metrics")
	fs.StringVar(&cfg.EmbedModel, "embed-model", cfg.EmbedModel, "local embedding `model` for /v1/embeddings (BERT-family directory or GGUF)")
	fs.StringVar(&cfg.EmbedURL, "embed-url", cfg.EmbedURL, "OpenAI-compatible embeddings `URL`, with --embed-model-name")
	fs.StringVar(&cfg.EmbedModelName, "embed-model-name", cfg.EmbedModelName, "model `name` sent to --embed-url")
	fs.StringVar(&cfg.EmbedKeyEnv, "embed-key-env", cfg.EmbedKeyEnv, "environment `variable` holding the API key of --embed-url")
	fs.Int64Var(&cfg.MaxBody, "max-body", cfg.MaxBody, "largest request body in `bytes`")
	fs.Int64Var(&cfg.MaxUpload, "max-upload", cfg.MaxUpload, "largest document upload in `bytes`")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "requests per second each API key may make (negative: no limit)")
	fs.IntVar(&cfg.Burst, "burst", cfg.Burst, "requests an API key may make at once")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "generations that run at once")
	fs.IntVar(&cfg.Queue, "queue", cfg.Queue, "generations that may wait for a worker; more get 429")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "how long to let in-flight requests finish on SIGINT/SIGTERM")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "`level` of the JSON logs on stderr: debug, info, warn or error")
	return config
}

// replaceList is a repeatable flag whose first use replaces the list (a
// config file's) instead of adding to it.
type replaceList struct {
	list *[]string
	set  bool
}

func (r *replaceList) String() string {
	if r.list == nil {
		return ""
	}
	return strings.Join(*r.list, ", ")
}

func (r *replaceList) Set(v string) error {
	if !r.set {
		*r.list, r.set = nil, true
	}
	*r.list = append(*r.list, v)
	return nil
}

// parseServeConfig reads --config, if given, over the defaults and then
// the flags over it.
func parseServeConfig(args []string, stderr io.Writer) (serveConfig, error) {
	usage := func(fs *flag.FlagSet) func() {
		return func() {
			fmt.Fprintln(stderr, "usage: flywheel serve [--config FILE] [flags]\n\nServes the OpenAI-compatible API (/v1), the application API (/api), the web UI (/) and\noperations endpoints (/healthz, /readyz, /metrics). Works with no model (extractive\nanswers), a local --model, an OpenAI-compatible --llm-url, or both.")
			fs.PrintDefaults()
		}
	}
	scratch := defaultServeConfig()
	first := newFlags("serve", io.Discard)
	path := bindServeFlags(first, &scratch)
	if err := first.Parse(args); err != nil {
		// report it with the real output
		fs := newFlags("serve", stderr)
		bindServeFlags(fs, &scratch)
		fs.Usage = usage(fs)
		return scratch, fs.Parse(args)
	}
	cfg := defaultServeConfig()
	if *path != "" {
		if err := loadServeConfig(*path, &cfg); err != nil {
			return cfg, err
		}
	}
	fs := newFlags("serve", stderr)
	bindServeFlags(fs, &cfg)
	fs.Usage = usage(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return cfg, fmt.Errorf("serve: unexpected argument %q: every setting is a flag", fs.Arg(0))
	}
	return cfg, nil
}

// loadServeConfig reads a YAML (or JSON, which YAML reads too) settings
// file over cfg; an unknown setting is an error naming its line.
func loadServeConfig(path string, cfg *serveConfig) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("serve: config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("serve: config %s: %w (settings are data_dir, addr, model, lora, llm_url, llm_model, … as `flywheel serve -h` lists them, with underscores)", path, err)
	}
	return nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServeConfig(args, stderr)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, cfg.LogLevel)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := store.Open(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	models, err := openModels(cfg)
	if err != nil {
		return err
	}
	defer models.Close()
	scfg := server.Config{
		Store:  st,
		Logger: logger,
		Limits: server.Limits{
			MaxBody: cfg.MaxBody, MaxUpload: cfg.MaxUpload,
			Rate: cfg.Rate, Burst: cfg.Burst,
			Workers: cfg.Workers, Queue: cfg.Queue,
			ShutdownTimeout: cfg.ShutdownTimeout,
		},
		Answer: server.AnswerConfig{EmbedKeyEnv: cfg.EmbedKeyEnv, FewShot: cfg.FewShot},
		Tune:   server.TuneConfig{Threads: cfg.Threads},
	}
	if !models.empty() {
		scfg.Model, scfg.ModelNames = models, models.names
	}
	if models.local != nil {
		scfg.Tune.Models = map[string]string{models.local.Name(): cfg.Model}
		scfg.Adapters = models.local // promoted adapters load after the --lora ones, which win
	}
	if scfg.Model != nil && cfg.Pricing != "" {
		pricing, err := llm.LoadPricing(cfg.Pricing)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		scfg.Model = llm.NewLedger(pricing).Meter(scfg.Model)
	}
	if scfg.Embedder, err = openEmbedder(cfg); err != nil {
		return err
	}
	scfg.EmbedModel = embedModelName(cfg)
	srv, err := server.New(scfg)
	if err != nil {
		return err
	}
	defer srv.Close() // after Serve: stops the fine-tuning jobs at a checkpoint
	ln, err := srv.Listen(ctx, cfg.Addr)
	if err != nil {
		return err
	}
	url := openURL(ln.Addr())
	fmt.Fprintf(stdout, "flywheel: serving %s\nflywheel: open %s in a browser (OpenAI-compatible API: %sv1; stop with Ctrl-C)\n", models.describe(), url, url)
	err = srv.Serve(ctx, ln)
	fmt.Fprintln(stdout, "flywheel: stopped")
	return err
}

// newLogger writes JSON lines at level to w.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("serve: --log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// chatModels serves chat requests from the local engine and/or an
// upstream endpoint, by model name: a name the local engine lists (base
// model, base:adapter) goes to it, the upstream's name to the upstream,
// and no name to the local engine if there is one.
type chatModels struct {
	local    *llm.Local
	upstream *llm.OpenAI
	remote   string // the upstream's model name
}

func openModels(cfg serveConfig) (*chatModels, error) {
	m := &chatModels{}
	if cfg.Model != "" {
		local, err := llm.NewLocal(llm.LocalConfig{Model: cfg.Model, Tokenizer: cfg.Tokenizer, Template: cfg.Template,
			Threads: cfg.Threads, Slots: cfg.Slots, Context: cfg.Context})
		if err != nil {
			return nil, fmt.Errorf("serve: --model: %w", err)
		}
		m.local = local
		for _, spec := range cfg.LoRA {
			name, path, ok := strings.Cut(spec, "=")
			if !ok || name == "" || path == "" {
				m.Close()
				return nil, fmt.Errorf("serve: --lora %q: want NAME=PATH", spec)
			}
			if err := local.LoadAdapter(name, path); err != nil {
				m.Close()
				return nil, fmt.Errorf("serve: --lora %s: %w", spec, err)
			}
		}
	} else if len(cfg.LoRA) > 0 {
		return nil, errors.New("serve: --lora needs --model (the base model the adapters were trained on)")
	}
	if cfg.LLMURL != "" || cfg.LLMModel != "" {
		up, err := llm.NewOpenAI(llm.OpenAIConfig{URL: cfg.LLMURL, Model: cfg.LLMModel, APIKeyEnv: cfg.LLMKeyEnv})
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("serve: --llm-url/--llm-model: %w", err)
		}
		m.upstream, m.remote = up, cfg.LLMModel
	}
	return m, nil
}

func (m *chatModels) empty() bool { return m.local == nil && m.upstream == nil }

// names lists the models served: the local engine's, then the upstream's.
func (m *chatModels) names() []string {
	var out []string
	if m.local != nil {
		out = m.local.Models()
	}
	if m.upstream != nil && !slices.Contains(out, m.remote) {
		out = append(out, m.remote)
	}
	return out
}

func (m *chatModels) Chat(ctx context.Context, req llm.Request, stream func(string) error) (*llm.Response, error) {
	switch {
	case m.local != nil && (req.Model == "" || slices.Contains(m.local.Models(), req.Model)):
		return m.local.Chat(ctx, req, stream)
	case m.upstream != nil && (req.Model == "" || req.Model == m.remote):
		return m.upstream.Chat(ctx, req, stream)
	}
	return nil, fmt.Errorf("serve: %w %q: the models are %s", llm.ErrUnknownModel, req.Model, strings.Join(m.names(), ", "))
}

func (m *chatModels) describe() string {
	if m.empty() {
		return "no model (extractive answers; start with --model or --llm-url for generation)"
	}
	return "models " + strings.Join(m.names(), ", ")
}

// Close releases the local engine.
func (m *chatModels) Close() {
	if m.local != nil {
		m.local.Close()
	}
}

// openEmbedder returns the embedder of /v1/embeddings, or nil when none
// is configured.
func openEmbedder(cfg serveConfig) (embed.Embedder, error) {
	e, err := embed.New(embed.Config{Model: cfg.EmbedModel, Threads: cfg.Threads,
		Remote: embed.RemoteConfig{URL: cfg.EmbedURL, Model: cfg.EmbedModelName, APIKeyEnv: cfg.EmbedKeyEnv}})
	if errors.Is(err, embed.ErrNotConfigured) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return e, nil
}

// embedModelName is the name /v1/embeddings serves the embedder under:
// the remote model's name, or the local model's file name.
func embedModelName(cfg serveConfig) string {
	switch {
	case cfg.EmbedURL != "":
		return cfg.EmbedModelName
	case cfg.EmbedModel == "":
		return ""
	}
	return strings.TrimSuffix(filepath.Base(cfg.EmbedModel), filepath.Ext(cfg.EmbedModel))
}

// openURL is the address to open in a browser: a listener on every
// interface is reached on this machine at 127.0.0.1.
func openURL(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String() + "/"
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port)) + "/"
}
