package llama

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"flywheel/internal/tokenizer"
)

// Options configures Load.
type Options struct {
	// Tokenizer names a tokenizer file (a llama2.c tokenizer.bin or a GGUF
	// file holding a vocabulary) for model files that do not hold one.
	Tokenizer string
	// HugePages copies the weights decoding streams into memory backed by
	// transparent huge pages (CopyToHugePages) instead of leaving them in
	// the file mapping: decoding is faster, opening costs one read of the
	// weights.
	HugePages bool
}

// Load opens a model: a GGUF file, a Hugging Face directory (config.json +
// safetensors) or a llama2.c checkpoint, chosen by what path is.
func Load(path string, opt Options) (*Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	var m *Model
	switch {
	case st.IsDir():
		m, err = LoadHF(path)
	case isLlama2C(path):
		m, err = LoadLlama2C(path)
	default:
		m, err = LoadGGUF(path)
	}
	if err != nil {
		return nil, err
	}
	if opt.Tokenizer != "" {
		tok, err := LoadTokenizer(opt.Tokenizer, m.Config.Vocab)
		if err != nil {
			m.Close()
			return nil, err
		}
		m.Tokenizer = tok
	} else if m.Tokenizer == nil && strings.HasPrefix(m.File.Format, "llama2.c") {
		// llama2.c keeps its tokenizer beside the checkpoint
		for _, name := range []string{fmt.Sprintf("tok%d.bin", m.Config.Vocab), "tokenizer.bin"} {
			p := filepath.Join(filepath.Dir(path), name)
			if _, err := os.Stat(p); err == nil {
				if m.Tokenizer, err = LoadTokenizer(p, m.Config.Vocab); err != nil {
					m.Close()
					return nil, err
				}
				break
			}
		}
	}
	// an embedding may be padded beyond the vocabulary (Qwen2), never shorter
	if m.Tokenizer != nil && m.Tokenizer.VocabSize() > m.Config.Vocab {
		m.Close()
		return nil, fmt.Errorf("model %s: tokenizer has %d tokens but the model's embedding only %d rows: tokenizer and model do not belong together", path, m.Tokenizer.VocabSize(), m.Config.Vocab)
	}
	if opt.HugePages {
		if err := m.CopyToHugePages(); err != nil {
			m.Close()
			return nil, fmt.Errorf("model %s: %w", path, err)
		}
	}
	return m, nil
}

// LoadTokenizer reads a tokenizer from the vocabulary of a GGUF file (a
// vocabulary-only file is enough), a Hugging Face tokenizer.json or model
// directory, or a llama2.c tokenizer.bin (which must hold vocab tokens when
// vocab > 0).
func LoadTokenizer(path string, vocab int) (*tokenizer.Tokenizer, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return tokenizer.FromHFDir(path)
	}
	if strings.HasSuffix(path, ".json") {
		return tokenizer.FromHFFile(path)
	}
	if isLlama2C(path) {
		return tokenizer.LoadLlama2C(path, vocab)
	}
	return loadGGUFTokenizer(path)
}
