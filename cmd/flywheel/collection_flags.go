package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"flywheel/internal/collection"
	"flywheel/internal/store"
)

// dataDirFlag registers --data-dir, the same on every command that touches
// collections.
func dataDirFlag(fs *flag.FlagSet) *string {
	return fs.String("data-dir", store.DefaultDir, "data `directory` holding the collections")
}

// collectionEvents prints what opening a collection repaired, with a bar
// for chunks embedded while a vector index is rebuilt.
func collectionEvents(stderr io.Writer) collection.Events {
	var p *progress
	return collection.Events{
		Notice: func(msg string) { fmt.Fprintf(stderr, "flywheel: %s\n", msg) },
		Embedding: func(done, total int) {
			if p == nil {
				p = newProgress(stderr, "embed", "chunks")
			}
			p.Set(int64(done), int64(done), int64(total))
			if done == total {
				p.Done()
				p = nil
			}
		},
	}
}

// embedFlags choose the embedding model: the same on ingest (where they
// are recorded in the collection) and on search and eval retrieval (where
// they override the recorded model, say after it moved).
type embedFlags struct {
	model, url, name, keyEnv *string
}

func addEmbedFlags(fs *flag.FlagSet) *embedFlags {
	return &embedFlags{
		model:  fs.String("embed-model", "", "local embedding `model`: a BERT-family directory (config.json, model.safetensors, tokenizer.json) or GGUF file"),
		url:    fs.String("embed-url", "", "OpenAI-compatible embeddings `URL` (\"http://localhost:8080/v1\"), with --embed-model-name"),
		name:   fs.String("embed-model-name", "", "model `name` sent to --embed-url"),
		keyEnv: fs.String("embed-key-env", "OPENAI_API_KEY", "environment `variable` holding the API key of --embed-url"),
	}
}

// config checks the flags and returns the model they name (zero: none). A
// local model's path is made absolute, as the collection records it.
func (f *embedFlags) config() (store.EmbedConfig, error) {
	e := store.EmbedConfig{Model: *f.model, URL: *f.url, Name: *f.name}
	switch {
	case e.Model != "" && e.URL != "":
		return e, fmt.Errorf("--embed-model and --embed-url are both set: choose a local model or an endpoint")
	case e.URL != "" && e.Name == "":
		return e, fmt.Errorf("--embed-url needs --embed-model-name (the model the endpoint should use)")
	case e.Name != "" && e.URL == "":
		return e, fmt.Errorf("--embed-model-name needs --embed-url")
	case e.Model != "":
		abs, err := filepath.Abs(e.Model)
		if err != nil {
			return e, err
		}
		e.Model = abs
	}
	return e, nil
}
